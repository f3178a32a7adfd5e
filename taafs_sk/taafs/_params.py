"""Checks of TAAFSRegressor's fit inputs and option combinations that scikit-learn's
constraints cannot express statically, and the target scaling. Check functions only check
(and return the checked value): every fitted attribute is set by the estimator itself."""

from __future__ import annotations

import numpy as np

from ._weights import weighted_moments

__all__ = [
    "check_optimizer_options", "refuse_unrepeated_weights", "target_scaling",
]


def check_optimizer_options(estimator) -> None:
    """Refuse a loss or dropout the optimizer cannot honour: the Kalman filter fits squared
    errors of one fixed network."""
    owner = type(estimator).__name__
    if estimator.optimizer == "rlekf" and estimator.loss != "squared_error":
        raise ValueError(
            f"loss={estimator.loss!r} of {owner} cannot be trained with optimizer='rlekf', "
            "whose Kalman update minimises the squared error; use loss='squared_error' or a "
            "gradient optimizer such as 'adam'."
        )
    if estimator.optimizer == "rlekf" and estimator.dropout > 0:
        raise ValueError(
            f"dropout={estimator.dropout!r} of {owner} cannot be trained with "
            "optimizer='rlekf': the Kalman filter linearises one fixed network per update "
            "and its covariance would absorb the dropout noise as signal; use dropout=0.0 "
            "or a gradient optimizer such as 'adam'."
        )


def refuse_unrepeated_weights(estimator, sample_weight, max_repeat: int) -> None:
    """Refuse weights that were not turned into repeated rows when the optimiser is the
    Kalman filter: it weighs every minibatch's update alike, so a per-row weight acts only
    within its minibatch and the fit would not equal the fit on repeated rows."""
    if sample_weight is not None and estimator.optimizer == "rlekf":
        raise ValueError(
            f"sample_weight of {type(estimator).__name__} with optimizer='rlekf' must be "
            f"integers that repeat the rows at most {max_repeat}-fold in all (they are "
            "trained as repeated rows); got fractional or larger weights. The Kalman update "
            "weighs each minibatch alike, so other weights would act only within a minibatch. "
            "Use a gradient optimizer such as 'adam'."
        )


def target_scaling(y2: np.ndarray, sample_weight: np.ndarray | None,
                   scale_target: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` of the targets ``y2`` (n, k), weighted by rows as for repeated rows;
    zeros and ones without ``scale_target``; a constant column gets scale 1.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.taafs._params import target_scaling
    >>> [a.tolist() for a in target_scaling(np.array([[0.0, 1.0], [2.0, 1.0]]), None, True)]
    [[1.0, 1.0], [1.0, 1.0]]
    """
    if not scale_target:
        return np.zeros(y2.shape[1]), np.ones(y2.shape[1])
    mean, scale = weighted_moments(y2, sample_weight)
    return mean, np.where(scale > 0, scale, 1.0)
