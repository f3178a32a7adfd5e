r"""The trainable adaptive activation :class:`TAAF` (public home:
:mod:`taafs_sk.nn.activations`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._validation import check_count, warn_user
from .._validation._text import short
from ._fused import NORMALIZATIONS, fused_taaf, normalize
from .bases import Basis, resolve_basis
from .checks import InvalidTypeError
from .fixed import FIXED_ACTIVATIONS

__all__ = ["TAAF", "TAAF_SHARING", "INITS"]

#: ``sharing`` of one TAAF: one set of coefficients for every neuron it sees, or one per neuron.
TAAF_SHARING = ("shared", "neuron")
#: Old spelling of TAAF's ``sharing='shared'`` (it meant one set for the whole module).
_DEPRECATED_SHARING = {"layer": "shared"}
INITS = ("tanh", "silu", "identity")
_INIT_TARGETS = {"tanh": torch.tanh, "silu": F.silu, "identity": lambda z: z}
_INIT_GRID = (-3.0, 3.0, 601)


def _check_choice(owner: str, name: str, value: object, options: Sequence[str]) -> None:
    """``InvalidTypeError`` (a TypeError) for a non-string, ``ValueError`` for an unknown one."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name} of {owner} must be one of {list(options)}, got "
                               f"{short(value)} ({type(value).__name__}).")
    if value not in options:
        raise ValueError(f"{name} of {owner} must be one of {list(options)}, got {value!r}.")


