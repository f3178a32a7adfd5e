r"""The contract of a *learned* (trainable) descriptor of a TAAFSPotential.

A fixed descriptor (:class:`~taafs_sk.atomistic.descriptors.AtomicDescriptor`, e.g. the ANI
AEV) is computed once per structure with its pair Jacobians, and force training only
differentiates the atomic networks. A learned descriptor has trainable parameters: it is a
``torch.nn.Module`` that trains with the per-element fitting networks in the library's one
training loop, recomputed from the pair vectors at every step, and the forces come from
automatic differentiation through it,

.. math::

    G = \mathcal D_\theta(\{Z_i\}, \{\mathbf r_p\}), \qquad
    E = \sum_i \varepsilon_{Z_i}(G_i), \qquad
    \frac{\partial E}{\partial \mathbf r_p} \text{ by autograd}

(:math:`\mathbf r_p = \mathbf R_j - \mathbf R_i + \mathbf S_p` for the directed pair
:math:`p = i \to j`; forces and virial from them as in :mod:`~taafs_sk.atomistic.stress`).

The contract has two parts:

- a *spec*, :class:`LearnedDescriptor`: a picklable, deep-copyable object holding only its
  hyperparameters (scikit-learn style: ``__init__`` stores them as given; ``get_params``,
  ``set_params`` and a ``repr`` that shows them, so ``GridSearchCV`` reaches them as
  ``descriptor__<name>``), with ``cutoff`` (Å, for the neighbour list), ``check()`` (refuses bad
  hyperparameters with a ``ValueError`` naming them) and ``build(n_species, activation,
  dtype)``;
- the *built module*: an ``nn.Module`` with an int attribute ``n_features`` and
  ``forward(species, pair_i, pair_j, vectors) -> G`` of shape ``(n_atoms, n_features)``, for a
  *directed full* neighbour list (both ``i -> j`` and ``j -> i`` within ``cutoff``; ``species``
  ``(n_atoms,)`` element indices, ``pair_i``/``pair_j`` ``(n_pairs,)``, ``vectors``
  ``(n_pairs, 3)``), differentiable twice in ``vectors`` and its parameters, with no Python
  loop over atoms or pairs. Several structures are one disjoint graph. Optionally it has
  ``set_statistics(species, pair_i, pair_j, vectors)``, which the potential calls once at fit,
  on the training block only, before training (e.g. DeepPot-SE's environment-matrix
  normalisation), and a float ``lr_scale``: its parameters then train at ``lr * lr_scale``
  (optimisers with a learning rate). The fitting networks' inputs are standardised per
  feature with the spread of the *untrained* descriptor's ``G`` over the training block
  (fixed buffers), so a descriptor whose ``G`` varies little between atoms (a crystal) and
  moves fast in training drifts off that scale: a smaller ``lr_scale`` keeps it on.

``activation(width, network)`` (a :class:`DescriptorActivation`) returns the activation of a
layer of ``width`` neurons in the sub-network named ``network`` (e.g. ``"embedding.0-1"``): a
TAAF or the fixed activation named by the potential's ``basis``. The potential's ``sharing``
decides which calls share one TAAF: ``'global'`` every call, and the fitting networks too;
``'network'`` the calls with the same ``network`` name; ``'layer'`` none (one TAAF per call);
``'neuron'`` none, with per-neuron coefficients. The fixed baseline is the potential's
``basis`` set to a fixed activation name (``'tanh'`` for DeepPot-SE as published,
``'silu'`` for PaiNN), exactly as for its fitting networks; a TAAF starts from the shape named
by the spec's ``taaf_init``: an activation name (``'tanh'`` by default) or a callable, which
makes the TAAFs residual around it (PaiNN: ``F.silu``, so they start as its SiLU baseline).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
from torch import nn

from .._validation import check_count
from .._validation._text import short

# check_learned_module and learned_features: glue of the potential (_setup, _batches).
__all__ = ["DescriptorActivation", "LearnedDescriptor"]


class LearnedDescriptor:
    """Base class of the specs of learned descriptors (see the module docstring).

    A subclass stores its hyperparameters in ``__init__`` (same names as the arguments, no
    logic), and implements :attr:`cutoff`, :meth:`check` and :meth:`build`.

    Examples
    --------
    >>> from torch import nn
    >>> from taafs_sk.atomistic.learned import LearnedDescriptor
    >>> class Counts(LearnedDescriptor):  # G_i: neighbours of i within rcut, per element
    ...     def __init__(self, rcut=4.0):
    ...         self.rcut = rcut
    ...     cutoff = property(lambda self: self.rcut)
    >>> spec = Counts(rcut=5.0)
    >>> spec.get_params(), spec.cutoff
    ({'rcut': 5.0}, 5.0)
    >>> spec.set_params(rcut=4.5)
    Counts(rcut=4.5)
    """

    #: Starting shape of the TAAFs of a potential with this descriptor (see
    #: :func:`taafs_sk.nn.make_activation_factory`'s ``init``).
    taaf_init: str | Callable = "tanh"

    @property
    def cutoff(self) -> float:
        """Neighbour-list cutoff (Å)."""
        raise NotImplementedError

    @property
    def cutoff_name(self) -> str:
        """How messages name the cutoff parameter (e.g. ``'rcut of DeepPotSE'``)."""
        return f"cutoff of {type(self).__name__}"

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict:
        """The hyperparameters, by name (``deep`` is accepted for scikit-learn)."""
        if not isinstance(deep, bool):
            raise TypeError(f"deep of {type(self).__name__}.get_params must be True or False, "
                            f"got {short(deep)} ({type(deep).__name__}).")
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> LearnedDescriptor:
        """Set hyperparameters by name; an unknown name is a ``ValueError`` listing them."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; its "
                                 f"parameters are {valid}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({shown})"

    def check(self) -> None:
        """Refuse bad hyperparameters (``ValueError`` naming the parameter and its value)."""

    def build(self, n_species: int, activation, dtype: torch.dtype) -> nn.Module:
        """The untrained descriptor module for ``n_species`` elements (see the module
        docstring), its parameters in ``dtype``."""
        raise NotImplementedError

    def _check_build(self, n_species: int, activation, dtype: torch.dtype) -> int:
        """:meth:`check`, then ``build``'s arguments (errors naming ``<Class>.build``);
        returns ``n_species`` as an int."""
        self.check()
        who = f"{type(self).__name__}.build"
        n_species = check_count(f"n_species of {who}", n_species)
        if not callable(activation):
            raise TypeError(f"activation of {who} must be a callable (width, network) -> "
                            f"nn.Module, got {type(activation).__name__}.")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype of {who} must be a floating torch.dtype, got {dtype!r}.")
        return n_species


