"""Argument types of the ``taafs-sk`` options: argparse reports a bad value in one line."""

from __future__ import annotations

import argparse
import math

__all__ = ["floats", "ints", "names", "architectures", "positive_int", "positive_float",
           "n_jobs"]


def _items(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if not text.strip() or any(not t for t in items):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {what}, "
                                         f"got {text!r}")
    return items


def floats(text: str) -> tuple[float, ...]:
    """``'0,0.01,0.05'`` -> ``(0.0, 0.01, 0.05)``: finite numbers >= 0."""
    out = []
    for item in _items(text, "numbers >= 0"):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r} in {text!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(f"{item!r} in {text!r} is not a number >= 0")
        out.append(value)
    return tuple(out)


def ints(text: str) -> tuple[int, ...]:
    """``'8,16,32'`` -> ``(8, 16, 32)``: positive integers."""
    return tuple(_positive(item, f" in {text!r}") for item in _items(text, "positive integers"))


def names(text: str) -> tuple[str, ...]:
    """``'tanh,bspline'`` -> ``('tanh', 'bspline')`` (checked against the valid names later)."""
    return tuple(_items(text, "names"))


def architectures(text: str) -> tuple[tuple[int, ...], ...]:
    """``'32,32-32'`` -> ``((32,), (32, 32))``: hidden sizes joined by '-', networks by ','."""
    return tuple(architecture(item) for item in _items(text, "architectures such as 32-32"))


def architecture(text: str) -> tuple[int, ...]:
    """``'32-16'`` -> ``(32, 16)``."""
    parts = text.split("-")
    return tuple(_positive(p, f" in architecture {text!r} (sizes joined by '-')") for p in parts)


def _positive(item: str, where: str = "") -> int:
    try:
        value = int(item)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{item!r}{where} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{item!r}{where} is not a positive integer")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _positive(text)


def positive_float(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number > 0")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    (value,) = floats(text)
    return value


def n_jobs(text: str) -> int:
    """joblib's ``n_jobs``: a positive integer, or -1 (every core), -2 (all but one), ..."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a valid number of jobs (use 1, 2, ... or -1 "
                                         "for every core)")
    return value
