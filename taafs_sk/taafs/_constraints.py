"""TAAFSRegressor's ``_parameter_constraints`` (the architecture part is
:data:`taafs_sk.taafs.architecture.ARCHITECTURE_CONSTRAINTS`, shared with ``TAAFSPotential``),
and the parameters added after 0.1."""

from __future__ import annotations

import os
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._recipe import LR_SCHEDULES
from ._weights import LOSSES
from .architecture import ARCHITECTURE_CONSTRAINTS, optimizer_names
from .checkpoint import TrainingCheckpoint

__all__ = ["ADDED_PARAMS", "PARAMETER_CONSTRAINTS"]

#: Parameters added after 0.1, with their defaults, so that older pickles unpickle complete.
ADDED_PARAMS = {
    "warm_start": False,
    "optimizer_kwargs": None,
    "activation_lr": None,
    "activation_alpha": 0.0,
    "activation_warmup": 0,
    "lr_schedule": "constant",
    "loss": "squared_error",
    "dropout": 0.0,
    "checkpoint": None,
}

#: scikit-learn's parameter constraints of TAAFSRegressor.
PARAMETER_CONSTRAINTS: dict = {
    **ARCHITECTURE_CONSTRAINTS,
    "skip_connection": ["boolean", StrOptions({"ridge"})],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "loss": [StrOptions(set(LOSSES))],
    "optimizer": [optimizer_names()],
    "optimizer_kwargs": [dict, None],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "activation_lr": [Interval(Real, 0, None, closed="neither"), None],
    "activation_alpha": [Interval(Real, 0, None, closed="left")],
    "activation_warmup": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "scale_target": ["boolean"],
    "warm_start": ["boolean"],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [list, None],
    "checkpoint": [None, str, os.PathLike, TrainingCheckpoint],
}
