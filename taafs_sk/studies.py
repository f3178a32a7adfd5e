"""Studies on real data: noise tolerance, activation-shape dispersion, and basis comparison.

Each study is one function call that returns a tidy :class:`pandas.DataFrame` (one row per
configuration), ready for :func:`taafs_sk.plotting.plot_study` and the ``taafs-sk study``
command. A study takes a dataset name (loaded, featurised and split by
:func:`load_study_data`) or a ready ``(X_train, X_test, y_train, y_test)`` tuple.

``quick=True`` subsamples the data and trains for few epochs, so that each study finishes in
seconds; use it for demos and tests, not for conclusions.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler

from .analog import NAFDispersion, NoiseModel, as_torch_model, noise_sweep
from .analog.hardware import realize_network, recovery_table, retrain_weights
from .datasets import STUDY_DATASETS

__all__ = ["load_study_data", "noise_tolerance", "naf_inhomogeneity", "basis_comparison"]

# Rows used per dataset (subsample of the full table): (quick, full).
_ROWS = {"hydrocarbons": (400, 6000), "perovskites": (540, None), "qm9": (400, 6000)}
_TEST_SIZE = 0.2


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
        Targets in their original units.
    """
    if name not in STUDY_DATASETS:
        raise ValueError(f"dataset must be one of {STUDY_DATASETS} or a tuple of arrays; "
                         f"got {name!r}.")
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
    from . import datasets

    n_rows = _ROWS[name][0 if quick else 1]
    if name == "perovskites":
        bunch = datasets.load_double_perovskites(source="manzhos", data_home=data_home)
        X = np.asarray(bunch.data, dtype=np.float64)
        return X, np.asarray(bunch.target, dtype=np.float64), np.asarray(bunch.groups)
    if name == "hydrocarbons":
        from taafs_sk.featurizers import HydrocarbonFeaturizer

        bunch = datasets.load_hydrocarbons(level="xtb", data_home=data_home)
        raw, y = _subsample(bunch.data, np.asarray(bunch.target, float), n_rows, random_state)
        return np.asarray(HydrocarbonFeaturizer().fit_transform(raw), dtype=np.float64), y, None
    from taafs_sk.featurizers import MoleculeFeaturizer

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


def _resolve(dataset, quick, random_state):
    if isinstance(dataset, str):
        return dataset, load_study_data(dataset, quick=quick, random_state=random_state)
    if len(dataset) != 4:
        raise ValueError("dataset must be a name or a tuple (X_train, X_test, y_train, y_test).")
    return "custom", tuple(np.asarray(a, dtype=np.float64) for a in dataset)


def _regressor(hidden, basis, quick, random_state, n_train):
    """The studies' TAAFSRegressor: early stopping, long enough to converge unless quick."""
    from .taafs.regressor import TAAFSRegressor

    return TAAFSRegressor(
        hidden_layer_sizes=tuple(hidden), basis=basis, max_epochs=40 if quick else 2000,
        patience=10 if quick else 50, batch_size=32 if n_train <= 2000 else 64, lr=2e-3,
        random_state=random_state,
    )


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
    return time.perf_counter() - start


def _say(verbose, msg):
    if verbose:
        print(f"[studies] {msg}", file=sys.stderr, flush=True)


def _architectures(architectures, sizes, depths=(1, 2)) -> list[tuple[int, ...]]:
    if sizes is not None:
        return [(int(s),) * d for d in depths for s in sizes]
    return [tuple(int(h) for h in a) for a in architectures]


