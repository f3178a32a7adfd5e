"""Checks of sequences and arrays: levels, finite arrays, non-empty item lists."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._text import short as _short


def check_levels(
    name: str,
    values: Any,
    minimum: float | None = 0.0,
    include_minimum: bool = True,
    maximum: float | None = None,
    increasing: bool = False,
) -> np.ndarray:
    """Check a non-empty 1-D sequence of finite levels (noise levels, spreads, sizes).

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    values : sequence of float or float
        The levels. A single number is taken as a one-element list.
    minimum : float or None, default=0.0
        Every level must be ``>= minimum`` (``> minimum`` when ``include_minimum`` is False);
        None for no lower bound.
    include_minimum : bool, default=True
        Whether ``minimum`` itself is valid.
    maximum : float or None, default=None
        Every level must be ``<= maximum``; None for no upper bound.
    increasing : bool, default=False
        Require strictly increasing levels.

    Returns
    -------
    ndarray of shape (n_levels,), dtype float64

    Raises
    ------
    TypeError
        If ``values`` is not numeric (strings, None, nested sequences).
    ValueError
        If it is empty, or a level is NaN, infinite, out of range or out of order; the message
        gives its position and value.

    Examples
    --------
    >>> from taafs_sk._validation import check_levels
    >>> check_levels("noise_levels", [0.0, 0.01, 0.1])
    array([0.  , 0.01, 0.1 ])
    >>> check_levels("noise_levels", [])
    Traceback (most recent call last):
    ...
    ValueError: noise_levels must be a non-empty sequence of numbers, got [].
    >>> check_levels("noise_levels", [0.1, -0.2])
    Traceback (most recent call last):
    ...
    ValueError: noise_levels must be >= 0.0, got -0.2 at position 1.
    """
    arr = _as_levels(name, values)
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must contain finite numbers, got {arr[i]} at position {i}.")
    _check_bounds(name, arr, minimum, include_minimum, maximum)
    if increasing and arr.size > 1 and not (np.diff(arr) > 0).all():
        i = int(np.argmax(np.diff(arr) <= 0)) + 1
        raise ValueError(f"{name} must be strictly increasing, got {arr[i]} after {arr[i - 1]} "
                         f"at position {i}.")
    return arr


def _as_levels(name: str, values: Any) -> np.ndarray:
    """``values`` (a real number or a sequence of them) as a non-empty 1-D float64 array;
    ``TypeError`` for anything else, naming the first item that is not a number."""
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{name} must be a sequence of numbers, got {_short(values)}.")
    if isinstance(values, bool):
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r} (bool).")
    if isinstance(values, numbers.Real):
        values = [values]
    try:
        raw = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of numbers, got {_short(values)} "
                        f"({type(values).__name__}).") from None
    for i, v in enumerate(raw):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must be a sequence of numbers, got {_short(v)} "
                            f"({type(v).__name__}) at position {i}.")
    arr = np.asarray(raw, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} must be a non-empty sequence of numbers, got {_short(raw)}.")
    return arr


def _check_bounds(name: str, arr: np.ndarray, minimum: float | None, include_minimum: bool,
                  maximum: float | None) -> None:
    """``ValueError`` naming the first level of ``arr`` outside the bounds and its position."""
    if minimum is not None:
        bad = arr < minimum if include_minimum else arr <= minimum
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name} must be {'>=' if include_minimum else '>'} {minimum}, "
                             f"got {arr[i]} at position {i}.")
    if maximum is not None and (arr > maximum).any():
        i = int(np.argmax(arr > maximum))
        raise ValueError(f"{name} must be <= {maximum}, got {arr[i]} at position {i}.")


def check_finite_array(
    name: str,
    X: Any,
    ndim: int | tuple[int, ...] | None = None,
    min_rows: int = 1,
    allow_nan: bool = False,
) -> np.ndarray:
    """Convert ``X`` to a float64 array and check it is non-empty, numeric and finite.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    X : array-like
        The data.
    ndim : int, tuple of int or None, default=None
        The accepted number(s) of dimensions (any when None).
    min_rows : int, default=1
        The fewest rows (length of the first axis) accepted.
    allow_nan : bool, default=False
        Accept NaN (infinities are always refused).

    Returns
    -------
    ndarray of dtype float64

    Raises
    ------
    TypeError
        If ``X`` cannot be read as numbers.
    ValueError
        If it has the wrong number of dimensions, too few rows, or a NaN or infinite entry;
        the message gives the first bad entry's index.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk._validation import check_finite_array
    >>> check_finite_array("X", [[1, 2], [3, 4]], ndim=2).shape
    (2, 2)
    >>> check_finite_array("X", [[1, 2], [3, np.inf]], ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: X must be finite, got inf at index (1, 1) (row 1).
    """
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name} must be an array of numbers, got {_short(X)}.")
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {_short(X)} "
                        f"({type(X).__name__}): {exc}") from None
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            raise ValueError(f"{name} must have {' or '.join(map(str, dims))} dimension(s), "
                             f"got an array of shape {arr.shape}.")
    rows = arr.shape[0] if arr.ndim else 1
    if arr.size == 0 or rows < min_rows:
        raise ValueError(f"{name} must have at least {max(min_rows, 1)} row(s) and be "
                         f"non-empty, got an array of shape {arr.shape}.")
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), arr.shape)
        where = tuple(int(i) for i in idx)
        where_text = where[0] if len(where) == 1 else where
        row = f" (row {where[0]})" if arr.ndim > 1 else ""
        raise ValueError(f"{name} must be finite, got {arr[idx]} at index {where_text}{row}.")
    return arr


def check_non_empty(name: str, values: Any) -> list:
    """Check that ``values`` is a non-empty iterable (not a string); return it as a list.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    values : iterable
        The items (molecules, compositions, structures, ...).

    Returns
    -------
    list

    Raises
    ------
    TypeError
        If ``values`` is a string, None or not iterable.
    ValueError
        If it is empty.

    Examples
    --------
    >>> from taafs_sk._validation import check_non_empty
    >>> check_non_empty("smiles", ("CC", "CCC"))
    ['CC', 'CCC']
    >>> check_non_empty("smiles", [])
    Traceback (most recent call last):
    ...
    ValueError: smiles must contain at least one item, got [].
    """
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{name} must be a list of items, got {_short(values)}; "
                        "wrap a single item in a list.")
    if hasattr(values, "iloc") and hasattr(values, "ndim") and values.ndim == 2:
        values = [row for _, row in values.iterrows()]  # a DataFrame: one item per row
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a list of items, got {_short(values)} "
                        f"({type(values).__name__}).") from None
    if not items:
        raise ValueError(f"{name} must contain at least one item, got {_short(values)}.")
    return items
