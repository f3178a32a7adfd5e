"""Argument checks of the analog package's public functions (not estimators: those use
``_parameter_constraints``): the shared helpers of :mod:`taafs_sk._validation`, with the
calling function's name put in front of their message (``TypeError`` / ``ValueError``
naming the parameter and the bad value)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._validation import check_count as _count
from .._validation import check_finite_array as _finite
from .._validation import check_levels as _levels
from .._validation import check_real as _real

__all__ = ["check_count", "check_levels", "check_shape_params", "check_spread",
           "check_torch_model"]


def _prefixed(where: str, check: Callable, *args, **kwargs):
    try:
        return check(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def check_count(value, name: str, where: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum``.

    Examples
    --------
    >>> from taafs_sk.analog._checks import check_count
    >>> check_count(3, "n_draws", "noise_sweep")
    3
    """
    return _prefixed(where, _count, name, value, minimum=minimum)


def check_levels(levels, name: str, where: str) -> np.ndarray:
    """A non-empty 1-D sequence of finite non-negative numbers, as a float array."""
    return _prefixed(where, _levels, name, levels, minimum=0.0)


def check_spread(value, name: str, where: str) -> float:
    """A finite number ``>= 0``."""
    return _prefixed(where, _real, name, value, minimum=0.0)


def check_torch_model(model, name: str, where: str):
    """Refuse anything but a :class:`~taafs_sk.analog.TorchModel` (an estimator is named with
    the fix: pass ``as_torch_model(estimator)``)."""
    from ._adapters import TorchModel

    if not isinstance(model, TorchModel):
        hint = (" (an estimator: pass taafs_sk.analog.as_torch_model(estimator))"
                if hasattr(model, "fit") else "")
        raise TypeError(
            f"{where}: {name} must be a TorchModel{hint}; got {type(model).__name__}.")
    return model


def check_shape_params(where: str, **params) -> dict[str, np.ndarray]:
    """Per-neuron shape parameters (``gain=..., shift=...``) as finite 1-D float arrays of one
    length (tensors are read on the CPU).

    Examples
    --------
    >>> from taafs_sk.analog._checks import check_shape_params
    >>> check_shape_params("f", gain=[1.0, 2.0], shift=[0.0])
    Traceback (most recent call last):
    ...
    ValueError: f: shift has 1 value(s) but gain has 2: one per neuron is needed.
    """
    out: dict[str, np.ndarray] = {}
    for name, value in params.items():
        if hasattr(value, "detach"):  # a tensor
            value = value.detach().cpu().numpy()
        out[name] = _prefixed(where, _finite, name, value, ndim=1)
    first = next(iter(out), None)
    for name, arr in out.items():
        if len(arr) != len(out[first]):
            raise ValueError(f"{where}: {name} has {len(arr)} value(s) but {first} has "
                             f"{len(out[first])}: one per neuron is needed.")
    return out
