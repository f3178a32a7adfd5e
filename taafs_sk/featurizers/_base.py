"""Base class shared by the featurizers: a matminer featurizer that is a scikit-learn
transformer.

A featurizer turns raw entries (one SMILES string, one formula, or one row of site
columns) into a fixed-length row of floats. Subclasses write the chemistry; this module
writes the plumbing: input checks, error handling with row numbers, optional parallel
featurization, feature names and pandas output, and matminer's batch calls
(``featurize_many``, ``featurize_dataframe``, ``MultipleFeaturizer``) on the same path.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from matminer.featurizers.base import BaseFeaturizer as MatminerBaseFeaturizer
from sklearn.base import _fit_context
from sklearn.utils import TransformerTags
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._checks import _check_batch
from ._failures import FeaturizationWarning, report_failures
from ._matminer_calls import MatminerCallsMixin

__all__ = ["BaseFeaturizer", "FeaturizationWarning"]


class BaseFeaturizer(MatminerCallsMixin, MatminerBaseFeaturizer):
    """Turn raw entries into rows of numeric features (base class).

    A subclass of :class:`matminer.featurizers.base.BaseFeaturizer`, and through it of
    :class:`sklearn.base.BaseEstimator` and :class:`sklearn.base.TransformerMixin`.

    The contract for subclasses (matminer's, plus scikit-learn's):

    - ``featurize(entry) -> Sequence[float]``: the features of one entry (one SMILES
      string, one formula, or one row of a DataFrame as a :class:`pandas.Series`). Raise
      any :class:`Exception` for a bad entry; its message should name the bad value.
    - ``feature_labels() -> list[str]``: one label per feature, in order (may depend on
      state learned in ``fit``).
    - ``citations() -> list[str]``: BibTeX entries for the methods and data used.
    - ``implementors() -> list[str]``: the people or project that wrote it.
    - Optional hooks: ``_fit_entries(entries)`` learns state from the training entries
      (for example a vocabulary); ``_featurize_many(entries)`` is a batched or vectorised
      path returning ``(features, failures)`` where ``features`` has shape
      ``(n_entries, n_features)`` with NaN rows for failures and ``failures`` maps the
      position of each failed entry (within ``entries``) to its exception;
      ``_as_entries(X)`` converts the input to a sequence of entries (the default takes a
      1-D array-like of strings or a one-column 2-D array or DataFrame).

    The base class provides ``fit``, ``transform``, ``get_feature_names_out`` (so
    ``set_output(transform="pandas")`` works), error handling and ``n_jobs``; matminer's
    ``featurize_dataframe``, ``fit_featurize_dataframe`` and ``MultipleFeaturizer`` work
    through :meth:`featurize_many` and :meth:`featurize_wrapper`, which run the same batched
    path as ``transform``. Subclasses must accept ``on_error`` and ``n_jobs`` in their
    ``__init__``.

    Parameters
    ----------
    on_error : {'raise', 'nan'}, default='raise'
        What to do with an entry that cannot be featurized. ``'raise'`` raises a
        :class:`ValueError` naming the row (0-based position) and the value; ``'nan'``
        returns a row of NaN for each such entry and emits one
        :class:`FeaturizationWarning` saying how many rows failed.
    n_jobs : int, default=None
        Number of joblib workers used by ``transform``. ``None`` means 1 (unless in a
        :func:`joblib.parallel_backend` context); ``-1`` uses all processors. Worth it for
        tens of thousands of SMILES.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        The output feature names, fixed at ``fit``.
    n_features_in_ : int
        Number of input columns, only set when ``X`` is 2-D.
    feature_names_in_ : ndarray of str
        Input column names, only set when ``X`` is a DataFrame with string column names.

    See Also
    --------
    matminer.featurizers.base.BaseFeaturizer : The contract this class follows.

    Notes
    -----
    Unlike matminer's ``BaseFeaturizer``, errors are never silently ignored: only
    :class:`Exception` is caught (``KeyboardInterrupt`` and other ``BaseException`` pass
    through), ``transform`` follows ``on_error`` (matminer's forces ``ignore_errors=True``),
    and every row set to NaN is reported by a :class:`FeaturizationWarning`. In matminer's
    calls, ``ignore_errors=False`` (their default) keeps ``on_error``: a bad row raises
    unless ``on_error='nan'``; an explicit ``ignore_errors=True`` is an opt-out at the call,
    and gives NaN rows with the warning whatever ``on_error`` says.

    matminer's class lists :class:`~sklearn.base.BaseEstimator` before
    :class:`~sklearn.base.TransformerMixin`, so this class cannot put the mixin first
    (scikit-learn's ``check_mixin_order`` would flag it); ``__sklearn_tags__`` restores the
    transformer tags the mixin would have set. matminer's read-only ``n_jobs`` property is
    shadowed: ``n_jobs`` is an ordinary parameter, and ``set_n_jobs`` sets it.

    Examples
    --------
    >>> import pandas as pd
    >>> from taafs_sk.featurizers import MoleculeFeaturizer
    >>> df = pd.DataFrame({"smiles": ["C", "CCO"]})
    >>> out = MoleculeFeaturizer().fit_featurize_dataframe(df, "smiles", pbar=False)
    >>> out[["smiles", "atom C", "bond C-O"]].to_numpy().tolist()
    [['C', 1.0, 0.0], ['CCO', 2.0, 1.0]]
    """

    #: Shadows matminer's read-only ``n_jobs`` property: here a parameter set in ``__init__``.
    n_jobs: int | None = None

    _parameter_constraints: dict = {
        "on_error": [StrOptions({"raise", "nan"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, on_error: str = "raise", n_jobs: int | None = None) -> None:
        self.on_error = on_error
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ contract
    def featurize(self, entry: Any) -> Sequence[float]:
        """Return the features of one entry."""
        raise NotImplementedError(f"{type(self).__name__} must implement featurize")

    def feature_labels(self) -> list[str]:
        """Return one label per feature."""
        raise NotImplementedError(f"{type(self).__name__} must implement feature_labels")

    def citations(self) -> list[str]:
        """Return BibTeX entries to cite when using this featurizer."""
        return []

    def implementors(self) -> list[str]:
        """Return the authors of this featurizer."""
        return ["taafs-sk developers"]

    # ------------------------------------------------------------------ hooks
    def _as_entries(self, X: Any) -> Sequence:
        """Convert ``X`` to a sequence of entries: 1-D strings, or a one-column 2-D input."""
        if isinstance(X, str | bytes):
            raise ValueError(
                f"{type(self).__name__} expects an array-like of entries, got a single "
                f"string {X!r}; wrap it in a list: [{X!r}]."
            )
        if isinstance(X, pd.DataFrame):
            values = X.to_numpy(dtype=object)
        elif isinstance(X, pd.Series):
            values = X.to_numpy(dtype=object)
        else:
            values = np.asarray(X, dtype=object)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(
                f"{type(self).__name__} expects a 1-D array-like of strings or a 2-D input "
                f"with one column, got an input of shape {values.shape}."
            )
        return values

    def _fit_entries(self, entries: Sequence) -> None:
        """Learn state from the training entries (default: nothing)."""

    def _featurize_many(self, entries: Sequence) -> tuple[np.ndarray, dict[int, Exception]]:
        """Featurize a batch; return ``(features, failures)`` (see the class docstring)."""
        n_out = len(self.feature_names_out_)
        out = np.full((len(entries), n_out), np.nan)
        failures: dict[int, Exception] = {}
        for i, entry in enumerate(entries):
            try:
                row = np.asarray(self.featurize(entry), dtype=np.float64)
                if row.shape != (n_out,):
                    raise ValueError(f"featurize returned {row.shape[0]} values, "
                                     f"expected {n_out}")
                out[i] = row
            except Exception as exc:  # noqa: BLE001 - reported per row below
                failures[i] = exc
        return out, failures

    def _featurize_one(self, entry: Any) -> np.ndarray:
        """``featurize`` through the batched ``_featurize_many``: one row, or its error."""
        features, failures = self._featurize_many([entry])
        if failures:
            raise failures[0]
        return features[0]

    # ------------------------------------------------------------------ sklearn API
    def _check_input(self, X: Any, *, reset: bool) -> Sequence:
        _check_batch(type(self).__name__, "X", X)
        validate_data(self, X, reset=reset, skip_check_array=True)
        entries = self._as_entries(X)
        if len(entries) == 0:
            raise ValueError(f"{type(self).__name__} got 0 samples; at least 1 is required.")
        return entries

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseFeaturizer:
        """Check the input and learn what the featurizer needs (often nothing).

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, n_columns)
            The entries (see the subclass).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted featurizer.
        """
        entries = self._check_input(X, reset=True)
        self._fit_entries(entries)
        self.feature_names_out_ = np.asarray(self.feature_labels(), dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Featurize each entry.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, n_columns)
            The entries (see the subclass).

        Returns
        -------
        features : ndarray of shape (n_samples, n_features), dtype float64
            One row per entry; rows of NaN for failed entries when ``on_error='nan'``.
        """
        check_is_fitted(self, "feature_names_out_")
        entries = self._check_input(X, reset=False)
        features, failures = self._run_batches(entries)
        self._report_failures(entries, failures)
        return features

    def _map_chunks(self, fn, entries: Sequence, *args) -> tuple[list[tuple[int, int]], list]:
        """``fn(entries[lo:hi], *args)`` for contiguous chunks, in ``n_jobs`` joblib workers
        (one chunk when serial or fewer than 64 entries); returns the bounds and results."""
        n_workers = effective_n_jobs(self.n_jobs)
        if n_workers == 1 or len(entries) < 64:
            return [(0, len(entries))], [fn(entries, *args)]
        bounds = np.linspace(0, len(entries), 4 * n_workers + 1).astype(int)
        chunks = [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True) if hi > lo]
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(fn)(entries[lo:hi], *args) for lo, hi in chunks
        )
        return chunks, results

    def _run_batches(self, entries: Sequence) -> tuple[np.ndarray, dict[int, Exception]]:
        chunks, results = self._map_chunks(self._featurize_many, entries)
        if len(results) == 1:
            return results[0]
        features = np.vstack([res[0] for res in results])
        failures = {lo + i: exc for (lo, _), res in zip(chunks, results, strict=True)
                    for i, exc in res[1].items()}
        return features, failures

    def _report_failures(self, entries: Sequence, failures: dict[int, Exception], *,
                         as_nan: bool | None = None, opt_out: str = "") -> None:
        """Raise a ValueError naming the first failed row, or warn when the rows are NaN
        (``as_nan``, default ``on_error == 'nan'``); ``opt_out`` extends the advice."""
        report_failures(type(self).__name__, entries, failures,
                        as_nan=self.on_error == "nan" if as_nan is None else as_nan,
                        opt_out=opt_out)

    # ------------------------------------------------------------------ names and tags
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return the output feature names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against ``feature_names_in_`` when that is set; otherwise unused.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The labels of :meth:`feature_labels`, as learned in ``fit``.
        """
        check_is_fitted(self, "feature_names_out_")
        if input_features is not None and hasattr(self, "feature_names_in_"):
            if list(input_features) != list(self.feature_names_in_):
                raise ValueError(
                    f"input_features {list(input_features)} is not equal to "
                    f"feature_names_in_ {list(self.feature_names_in_)}."
                )
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is None:  # BaseEstimator precedes TransformerMixin (Notes)
            tags.transformer_tags = TransformerTags()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags
