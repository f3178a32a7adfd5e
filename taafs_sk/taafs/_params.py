"""Checks of TAAFSRegressor's parameters that scikit-learn's constraints cannot express
statically: basis names read from the registry at ``fit`` time, user-registered bases carried
through pickling (to ``GridSearchCV`` workers, whose parameter grids name them),
``hidden_layer_sizes``; and the target scaling."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._validation import RegisteredNames, warn_user
from ..nn.bases import BASIS_REGISTRY, Basis, available_bases
from ..nn.fixed import FIXED_ACTIVATIONS
from ._weights import weighted_moments

__all__ = [
    "architecture", "basis_names", "check_basis", "check_hidden_layer_sizes",
    "check_optimizer_options", "check_same_architecture", "check_weights", "pop_registered_basis",
    "refuse_fractional_weights",
    "prepare_target", "registered_basis_state",
]

_STATE_KEY = "_registered_basis"


def basis_names() -> RegisteredNames:
    """The constraint on ``basis`` names: registered families, then fixed activations, read
    from the registry at each check (so a family registered after import is accepted)."""
    return RegisteredNames(lambda: [*available_bases(), *FIXED_ACTIVATIONS],
                           hint="add one with taafs_sk.nn.register_basis")


def check_basis(estimator) -> None:
    """Refuse ``basis_kwargs`` together with a Basis instance (its options are its own); warn
    when ``n_basis``, ``sharing`` or ``basis_kwargs`` are set with a fixed activation, which
    has no coefficients for them to shape (a warning, not an error, so that one grid may
    compare trainable bases and fixed activations)."""
    if isinstance(estimator.basis, Basis) and estimator.basis_kwargs:
        raise ValueError(
            f"basis_kwargs of {type(estimator).__name__} must be None when basis is a Basis "
            f"instance ({type(estimator.basis).__name__}), got {estimator.basis_kwargs!r}; "
            "pass the options to the instance instead."
        )
    if isinstance(estimator.basis, str) and estimator.basis in FIXED_ACTIVATIONS:
        unused = {name: getattr(estimator, name) for name, default in _BASIS_ONLY.items()
                  if getattr(estimator, name, default) not in (default, {})}
        if unused:
            shown = ", ".join(f"{k}={v!r}" for k, v in unused.items())
            warn_user(f"{type(estimator).__name__}: {shown} ignored, because "
                      f"basis={estimator.basis!r} is a fixed activation without coefficients.")


def check_optimizer_options(estimator) -> None:
    """Refuse a loss or dropout the optimizer cannot honour: the Kalman filter fits squared
    errors of one fixed network."""
    loss = getattr(estimator, "loss", "squared_error")
    if estimator.optimizer == "rlekf" and loss != "squared_error":
        raise ValueError(
            f"loss={loss!r} of {type(estimator).__name__} cannot be trained with "
            "optimizer='rlekf', whose Kalman update minimises the squared error; use "
            "loss='squared_error' or a gradient optimizer such as 'adam'."
        )
    dropout = getattr(estimator, "dropout", 0.0)
    if estimator.optimizer == "rlekf" and dropout > 0:
        raise ValueError(
            f"dropout={dropout!r} of {type(estimator).__name__} cannot be trained with "
            "optimizer='rlekf': the Kalman filter linearises one fixed network per update "
            "and its covariance would absorb the dropout noise as signal; use dropout=0.0 "
            "or a gradient optimizer such as 'adam'."
        )


# Parameters that only shape trainable activations, with their defaults.
_BASIS_ONLY = {"n_basis": 8, "sharing": "layer", "basis_kwargs": None}


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


def prepare_target(
    estimator, y: np.ndarray, reset: bool, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """``y`` as float32 ``(n_samples, n_outputs)`` in network units; with ``reset``, set the
    estimator's ``_y_ndim``, ``n_outputs_``, ``y_mean_`` and ``y_scale_`` (weighted by
    ``sample_weight``, as for repeated rows) first."""
    y2 = y.reshape(len(y), -1)
    if reset:
        estimator._y_ndim = y.ndim
        estimator.n_outputs_ = y2.shape[1]
        if estimator.scale_target:
            estimator.y_mean_, scale = weighted_moments(y2, sample_weight)
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


def architecture(estimator, hidden: tuple[int, ...]) -> dict:
    """The parameters that fix the network's shape (compared by ``warm_start``)."""
    basis = estimator.basis
    return {
        "hidden_layer_sizes": hidden,
        "basis": basis if isinstance(basis, str) else repr(basis),
        "n_basis": estimator.n_basis,
        "sharing": estimator.sharing,
        "normalization": estimator.normalization,
        "basis_kwargs": repr(estimator.basis_kwargs),
        "skip_connection": estimator.skip_connection,
    }


def check_same_architecture(estimator, hidden: tuple[int, ...]) -> None:
    """Refuse a warm start whose architecture parameters changed since the network was built."""
    before = getattr(estimator, "_architecture", None)
    now = architecture(estimator, hidden)
    changed = [k for k in now if before is not None and before[k] != now[k]]
    if changed:
        k = changed[0]
        raise ValueError(
            f"{k} of {type(estimator).__name__} changed from {before[k]!r} to {now[k]!r} since "
            "the network was built; warm_start=True and partial_fit continue training that "
            "network. Set warm_start=False (or refit) to build a new one."
        )


def check_weights(estimator, sample_weight, X: np.ndarray) -> np.ndarray | None:
    """``sample_weight`` as float64 ``(n_samples,)`` (non-negative, finite, not all zero),
    or None."""
    if sample_weight is None:
        return None
    from sklearn.utils.validation import _check_sample_weight

    try:
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    except ValueError as exc:
        raise ValueError(f"sample_weight of {type(estimator).__name__}: {exc}") from None
    if not w.sum() > 0:
        raise ValueError(f"sample_weight of {type(estimator).__name__} must have a positive "
                         "sum, got all zeros.")
    return w


def refuse_fractional_weights(estimator, sample_weight) -> None:
    """Fractional weights cannot be honoured by the Kalman filter (no per-row weights)."""
    if sample_weight is not None and getattr(estimator, "optimizer", None) == "rlekf":
        raise ValueError(
            "sample_weight of TAAFSRegressor must be integers (repeated rows) with "
            "optimizer='rlekf', whose Kalman update has no per-row weights; got fractional "
            "weights. Use a gradient optimizer such as 'adam'."
        )
