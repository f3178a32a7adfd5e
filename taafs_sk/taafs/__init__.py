"""The TAAFS estimator: :class:`TAAFSRegressor`, an MLP with trainable activations trained
through skorch, and its skorch glue (callbacks, the tensor batch iterator, and
:func:`~taafs_sk.taafs.training.build_net` / :func:`~taafs_sk.taafs.training.fit_net`, the
same training set-up for any torch module)."""

from .callbacks import FiniteLossGuard
from .checkpoint import TrainingCheckpoint
from .regressor import TAAFSRegressor
from .training import build_net, fit_net

__all__ = ["FiniteLossGuard", "TAAFSRegressor", "TrainingCheckpoint", "build_net", "fit_net"]
