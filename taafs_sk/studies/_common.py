"""What every study shares: the data preparation, the studies' regressor, parallel runs.

``quick=True`` subsamples the data and trains for few epochs, so that each study finishes in
seconds; use it for demos and tests, not for conclusions.
"""

from __future__ import annotations

import numbers
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler

from .._validation import check_count, check_levels, check_non_empty, check_real
from ..datasets import STUDY_DATASETS

__all__ = ["load_study_data", "TARGET_UNITS", "activation_names"]

# Rows used per dataset (subsample of the full table): (quick, full).
_ROWS = {"hydrocarbons": (400, 6000), "perovskites": (540, None), "qm9": (400, 6000)}
_TEST_SIZE = 0.2
# Unit of each study dataset's target (what the loaders return); written into every table.
TARGET_UNITS = {"hydrocarbons": "eV", "perovskites": "eV", "qm9": "eV"}
# Epochs of the studies' regressor: (quick, full).
MAX_EPOCHS = (40, 2000)
PATIENCE = (10, 50)


def load_study_data(name: str, quick: bool = False, random_state=0, data_home=None):
    """Load, featurise, split and standardise a real dataset for the studies.

    Parameters
    ----------
    name : {'hydrocarbons', 'perovskites', 'qm9'}
        ``'hydrocarbons'``: COMPAS-3x (GFN2-xTB) relative energies (eV) from SMILES through
        :class:`~taafs_sk.featurizers.HydrocarbonFeaturizer`; ``'perovskites'``: the seed authors'
        double-perovskite table (31 descriptors, band gap in eV), split by composition;
        ``'qm9'``: QM9 ZPVE (eV) from SMILES through
        :class:`~taafs_sk.featurizers.MoleculeFeaturizer`.
    quick : bool, default=False
        Use a small subsample (400 rows for the molecule sets; the perovskite table whole).
        Without it the molecule sets are subsampled to 6,000 rows.
    random_state : int, default=0
        Seeds the subsample and the 80/20 split.
    data_home : str or path, default=None
        Data folder; by default ``TAAFS_SK_DATA``.

    Returns
    -------
    X_train, X_test : ndarray
        Features standardised with statistics of the training part (constant columns
        dropped).
    y_train, y_test : ndarray
        Targets in their original units (:data:`TARGET_UNITS`).
    """
    if name not in STUDY_DATASETS:
        raise ValueError(f"dataset must be one of {STUDY_DATASETS} or a tuple of arrays; "
                         f"got name={name!r}.")
    X, y, groups = _load_featurised(name, quick, random_state, data_home)
    if groups is not None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=_TEST_SIZE, random_state=random_state)
        train, test = next(splitter.split(X, y, groups))
    else:
        train, test = train_test_split(
            np.arange(len(y)), test_size=_TEST_SIZE, random_state=random_state)
    keep = np.asarray(X[train]).std(axis=0) > 0
    scaler = StandardScaler().fit(X[train][:, keep])
    return (scaler.transform(X[train][:, keep]), scaler.transform(X[test][:, keep]),
            y[train], y[test])


def _load_featurised(name, quick, random_state, data_home):
    from .. import datasets

    n_rows = _ROWS[name][0 if quick else 1]
    if name == "perovskites":
        bunch = datasets.load_double_perovskites(source="manzhos", data_home=data_home)
        X = np.asarray(bunch.data, dtype=np.float64)
        return X, np.asarray(bunch.target, dtype=np.float64), np.asarray(bunch.groups)
    if name == "hydrocarbons":
        from ..featurizers import HydrocarbonFeaturizer

        bunch = datasets.load_hydrocarbons(level="xtb", data_home=data_home)
        raw, y = _subsample(bunch.data, np.asarray(bunch.target, float), n_rows, random_state)
        return np.asarray(HydrocarbonFeaturizer().fit_transform(raw), dtype=np.float64), y, None
    from ..featurizers import MoleculeFeaturizer

    bunch = datasets.load_qm9(target="zpve", n_samples=n_rows, random_state=random_state,
                              data_home=data_home)
    y = np.asarray(bunch.target, dtype=np.float64)
    return np.asarray(MoleculeFeaturizer().fit_transform(bunch.data), dtype=np.float64), y, None


def _subsample(data, y, n_rows, random_state):
    if n_rows is None or n_rows >= len(y):
        return data, y
    idx = np.sort(np.random.RandomState(random_state).choice(len(y), n_rows, replace=False))
    data = data.iloc[idx] if hasattr(data, "iloc") else np.asarray(data)[idx]
    return data, y[idx]


def resolve(dataset, quick, random_state, data_home=None):
    """``(name, (X_train, X_test, y_train, y_test))`` from a dataset name or a 4-tuple."""
    if isinstance(dataset, str):
        return dataset, load_study_data(dataset, quick=quick, random_state=random_state,
                                        data_home=data_home)
    if len(dataset) != 4:
        raise ValueError("dataset must be a name or a tuple (X_train, X_test, y_train, y_test).")
    return "custom", tuple(np.asarray(a, dtype=np.float64) for a in dataset)


def unit_of(name: str) -> str:
    """Unit of the target of a study dataset ('' for custom data)."""
    return TARGET_UNITS.get(name, "")


def dataset_meta(name: str) -> dict[str, str]:
    """The first two columns of every study's table: ``dataset`` and its ``target_unit``."""
    return {"dataset": name, "target_unit": unit_of(name)}


