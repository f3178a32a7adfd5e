"""Pi electrons of benzenoids: Hueckel energies, Kekule structures, Pauling bond orders and
Clar's aromatic sextets (resonant sets), for a whole batch at once."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from ._columns import MAX_SEXTETS
from ._graph import MoleculeBatch

__all__ = ["pi_electrons"]

_MAX_CLAR_RINGS = 24  # more rings: resonant sets are not enumerated (their columns are NaN)
_DET_ZERO = np.log(1e-6)  # log |det| below this: no perfect matching (weights in [1, 2])


def _colour(batch: MoleculeBatch) -> tuple[np.ndarray, np.ndarray, set]:
    """Two-colouring of each molecule, the rank of each atom within its colour class and
    the molecules with no Kekule structure (colour classes of different size)."""
    colour = np.full(batch.n_atoms_total, -1)
    colour[batch.first_atom[:-1]] = 0
    u, v = batch.bonds.T
    while True:
        cu, cv = colour[u], colour[v]
        fwd, back = (cu >= 0) & (cv < 0), (cv >= 0) & (cu < 0)
        if not (fwd.any() or back.any()):
            break
        colour[v[fwd]], colour[u[back]] = 1 - cu[fwd], 1 - cv[back]
    key = batch.atom_molecule * 2 + colour
    order = np.argsort(key, kind="stable")
    rank = np.empty(batch.n_atoms_total, dtype=np.int64)
    rank[order] = np.arange(batch.n_atoms_total) - np.searchsorted(key[order], key[order])
    bad = set(batch.bond_molecule[colour[u] == colour[v]]) | set(batch.atom_molecule[colour < 0])
    n_black = batch.per_molecule(batch.atom_molecule, colour == 0)
    bad |= set(np.flatnonzero(2 * n_black != batch.n_atoms))
    return colour, rank, bad


class _Bipartite(NamedTuple):
    """The adjacency between the two colour classes: row = black atom, column = white."""

    bond_black: np.ndarray  # (n_bonds,) rank of each bond's black atom (its row)
    bond_white: np.ndarray  # (n_bonds,) rank of each bond's white atom (its column)
    weight: np.ndarray  # (n_bonds,) generic weights in [1, 2) for the resonant sets
    ring_black: np.ndarray  # (n_rings, 3) rows of each ring's black atoms
    ring_white: np.ndarray  # (n_rings, 3) columns of each ring's white atoms


class _PiResults(NamedTuple):
    """Arrays filled group by group (molecules of one size) by :func:`_solve_group`."""

    columns: np.ndarray  # (n_molecules, 9): Hueckel, Kekule and Pauling columns
    pauling: np.ndarray  # (n_bonds,) Pauling bond orders
    log_weighted_det: np.ndarray  # (n_molecules,) log |det W|
    blocks: np.ndarray  # (n_molecules, r, r, 3, 3): blocks of W^-1 for every pair of rings


def _bipartite(batch: MoleculeBatch, colour: np.ndarray, rank: np.ndarray) -> _Bipartite:
    black = np.where(colour[batch.bonds[:, 0]] == 0, batch.bonds[:, 0], batch.bonds[:, 1])
    # generic weights in [1, 2): a Weyl sequence of the atoms' positions in the molecule
    local = batch.bonds - batch.first_atom[batch.bond_molecule, None]
    weight = 1.0 + np.mod(local[:, 0] * 0.7548776662 + local[:, 1] * 0.5698402910, 1.0)
    is_black = colour[batch.rings] == 0
    return _Bipartite(rank[black], rank[batch.bonds.sum(1) - black], weight,
                      rank[batch.rings][is_black].reshape(-1, 3),
                      rank[batch.rings][~is_black].reshape(-1, 3))


def pi_electrons(batch: MoleculeBatch) -> tuple[np.ndarray, set]:
    """Hueckel, Kekule, Pauling and Clar columns, and the non-Kekulean molecules."""
    colour, rank, non_kekulean = _colour(batch)
    graph = _bipartite(batch, colour, rank)
    n_rings = np.diff(batch.first_ring)
    clar_ok = n_rings <= _MAX_CLAR_RINGS
    largest = n_rings[clar_ok].max(initial=1)
    result = _PiResults(np.full((batch.n_molecules, 9), np.nan), np.zeros(len(batch.bonds)),
                        np.zeros(batch.n_molecules),
                        np.zeros((batch.n_molecules, largest, largest, 3, 3)))
    good = np.ones(batch.n_molecules, dtype=bool)
    good[list(non_kekulean)] = False
    for half in np.unique(batch.n_atoms[good] // 2):
        molecules = np.flatnonzero(good & (batch.n_atoms == 2 * half))
        non_kekulean |= _solve_group(batch, graph, molecules, half, clar_ok, result)
    pauling = result.pauling
    ring_sum = np.bincount(np.repeat(np.arange(len(batch.rings)), 6),
                           weights=pauling[batch.ring_bonds.ravel()], minlength=len(batch.rings))
    mean = batch.per_molecule(batch.ring_molecule, ring_sum) / n_rings
    var = batch.per_molecule(batch.ring_molecule, ring_sum**2) / n_rings - mean**2
    first_ring, first_bond = batch.first_ring[:-1], batch.first_bond[:-1]
    result.columns[:, 3:] = np.column_stack([
        np.minimum.reduceat(ring_sum, first_ring), mean,
        np.maximum.reduceat(ring_sum, first_ring), np.sqrt(np.maximum(var, 0.0)),
        np.minimum.reduceat(pauling, first_bond), np.maximum.reduceat(pauling, first_bond)])
    clar_ok[list(non_kekulean)] = False
    clar = _clar(batch, result.blocks, result.log_weighted_det, clar_ok)
    return np.hstack([result.columns, clar]), non_kekulean


def _solve_group(batch: MoleculeBatch, graph: _Bipartite, molecules: np.ndarray, half: int,
                 clar_ok: np.ndarray, result: _PiResults) -> set:
    """Fill ``result`` for ``molecules``, all of ``2 * half`` carbons; return the
    non-Kekulean ones among them. LAPACK runs on one thread: the matrices are small, and its
    results (to the last bit) must not depend on the machine's thread count."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _solve_group_serial(batch, graph, molecules, half, clar_ok, result)


