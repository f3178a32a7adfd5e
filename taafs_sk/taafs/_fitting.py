"""TAAFSRegressor's fit, warm start and partial_fit: which network is trained, on what."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data
from skorch import NeuralNetRegressor

from .._validation import repeat_weighted_rows, warn_user
from ..exceptions import ConvergenceWarning
from ..nn._checks import check_device
from ..nn.activations import make_activation_factory
from ..nn.network import MLP
from ._params import (
    architecture,
    check_basis,
    check_hidden_layer_sizes,
    check_optimizer_options,
    check_same_architecture,
    check_weights,
    prepare_target,
    refuse_fractional_weights,
)
from ._ranges import pre_activation_ranges
from ._recipe import recipe_net_params
from ._weights import WeightedLoss, append_weights
from .training import MIN_VALID_ROWS, build_net, fit_net, loss_curves, optimizer_params

__all__ = ["MAX_REPEAT", "build_estimator_net", "build_module", "run_fit", "store_fitted_state"]

#: Integer sample weights become repeated rows while that at most multiplies the rows by this
#: (beyond, and for fractional weights, the weights scale each row's loss instead).
MAX_REPEAT = 16


def run_fit(est, X, y, incremental: bool, sample_weight=None):
    """Fit ``est`` (a TAAFSRegressor): from scratch, or, for ``partial_fit`` (one epoch, every
    row, no early stopping) and ``warm_start``, from its trained network."""
    warm = (incremental or est.warm_start) and hasattr(est, "net_")
    first = not warm
    X, y = validate_data(
        est, X, y, reset=first, multi_output=True, y_numeric=True,
        dtype=[np.float64, np.float32],
    )
    check_device("device", est.device)
    check_basis(est)
    check_optimizer_options(est)
    sample_weight = check_weights(est, sample_weight, X)
    # integer weights become repeated rows, in an order fixed by the rows' values: a
    # weighted fit is then the fit on the repeated data, bit for bit
    X, y, sample_weight = repeat_weighted_rows(X, y, sample_weight, max_factor=MAX_REPEAT)
    if sample_weight is not None and np.all(sample_weight == sample_weight[0]):
        sample_weight = None
    refuse_fractional_weights(est, sample_weight)
    hidden = check_hidden_layer_sizes(est.hidden_layer_sizes)
    if warm:
        check_same_architecture(est, hidden)
    y2 = append_weights(prepare_target(est, y, reset=first, sample_weight=sample_weight),
                        sample_weight)
    rng = check_random_state(est.random_state)
    if first:
        est._seed = int(rng.randint(np.iinfo(np.int32).max))
        est._n_partial = 0
        est._n_warm = 0
        est._architecture = architecture(est, hidden)
    elif not incremental:
        est._n_warm += 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(est._seed + (est._n_partial if incremental else 0)
                          + 104729 * est._n_warm)
        if first:
            est.net_ = build_estimator_net(est, hidden, X.shape[0], incremental)
            est.net_.initialize()
        elif not incremental:  # warm start: a new training run around the trained module
            est.net_ = build_estimator_net(est, hidden, X.shape[0], False, module=est.module_)
            est.net_.initialize()
        elif est.net_.train_split is not None or "early_stopping" in dict(
            est.net_.callbacks_
        ):  # partial_fit after fit: train on every row, no early stopping
            est.net_.set_params(train_split=None, callbacks__early_stopping=None)
            est.net_.initialize_callbacks()
        if incremental:
            est._n_partial += 1
        fit_net(est.net_, X, y2, epochs=1 if incremental else None)
    store_fitted_state(est, X)
    return est


def build_module(est, hidden: tuple[int, ...]) -> MLP:
    """The estimator's untrained ``MLP`` with hidden widths ``hidden``."""
    factory = make_activation_factory(
        est.basis,
        n_basis=est.n_basis,
        sharing=est.sharing,
        normalization=est.normalization,
        basis_kwargs=est.basis_kwargs,
    )
    return MLP(
        est.n_features_in_, hidden, est.n_outputs_, factory,
        skip_connection=bool(est.skip_connection), dropout=est.dropout,
    )


def build_estimator_net(
    est, hidden, n_samples: int, incremental: bool, module=None
) -> NeuralNetRegressor:
    """The skorch net that trains ``module`` (a new ``MLP`` when None) for ``est``."""
    recipe_params, recipe_callbacks = _recipe(est, n_samples, incremental)
    return build_net(
        build_module(est, hidden) if module is None else module,
        n_samples=n_samples,
        max_epochs=est.max_epochs,
        batch_size=est.batch_size,
        lr=est.lr,
        optimizer=est.optimizer,
        weight_decay=est.weight_decay,
        early_stopping=est.early_stopping,
        validation_fraction=est.validation_fraction,
        patience=est.patience,
        incremental=incremental,
        random_state=est._seed,
        verbose=est.verbose,
        callbacks=[*recipe_callbacks, *(est.callbacks or [])],
        device=est.device,
        criterion=WeightedLoss,
        criterion__loss=est.loss,
        **recipe_params,
        **optimizer_params(est.optimizer, est.optimizer_kwargs, type(est).__name__),
    )


def _recipe(est, n_samples: int, incremental: bool) -> tuple[dict, list]:
    """Net options and callbacks of the training recipe (see ``_recipe.py``)."""
    valid = (est.early_stopping and not incremental
             and int(est.validation_fraction * n_samples) >= MIN_VALID_ROWS)
    return recipe_net_params(
        optimizer=est.optimizer,
        activation_lr=est.activation_lr,
        activation_alpha=est.activation_alpha,
        activation_warmup=est.activation_warmup,
        lr_schedule=est.lr_schedule,
        ridge_skip=est.skip_connection == "ridge",
        max_epochs=est.max_epochs,
        patience=est.patience,
        monitor="valid_loss" if valid else "train_loss",
        owner=type(est).__name__,
    )


def store_fitted_state(est, X=None) -> None:
    """Set the fitted attributes from ``est.net_`` (and the pre-activation ranges on ``X``)."""
    est.module_ = est.net_.module_
    est.dtype_ = next(est.module_.parameters()).dtype
    if X is not None:  # partial_fit widens the ranges seen so far
        previous = (getattr(est, "pre_activation_ranges_", None)
                    if est._n_partial > 0 else None)
        est.pre_activation_ranges_ = pre_activation_ranges(est.module_, X, previous)
    est.history_ = est.net_.history
    est.loss_curve_, est.validation_loss_curve_ = loss_curves(est.net_)
    est.n_iter_ = len(est.history_)
    est.n_params_ = sum(p.numel() for p in est.module_.parameters() if p.requires_grad)
    if est.early_stopping and est.n_iter_ >= est.max_epochs and est._n_partial == 0:
        warn_user(
            f"TAAFSRegressor reached max_epochs={est.max_epochs} before early stopping "
            "triggered; the model may not have converged. Increase max_epochs.",
            ConvergenceWarning,
        )