def with_columns(table, columns: dict):
    """``table`` (a DataFrame) with ``columns`` (one value each) inserted first, in order."""
    for i, (key, value) in enumerate(columns.items()):
        table.insert(i, key, value)
    return table


@contextmanager
def _reworded(message: str):
    """Re-raise the ``TypeError`` / ``ValueError`` of a :mod:`taafs_sk._validation` check as
    ``ValueError(message)``: a study's bad argument is a ``ValueError`` in the study's words."""
    try:
        yield
    except (TypeError, ValueError):
        raise ValueError(message) from None


def positive_int(name: str, value, allow_none: bool = True) -> int | None:
    """``value`` as an int >= 1 (``None`` passes when allowed); ``ValueError`` naming it."""
    if value is None and allow_none:
        return None
    with _reworded(f"{name} must be a positive integer; got {value!r}."):
        return check_count(name, value)


def count_or(name: str, value, default: int) -> int:
    """``value`` as an int >= 1, or ``default`` when it is None; ``ValueError`` naming it."""
    count = positive_int(name, value)
    return default if count is None else count


def count_in(name: str, value, maximum: int, bound: str) -> int:
    """``value`` as an int in ``[0, maximum]`` (``bound`` names the maximum in the message)."""
    with _reworded(f"{name} must be an integer in [0, {bound}]; got {value!r}."):
        return check_count(name, value, minimum=0, maximum=maximum)


def positive_number(name: str, value) -> float:
    """``value`` as a finite float > 0; ``ValueError`` naming it."""
    with _reworded(f"{name} must be a positive number; got {value!r}."):
        return check_real(name, value, minimum=0.0, include_minimum=False)


def non_negative_floats(name: str, values) -> tuple[float, ...]:
    """``values`` as a non-empty tuple of finite floats >= 0; ``ValueError`` naming it."""
    not_numbers = f"{name} must be a sequence of numbers; got {values!r}."
    if isinstance(values, numbers.Real):  # a sequence is asked for, not one number
        raise ValueError(not_numbers)
    try:
        levels = check_levels(name, values, minimum=0.0)
    except TypeError:
        raise ValueError(not_numbers) from None
    except ValueError:
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers >= 0; "
                         f"got {values!r}.") from None
    return tuple(levels.tolist())


def hidden_sizes(arch, name: str = "architecture") -> tuple[int, ...]:
    """Hidden layer sizes as a non-empty tuple of positive ints."""
    out = tuple(arch) if not isinstance(arch, (int, np.integer)) else (arch,)
    with _reworded(f"{name} must be a non-empty sequence of positive integers; got {arch!r}."):
        return tuple(check_count(name, h) for h in check_non_empty(name, out))


def arch_label(arch: Sequence[int]) -> str:
    """``(32, 16)`` -> ``'32-16'``: the ``architecture`` column of the studies' tables."""
    return "-".join(map(str, arch))


def regressor(hidden, basis, quick, random_state, n_train, max_epochs=None):
    """The studies' TAAFSRegressor: early stopping, long enough to converge unless quick."""
    from ..taafs.regressor import TAAFSRegressor

    return TAAFSRegressor(
        hidden_layer_sizes=tuple(hidden), basis=basis,
        max_epochs=MAX_EPOCHS[0 if quick else 1] if max_epochs is None else max_epochs,
        patience=PATIENCE[0 if quick else 1], batch_size=batch_size(n_train), lr=2e-3,
        random_state=random_state,
    )


def batch_size(n_train: int) -> int:
    return 32 if n_train <= 2000 else 64


def fit(estimator, X, y) -> float:
    """Fit ``estimator`` (epoch caps are the study's choice: no ConvergenceWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
    return time.perf_counter() - start


def say(verbose, msg):
    if verbose:
        print(f"[studies] {msg}", file=sys.stderr, flush=True)


def run_parallel(func: Callable, jobs: Iterable[tuple], n_jobs=None,
                 on_result: Callable | None = None) -> list:
    """``[func(*job) for job in jobs]`` through joblib (any backend, e.g. Dask's).

    ``n_jobs=None`` means joblib's default: one process unless a
    :func:`joblib.parallel_config` context says otherwise. Each job carries its own seed, so
    the results do not depend on ``n_jobs`` or the backend. ``on_result(i, result)`` is
    called in this process as each result arrives (in order), e.g. to report progress.
    """
    from joblib import Parallel, delayed

    results = []
    for i, result in enumerate(Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(func)(*job) for job in jobs)):
        if on_result is not None:
            on_result(i, result)
        results.append(result)
    return results


def architectures(archs, sizes, depths: Sequence[int] = (1, 2)) -> list[tuple[int, ...]]:
    if sizes is not None:
        sizes = hidden_sizes(tuple(sizes), "sizes")
        depths = hidden_sizes(tuple(depths), "depths")
        return [(s,) * d for d in depths for s in sizes]
    if not archs:
        raise ValueError(f"architectures must be a non-empty sequence; got {archs!r}.")
    return [hidden_sizes(a, "architectures") for a in archs]


def activation_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(trainable bases, fixed activations)``: the names a study's ``basis`` may take."""
    from ..nn.bases import available_bases
    from ..nn.fixed import FIXED_ACTIVATIONS

    return tuple(available_bases()), tuple(FIXED_ACTIVATIONS)


def check_names(name: str, values, valid) -> None:
    """``ValueError`` naming ``name`` and the first value not in ``valid``."""
    for value in [values] if isinstance(values, str) else values:
        if value not in valid:
            raise ValueError(f"{name} got {value!r}; valid names: {', '.join(valid)}.")