_SHARING = ("global", "network", "layer", "neuron")  # make_activation_factory's schemes


class DescriptorActivation:
    """``activation(width, network) -> nn.Module`` of a learned descriptor.

    Parameters
    ----------
    factory : taafs_sk.nn.activations.ActivationFactory
        The activation factory of the potential's fitting networks (its ``basis`` and
        ``sharing``); under ``sharing='global'`` its one TAAF is shared with the descriptor.

    Examples
    --------
    >>> from taafs_sk.nn import make_activation_factory
    >>> from taafs_sk.atomistic.learned import DescriptorActivation
    >>> act = DescriptorActivation(make_activation_factory("bspline", sharing="network"))
    >>> act(4, "embedding.0-0") is act(8, "embedding.0-0"), act(4, "embedding.0-1") is act(4, "f")
    (True, False)
    """

    def __init__(self, factory) -> None:
        if not callable(factory) or getattr(factory, "sharing", None) not in _SHARING:
            raise TypeError(f"factory of DescriptorActivation must be an activation factory "
                            f"of taafs_sk.nn.make_activation_factory (callable, with a sharing "
                            f"in {list(_SHARING)}), got {short(factory)} "
                            f"({type(factory).__name__}).")
        self.factory = factory
        self._by_network: dict[str, nn.Module] = {}

    def __call__(self, width: int, network: str) -> nn.Module:
        width = check_count("width of a descriptor activation", width)
        if not isinstance(network, str):
            raise TypeError(f"network of a descriptor activation must be a str, got "
                            f"{short(network)} ({type(network).__name__}).")
        sharing = self.factory.sharing
        if sharing == "network":
            if network not in self._by_network:
                self._by_network[network] = self.factory(0, width)  # a new shared TAAF
            return self._by_network[network]
        # 'global': the factory's one shared TAAF (layer 1 never starts a new one)
        return self.factory(1 if sharing == "global" else 0, width)


def check_learned_module(module: object, spec: LearnedDescriptor) -> int:
    """``module.n_features`` of a built learned descriptor, or a TypeError/ValueError naming
    the spec that built it."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"{type(spec).__name__}.build must return a torch.nn.Module, got "
                        f"{short(module)} ({type(module).__name__}).")
    return check_count(f"n_features of the module built by {type(spec).__name__}",
                       getattr(module, "n_features", None))


def learned_features(descriptor: nn.Module, frames, dtype: torch.dtype,
                     max_pairs: int = 400_000) -> torch.Tensor:
    """``G`` ``(n_atoms, n_features)`` of all structures of ``frames`` under ``descriptor``,
    without a graph, in chunks of whole structures of at most about ``max_pairs`` pairs."""
    n_pairs = torch.bincount(frames.pair_struct, minlength=frames.n_structures).cpu()
    ends = torch.cumsum(n_pairs, 0)
    out, b = [], 0
    with torch.no_grad():
        while b < frames.n_structures:
            start = int(ends[b] - n_pairs[b])
            e = max(int(torch.searchsorted(ends, start + max_pairs, right=True)), b + 1)
            chunk = frames.subset(range(b, e))
            out.append(descriptor(chunk.species, chunk.pair_i, chunk.pair_j,
                                  chunk.vectors.to(dtype)))
            b = e
    return torch.cat(out)