def noise_tolerance(
    dataset, *, architectures: Sequence[Sequence[int]] = ((32,), (32, 32)),
    sizes: Sequence[int] | None = None, levels: Sequence[float] = (0, 0.01, 0.02, 0.05, 0.1),
    basis: str = "tanh", noise: NoiseModel | None = None, n_draws: int = 32,
    quick: bool = False, random_state=0, estimator=None, verbose: int = 0,
) -> pd.DataFrame:
    """Test RMSE under circuit noise, by architecture and noise level.

    Parameters
    ----------
    dataset : {'hydrocarbons', 'perovskites', 'qm9'} or tuple of arrays
        A dataset name (see :func:`load_study_data`) or ``(X_train, X_test, y_train, y_test)``.
    architectures : sequence of tuple of int, default=((32,), (32, 32))
        Hidden layer sizes to compare.
    sizes : sequence of int, default=None
        When given, replaces ``architectures`` by one- and two-hidden-layer networks of each
        width (``(s,)`` and ``(s, s)``).
    levels : sequence of float, default=(0, 0.01, 0.02, 0.05, 0.1)
        Noise levels.
    basis : str, default='tanh'
        Activation of the trained ``TAAFSRegressor``.
    noise : NoiseModel, default=None
        Kind and site of the noise (default: additive, post-activation, relative to range),
        calibrated on the training inputs.
    n_draws : int, default=32
        Noise draws per level (8 when ``quick``).
    quick : bool, default=False
        Small subsample and few epochs.
    random_state : int, default=0
        Seeds data split, training and noise.
    estimator : estimator, default=None
        Template replacing the ``TAAFSRegressor`` (its ``hidden_layer_sizes`` is set per
        architecture).
    verbose : int, default=0
        Print progress to stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per architecture and level: ``dataset, architecture, n_hidden_layers, size,
        n_params, train_rmse, test_rmse, overfit_ratio`` (test/train RMSE) and the
        :func:`~taafs_sk.analog.noise_sweep` columns (``rmse_mean`` etc. are noisy test RMSEs,
        ``rmse_ratio`` relative to the noiseless test RMSE).
    """
    name, (X_tr, X_te, y_tr, y_te) = _resolve(dataset, quick, random_state)
    noise = noise if noise is not None else NoiseModel(kind="additive", where="post_activation")
    frames = []
    for arch in _architectures(architectures, sizes):
        est = (_regressor(arch, basis, quick, random_state, len(y_tr)) if estimator is None
               else clone(estimator).set_params(hidden_layer_sizes=arch))
        seconds = _fit(est, X_tr, y_tr)
        train_rmse, test_rmse = (root_mean_squared_error(y_tr, est.predict(X_tr)),
                                  root_mean_squared_error(y_te, est.predict(X_te)))
        table = noise_sweep(est, X_te, y_te, levels, noise=noise,
                            n_draws=8 if quick else n_draws, X_calib=X_tr,
                            random_state=random_state)
        model = as_torch_model(est)
        table.insert(0, "dataset", name)
        table.insert(1, "architecture", "-".join(map(str, arch)))
        table.insert(2, "n_hidden_layers", len(arch))
        table.insert(3, "size", arch[0])
        table.insert(4, "n_params", sum(p.numel() for p in model.mlp.parameters()))
        table.insert(5, "train_rmse", train_rmse)
        table.insert(6, "test_rmse", test_rmse)
        table.insert(7, "overfit_ratio", test_rmse / train_rmse)
        table["fit_time_s"] = seconds
        frames.append(table)
        _say(verbose, f"{name} {arch}: test RMSE {test_rmse:.4g}, ratio at "
                      f"{table['level'].iloc[-1]:.0%}: {table['rmse_ratio'].iloc[-1]:.3g}")
    return pd.concat(frames, ignore_index=True)


def naf_inhomogeneity(
    dataset, *, spreads: Sequence[float] = (0, 0.05, 0.1, 0.2), retrain: bool = True,
    architecture: Sequence[int] = (32,), quick: bool = False, random_state=0,
    base: str = "tanh", n_realizations: int = 3, retrain_epochs: int | None = None,
    retrain_lr: float = 1e-3, estimator=None, verbose: int = 0,
) -> pd.DataFrame:
    """Cost of per-neuron activation dispersion, and what retraining wins back.

    One ideal network is trained with the nominal activation ``base``; for each spread,
    ``n_realizations`` sets of per-neuron shapes (:class:`~taafs_sk.analog.NAFDispersion`)
    replace its activations (degraded), and the weights are retrained on them (retrained). The
    control is the ideal network trained for the same extra epochs with the same minibatches.

    Parameters
    ----------
    dataset : {'hydrocarbons', 'perovskites', 'qm9'} or tuple of arrays
        See :func:`noise_tolerance`.
    spreads : sequence of float, default=(0, 0.05, 0.1, 0.2)
        Relative spreads of gain, shift, scale and offset.
    retrain : bool, default=True
        Retrain (and train the control); otherwise only ideal and degraded.
    architecture : tuple of int, default=(32,)
        Hidden layer sizes.
    quick : bool, default=False
        Small subsample, few epochs, one realisation.
    random_state : int, default=0
        Seeds split, training and realisations.
    base : str, default='tanh'
        Nominal activation (the ideal model's ``basis``).
    n_realizations : int, default=3
        Independent shape draws per spread.
    retrain_epochs : int, default=None
        Retraining epochs; 200 (10 when ``quick``) by default.
    retrain_lr : float, default=1e-3
        Retraining learning rate.
    estimator : estimator, default=None
        Template replacing the ``TAAFSRegressor`` for the ideal model.
    verbose : int, default=0
        Print progress to stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per spread and realisation: ``dataset, architecture, base, spread,
        realization, retrain_epochs``, ``train_rmse_<model>`` and ``test_rmse_<model>`` for
        ideal, degraded, retrained and control, and the test-set ``recovery``
        (``(degraded - retrained) / (degraded - ideal)``) and ``recovery_vs_control``.
    """
    name, (X_tr, X_te, y_tr, y_te) = _resolve(dataset, quick, random_state)
    epochs = retrain_epochs if retrain_epochs is not None else (10 if quick else 200)
    n_real = 1 if quick else int(n_realizations)
    arch = tuple(int(h) for h in architecture)
    ideal = (_regressor(arch, base, quick, random_state, len(y_tr)) if estimator is None
             else clone(estimator).set_params(hidden_layer_sizes=arch))
    _fit(ideal, X_tr, y_tr)
    ideal_model = as_torch_model(ideal).copy()
    train_kw = dict(epochs=epochs, lr=retrain_lr, batch_size=32 if len(y_tr) <= 2000 else 64,
                    random_state=random_state)
    control = None
    if retrain:
        control = ideal_model.copy()
        retrain_weights(control, X_tr, y_tr, **train_kw)
    rows = []
    seeds = np.random.SeedSequence(random_state).generate_state(len(spreads) * n_real)
    for k, (spread, r) in enumerate((s, r) for s in spreads for r in range(n_real)):
        nafs = NAFDispersion(base=base, spread=float(spread))
        degraded = realize_network(ideal_model, nafs, random_state=int(seeds[k]))
        retrained = None
        if retrain:
            retrained = degraded.copy()
            retrain_weights(retrained, X_tr, y_tr, **train_kw)
        row = {"dataset": name, "architecture": "-".join(map(str, arch)), "base": base,
               "spread": float(spread), "realization": r, "retrain_epochs": epochs if retrain
               else 0}
        models = {"ideal": ideal, "degraded": degraded, "retrained": retrained,
                  "control": control}
        rmse = {}
        for split, X, y in (("train", X_tr, y_tr), ("test", X_te, y_te)):
            for label, m in models.items():
                rmse[split, label] = (np.nan if m is None
                                      else root_mean_squared_error(y, m.predict(X)))
                row[f"{split}_rmse_{label}"] = rmse[split, label]
        rec = recovery_table(*(None if np.isnan(rmse["test", m]) else rmse["test", m]
                               for m in ("ideal", "degraded", "retrained", "control")))
        if spread == 0:  # nothing was lost: a recovery fraction means nothing
            rec["recovery"] = rec["recovery_vs_control"] = np.nan
        row["recovery"], row["recovery_vs_control"] = rec["recovery"], rec["recovery_vs_control"]
        rows.append(row)
        _say(verbose, f"{name} spread {spread:.0%} #{r}: degraded {rmse['test', 'degraded']:.4g}"
                      f", retrained {rmse['test', 'retrained']:.4g}")
    return pd.DataFrame(rows)


