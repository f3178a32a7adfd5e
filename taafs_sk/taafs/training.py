"""The skorch training set-up shared by every estimator that trains a torch network.

:func:`build_net` wraps any ``torch.nn.Module`` that maps a float tensor ``X`` of shape
``(batch, n_features)`` to predictions of ``y`` in a skorch ``NeuralNetRegressor`` with the
recipe :class:`~taafs_sk.TAAFSRegressor` uses: early stopping on a held-out split (best
weights restored), :class:`~taafs_sk.taafs.callbacks.FiniteLossGuard` against divergence, the
fast :class:`~taafs_sk.taafs._iterators.TensorBatchIterator`, the optimizer by name, and
skorch's epoch table / progress bar by ``verbose``. :func:`fit_net` then trains it with torch's
global generator seeded and restored afterwards, so that a fit is reproducible and leaves the
caller's random state alone.

Retraining part of a network (e.g. only the weights of a network whose activations are fixed
hardware shapes, with a noise hook in the forward pass):

- put the hook in a small wrapper module, ``forward(x) -> network(x, hook)``, and hand the
  wrapper to :func:`build_net`; an output with extra leading axes (noise draws) needs a
  ``criterion`` that reduces them, e.g. a module computing ``((out - y) ** 2).mean()``;
- freeze what must not change with ``p.requires_grad_(False)``. The optimizer still lists
  those parameters, but they never receive a gradient, so no optimizer (weight decay and
  momentum included) updates them;
- or route options per parameter group with skorch's own syntax,
  ``build_net(..., optimizer__param_groups=[("activations.*", {"lr": 0.0})])``;
- an already initialised network is kept as it is: skorch only re-creates a module given as a
  class, and ``build_net`` never re-initialises the weights.

Examples
--------
>>> import torch
>>> from taafs_sk.taafs.training import build_net, fit_net
>>> module = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
>>> _ = module[0].weight.requires_grad_(False)  # frozen: never updated
>>> X, y = torch.randn(100, 3), torch.randn(100, 1)
>>> net = build_net(module, n_samples=len(X), max_epochs=5, random_state=0)
>>> before = module[0].weight.clone()
>>> net = fit_net(net, X, y, seed=0)
>>> bool(torch.equal(before, module[0].weight)), len(net.history)
(True, 5)
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from .._validation import check_count, check_finite_array
from ..nn.checks import check_device, check_torch_module
from ..nn.denormals import flush_denormals
from ..nn.optimizers import OPTIMIZER_REGISTRY, is_measurement_optimizer, optimizer_class
from ._iterators import TensorBatchIterator
from .callbacks import EpochProgressBar, FiniteLossGuard
from .checkpoint import TrainingCheckpoint, resume
from .net import TrainingNet

__all__ = [
    "MIN_VALID_ROWS", "OPTIMIZERS", "build_net", "early_stopping_monitor", "fit_net",
    "loss_curves", "optimizer_params",
]

#: Optimizer names accepted by :func:`build_net` (a ``torch.optim.Optimizer`` class works
#: too): the live table of :data:`taafs_sk.nn.optimizers.OPTIMIZER_REGISTRY`.
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = OPTIMIZER_REGISTRY.classes
#: Fewer validation rows than this and early stopping monitors the training loss instead.
MIN_VALID_ROWS = 5


def _silent(*args, **kwargs) -> None:
    """Picklable sink that drops EarlyStopping's message."""


def early_stopping_monitor(early_stopping: bool, incremental: bool, n_samples: int | None,
                           validation_fraction: float) -> str | None:
    """What early stopping watches: ``'valid_loss'`` when enough rows can be held out (at
    least :data:`MIN_VALID_ROWS`; ``n_samples=None`` assumes so), ``'train_loss'`` when too
    few can, None without early stopping (or for ``partial_fit``, which never stops early).

    Examples
    --------
    >>> from taafs_sk.taafs.training import early_stopping_monitor
    >>> early_stopping_monitor(True, False, 100, 0.1), early_stopping_monitor(True, False, 20, 0.1)
    ('valid_loss', 'train_loss')
    """
    if not early_stopping or incremental:
        return None
    n_valid = np.inf if n_samples is None else int(np.floor(validation_fraction * n_samples))
    return "valid_loss" if n_valid >= MIN_VALID_ROWS else "train_loss"


