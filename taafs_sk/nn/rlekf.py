r"""RLEKF: the reorganised-layer extended Kalman filter as a torch optimiser.

Training as state estimation (S. Hu et al., AAAI 2023, arXiv:2212.06989): the trainable
parameters :math:`\theta` are the state, each label a noisy scalar measurement of the model.
One update, with :math:`H` the gradient of the (aggregated) prediction with respect to
:math:`\theta`, :math:`\varepsilon` its error, :math:`P` the error covariance of the weights
and :math:`\lambda` the memory factor:

.. math::

    a = \lambda^{-1} H^\top P H + \alpha^2 R, \qquad
    K = \frac{P H}{\lambda a}, \qquad
    P \leftarrow \lambda^{-1}\,(P - K H^\top P), \qquad
    \theta \leftarrow \theta + K \varepsilon,

    \lambda_t = 1 - (1 - \lambda_1)\, \nu^{t-1}.

"Reorganised layers": the flattened parameter vector is cut into consecutive blocks of at most
``block_size`` numbers (a tensor larger than that is split into full blocks, smaller
consecutive tensors are gathered until the next would overflow the block), and :math:`P` is
block diagonal over them, so it costs :math:`\sum_b N_b^2` numbers. :math:`H^\top P H` is the
sum over the blocks, so :math:`a` stays one scalar shared by all blocks and no matrix is
inverted.

A group of measurements (a minibatch of targets, the force components of a group of atoms) is
folded into one, as in the paper: with errors :math:`e_i` and signs :math:`s_i`, the
measurement is the mean :math:`m^{-1} \sum_i s_i \hat y_i` with error
:math:`m^{-1} \sum_i |e_i|` (the sign folding keeps errors of opposite sign from cancelling;
with weights, the weighted mean, so a weight ``k`` counts as ``k`` copies).
:meth:`RLEKF.measure` does this from a prediction tensor that still carries its autograd
graph; :meth:`RLEKF.update` takes a gradient and an error directly.

The optimiser knows nothing of skorch: ``taafs_sk.taafs._rlekf_net.RLEKFNet`` is the training
step that feeds it minibatch errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch

from .._validation import check_count, check_real
from .checks import check_finite_tensor

__all__ = ["RLEKF", "SYMMETRIZE_EVERY", "block_sizes", "covariance_bytes"]

#: Updates between two symmetrisations of the covariance blocks. The rank-one update is
#: symmetric up to rounding; symmetrising costs about ten updates' time, so it is periodic.
SYMMETRIZE_EVERY = 32


def block_sizes(param_sizes: Sequence[int], block_size: int) -> list[int]:
    """Sizes of the consecutive blocks that the flattened parameters are cut into.

    Parameters
    ----------
    param_sizes : sequence of int
        Number of elements of each parameter tensor, in order.
    block_size : int
        Largest block :math:`N_b`.

    Returns
    -------
    sizes : list of int
        Block sizes; they sum to ``sum(param_sizes)``, each is at most ``block_size``. A
        tensor larger than ``block_size`` is split into full blocks and its remainder starts
        a new block; smaller consecutive tensors are gathered into one block while they fit.

    Examples
    --------
    >>> from taafs_sk.nn.rlekf import block_sizes
    >>> block_sizes([30, 5, 100, 8, 1], block_size=40)
    [35, 40, 40, 29]
    """
    block_size = check_count("block_size of RLEKF", block_size)
    sizes: list[int] = []
    current = 0
    for i, n in enumerate(param_sizes):
        n = check_count(f"param_sizes[{i}]", n, minimum=0)
        if current and current + n > block_size:
            sizes.append(current)
            current = 0
        while n > block_size:  # split a big tensor; the remainder is gathered further
            sizes.append(block_size)
            n -= block_size
        current += n
    if current:
        sizes.append(current)
    return sizes


def covariance_bytes(sizes: Iterable[int], dtype: torch.dtype = torch.float32) -> int:
    """Memory of the block-diagonal covariance: :math:`\\sum_b N_b^2` numbers of ``dtype``.

    Examples
    --------
    >>> from taafs_sk.nn.rlekf import covariance_bytes
    >>> covariance_bytes([5120, 5120, 5120, 4640]) / 1e6  # MB for a 20,000-weight network, float32
    400.6912
    """
    itemsize = torch.empty((), dtype=dtype).element_size()
    counts = [check_count(f"sizes[{i}]", n, minimum=0) for i, n in enumerate(sizes)]
    return sum(n * n for n in counts) * itemsize


def _as_like(name: str, value, prediction: torch.Tensor, nonnegative: bool = False) -> torch.Tensor:
    """``value`` as a tensor of ``prediction``'s dtype and device that broadcasts to its shape
    without enlarging it, with finite entries (a ValueError naming ``name`` otherwise)."""
    value = torch.as_tensor(value, dtype=prediction.dtype, device=prediction.device)
    try:
        fits = torch.broadcast_shapes(value.shape, prediction.shape) == prediction.shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"{name} of shape {tuple(value.shape)} does not broadcast to the "
                         f"prediction's shape {tuple(prediction.shape)}.")
    return check_finite_tensor(name, value, nonnegative)


def _checked_measurement(prediction, target, scale, weight) -> tuple:
    """``(target, scale, weight)`` of :meth:`RLEKF.measure` as tensors, or a TypeError or
    ValueError naming the argument: shapes that differ, non-finite values, negative weights,
    a prediction without its autograd graph. One finiteness scan of each tensor given."""
    if not isinstance(prediction, torch.Tensor) or not prediction.is_floating_point():
        kind = getattr(prediction, "dtype", type(prediction).__name__)
        raise TypeError("prediction of RLEKF.measure must be a floating-point torch.Tensor, "
                        f"got {kind}.")
    if not prediction.requires_grad:
        raise ValueError("prediction of RLEKF.measure must carry its autograd graph (the "
                         "model's output computed with gradients enabled, not under "
                         "torch.no_grad() and not detached).")
    target = torch.as_tensor(target, dtype=prediction.dtype, device=prediction.device)
    if target.shape != prediction.shape:
        raise ValueError(f"target of RLEKF.measure has shape {tuple(target.shape)} but "
                         f"prediction has shape {tuple(prediction.shape)}; they must be the "
                         "same (reshape one, e.g. target.reshape(prediction.shape)).")
    check_finite_tensor("target of RLEKF.measure", target)
    check_finite_tensor("prediction of RLEKF.measure", prediction)
    if scale is not None:
        scale = _as_like("scale of RLEKF.measure", scale, prediction)
    if weight is not None:
        weight = _as_like("weight of RLEKF.measure", weight, prediction, nonnegative=True)
    return target, scale, weight


def _check_options(lr, block_size, lambda1, nu, p0, noise, max_memory_mb, weight_decay) -> None:
    """Refuse RLEKF options out of range, naming them (the library's scalar checks)."""
    for name, value in (("lr", lr), ("p0", p0), ("max_memory_mb", max_memory_mb)):
        check_real(f"{name} of RLEKF", value, minimum=0, include_minimum=False)
    for name, value in (("lambda1", lambda1), ("nu", nu)):
        check_real(f"{name} of RLEKF", value, minimum=0, maximum=1, include_minimum=False)
    if noise is not None:
        check_real("noise of RLEKF", noise, minimum=0, include_minimum=False)
    check_count("block_size of RLEKF", block_size)
    if weight_decay != 0:
        raise ValueError(
            f"weight_decay of RLEKF must be 0 (the Kalman filter has no L2 penalty), got "
            f"{weight_decay!r}; use optimizer='adamw' for weight decay."
        )


class RLEKF(torch.optim.Optimizer):
    r"""Reorganised-layer extended Kalman filter (see the module docstring for the equations).

    A ``torch.optim.Optimizer`` so that skorch builds, pickles and checkpoints it like any
    other, but it is not driven by ``loss.backward(); step()``: it needs the error of each
    measurement, so call :meth:`measure` (or :meth:`update`) instead.

    Parameters
    ----------
    params : iterable of tensors or dicts
        The parameters to train (those with ``requires_grad=False`` are left out of the state).
    lr : float, default=1.0
        Multiplier of the weight update :math:`K\varepsilon`; 1 is the filter itself.
    block_size : int, default=5120
        Largest block :math:`N_b` of the block-diagonal covariance.
    lambda1 : float, default=0.98
        Initial memory factor :math:`\lambda_1` in (0, 1]; 1 means no forgetting (recursive
        least squares on a linear model).
    nu : float, default=0.9987
        Rate :math:`\nu` in (0, 1] at which :math:`\lambda_t` approaches 1.
    p0 : float, default=1.0
        Initial covariance :math:`P_0 = p_0 I`.
    noise : float, default=None
        Measurement noise :math:`\alpha^2 R`; ``None``: the number of blocks, as in the paper.
    max_memory_mb : float, default=1024
        Budget for the covariance; a network whose blocks need more is refused.
    weight_decay : float, default=0.0
        Accepted for skorch's routing; must be 0 (the filter has no L2 penalty).

    Attributes
    ----------
    sizes : list of int
        Block sizes over the flattened trainable parameters.
    P : list of tensors
        The covariance blocks, each ``(N_b, N_b)``.
    memory_factor : float
        The :math:`\lambda_t` the next update uses.
    n_updates : int
        Updates made so far.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.rlekf import RLEKF
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Linear(3, 1)
    >>> opt = RLEKF(model.parameters(), lambda1=1.0, p0=100.0)
    >>> X = torch.randn(64, 3)
    >>> y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    >>> for x_i, y_i in zip(X, y):
    ...     _ = opt.measure(model(x_i), y_i)
    >>> torch.round(model.weight, decimals=2).tolist(), opt.sizes
    ([[1.0, -2.0, 0.5]], [4])
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        block_size: int = 5120,
        lambda1: float = 0.98,
        nu: float = 0.9987,
        p0: float = 1.0,
        noise: float | None = None,
        max_memory_mb: float = 1024.0,
        weight_decay: float = 0.0,
    ) -> None:
        _check_options(lr, block_size, lambda1, nu, p0, noise, max_memory_mb, weight_decay)
        defaults = dict(lr=lr, block_size=int(block_size), lambda1=lambda1, nu=nu, p0=p0,
                        noise=noise, max_memory_mb=max_memory_mb, weight_decay=0.0)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                f"RLEKF takes one parameter group, got {len(self.param_groups)} (e.g. from "
                "optimizer__param_groups); freeze parameters with requires_grad_(False) instead."
            )
        self._layout()
        need = covariance_bytes(self.sizes, self._params[0].dtype) / 2**20
        if need > max_memory_mb:
            raise ValueError(
                f"RLEKF needs {need:.0f} MiB for its {len(self.sizes)} covariance blocks "
                f"({sum(self.sizes)} parameters at block_size={block_size}), over "
                f"max_memory_mb={max_memory_mb}; lower block_size or raise max_memory_mb."
            )
        first = self._params[0]
        self.state["rlekf"] = {
            "P": [p0 * torch.eye(n, dtype=first.dtype, device=first.device)
                  for n in self.sizes],
            "memory_factor": float(lambda1),
            "n_updates": 0,
        }

    def _layout(self) -> None:
        """The trainable parameters, in order, and the block sizes over them."""
        self._params = [p for group in self.param_groups for p in group["params"]
                        if p.requires_grad]
        if not self._params:
            raise ValueError("RLEKF got no trainable parameters (all have requires_grad=False).")
        self._numels = [p.numel() for p in self._params]
        self.sizes = block_sizes(self._numels, self.param_groups[0]["block_size"])

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._layout()

    @property
    def P(self) -> list[torch.Tensor]:  # noqa: N802 (the paper's name)
        return self.state["rlekf"]["P"]

    @property
    def memory_factor(self) -> float:
        return self.state["rlekf"]["memory_factor"]

    @property
    def n_updates(self) -> int:
        return self.state["rlekf"]["n_updates"]

    @torch.no_grad()
    def symmetrize(self) -> None:
        """Replace each covariance block by :math:`(P + P^\\top) / 2` (done every
        :data:`SYMMETRIZE_EVERY` updates; the rank-one update is symmetric up to rounding)."""
        for P in self.P:
            P.copy_(0.5 * (P + P.T))

    def step(self, closure=None):
        """Not used: RLEKF needs each measurement's error; call :meth:`measure`."""
        raise TypeError(
            "RLEKF.step() cannot update from a loss alone: call measure(prediction, target) "
            "(or update(grads, error)); TAAFSRegressor(optimizer='rlekf') does this for you."
        )

    def _flat_gradient(self, grads) -> torch.Tensor:
        """:math:`H` of :meth:`update` as one flat finite vector, or a ValueError."""
        n_params = sum(self._numels)
        if isinstance(grads, torch.Tensor):
            h = grads.reshape(-1)
            if h.numel() != n_params:
                raise ValueError(f"grads of RLEKF.update has {h.numel()} entries, but the "
                                 f"optimiser trains {n_params} numbers.")
        else:
            grads = list(grads)
            if len(grads) != len(self._params):
                raise ValueError(f"grads of RLEKF.update holds {len(grads)} tensors, one per "
                                 f"trainable parameter expected ({len(self._params)}).")
            h = torch.cat([torch.zeros_like(p).reshape(-1) if g is None else g.reshape(-1)
                           for p, g in zip(self._params, grads, strict=True)])
        check_finite_tensor("grads of RLEKF.update", h)
        return h

    @torch.no_grad()
    def update(self, grads: Sequence[torch.Tensor | None] | torch.Tensor, error) -> None:
        """One Kalman update from the gradient ``H`` of a scalar measurement and its error.

        Parameters
        ----------
        grads : sequence of tensors (one per trainable parameter, None for no gradient) or \
a flat tensor of shape (n_params,)
            :math:`H`, the gradient of the measurement with respect to the parameters.
        error : float or 0-d tensor
            :math:`\\varepsilon`, target minus prediction.

        Raises
        ------
        ValueError
            If ``grads`` does not match the trainable parameters or holds a non-finite value,
            or ``error`` is not one finite number; nothing is updated.
        """
        h = self._flat_gradient(grads)
        try:
            error = float(error)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"error of RLEKF.update must be one number, got "
                            f"{type(error).__name__}.") from None
        if not math.isfinite(error):
            raise ValueError(f"error of RLEKF.update must be finite, got {error}.")
        state, group = self.state["rlekf"], self.param_groups[0]
        lam = state["memory_factor"]
        noise = len(self.sizes) if group["noise"] is None else group["noise"]
        h_blocks = torch.split(h.to(self.P[0].dtype), self.sizes)
        ph = [P @ hb for P, hb in zip(self.P, h_blocks, strict=True)]  # (N_b,) each
        hph = sum(torch.dot(hb, v) for hb, v in zip(h_blocks, ph, strict=True))
        scale = 1.0 / (lam * (hph / lam + noise))  # K = P H * scale
        for P, v in zip(self.P, ph, strict=True):  # P <- (P - K (P H)^T) / lam, in one pass
            P.addr_(v, v, beta=1.0 / lam, alpha=-float(scale) / lam)
        step = torch.cat(ph) * (scale * error * group["lr"])  # K eps, flat
        steps = torch.split(step, self._numels)
        torch._foreach_add_(
            self._params, [s.view_as(p) for s, p in zip(steps, self._params, strict=True)]
        )
        state["n_updates"] += 1
        t = state["n_updates"]
        if t % SYMMETRIZE_EVERY == 0:
            self.symmetrize()
        state["memory_factor"] = 1.0 - (1.0 - group["lambda1"]) * group["nu"] ** t

    def measure(self, prediction: torch.Tensor, target, scale=None, weight=None) -> float:
        r"""One update from a group of scalar measurements, folded into one (sign trick).

        Parameters
        ----------
        prediction : tensor
            Predictions with their autograd graph (any shape; each element a measurement).
        target : tensor or array-like
            Labels, of the shape of ``prediction`` (a shape that only broadcasts to it is
            refused: ``(4, 1)`` against ``(3,)`` is a mistake, not 12 measurements).
        scale : float or tensor, default=None
            Multiplies predictions and errors, broadcast to ``prediction``'s shape (a change
            of units, e.g. ``1 / n_atoms`` per structure for energies per atom).
        weight : tensor, default=None
            Non-negative weight of each measurement, broadcast to ``prediction``'s shape: the
            fold becomes the weighted mean, so an integer weight ``k`` counts as ``k`` copies.

        Returns
        -------
        error : float
            The folded error :math:`\sum_i w_i |e_i| / \sum_i w_i` used for the update (0,
            and no update, when every weight is 0 or ``prediction`` is empty).

        Raises
        ------
        TypeError
            If ``prediction`` is not a floating tensor.
        ValueError
            If ``prediction`` has no autograd graph, ``target`` has another shape, ``scale``
            or ``weight`` would enlarge it, or any of them holds a non-finite value (or
            ``weight`` a negative one), named with its first bad index. Nothing is updated.
        """
        target, scale, weight = _checked_measurement(prediction, target, scale, weight)
        if prediction.numel() == 0:  # nothing measured: no update (P would only grow)
            return 0.0
        err = (target - prediction).detach()
        if scale is not None:
            err = err * scale
            prediction = prediction * scale
        sign = torch.where(err < 0, -1.0, 1.0).to(prediction.dtype)
        if weight is None:
            w = torch.full_like(err, 1.0 / err.numel())
        else:
            w = torch.broadcast_to(weight, err.shape)
            total = w.sum()
            if not total > 0:
                return 0.0
            w = w / total
        measurement = (w * sign * prediction).sum()
        grads = torch.autograd.grad(measurement, self._params, allow_unused=True)
        folded = (w * err.abs()).sum()
        self.update(grads, folded)
        return float(folded)
