"""The training recipe of the trainable activations: their own learning rate, a penalty that
keeps their shape near the starting one, a warm-up with frozen shapes, and the LR schedule.

:func:`recipe_net_params` turns :class:`~taafs_sk.TAAFSRegressor`'s ``activation_lr``,
``activation_alpha``, ``activation_warmup`` and ``lr_schedule`` into skorch arguments and
callbacks for :func:`~taafs_sk.taafs.training.build_net`:

- ``activation_lr``: an optimizer parameter group of its own for the activation coefficients
  (every parameter under ``activations.``), routed with skorch's ``optimizer__param_groups``;
- ``activation_alpha``: :class:`ShapePenalty`, the L2 penalty
  :math:`\\alpha \\lVert c - c_0 \\rVert^2` on the distance of the coefficients from their
  initial values, added to the gradients after each backward pass (so it pulls the learned
  shape towards the starting one, not towards zero, as weight decay would);
- ``activation_warmup``: :class:`FreezeActivations`, which keeps the shapes fixed for the first
  epochs so that the weights first settle under the initial shape;
- ``lr_schedule``: ``'constant'``, ``'cosine'`` (cosine annealing over ``max_epochs``) or
  ``'plateau'`` (halve the rate when the monitored loss stalls for ``patience // 3`` epochs);
- ``skip_connection='ridge'``: :class:`RidgeSkip`, which sets the linear skip path to a ridge
  fit of the training rows and keeps it there, so the network learns the residual.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback, LRScheduler

from ._ridge import ridge_gcv

__all__ = [
    "ACTIVATION_PARAMS", "LR_SCHEDULES", "RIDGE_ALPHAS", "FreezeActivations", "RidgeSkip",
    "ShapePenalty",
    "activation_parameters", "recipe_net_params",
]

#: skorch (fnmatch) pattern of the activation parameters of a taafs_sk.nn.MLP.
ACTIVATION_PARAMS = "activations.*"
#: Accepted values of ``lr_schedule``.
LR_SCHEDULES = ("constant", "cosine", "plateau")
#: Ridge penalties :class:`RidgeSkip` chooses from (by generalised cross-validation).
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-6, 3, 19))


def activation_parameters(module: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The trainable parameters of ``module``'s activations (empty for a fixed activation).

    Examples
    --------
    >>> from taafs_sk.nn.activations import make_activation_factory
    >>> from taafs_sk.nn.network import MLP
    >>> from taafs_sk.taafs._recipe import activation_parameters
    >>> mlp = MLP(3, (4, 4), 1, make_activation_factory("bspline", n_basis=6))
    >>> [tuple(p.shape) for p in activation_parameters(mlp)]
    [(7,), (7,)]
    """
    return [p for name, p in module.named_parameters()
            if name.startswith("activations.") and p.requires_grad]


class ShapePenalty(Callback):
    """Add the gradient of :math:`\\alpha \\sum \\lVert c - c_0 \\rVert^2` over the activation
    coefficients to their gradients, after each backward pass.

    :math:`c_0` is taken at the start of training (``on_train_begin``), so with a warm start
    the penalty holds the shape near the one training resumed from.

    Parameters
    ----------
    alpha : float, default=1e-3
        Strength of the penalty (added to the training loss, in standardised units).

    Examples
    --------
    >>> from taafs_sk.taafs._recipe import ShapePenalty
    >>> ShapePenalty(alpha=0.01).alpha
    0.01
    """

    def __init__(self, alpha: float = 1e-3) -> None:
        self.alpha = alpha

    def on_train_begin(self, net, **kwargs) -> None:
        params = activation_parameters(net.module_)
        self.params_ = params
        self.initial_ = [p.detach().clone() for p in params]

    def on_grad_computed(self, net, named_parameters=None, **kwargs) -> None:
        if not self.alpha:
            return
        with torch.no_grad():
            for p, p0 in zip(self.params_, self.initial_, strict=True):
                if p.grad is not None:
                    p.grad.add_(p - p0, alpha=2.0 * self.alpha)


