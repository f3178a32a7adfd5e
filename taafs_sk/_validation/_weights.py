"""Sample weights as repeated rows, and a canonical row order.

A row of integer weight ``k`` counts as ``k`` copies of it. Estimators whose fit depends on
the order or the number of rows (minibatches, validation splits, random subsets) honour
that exactly by training on the repeated rows, in an order that depends only on the rows'
values, so that a weighted fit and a fit on the repeated (and shuffled) data see the same
data, bit for bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["canonical_order", "repeat_weighted_rows"]


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
