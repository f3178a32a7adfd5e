r"""Atom-centred descriptors and their derivatives with respect to the pair vectors.

A descriptor maps the neighbourhood of each atom to a fixed-length vector :math:`G_i`. Here it
is written on a *directed* neighbour list: pair :math:`p = (i \to j)` carries the vector
:math:`\mathbf r_p = \mathbf R_j - \mathbf R_i + \mathbf S_p` (:math:`\mathbf S_p` the periodic
image shift) and contributes to the centre :math:`i` only. So the Jacobian is stored per pair,
:math:`J_p = \partial G_{i(p)} / \partial \mathbf r_p` of shape ``(n_features, 3)``, and the
forces of any energy :math:`E(G)` follow without differentiating the descriptor again:

.. math::

    \frac{\partial E}{\partial \mathbf r_p} = J_p^\top \frac{\partial E}{\partial G_{i(p)}},
    \qquad
    \mathbf F_k = \sum_{p:\, i(p) = k} \frac{\partial E}{\partial \mathbf r_p}
                - \sum_{p:\, j(p) = k} \frac{\partial E}{\partial \mathbf r_p}.

For fixed training structures :math:`G` and :math:`J` are computed once, and a force-training
step only differentiates the atomic networks twice (not the descriptor), which is what makes
force training cheap on a CPU.

:class:`ANIDescriptor` is the ANI-1x atomic environment vector (Smith, Isayev and Roitberg,
Chem. Sci. 8, 3192 (2017)): the radial and angular terms are torchani's own modules
(``torchani.aev.AEVComputer.like_1x``), summed here per centre and element (pair) slot, and
their derivatives come from forward-mode automatic differentiation (one pass for the radial
terms, six for the angular ones).
"""

from __future__ import annotations

import torch

from .._validation import check_count, check_real
from ._deps import require
from .learned import LearnedDescriptor

__all__ = ["ANIDescriptor", "AtomicDescriptor", "DESCRIPTORS",
           "make_descriptor"]


