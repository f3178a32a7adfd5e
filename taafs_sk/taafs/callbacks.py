"""skorch callbacks that add training behaviour to the nets the estimators own.

Behaviour is added as callbacks rather than ``NeuralNet`` subclasses, so users can replace or
tune them through skorch's ``callbacks__<name>__<param>`` routing.
"""

from __future__ import annotations

import math

import torch
from skorch.callbacks import Callback

from ..exceptions import TrainingDivergedError

__all__ = ["EpochProgressBar", "FiniteLossGuard"]


class FiniteLossGuard(Callback):
    """Stop training with :class:`~taafs_sk.exceptions.TrainingDivergedError` on a NaN/inf loss.

    Checked once per epoch (the epoch's mean training loss and the module's parameters), so it
    adds no per-step cost.

    Parameters
    ----------
    hint : str, default='lower `lr`'
        The fix suggested in the error message.

    Examples
    --------
    >>> from taafs_sk.taafs.callbacks import FiniteLossGuard
    >>> FiniteLossGuard().hint
    'lower `lr`'
    """

    def __init__(self, hint: str = "lower `lr`") -> None:
        if not isinstance(hint, str):
            raise TypeError(f"hint must be a str, got {hint!r} ({type(hint).__name__}).")
        self.hint = hint

    def on_epoch_end(self, net, **kwargs) -> None:
        row = net.history[-1]
        losses = [row.get(key) for key in ("train_loss", "valid_loss") if key in row]
        finite_loss = all(math.isfinite(float(v)) for v in losses)
        finite_params = all(bool(torch.isfinite(p).all()) for p in net.module_.parameters())
        if not (finite_loss and finite_params):
            raise TrainingDivergedError(
                f"training diverged at epoch {row['epoch']}: loss "
                f"{', '.join(f'{v:.3g}' for v in losses)}"
                f"{'' if finite_params else ' and non-finite weights'}; try a {self.hint}."
            )


class EpochProgressBar(Callback):
    """One progress bar over the epochs of a fit (``verbose=2``), losses in its postfix.

    Written to stderr and closed when training ends (early stopping included); nothing else
    prints during the fit, so the bar never tangles with other output.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        import sys

        from tqdm import tqdm

        self.bar_ = tqdm(total=net.max_epochs, unit="epoch", file=sys.stderr, leave=True,
                         dynamic_ncols=True, desc=type(net.module_).__name__)

    def on_epoch_end(self, net, **kwargs):
        bar = getattr(self, "bar_", None)
        if bar is None:
            return
        row = net.history[-1]
        bar.set_postfix({k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss") if k in row},
                        refresh=False)
        bar.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        bar = getattr(self, "bar_", None)
        if bar is not None:
            bar.close()
        self.bar_ = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("bar_", None)  # a live terminal handle does not pickle
        return state
