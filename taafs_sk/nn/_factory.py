r"""The per-layer activation factory of an MLP and the count of the parameters it adds
(public home: :mod:`taafs_sk.nn.activations`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .._validation import check_count, warn_user
from ._fused import NORMALIZATIONS
from ._taaf import INITS, TAAF, _check_choice, _check_flag, _is_fixed
from .bases import Basis, available_bases, resolve_basis
from .checks import InvalidTypeError
from .fixed import FIXED_ACTIVATIONS
from .network import _layer_sizes

__all__ = ["SHARING_SCHEMES", "ActivationFactory", "make_activation_factory",
           "count_activation_params"]

#: Sharing schemes of a network's activations (the TAAFS paper, section 5.1).
SHARING_SCHEMES = ("global", "network", "layer", "neuron")


def _check_basis(owner: str, basis: object) -> None:
    """A registered family, a fixed activation or a Basis instance, else a TypeError (wrong
    type) or ValueError (unknown name)."""
    valid = [*available_bases(), *FIXED_ACTIVATIONS]
    if not isinstance(basis, (Basis, str)):
        raise InvalidTypeError(f"basis of {owner} must be one of {valid} or a "
                               f"taafs_sk.nn.Basis instance, got {basis!r} "
                               f"({type(basis).__name__}).")
    if not isinstance(basis, Basis) and basis not in valid:
        raise ValueError(f"basis of {owner} must be one of {valid} or a taafs_sk.nn.Basis "
                         f"instance, got {basis!r}.")


def _keyword_only_after_first(*names: str) -> Callable:
    """Let the keyword-only ``names`` still come by position after the first argument, with
    a FutureWarning (they were positional up to taafs-sk 0.2)."""
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(first, *args, **kwargs):
            if args:
                if len(args) > len(names):
                    raise TypeError(f"{fn.__name__} takes 1 positional argument (then "
                                    f"{', '.join(names)} by keyword), got {1 + len(args)}.")
                given = dict(zip(names, args, strict=False))
                twice = sorted(set(given) & set(kwargs))
                if twice:
                    raise TypeError(f"{fn.__name__} got {twice} by position and by keyword.")
                spelled = ", ".join(f"{k}={v!r}" for k, v in given.items())
                warn_user(f"passing {', '.join(given)} of {fn.__name__} by position is "
                          f"deprecated and will raise a TypeError in taafs-sk 0.4; pass them by "
                          f"keyword: {fn.__name__}({first!r}, {spelled}).", FutureWarning)
                kwargs.update(given)
            return fn(first, **kwargs)
        return wrapper
    return decorate


class ActivationFactory:
    """Picklable ``(layer_index, n_features) -> nn.Module`` built by
    :func:`make_activation_factory` (see there for the parameters).

    Examples
    --------
    >>> import pickle
    >>> from taafs_sk.nn.activations import make_activation_factory
    >>> factory = make_activation_factory("legendre", sharing="neuron")
    >>> pickle.loads(pickle.dumps(factory))(0, 4).weight.shape
    torch.Size([4, 9])
    """

    __module__ = "taafs_sk.nn.activations"  # its public home, as pickles and docs name it

    def __init__(self, basis: str | Basis, *, n_basis: int, sharing: str, normalization: str,
                 basis_kwargs: dict | None, init: str | Callable[[torch.Tensor], torch.Tensor],
                 fused: bool) -> None:
        self.basis, self.n_basis, self.sharing = basis, n_basis, sharing
        self.normalization, self.basis_kwargs = normalization, basis_kwargs
        self.init, self.fused = init, fused
        self._shared: nn.Module | None = None

    def _new(self, n_features: int | None) -> nn.Module:
        if _is_fixed(self.basis):
            return FIXED_ACTIVATIONS[self.basis]()
        return TAAF(n_features, self.basis, n_basis=self.n_basis,
                    sharing="neuron" if self.sharing == "neuron" else "shared",
                    normalization=self.normalization, basis_kwargs=self.basis_kwargs,
                    init=self.init, fused=self.fused)

    def __call__(self, layer_index: int, n_features: int) -> nn.Module:
        if self.sharing in ("layer", "neuron") or _is_fixed(self.basis):
            return self._new(n_features)
        if self._shared is None or (self.sharing == "network" and layer_index == 0):
            self._shared = self._new(None)
        return self._shared


def make_activation_factory(
    basis: str | Basis,
    *,
    n_basis: int = 8,
    sharing: str = "layer",
    normalization: str = "tanh",
    basis_kwargs: dict | None = None,
    init: str | Callable[[torch.Tensor], torch.Tensor] = "tanh",
    fused: bool = True,
) -> ActivationFactory:
    """Activation factory for :class:`~taafs_sk.nn.network.MLP` under a sharing scheme.

    Every option after ``basis`` is keyword-only, in the order of :class:`TAAF`'s.

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
        Which neurons share one set of coefficients (see :mod:`taafs_sk.nn.activations`):
        ``'global'`` and ``'network'`` share one TAAF (with ``sharing='shared'``) between
        layers, ``'layer'`` gives each hidden layer its own ``sharing='shared'`` TAAF, and
        ``'neuron'`` each hidden layer a ``sharing='neuron'`` TAAF.
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
    factory : ActivationFactory
        A picklable callable ``(layer_index, n_features) -> nn.Module``.

    Raises
    ------
    ValueError
        For an unknown basis, sharing scheme, normalization or init, or invalid basis
        options; raised here, before any network is built.
    TypeError
        For options passed by position.

    Examples
    --------
    >>> from taafs_sk.nn.activations import make_activation_factory
    >>> from taafs_sk.nn.network import MLP
    >>> net = MLP(3, (8, 8), 1, make_activation_factory("fourier", sharing="global"))
    >>> net.activations[0] is net.activations[1]
    True
    """
    _check_basis("make_activation_factory", basis)
    _check_choice("make_activation_factory", "sharing", sharing, SHARING_SCHEMES)
    _check_choice("make_activation_factory", "normalization", normalization, NORMALIZATIONS)
    if not callable(init):
        _check_choice("make_activation_factory", "init", init, INITS)
    fused = _check_flag("make_activation_factory", "fused", fused)
    if not _is_fixed(basis):  # built (and so checked) once; every activation copies it
        basis = resolve_basis(basis, n_basis, basis_kwargs, owner="make_activation_factory")
        n_basis, basis_kwargs = basis.n_basis, None
    return ActivationFactory(basis, n_basis=n_basis, sharing=sharing,
                             normalization=normalization, basis_kwargs=basis_kwargs,
                             init=init, fused=fused)


@_keyword_only_after_first("n_basis", "sharing", "hidden_layer_sizes")
def count_activation_params(
    basis: str | Basis, *, n_basis: int = 8, sharing: str = "layer",
    hidden_layer_sizes: Sequence[int],
) -> int:
    r"""Trainable parameters that the activations add to an MLP.

    With :math:`K` = ``n_basis``, :math:`L` hidden layers of widths :math:`h_l`, each TAAF
    holding :math:`K` coefficients and one bias per shape:

    - fixed activation: :math:`0`;
    - ``'global'``, ``'network'`` (one network): :math:`K + 1`;
    - ``'layer'``: :math:`L (K + 1)`;
    - ``'neuron'``: :math:`(K + 1) \sum_l h_l`.

    Parameters
    ----------
    basis : str or Basis
        As for :func:`make_activation_factory` (an instance's own ``n_basis`` is used).
    n_basis : int, default=8
        Basis functions per activation.
    sharing : {'global', 'network', 'layer', 'neuron'}, default='layer'
        The sharing scheme of :func:`make_activation_factory`.
    hidden_layer_sizes : sequence of int
        Widths of the hidden layers.

    Every option after ``basis`` is keyword-only, with the defaults of
    :func:`make_activation_factory`; passing them by position (as up to taafs-sk 0.2) still
    works, with a FutureWarning.

    Returns
    -------
    int

    Examples
    --------
    >>> from taafs_sk.nn.activations import count_activation_params
    >>> count_activation_params("bspline", n_basis=8, sharing="layer", hidden_layer_sizes=(64, 64))
    18
    """
    if isinstance(basis, Basis):
        n_basis = basis.n_basis
    else:
        _check_choice("count_activation_params", "basis", basis,
                      [*available_bases(), *FIXED_ACTIVATIONS])
    _check_choice("count_activation_params", "sharing", sharing, SHARING_SCHEMES)
    sizes = _layer_sizes(hidden_layer_sizes)
    if _is_fixed(basis) or not sizes:
        return 0
    per_shape = check_count("n_basis", n_basis) + 1
    if sharing in ("global", "network"):
        return per_shape
    if sharing == "layer":
        return per_shape * len(sizes)
    return per_shape * sum(sizes)
