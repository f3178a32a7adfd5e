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
from numbers import Integral

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import ValidSplit

from .._validation import check_count, check_finite_array
from ..nn._checks import check_device, check_torch_module
from ..nn._denormals import flush_denormals
from ..nn.rlekf import RLEKF
from ._iterators import TensorBatchIterator
from ._rlekf_net import RLEKFNet
from .callbacks import FiniteLossGuard

__all__ = [
    "MIN_VALID_ROWS", "OPTIMIZERS", "build_net", "fit_net", "loss_curves", "optimizer_params",
]

#: Optimizer names accepted by :func:`build_net` (a ``torch.optim.Optimizer`` class works too).
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "rlekf": RLEKF,  # trained by RLEKFNet's Kalman step, not by loss.backward()
}
#: Fewer validation rows than this and early stopping monitors the training loss instead.
MIN_VALID_ROWS = 5


def _silent(*args, **kwargs) -> None:
    """Picklable sink that drops EarlyStopping's message."""


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


def _optimizer_class(optimizer) -> type[torch.optim.Optimizer]:
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer "
                f"class, got {optimizer!r}."
            )
        return OPTIMIZERS[optimizer]
    return optimizer


def optimizer_params(optimizer, options: dict | None, owner: str) -> dict:
    """``options`` of ``optimizer`` as skorch's ``optimizer__<name>`` arguments, names checked.

    Examples
    --------
    >>> from taafs_sk.taafs.training import optimizer_params
    >>> optimizer_params("rlekf", {"block_size": 1024}, "TAAFSRegressor")
    {'optimizer__block_size': 1024}
    """
    options = dict(options or {})
    allowed = set(inspect.signature(_optimizer_class(optimizer)).parameters) - {"params"}
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
    **net_params,
) -> NeuralNetRegressor:
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
        gradient and are never changed). ``'rlekf'`` (:class:`~taafs_sk.nn.rlekf.RLEKF`)
        trains with ``RLEKFNet`` (a skorch net), one Kalman update per
        minibatch; its options go in as ``optimizer__block_size=...`` etc.
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
    **net_params
        Any other ``NeuralNetRegressor`` argument, with skorch's prefixes
        (``optimizer__momentum``, ``optimizer__param_groups``, ``module__...``,
        ``callbacks__early_stopping__threshold``, ...).

    Returns
    -------
    net : skorch.NeuralNetRegressor
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
    n_valid = np.inf if n_samples is None else int(np.floor(validation_fraction * n_samples))
    use_valid = early_stopping and not incremental and n_valid >= MIN_VALID_ROWS
    cbs = [("finite_loss", FiniteLossGuard(hint=divergence_hint))]
    if early_stopping and not incremental:
        cbs.append((
            "early_stopping",
            EarlyStopping(
                monitor="valid_loss" if use_valid else "train_loss",
                patience=patience, load_best=True, sink=_silent,
            ),
        ))
    if verbose >= 2:
        cbs.append(("progress_bar", EpochProgressBar()))
    cbs.extend(callbacks or [])
    params = {
        "iterator_train__shuffle": True,
        "optimizer__weight_decay": weight_decay,
        **net_params,
    }
    opt_cls = _optimizer_class(optimizer)
    kalman = isinstance(opt_cls, type) and issubclass(opt_cls, RLEKF)
    return (RLEKFNet if kalman else NeuralNetRegressor)(
        module=module,
        criterion=criterion,
        optimizer=opt_cls,
        lr=1.0 if kalman else lr,  # the filter's step is its gain (optimizer__lr scales it)
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=TensorBatchIterator,
        iterator_valid=TensorBatchIterator,
        train_split=ValidSplit(validation_fraction, random_state=random_state)
        if use_valid else None,
        callbacks=cbs,
        verbose=int(verbose == 1),  # 1: skorch's epoch table; 2: only the epoch bar
        device=device,
        **params,
    )


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


def fit_net(
    net: NeuralNetRegressor, X, y, *, seed: int | None = None, epochs: int | None = None
) -> NeuralNetRegressor:
    """Initialise (if needed) and train ``net`` on float32 copies of ``X`` and ``y``.

    Parameters
    ----------
    net : skorch.NeuralNetRegressor
        From :func:`build_net`.
    X : array-like or tensor of shape (n_samples, n_features)
        Inputs.
    y : array-like or tensor of shape (n_samples, n_outputs)
        Targets in network units.
    seed : int, default=None
        Seed of torch's global generator for the run (weight initialisation of a module
        given as a class, minibatch order); the caller's generator state is restored
        afterwards. ``None``: use and advance the global generator.
    epochs : int, default=None
        ``None``: ``net.fit`` (up to ``max_epochs``, early stopping applies). An int: continue
        training for that many epochs with ``net.partial_fit``.

    Returns
    -------
    net : skorch.NeuralNetRegressor
        The trained net.

    Notes
    -----
    Training runs with subnormal floats flushed to zero on the CPU
    (:func:`taafs_sk.nn._denormals.flush_denormals`): Adam's moment estimates otherwise
    underflow into them and slow epochs down up to fifty-fold.
    """
    if epochs is not None and (not isinstance(epochs, Integral) or epochs < 1):
        raise ValueError(f"epochs must be a positive int or None, got {epochs!r}.")
    if not isinstance(net, NeuralNetRegressor):
        raise TypeError(f"net must be a skorch NeuralNetRegressor (from build_net), got "
                        f"{net!r:.80} ({type(net).__name__}).")
    for name, data in (("X", X), ("y", y)):
        check_finite_array(name, data.detach().cpu() if isinstance(data, torch.Tensor) else data)
    Xt, yt = _float_tensor(X), _float_tensor(y)
    with torch.random.fork_rng(devices=[]), flush_denormals():
        if seed is not None:
            torch.manual_seed(int(seed))
        if epochs is None and not net.initialized_:
            net.fit(Xt, yt)  # initialises once (a second initialize would re-create it all)
        else:
            if not net.initialized_:
                net.initialize()
            net.partial_fit(Xt, yt, epochs=None if epochs is None else int(epochs))
    return net


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