def optimizer_params(optimizer, options: dict | None, owner: str) -> dict:
    """``options`` of ``optimizer`` as skorch's ``optimizer__<name>`` arguments, names checked.

    Examples
    --------
    >>> from taafs_sk.taafs.training import optimizer_params
    >>> optimizer_params("rlekf", {"block_size": 1024}, "TAAFSRegressor")
    {'optimizer__block_size': 1024}
    """
    options = dict(options or {})
    allowed = set(inspect.signature(optimizer_class(optimizer)).parameters) - {"params"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"optimizer_kwargs of {owner} has {unknown}, which optimizer={optimizer!r} does not "
            f"take; valid names: {sorted(allowed)}."
        )
    return {f"optimizer__{name}": value for name, value in options.items()}


def build_net(
    module,
    *,
    n_samples: int | None = None,
    max_epochs: int = 300,
    batch_size: int = 64,
    lr: float = 1e-3,
    optimizer="adam",
    weight_decay: float = 0.0,
    early_stopping: bool = True,
    validation_fraction: float = 0.1,
    patience: int = 30,
    incremental: bool = False,
    random_state: int | None = None,
    verbose: int = 0,
    callbacks: list | None = None,
    criterion=torch.nn.MSELoss,
    device: str = "cpu",
    divergence_hint: str = "lower `lr`",
    split=None,
    **net_params,
) -> TrainingNet:
    """A skorch ``NeuralNetRegressor`` training ``module`` with the TAAFS recipe (not initialised).

    Parameters
    ----------
    module : torch.nn.Module or type
        The network, called as ``module(X_batch)``. An instance is trained in place.
    n_samples : int, default=None
        Number of training rows, to decide whether ``validation_fraction`` of them is enough
        to hold out (at least 5 rows). ``None``: assume it is.
    max_epochs : int, default=300
        Maximum passes over the data (``net.fit``); ``net.partial_fit(X, y, epochs=k)`` runs k.
    batch_size : int, default=64
        Minibatch size.
    lr : float, default=1e-3
        Learning rate (not used by ``'rlekf'``, whose step is the Kalman gain; route
        ``optimizer__lr`` to scale that).
    optimizer : {'adam', 'adamw', 'sgd', 'rmsprop', 'rlekf'} or torch.optim.Optimizer \
class, default='adam'
        Optimizer over all parameters of ``module`` (those with ``requires_grad=False`` get no
        gradient and are never changed); names from
        :data:`~taafs_sk.nn.optimizers.OPTIMIZER_REGISTRY`. A measurement optimiser such as
        ``'rlekf'`` (:class:`~taafs_sk.nn.rlekf.RLEKF`) makes one Kalman update per group of
        a minibatch's errors (see :class:`~taafs_sk.taafs.net.TrainingNet`); its options go
        in as ``optimizer__block_size=...`` etc.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, stop when their loss has not improved
        for ``patience`` epochs, and restore the best weights. With too few rows to hold out,
        the training loss is monitored instead.
    validation_fraction : float, default=0.1
        Fraction of the rows held out for early stopping.
    patience : int, default=30
        Epochs without improvement before stopping.
    incremental : bool, default=False
        For warm starts (``partial_fit``): no early stopping, no held-out rows.
    random_state : int, default=None
        Seed of the validation split (the weights and minibatch order follow torch's global
        generator: see :func:`fit_net`).
    verbose : int, default=0
        0: silent; 1: one line per epoch (skorch's epoch table); 2: one progress bar over
        the epochs (:class:`EpochProgressBar`, on stderr) and nothing else.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra callbacks, added after ``finite_loss``, ``early_stopping`` and ``progress_bar``.
    criterion : torch loss class or instance, default=torch.nn.MSELoss
        The training loss.
    device : str, default='cpu'
        Torch device.
    divergence_hint : str, default='lower `lr`'
        Fix suggested when the loss becomes non-finite
        (:class:`~taafs_sk.exceptions.TrainingDivergedError`).
    split : callable, default=None
        skorch ``train_split`` used instead of a random ``ValidSplit(validation_fraction)``
        when rows are held out (e.g. the last block of consecutive MD frames).
    **net_params
        Any other :class:`~taafs_sk.taafs.net.TrainingNet` argument (``iterator_train``,
        ``iterator_valid`` replace the default :class:`TensorBatchIterator`), with skorch's prefixes
        (``optimizer__momentum``, ``optimizer__param_groups``, ``module__...``,
        ``callbacks__early_stopping__threshold``, ...).

    Returns
    -------
    net : TrainingNet
        Not yet initialised; :func:`fit_net` (or ``net.initialize()``) does that.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.taafs.training import build_net
    >>> net = build_net(torch.nn.Linear(2, 1), n_samples=100, max_epochs=3, optimizer="sgd")
    >>> [name for name, _ in net.callbacks]
    ['finite_loss', 'early_stopping']
    """
    _check_build_args(module, max_epochs, batch_size, patience, device)
    monitor = early_stopping_monitor(early_stopping, incremental, n_samples,
                                     validation_fraction)
    if monitor == "valid_loss" and split is None:
        split = ValidSplit(validation_fraction, random_state=random_state)
    params = {"iterator_train": TensorBatchIterator, "iterator_valid": TensorBatchIterator,
              "iterator_train__shuffle": True, "optimizer__weight_decay": weight_decay,
              # skorch builds its epoch table even when silent: only verbose=1 prints it
              **({} if verbose == 1 else {"callbacks__print_log": None}),
              **net_params}
    return TrainingNet(
        module=module, criterion=criterion, optimizer=optimizer_class(optimizer),
        # a Kalman step is its gain (optimizer__lr scales it)
        lr=1.0 if is_measurement_optimizer(optimizer_class(optimizer)) else lr,
        max_epochs=max_epochs, batch_size=batch_size,
        train_split=split if monitor == "valid_loss" else None,
        callbacks=_callbacks(monitor, patience, verbose, divergence_hint, callbacks),
        verbose=int(verbose == 1),  # 1: skorch's epoch table; 2: only the epoch bar
        device=device, **params,
    )


