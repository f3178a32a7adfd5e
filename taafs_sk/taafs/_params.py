"""Checks of TAAFSRegressor's parameters that scikit-learn's constraints cannot express
statically: basis names read from the registry at ``fit`` time, user-registered bases carried
through pickling (to ``GridSearchCV`` workers, whose parameter grids name them),
``hidden_layer_sizes``; and the target scaling."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._validation import RegisteredNames
from ..nn.bases import BASIS_REGISTRY, Basis, available_bases
from ..nn.fixed import FIXED_ACTIVATIONS

__all__ = [
    "basis_names", "check_basis", "check_hidden_layer_sizes", "pop_registered_basis",
    "prepare_target", "registered_basis_state",
]

_STATE_KEY = "_registered_basis"


def basis_names() -> RegisteredNames:
    """The constraint on ``basis`` names: registered families, then fixed activations, read
    from the registry at each check (so a family registered after import is accepted)."""
    return RegisteredNames(lambda: [*available_bases(), *FIXED_ACTIVATIONS],
                           hint="add one with taafs_sk.nn.register_basis")


def check_basis(estimator) -> None:
    """Refuse ``basis_kwargs`` together with a Basis instance (its options are its own)."""
    if isinstance(estimator.basis, Basis) and estimator.basis_kwargs:
        raise ValueError(
            f"basis_kwargs of {type(estimator).__name__} must be None when basis is a Basis "
            f"instance ({type(estimator.basis).__name__}), got {estimator.basis_kwargs!r}; "
            "pass the options to the instance instead."
        )


def check_hidden_layer_sizes(sizes, owner: str = "TAAFSRegressor") -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (an int means one layer)."""
    seq = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
    if any(not isinstance(h, Integral) or isinstance(h, bool) or h < 1 for h in seq):
        raise ValueError(
            f"hidden_layer_sizes of {owner} must be positive integers, got {sizes!r}."
        )
    return tuple(int(h) for h in seq)


def registered_basis_state(state: dict) -> dict:
    """``state`` plus the user-registered basis families (to ``GridSearchCV`` workers)."""
    return BASIS_REGISTRY.add_to_state(state, _STATE_KEY)


def pop_registered_basis(state: dict) -> dict:
    """Register the families a pickled state carries and return the state without them."""
    return BASIS_REGISTRY.restore_from_state(state, _STATE_KEY, "TAAFSRegressor")


def prepare_target(estimator, y: np.ndarray, reset: bool) -> np.ndarray:
    """``y`` as float32 ``(n_samples, n_outputs)`` in network units; with ``reset``, set the
    estimator's ``_y_ndim``, ``n_outputs_``, ``y_mean_`` and ``y_scale_`` first."""
    y2 = y.reshape(len(y), -1)
    if reset:
        estimator._y_ndim = y.ndim
        estimator.n_outputs_ = y2.shape[1]
        if estimator.scale_target:
            estimator.y_mean_ = y2.mean(axis=0)
            scale = y2.std(axis=0)
            estimator.y_scale_ = np.where(scale > 0, scale, 1.0)
        else:
            estimator.y_mean_ = np.zeros(estimator.n_outputs_)
            estimator.y_scale_ = np.ones(estimator.n_outputs_)
    elif y2.shape[1] != estimator.n_outputs_:
        raise ValueError(
            f"y has {y2.shape[1]} outputs, but {type(estimator).__name__} was fitted with "
            f"{estimator.n_outputs_}."
        )
    return ((y2 - estimator.y_mean_) / estimator.y_scale_).astype(np.float32)
