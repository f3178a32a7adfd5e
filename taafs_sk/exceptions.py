"""Exceptions and warnings raised by taafs-sk (subclasses of scikit-learn's, so callers that
catch those keep working)."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = ["TrainingDivergedError", "ConvergenceWarning", "NotFittedError"]


class TrainingDivergedError(ValueError, ArithmeticError):
    """Training produced a non-finite loss or non-finite weights.

    Raised instead of returning a model that predicts NaN. The message names the epoch and
    suggests a fix (usually a lower ``lr``, or ``scale_target=True``).
    """