def _callbacks(monitor, patience, verbose, divergence_hint, callbacks) -> list:
    """The divergence guard, early stopping on ``monitor`` (None: none), the progress bar at
    ``verbose=2``, then the caller's callbacks."""
    cbs = [("finite_loss", FiniteLossGuard(hint=divergence_hint))]
    if monitor is not None:
        cbs.append(("early_stopping", EarlyStopping(monitor=monitor, patience=patience,
                                                    load_best=True, sink=_silent)))
    if verbose >= 2:
        cbs.append(("progress_bar", EpochProgressBar()))
    return cbs + list(callbacks or [])


def _check_build_args(module, max_epochs, batch_size, patience, device) -> None:
    if not (isinstance(module, torch.nn.Module)
            or (isinstance(module, type) and issubclass(module, torch.nn.Module))):
        check_torch_module("module", module)
    for name, value in (("max_epochs", max_epochs), ("batch_size", batch_size),
                        ("patience", patience)):
        check_count(name, value)
    check_device("device", device)


def _float_tensor(a) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.float()
    return torch.from_numpy(np.array(a, dtype=np.float32, copy=True))


def _checked_data(name: str, data):
    """``data`` as float32 tensors (a dict: each value) after a finiteness check; a torch
    ``Dataset`` (structures, ...) or None as given."""
    if data is None or isinstance(data, torch.utils.data.Dataset):
        return data
    if isinstance(data, Mapping):
        return {k: _checked_data(name if k == "X" else k, v) for k, v in data.items()}
    check_finite_array(name, data.detach().cpu() if isinstance(data, torch.Tensor) else data)
    return _float_tensor(data)


