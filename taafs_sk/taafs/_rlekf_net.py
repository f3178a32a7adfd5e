"""The skorch net whose training step is an RLEKF update (see :mod:`taafs_sk.nn.rlekf`).

A gradient optimiser only needs the loss; the Kalman filter needs each minibatch's errors,
so the training step itself differs and cannot be a callback: :class:`RLEKFNet` overrides
``train_step`` and nothing else, so skorch's loop, history, validation, early stopping,
callbacks, ``partial_fit`` and pickling are unchanged. :func:`~taafs_sk.taafs.training.build_net`
picks it for ``optimizer="rlekf"``.
"""

from __future__ import annotations

from skorch import NeuralNetRegressor
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ..nn.rlekf import RLEKF

__all__ = ["RLEKFNet"]


class RLEKFNet(NeuralNetRegressor):
    """skorch ``NeuralNetRegressor`` making one RLEKF update per minibatch.

    The minibatch's predictions (every output of every row) are folded into one measurement
    by :meth:`taafs_sk.nn.rlekf.RLEKF.measure`, weighted by the rows' sample weights when
    ``y`` carries them as one extra column (see ``taafs_sk.taafs._weights``); the loss
    reported in the history is the criterion's, computed before the update.

    Parameters
    ----------
    *args, **kwargs
        As for ``skorch.NeuralNetRegressor``; ``optimizer`` must be
        :class:`~taafs_sk.nn.rlekf.RLEKF` (or a subclass), with its options as
        ``optimizer__block_size``, ``optimizer__lambda1``, ...

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.rlekf import RLEKF
    >>> from taafs_sk.taafs._rlekf_net import RLEKFNet
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(64, 2)
    >>> y = X @ torch.tensor([[1.0], [2.0]])
    >>> net = RLEKFNet(torch.nn.Linear(2, 1), optimizer=RLEKF, lr=1.0, max_epochs=3,
    ...                batch_size=1, train_split=None, verbose=0)
    >>> net = net.fit(X, y)
    >>> bool(net.history[-1, "train_loss"] < 1e-3), net.optimizer_.n_updates
    (True, 192)
    """

    def initialize_optimizer(self, *args, **kwargs):
        out = super().initialize_optimizer(*args, **kwargs)
        if not isinstance(self.optimizer_, RLEKF):
            raise TypeError(
                f"optimizer of RLEKFNet must be RLEKF, got {type(self.optimizer_).__name__}; "
                "use skorch.NeuralNetRegressor for gradient optimizers."
            )
        return out

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        y_true = to_tensor(yi, device=self.device)
        loss = self.get_loss(y_pred, y_true, X=Xi, training=True)
        pred = y_pred.reshape(len(y_pred), -1)  # (n, k)
        target = y_true.reshape(len(y_true), -1)
        weight = None
        if target.shape[1] == pred.shape[1] + 1:  # sample weights ride as a last column
            target, weight = target[:, :-1], target[:, -1:]
        self.optimizer_.measure(pred, target, weight=weight)
        return {"loss": loss.detach(), "y_pred": y_pred.detach()}