def _check_flag(owner: str, name: str, value: object) -> bool:
    """A bool (numpy's included), else a TypeError naming ``name`` and the value."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} of {owner} must be True or False, got {short(value)} "
                        f"({type(value).__name__}).")
    return bool(value)


def _check_num_features(num_features: object, sharing: str) -> int | None:
    """``num_features`` of TAAF: None (only for a shared TAAF) or a positive integer."""
    if num_features is None:
        if sharing == "neuron":
            raise ValueError("num_features of TAAF must be a positive integer when "
                             "sharing='neuron', got None.")
        return None
    try:
        return check_count("num_features of TAAF", num_features)
    except TypeError as exc:  # a ValueError too, as before 0.3 (see InvalidTypeError)
        raise InvalidTypeError(str(exc)) from None


def _is_fixed(basis: object) -> bool:
    return isinstance(basis, str) and basis in FIXED_ACTIVATIONS


def _taaf_sharing(sharing: object) -> str:
    """``sharing`` of TAAF checked; the deprecated ``'layer'`` becomes ``'shared'``."""
    if isinstance(sharing, str) and sharing in _DEPRECATED_SHARING:
        new = _DEPRECATED_SHARING[sharing]
        warn_user(f"sharing={sharing!r} of TAAF is deprecated; use sharing={new!r} (one set of "
                  "coefficients for every neuron the module sees). 'layer' names only the "
                  "one-activation-per-hidden-layer scheme of make_activation_factory and the "
                  "estimators.", FutureWarning)
        return new
    _check_choice("TAAF", "sharing", sharing, TAAF_SHARING)
    return sharing


class _Function(nn.Module):
    """A plain callable (``torch.tanh``, ``F.silu``) as a module, so that TAAF can hold it."""

    __module__ = "taafs_sk.nn.activations"  # where pickles look for it

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.fn(z)


class TAAF(nn.Module):
    r"""Trainable adaptive activation, a drop-in replacement for ``nn.Tanh()``/``nn.SiLU()``.

    .. math::

        \sigma(z) = \phi_0(z) + \sum_{k=1}^{K} c_k B_k(\mathrm{norm}(z)) + b,

    with :math:`\phi_0 = 0` (the TAAFS paper's form, ``init`` a name) or a fixed base
    activation (the *residual* form, ``init`` a callable: the base activation plus a trainable
    correction, as in KAN layers). Acts elementwise; any leading dimensions are allowed.

    Parameters
    ----------
    num_features : int or None, default=None
        Width of the layer (the last axis). Required when ``sharing='neuron'``; a shared
        activation works on any width.
    basis : str or Basis, default='bspline'
        Basis family: a name from :func:`taafs_sk.nn.bases.available_bases` (including those
        added by :func:`~taafs_sk.nn.register_basis`) or a :class:`~taafs_sk.nn.Basis`
        instance, which is copied (its own ``n_basis`` and options are used).
    n_basis : int, default=8
        Number of basis functions :math:`K` of a basis given by name; ignored for an instance.
    sharing : {'shared', 'neuron'}, default='shared'
        ``'shared'``: one set of coefficients :math:`(c, b)` for every neuron the module sees;
        ``'neuron'``: coefficients of shape ``(num_features, n_basis)`` and bias
        ``(num_features,)``. Sharing across layers or networks is sharing one module object
        (see :func:`make_activation_factory`, whose ``'layer'`` scheme gives each hidden
        layer its own ``'shared'`` TAAF). ``'layer'``, the old spelling of ``'shared'``, is
        accepted with a FutureWarning.
    normalization : {'tanh', 'softsign', 'clamp', 'none'}, default='tanh'
        Map from :math:`z` to the basis domain: :math:`\tanh z`; :math:`z/(1+|z|)` (slower
        saturation); :math:`\mathrm{clip}(z/3, -1, 1)` (piecewise linear, flat beyond
        :math:`|z| = 3`); :math:`\mathrm{clip}(z, -1, 1)` (``z`` used as it is, for inputs
        already in [-1, 1]).
    basis_kwargs : dict, default=None
        Options of a basis given by name (``order``, ``period``, ``width``, ``alpha``,
        ``beta``); must be None for an instance.
    init : {'tanh', 'silu', 'identity'} or callable, default='tanh'
        Starting shape. A name: the coefficients are the least-squares fit of that function on
        601 points of :math:`z \in [-3, 3]`, the bias 0 and :math:`\phi_0 = 0` (close to the
        target, not equal to it: how close depends on the basis). A callable or
        :class:`~torch.nn.Module` :math:`\phi_0` (e.g. ``nn.CELU(alpha=0.1)``,
        ``torch.tanh``): the residual form with :math:`c = 0`, :math:`b = 0`, which
        reproduces :math:`\phi_0` exactly at step 0; :math:`\phi_0` is kept as the
        submodule ``base`` (a plain function is wrapped), moves with ``.to()`` and is
        differentiated by autograd. It must be picklable for the TAAF to be.
    fused : bool, default=True
        Use the fused kernels of :mod:`taafs_sk.nn._fused` (one autograd node, analytic first
        and second derivatives) when the basis supplies them (``basis.supports_fused``; every
        built-in family does). ``False``, or a basis without them, evaluates with plain torch
        operations (the reference). Both are twice differentiable (forces).
        ``uses_fused`` tells which path runs in eager mode; under :func:`torch.compile` and
        :func:`torch.export.export` the plain path is always traced.

    Attributes
    ----------
    basis : taafs_sk.nn.bases.Basis
        The basis module (it owns the plan of the fused kernels; see
        :meth:`~taafs_sk.nn.Basis.fused_plan`).
    base : nn.Module or None
        :math:`\phi_0` of the residual form, None otherwise.
    init : str or callable
        Read-only: the ``init`` given, a name or the callable :math:`\phi_0` (the module
        ``base``, or the plain function it wraps).
    residual : bool
        Read-only: whether the activation has the residual form (``init`` was a callable).
    weight : nn.Parameter of shape (n_basis + 1,) or (num_features, n_basis + 1)
        The trainable values :math:`[c_1, ..., c_K, b]`, kept in one tensor so that an
        optimizer updates one parameter per activation.
    coefficients : Tensor of shape (n_basis,) or (num_features, n_basis)
        :math:`c_k` (a view of ``weight``).
    bias : Tensor of shape () or (num_features,)
        :math:`b` (a view of ``weight``).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from taafs_sk.nn import TAAF
    >>> act = TAAF(4, "chebyshev1", n_basis=6)
    >>> z = torch.linspace(-2, 2, 5)[:, None].expand(5, 4)
    >>> bool((act(z) - torch.tanh(z)).abs().max() < 1e-4)
    True
    >>> celu = TAAF(basis="bspline", init=nn.CELU(alpha=0.1))  # residual form
    >>> torch.equal(celu(z), nn.CELU(alpha=0.1)(z)), celu.residual, celu.init is celu.base
    (True, True, True)
    """

    __module__ = "taafs_sk.nn.activations"  # its public home, as pickles and docs name it

    def __init__(
        self,
        num_features: int | None = None,
        basis: str | Basis = "bspline",
        *,
        n_basis: int = 8,
        sharing: str = "shared",
        normalization: str = "tanh",
        basis_kwargs: dict | None = None,
        init: str | Callable[[torch.Tensor], torch.Tensor] = "tanh",
        fused: bool = True,
    ) -> None:
        super().__init__()
        _check_choice("TAAF", "normalization", normalization, NORMALIZATIONS)
        sharing = _taaf_sharing(sharing)
        if not callable(init):
            _check_choice("TAAF", "init", init, INITS)
        elif getattr(init, "inplace", False) is True:  # phi0(z) would overwrite z
            raise ValueError(f"init of TAAF must not work in place, got {init!r}: it would "
                             "overwrite the input that the basis reads too; pass it with "
                             "inplace=False.")
        self.num_features = _check_num_features(num_features, sharing)
        self.normalization = normalization
        self.sharing = sharing
        self.fused = _check_flag("TAAF", "fused", fused)
        self.basis = resolve_basis(basis, n_basis, basis_kwargs, owner="TAAF")
        if callable(init):
            self._init = None
            self.base = init if isinstance(init, nn.Module) else _Function(init)
            weight = torch.zeros(self.basis.n_basis + 1)
        else:
            self._init = init
            self.base = None
            weight = torch.cat([self._initial_coefficients(init), torch.zeros(1)])  # (K + 1,)
        if sharing == "neuron":
            weight = weight.repeat(self.num_features, 1)  # (F, K + 1)
        self.weight = nn.Parameter(weight)

    def __setstate__(self, state: dict) -> None:
        """Load TAAFs pickled by older versions (``n_features``, ``per_neuron``,
        ``sharing='layer'``, ``init='residual'``)."""
        state = dict(state)
        if "per_neuron" in state:
            state["sharing"] = "neuron" if state.pop("per_neuron") else "shared"
            state["num_features"] = state.pop("n_features", None)
            state.setdefault("_modules", {}).setdefault("base", None)
        if state.get("sharing") in _DEPRECATED_SHARING:
            state["sharing"] = _DEPRECATED_SHARING[state["sharing"]]
        if "init" in state:  # the name, or 'residual' for the residual form
            init = state.pop("init")
            state["_init"] = None if init == "residual" else init
        super().__setstate__(state)

    @property
    def init(self) -> str | Callable[[torch.Tensor], torch.Tensor]:
        """The ``init`` given: a name, or :math:`\\phi_0` of the residual form (read-only)."""
        if self.base is None:
            return self._init
        return self.base.fn if isinstance(self.base, _Function) else self.base

    @property
    def n_basis(self) -> int:
        return self.basis.n_basis

    @property
    def residual(self) -> bool:
        """Whether the activation is the residual form :math:`\\phi_0 + \\sum_k c_k B_k + b`."""
        return self.base is not None

    @property
    def per_neuron(self) -> bool:
        """``sharing == 'neuron'`` (read-only, for code written against taafs-sk 0.1)."""
        return self.sharing == "neuron"

    @property
    def n_features(self) -> int | None:
        """``num_features`` (read-only alias, for code written against taafs-sk 0.1)."""
        return self.num_features

    @property
    def uses_fused(self) -> bool:
        """Whether ``forward`` takes the fused path (``fused`` and a basis that supports it)."""
        return self.fused and self.basis.supports_fused

    @property
    def coefficients(self) -> torch.Tensor:
        """:math:`c_k`: view of ``weight``, shape ``(n_basis,)`` or ``(num_features, n_basis)``."""
        return self.weight[..., :-1]

    @property
    def bias(self) -> torch.Tensor:
        """:math:`b`: view of ``weight``, shape ``()`` or ``(num_features,)``."""
        return self.weight[..., -1]

    def _initial_coefficients(self, init: str) -> torch.Tensor:
        z = torch.linspace(*_INIT_GRID, dtype=torch.float64)
        target = _INIT_TARGETS[init](z)
        phi = self.basis.double()(normalize(z, self.normalization))  # (G, K)
        coef = torch.linalg.lstsq(phi, target[:, None], driver="gelsd").solution[:, 0]
        return coef.to(torch.get_default_dtype())

    def _check_input(self, z: object) -> None:
        """Refuse what the activation cannot take (shape and dtype only: O(1), traceable)."""
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"input of TAAF must be a torch.Tensor, got {type(z).__name__}.")
        if not z.is_floating_point():
            raise TypeError(f"input of TAAF must be a floating-point tensor, got dtype "
                            f"{z.dtype}; convert it first (e.g. z.float()).")
        if self.sharing == "neuron" and (z.dim() == 0 or z.shape[-1] != self.num_features):
            raise ValueError(f"input of TAAF has shape {tuple(z.shape)}, but with "
                             f"sharing='neuron' its last axis must have num_features="
                             f"{self.num_features} entries.")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Apply the activation elementwise; ``z`` has shape ``(..., num_features)``.

        Any floating dtype is accepted and returned (the weights are cast to it); a batch
        of zero rows gives an empty output. Raises ``TypeError`` for a non-floating input,
        ``ValueError`` for a per-neuron TAAF given another width.
        """
        self._check_input(z)
        if self.uses_fused and not torch.compiler.is_compiling():  # compile, export: plain ops
            y = fused_taaf(z, self.weight, self.basis, self.normalization)
        else:
            phi = self.basis(normalize(z, self.normalization))  # (..., F, K)
            w = self.weight if self.weight.dtype == phi.dtype else self.weight.to(phi.dtype)
            if self.sharing == "neuron":
                y = (phi * w[..., :-1]).sum(-1) + w[..., -1]
            else:
                y = phi @ w[:-1] + w[-1]
            if y.dtype != z.dtype:
                y = y.to(z.dtype)
        return y if self.base is None else self.base(z) + y

    def extra_repr(self) -> str:
        init = "base" if self.residual else repr(self._init)
        return (f"num_features={self.num_features}, normalization={self.normalization!r}, "
                f"sharing={self.sharing!r}, init={init}, fused={self.fused}")
