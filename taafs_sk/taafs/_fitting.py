"""TAAFSRegressor's fit, warm start and partial_fit: which network is trained, on what."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from .._validation import repeat_weighted_rows
from ..nn._checks import check_device
from ._params import (
    architecture,
    check_basis,
    check_hidden_layer_sizes,
    check_same_architecture,
    check_weights,
    prepare_target,
    refuse_fractional_weights,
)
from ._weights import append_weights
from .training import fit_net

__all__ = ["MAX_REPEAT", "run_fit"]

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
            est.net_ = est._build_net(hidden, X.shape[0], incremental)
            est.net_.initialize()
        elif not incremental:  # warm start: a new training run around the trained module
            est.net_ = est._build_net(hidden, X.shape[0], False, module=est.module_)
            est.net_.initialize()
        elif est.net_.train_split is not None or "early_stopping" in dict(
            est.net_.callbacks_
        ):  # partial_fit after fit: train on every row, no early stopping
            est.net_.set_params(train_split=None, callbacks__early_stopping=None)
            est.net_.initialize_callbacks()
        if incremental:
            est._n_partial += 1
        fit_net(est.net_, X, y2, epochs=1 if incremental else None)
    est._store_fitted_state(X)
    return est
