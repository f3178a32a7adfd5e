"""What TAAFSRegressor's fit trains, on what: the checked data and the trained skorch net.

Nothing here sets an attribute of the estimator: :func:`check_fit_data` checks and returns the
data, :func:`train_network` returns the trained net; the estimator's own ``_fit``,
``_initialize`` and ``_set_fitted_state`` set every fitted attribute.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import validate_data

from .._validation import repeat_weighted_rows, warn_user
from .._validation._weights import check_sample_weight
from ..exceptions import ConvergenceWarning
from ..nn.checks import check_device
from ..nn.network import MLP
from ._params import check_optimizer_options, refuse_unrepeated_weights
from ._recipe import recipe_net_params
from ._weights import WeightedLoss, mean_one_weights
from .architecture import activation_factory, check_architecture
from .checkpoint import TrainingCheckpoint, as_checkpoint, data_fingerprint
from .net import SAMPLE_WEIGHT, TrainingNet
from .training import build_net, early_stopping_monitor, fit_net, optimizer_params

__all__ = ["MAX_REPEAT", "build_module", "check_fit_data", "fit_checkpoint", "train_network",
           "warn_if_not_converged"]

#: Integer sample weights become repeated rows while that at most multiplies the rows by this
#: (beyond, and for fractional weights, the weights scale each row's loss instead).
MAX_REPEAT = 16


def check_fit_data(est, X, y, sample_weight, reset: bool):
    """Checked ``(X, y, sample_weight, hidden_layer_sizes)`` for a fit of ``est``.

    Integer weights become repeated rows, in an order fixed by the rows' values (a weighted
    fit is then the fit on the repeated data, bit for bit); weights left equal become None.
    ``validate_data`` sets ``n_features_in_`` / ``feature_names_in_`` when ``reset``, as in
    every scikit-learn estimator.
    """
    X, y = validate_data(est, X, y, reset=reset, multi_output=True, y_numeric=True,
                         dtype=[np.float64, np.float32])
    check_device("device", est.device)
    hidden = check_architecture(est)
    check_optimizer_options(est)
    sample_weight = check_sample_weight(type(est).__name__, sample_weight, X)
    X, y, sample_weight = repeat_weighted_rows(X, y, sample_weight, max_factor=MAX_REPEAT)
    if sample_weight is not None and np.all(sample_weight == sample_weight[0]):
        sample_weight = None
    refuse_unrepeated_weights(est, sample_weight, MAX_REPEAT)
    return X, y, sample_weight, hidden


def build_module(est, hidden: tuple[int, ...]) -> MLP:
    """The estimator's untrained ``MLP`` with hidden widths ``hidden``."""
    return MLP(est.n_features_in_, hidden, est.n_outputs_, activation_factory(est),
               skip_connection=bool(est.skip_connection), dropout=est.dropout)


def fit_checkpoint(est, X, y, sample_weight, warm: bool) -> TrainingCheckpoint | None:
    """``est.checkpoint`` bound to this fit's data and parameters (None without one)."""
    if est.checkpoint is None:
        return None
    if warm:
        raise ValueError(f"checkpoint={est.checkpoint!r} resumes fits from scratch; with "
                         "warm_start=True a fit continues a fitted model: set one of them.")
    params = {k: v for k, v in est.get_params(deep=False).items()
              if k not in ("checkpoint", "verbose")}
    return as_checkpoint(est.checkpoint, data_fingerprint(params, X, y, sample_weight))


def train_network(est, hidden, X, targets, sample_weight, *, incremental: bool, warm: bool,
                  seed: int, checkpoint: TrainingCheckpoint | None = None) -> TrainingNet:
    """Train ``est``'s network on ``targets`` (network units) and return its skorch net.

    A new network unless ``warm``; ``warm`` and not ``incremental`` (a warm start): a new
    training run around the trained module; ``incremental`` (``partial_fit``): one more epoch
    of the existing net on every row, without early stopping. ``seed`` seeds torch's
    generator for the run; ``checkpoint`` (from :func:`fit_checkpoint`) saves the run and
    resumes it. ``sample_weight`` reaches the loss by name (``X`` becomes
    ``{"X": X, "sample_weight": w}``).
    """
    inputs = X if sample_weight is None else {
        "X": X, SAMPLE_WEIGHT: mean_one_weights(sample_weight)}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not warm:
            net = _estimator_net(est, build_module(est, hidden), len(X), incremental)
        elif not incremental or not isinstance(est.net_, TrainingNet):
            # warm start (or a net pickled before TrainingNet): a new run around the module
            net = _estimator_net(est, est.module_, len(X), incremental)
        else:
            net = est.net_
            if net.train_split is not None or "early_stopping" in dict(net.callbacks_):
                net.set_params(train_split=None, callbacks__early_stopping=None)
                net.initialize_callbacks()  # partial_fit after fit: every row, no stopping
        return fit_net(net, inputs, targets, epochs=1 if incremental else None,
                       checkpoint=checkpoint)


def _estimator_net(est, module, n_samples: int, incremental: bool) -> TrainingNet:
    """The skorch net that trains ``module`` for ``est``."""
    monitor = early_stopping_monitor(est.early_stopping, incremental, n_samples,
                                     est.validation_fraction)
    recipe_params, recipe_callbacks = recipe_net_params(
        optimizer=est.optimizer, activation_lr=est.activation_lr,
        activation_alpha=est.activation_alpha, activation_warmup=est.activation_warmup,
        lr_schedule=est.lr_schedule, ridge_skip=est.skip_connection == "ridge",
        max_epochs=est.max_epochs, patience=est.patience,
        monitor=monitor or "train_loss", owner=type(est).__name__,
    )
    return build_net(
        module, n_samples=n_samples, max_epochs=est.max_epochs, batch_size=est.batch_size,
        lr=est.lr, optimizer=est.optimizer, weight_decay=est.weight_decay,
        early_stopping=est.early_stopping, validation_fraction=est.validation_fraction,
        patience=est.patience, incremental=incremental, random_state=est._seed,
        verbose=est.verbose, callbacks=[*recipe_callbacks, *(est.callbacks or [])],
        device=est.device, criterion=WeightedLoss, criterion__loss=est.loss,
        **recipe_params,
        **optimizer_params(est.optimizer, est.optimizer_kwargs, type(est).__name__),
    )


def warn_if_not_converged(est) -> None:
    """``ConvergenceWarning`` when early stopping never triggered within ``max_epochs``."""
    if est.early_stopping and est.n_iter_ >= est.max_epochs:
        warn_user(
            f"{type(est).__name__} reached max_epochs={est.max_epochs} before early stopping "
            "triggered; the model may not have converged. Increase max_epochs.",
            ConvergenceWarning,
        )
