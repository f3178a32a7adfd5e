"""The optimisers every estimator trains with, by name: one registry, one training-step rule.

``TAAFSRegressor(optimizer=...)``, ``TAAFSPotential(optimizer=...)`` and
:func:`~taafs_sk.taafs.training.build_net` read :data:`OPTIMIZER_REGISTRY` when they are
fitted, so a class added with :func:`register_optimizer` is a valid name everywhere, and
travels with pickled estimators (to ``GridSearchCV`` workers) like the basis families.

The optimiser's class also decides the training step, by one rule:

- a class with a ``measure(prediction, target, scale=None, weight=None)`` method (the
  measurement protocol of :class:`~taafs_sk.nn.rlekf.RLEKF`) is trained by *measurements*:
  each minibatch's errors, grouped by the loss (see
  :class:`~taafs_sk.taafs.net.TrainingNet`), each group one update;
- every other ``torch.optim.Optimizer`` is trained by gradients: ``loss.backward()`` then
  ``step()``.

Examples
--------
>>> import torch
>>> from taafs_sk.nn.optimizers import (available_optimizers, is_measurement_optimizer,
...                                     optimizer_class, register_optimizer)
>>> available_optimizers()
['adam', 'adamw', 'sgd', 'rmsprop', 'rlekf']
>>> is_measurement_optimizer(optimizer_class("rlekf")), is_measurement_optimizer(torch.optim.SGD)
(True, False)
>>> _ = register_optimizer("nadam", torch.optim.NAdam)
>>> optimizer_class("nadam").__name__
'NAdam'
>>> OPTIMIZER_REGISTRY.unregister("nadam")
"""

from __future__ import annotations

import torch

from .._registry import Registry
from .rlekf import RLEKF

__all__ = [
    "OPTIMIZER_REGISTRY", "available_optimizers", "is_measurement_optimizer",
    "optimizer_class", "register_optimizer",
]

#: Optimiser classes by name (built-in: Adam, AdamW, SGD, RMSprop and the Kalman filter).
OPTIMIZER_REGISTRY = Registry(
    torch.optim.Optimizer,
    {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "sgd": torch.optim.SGD,
        "rmsprop": torch.optim.RMSprop,
        "rlekf": RLEKF,
    },
    what="optimizer",
    register_name="taafs_sk.nn.register_optimizer",
    base_path="torch.optim.Optimizer",
)


def register_optimizer(name: str, cls: type, *, overwrite: bool = False) -> type:
    """Make ``name`` a valid ``optimizer`` of every estimator and of ``build_net``.

    Parameters
    ----------
    name : str
        The name (a built-in name only with ``overwrite=True``).
    cls : type
        A ``torch.optim.Optimizer`` subclass, called as ``cls(params, lr=..., **options)``
        (a measurement optimiser, with ``measure``, is trained by measurements: see the
        module docstring).
    overwrite : bool, default=False
        Replace a built-in name or a name given to another class.

    Returns
    -------
    cls : type
        The registered class (so this works as a decorator's body).
    """
    return OPTIMIZER_REGISTRY.register(name, cls, overwrite=overwrite)


def available_optimizers() -> list[str]:
    """The registered optimiser names, built-in first."""
    return OPTIMIZER_REGISTRY.names()


def optimizer_class(optimizer) -> type[torch.optim.Optimizer]:
    """The class of ``optimizer``: a registered name, or an ``Optimizer`` subclass as given.

    Raises
    ------
    ValueError
        For an unknown name (listing the valid ones).
    TypeError
        For anything that is neither a name nor an ``Optimizer`` subclass.
    """
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZER_REGISTRY.classes:
            raise ValueError(
                f"optimizer must be one of {available_optimizers()} (add one with "
                f"taafs_sk.nn.register_optimizer) or a torch.optim.Optimizer class, got "
                f"{optimizer!r}."
            )
        return OPTIMIZER_REGISTRY.classes[optimizer]
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    raise TypeError(
        f"optimizer must be a registered name or a torch.optim.Optimizer class, got "
        f"{optimizer!r} ({type(optimizer).__name__})."
    )


def is_measurement_optimizer(optimizer) -> bool:
    """Whether ``optimizer`` (a registered name, a class or an instance) is trained by
    measurements.

    Examples
    --------
    >>> from taafs_sk.nn.optimizers import is_measurement_optimizer
    >>> is_measurement_optimizer("rlekf"), is_measurement_optimizer("adam")
    (True, False)
    """
    if isinstance(optimizer, str):
        optimizer = optimizer_class(optimizer)
    return callable(getattr(optimizer, "measure", None))