class FreezeActivations(Callback):
    """Keep the activation shapes fixed for the first ``epochs`` epochs of training.

    The coefficients get ``requires_grad=False`` (so no optimizer, weight decay included,
    changes them) until the given epoch, then are trained like every other parameter.
    Epochs are counted in the net's history, so with ``partial_fit`` (one epoch a call) the
    first ``epochs`` calls keep the shapes fixed.

    Parameters
    ----------
    epochs : int, default=10
        Number of epochs with frozen shapes.

    Examples
    --------
    >>> from taafs_sk.taafs._recipe import FreezeActivations
    >>> FreezeActivations(epochs=5).epochs
    5
    """

    def __init__(self, epochs: int = 10) -> None:
        self.epochs = epochs

    def on_train_begin(self, net, **kwargs) -> None:
        self.params_ = activation_parameters(net.module_)

    def on_epoch_begin(self, net, **kwargs) -> None:
        # the net adds this epoch's history row before the callbacks are told
        frozen = len(net.history) - 1 < self.epochs
        for p in self.params_:
            p.requires_grad_(not frozen)
            if frozen:
                p.grad = None

    def on_train_end(self, net, **kwargs) -> None:
        for p in self.params_:
            p.requires_grad_(True)


class RidgeSkip(Callback):
    """Set the network's linear skip path to a ridge fit of the training rows, then freeze it.

    At the start of the first training run, a ridge regression (penalty from
    :data:`RIDGE_ALPHAS` by generalised cross-validation, the fit of ``RidgeCV``; with more
    rows than columns and no sample weights by :func:`~taafs_sk.taafs._ridge.ridge_gcv`) is
    fitted to all rows handed to ``fit``, weighted by their sample weights (the early-stopping
    rows included: the skip path is part of the model, like a scaler fitted before it); the
    skip weights and the output bias take its coefficients and intercept, the output weights
    are set to zero, and the skip path is frozen. The network's prediction therefore starts
    at the ridge prediction and the hidden layers learn the residual. Later runs (warm start,
    ``partial_fit``) keep the path as it is.

    Examples
    --------
    >>> import torch
    >>> from skorch import NeuralNetRegressor
    >>> from taafs_sk.nn.activations import make_activation_factory
    >>> from taafs_sk.nn.network import MLP
    >>> from taafs_sk.taafs._recipe import RidgeSkip
    >>> X = torch.randn(200, 3); y = X @ torch.tensor([[1.0], [2.0], [-1.0]]) + 0.5
    >>> mlp = MLP(3, (4,), 1, make_activation_factory("tanh"), skip_connection=True)
    >>> net = NeuralNetRegressor(mlp, max_epochs=1, train_split=None, verbose=0,
    ...                          callbacks=[RidgeSkip()])
    >>> _ = net.fit(X, y)
    >>> [round(float(w), 2) for w in mlp.skip.weight[0]], mlp.skip.weight.requires_grad
    ([1.0, 2.0, -1.0], False)
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs) -> None:
        module = net.module_
        skip = getattr(module, "skip", None)
        if skip is None or not skip.weight.requires_grad:  # none, or already set
            return
        weight = X.get("sample_weight") if isinstance(X, dict) else None
        Xa = _float64(X["X"] if isinstance(X, dict) else X)
        ya = _float64(y).reshape(len(Xa), -1)
        if len(Xa) > Xa.shape[1] and weight is None:  # tall: one p x p eigendecomposition
            coef, intercept, alpha = ridge_gcv(Xa, ya, RIDGE_ALPHAS)
        else:  # the same fit by RidgeCV, which also weighs rows
            from sklearn.linear_model import RidgeCV

            w = None if weight is None else _float64(weight)
            ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(Xa, ya, sample_weight=w)
            coef, intercept, alpha = ridge.coef_, ridge.intercept_, ridge.alpha_
        with torch.no_grad():
            skip.weight.copy_(torch.as_tensor(np.reshape(coef, skip.weight.shape)))
            module.output.bias.copy_(torch.as_tensor(np.ravel(intercept)))
            module.output.weight.zero_()
        skip.weight.requires_grad_(False)
        self.alpha_ = float(alpha)


def _float64(a) -> np.ndarray:
    return np.asarray(torch.as_tensor(a).detach().cpu(), dtype=np.float64)


def _scheduler(lr_schedule: str, max_epochs: int, patience: int, monitor: str):
    if lr_schedule == "cosine":
        return LRScheduler(policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                           T_max=max_epochs, step_every="epoch")
    return LRScheduler(policy=torch.optim.lr_scheduler.ReduceLROnPlateau, monitor=monitor,
                       factor=0.5, patience=max(patience // 3, 1), step_every="epoch")


def recipe_net_params(
    *,
    optimizer,
    activation_lr: float | None = None,
    activation_alpha: float = 0.0,
    activation_warmup: int = 0,
    lr_schedule: str = "constant",
    ridge_skip: bool = False,
    max_epochs: int = 300,
    patience: int = 30,
    monitor: str = "valid_loss",
    owner: str = "TAAFSRegressor",
) -> tuple[dict, list]:
    """skorch arguments and callbacks of the activation recipe, for ``build_net``.

    Parameters
    ----------
    optimizer : str or type
        The optimizer: the recipe needs a gradient optimizer (not ``'rlekf'``).
    activation_lr : float or None, default=None
        Learning rate of the activation coefficients (None: the network's ``lr``).
    activation_alpha : float, default=0.0
        Strength of :class:`ShapePenalty` (0: none).
    activation_warmup : int, default=0
        Epochs of :class:`FreezeActivations` (0: none).
    lr_schedule : {'constant', 'cosine', 'plateau'}, default='constant'
        Learning-rate schedule.
    ridge_skip : bool, default=False
        Add :class:`RidgeSkip` (the module must have a skip path).
    max_epochs, patience : int
        Of the training run (the cosine period, the plateau patience).
    monitor : str, default='valid_loss'
        History key the plateau schedule watches.
    owner : str, default='TAAFSRegressor'
        Named in error messages.

    Returns
    -------
    net_params : dict
        ``optimizer__param_groups`` when ``activation_lr`` is set, else empty.
    callbacks : list of (name, callback)
        The recipe's callbacks.

    Examples
    --------
    >>> from taafs_sk.taafs._recipe import recipe_net_params
    >>> params, cbs = recipe_net_params(optimizer="adam", activation_lr=0.01,
    ...                                 lr_schedule="cosine")
    >>> params["optimizer__param_groups"], [name for name, _ in cbs]
    ([('activations.*', {'lr': 0.01})], ['lr_schedule'])
    """
    recipe = activation_lr is not None or activation_alpha or activation_warmup
    if optimizer == "rlekf" and (recipe or lr_schedule != "constant"):
        raise ValueError(
            f"activation_lr, activation_alpha, activation_warmup and lr_schedule of {owner} "
            "need a gradient optimizer; optimizer='rlekf' takes Kalman steps. Got "
            f"activation_lr={activation_lr!r}, activation_alpha={activation_alpha!r}, "
            f"activation_warmup={activation_warmup!r}, lr_schedule={lr_schedule!r}."
        )
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule of {owner} must be one of {list(LR_SCHEDULES)}, got "
                         f"{lr_schedule!r}.")
    params: dict = {}
    if activation_lr is not None:
        params["optimizer__param_groups"] = [(ACTIVATION_PARAMS, {"lr": float(activation_lr)})]
    cbs: list = []
    if activation_alpha:
        cbs.append(("shape_penalty", ShapePenalty(float(activation_alpha))))
    if activation_warmup:
        cbs.append(("activation_warmup", FreezeActivations(int(activation_warmup))))
    if ridge_skip:
        cbs.append(("ridge_skip", RidgeSkip()))
    if lr_schedule != "constant":
        cbs.append(("lr_schedule", _scheduler(lr_schedule, max_epochs, patience, monitor)))
    return params, cbs