def fit_net(
    net: NeuralNetRegressor, X, y, *, seed: int | None = None, epochs: int | None = None,
    checkpoint: TrainingCheckpoint | None = None,
) -> NeuralNetRegressor:
    """Initialise (if needed) and train ``net`` on float32 copies of ``X`` and ``y``.

    Parameters
    ----------
    net : skorch.NeuralNetRegressor
        From :func:`build_net`.
    X : array-like or tensor of shape (n_samples, n_features), dict, or torch Dataset
        Inputs; a dict ``{"X": inputs, "sample_weight": w}`` carries sample weights (see
        :class:`~taafs_sk.taafs.net.TrainingNet`); a ``torch.utils.data.Dataset`` yields
        ``(X_i, y_i)`` itself (then ``y`` is None) and is handed to skorch as it is.
    y : array-like or tensor of shape (n_samples, n_outputs) or None
        Targets in network units.
    seed : int, default=None
        Seed of torch's global generator for the run (weight initialisation of a module
        given as a class, minibatch order); the caller's generator state is restored
        afterwards. ``None``: use and advance the global generator.
    epochs : int, default=None
        ``None``: ``net.fit`` (up to ``max_epochs``, early stopping applies). An int: continue
        training for that many epochs with ``net.partial_fit``.
    checkpoint : TrainingCheckpoint, default=None
        Bound to this fit (:meth:`TrainingCheckpoint.for_fit
        <taafs_sk.taafs.checkpoint.TrainingCheckpoint.for_fit>`): the run is written to it
        as it trains and, when it already holds this fit, resumed from it instead (the
        returned net is then the resumed one, not ``net``). Only with ``epochs=None``.

    Returns
    -------
    net : skorch.NeuralNetRegressor
        The trained net.

    Notes
    -----
    Training runs with subnormal floats flushed to zero on the CPU
    (:func:`taafs_sk.nn.denormals.flush_denormals`): Adam's moment estimates otherwise
    underflow into them and slow epochs down up to fifty-fold.
    """
    if epochs is not None:
        epochs = check_count("epochs", epochs)
    if not isinstance(net, NeuralNetRegressor):
        raise TypeError(f"net must be a skorch NeuralNetRegressor (from build_net), got "
                        f"{net!r:.80} ({type(net).__name__}).")
    if checkpoint is not None:
        _add_checkpoint(net, checkpoint, epochs)
    Xt, yt = _checked_data("X", X), _checked_data("y", y)
    with torch.random.fork_rng(devices=[]), flush_denormals():
        if seed is not None:
            torch.manual_seed(int(seed))
        resumed = resume(checkpoint, Xt, yt)
        if resumed is not None:
            return resumed
        if epochs is None and not net.initialized_:
            net.fit(Xt, yt)  # initialises once (a second initialize would re-create it all)
        else:
            if not net.initialized_:
                net.initialize()
            net.partial_fit(Xt, yt, epochs=None if epochs is None else int(epochs))
    return net


def _add_checkpoint(net, checkpoint: TrainingCheckpoint, epochs) -> None:
    """Make ``checkpoint`` the net's last callback (it must see the other callbacks' state
    at the end of each epoch, and the best weights restored at the end of training)."""
    if epochs is not None:
        raise ValueError("checkpoint resumes whole fits (epochs=None); partial_fit epochs are "
                         f"not checkpointed, got epochs={epochs!r}.")
    if not isinstance(checkpoint, TrainingCheckpoint):
        raise TypeError(f"checkpoint must be a TrainingCheckpoint, got {checkpoint!r:.80}.")
    callbacks = [*(net.callbacks or []), ("checkpoint", checkpoint)]
    if net.initialized_:
        net.set_params(callbacks=callbacks)
    else:
        net.callbacks = callbacks


def loss_curves(net: NeuralNetRegressor) -> tuple[list[float], list[float] | None]:
    """``(train_loss per epoch, valid_loss per epoch or None)`` from a trained net's history.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.taafs.training import build_net, fit_net, loss_curves
    >>> net = build_net(torch.nn.Linear(2, 1), early_stopping=False, max_epochs=2)
    >>> train, valid = loss_curves(fit_net(net, torch.randn(20, 2), torch.randn(20, 1), seed=0))
    >>> len(train), valid
    (2, None)
    """
    history = net.history
    train = [float(v) for v in history[:, "train_loss"]]
    has_valid = len(history) and "valid_loss" in history[-1]
    valid = [float(v) for v in history[:, "valid_loss"]] if has_valid else None
    return train, valid
