"""Ring fusion topology, perimeter regions (bay, cove, fjord, ...) and the environment codes
(atoms, bonds, rings, perimeter windows, circular environments) counted as a vocabulary."""

from __future__ import annotations

import numpy as np

from ._columns import N_PATTERNS, PATTERN_OF_BITS, PATTERNS, RUN_CODES
from ._graph import MoleculeBatch, neighbour_table

__all__ = ["circular", "perimeter", "topology", "vocabulary_key"]

_MIX = [np.uint64(x) for x in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB,
                                0xD6E8FEB86659FD93)]  # 64-bit odd mixing constants


def topology(batch: MoleculeBatch) -> tuple[np.ndarray, list]:
    """Carbon and ring counts; codes of the atom, bond and ring environments."""
    fused = batch.bond_n_rings[batch.ring_bonds] == 2  # (r, 6) fused edges around each ring
    pattern = PATTERN_OF_BITS[fused @ (1 << np.arange(5, -1, -1))]
    annelation = np.column_stack([(fused & np.roll(fused, -k, axis=1)).sum(1)
                                  for k in (1, 2, 3)])  # ortho, meta, para pairs (para twice)
    fixed = np.column_stack([
        batch.n_atoms, batch.code_counts(batch.atom_molecule, batch.atom_n_rings, 4)[:, 1:],
        np.diff(batch.first_ring),
        batch.per_molecule(batch.bond_molecule, batch.bond_n_rings == 2),
        batch.code_counts(batch.ring_molecule, fused.sum(1), 7),
        batch.code_counts(batch.ring_molecule, pattern, N_PATTERNS),
        *(batch.per_molecule(batch.ring_molecule, annelation[:, k] / (1 + (k == 2)))
          for k in range(3))])
    neighbour_rings = neighbour_table(
        np.concatenate(batch.bonds.T), np.concatenate(batch.atom_n_rings[batch.bonds[:, ::-1]].T),
        batch.n_atoms_total, 3, 0)
    atom_code = batch.atom_n_rings * 1000 + np.sort(neighbour_rings, axis=1) @ np.array(
        [100, 10, 1])
    bond_ends = batch.atom_n_rings[batch.bonds]
    bond_code = bond_ends.min(1) * 100 + bond_ends.max(1) * 10 + batch.bond_n_rings
    pairs = batch.fused_pairs  # rings fused to each ring, by pattern
    around = neighbour_table(pairs.ravel(), pattern[pairs[:, ::-1]].ravel(), len(batch.rings),
                             6, N_PATTERNS)
    base = N_PATTERNS + 1
    ring_code = pattern * base**6 + np.sort(around, 1) @ (base ** np.arange(5, -1, -1))
    codes = [("atom", batch.atom_molecule, atom_code, 1.0),
             ("bond", batch.bond_molecule, bond_code, 1.0),
             ("ring", batch.ring_molecule, ring_code, 1.0)]
    return fixed, codes


def circular(batch: MoleculeBatch, radius: int) -> list:
    """Circular environments (as in Morgan/ECFP): start from each carbon's number of rings,
    then ``radius`` times hash each label with the sorted labels of its neighbours."""
    src, dst = np.concatenate(batch.bonds.T), np.concatenate(batch.bonds[:, ::-1].T)
    label, codes = batch.atom_n_rings.astype(np.uint64), []
    for r in range(1, radius + 1):
        neighbours = np.sort(neighbour_table(src, label[dst].view(np.int64),
                                             batch.n_atoms_total, 3, -1), axis=1)
        mixed = label * _MIX[0] + np.uint64(r)
        for k in range(3):
            mixed = (mixed ^ neighbours[:, k].view(np.uint64)) * _MIX[k + 1]
        label = mixed ^ (mixed >> np.uint64(31))
        if r > 1:  # radius 1 is the 'atom' key
            codes.append((f"env{r}", batch.atom_molecule, label.view(np.int64), 1.0))
    return codes


def vocabulary_key(kind: str, code: int, window: int) -> str:
    """Readable vocabulary key of an environment code."""
    if kind == "atom":
        return f"atom {code // 1000}:" + "".join(d for d in f"{code % 1000:03d}" if d != "0")
    if kind == "bond":
        return f"bond {code // 10}/{code % 10}"
    if kind.startswith("env"):
        return f"{kind} {code % (1 << 64):016x}"
    if kind == "ring":
        digits = [(code // (N_PATTERNS + 1) ** k) % (N_PATTERNS + 1) for k in range(6, -1, -1)]
        return f"ring {PATTERNS[digits[0]]}:" + "-".join(
            PATTERNS[d] for d in digits[1:] if d < N_PATTERNS)
    return "perimeter " + format(code, f"0{window}b").replace("1", "h").replace("0", "c")


def perimeter(batch: MoleculeBatch, window: int) -> tuple[np.ndarray, list, np.ndarray]:
    """Runs of fused carbons and of CH along the perimeter, and its windows.

    Every perimeter atom starts two walks (one each way) of ``max(window, 6)`` atoms; so
    every run and every window is seen twice, once from each end. Returns the run counts,
    the window codes (h = 1, c = 0, read in the direction giving the larger number) and the
    molecules whose perimeter is not a simple cycle.
    """
    n_atoms = batch.n_atoms_total
    outer = batch.bonds[batch.bond_n_rings == 1]
    src = np.concatenate(outer.T)
    partner = neighbour_table(src, np.concatenate(outer[:, ::-1].T), n_atoms, 3, -1)
    on_perimeter = batch.atom_n_rings < 3
    broken = (np.bincount(src, minlength=n_atoms) != 2 * on_perimeter) | (partner[:, 2] >= 0)
    partner[broken] = np.arange(n_atoms)[broken, None]  # keeps the walk in range; dropped
    is_ch = (batch.degree == 2).astype(np.int64)
    start = np.tile(np.flatnonzero(on_perimeter), 2)
    prev, cur = start, partner[start, np.repeat([0, 1], len(start) // 2)]
    code, codes = is_ch[start], {}
    for length in range(2, max(window, 6) + 1):
        code = code * 2 + is_ch[cur]
        codes[length] = code
        following = np.where(partner[cur, 0] == prev, partner[cur, 1], partner[cur, 0])
        prev, cur = cur, following
    molecule = batch.atom_molecule[start]
    runs = np.column_stack([batch.per_molecule(molecule, codes[length] == run) / 2
                            for length, run in RUN_CODES])
    forward = codes[window] if window > 1 else is_ch[start]
    backward = np.zeros_like(forward)
    for k in range(window):
        backward |= ((forward >> k) & 1) << (window - 1 - k)
    fixed = np.column_stack([batch.per_molecule(batch.atom_molecule, on_perimeter), runs])
    windows = [("perimeter", molecule, np.maximum(forward, backward), 0.5)]
    return fixed, windows, np.unique(batch.atom_molecule[broken])
