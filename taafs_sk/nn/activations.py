r"""Trainable adaptive activation functions (TAAF), fixed activations and sharing schemes.

A TAAF maps each pre-activation :math:`z` to

.. math::

    \sigma(z) = \phi_0(z) + \sum_{k=1}^{K} c_k\, B_k(\mathrm{norm}(z)) + b,

with :math:`B_k` a basis family of :mod:`taafs_sk.nn.bases` on :math:`[-1, 1]` and
:math:`\phi_0` zero (the TAAFS paper's form) or a fixed base activation (the residual form,
which reproduces a given activation exactly at the start; see :class:`TAAF`). The
:func:`make_activation_factory` builds the activations of an
:class:`~taafs_sk.nn.network.MLP` under one of the TAAFS paper's sharing schemes (section 5.1):

``'global'``   one activation (one module object) for everything the factory builds;
``'network'``  one activation per network: a new module whenever layer 0 is built, reused by
               the later layers. A factory that builds a single network, as
               :class:`~taafs_sk.TAAFSRegressor` does, gives the same model as ``'global'``;
``'layer'``    one shared-coefficient activation per hidden layer;
``'neuron'``   per-neuron coefficients and biases in every hidden layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._validation import check_count, check_finite_array
from ._checks import check_torch_module
from ._fused import NORMALIZATIONS, fused_taaf, normalize
from .bases import Basis, available_bases, resolve_basis
from .fixed import FIXED_ACTIVATIONS

__all__ = [
    "TAAF", "FIXED_ACTIVATIONS", "NORMALIZATIONS", "SHARING_SCHEMES", "TAAF_SHARING", "INITS",
    "ActivationFactory", "make_activation_factory", "count_activation_params", "activation_grid",
]

SHARING_SCHEMES = ("global", "network", "layer", "neuron")
TAAF_SHARING = ("layer", "neuron")
INITS = ("tanh", "silu", "identity")
_INIT_TARGETS = {"tanh": torch.tanh, "silu": F.silu, "identity": lambda z: z}
_INIT_GRID = (-3.0, 3.0, 601)


def _check_choice(owner: str, name: str, value, options) -> None:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} of {owner} must be one of {list(options)}, got {value!r}.")


def _is_fixed(basis) -> bool:
    return isinstance(basis, str) and basis in FIXED_ACTIVATIONS


class _Function(nn.Module):
    """A plain callable (``torch.tanh``, ``F.silu``) as a module, so that TAAF can hold it."""

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
    normalization : {'tanh', 'softsign', 'clamp', 'none'}, default='tanh'
        Map from :math:`z` to the basis domain: :math:`\tanh z`; :math:`z/(1+|z|)` (slower
        saturation); :math:`\mathrm{clip}(z/3, -1, 1)` (piecewise linear, flat beyond
        :math:`|z| = 3`); :math:`\mathrm{clip}(z, -1, 1)` (``z`` used as it is, for inputs
        already in [-1, 1]).
    sharing : {'layer', 'neuron'}, default='layer'
        ``'layer'``: one set of coefficients :math:`(c, b)` for every neuron the module sees;
        ``'neuron'``: coefficients of shape ``(num_features, n_basis)`` and bias
        ``(num_features,)``. (Sharing across layers or networks is sharing one module object:
        see :func:`make_activation_factory`.)
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
        ``uses_fused`` tells which path runs; under :func:`torch.export.export` the plain
        path is always traced.

    Attributes
    ----------
    basis : taafs_sk.nn.bases.Basis
        The basis module.
    base : nn.Module or None
        :math:`\phi_0` of the residual form, None otherwise.
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
    >>> torch.equal(celu(z), nn.CELU(alpha=0.1)(z))
    True
    """

    def __init__(
        self,
        num_features: int | None = None,
        basis: str | Basis = "bspline",
        n_basis: int = 8,
        normalization: str = "tanh",
        sharing: str = "layer",
        basis_kwargs: dict | None = None,
        init: str | Callable[[torch.Tensor], torch.Tensor] = "tanh",
        fused: bool = True,
    ) -> None:
        super().__init__()
        _check_choice("TAAF", "normalization", normalization, NORMALIZATIONS)
        _check_choice("TAAF", "sharing", sharing, TAAF_SHARING)
        if not callable(init):
            _check_choice("TAAF", "init", init, INITS)
        if sharing == "neuron" and (isinstance(num_features, bool) or not isinstance(
                num_features, (int, np.integer)) or num_features < 1):
            raise ValueError("num_features of TAAF must be a positive integer when "
                             f"sharing='neuron', got {num_features!r}.")
        self.num_features = None if num_features is None else int(num_features)
        self.normalization = normalization
        self.sharing = sharing
        self.fused = bool(fused)
        self.basis = resolve_basis(basis, n_basis, basis_kwargs, owner="TAAF")
        if callable(init):
            self.init = "residual"
            self.base = init if isinstance(init, nn.Module) else _Function(init)
            weight = torch.zeros(self.basis.n_basis + 1)
        else:
            self.init = init
            self.base = None
            weight = torch.cat([self._initial_coefficients(init), torch.zeros(1)])  # (K + 1,)
        if sharing == "neuron":
            weight = weight.repeat(self.num_features, 1)  # (F, K + 1)
        self.weight = nn.Parameter(weight)

    def __setstate__(self, state: dict) -> None:
        """Load TAAFs pickled by taafs-sk 0.1/0.2 (``n_features``, ``per_neuron``)."""
        if "per_neuron" in state:
            state = dict(state)
            state["sharing"] = "neuron" if state.pop("per_neuron") else "layer"
            state["num_features"] = state.pop("n_features", None)
            state.setdefault("_modules", {}).setdefault("base", None)
        super().__setstate__(state)

    @property
    def n_basis(self) -> int:
        return self.basis.n_basis

    @property
    def residual(self) -> bool:
        """Whether the activation is the residual form :math:`\\phi_0 + \\sum_k c_k B_k + b`."""
        return self.base is not None

    @property
    def per_neuron(self) -> bool:
        """``sharing == 'neuron'`` (read-only, for code written against taafs-sk 0.2)."""
        return self.sharing == "neuron"

    @property
    def n_features(self) -> int | None:
        """``num_features`` (read-only alias, for code written against taafs-sk 0.2)."""
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

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Apply the activation elementwise; ``z`` has shape ``(..., num_features)``."""
        if self.uses_fused and not torch.compiler.is_exporting():
            y = fused_taaf(z, self.weight, self.basis, self.normalization)
        else:
            phi = self.basis(normalize(z, self.normalization))  # (..., F, K)
            if self.sharing == "neuron":
                y = (phi * self.coefficients).sum(-1) + self.bias
            else:
                y = phi @ self.coefficients + self.bias
        return y if self.base is None else self.base(z) + y

    def extra_repr(self) -> str:
        return (f"num_features={self.num_features}, normalization={self.normalization!r}, "
                f"sharing={self.sharing!r}, init={self.init!r}, fused={self.fused}")


class ActivationFactory:
    """Picklable ``(layer_index, n_features) -> nn.Module`` built by
    :func:`make_activation_factory` (see there)."""

    def __init__(self, basis, n_basis, sharing, normalization, basis_kwargs, init, fused):
        self.basis, self.n_basis, self.sharing = basis, n_basis, sharing
        self.normalization, self.basis_kwargs = normalization, basis_kwargs
        self.init, self.fused = init, fused
        self._shared: nn.Module | None = None

    def _new(self, n_features: int | None) -> nn.Module:
        if _is_fixed(self.basis):
            return FIXED_ACTIVATIONS[self.basis]()
        return TAAF(n_features, self.basis, self.n_basis, self.normalization,
                    sharing="neuron" if self.sharing == "neuron" else "layer",
                    basis_kwargs=self.basis_kwargs, init=self.init, fused=self.fused)

    def __call__(self, layer_index: int, n_features: int) -> nn.Module:
        if self.sharing in ("layer", "neuron") or _is_fixed(self.basis):
            return self._new(n_features)
        if self._shared is None or (self.sharing == "network" and layer_index == 0):
            self._shared = self._new(None)
        return self._shared


def make_activation_factory(
    basis: str | Basis,
    n_basis: int = 8,
    sharing: str = "layer",
    normalization: str = "tanh",
    basis_kwargs: dict | None = None,
    *,
    init: str | Callable[[torch.Tensor], torch.Tensor] = "tanh",
    fused: bool = True,
) -> ActivationFactory:
    """Activation factory for :class:`~taafs_sk.nn.network.MLP` under a sharing scheme.

    Parameters
    ----------
    basis : str or Basis
        A basis family (:func:`taafs_sk.nn.bases.available_bases`, a
        :class:`~taafs_sk.nn.Basis` instance) or a fixed activation (``FIXED_ACTIVATIONS``:
        'tanh', 'sigmoid', 'relu', 'silu', 'gelu', 'elu', 'softplus', 'leaky_relu',
        'identity'); a fixed activation ignores the other arguments.
    n_basis : int, default=8
        Basis functions per activation (ignored for an instance, which has its own).
    sharing : {'global', 'network', 'layer', 'neuron'}, default='layer'
        Which neurons share one set of coefficients (see the module docstring).
    normalization : {'tanh', 'softsign', 'clamp', 'none'}, default='tanh'
        See :class:`TAAF`.
    basis_kwargs : dict, default=None
        Options of the basis.
    init : {'tanh', 'silu', 'identity'} or callable, default='tanh'
        Starting shape of every TAAF (a callable: the residual form, see :class:`TAAF`).
    fused : bool, default=True
        Fused kernels (``False``: plain torch reference).

    Returns
    -------
    factory : callable ``(layer_index, n_features) -> nn.Module``

    Raises
    ------
    ValueError
        For an unknown basis, sharing scheme, normalization or init, or invalid basis
        options; raised here, before any network is built.

    Examples
    --------
    >>> from taafs_sk.nn.activations import make_activation_factory
    >>> from taafs_sk.nn.network import MLP
    >>> net = MLP(3, (8, 8), 1, make_activation_factory("fourier", sharing="global"))
    >>> net.activations[0] is net.activations[1]
    True
    """
    valid = [*available_bases(), *FIXED_ACTIVATIONS]
    if not isinstance(basis, Basis) and basis not in valid:
        raise ValueError(f"basis of make_activation_factory must be one of {valid} or a "
                         f"taafs_sk.nn.Basis instance, got {basis!r}.")
    _check_choice("make_activation_factory", "sharing", sharing, SHARING_SCHEMES)
    _check_choice("make_activation_factory", "normalization", normalization, NORMALIZATIONS)
    if not callable(init):
        _check_choice("make_activation_factory", "init", init, INITS)
    if not _is_fixed(basis):  # validates n_basis and options
        resolve_basis(basis, n_basis, basis_kwargs, owner="make_activation_factory")
    return ActivationFactory(basis, n_basis, sharing, normalization, basis_kwargs, init, fused)


def count_activation_params(
    basis: str | Basis, n_basis: int, sharing: str, hidden_layer_sizes: Sequence[int]
) -> int:
    r"""Trainable parameters that the activations add to an MLP.

    With :math:`K` = ``n_basis``, :math:`L` hidden layers of widths :math:`h_l`, each TAAF
    holding :math:`K` coefficients and one bias per shape:

    - fixed activation: :math:`0`;
    - ``'global'``, ``'network'`` (one network): :math:`K + 1`;
    - ``'layer'``: :math:`L (K + 1)`;
    - ``'neuron'``: :math:`(K + 1) \sum_l h_l`.

    Examples
    --------
    >>> from taafs_sk.nn.activations import count_activation_params
    >>> count_activation_params("bspline", 8, "layer", (64, 64))
    18
    """
    if isinstance(basis, Basis):
        n_basis = basis.n_basis
    else:
        _check_choice("count_activation_params", "basis", basis,
                      [*available_bases(), *FIXED_ACTIVATIONS])
    _check_choice("count_activation_params", "sharing", sharing, SHARING_SCHEMES)
    sizes = [check_count("hidden_layer_sizes", h) for h in hidden_layer_sizes]
    if _is_fixed(basis) or not sizes:
        return 0
    per_shape = check_count("n_basis", n_basis) + 1
    if sharing in ("global", "network"):
        return per_shape
    if sharing == "layer":
        return per_shape * len(sizes)
    return per_shape * sum(sizes)


def activation_grid(module: nn.Module, z, width: int | None = None) -> np.ndarray:
    """Evaluate an activation module on a grid of pre-activations, for plots.

    Parameters
    ----------
    module : nn.Module
        Any elementwise activation (TAAF, fixed, hardware NAF).
    z : array-like of shape (n_points,)
        Pre-activation values.
    width : int, default=None
        Number of neurons to evaluate (columns). By default a per-neuron TAAF gives one column
        per neuron and every other module one column.

    Returns
    -------
    values : ndarray of shape (n_points, width)

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.nn.activations import TAAF, activation_grid
    >>> activation_grid(TAAF(3, "grbf", sharing="neuron"), np.linspace(-1, 1, 5)).shape
    (5, 3)
    """
    if width is None:
        width = module.num_features if getattr(module, "sharing", None) == "neuron" else 1
    ref = next(iter(check_torch_module("module", module).parameters()), None)
    if ref is None:
        ref = next(iter(module.buffers()), torch.empty(0))
    grid = torch.as_tensor(check_finite_array("z", z).ravel(), device=ref.device)
    dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
    grid = grid.to(dtype)[:, None].expand(-1, int(width)).contiguous()
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return module(grid).cpu().double().numpy()
    finally:
        module.train(was_training)
