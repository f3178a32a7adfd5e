"""Train a :class:`~taafs_sk.analog.TorchModel` in place through the skorch set-up of
:class:`~taafs_sk.TAAFSRegressor` (:func:`taafs_sk.taafs.training.build_net`).

The analog wrappers retrain networks that no longer belong to a skorch net: a copy whose
activations are realised hardware shapes (only its weights are trained), the matching control
run, and noise-aware fine-tuning (a noise hook in every training step). This module only adapts
them to ``build_net``: a small wrapper module calls the network with a fresh hook per training
step and in its own dtype, and the parameters that must not change get
``requires_grad=False`` for the run. Early stopping, divergence errors, callbacks and the epoch
table are skorch's, as for every estimator of the package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from ..nn.network import MLP, Hook
from ..taafs.training import build_net, fit_net, loss_curves
from ._adapters import TorchModel

__all__ = ["HookedNetwork", "train_model", "weight_parameters"]


def weight_parameters(mlp: MLP) -> list[nn.Parameter]:
    """The affine parameters of an ``MLP`` (hidden, output and skip layers), not its
    activations' parameters: what retraining on fixed hardware activation shapes may change."""
    layers = [*mlp.hidden, mlp.output] + ([mlp.skip] if mlp.skip is not None else [])
    return [p for layer in layers for p in layer.parameters()]


class HookedNetwork(nn.Module):
    """``x -> network(x, hook)``: a network with a forward hook as a plain torch module.

    Parameters
    ----------
    network : taafs_sk.nn.network.MLP
        Trained in place (it is a submodule, not a copy).
    hook_factory : callable ``(torch.Generator) -> hook``, default=None
        Builds the hook of each training-mode call (a fresh noise draw per step). Evaluation
        mode (skorch's validation and prediction) calls the network without a hook.
    seed : int, default=0
        Seeds the generator handed to ``hook_factory``.

    Notes
    -----
    Inputs are cast to the network's dtype and outputs back to the input's, so that a
    float64 network (one converted from scikit-learn) trains on skorch's float32 batches.
    A hook that adds one leading draw axis gives ``(1, batch, n_outputs)``; it is dropped.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.analog._training import HookedNetwork
    >>> from taafs_sk.nn.network import MLP
    >>> mlp = MLP(3, (4,), 1, lambda i, n: torch.nn.Tanh()).double()
    >>> HookedNetwork(mlp)(torch.zeros(5, 3)).dtype
    torch.float32
    """

    def __init__(self, network: MLP, hook_factory: Callable[[torch.Generator], Hook] | None = None,
                 seed: int = 0) -> None:
        super().__init__()
        self.network = network
        self.hook_factory = hook_factory
        self.generator = torch.Generator().manual_seed(int(seed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = next(self.network.parameters()).dtype
        hook = None
        if self.training and self.hook_factory is not None:
            hook = self.hook_factory(self.generator)
        out = self.network(x.to(dtype), hook)
        return out.reshape(len(x), -1).to(x.dtype)


def train_model(
    model: TorchModel, X, y, *, params: Iterable[nn.Parameter] | None = None, epochs: int = 100,
    lr: float = 1e-3, batch_size: int = 64, validation_fraction: float | None = None,
    patience: int | None = None, hook_factory=None, random_state=None, verbose: int = 0,
    callbacks: list | None = None, divergence_hint: str = "lower `lr`",
) -> list[float]:
    """Train ``model.mlp`` in place (Adam, mean squared error); return the training loss per
    epoch (network units).

    ``X`` and ``y`` are in the estimator's units; the model's preprocessing and target scaling
    apply. ``params``: the parameters to train (``None``: all); the others are frozen for the
    run. ``validation_fraction``: hold out that fraction of the rows, stop after ``patience``
    epochs without improvement (``None``: never, train all ``epochs``) and restore the best
    epoch's weights; ``None`` keeps the last epoch. ``random_state`` seeds the validation
    split, the minibatch order and the noise of ``hook_factory``. Raises
    :class:`~taafs_sk.exceptions.TrainingDivergedError` (suggesting ``divergence_hint``) if the
    loss or the weights become non-finite.
    """
    mlp = model.mlp
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    Xn, Tn = model.network_input(X), model.target_to_network(y)
    net = build_net(
        HookedNetwork(mlp, hook_factory, seed), n_samples=len(Xn), max_epochs=epochs,
        batch_size=batch_size, lr=lr, early_stopping=validation_fraction is not None,
        validation_fraction=0.1 if validation_fraction is None else validation_fraction,
        patience=epochs if patience is None else patience, random_state=seed,
        verbose=verbose, callbacks=callbacks, divergence_hint=divergence_hint,
        device=str(next(mlp.parameters()).device),
    )
    all_params = list(mlp.parameters())
    saved = [p.requires_grad for p in all_params]
    trained = {id(p) for p in (all_params if params is None else params)}
    try:
        for p in all_params:
            p.requires_grad_(id(p) in trained)
        fit_net(net, Xn, Tn, seed=seed)
    finally:
        for p, flag in zip(all_params, saved, strict=True):
            p.requires_grad_(flag)
        mlp.eval()
    return loss_curves(net)[0]

