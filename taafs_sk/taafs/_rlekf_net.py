"""``RLEKFNet``: the name nets trained with ``optimizer='rlekf'`` were pickled under.

The Kalman step now lives in :class:`~taafs_sk.taafs.net.TrainingNet` (the one net of the
library, which takes a measurement step whenever its optimiser is a measurement optimiser);
this subclass only keeps older pickles loadable and refuses a gradient optimiser.
"""

from __future__ import annotations

from ..nn.optimizers import is_measurement_optimizer
from .net import TrainingNet

__all__ = ["RLEKFNet"]


class RLEKFNet(TrainingNet):
    """:class:`~taafs_sk.taafs.net.TrainingNet` that insists on a measurement optimiser.

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
        if not is_measurement_optimizer(self.optimizer_):
            raise TypeError(
                f"optimizer of RLEKFNet must be a measurement optimiser such as RLEKF, got "
                f"{type(self.optimizer_).__name__}; use TrainingNet for gradient optimizers."
            )
        return out
