"""Steps of ``AdditiveKernelNN.fit``: its weights, the hidden layer and the final solve."""

from __future__ import annotations

import numpy as np

from .._validation import warn_user
from ._directions import refine_directions
from ._export import NeuronActivation
from ._likelihood import Hyperparameters, MarginalLikelihood
from ._solvers import ExactSolver, InducingSolver

__all__ = ["finish", "hyperparameters", "integer_weights", "previous_directions", "safe_range",
           "set_hidden_layer", "solve", "warn_if_optimize_weights_ignored"]

HYPER_SUBSET = {"exact": 2000, "inducing": 1000}  # samples (at most) the likelihood sees


def hyperparameters(self, xs, directions, metric, t, rng, refine: bool = True):
    """Likelihood on (a subset of) the data and the chosen hyperparameters (with ``refine``,
    after ``optimize_weights`` rounds of direction refinement)."""
    kernel = self.kernel_
    n, d = directions.shape
    ls = np.broadcast_to(np.asarray(self.length_scale, dtype=float), (n,)).copy()
    h = Hyperparameters(ls, np.full(n, 1.0 / n), float(self.alpha), np.ones(d))
    idx = np.arange(len(t))
    if self.optimize and len(t) > HYPER_SUBSET[self.solver_]:
        idx = np.sort(rng.choice(len(t), HYPER_SUBSET[self.solver_], replace=False))
    ml = MarginalLikelihood(kernel, xs[idx], directions, t[idx])
    if not self.optimize:
        return ml, h
    options = {"ard": self.ard and kernel.stationary, "per_neuron": self.per_neuron}
    h, _ = ml.optimize(h, n_restarts=self.n_restarts_optimizer, **options)
    if self.optimize_weights == 0 or not refine:
        return ml, h
    # Monte-Carlo refinement of the directions at fixed hyperparameters
    directions, accepted = refine_directions(ml, h, self.optimize_weights, rng, metric)
    if accepted:  # no re-optimisation: it would shrink the noise to the chosen directions
        ml = MarginalLikelihood(kernel, xs[idx], directions, t[idx])
    return ml, h


def set_hidden_layer(self, ml, h, xs, x_min, x_range) -> np.ndarray:
    """Hidden weights and biases from the likelihood's coordinates, rescaled to [0, 1] on
    the training data (``z = (y - lo) / span``); returns ``span``."""
    a, b = ml.affine(h.feature_scale)  # the likelihood's coordinates: xs @ a.T + b
    proj = xs @ a.T + b  # (M, N)
    lo = proj.min(0)
    span = safe_range(np.ptp(proj, axis=0))
    w_xs = a / span[:, None]  # acts on xs
    self.hidden_weights_ = w_xs / x_range
    self.hidden_bias_ = (b - lo) / span - self.hidden_weights_ @ x_min
    self.directions_ = w_xs / np.linalg.norm(w_xs, axis=1, keepdims=True)
    self.feature_scale_ = h.feature_scale
    return span

def solve(self, z, t, h, rng):
    """The fitted exact or inducing solver for coordinates ``z`` and targets ``t``."""
    if self.solver_ == "exact":
        self.n_inducing_ = None
        return ExactSolver(self.kernel_, z).fit(t, h)
    # resolution needed where the data is: l against the central 90% of coordinates
    width = np.subtract(*np.quantile(z, [0.95, 0.05], axis=1)) / 0.9
    resolution = (h.length_scale / np.where(width > 0, width, 1.0)).min()
    self.n_inducing_ = self.n_inducing or int(np.clip(np.ceil(2.5 / resolution) + 1, 16, 64))
    return InducingSolver(self.kernel_, self.n_inducing_, h).fit(z, t, rng, self.optimize)


def integer_weights(sample_weight, X: np.ndarray) -> np.ndarray | None:
    """Validated non-negative integer weights (None stays None); fractional ones refused."""
    if sample_weight is None:
        return None
    from sklearn.utils.validation import _check_sample_weight

    try:
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    except ValueError as exc:
        raise ValueError(f"sample_weight of AdditiveKernelNN: {exc}") from None
    if not w.sum() > 0:
        raise ValueError("sample_weight of AdditiveKernelNN must have a positive sum, got all "
                         "zeros.")
    fractional = np.flatnonzero(w != np.round(w))
    if fractional.size:
        i = int(fractional[0])
        raise ValueError(f"sample_weight of AdditiveKernelNN must be integers (repeated rows), "
                         f"got {w[i]} at row {i}.")
    return w


def safe_range(r: np.ndarray) -> np.ndarray:
    """Ranges with zeros (constant columns) replaced by one."""
    return np.where(r > 1e-12 * np.maximum(1.0, np.abs(r).max(initial=0.0)), r, 1.0)


def warn_if_optimize_weights_ignored(est) -> None:
    """``optimize_weights`` refines the directions at optimised hyperparameters only."""
    if not est.optimize and est.optimize_weights > 0:
        warn_user(
            f"AdditiveKernelNN: optimize_weights={est.optimize_weights} is ignored with "
            "optimize=False (the directions are refined at optimised hyperparameters "
            "only); set optimize_weights=0 to silence this warning."
        )


def previous_directions(est, n_features: int, y_ndim: int):
    """With ``warm_start`` and a fitted model of the same shape: its directions (a 1-D ``y``)
    or its per-output models (a 2-D ``y``); else None."""
    if not est.warm_start or getattr(est, "n_features_in_", None) != n_features:
        return None
    subs = getattr(est, "estimators_", None)
    if y_ndim == 2:
        return subs
    return est.directions_ if subs is None and hasattr(est, "directions_") else None


def finish(self, model, z: np.ndarray) -> None:
    h = model.hyper_
    centers, coef = model.representation()
    if not np.all(np.isfinite(coef)):
        raise ValueError(
            "AdditiveKernelNN: the fitted activations are not finite; increase alpha or "
            "check the inputs for extreme values."
        )
    self.model_ = model
    self.length_scale_, self.amplitude_, self.alpha_ = h.length_scale, h.amplitude, h.noise
    self.log_marginal_likelihood_value_ = model.log_marginal_likelihood_
    self.activation_functions_ = [
        NeuronActivation(model.kernel, centers[i], coef[i] * self.y_scale_, h.length_scale[i])
        for i in range(len(coef))
    ]
    phi, _ = model.predict(z)
    self.neuron_importance_ = phi.std(axis=1) * self.y_scale_
