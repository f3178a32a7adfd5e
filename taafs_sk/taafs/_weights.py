"""Sample weights in the training loss: :class:`WeightedLoss` and the weights' scaling.

The estimator hands the weights to skorch by name, as ``X = {"X": inputs, "sample_weight":
w}`` (see :class:`~taafs_sk.taafs.net.TrainingNet`), rescaled to mean 1 over the rows handed
to ``fit`` (:func:`mean_one_weights`); they travel with their rows through the validation
split and the batch iterator, and the net passes each minibatch's weights to the criterion as
``sample_weight``. The loss of a minibatch is then ``mean_i(w_i * mean_k l(pred_ik - y_ik))``,
with ``l(r) = r^2`` (squared error) or ``|r|`` (absolute error): with one full batch this is
``sum_i w_i l_i / sum_i w_i``, exactly the loss of the data with row ``i`` repeated ``w_i``
times, and a minibatch of zero-weight rows contributes 0 (never 0/0).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["LOSSES", "WeightedLoss", "WeightedMSELoss", "mean_one_weights", "weighted_moments"]

#: Training losses by scikit-learn name: elementwise function of the residual.
LOSSES = {
    "squared_error": torch.square,
    "absolute_error": torch.abs,
}


class WeightedLoss(torch.nn.Module):
    """Mean of an elementwise loss of the residuals, each row weighted by ``sample_weight``.

    Parameters
    ----------
    loss : {'squared_error', 'absolute_error'}, default='squared_error'
        The elementwise loss (see :data:`LOSSES`).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.taafs._weights import WeightedLoss
    >>> pred, y = torch.zeros(2, 1), torch.tensor([[1.0], [3.0]])
    >>> float(WeightedLoss()(pred, y))  # plain MSE: (1 + 9) / 2
    5.0
    >>> w = torch.tensor([1.5, 0.5])  # mean 1, as mean_one_weights leaves them
    >>> float(WeightedLoss()(pred, y, sample_weight=w))  # (1.5 * 1 + 0.5 * 9) / 2
    3.0
    >>> float(WeightedLoss("absolute_error")(pred, y, sample_weight=w))  # (1.5 + 1.5) / 2
    1.5
    """

    loss = "squared_error"  # the class default, for nets pickled before ``loss`` existed

    def __init__(self, loss: str = "squared_error") -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}.")
        self.loss = loss

    def extra_repr(self) -> str:
        return repr(self.loss)

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        elementwise = LOSSES[self.loss]
        y_true = y_true.reshape(len(y_true), -1)
        y_pred = y_pred.reshape(len(y_pred), -1)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"y has {y_true.shape[1]} columns for {y_pred.shape[1]} outputs.")
        if sample_weight is None:
            return torch.mean(elementwise(y_pred - y_true))
        per_row = elementwise(y_pred - y_true).mean(dim=1)
        return torch.mean(sample_weight.reshape(-1) * per_row)


class WeightedMSELoss(WeightedLoss):
    """:class:`WeightedLoss` with the squared error (the name nets pickled before 0.4 use)."""

    def __init__(self) -> None:
        super().__init__("squared_error")


def mean_one_weights(sample_weight: np.ndarray) -> np.ndarray:
    """``sample_weight`` rescaled to mean 1, as float32 (what the training loss expects).

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.taafs._weights import mean_one_weights
    >>> mean_one_weights(np.array([1.0, 3.0])).tolist()
    [0.5, 1.5]
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    return (w / w.mean()).astype(np.float32)


def weighted_moments(y2: np.ndarray, sample_weight: np.ndarray | None):
    """Per-column mean and standard deviation of ``y2`` (n, k), weighted by rows.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.taafs._weights import weighted_moments
    >>> y = np.array([[0.0], [2.0]])
    >>> [m.tolist() for m in weighted_moments(y, np.array([1.0, 3.0]))]
    [[1.5], [0.8660254037844386]]
    """
    if sample_weight is None:
        return y2.mean(axis=0), y2.std(axis=0)
    w = np.asarray(sample_weight, dtype=np.float64)
    mean = np.average(y2, axis=0, weights=w)
    var = np.average((y2 - mean) ** 2, axis=0, weights=w)
    return mean, np.sqrt(var)
