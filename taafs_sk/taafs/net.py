"""The skorch net every torch training in the library runs in: :class:`TrainingNet`.

skorch's loop, history, validation split, callbacks, ``partial_fit`` and pickling are used as
they are; the net changes the training *step* only, in two ways that cannot be callbacks:

- **batches of any kind.** Tensors, arrays and dicts are converted by skorch as usual; any
  other batch object (a custom iterator's batch of ragged structures) goes to the module
  as it is.
- **sample weights by name.** ``X`` may be a dict ``{"X": inputs, "sample_weight": w}``
  (skorch's way of carrying more than one input). The weights travel with the rows through
  the validation split and the batch iterator; :meth:`TrainingNet.infer` calls the module on
  the inputs alone and :meth:`TrainingNet.get_loss` hands the batch's weights to the
  criterion as ``criterion(y_pred, y_true, sample_weight=w)``. With no weights the criterion
  is called as ``criterion(y_pred, y_true)``, so any torch loss works.
- **measurement optimisers** (:func:`~taafs_sk.nn.optimizers.is_measurement_optimizer`, e.g.
  :class:`~taafs_sk.nn.rlekf.RLEKF`): the step makes one ``optimizer.measure(...)`` per group
  of errors instead of ``loss.backward()``. The criterion says how a minibatch's errors are
  grouped, by an optional method ``measurements(y_pred, y_true, sample_weight=None,
  forward=...)`` yielding ``measure``'s keyword arguments; ``forward()`` predicts the batch
  again with the weights as they are after the previous group's update (a potential updates
  on energies, then on groups of forces). Without the method, every output of every row is one
  group (:func:`default_measurements`). The loss in the history is the criterion's, before
  the updates.

Examples
--------
>>> import torch
>>> from taafs_sk.taafs.net import TrainingNet
>>> _ = torch.manual_seed(0)
>>> X, w = torch.randn(64, 2), torch.ones(64)
>>> y = X @ torch.tensor([[1.0], [2.0]])
>>> from taafs_sk.taafs._weights import WeightedLoss
>>> net = TrainingNet(torch.nn.Linear(2, 1), criterion=WeightedLoss, max_epochs=30, lr=0.1,
...                   train_split=None, verbose=0)
>>> _ = net.fit({"X": X, "sample_weight": w}, y)
>>> bool(net.history[-1, "train_loss"] < 0.01)
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from torch.nn.utils.rnn import PackedSequence

from ..nn.optimizers import is_measurement_optimizer

__all__ = ["SAMPLE_WEIGHT", "TrainingNet", "default_measurements", "sample_weight_of"]

#: Key of the sample weights in a dict ``X``.
SAMPLE_WEIGHT = "sample_weight"
# What skorch converts to tensors before the module sees it; any other batch object (a batch
# of structures from a custom iterator) goes to the module as the iterator made it.
_TENSOR_LIKE = (torch.Tensor, np.ndarray, Mapping, list, tuple, PackedSequence)


def sample_weight_of(X, device="cpu") -> torch.Tensor | None:
    """The ``(n,)`` sample weights a dict ``X`` carries, as a tensor on ``device``, or None."""
    if isinstance(X, Mapping) and SAMPLE_WEIGHT in X:
        return to_tensor(X[SAMPLE_WEIGHT], device=device).reshape(-1)
    return None


def default_measurements(y_pred, y_true, sample_weight=None, forward=None) -> Iterator[dict]:
    """One measurement of a batch: every output of every row, rows weighted by
    ``sample_weight``.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.taafs.net import default_measurements
    >>> [sorted(m) for m in default_measurements(torch.zeros(3), torch.ones(3))]
    [['prediction', 'target', 'weight']]
    """
    pred = y_pred.reshape(len(y_pred), -1)  # (n, k)
    target = y_true.reshape(len(y_true), -1)
    if pred.shape != target.shape:
        raise ValueError(f"the predictions have shape {tuple(pred.shape)} but the targets "
                         f"{tuple(target.shape)}; they must match for a Kalman update.")
    weight = None if sample_weight is None else sample_weight.reshape(-1, 1)
    yield {"prediction": pred, "target": target, "weight": weight}


class TrainingNet(NeuralNetRegressor):
    """skorch ``NeuralNetRegressor`` with sample weights by name and measurement optimisers.

    See the module docstring. Subclassing (rather than a callback) is needed because both
    change the step itself: what the module and the criterion are called with, and, for a
    Kalman filter, the update.

    Parameters
    ----------
    *args, **kwargs
        As for ``skorch.NeuralNetRegressor``.
    """

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping) and SAMPLE_WEIGHT in x:
            x = {k: v for k, v in x.items() if k != SAMPLE_WEIGHT}
            if set(x) == {"X"}:
                x = x["X"]
        if not isinstance(x, _TENSOR_LIKE):  # a batch object (e.g. ragged structures)
            return self.module_(x, **fit_params)
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        weight = sample_weight_of(X, self.device)
        if weight is None:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        return self.criterion_(y_pred, to_tensor(y_true, device=self.device),
                               sample_weight=weight)

    def train_step(self, batch, **fit_params):
        if not is_measurement_optimizer(self.optimizer_):
            return super().train_step(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        measurements = getattr(self.criterion_, "measurements", default_measurements)
        groups = measurements(y_pred, to_tensor(yi, device=self.device),
                              sample_weight=sample_weight_of(Xi, self.device),
                              forward=lambda: self.infer(Xi, **fit_params))
        for group in groups:
            self.optimizer_.measure(**group)
        return {"loss": loss.detach(), "y_pred": _detached(y_pred)}


def _detached(y_pred):
    if isinstance(y_pred, torch.Tensor):
        return y_pred.detach()
    return type(y_pred)(_detached(p) for p in y_pred)