def _solve_group_serial(batch: MoleculeBatch, graph: _Bipartite, molecules: np.ndarray,
                        half: int, clar_ok: np.ndarray, result: _PiResults) -> set:
    adjacency = np.zeros((len(molecules), half, half))
    position, bonds_in = _members(batch, molecules)
    adjacency[position[batch.bond_molecule[bonds_in]], graph.bond_black[bonds_in],
              graph.bond_white[bonds_in]] = 1.0
    sign, log_kekule = np.linalg.slogdet(adjacency)  # |det| = number of Kekule structures
    kekulean = (sign != 0) & (log_kekule > -0.5)
    non_kekulean = set(molecules[~kekulean])
    molecules, adjacency, log_kekule = (molecules[kekulean], adjacency[kekulean],
                                        log_kekule[kekulean])
    position, bonds_in = _members(batch, molecules)
    row, black, white = (position[batch.bond_molecule[bonds_in]], graph.bond_black[bonds_in],
                         graph.bond_white[bonds_in])
    singular_values = np.linalg.svd(adjacency, compute_uv=False)  # Hueckel: +-singular_values
    result.columns[molecules, :3] = np.column_stack(
        [2 * singular_values.sum(1), 2 * singular_values.min(1), log_kekule])
    result.pauling[bonds_in] = np.abs(np.linalg.inv(adjacency)[row, white, black])  # K(G-i-j)/K
    adjacency[row, black, white] = graph.weight[bonds_in]
    result.log_weighted_det[molecules] = np.linalg.slogdet(adjacency)[1]
    # (W^-1)[white atoms of ring p, black atoms of ring q] for all ring pairs p, q
    ring_p = np.flatnonzero((position[batch.ring_molecule] >= 0) & clar_ok[batch.ring_molecule])
    ring_p, ring_q = _within(batch, ring_p)
    molecule_p, index_p, index_q = (batch.ring_molecule[ring_p], batch.ring_in_molecule[ring_p],
                                    batch.ring_in_molecule[ring_q])
    result.blocks[molecule_p, index_p, index_q] = np.linalg.inv(adjacency)[
        position[molecule_p][:, None, None], graph.ring_white[ring_p][:, :, None],
        graph.ring_black[ring_q][:, None, :]]
    return non_kekulean


