"""Steric crowding of benzenoids: H...H, C...H and C...C contacts in the idealised planar
honeycomb geometry (regular hexagons; helicene turns overlap)."""

from __future__ import annotations

import numpy as np

from ._graph import MoleculeBatch

__all__ = ["steric"]

_CC, _CH = 1.40, 1.09  # idealised C-C and C-H bond lengths (A)
_CONTACT = {"HH": 2.4, "CH": 2.9, "CC": 3.4}  # sums of van der Waals radii (A)


def _walk_ring(ring_atoms: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each ring's atoms in cyclic order from ``u``, away from its neighbour ``v``."""
    iu = np.argmax(ring_atoms == u[:, None], axis=1)
    step = np.where(ring_atoms[np.arange(len(u)), (iu + 1) % 6] == v, -1, 1)
    return np.take_along_axis(ring_atoms, (iu[:, None] + step[:, None] * np.arange(6)) % 6, 1)


def _embed(batch: MoleculeBatch) -> tuple[np.ndarray, np.ndarray]:
    """Idealised planar coordinates on the honeycomb (C-C = 1.40 A; helicene turns overlap)
    and ring centres: each ring is the mirror image of a placed neighbour across the edge they
    share, placed breadth-first from each molecule's first ring."""
    pos, centre = np.zeros((batch.n_atoms_total, 2)), np.zeros((len(batch.rings), 2))
    angle = np.pi / 3 * np.arange(6)
    first = batch.first_ring[:-1]
    pos[batch.rings[first]] = _CC * np.column_stack([np.cos(angle), np.sin(angle)])
    placed = np.zeros(len(batch.rings), dtype=bool)
    placed[first] = True
    src, dst = np.concatenate(batch.fused_pairs.T), np.concatenate(batch.fused_pairs[:, ::-1].T)
    edge = np.concatenate([batch.fused_bond, batch.fused_bond])
    while True:
        go = np.flatnonzero(placed[src] & ~placed[dst])
        if not len(go):
            return pos, centre
        go = go[np.unique(dst[go], return_index=True)[1]]
        a, r = src[go], dst[go]  # a placed ring and the ring mirrored from it
        u, v = batch.bonds[edge[go]].T
        seq_a, seq_r = _walk_ring(batch.rings[a], u, v), _walk_ring(batch.rings[r], u, v)
        axis = (pos[v] - pos[u]) / _CC
        rel = pos[seq_a[:, 1:5]] - pos[u][:, None]
        along = (rel * axis[:, None]).sum(-1, keepdims=True) * axis[:, None]
        pos[seq_r[:, 1:5]] = pos[u][:, None] + 2 * along - rel
        centre[r] = pos[u] + pos[v] - centre[a]
        placed[r] = True


def steric(batch: MoleculeBatch) -> np.ndarray:
    """H...H, C...H and C...C contacts in the idealised planar geometry."""
    position, centre = _embed(batch)
    ring_of = batch.ring_of_atom(1)[:, 0]
    carbon = position[:, 0] + 1j * position[:, 1]
    outward = carbon - (centre[ring_of, 0] + 1j * centre[ring_of, 1])
    hydrogen = carbon + _CH * outward / np.abs(outward)
    out = np.zeros((batch.n_molecules, 9))
    for n_atoms in np.unique(batch.n_atoms):
        molecules = np.flatnonzero(batch.n_atoms == n_atoms)
        out[molecules] = _group_contacts(batch, molecules, n_atoms, carbon, hydrogen)
    return out


def _group_contacts(batch: MoleculeBatch, molecules: np.ndarray, n_atoms: int,
                    carbon: np.ndarray, hydrogen: np.ndarray) -> np.ndarray:
    """The 9 steric columns of ``molecules``, all of ``n_atoms`` carbons (complex positions
    of each carbon and of its hydrogen, if any)."""
    position = np.full(batch.n_molecules, -1)
    position[molecules] = np.arange(len(molecules))
    path = batch.paths[position[batch.atom_molecule[batch.paths[:, 0]]] >= 0]
    group = position[batch.atom_molecule[path[:, 0]]]
    path = path - batch.first_atom[batch.atom_molecule[path[:, :1]]]  # local atom indices
    near = np.zeros((2, len(molecules), n_atoms, n_atoms), dtype=bool)  # within 1, 3 bonds
    near[0, group, path[:, 0], path[:, 1]] = True
    for k in (1, 2, 3):
        near[1, group, path[:, 0], path[:, k]] = True
    i, j = np.triu_indices(n_atoms, 1)
    near = near[:, :, i, j]  # (2, molecules of the group, pairs)
    atoms = batch.first_atom[molecules][:, None] + np.arange(n_atoms)  # global atom indices
    has_h = batch.degree[atoms] == 2
    c, h = carbon[atoms], hydrogen[atoms]
    far = ~near[0]
    hh = has_h[:, i] & has_h[:, j] & far
    hc, ch = has_h[:, i] & far, has_h[:, j] & far  # H on i with C j, and C i with H on j
    pairs = [_pairs(h, h, i, j, hh, _CONTACT["HH"]), _pairs(h, c, i, j, hc, _CONTACT["CH"]),
             _pairs(c, h, i, j, ch, _CONTACT["CH"]),
             _pairs(c, c, i, j, ~near[1], _CONTACT["CC"])]
    n_group = len(molecules)
    return np.column_stack([
        _contacts(*pairs[0], n_group, "HH", (1.0, 2.0, 2.4)),
        _contacts(*(np.concatenate(x) for x in zip(pairs[1], pairs[2], strict=True)), n_group,
                  "CH", (2.9,)),
        _contacts(*pairs[3], n_group, "CC", (3.4, 0.5))])


def _pairs(p: np.ndarray, q: np.ndarray, i: np.ndarray, j: np.ndarray, mask: np.ndarray,
           limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Distances |p[m, i] - q[m, j]| below ``limit`` over the pairs selected by ``mask``
    (molecule m of the group, pair), and the m of each."""
    difference = p[:, i] - q[:, j]
    squared = difference.real**2 + difference.imag**2
    group, pair = np.nonzero(mask & (squared < limit**2))
    return np.sqrt(squared[group, pair]), group


def _contacts(r: np.ndarray, group: np.ndarray, n_group: int, kind: str,
              cuts: tuple) -> np.ndarray:
    """Sum of (R - r)^2 over pairs closer than R = _CONTACT[kind], then counts by cut."""
    limit = _CONTACT[kind]
    cols = [np.bincount(group, weights=np.maximum(limit - r, 0.0) ** 2, minlength=n_group)]
    if kind == "HH":  # bins [0, 1), [1, 2), [2, 2.4)
        bounds = (0.0, *cuts)
        cols += [np.bincount(group, weights=(r >= lo) & (r < hi), minlength=n_group)
                 for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    else:
        cols += [np.bincount(group, weights=r < cut, minlength=n_group) for cut in cuts]
    return np.column_stack(cols)


