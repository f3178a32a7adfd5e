r"""The :class:`Basis` base class: the contract every basis family implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..._validation import check_count, check_real
from ._plan import FusedPlan, check_fused_maps

__all__ = ["Basis"]

#: Buffers of the fused representation, None until :meth:`Basis.set_fused_maps` sets them.
_FUSED_BUFFERS = ("maps", "curvature_maps", "tanh_slopes")
#: Words older versions used for ``representation`` -> the one vocabulary of today.
_OLD_REPRESENTATIONS = {"monomial": "powers", "chebyshev": "powers", "recurrence": "direct"}


def _check_int(owner: str, name: str, value: object, minimum: int) -> int:
    return check_count(f"{name} of {owner}", value, minimum=minimum)


def _check_real(owner: str, name: str, value: object, lower: float,
                strict: bool = True) -> float:
    return check_real(f"{name} of {owner}", value, minimum=lower, include_minimum=not strict)


def _power_rows(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    """``[x**0, ..., x**(n-1)]``, each power the product of two earlier ones (log depth).

    Fresh tensors and one product each: at the sizes of an MLP layer the cost of a torch call,
    not arithmetic, sets the price, and writes into slices (``out=``) cost more calls."""
    rows = [torch.ones_like(x), x][:n]
    for j in range(2, n):
        rows.append(rows[j // 2] * rows[j - j // 2])
    return rows


class Basis(nn.Module):
    r"""Base class of the basis families: ``u`` (any shape) -> ``u.shape + (n_basis,)``.

    A new family subclasses ``Basis`` and implements :meth:`values`; the rest is optional.

    **Required.** ``__init__(self, n_basis, **options)`` calls ``super().__init__(n_basis)``
    first (it validates ``n_basis`` against the class attribute ``min_basis``), keeps any
    tables in ``register_buffer`` (float64 buffers stay float64 under ``.float()``), and
    stores each option as an attribute of the same name. ``values(u)`` evaluates all
    ``n_basis`` functions at ``u``, a float32 or float64 tensor of any shape already clamped
    to :math:`[-1, 1]`, and returns ``u.shape + (n_basis,)`` with torch operations (autograd
    differentiates them: this *eager* path is also twice differentiable if the operations
    are). ``forward(u)`` clamps and calls ``values``.

    **Optional: the fused path** (:mod:`taafs_sk.nn._fused`, one autograd node per activation
    with an analytic backward). Supply both

    - ``features(u)``: for ``u`` in :math:`[-1, 1]` of any shape, a tensor ``S`` of shape
      ``(m,) + u.shape`` of working features with ``S[0] == 1`` (the activation's bias is
      mapped onto it), in ``u``'s dtype;
    - a call ``self.set_fused_maps(values, slopes)`` at the end of ``__init__``, with two
      arrays of shape ``(n_basis, m)`` such that, for every ``u``,

      .. math::

          B_k(u) = \sum_j \mathrm{values}_{kj} S_j(u), \qquad
          B_k'(u) = \sum_j \mathrm{slopes}_{kj} S_j(u).

    :meth:`set_fused_maps` checks the shapes, ``S[0] == 1`` and the value rows against
    :meth:`values` on a grid (a wrong slope row is not detected: it gives wrong gradients;
    compare with ``TAAF(..., fused=False)``). A basis without them has
    ``supports_fused == False`` and every :class:`~taafs_sk.nn.TAAF` built on it evaluates
    eagerly, whatever its ``fused`` flag says. Every other hook the fused kernels read is
    declared here with a default that works:

    - ``curvatures=`` of :meth:`set_fused_maps` (default None): rows with
      :math:`B_k''(u) = \sum_j \mathrm{curvatures}_{kj} T_j(u)` on the features
      ``T = curvature_features(u, S)``, kept as the buffer ``curvature_maps``. Without them
      the second derivatives (force training) call :meth:`second_derivatives`;
    - :meth:`curvature_features` (default ``S`` itself, and then :math:`B'` and :math:`B''`
      come out of one product) and :meth:`second_derivatives` (default: forward-mode
      differentiation of :meth:`values`; third derivatives are not supported);
    - ``tanh_slopes=`` of :meth:`set_fused_maps` (default None): rows giving
      :math:`(1 - u^2) B_k'(u)` on ``S``, which is :math:`dB_k/dz` under the ``'tanh'``
      normalization (:math:`u = \tanh z`), so that the forward pass gets the gradient factor
      from the same product; kept as the buffer ``tanh_slopes``;
    - ``amplification`` and ``representation`` (below).

    The fused kernels read the maps through a :class:`~taafs_sk.nn.bases.FusedPlan` from
    :meth:`fused_plan`, built lazily per input dtype and device and owned by the basis: it is
    forgotten by :meth:`set_fused_maps`, by moves and casts (``.to()``, ``.float()``) and by
    ``load_state_dict``, and never pickled.

    Register the class by name with :func:`~taafs_sk.nn.register_basis`, or pass an instance
    as ``basis`` to :class:`~taafs_sk.nn.TAAF` or :class:`~taafs_sk.TAAFSRegressor`.

    Parameters
    ----------
    n_basis : int
        Number of basis functions, at least ``min_basis``.

    Attributes
    ----------
    name : str
        Class attribute: the registered name (informational; messages use it).
    min_basis : int
        Class attribute: the smallest allowed ``n_basis`` (default 1).
    representation : {'powers', 'direct'} or None
        What the fused features are (informational; the kernels do not read it). ``'powers'``:
        powers (of ``u``, of :math:`\cos\omega u`, truncated powers :math:`(u - \tau)_+^k`)
        and maps that change basis onto them: few features, but the change can amplify
        rounding (see ``amplification``). ``'direct'``: the basis functions themselves and
        the factors their slopes need, up to constant factors: the maps only pick and scale
        (amplification 1). None (the class default): not stated, as for a family of one's
        own.
    amplification : float
        How much the fused representation can amplify rounding errors (the largest ratio of
        :math:`\sum_j |\mathrm{values}_{kj} S_j|` to :math:`\max |B_k|`; 1 before
        :meth:`set_fused_maps`); above :data:`~taafs_sk.nn.bases.AMPLIFICATION_LIMIT` the
        fused features of float32 inputs are built in float64.
    maps : Tensor of shape (2, n_basis, m) or None
        ``[values, slopes]`` from :meth:`set_fused_maps` (float64), None without them.
    curvature_maps : Tensor of shape (n_basis, m2) or None
        The ``curvatures`` of :meth:`set_fused_maps`, or None.
    tanh_slopes : Tensor of shape (n_basis, m) or None
        The ``tanh_slopes`` of :meth:`set_fused_maps`, or None.

    Examples
    --------
    Monomials :math:`1, u, u^2, ...`, eager only, then with the fused contract:

    >>> import torch
    >>> from taafs_sk.nn import Basis, TAAF
    >>> class Monomials(Basis):
    ...     name = "monomials"
    ...     def values(self, u):
    ...         return u[..., None] ** torch.arange(self.n_basis, dtype=u.dtype)
    >>> Monomials(3)(torch.tensor([2.0]))  # clamped to 1
    tensor([[1., 1., 1.]])
    >>> import numpy as np
    >>> class FusedMonomials(Monomials):
    ...     representation = "powers"
    ...     def __init__(self, n_basis):
    ...         super().__init__(n_basis)
    ...         k = np.arange(n_basis)
    ...         slopes = np.zeros((n_basis, n_basis))
    ...         slopes[k[1:], k[:-1]] = k[1:]  # d/du u^k = k u^(k-1)
    ...         self.set_fused_maps(np.eye(n_basis), slopes)
    ...     def features(self, u):
    ...         return self.values(u).movedim(-1, 0)
    >>> Monomials(4).supports_fused, FusedMonomials(4).supports_fused
    (False, True)
    >>> TAAF(3, FusedMonomials(4)).uses_fused
    True
    """

    __module__ = "taafs_sk.nn.bases"  # its public home, as messages and docs name it
    name: ClassVar[str] = ""
    min_basis: ClassVar[int] = 1
    representation: str | None = None

    def __init__(self, n_basis: int) -> None:
        super().__init__()
        label = self.name or type(self).__name__
        self.n_basis = _check_int(f"basis {label!r}", "n_basis", n_basis, self.min_basis)
        self.amplification = 1.0
        for name in _FUSED_BUFFERS:
            self.register_buffer(name, None)
        self._forget_derived()

    # ------------------------------------------------------------ derived tables, life cycle
    def _forget_derived(self) -> None:
        """Drop the tables derived from the buffers: fused plans and :meth:`cast` results."""
        self._plans: dict[tuple, FusedPlan] = {}
        self._casts: dict[tuple, torch.Tensor] = {}

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> Basis:
        """Move the tables with the module, but never round them: a cast of the network
        (``.float()``, ``.half()``) keeps every float64 buffer in float64 (each use casts it to
        the input's dtype), and forgets the derived tables built for the old device."""
        precise = {k: b for k, b in self._buffers.items()
                   if b is not None and b.dtype == torch.float64}
        super()._apply(fn, recurse)
        for k, old in precise.items():
            new = self._buffers[k]
            if new.dtype != torch.float64:
                self._buffers[k] = old.to(new.device)
        self._forget_derived()
        return self

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._forget_derived()  # the buffers may have changed

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for name in ("_plans", "_casts"):  # derived device tensors: rebuilt on first use
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict) -> None:
        """Load bases pickled by this or an older version (which pickled ``_fused_plans``,
        had no ``tanh_slopes`` or ``curvature_maps`` buffer, or other representation words)."""
        state = dict(state)
        state.pop("_fused_plans", None)
        buffers = state.get("_buffers", {})
        state["_buffers"] = type(buffers)(buffers)
        for name in _FUSED_BUFFERS:
            state["_buffers"].setdefault(name, None)
        state.setdefault("amplification", 1.0)
        word = state.get("representation")
        if word in _OLD_REPRESENTATIONS:
            state["representation"] = _OLD_REPRESENTATIONS[word]
        super().__setstate__(state)
        self._forget_derived()

    def cast(self, name: str, like: torch.Tensor, column: bool = False) -> torch.Tensor:
        """Table ``name`` in the dtype and on the device of ``like``, cached until the module
        moves or is cast.

        ``name`` is a buffer or a table that :meth:`_table` derives from the buffers. With
        ``column`` the result has shape ``(-1,) + (1,) * like.dim()``, ready to broadcast
        against ``like`` along a new leading axis. For use in :meth:`features`, where a
        conversion per call would be one more torch call per activation and step."""
        key = (name, like.dtype, like.device, like.dim() if column else None)
        table = self._casts.get(key)
        if table is None:
            table = self._buffers[name] if name in self._buffers else self._table(name)
            table = table.to(device=like.device, dtype=like.dtype)
            if column:
                table = table.reshape(-1, *([1] * like.dim()))
            self._casts[key] = table
        return table

    def _table(self, name: str) -> torch.Tensor:
        """A table derived from the buffers, for :meth:`cast` (none by default)."""
        raise KeyError(f"{type(self).__name__} has no buffer or derived table {name!r}.")

    # ------------------------------------------------------------------------ evaluation
    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Values of all basis functions at ``u``: shape ``u.shape + (n_basis,)``."""
        if not isinstance(u, torch.Tensor):
            raise TypeError(f"{type(self).__name__}: u must be a torch.Tensor, got "
                            f"{type(u).__name__}.")
        return self.values(u.clamp(-1.0, 1.0))

    def values(self, u: torch.Tensor) -> torch.Tensor:
        """Values at ``u`` (already in [-1, 1]): shape ``u.shape + (n_basis,)``. Required."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement values(u) -> u.shape + (n_basis,)."
        )

    def second_derivatives(self, u: torch.Tensor) -> torch.Tensor:
        """:math:`B_k''(u)` at ``u`` (already in [-1, 1]): shape ``u.shape + (n_basis,)``.

        Used by the fused path's second derivatives (force training) when the basis has no
        ``curvature_maps``. The default differentiates :meth:`values` twice in forward mode
        (:func:`torch.func.jvp`), which works for any family built from differentiable torch
        operations; the built-in families override it with closed forms."""
        ones = torch.ones_like(u)

        def slope(x: torch.Tensor) -> torch.Tensor:
            return torch.func.jvp(self.values, (x,), (ones,))[1]

        return torch.func.jvp(slope, (u,), (ones,))[1]

    # ------------------------------------------------------------------ the fused contract
    def features(self, u: torch.Tensor) -> torch.Tensor:
        """Working features ``(m,) + u.shape`` of the fused representation (``u`` in [-1, 1]).

        Optional, together with :meth:`set_fused_maps`."""
        raise NotImplementedError(
            f"{type(self).__name__} has no fused representation; set_fused_maps was not called."
        )

    def curvature_features(self, u: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
        """Features ``T`` of shape ``(m2,) + u.shape`` on which ``curvature_maps`` give
        :math:`B_k''`, from ``u`` and the forward features ``S = features(u)``; by default
        ``S`` itself. Only the second-derivative pass computes them."""
        return S

    @property
    def curvature_on_features(self) -> bool:
        """Whether :meth:`curvature_features` is the default (``S`` itself), so that the
        slope and curvature rows act on the same features."""
        return type(self).curvature_features is Basis.curvature_features

    @property
    def supports_fused(self) -> bool:
        """Whether the fused path can evaluate this basis (``features`` and maps supplied)."""
        return self.maps is not None

    def fused_plan(self, dtype: torch.dtype) -> FusedPlan:
        """The :class:`~taafs_sk.nn.bases.FusedPlan` for inputs of ``dtype``, built on the first
        call per dtype and device and kept until the maps change or the basis moves.

        Raises
        ------
        NotImplementedError
            When the basis has no fused maps (``supports_fused`` is False).
        """
        if self.maps is None:
            raise NotImplementedError(f"{type(self).__name__} has no fused representation; "
                                      "set_fused_maps was not called.")
        key = (dtype, self.maps.device)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = FusedPlan.build(self, dtype)
        return plan

    def set_fused_maps(self, values: np.ndarray, slopes: np.ndarray,
                       curvatures: np.ndarray | None = None,
                       tanh_slopes: np.ndarray | None = None) -> None:
        """Register the fused maps, measure the rounding amplification, forget old plans.

        Parameters
        ----------
        values, slopes : array-like of shape (n_basis, m)
            Rows giving :math:`B_k` and :math:`B_k'` on the ``m`` rows of ``features(u)``;
            kept as the buffer ``maps`` of shape ``(2, n_basis, m)``.
        curvatures : array-like of shape (n_basis, m2), default=None
            Rows giving :math:`B_k''` on ``curvature_features(u, features(u))`` (``m2`` rows),
            kept as the buffer ``curvature_maps``: the fused second derivatives then need one
            matrix product instead of :meth:`second_derivatives`.
        tanh_slopes : array-like of shape (n_basis, m), default=None
            Rows giving :math:`(1 - u^2) B_k'(u)` on ``features(u)``, kept as the buffer
            ``tanh_slopes``: under the ``'tanh'`` normalization the forward product then
            gives :math:`dB_k/dz` directly.

        Raises
        ------
        ValueError
            When the shapes disagree, ``features(u)[0]`` is not 1, ``values @ features``
            does not reproduce :meth:`values`, or ``tanh_slopes @ features`` is not
            :math:`(1 - u^2)` times ``slopes @ features``.
        """
        maps, curv, tanh, self.amplification = check_fused_maps(self, values, slopes, curvatures,
                                                                tanh_slopes)
        self.register_buffer("maps", maps)
        self.register_buffer("curvature_maps", curv)
        self.register_buffer("tanh_slopes", tanh)
        self._forget_derived()

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}"
