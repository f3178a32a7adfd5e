"""The one table of fixed (non-trainable) activation functions.

Everything that needs an activation by name reads it from here: the TAAF factory
(``basis='tanh'`` is the baseline), the hardware activation shapes of :mod:`taafs_sk.analog`
(which also need the span of each function's output), the adapter that turns a fitted
scikit-learn ``MLPRegressor`` into a torch network (scikit-learn says ``'logistic'`` where torch
says sigmoid), and the plots that grey out fixed-activation rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

__all__ = [
    "FIXED", "FIXED_ACTIVATIONS", "SKLEARN_ACTIVATIONS", "FixedActivation", "fixed_activation",
]


@dataclass(frozen=True)
class FixedActivation:
    """A named elementwise activation.

    Parameters
    ----------
    module : type of torch.nn.Module
        Class whose instance (built with no arguments) computes the function.
    span : float or None
        Width of the function's output over the inputs a neuron sees (1 for a sigmoid, 2 for
        ``tanh``; 1 as the reference scale for the unbounded ones). ``None`` where a
        hardware shape cannot be dispersed around it (``identity``, ``leaky_relu``).
    """

    module: type[nn.Module]
    span: float | None

    def __post_init__(self) -> None:
        if not (isinstance(self.module, type) and issubclass(self.module, nn.Module)):
            raise TypeError(f"FixedActivation: module must be a torch.nn.Module class, got "
                            f"{self.module!r} ({type(self.module).__name__}).")
        if self.span is not None and not (isinstance(self.span, (int, float))
                                          and not isinstance(self.span, bool)
                                          and 0 < self.span < float("inf")):
            raise ValueError(f"FixedActivation: span must be None or a positive finite "
                             f"number, got {self.span!r}.")


FIXED: dict[str, FixedActivation] = {
    "tanh": FixedActivation(nn.Tanh, 2.0),
    "sigmoid": FixedActivation(nn.Sigmoid, 1.0),
    "relu": FixedActivation(nn.ReLU, 1.0),
    "silu": FixedActivation(nn.SiLU, 1.0),
    "gelu": FixedActivation(nn.GELU, 1.0),
    "elu": FixedActivation(nn.ELU, 1.0),
    "softplus": FixedActivation(nn.Softplus, 1.0),
    "leaky_relu": FixedActivation(nn.LeakyReLU, None),
    "identity": FixedActivation(nn.Identity, None),
}

#: Name -> module class, for every fixed activation.
FIXED_ACTIVATIONS: dict[str, type[nn.Module]] = {k: v.module for k, v in FIXED.items()}

#: scikit-learn's ``MLPRegressor(activation=...)`` names -> names in :data:`FIXED`.
SKLEARN_ACTIVATIONS: dict[str, str] = {
    "identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
}


def fixed_activation(name: str) -> nn.Module:
    """A new module computing the fixed activation ``name``.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn import fixed_activation
    >>> fixed_activation("tanh")(torch.zeros(2)).tolist()
    [0.0, 0.0]
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (one of {sorted(FIXED)}), got {name!r} "
                        f"({type(name).__name__}).")
    if name not in FIXED:
        raise ValueError(f"Unknown fixed activation {name!r}; use one of {sorted(FIXED)}.")
    return FIXED[name].module()
