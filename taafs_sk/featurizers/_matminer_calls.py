"""matminer's batch calls (``featurize_many``, ``featurize_wrapper``, ``set_n_jobs``) on the
featurizers' own batched path, so that ``featurize_dataframe`` and ``MultipleFeaturizer``
follow ``on_error`` and report failures as ``transform`` does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._validation import warn_user
from ._checks import _check_batch, _sized
from ._failures import FeaturizationWarning, describe_error

__all__ = ["MatminerCallsMixin"]


class MatminerCallsMixin:
    """matminer's batch calls for a :class:`~taafs_sk.featurizers.BaseFeaturizer`.

    Put before matminer's ``BaseFeaturizer`` in the bases, whose per-entry versions it
    replaces. It uses the host's ``on_error``, ``n_jobs``, ``featurize``,
    ``feature_labels``, ``_as_entries``, ``_run_batches`` and ``_report_failures``.

    Examples
    --------
    >>> from taafs_sk.featurizers import MoleculeFeaturizer
    >>> featurizer = MoleculeFeaturizer().fit(["C", "CCO"])
    >>> row = featurizer.featurize_many(["CCO"], pbar=False)[0]
    >>> dict(zip(featurizer.feature_labels(), row))["atom C"]
    2.0
    """

    def featurize_many(self, entries: Any, ignore_errors: bool = False,
                       return_errors: bool = False, pbar: bool = True) -> list[list]:
        """Featurize many entries (matminer's batch call; ``featurize_dataframe`` uses it).

        Runs the batched path of :meth:`transform` (``n_jobs`` joblib workers), not one
        :meth:`featurize` call per entry in a process pool.

        Parameters
        ----------
        entries : list, tuple, ndarray, Series or DataFrame
            The entries, as for :meth:`transform`; a 2-D input holds one entry per row
            (``featurize_dataframe`` passes ``df[col_id].values``).
        ignore_errors : bool, default=False
            ``False``: a bad entry follows ``on_error`` (a :class:`ValueError` naming the row
            and the value, or with ``on_error='nan'`` a row of NaN). ``True``: rows of NaN
            whatever ``on_error`` says. Rows of NaN always come with a
            :class:`FeaturizationWarning`; only :class:`Exception` is caught.
        return_errors : bool, default=False
            Append to each row the error of its entry (``'ValueError: ...'``, NaN for rows
            that succeeded), as matminer does; needs ``ignore_errors=True``.
        pbar : bool, default=True
            Ignored: the batched path has no progress bar.

        Returns
        -------
        features : list of list
            One list of ``len(feature_labels())`` floats per entry (plus the error).
        """
        if return_errors and not ignore_errors:
            raise ValueError("return_errors=True needs ignore_errors=True (as in matminer); "
                             f"got ignore_errors={ignore_errors!r}.")
        if not isinstance(entries, str | bytes) and _sized(entries) and len(entries) == 0:
            return []  # as matminer: nothing to featurize gives no rows
        _check_batch(type(self).__name__, "entries", entries)
        check_is_fitted(self, "feature_names_out_")
        entries = self._as_entries(entries)
        features, failures = self._run_batches(entries)
        self._report_failures(entries, failures, as_nan=ignore_errors or self.on_error == "nan",
                              opt_out=" (or ignore_errors=True to featurize_many or "
                                      "featurize_dataframe)")
        rows = features.tolist()
        if return_errors:
            rows = [row + [describe_error(failures[i]) if i in failures else np.nan]
                    for i, row in enumerate(rows)]
        return rows

    def featurize_wrapper(self, x: Sequence, return_errors: bool = False,
                          ignore_errors: bool = False) -> list:
        """Featurize one entry for matminer (``MultipleFeaturizer`` calls this per entry).

        Parameters
        ----------
        x : sequence
            matminer's argument tuple: ``(entry,)``, or a row of several columns, which is
            passed to :meth:`featurize` as one tuple.
        return_errors : bool, default=False
            Append the error (or NaN), as in :meth:`featurize_many`.
        ignore_errors : bool, default=False
            As in :meth:`featurize_many`: a bad entry raises a :class:`ValueError` naming
            the value unless this or ``on_error='nan'``; NaN rows come with a
            :class:`FeaturizationWarning`.

        Returns
        -------
        features : list
            The features of the entry (plus the error when ``return_errors``).
        """
        entry = x[0] if len(x) == 1 else tuple(x)
        try:
            features = [float(value) for value in self.featurize(entry)]
        except Exception as exc:  # noqa: BLE001 - raised or reported just below
            if not (ignore_errors or self.on_error == "nan"):
                raise ValueError(
                    f"{type(self).__name__} could not featurize {entry!r}: {exc}. Fix the "
                    "input, or pass on_error='nan' (or ignore_errors=True) to get a row of "
                    "NaN instead.") from exc
            warn_user(f"{type(self).__name__}: {entry!r} could not be featurized and was "
                      f"set to NaN: {exc}", FeaturizationWarning)
            features = [np.nan] * len(self.feature_labels())
            return features + [describe_error(exc)] if return_errors else features
        return features + [np.nan] if return_errors else features

    def set_n_jobs(self, n_jobs: int | None) -> None:
        """Set ``n_jobs`` (matminer's spelling of ``set_params(n_jobs=n_jobs)``).

        Parameters
        ----------
        n_jobs : int or None
            Number of joblib workers, as the ``n_jobs`` parameter.
        """
        self.n_jobs = n_jobs
