"""A small minibatch trainer for retraining a torch network with some parameters frozen.

Used for retraining on realised hardware activations (``hardware.py``), for the matching
control run, and for noise-aware fine-tuning (``noise.py``). Kept apart from skorch on
purpose: these runs train a network that no longer belongs to a skorch net (a copy with
replaced activations, or a network converted from scikit-learn), with a forward ``hook``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from ..exceptions import TrainingDivergedError
from ..nn.network import Hook

__all__ = ["train_module", "weight_parameters"]


def _keep_best(network, trained, Xv, Tv, best):
    """``(loss, parameter copies)`` of the better of ``best`` and the current parameters."""
    with torch.no_grad():
        network.eval()
        loss = float(torch.mean((network(Xv) - Tv) ** 2))
        network.train()
    if best is None or loss < best[0]:
        return loss, [p.detach().clone() for p in trained]
    return best


def weight_parameters(mlp: nn.Module) -> list[nn.Parameter]:
    """The affine parameters of an ``MLP`` (hidden, output and skip layers), not its
    activations' parameters: what retraining on fixed hardware activation shapes may change."""
    layers = [*mlp.hidden, mlp.output] + ([mlp.skip] if mlp.skip is not None else [])
    return [p for layer in layers for p in layer.parameters()]


def train_module(
    network: nn.Module,
    X: np.ndarray,
    T: np.ndarray,
    *,
    params: Iterable[nn.Parameter] | None = None,
    epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int = 64,
    random_state=None,
    hook_factory: Callable[[torch.Generator], Hook] | None = None,
    validation_fraction: float | None = None,
) -> list[float]:
    """Train ``network`` in place with Adam on the mean squared error to ``T``.

    Parameters
    ----------
    network : nn.Module
        Called as ``network(x)`` or, with ``hook_factory``, ``network(x, hook)``; returns
        ``(batch, n_outputs)`` or, when the hook adds noise draws, ``(n_draws, batch, n_outputs)``
        (the loss then averages over the draws).
    X : ndarray of shape (n_samples, n_features)
        Network inputs.
    T : ndarray of shape (n_samples, n_outputs)
        Targets in network units.
    params : iterable of nn.Parameter, default=None
        Parameters to train; all others are frozen for the run. ``None``: all of them.
    epochs : int, default=100
        Passes over the data.
    lr : float, default=1e-3
        Adam learning rate.
    batch_size : int, default=64
        Minibatch size.
    random_state : int, RandomState instance or None, default=None
        Seeds the minibatch order and the generator handed to ``hook_factory``.
    hook_factory : callable ``(torch.Generator) -> hook``, default=None
        Builds the forward hook (e.g. noise injection) of each training step.
    validation_fraction : float, default=None
        Hold out this fraction of the rows (drawn with the same seed) and, at the end, restore
        the trained parameters of the epoch with the lowest (noiseless) validation loss.
        ``None``: train on all rows and keep the last epoch.

    Returns
    -------
    loss_curve : list of float
        Mean training loss per epoch.

    Raises
    ------
    TrainingDivergedError
        If a loss or a parameter becomes non-finite.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from taafs_sk.analog._training import train_module
    >>> net = torch.nn.Linear(2, 1).double()
    >>> X = np.random.RandomState(0).normal(size=(64, 2)); T = X[:, :1] - X[:, 1:]
    >>> curve = train_module(net, X, T, epochs=30, lr=0.05, batch_size=16, random_state=0)
    >>> curve[-1] < 0.01 * curve[0]
    True
    """
    all_params = list(network.parameters())
    dtype = all_params[0].dtype
    device = all_params[0].device
    trained = list(all_params if params is None else params)
    trained_ids = {id(p) for p in trained}
    saved = [p.requires_grad for p in all_params]
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    gen = torch.Generator(device="cpu").manual_seed(seed)
    Xt = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
    Tt = torch.as_tensor(np.asarray(T).reshape(len(X), -1), dtype=dtype, device=device)
    Xv = Tv = best = None
    n_valid = int((validation_fraction or 0.0) * len(Xt))
    if 1 <= n_valid < len(Xt):  # too few rows: train on all of them
        perm = torch.randperm(len(Xt), generator=gen).to(device)
        Xv, Tv = Xt[perm[:n_valid]], Tt[perm[:n_valid]]
        Xt, Tt = Xt[perm[n_valid:]], Tt[perm[n_valid:]]
    optimizer = torch.optim.Adam(trained, lr=lr)
    was_training = network.training
    curve: list[float] = []
    try:
        for p in all_params:
            p.requires_grad_(id(p) in trained_ids)
        network.train()
        for epoch in range(epochs):
            order = torch.randperm(len(Xt), generator=gen).to(device)
            total = torch.zeros((), dtype=dtype, device=device)
            for idx in order.split(batch_size):
                # a fresh hook per step: new noise draws, weight noise included
                out = (network(Xt[idx]) if hook_factory is None
                       else network(Xt[idx], hook_factory(gen)))
                loss = torch.mean((out - Tt[idx]) ** 2)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total = total + loss.detach() * len(idx)
            curve.append(float(total) / len(Xt))
            if not np.isfinite(curve[-1]):
                raise TrainingDivergedError(
                    f"retraining diverged at epoch {epoch + 1} (loss {curve[-1]}); "
                    "try a lower learning rate."
                )
            if Xv is not None:
                best = _keep_best(network, trained, Xv, Tv, best)
        if best is not None:
            with torch.no_grad():
                for p, value in zip(trained, best[1], strict=True):
                    p.copy_(value)
    finally:
        for p, flag in zip(all_params, saved, strict=True):
            p.requires_grad_(flag)
        network.train(was_training)
    return curve
