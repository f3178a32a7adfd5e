"""Sample weights in the skorch training loop, carried as one extra column of ``y``.

The weights travel with the targets through everything skorch does with ``y`` (the
validation split, :class:`~taafs_sk.taafs._iterators.TensorBatchIterator`'s slicing and
shuffling), so no part of the loop needs to know about them; :class:`WeightedLoss` splits
them off again. The weights are rescaled to mean 1 over the training rows, so the loss of a
minibatch is ``mean_i(w_i * mean_k l(pred_ik - y_ik))``, with ``l(r) = r^2`` (squared error) or
``|r|`` (absolute error): with one full batch this is ``sum_i w_i l_i / sum_i w_i``, exactly
the loss of the data with row ``i`` repeated ``w_i`` times, and a minibatch of zero-weight
rows contributes 0 (never 0/0).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["LOSSES", "WeightedLoss", "WeightedMSELoss", "append_weights", "weighted_moments"]

#: Training losses by scikit-learn name: elementwise function of the residual.
LOSSES = {
    "squared_error": torch.square,
    "absolute_error": torch.abs,
}


class WeightedLoss(torch.nn.Module):
    """Mean of an elementwise loss of the residuals; when ``y_true`` has one column more than
    ``y_pred``, that column is the rows' weights.

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
    >>> w = torch.tensor([[1.5], [0.5]])  # mean 1, as append_weights leaves them
    >>> float(WeightedLoss()(pred, torch.cat([y, w], 1)))  # (1.5 * 1 + 0.5 * 9) / 2
    3.0
    >>> float(WeightedLoss("absolute_error")(pred, torch.cat([y, w], 1)))  # (1.5 + 1.5) / 2
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

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        elementwise = LOSSES[self.loss]
        y_true = y_true.reshape(len(y_true), -1)
        y_pred = y_pred.reshape(len(y_pred), -1)
        if y_true.shape[1] == y_pred.shape[1]:
            return torch.mean(elementwise(y_pred - y_true))
        if y_true.shape[1] != y_pred.shape[1] + 1:
            raise ValueError(f"y has {y_true.shape[1]} columns for {y_pred.shape[1]} outputs.")
        w = y_true[:, -1]
        per_row = elementwise(y_pred - y_true[:, :-1]).mean(dim=1)
        return torch.mean(w * per_row)


class WeightedMSELoss(WeightedLoss):
    """:class:`WeightedLoss` with the squared error (the name nets pickled before 0.4 use)."""

    def __init__(self) -> None:
        super().__init__("squared_error")


def append_weights(y2: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """``y2`` (n, k) with the weights, rescaled to mean 1, as column k (float32)."""
    if sample_weight is None:
        return y2
    w = np.asarray(sample_weight, dtype=np.float64)
    w = (w / w.mean()).astype(np.float32)
    return np.concatenate([y2, w[:, None]], axis=1)


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
