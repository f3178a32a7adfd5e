"""Argument checks of the analog package's public functions (not estimators: those use
``_parameter_constraints``) that :mod:`taafs_sk._validation` has no check for: the torch model
and the per-neuron shape parameters.

The scalar and array checks are :mod:`taafs_sk._validation`'s, called with the calling
function's name in front of the parameter's (``check_count("noise_sweep: n_draws", n)``), so
that their ``TypeError`` / ``ValueError`` messages name both.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_count, check_finite_array, check_real
from .._validation._text import short

__all__ = ["check_nafs", "check_neuron_input", "check_shape_params", "check_targets",
           "check_torch_model", "check_training"]


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
        out[name] = check_finite_array(f"{where}: {name}", value, ndim=1)
    first = next(iter(out), None)
    for name, arr in out.items():
        if len(arr) != len(out[first]):
            raise ValueError(f"{where}: {name} has {len(arr)} value(s) but {first} has "
                             f"{len(out[first])}: one per neuron is needed.")
    return out


def check_training(where: str, *, epochs, lr, batch_size, validation_fraction=None,
                   patience=None) -> dict:
    """The training options of a retraining function, checked under their own names
    (``retrain_weights: epochs``, not the ``max_epochs`` of the net they end up in); those
    given as None are left out (``train_model``'s defaults are None).

    Examples
    --------
    >>> from taafs_sk.analog._checks import check_training
    >>> check_training("f", epochs=2, lr=0.1, batch_size=8)["epochs"]
    2
    >>> check_training("f", epochs=2, lr=0.1, batch_size=8, validation_fraction=1.5)
    Traceback (most recent call last):
    ...
    ValueError: f: validation_fraction must be < 1.0, got 1.5.
    """
    out = {"epochs": check_count(f"{where}: epochs", epochs),
           "lr": check_real(f"{where}: lr", lr, minimum=0.0, include_minimum=False),
           "batch_size": check_count(f"{where}: batch_size", batch_size),
           "validation_fraction": validation_fraction, "patience": patience}
    if validation_fraction is not None:
        out["validation_fraction"] = check_real(
            f"{where}: validation_fraction", validation_fraction, minimum=0.0, maximum=1.0,
            include_minimum=False, include_maximum=False)
    if patience is not None:
        out["patience"] = check_count(f"{where}: patience", patience)
    return {k: v for k, v in out.items() if v is not None}


def check_nafs(where: str, nafs, *, measured_pool: bool = False):
    """A source of hardware shapes: a valid :class:`~taafs_sk.analog.NAFDispersion` (its
    ``base``, ``spread`` and ``params`` checked now, not at the first draw inside a training
    loop), a :class:`~taafs_sk.analog.MeasuredNAF` (its curves checked), or, unless
    ``measured_pool``, any object with a ``realize(n_neurons, random_state)`` method.

    Examples
    --------
    >>> from taafs_sk.analog import NAFDispersion
    >>> from taafs_sk.analog._checks import check_nafs
    >>> check_nafs("f", NAFDispersion("tanh", spread=float("nan")))
    Traceback (most recent call last):
    ...
    ValueError: NAFDispersion: spread must be a finite number, got nan.
    """
    from .naf import MeasuredNAF, NAFDispersion

    if isinstance(nafs, NAFDispersion):
        nafs._validate()
    elif isinstance(nafs, MeasuredNAF):
        nafs._tables()
    elif measured_pool or not callable(getattr(nafs, "realize", None)):
        kinds = "a NAFDispersion or MeasuredNAF" + ("" if measured_pool else
                                                     " (or an object with realize())")
        raise TypeError(f"{where}: nafs must be {kinds}; got {short(nafs)} "
                        f"({type(nafs).__name__}).")
    return nafs


def check_targets(where: str, name: str, y, n_samples: int, x_name: str = "X") -> np.ndarray:
    """``y`` as a finite float array of ``n_samples`` rows (1-D or 2-D), or a ``ValueError``
    naming ``name``, the first bad entry and its row.

    Examples
    --------
    >>> from taafs_sk.analog._checks import check_targets
    >>> check_targets("f", "y", [1.0, 2.0], n_samples=3)
    Traceback (most recent call last):
    ...
    ValueError: f: y has 2 rows but X has 3; one target per sample is needed.
    """
    y = check_finite_array(f"{where}: {name}", y, ndim=(1, 2))
    if len(y) != n_samples:
        raise ValueError(f"{where}: {name} has {len(y)} rows but {x_name} has {n_samples}; "
                         "one target per sample is needed.")
    return y


def check_neuron_input(where: str, z, n_neurons: int) -> None:
    """Refuse an input that a per-neuron activation of ``n_neurons`` cannot take: not a
    floating tensor (``TypeError``), or a last axis of another length (``ValueError``)."""
    if not hasattr(z, "is_floating_point") or not z.is_floating_point():
        got = f"dtype {z.dtype}" if hasattr(z, "dtype") else type(z).__name__
        raise TypeError(f"{where}: z must be a floating torch.Tensor of shape (..., "
                        f"{n_neurons}), got {got}.")
    if z.dim() == 0 or z.shape[-1] != n_neurons:
        raise ValueError(f"{where}: z must have shape (..., {n_neurons}) (one entry per "
                         f"neuron on the last axis), got {tuple(z.shape)}.")
