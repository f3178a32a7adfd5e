"""taafs-sk: scikit-learn estimators with trainable or data-optimal activation functions,
and tools to study them on noisy analog hardware."""

from .regressor import TAAFSRegressor

__version__ = "0.1.0"

__all__ = ["TAAFSRegressor", "__version__"]
