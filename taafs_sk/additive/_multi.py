"""Multi-output ``AdditiveKernelNN``: one additive Gaussian process per output (private).

Each column of ``y`` gets its own fitted single-output model (its own directions,
hyperparameters and activations, all from that column alone), kept in ``estimators_``. The
multi-output estimator's attributes stack theirs: its hidden layer holds every output's
neurons, ``output_of_neuron_`` says which output each one feeds, and ``to_module`` gives one
network whose output ``j`` sums only output ``j``'s neurons.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import clone

from ..nn.network import MLP
from ..nn.tabulated import TabulatedActivation
from ._export import tabulate

__all__ = ["fit_per_output", "predict_per_output", "to_mlp_per_output"]


def fit_per_output(est, X: np.ndarray, Y: np.ndarray, sample_weight, previous=None) -> None:
    """Fit one single-output copy of ``est`` per column of ``Y`` (or, warm, the ``previous``
    per-output models) and stack their attributes."""
    if previous is None or len(previous) != Y.shape[1]:
        previous = [clone(est) for _ in range(Y.shape[1])]
    subs = [s.set_params(**est.get_params()).fit(X, Y[:, j], sample_weight)
            for j, s in enumerate(previous)]
    est.estimators_ = subs
    est.n_outputs_ = len(subs)
    cat = np.concatenate
    est.hidden_weights_ = np.vstack([s.hidden_weights_ for s in subs])
    est.hidden_bias_ = cat([s.hidden_bias_ for s in subs])
    est.directions_ = np.vstack([s.directions_ for s in subs])
    est.output_of_neuron_ = cat([np.full(len(s.hidden_bias_), j) for j, s in enumerate(subs)])
    est.activation_functions_ = [f for s in subs for f in s.activation_functions_]
    est.neuron_importance_ = cat([s.neuron_importance_ for s in subs])
    est.length_scale_ = cat([s.length_scale_ for s in subs])
    est.amplitude_ = cat([s.amplitude_ for s in subs])
    est.feature_scale_ = np.vstack([s.feature_scale_ for s in subs])
    est.alpha_ = np.array([s.alpha_ for s in subs])
    est.log_marginal_likelihood_value_ = float(sum(s.log_marginal_likelihood_value_
                                                   for s in subs))
    est.intercept_ = np.array([s.intercept_ for s in subs])
    est.y_scale_ = np.array([s.y_scale_ for s in subs])
    est.solver_ = subs[0].solver_
    est.kernel_ = subs[0].kernel_
    est.n_inducing_ = [s.n_inducing_ for s in subs]
    est.model_ = [s.model_ for s in subs]


def predict_per_output(est, X: np.ndarray, return_std: bool):
    """Columns of the per-output predictions (and standard deviations)."""
    outs = [s.predict(X, return_std=return_std) for s in est.estimators_]
    if not return_std:
        return np.column_stack(outs)
    return np.column_stack([o[0] for o in outs]), np.column_stack([o[1] for o in outs])


def to_mlp_per_output(est, dtype: torch.dtype, n_grid: int, margin: float) -> MLP:
    """One MLP for all outputs: output ``j`` weighs output ``j``'s neurons by ``y_scale_[j]``."""
    grid = np.linspace(-margin, 1.0 + margin, n_grid)
    tables = [tabulate(s.model_, grid) for s in est.estimators_]
    act = TabulatedActivation(grid, np.vstack([t[0] for t in tables]),
                              np.vstack([t[1] for t in tables]))
    n, d = est.hidden_weights_.shape
    net = MLP(d, (n,), est.n_outputs_, lambda i, width: act)
    out_w = np.zeros((est.n_outputs_, n))
    out_w[est.output_of_neuron_, np.arange(n)] = est.y_scale_[est.output_of_neuron_]
    with torch.no_grad():
        net.hidden[0].weight.copy_(torch.as_tensor(est.hidden_weights_))
        net.hidden[0].bias.copy_(torch.as_tensor(est.hidden_bias_))
        net.output.weight.copy_(torch.as_tensor(out_w))
        net.output.bias.copy_(torch.as_tensor(est.intercept_))
    return net.to(dtype)