def basis_comparison(
    dataset, *, bases: Sequence[str] | None = None, repeats: int = 3, quick: bool = False,
    random_state=0, architecture: Sequence[int] = (32,), noise_level: float = 0.05,
    verbose: int = 0,
) -> pd.DataFrame:
    """Accuracy, cost and noise tolerance of each activation basis on the same split.

    Parameters
    ----------
    dataset : {'hydrocarbons', 'perovskites', 'qm9'} or tuple of arrays
        See :func:`noise_tolerance`.
    bases : sequence of str, default=None
        Bases to compare; all of :func:`taafs_sk.nn.bases.available_bases` plus ``'tanh'``.
    repeats : int, default=3
        Training seeds per basis (1 when ``quick``).
    quick : bool, default=False
        Small subsample, few epochs, one repeat.
    random_state : int, default=0
        Seeds the split; repeat ``r`` trains with seed ``random_state + r``.
    architecture : tuple of int, default=(32,)
        Hidden layer sizes.
    noise_level : float, default=0.05
        Post-activation noise level of the ``noise_ratio`` column (16 draws).
    verbose : int, default=0
        Print progress to stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per basis and repeat: ``dataset, basis, repeat, architecture, n_params,
        n_epochs, fit_time_s, train_rmse, test_rmse, noise_ratio`` (noisy / noiseless test RMSE).
    """
    if bases is None:
        from .nn.bases import available_bases

        bases = (*available_bases(), "tanh")
    name, (X_tr, X_te, y_tr, y_te) = _resolve(dataset, quick, random_state)
    arch = tuple(int(h) for h in architecture)
    rows = []
    for basis in bases:
        for r in range(1 if quick else int(repeats)):
            est = _regressor(arch, basis, quick, random_state + r, len(y_tr))
            seconds = _fit(est, X_tr, y_tr)
            sweep = noise_sweep(est, X_te, y_te, [noise_level], n_draws=16, X_calib=X_tr,
                                random_state=random_state + r)
            rows.append({
                "dataset": name, "basis": basis, "repeat": r,
                "architecture": "-".join(map(str, arch)), "n_params": est.n_params_,
                "n_epochs": est.n_iter_, "fit_time_s": seconds,
                "train_rmse": root_mean_squared_error(y_tr, est.predict(X_tr)),
                "test_rmse": root_mean_squared_error(y_te, est.predict(X_te)),
                "noise_ratio": float(sweep["rmse_ratio"].iloc[0]),
            })
            _say(verbose, f"{name} {basis} #{r}: test RMSE {rows[-1]['test_rmse']:.4g}")
    return pd.DataFrame(rows)
