"""The TAAFS estimator: :class:`TAAFSRegressor`, an MLP with trainable activations trained
through skorch, and its skorch glue (callbacks, the tensor batch iterator)."""

from .callbacks import FiniteLossGuard
from .regressor import TAAFSRegressor

__all__ = ["FiniteLossGuard", "TAAFSRegressor"]
