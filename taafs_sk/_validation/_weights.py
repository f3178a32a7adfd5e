"""Sample weights as repeated rows, and a canonical row order.

A row of integer weight ``k`` counts as ``k`` copies of it. Estimators whose fit depends on
the order or the number of rows (minibatches, validation splits, random subsets) honour
that exactly by training on the repeated rows, in an order that depends only on the rows'
values, so that a weighted fit and a fit on the repeated (and shuffled) data see the same
data, bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["canonical_order", "check_sample_weight", "repeat_weighted_rows"]


def canonical_order(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices that sort the rows of ``(X, y)`` by their values (``X`` columns first).

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk._validation import canonical_order
    >>> canonical_order(np.array([[2.0], [1.0], [2.0]]), np.array([0.0, 5.0, -1.0]))
    array([1, 2, 0])
    """
    y2 = np.asarray(y).reshape(len(y), -1)
    X2 = np.asarray(X).reshape(len(X), -1)
    keys = [*y2.T[::-1], *X2.T[::-1]]  # lexsort: the last key is the primary one
    return np.lexsort(keys) if keys else np.arange(len(X))


def repeat_weighted_rows(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    max_factor: float | None = None,
):
    """``(X, y, weights)`` in canonical order, integer weights turned into repeated rows.

    Parameters
    ----------
    X, y : ndarray
        Validated training data.
    sample_weight : ndarray of shape (n_samples,) or None
        Validated non-negative weights.
    max_factor : float or None, default=None
        Repeat only when the repeated data has at most ``max_factor`` times as many rows as
        there are rows of non-zero weight (None: always repeat integer weights).

    Returns
    -------
    X, y : ndarray
        The rows (repeated as their integer weights say), in canonical order.
    weights : ndarray or None
        None when the weights became repetitions (or were None), else the weights of the
        returned rows.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk._validation import repeat_weighted_rows
    >>> X, y, w = repeat_weighted_rows(np.array([[1.0], [0.0]]), np.array([1.0, 0.0]),
    ...                                np.array([2.0, 1.0]))
    >>> X.ravel().tolist(), y.tolist(), w
    ([0.0, 1.0, 1.0], [0.0, 1.0, 1.0], None)
    """
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if w is not None and np.all(w == np.round(w)):
        counts = w.astype(np.int64)
        n_rows = counts.sum()
        if max_factor is None or n_rows <= max_factor * np.count_nonzero(counts):
            X, y, w = np.repeat(X, counts, axis=0), np.repeat(y, counts, axis=0), None
    order = canonical_order(X, y)
    return X[order], y[order], (None if w is None else w[order])


def check_sample_weight(
    owner: str, sample_weight: Any, X: np.ndarray, integers: bool = False
) -> np.ndarray | None:
    """``sample_weight`` of ``owner``'s ``fit`` as float64 ``(n_samples,)``, or None.

    The weights must be finite, non-negative and not all zero (scikit-learn's
    ``_check_sample_weight``, its message prefixed with ``owner``), and with ``integers``
    whole numbers (repeated rows).

    Parameters
    ----------
    owner : str
        The estimator's class name (used in the message).
    sample_weight : array-like of shape (n_samples,), float or None
        The weights given; None stays None.
    X : ndarray of shape (n_samples, n_features)
        The validated training inputs.
    integers : bool, default=False
        Refuse fractional weights, naming the first one and its row.

    Returns
    -------
    ndarray of shape (n_samples,) or None

    Raises
    ------
    ValueError
        For a weight of the wrong shape, negative or non-finite, all zeros, or (with
        ``integers``) fractional.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk._validation._weights import check_sample_weight
    >>> check_sample_weight("Model", [1, 2], np.zeros((2, 1)))
    array([1., 2.])
    >>> check_sample_weight("Model", [1, 0.5], np.zeros((2, 1)), integers=True)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight of Model must be integers (repeated rows), got 0.5 at row 1.
    """
    if sample_weight is None:
        return None
    from sklearn.utils.validation import _check_sample_weight

    try:
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    except ValueError as exc:
        raise ValueError(f"sample_weight of {owner}: {exc}") from None
    if not w.sum() > 0:
        raise ValueError(f"sample_weight of {owner} must have a positive sum, got all zeros.")
    fractional = np.flatnonzero(w != np.round(w)) if integers else []
    if len(fractional):
        i = int(fractional[0])
        raise ValueError(f"sample_weight of {owner} must be integers (repeated rows), "
                         f"got {w[i]} at row {i}.")
    return w
