"""A batch of hydrocarbons stacked into one block-diagonal graph, and its hexagons.

Atoms, bonds and rings of all molecules carry global indices; ``*_molecule`` arrays say
which molecule each belongs to, ``first_*`` arrays where each molecule's items start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MoleculeBatch", "neighbour_table"]

_NOT_BENZENOID = ("it is not a benzenoid hydrocarbon (every carbon must be a CH in one "
                  "six-membered ring or a C shared by two or three such rings)")


def neighbour_table(src: np.ndarray, values: np.ndarray, n_rows: int, width: int,
                    fill: int) -> np.ndarray:
    """(n_rows, width) table: row i lists the ``values`` whose ``src`` is i (padded with fill)."""
    order = np.argsort(src, kind="stable")
    src, values = src[order], values[order]
    first = np.searchsorted(src, src)
    table = np.full((n_rows, width), fill, dtype=np.int64)
    keep = np.arange(len(src)) - first < width
    table[src[keep], (np.arange(len(src)) - first)[keep]] = values[keep]
    return table


def _hexagons(bonds: np.ndarray, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """All six-membered cycles (h, 6) of a graph, in cyclic order, each found once, and all
    non-backtracking paths of three bonds (p, 4).

    A hexagon is two paths of three bonds between opposite atoms; it is kept from the pair
    of opposite atoms that holds its smallest atom.
    """
    neighbours = neighbour_table(np.concatenate(bonds.T), np.concatenate(bonds[:, ::-1].T),
                                 n_atoms, 3, -1)
    path = np.arange(n_atoms)[:, None]
    for _ in range(3):
        step = neighbours[path[:, -1]]  # (p, 3)
        prev = path[:, -2] if path.shape[1] > 1 else np.full(len(path), -1)
        ok = (step >= 0) & (step != prev[:, None])
        p, k = np.nonzero(ok)
        path = np.column_stack([path[p], step[p, k]])
    paths, path = path, path[path[:, 0] < path[:, 3]]
    path = path[np.lexsort((path[:, 1], path[:, 3], path[:, 0]))]
    x, y = path[:-1], path[1:]
    pair = ((x[:, 0] == y[:, 0]) & (x[:, 3] == y[:, 3]) & (x[:, 1] != y[:, 1])
            & (x[:, 2] != y[:, 2]) & (x[:, 1] != y[:, 2]) & (x[:, 2] != y[:, 1]))
    cycles = np.column_stack([x[pair], y[pair][:, 2], y[pair][:, 1]])
    return cycles[cycles[:, 0] == cycles.min(1)], paths


class MoleculeBatch:
    """Molecules stacked into one graph: atoms, bonds and rings carry global indices.

    Parameters
    ----------
    parsed : sequence of (int, array-like of shape (n_bonds, 2))
        Per molecule, its number of carbons and its C-C bonds (local atom indices).

    Attributes
    ----------
    n_molecules, n_atoms_total : int
        Molecules in the batch, and their atoms together.
    n_atoms : ndarray of shape (n_molecules,)
        Carbons of each molecule.
    first_atom, first_bond, first_ring : ndarray of shape (n_molecules + 1,)
        Where each molecule's atoms, bonds and rings start (the last entry is the total).
    bonds : ndarray of shape (n_bonds, 2)
        Bonds as pairs of global atom indices (smaller first), sorted.
    atom_molecule, bond_molecule, ring_molecule : ndarray
        The molecule of each atom, bond and ring.
    degree, atom_n_rings : ndarray of shape (n_atoms_total,)
        Each atom's number of bonds and of rings.
    rings : ndarray of shape (n_rings, 6)
        Each hexagon's atoms in cyclic order, grouped by molecule.
    ring_in_molecule : ndarray of shape (n_rings,)
        Position of each ring among its molecule's rings.
    paths : ndarray of shape (n_paths, 4)
        Every non-backtracking path of three bonds (both directions).
    not_benzenoid : dict of int to str
        Position of each molecule that is not a benzenoid -> the reason. When it is not
        empty, the attributes below are not set.
    ring_bonds : ndarray of shape (n_rings, 6)
        Each ring's bonds, bond k joining ring atoms k and k + 1.
    bond_n_rings : ndarray of shape (n_bonds,)
        Rings holding each bond (2: a fused bond).
    fused_pairs : ndarray of shape (n_fused, 2)
        Pairs of rings sharing a bond, and ``fused_bond`` the bond each pair shares.
    """

    def __init__(self, parsed: Sequence[tuple]) -> None:
        self.n_molecules = len(parsed)
        self.n_atoms = np.array([p[0] for p in parsed])
        self.first_atom = np.concatenate([[0], np.cumsum(self.n_atoms)])
        self.n_atoms_total = int(self.first_atom[-1])
        bond_key = self._stack_bonds(parsed)
        rings, self.paths = _hexagons(self.bonds, self.n_atoms_total)
        self.rings = rings[np.argsort(self.atom_molecule[rings[:, 0]], kind="stable")]
        self.ring_molecule = self.atom_molecule[self.rings[:, 0]]
        self.first_ring = np.searchsorted(self.ring_molecule, np.arange(self.n_molecules + 1))
        self.ring_in_molecule = np.arange(len(self.rings)) - self.first_ring[self.ring_molecule]
        self.atom_n_rings = np.bincount(self.rings.ravel(), minlength=self.n_atoms_total)
        self.not_benzenoid = {int(i): _NOT_BENZENOID
                              for i in np.flatnonzero(self._wrong(bond_key))}
        if not self.not_benzenoid:
            self._find_fused(bond_key)

    def _stack_bonds(self, parsed: Sequence[tuple]) -> np.ndarray:
        """Set the bond arrays; return each bond's key ``i * n_atoms_total + j`` (sorted)."""
        bonds = np.concatenate([np.asarray(p[1], dtype=np.int64).reshape(-1, 2) + offset
                                for p, offset in zip(parsed, self.first_atom, strict=False)])
        bonds = np.sort(bonds, axis=1)
        bond_key = bonds[:, 0] * self.n_atoms_total + bonds[:, 1]
        order = np.argsort(bond_key)
        self.bonds, bond_key = bonds[order], bond_key[order]
        self.atom_molecule = np.repeat(np.arange(self.n_molecules), self.n_atoms)
        self.bond_molecule = self.atom_molecule[self.bonds[:, 0]]
        self.first_bond = np.searchsorted(self.bond_molecule, np.arange(self.n_molecules + 1))
        self.degree = np.bincount(self.bonds.ravel(), minlength=self.n_atoms_total)
        return bond_key

    def _wrong(self, bond_key: np.ndarray) -> np.ndarray:
        """Per molecule: not as many hexagons as independent cycles, a repeated bond, or an
        atom that is not a CH in one ring or a C in two or three."""
        n_cycles = np.diff(self.first_bond) - self.n_atoms + 1
        repeated_bond = self.per_molecule(self.bond_molecule[1:], np.diff(bond_key) == 0) > 0
        n_rings = self.atom_n_rings
        odd_atom = ((self.degree > 3) | (n_rings < 1) | (n_rings > 3)
                    | ((n_rings == 1) != (self.degree == 2)))
        return ((np.diff(self.first_ring) != n_cycles) | repeated_bond
                | (self.per_molecule(self.atom_molecule, odd_atom) > 0))

    def _find_fused(self, bond_key: np.ndarray) -> None:
        """Set ``ring_bonds``, ``bond_n_rings``, ``fused_pairs`` and ``fused_bond``."""
        following = np.roll(self.rings, -1, axis=1)
        self.ring_bonds = np.searchsorted(
            bond_key, np.minimum(self.rings, following) * self.n_atoms_total
            + np.maximum(self.rings, following))  # (r, 6)
        self.bond_n_rings = np.bincount(self.ring_bonds.ravel(), minlength=len(self.bonds))
        # pairs of fused rings (f, 2) and the bond each pair shares (f,)
        flat, owner = self.ring_bonds.ravel(), np.repeat(np.arange(len(self.rings)), 6)
        keep = np.flatnonzero(self.bond_n_rings[flat] == 2)
        keep = keep[np.argsort(flat[keep], kind="stable")]
        self.fused_pairs = owner[keep].reshape(-1, 2)
        self.fused_bond = flat[keep][::2]

    def per_molecule(self, molecule: np.ndarray, values: Any = None) -> np.ndarray:
        """Sum of ``values`` (default 1) over the items of each molecule."""
        return np.bincount(molecule, weights=values, minlength=self.n_molecules)

    def code_counts(self, molecule: np.ndarray, code: np.ndarray, n_codes: int) -> np.ndarray:
        """(n_molecules, n_codes) counts of the integer codes 0..n_codes-1 per molecule."""
        return np.bincount(molecule * n_codes + code,
                           minlength=self.n_molecules * n_codes).reshape(self.n_molecules,
                                                                         n_codes)

    def ring_of_atom(self, width: int) -> np.ndarray:
        """(n_atoms_total, width) table of the rings of each atom, padded with -1."""
        return neighbour_table(self.rings.ravel(), np.repeat(np.arange(len(self.rings)), 6),
                               self.n_atoms_total, width, -1)
