"""Checks of TAAFSRegressor's parameters that scikit-learn's constraints cannot express
statically: basis names read from the registry at ``fit`` time, user-registered bases carried
through pickling (to ``GridSearchCV`` workers, whose parameter grids name them),
``hidden_layer_sizes``; and the target scaling."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ..nn.bases import BASES, Basis, available_bases, register_basis, user_bases
from ..nn.fixed import FIXED_ACTIVATIONS

try:  # joblib >= 1.6 requires it; by value for classes defined in __main__
    import cloudpickle
except ImportError:  # pragma: no cover - plain pickle: classes by reference only
    import pickle as cloudpickle

__all__ = [
    "BasisNames", "check_basis", "check_hidden_layer_sizes", "pop_registered_basis",
    "prepare_target", "registered_basis_state",
]

_STATE_KEY = "_registered_basis"


class BasisNames(StrOptions):
    """The basis names valid *now*: registered families, then fixed activations.

    ``StrOptions`` with options read from :data:`taafs_sk.nn.bases.BASES` at each check, so a
    family registered after import is accepted and the error message lists it.
    """

    def __init__(self) -> None:  # not StrOptions.__init__: the options are not stored
        self.hidden = False
        self.type = str
        self.deprecated = set()

    @property
    def options(self) -> list[str]:
        return [*available_bases(), *FIXED_ACTIVATIONS]


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
    """``state`` plus the user-registered basis families, each cloudpickled on its own (a
    class that cannot be pickled is left out)."""
    carried = {}
    for name, cls in user_bases().items():
        try:
            carried[name] = cloudpickle.dumps(cls)
        except Exception:  # noqa: BLE001 - e.g. a local class under plain pickle rules
            continue
    return {**state, _STATE_KEY: carried} if carried else state


def pop_registered_basis(state: dict) -> dict:
    """Register the families carried by a pickled state that are not known here yet (a
    fresh worker process), and return the state without them. A family whose class cannot
    be restored here (its module is missing) is skipped: ``fit`` then names the valid ones."""
    state = dict(state)
    for name, blob in state.pop(_STATE_KEY, {}).items():
        if name in BASES:
            continue
        try:
            cls = cloudpickle.loads(blob)
        except Exception:  # noqa: BLE001 - ImportError, AttributeError, ...
            continue
        register_basis(name, cls)
    return state


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