class AtomicDescriptor:
    """The contract of a descriptor usable by :class:`~taafs_sk.atomistic.TAAFSPotential`.

    A subclass sets ``cutoff`` (Å: pairs farther apart are not passed to it) and implements
    :meth:`n_features` and :meth:`compute`. It must be picklable and deep-copyable: the
    estimator fits with a copy (its ``descriptor_``), so the object given is never changed.
    """

    cutoff: float = 5.0

    def n_features(self, n_species: int) -> int:
        """Length of :math:`G_i` for ``n_species`` elements."""
        raise NotImplementedError

    def compute(self, species: torch.Tensor, pair_i: torch.Tensor, pair_j: torch.Tensor,
                vectors: torch.Tensor, n_species: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Descriptors and their pair Jacobians.

        Parameters
        ----------
        species : Tensor of shape (n_atoms,)
            Element index of each atom (0 .. n_species - 1).
        pair_i, pair_j : Tensor of shape (n_pairs,)
            Centre and neighbour of each directed pair (each unordered pair appears twice).
            ``n_pairs`` may be 0, and an atom may be the centre of no pair (a free atom).
        vectors : Tensor of shape (n_pairs, 3)
            :math:`\\mathbf r_p`, all shorter than ``cutoff``.
        n_species : int
            Number of elements.

        Returns
        -------
        G : Tensor of shape (n_atoms, n_features)
        J : Tensor of shape (n_pairs, n_features, 3)
            :math:`\\partial G_{i(p)} / \\partial \\mathbf r_p`.
        """
        raise NotImplementedError


def _check_compute_inputs(species: torch.Tensor, pair_i: torch.Tensor, pair_j: torch.Tensor,
                         vectors: torch.Tensor, n_species: int, owner: str) -> None:
    """Refuse arguments of :meth:`AtomicDescriptor.compute` that would give a raw torch
    error or silently wrong descriptors: shapes, indices out of range, non-finite vectors
    (a few reductions, no loop).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.atomistic.descriptors import _check_compute_inputs
    >>> _check_compute_inputs(torch.tensor([0, 1]), torch.tensor([0]), torch.tensor([1]),
    ...                      torch.tensor([[float("nan"), 0.0, 0.0]]), 2, "ANIDescriptor")
    Traceback (most recent call last):
    ...
    ValueError: vectors of ANIDescriptor.compute must be finite, got nan in pair 0.
    """
    where = f"of {owner}.compute"
    n_species = check_count(f"n_species {where}", n_species)
    n_pairs = pair_i.numel()
    if vectors.shape != (n_pairs, 3) or pair_j.shape != pair_i.shape:
        raise ValueError(f"vectors {where} must have shape (n_pairs, 3) = ({n_pairs}, 3), one "
                         f"row per pair of pair_i and pair_j, got {tuple(vectors.shape)} "
                         f"(pair_j: {tuple(pair_j.shape)}).")
    for name, index, size in (("species", species, n_species),
                              ("pair_i", pair_i, species.numel()),
                              ("pair_j", pair_j, species.numel())):
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= size):
            bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
            raise ValueError(f"{name} {where} must hold indices in [0, {size - 1}], got "
                             f"{bad}.")
    bad = (~torch.isfinite(vectors).all(1)).nonzero().flatten()
    if bad.numel():
        raise ValueError(f"vectors {where} must be finite, got "
                         f"{float(vectors[bad[0]].sum())} in pair {int(bad[0])}.")


def _pair_slots(n_species: int) -> torch.Tensor:
    """Index of the unordered element pair (a, b), row-major over a <= b."""
    slots = torch.zeros(n_species, n_species, dtype=torch.long)
    a, b = torch.triu_indices(n_species, n_species)
    slots[a, b] = torch.arange(a.numel())
    slots[b, a] = torch.arange(a.numel())
    return slots


def _triples(pair_i: torch.Tensor, n_atoms: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All unordered pairs (p, q), p != q, of the pairs sharing a centre (vectorised)."""
    order = torch.argsort(pair_i, stable=True)
    counts = torch.bincount(pair_i, minlength=n_atoms)
    starts = torch.cumsum(counts, 0) - counts
    m = int(counts.max()) if counts.numel() else 0
    if m < 2:
        empty = torch.zeros(0, dtype=torch.long)
        return empty, empty
    a, b = torch.triu_indices(m, m, 1)
    keep = b[None, :] < counts[:, None]  # (n_atoms, m(m-1)/2)
    centre, combo = keep.nonzero(as_tuple=True)
    first = starts[centre] + a[combo]
    second = starts[centre] + b[combo]
    return order[first], order[second]


class ANIDescriptor(AtomicDescriptor):
    """ANI-1x atomic environment vectors (radial + angular), any number of elements.

    With :math:`n` elements the length is ``16 n + 32 n (n + 1) / 2`` (48 for one element,
    128 for two, 240 for three) at the default settings, which are those of
    ``torchani.aev.AEVComputer.like_1x``. An atom with no neighbour within the cutoff (a
    free atom) has :math:`G_i = 0`.

    Parameters
    ----------
    radial_cutoff : float, default=5.2
        Cutoff of the radial terms (Å); the descriptor's ``cutoff``.
    angular_cutoff : float, default=3.5
        Cutoff of the angular terms (Å), at most ``radial_cutoff``.
    radial_num_shifts : int, default=16
        Radial Gaussians per element.
    angular_num_shifts, angular_num_sections : int, default=4, 8
        Radial shells and angle sections of the angular terms.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.atomistic.descriptors import ANIDescriptor
    >>> d = ANIDescriptor()
    >>> d.n_features(2)
    128
    >>> vec = torch.tensor([[1.5, 0.0, 0.0], [-1.5, 0.0, 0.0], [0.0, 1.5, 0.0],
    ...                     [0.0, -1.5, 0.0]], dtype=torch.float64)
    >>> G, J = d.compute(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0, 2]),
    ...                  torch.tensor([1, 0, 2, 0]), vec, n_species=2)
    >>> G.shape, J.shape
    (torch.Size([3, 128]), torch.Size([4, 128, 3]))
    """

    def __init__(self, radial_cutoff: float = 5.2, angular_cutoff: float = 3.5,
                 radial_num_shifts: int = 16, angular_num_shifts: int = 4,
                 angular_num_sections: int = 8) -> None:
        self.radial_cutoff = radial_cutoff
        self.angular_cutoff = angular_cutoff
        self.radial_num_shifts = radial_num_shifts
        self.angular_num_shifts = angular_num_shifts
        self.angular_num_sections = angular_num_sections

    @property
    def cutoff(self) -> float:  # type: ignore[override]
        self._check_params()  # read first in fit: bad parameters are refused before any work
        return float(self.radial_cutoff)

    def __repr__(self) -> str:
        return (f"ANIDescriptor(radial_cutoff={self.radial_cutoff}, "
                f"angular_cutoff={self.angular_cutoff})")

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_terms"}

    def _get_terms(self, dtype: torch.dtype):
        terms = getattr(self, "_terms", None)
        if terms is None:
            self._check_params()
            aev = require("torchani.aev").AEVComputer.like_1x(
                num_species=1, radial_cutoff=float(self.radial_cutoff),
                angular_cutoff=float(self.angular_cutoff),
                radial_num_shifts=int(self.radial_num_shifts),
                angular_num_shifts=int(self.angular_num_shifts),
                angular_num_sections=int(self.angular_num_sections))
            terms = self._terms = {"radial": aev.radial, "angular": aev.angular}
        return {k: v.to(dtype) for k, v in terms.items()}

    def _check_params(self) -> None:
        """Refuse non-finite or non-positive cutoffs and counts below 1, naming them."""
        for name in ("radial_cutoff", "angular_cutoff"):
            check_real(f"{name} of ANIDescriptor", getattr(self, name), minimum=0.0,
                       include_minimum=False)
        for name in ("radial_num_shifts", "angular_num_shifts", "angular_num_sections"):
            check_count(f"{name} of ANIDescriptor", getattr(self, name))
        if not self.angular_cutoff <= self.radial_cutoff:
            raise ValueError("angular_cutoff of ANIDescriptor must be in (0, "
                             f"radial_cutoff={self.radial_cutoff}], got {self.angular_cutoff!r}.")

    def n_features(self, n_species: int) -> int:
        check_count("n_species", n_species)
        self._check_params()
        n_rad = int(self.radial_num_shifts)
        n_ang = int(self.angular_num_shifts) * int(self.angular_num_sections)
        return n_rad * n_species + n_ang * n_species * (n_species + 1) // 2

    def compute(self, species, pair_i, pair_j, vectors, n_species):
        _check_compute_inputs(species, pair_i, pair_j, vectors, n_species, "ANIDescriptor")
        func = torch.func
        terms = self._get_terms(vectors.dtype)
        radial, angular = terms["radial"], terms["angular"]
        n_atoms, n_pairs = species.numel(), pair_i.numel()
        n_rad, n_ang = radial.num_feats, angular.num_feats
        n_slots = n_species * (n_species + 1) // 2
        dtype = vectors.dtype
        vectors = vectors.detach()
        dist = vectors.norm(dim=-1)
        unit = vectors / dist[:, None]
        # radial: G_i[s(j)] += f(r_p); dG/dr_p = f'(r_p) r_p / |r_p|
        rad, drad = func.jvp(radial, (dist,), (torch.ones_like(dist),))
        slot = pair_i * n_species + species[pair_j]
        g_rad = torch.zeros(n_atoms * n_species, n_rad, dtype=dtype).index_add_(0, slot, rad)
        j_rad = torch.zeros(n_pairs, n_species, n_rad, 3, dtype=dtype)
        j_rad[torch.arange(n_pairs), species[pair_j]] = drad[:, :, None] * unit[:, None, :]
        # angular: triples (centre, p, q) within the angular cutoff
        inside = (dist <= angular.cutoff).nonzero().flatten()
        p, q = _triples(pair_i[inside], n_atoms)
        p, q = inside[p], inside[q]
        g_ang = torch.zeros(n_atoms * n_slots, n_ang, dtype=dtype)
        j_ang = torch.zeros(n_pairs * n_slots, n_ang, 3, dtype=dtype)
        if p.numel():
            ang, d_a, d_b = _angular_terms(angular, vectors[p], vectors[q])
            tslot = _pair_slots(n_species)[species[pair_j[p]], species[pair_j[q]]]
            g_ang.index_add_(0, pair_i[p] * n_slots + tslot, ang)
            j_flat = j_ang.view(n_pairs * n_slots, n_ang * 3)
            j_flat.index_add_(0, p * n_slots + tslot, d_a.reshape(-1, n_ang * 3))
            j_flat.index_add_(0, q * n_slots + tslot, d_b.reshape(-1, n_ang * 3))
        # sizes spelled out: a structure may have no pair at all (free atoms)
        G = torch.cat([g_rad.view(n_atoms, n_species * n_rad),
                       g_ang.view(n_atoms, n_slots * n_ang)], dim=1)
        J = torch.cat([j_rad.view(n_pairs, n_species * n_rad, 3),
                       j_ang.view(n_pairs, n_slots * n_ang, 3)], dim=1)
        return G, J


def _angular_terms(angular, va: torch.Tensor, vb: torch.Tensor):
    """torchani's angular terms of triples with side vectors ``va``, ``vb`` (T, 3), and their
    derivatives with respect to ``va`` and ``vb`` (T, n_ang, 3).

    The term factorises as ``A(cos θ) ⊗ R(ra, rb) · fc(ra) fc(rb)`` (torchani's
    ``compute_cos_angles``, ``compute_radial`` and ``cutoff_fn``), so three forward-mode
    derivatives of small factors and the chain rule give the Jacobian.
    """
    func = torch.func
    ra, rb = va.norm(dim=-1), vb.norm(dim=-1)
    cos = (va * vb).sum(-1) / torch.clamp(ra * rb, min=1e-10)

    def radial_part(x, y):
        cut = angular.cutoff_fn(x, angular.cutoff) * angular.cutoff_fn(y, angular.cutoff)
        return angular.compute_radial(x[:, None], y[:, None]) * cut[:, None]

    one = torch.ones_like(ra)
    ang, d_ang = func.jvp(angular.compute_cos_angles, (cos[:, None],), (one[:, None],))
    rad, d_rad_a = func.jvp(radial_part, (ra, rb), (one, torch.zeros_like(rb)))
    d_rad_b = func.jvp(radial_part, (ra, rb), (torch.zeros_like(ra), one))[1]
    n_t = ra.numel()
    terms = (rad[:, :, None] * ang[:, None, :]).reshape(n_t, -1)
    ua, ub = va / ra[:, None], vb / rb[:, None]
    dcos_a = (ub - cos[:, None] * ua) / ra[:, None]  # d cos / d va
    dcos_b = (ua - cos[:, None] * ub) / rb[:, None]
    via_angle = (rad[:, :, None] * d_ang[:, None, :]).reshape(n_t, -1, 1)
    d_a = (via_angle * dcos_a[:, None, :]).addcmul_(
        (d_rad_a[:, :, None] * ang[:, None, :]).reshape(n_t, -1, 1), ua[:, None, :])
    d_b = (via_angle * dcos_b[:, None, :]).addcmul_(
        (d_rad_b[:, :, None] * ang[:, None, :]).reshape(n_t, -1, 1), ub[:, None, :])
    return terms, d_a, d_b


#: Descriptor names accepted by ``TAAFSPotential(descriptor=...)``.
DESCRIPTORS = {"ani1x": ANIDescriptor}


def make_descriptor(descriptor) -> AtomicDescriptor | LearnedDescriptor:
    """A descriptor from a name in :data:`DESCRIPTORS`, an :class:`AtomicDescriptor` or a
    learned descriptor's spec (:class:`~taafs_sk.atomistic.learned.LearnedDescriptor`).

    Examples
    --------
    >>> from taafs_sk.atomistic.descriptors import make_descriptor
    >>> make_descriptor("ani1x").cutoff
    5.2
    """
    if isinstance(descriptor, (AtomicDescriptor, LearnedDescriptor)):
        return descriptor
    if isinstance(descriptor, str) and descriptor in DESCRIPTORS:
        return DESCRIPTORS[descriptor]()
    raise ValueError(f"descriptor must be one of {sorted(DESCRIPTORS)}, an AtomicDescriptor "
                     f"or a LearnedDescriptor instance, got {descriptor!r}.")

