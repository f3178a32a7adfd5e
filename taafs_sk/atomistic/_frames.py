"""Lists of ``ase.Atoms`` to flat tensors: input checks, neighbour lists, descriptors.

A :class:`Frames` holds any number of structures as one flat graph (atoms of all structures
concatenated, directed pairs indexing into them), with the descriptors ``G`` and their pair
Jacobians ``J`` computed once (see :mod:`taafs_sk.atomistic.descriptors`).
:meth:`Frames.subset` gathers a minibatch of structures with index arithmetic only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .._validation._text import short
from ._deps import require
from .descriptors import AtomicDescriptor

__all__ = ["Frames", "as_atoms_list", "build_frames", "check_finite_descriptors",
           "check_min_distance", "read_targets"]

_CHUNK_PAIRS = 400_000  # pairs per descriptor call (bounds the memory of the Jacobians)


def as_atoms_list(atoms_list, name: str = "atoms_list") -> list:
    """A list of ``ase.Atoms`` from a list, tuple, object array or a single Atoms."""
    Atoms = require("ase").Atoms
    if isinstance(atoms_list, Atoms):
        atoms_list = [atoms_list]
    if isinstance(atoms_list, np.ndarray):
        atoms_list = list(atoms_list.ravel())
    if not isinstance(atoms_list, Sequence) or isinstance(atoms_list, str):
        raise TypeError(f"{name} must be a list of ase.Atoms, got {type(atoms_list).__name__}.")
    out = list(atoms_list)
    if not out:
        raise ValueError(f"{name} is empty: at least one structure is needed.")
    for k, atoms in enumerate(out):
        if not isinstance(atoms, Atoms):
            raise TypeError(f"structure {k} of {name} is a {type(atoms).__name__}, not an "
                            "ase.Atoms.")
    return out


def check_structures(atoms_list: list, elements: Sequence[str] | None, cutoff: float,
                     cutoff_name: str | None = None) -> None:
    """Refuse empty structures, non-finite positions, unknown elements and bad periodic cells
    (see :func:`check_cell`), naming the structure (and the cutoff's parameter
    ``cutoff_name``, if given)."""
    for k, atoms in enumerate(atoms_list):
        if len(atoms) == 0:
            raise ValueError(f"structure {k} has no atoms.")
        bad = np.flatnonzero(~np.isfinite(atoms.positions).all(axis=1))
        if bad.size:
            raise ValueError(f"structure {k} has non-finite (NaN or inf) positions: atom "
                             f"{bad[0]} is at {atoms.positions[bad[0]].tolist()}.")
        if elements is not None:
            unseen = sorted(set(atoms.get_chemical_symbols()) - set(elements))
            if unseen:
                raise ValueError(f"structure {k} contains element(s) {unseen} not seen in fit "
                                 f"(the potential knows {list(elements)}).")
        check_cell(atoms, k, cutoff, cutoff_name)


def check_cell(atoms, k: int, cutoff: float, cutoff_name: str | None = None) -> None:
    """Refuse a non-finite cell, linearly dependent periodic cell vectors, and a periodic
    cell thinner than ``cutoff`` along a periodic direction (an atom would see its own
    image). Thickness is measured in the lattice of the periodic vectors alone, so a
    non-periodic vector may be zero (as in ASE's slabs)."""
    cell = atoms.cell.array
    if not np.isfinite(cell).all():
        raise ValueError(f"structure {k} has a non-finite cell {cell.tolist()}.")
    axes = np.flatnonzero(atoms.pbc)
    if not axes.size:
        return
    vectors = cell[axes]
    gram = vectors @ vectors.T
    norms2 = np.diag(gram)
    if norms2.min() == 0 or np.linalg.det(gram) <= 1e-12 * np.prod(norms2):
        raise ValueError(
            f"structure {k} is periodic (pbc={atoms.pbc.tolist()}) but its periodic cell "
            f"vectors are linearly dependent (zero volume): cell={np.round(cell, 6).tolist()}; "
            "give independent cell vectors, or set pbc=False along the missing ones.")
    heights = 1.0 / np.sqrt(np.diag(np.linalg.inv(gram)))  # lattice plane spacings
    thin = np.flatnonzero(heights < cutoff)
    if thin.size:
        ax, h = int(axes[thin[0]]), float(heights[thin[0]])
        named = f"({cutoff_name}) " if cutoff_name else ""
        raise ValueError(
            f"structure {k}: the periodic cell is {h:.3f} Å thick along cell vector "
            f"{ax}, smaller than the descriptor cutoff {named}{cutoff} Å, so an atom would "
            "see its own periodic image; use a supercell (atoms.repeat).")


def read_targets(atoms_list: list, energies=None, forces=None, name: str = "energies"):
    """Energies ``(n_structures,)`` and forces (list of ``(n_atoms, 3)``) from the arguments
    or, where not given, from each structure's calculator (the ASE convention); ``name`` is
    the energies' parameter in messages."""
    n = len(atoms_list)
    source = name
    if energies is not None:
        energies = _as_floats(energies, name).ravel()
        if len(energies) != n:
            raise ValueError(f"{name} has {len(energies)} values for {n} structures.")
    else:
        source = "its calculator"
        energies = np.empty(n)
        for k, atoms in enumerate(atoms_list):
            energies[k] = _from_calc(atoms, k, "energy")
    bad = np.flatnonzero(~np.isfinite(energies))
    if bad.size:
        raise ValueError(f"the energy of structure {bad[0]} is not finite ({energies[bad[0]]}, "
                         f"from {source}).")
    if forces is not None and not hasattr(forces, "__len__"):
        raise TypeError(f"forces must be a list of {n} (n_atoms, 3) arrays, one per structure, "
                        f"got {short(forces, 60)}.")
    if forces is not None and len(forces) != n:
        raise ValueError(f"forces has {len(forces)} entries for {n} structures.")
    out = []
    for k, atoms in enumerate(atoms_list):
        f = _as_floats(forces[k] if forces is not None else _from_calc(atoms, k, "forces"),
                       f"the forces of structure {k}")
        if f.shape != (len(atoms), 3):
            raise ValueError(f"the forces of structure {k} have shape {f.shape}, expected "
                             f"({len(atoms)}, 3).")
        if not np.isfinite(f).all():
            raise ValueError(f"the forces of structure {k} are not finite.")
        out.append(f)
    return energies, out


def _as_floats(values, what: str) -> np.ndarray:
    """``values`` as a float array; a ragged or non-numeric input is named by ``what``."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numbers in a rectangular array, got "
                         f"{short(values, 60)} ({exc}).") from exc


def _from_calc(atoms, k: int, what: str):
    """The structure's energy or forces from its calculator (computed if it has to be)."""
    param = "energies" if what == "energy" else "forces"
    if atoms.calc is None:
        raise ValueError(f"structure {k} has no {what} to fit: it has no calculator; attach "
                         f"one (e.g. a SinglePointCalculator) or pass {param}= to fit.")
    try:
        return atoms.get_potential_energy() if what == "energy" else atoms.get_forces()
    except Exception as exc:  # noqa: BLE001 - any calculator failure means no target
        raise ValueError(f"structure {k} has no {what} to fit: its calculator "
                         f"{type(atoms.calc).__name__} cannot give it ({exc!r}); pass "
                         f"{param}= to fit.") from exc


@dataclass
class Frames:
    """Structures as one flat graph (all tensors on one device, ``G``/``J`` in one dtype).

    With a learned descriptor ``G`` and ``J`` are None: the module computes the descriptors
    from ``vectors`` (float64, cast to the network's dtype at use).

    ``len(frames)`` is the number of structures. A Frames is also a minibatch of the
    library's skorch loop (see :mod:`taafs_sk.atomistic._batches`), which hands it to the
    module as it is (:class:`~taafs_sk.taafs.net.TrainingNet` converts only tensor-likes).
    """

    species: torch.Tensor  # (N,) element index
    struct: torch.Tensor  # (N,) structure index
    n_atoms: torch.Tensor  # (B,)
    pair_i: torch.Tensor  # (P,) centre
    pair_j: torch.Tensor  # (P,) neighbour
    pair_struct: torch.Tensor  # (P,)
    G: torch.Tensor | None  # (N, D); None with a learned descriptor
    J: torch.Tensor | None  # (P, D, 3); None with a learned descriptor
    energy: torch.Tensor | None = None  # (B,) residual energies (reference removed)
    forces: torch.Tensor | None = None  # (N, 3)
    vectors: torch.Tensor | None = None  # (P, 3) float64 pair vectors r_p (for the virial)
    _offsets: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_atoms_total(self) -> int:
        return int(self.species.numel())

    @property
    def n_structures(self) -> int:
        return int(self.n_atoms.numel())

    def __len__(self) -> int:
        return self.n_structures

    def subset(self, idx) -> Frames:
        """The structures ``idx`` (in that order) as a new Frames (views of ``G`` and ``J``
        when ``idx`` is a block of consecutive structures, copies otherwise)."""
        device = self.n_atoms.device
        idx = torch.as_tensor(idx, dtype=torch.long, device=device)
        if self._offsets is None:  # computed once: minibatches are cut from one Frames
            n_pairs = torch.bincount(self.pair_struct, minlength=self.n_structures)
            self._offsets = (torch.cumsum(self.n_atoms, 0) - self.n_atoms,
                             n_pairs, torch.cumsum(n_pairs, 0) - n_pairs)
        atom_start, n_pairs, pair_start = self._offsets
        if idx.numel() and bool((idx.diff() == 1).all()):
            return self._block(int(idx[0]), int(idx[-1]) + 1)
        atoms = _ranges(atom_start[idx], self.n_atoms[idx])
        pairs = _ranges(pair_start[idx], n_pairs[idx])
        new_start = torch.cumsum(self.n_atoms[idx], 0) - self.n_atoms[idx]
        counting = torch.arange(idx.numel(), device=device)
        local = torch.repeat_interleave(counting, n_pairs[idx])
        shift = (new_start - atom_start[idx])[local]
        return Frames(
            species=self.species[atoms],
            struct=torch.repeat_interleave(counting, self.n_atoms[idx]),
            n_atoms=self.n_atoms[idx], pair_i=self.pair_i[pairs] + shift,
            pair_j=self.pair_j[pairs] + shift, pair_struct=local,
            G=None if self.G is None else self.G[atoms],
            J=None if self.J is None else self.J[pairs],
            energy=None if self.energy is None else self.energy[idx],
            forces=None if self.forces is None else self.forces[atoms],
            vectors=None if self.vectors is None else self.vectors[pairs])

    def _block(self, first: int, end: int) -> Frames:
        """Structures ``first .. end - 1``: slices (structures and their pairs are stored in
        order, each contiguous)."""
        atom_start, n_pairs, pair_start = self._offsets
        a0 = int(atom_start[first])
        a1 = int(atom_start[end - 1] + self.n_atoms[end - 1])
        p0, p1 = int(pair_start[first]), int(pair_start[end - 1] + n_pairs[end - 1])
        return Frames(
            species=self.species[a0:a1], struct=self.struct[a0:a1] - first,
            n_atoms=self.n_atoms[first:end], pair_i=self.pair_i[p0:p1] - a0,
            pair_j=self.pair_j[p0:p1] - a0, pair_struct=self.pair_struct[p0:p1] - first,
            G=None if self.G is None else self.G[a0:a1],
            J=None if self.J is None else self.J[p0:p1],
            energy=None if self.energy is None else self.energy[first:end],
            forces=None if self.forces is None else self.forces[a0:a1],
            vectors=None if self.vectors is None else self.vectors[p0:p1])


def _ranges(starts: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Concatenated ``arange(s, s + n)`` for each (s, n), without a Python loop."""
    total = int(lengths.sum())
    offsets = torch.repeat_interleave(starts - (torch.cumsum(lengths, 0) - lengths), lengths)
    return torch.arange(total, device=starts.device) + offsets


def check_min_distance(i: np.ndarray, j: np.ndarray, vectors: np.ndarray, min_distance: float,
                       k: int) -> None:
    """Refuse structure ``k`` if a neighbour pair ``(i, j)`` (pair vectors ``vectors``) is
    closer than ``min_distance`` Å (vectorised over the pairs; 0 checks nothing)."""
    if min_distance <= 0 or not len(i):
        return
    dist = np.linalg.norm(vectors, axis=1)
    p = int(np.argmin(dist))
    if dist[p] < min_distance:
        a, b = sorted((int(i[p]), int(j[p])))
        what = "a periodic image of itself" if a == b else f"atom {b}"
        raise ValueError(
            f"structure {k}: atom {a} and {what} are {dist[p]:.4g} Å apart, closer than "
            f"min_distance={min_distance} Å (duplicated atoms or positions in the wrong unit?). "
            "Fix the structure, or lower min_distance (0 disables the check).")


def build_frames(atoms_list: list, elements: Sequence[str], descriptor,
                 dtype: torch.dtype, device: str = "cpu", *, min_distance: float = 0.0,
                 first: int = 0) -> Frames:
    """Neighbour lists and descriptors of checked structures (see :func:`check_structures`).

    A structure with a pair closer than ``min_distance`` Å is refused, named by its index
    in ``atoms_list`` plus ``first`` (the caller's numbering), before any descriptor is
    computed. ``descriptor`` is an :class:`AtomicDescriptor` (``G`` and ``J`` computed
    here) or a learned descriptor's spec (only the pairs and their vectors are kept).
    """
    neighbor_list = require("ase.neighborlist").neighbor_list
    index = {el: e for e, el in enumerate(elements)}
    cutoff = float(descriptor.cutoff)
    species, pi, pj, vec, counts, pcounts = [], [], [], [], [], []
    offset = 0
    for k, atoms in enumerate(atoms_list):  # per structure; every step inside is vectorised
        i, j, shift = neighbor_list("ijS", atoms, cutoff)
        pos = atoms.positions
        vec.append(pos[j] - pos[i] + shift @ atoms.cell.array)
        check_min_distance(i, j, vec[-1], min_distance, first + k)
        pi.append(i + offset)
        pj.append(j + offset)
        species.append([index[s] for s in atoms.get_chemical_symbols()])
        counts.append(len(atoms))
        pcounts.append(len(i))
        offset += len(atoms)
    species_t = torch.as_tensor(np.concatenate(species), dtype=torch.long)
    n_atoms = torch.as_tensor(counts, dtype=torch.long)
    pair_i = torch.as_tensor(np.concatenate(pi), dtype=torch.long)
    pair_j = torch.as_tensor(np.concatenate(pj), dtype=torch.long)
    vectors = torch.as_tensor(np.concatenate(vec).reshape(-1, 3), dtype=torch.float64)
    G = J = None
    if isinstance(descriptor, AtomicDescriptor):
        G, J = _descriptors(descriptor, species_t, n_atoms, torch.as_tensor(pcounts), pair_i,
                            pair_j, vectors.to(dtype), len(elements), dtype)
        check_finite_descriptors(G, J, n_atoms, pair_i, first)
        G, J = G.to(device), J.to(device)
    return Frames(species=species_t.to(device),
                  struct=torch.repeat_interleave(torch.arange(len(counts)), n_atoms).to(device),
                  n_atoms=n_atoms.to(device), pair_i=pair_i.to(device),
                  pair_j=pair_j.to(device),
                  pair_struct=torch.repeat_interleave(torch.arange(len(counts)),
                                                      torch.as_tensor(pcounts)).to(device),
                  G=G, J=J, vectors=vectors.to(device))


def check_finite_descriptors(G: torch.Tensor, J: torch.Tensor, n_atoms: torch.Tensor,
                             pair_i: torch.Tensor, first: int = 0) -> None:
    """Refuse a non-finite descriptor ``G`` (N, D) or pair Jacobian ``J`` (P, D, 3), naming
    the structure (``first`` + its index) and the atom (one reduction per tensor)."""
    bad = torch.cat([(~torch.isfinite(G.sum(1))).nonzero().flatten(),
                     pair_i[~torch.isfinite(J.sum((1, 2)))]])
    if not bad.numel():
        return
    atom = int(bad.min())
    ends = torch.cumsum(n_atoms, 0)
    k = int(torch.searchsorted(ends, torch.tensor(atom), right=True))
    raise ValueError(
        f"structure {first + k}: the descriptor of atom {atom - int(ends[k] - n_atoms[k])} or "
        "its derivative is not finite (an atom at the same position as another, with "
        "min_distance=0?); fix the structure, or keep min_distance > 0 to have it named.")


def _descriptors(descriptor, species, n_atoms, n_pairs, pair_i, pair_j, vectors, n_species,
                 dtype):
    """G and J in ``dtype``, computed in chunks of whole structures."""
    atom_start = torch.cumsum(n_atoms, 0) - n_atoms
    pair_start = torch.cumsum(n_pairs, 0) - n_pairs
    n_feat = descriptor.n_features(n_species)
    G = torch.empty(int(n_atoms.sum()), n_feat, dtype=dtype)
    J = torch.empty(int(n_pairs.sum()), n_feat, 3, dtype=dtype)
    b = 0
    while b < len(n_atoms):
        e = b + 1
        while e < len(n_atoms) and int(n_pairs[b:e + 1].sum()) <= _CHUNK_PAIRS:
            e += 1
        a0, a1 = int(atom_start[b]), int(atom_start[e - 1] + n_atoms[e - 1])
        p0, p1 = int(pair_start[b]), int(pair_start[e - 1] + n_pairs[e - 1])
        g, jac = descriptor.compute(species[a0:a1], pair_i[p0:p1] - a0, pair_j[p0:p1] - a0,
                                    vectors[p0:p1], n_species)
        G[a0:a1], J[p0:p1] = g, jac
        b = e
    return G, J
