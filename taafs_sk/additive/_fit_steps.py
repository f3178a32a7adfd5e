"""Steps of ``AdditiveKernelNN.fit``: the single-output fit, its weights, the hidden layer and
the final solve."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.utils import check_random_state

from .._validation import repeat_weighted_rows, warn_user
from .._validation._weights import check_sample_weight
from ._directions import initial_directions, refine_directions
from ._export import NeuronActivation
from ._likelihood import Hyperparameters, MarginalLikelihood
from ._solvers import ExactSolver, InducingSolver
from .kernels import make_kernel

__all__ = ["AUTO_EXACT_MAX", "finish", "fit_single_output", "hyperparameters",
           "previous_directions", "resolve_solver", "safe_range", "scale_data",
           "set_hidden_layer", "solve", "warn_if_optimize_weights_ignored"]

AUTO_EXACT_MAX = 3000  # solver="auto" uses the exact solver up to this many samples
HYPER_SUBSET = {"exact": 2000, "inducing": 1000}  # samples (at most) the likelihood sees


def fit_single_output(self, X: np.ndarray, y: np.ndarray, sample_weight, previous) -> None:
    """Fit ``self`` to validated ``X`` and a 1-D ``y``, starting from the ``previous``
    directions when given (``warm_start``); sets every fitted attribute."""
    self.n_outputs_ = 1
    # integer weights as repeated rows, in value order: the repeated-data fit, bit for bit
    weights = check_sample_weight("AdditiveKernelNN", sample_weight, X, integers=True)
    X, y, _ = repeat_weighted_rows(X, y, weights)
    warn_if_optimize_weights_ignored(self)
    rng = check_random_state(self.random_state)
    self.kernel_ = make_kernel(self.kernel)
    xs, x_min, x_range, t = scale_data(self, X, y)
    self.solver_ = resolve_solver(self.solver, len(y))
    directions, metric = (previous, None) if previous is not None else initial_directions(
        self.weights, self.n_neurons, self.solver_, xs, t, rng)
    ml, h = hyperparameters(self, xs, directions, metric, t, rng, previous is None)
    span = set_hidden_layer(self, ml, h, xs, x_min, x_range)
    h = replace(h, length_scale=ml.effective_length_scale(h, self.optimize)[0] / span)
    z = self._coordinates(X)
    finish(self, solve(self, z, t, h, rng), z)


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


def safe_range(r: np.ndarray) -> np.ndarray:
    """Ranges with zeros (constant columns) replaced by one."""
    return np.where(r > 1e-12 * np.maximum(1.0, np.abs(r).max(initial=0.0)), r, 1.0)


def resolve_solver(solver: str, n_samples: int) -> str:
    """The solver that ``solver`` names for ``n_samples`` rows (``'auto'``: exact up to
    :data:`AUTO_EXACT_MAX` rows, inducing beyond)."""
    if solver == "auto":
        return "exact" if n_samples <= AUTO_EXACT_MAX else "inducing"
    return solver


def scale_data(self, X: np.ndarray, y: np.ndarray):
    """``(xs, x_min, x_range, t)``: the inputs rescaled to [0, 1] per feature and the centred
    (with ``normalize_y`` standardised) targets; sets ``intercept_`` and ``y_scale_``."""
    x_min = X.min(0)
    x_range = safe_range(X.max(0) - x_min)
    self.intercept_ = float(y.mean())
    self.y_scale_ = float(safe_range(np.array([y.std()]))[0]) if self.normalize_y else 1.0
    return (X - x_min) / x_range, x_min, x_range, (y - self.intercept_) / self.y_scale_


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
