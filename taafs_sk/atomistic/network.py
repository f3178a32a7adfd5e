r"""Per-element atomic networks (Behler-Parrinello / ANI style) and their energies and forces.

The total energy of a structure is :math:`E = \sum_i \sigma\, \mathrm{NN}_{Z_i}(\hat G_i)`
(plus the per-element reference energies, added outside the network in float64 by the
estimator), with :math:`\hat G_i` the descriptor standardised per element and :math:`\sigma` a
fixed energy scale. Forces are :math:`-\partial E / \partial \mathbf R` obtained from
:math:`\partial E / \partial G` (autograd through the networks only) and the descriptor's pair
Jacobians (see :mod:`taafs_sk.atomistic.descriptors`); with ``create_graph=True`` they stay
differentiable in the weights, which force training needs. With a learned descriptor
(:mod:`taafs_sk.atomistic.learned`, held as ``ElementNetworks.descriptor``) ``G`` is computed
from the pair vectors at every call and the forces come from autograd through it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .._validation import check_count
from .._validation._text import short
from ..nn.activations import TAAF
from ..nn.network import MLP

__all__ = ["ElementNetworks", "energies_and_forces"]


class ElementNetworks(nn.Module):
    """One :class:`~taafs_sk.nn.MLP` per element, ``n_features -> hidden -> 1``.

    Parameters
    ----------
    n_features : int
        Descriptor length.
    elements : sequence of str
        Element symbols; network ``e`` serves element ``elements[e]``.
    hidden_layer_sizes : sequence of int
        Hidden widths of every element network.
    activation_factory : callable ``(layer_index, n_features) -> nn.Module``
        From :func:`taafs_sk.nn.make_activation_factory`; one factory builds all element
        networks, so its sharing scheme applies across them (``'global'``: one activation
        for all; ``'network'``: one per element network; ``'layer'``, ``'neuron'``).
    descriptor : torch.nn.Module, default=None
        A learned descriptor (:mod:`taafs_sk.atomistic.learned`) computing ``G`` from the
        pair vectors, trained with the networks; None for a fixed descriptor (``G`` and its
        pair Jacobians given by the frames).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn import make_activation_factory
    >>> from taafs_sk.atomistic.network import ElementNetworks
    >>> nets = ElementNetworks(8, ["H", "O"], (4,), make_activation_factory("tanh"))
    >>> nets.atomic_energies(torch.randn(5, 8), torch.tensor([0, 1, 1, 0, 0])).shape
    torch.Size([5])
    """

    def __init__(self, n_features: int, elements: Sequence[str],
                 hidden_layer_sizes: Sequence[int],
                 activation_factory: Callable[[int, int], nn.Module],
                 descriptor: nn.Module | None = None) -> None:
        super().__init__()
        check_count("n_features of ElementNetworks", n_features)
        if (isinstance(elements, str) or not isinstance(elements, Sequence) or not elements
                or not all(isinstance(el, str) for el in elements)):
            raise ValueError("elements of ElementNetworks must be a non-empty list of element "
                             f"symbols, got {short(elements)}.")
        self.elements = list(elements)
        self.nets = nn.ModuleList(
            MLP(n_features, tuple(hidden_layer_sizes), 1, activation_factory)
            for _ in self.elements)
        n = len(self.elements)
        self.register_buffer("feature_mean", torch.zeros(n, n_features))
        self.register_buffer("feature_scale", torch.ones(n, n_features))
        self.register_buffer("energy_scale", torch.ones(()))
        self.descriptor = descriptor

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if "descriptor" not in self.__dict__ and "descriptor" not in self._modules:
            self.descriptor = None  # pickled before learned descriptors (0.2 and earlier)

    def set_scaling(self, G: torch.Tensor, species: torch.Tensor, energy_scale: float) -> None:
        """Per-element feature mean and spread from training descriptors; the energy scale."""
        self._check_inputs(G, species, "set_scaling")
        bad = (~torch.isfinite(G).all(1)).nonzero().flatten()
        if bad.numel():
            raise ValueError(f"G of ElementNetworks.set_scaling must be finite, got nan or "
                             f"inf in row {int(bad[0])}.")
        if not (math.isfinite(energy_scale) and energy_scale > 0):
            raise ValueError("energy_scale of ElementNetworks.set_scaling must be a positive "
                             f"finite number, got {energy_scale!r}.")
        for e in range(len(self.elements)):
            g = G[species == e].to(self.feature_mean.dtype)
            if len(g):
                self.feature_mean[e] = g.mean(0)
                std = g.std(0, unbiased=False) if len(g) > 1 else torch.zeros_like(g[0])
                floor = 1e-3 * float(std.max()) if float(std.max()) > 0 else 1.0
                self.feature_scale[e] = torch.where(std > floor, std, torch.ones_like(std))
        self.energy_scale.fill_(float(energy_scale))

    def _check_inputs(self, G: torch.Tensor, species: torch.Tensor, method: str) -> None:
        """Refuse descriptors of the wrong shape and element indices out of range (shape
        checks, one reduction over ``species``)."""
        n_features = self.feature_mean.shape[1]
        if G.ndim != 2 or G.shape[1] != n_features:
            raise ValueError(f"G of ElementNetworks.{method} must have shape (n_atoms, "
                             f"{n_features}), got {tuple(G.shape)}.")
        if species.shape != G.shape[:1]:
            raise ValueError(f"species of ElementNetworks.{method} must have shape "
                             f"({G.shape[0]},) (one per row of G), got {tuple(species.shape)}.")
        if species.numel():
            low, high = int(species.min()), int(species.max())
            if low < 0 or high >= len(self.elements):
                bad = low if low < 0 else high
                raise ValueError(f"species of ElementNetworks.{method} must be element "
                                 f"indices in [0, {len(self.elements) - 1}], got {bad}.")

    def n_activation_params(self) -> int:
        """Parameters of the activations (the learned descriptor's TAAFs included), each
        shared one counted once."""
        acts = [act for net in self.nets for act in net.activations]
        if self.descriptor is not None:
            acts += [m for m in self.descriptor.modules() if isinstance(m, TAAF)]
        seen = {id(p): p for act in acts for p in act.parameters()}
        return sum(p.numel() for p in seen.values())

    def atomic_energies(self, G: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """Energy of each atom, shape ``(n_atoms,)`` (one network call per element)."""
        self._check_inputs(G, species, "atomic_energies")
        out = G.new_zeros(G.shape[0])
        for e, net in enumerate(self.nets):
            idx = (species == e).nonzero().flatten()
            if idx.numel():
                x = (G[idx] - self.feature_mean[e]) / self.feature_scale[e]
                out = out.index_put((idx,), net(x)[:, 0] * self.energy_scale)
        return out


def energies_and_forces(model: ElementNetworks, frames, create_graph: bool = False,
                        forces: bool = True, virials: bool = False):
    """Structure energies ``(B,)`` (without references) and forces ``(N, 3)`` of ``frames``.

    With ``create_graph`` the forces are differentiable in the weights (force training);
    otherwise they are detached. Forces need a gradient, so they are computed even under
    ``torch.no_grad()`` (skorch evaluates in it). ``forces=False`` skips them (returns None);
    the energies then follow the caller's grad mode with ``create_graph``, and are computed
    without a graph otherwise. With ``virials`` (needs ``frames.vectors``) a third output is
    each structure's virial :math:`W = \\sum_p \\partial E / \\partial \\mathbf r_p \\otimes
    \\mathbf r_p`, shape ``(B, 3, 3)``, float64, detached (the strain derivative of the
    energy: see :mod:`taafs_sk.atomistic.stress`).
    """
    if not isinstance(model, ElementNetworks):
        raise TypeError(f"model of energies_and_forces must be an ElementNetworks, got "
                        f"{short(model)} ({type(model).__name__}).")
    if model.descriptor is not None:
        return _learned_energies_and_forces(model, frames, create_graph, forces, virials)
    G = frames.G
    if forces or virials:
        G = G.detach().requires_grad_(True)
        mode = torch.enable_grad()
    else:
        mode = contextlib.nullcontext() if create_graph else torch.no_grad()
    with mode:
        atomic = model.atomic_energies(G, frames.species)
        energy = atomic.new_zeros(frames.n_structures).index_add(0, frames.struct, atomic)
        if not (forces or virials):
            return energy, None
        (dE_dG,) = torch.autograd.grad(energy.sum(), G, create_graph=create_graph)
        dE_dr = torch.einsum("pd,pdk->pk", dE_dG[frames.pair_i], frames.J)
    return _forces_and_virials(frames, energy, dE_dr, create_graph, virials)


def _learned_energies_and_forces(model: ElementNetworks, frames, create_graph: bool,
                                 forces: bool, virials: bool):
    """:func:`energies_and_forces` with a learned descriptor: ``G`` from the pair vectors
    through ``model.descriptor``, :math:`\\partial E / \\partial \\mathbf r_p` by autograd."""
    dtype = model.feature_mean.dtype
    vectors = frames.vectors.to(dtype)
    if forces or virials:
        vectors = vectors.detach().requires_grad_(True)
        mode = torch.enable_grad()
    else:
        mode = contextlib.nullcontext() if create_graph else torch.no_grad()
    with mode:
        G = model.descriptor(frames.species, frames.pair_i, frames.pair_j, vectors)
        atomic = model.atomic_energies(G, frames.species)
        energy = atomic.new_zeros(frames.n_structures).index_add(0, frames.struct, atomic)
        if not (forces or virials):
            return energy, None
        (dE_dr,) = torch.autograd.grad(energy.sum(), vectors, create_graph=create_graph)
    return _forces_and_virials(frames, energy, dE_dr, create_graph, virials)


def _forces_and_virials(frames, energy, dE_dr, create_graph: bool, virials: bool):
    """Forces ``(N, 3)`` from :math:`\\partial E / \\partial \\mathbf r_p` ``(P, 3)``, and
    with ``virials`` the structures' virials (see :func:`energies_and_forces`)."""
    with torch.enable_grad() if create_graph else contextlib.nullcontext():
        force = (dE_dr.new_zeros(frames.n_atoms_total, 3).index_add(0, frames.pair_i, dE_dr)
                 .index_add(0, frames.pair_j, -dE_dr))
    if not create_graph:
        energy, force = energy.detach(), force.detach()
    if not virials:
        return energy, force
    outer = dE_dr.detach().double()[:, :, None] * frames.vectors[:, None, :]  # (P, 3, 3)
    virial = outer.new_zeros(frames.n_structures, 3, 3).index_add(0, frames.pair_struct, outer)
    return energy, force, virial
