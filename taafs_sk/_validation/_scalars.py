"""Checks of single values: counts, real numbers, string choices."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._text import short as _short


def check_count(
    name: str, value: Any, minimum: int = 1, maximum: int | None = None
) -> int:
    """Check that ``value`` is an integer count in ``[minimum, maximum]``; return it as ``int``.

    Parameters
    ----------
    name : str
        The parameter's name, as the user wrote it (used in the message).
    value : object
        The value given. Python and numpy integers are accepted; ``bool``, floats (even
        integral ones such as ``3.0``) and strings are refused.
    minimum : int, default=1
        The smallest valid count.
    maximum : int or None, default=None
        The largest valid count (no limit when None).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If it lies outside ``[minimum, maximum]``.

    Examples
    --------
    >>> from taafs_sk._validation import check_count
    >>> check_count("n_draws", 5)
    5
    >>> check_count("n_draws", 0)
    Traceback (most recent call last):
    ...
    ValueError: n_draws must be an integer >= 1, got 0.
    >>> check_count("n_draws", 2.5)
    Traceback (most recent call last):
    ...
    TypeError: n_draws must be an integer, got 2.5 (float).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_short(value)} ({type(value).__name__}).")
    value = int(value)
    bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {bounds}, got {value}.")
    return value


def check_real(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    include_minimum: bool = True,
    include_maximum: bool = True,
) -> float:
    """Check that ``value`` is a finite real number within the given bounds; return a float.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    value : object
        The value given (Python or numpy real; ``bool`` and strings are refused).
    minimum, maximum : float or None, default=None
        Bounds (none when None).
    include_minimum, include_maximum : bool, default=True
        Whether the bounds themselves are valid.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN, infinite or out of bounds.

    Examples
    --------
    >>> from taafs_sk._validation import check_real
    >>> check_real("spread", 0.1, minimum=0.0)
    0.1
    >>> check_real("spread", float("nan"), minimum=0.0)
    Traceback (most recent call last):
    ...
    ValueError: spread must be a finite number, got nan.
    >>> check_real("spread", -1, minimum=0.0)
    Traceback (most recent call last):
    ...
    ValueError: spread must be >= 0.0, got -1.0.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_short(value)} "
                        f"({type(value).__name__}).")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}.")
    if minimum is not None and (value < minimum or (not include_minimum and value == minimum)):
        raise ValueError(f"{name} must be {'>=' if include_minimum else '>'} {minimum}, "
                         f"got {value}.")
    if maximum is not None and (value > maximum or (not include_maximum and value == maximum)):
        raise ValueError(f"{name} must be {'<=' if include_maximum else '<'} {maximum}, "
                         f"got {value}.")
    return value


def check_choice(name: str, value: Any, options: Sequence[str]) -> str:
    """Check that ``value`` is one of the strings ``options``; return it.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    value : object
        The value given.
    options : sequence of str
        The valid values, in the order the message lists them.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If it is not among ``options``.

    Examples
    --------
    >>> from taafs_sk._validation import check_choice
    >>> check_choice("kind", "rmse", ["rmse", "mae"])
    'rmse'
    >>> check_choice("kind", "r2", ["rmse", "mae"])
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of 'rmse', 'mae', got 'r2'.
    """
    listed = ", ".join(repr(o) for o in options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {listed}, got {_short(value)} "
                        f"({type(value).__name__}).")
    if value not in options:
        raise ValueError(f"{name} must be one of {listed}, got {value!r}.")
    return value
