"""What every featurizer checks before scikit-learn sees a batch of entries."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["_check_batch", "_sized"]


def _sized(X: Any) -> bool:
    try:
        len(X)
    except TypeError:
        return False
    return True


def _check_batch(owner: str, name: str, X: Any) -> None:
    """Refuse what cannot be a batch of entries (None, a number, an empty batch) with the
    parameter's name, before scikit-learn's checks see it."""
    if isinstance(X, str | bytes):
        return  # _as_entries explains how to wrap a single entry
    if X is None or not _sized(X) or np.ndim(X) == 0:
        raise TypeError(f"{name} of {owner} must be a list, array, Series or DataFrame of "
                        f"entries, got {X!r} ({type(X).__name__}).")
    if len(X) == 0:
        shape = getattr(X, "shape", (0,))
        raise ValueError(f"{name} of {owner} must hold at least 1 entry, got an empty "
                         f"{type(X).__name__} of shape {tuple(shape)}.")