def _members(batch: MoleculeBatch, molecules: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each molecule within ``molecules`` (-1 if absent), and their bonds."""
    position = np.full(batch.n_molecules, -1)
    position[molecules] = np.arange(len(molecules))
    return position, np.flatnonzero(position[batch.bond_molecule] >= 0)


def _within(batch: MoleculeBatch, rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (p, q) with p in ``rings`` and q any ring of the same molecule."""
    count = np.diff(batch.first_ring)[batch.ring_molecule[rings]]
    p = np.repeat(rings, count)
    q = (batch.first_ring[batch.ring_molecule[p]] + np.arange(len(p))
         - np.repeat(np.cumsum(count) - count, count))
    return p, q


def _clar(batch: MoleculeBatch, blocks: np.ndarray, log_weighted_det: np.ndarray,
          ok: np.ndarray) -> np.ndarray:
    """Clar number, number of Clar structures and resonant-set counts r(1..max).

    A set S of disjoint hexagons is resonant when the rest of the molecule keeps a perfect
    matching. With generic edge weights ``W`` that holds exactly when ``det W[rest] != 0``,
    which Jacobi's complementary-minor identity gives from the inverse:
    ``|det W[rest]| = |det W| |det (W^-1)[white(S), black(S)]|``; ``blocks`` holds the
    3 x 3 blocks of ``W^-1`` for every pair of rings. Supersets of a set that is not
    resonant are not resonant either, so only resonant sets are extended.
    """
    local = batch.ring_in_molecule
    conflict = 1 << local  # bit mask (local ring indices) of the rings touching each ring
    atom_rings = batch.ring_of_atom(3)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        both = (atom_rings[:, i] >= 0) & (atom_rings[:, j] >= 0)
        np.bitwise_or.at(conflict, atom_rings[both, i], 1 << local[atom_rings[both, j]])
        np.bitwise_or.at(conflict, atom_rings[both, j], 1 << local[atom_rings[both, i]])
    rings = np.flatnonzero(ok[batch.ring_molecule])
    sets, molecule, blocked = local[rings][:, None], batch.ring_molecule[rings], conflict[rings]
    counts = np.zeros((batch.n_molecules, MAX_SEXTETS))
    for k in range(1, MAX_SEXTETS + 1):
        feasible = np.zeros(len(sets), dtype=bool)
        for part in np.array_split(np.arange(len(sets)), 1 + len(sets) // 50000):
            sub = blocks[molecule[part, None, None], sets[part, :, None], sets[part, None, :]]
            sub = sub.transpose(0, 1, 3, 2, 4).reshape(len(part), 3 * k, 3 * k)
            log_det = np.linalg.slogdet(sub)[1] + log_weighted_det[molecule[part]]
            feasible[part] = log_det > _DET_ZERO
        counts[:, k - 1] = batch.per_molecule(molecule, feasible)
        sets, molecule, blocked = sets[feasible], molecule[feasible], blocked[feasible]
        last = sets[:, -1]
        extra = np.diff(batch.first_ring)[molecule] - last - 1  # later rings of the same molecule
        parent = np.repeat(np.arange(len(sets)), extra)
        ring = last[parent] + 1 + np.arange(len(parent)) - np.repeat(np.cumsum(extra) - extra,
                                                                     extra)
        free = (blocked[parent] >> ring) & 1 == 0
        parent, ring = parent[free], ring[free]
        sets, molecule = np.column_stack([sets[parent], ring]), molecule[parent]
        blocked = blocked[parent] | conflict[batch.first_ring[molecule] + ring]
        if not len(sets):
            break
    clar = (counts > 0).sum(1)
    n_structures = counts[np.arange(batch.n_molecules), np.maximum(clar - 1, 0)]
    out = np.column_stack([clar, n_structures, counts])
    out[~ok] = np.nan
    return out


