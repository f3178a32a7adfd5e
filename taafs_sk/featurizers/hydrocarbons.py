"""Benzenoid hydrocarbon featurizer: SMILES -> carbon environments, ring fusion topology,
perimeter regions (bay, cove, fjord), steric contacts, Hueckel, Kekule and Clar descriptors,
and counts of local environments learned as a vocabulary in ``fit``.

The chemistry is vectorised over a batch: each SMILES is read into a list of C-C bonds (a
small reader for SMILES of aromatic carbons only, RDKit for anything else), the molecules are
stacked into one block-diagonal graph (atoms, bonds and rings with global indices) and every
descriptor is computed for the whole batch at once with numpy.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from rdkit import Chem, rdBase
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions

from ._base import BaseFeaturizer

__all__ = ["FIXED_FEATURES", "HydrocarbonFeaturizer"]

_PLAIN_AROMATIC = re.compile(r"^[c0-9%()]+$")  # aromatic carbons only: read without RDKit
_CHUNK = 2048  # molecules per vectorised block (bounds the memory of the pair arrays)
_CC, _CH = 1.40, 1.09  # idealised C-C and C-H bond lengths (A)
_CONTACT = {"HH": 2.4, "CH": 2.9, "CC": 3.4}  # sums of van der Waals radii (A)
_MAX_SEXTETS = 8
_MIX = [np.uint64(x) for x in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB,
                                0xD6E8FEB86659FD93)]  # 64-bit odd mixing constants
_MAX_CLAR_RINGS = 24  # more rings: resonant sets are not enumerated (their columns are NaN)
_DET_ZERO = np.log(1e-6)  # log |det| below this: no perfect matching (weights in [1, 2])


def _bracelets() -> tuple[np.ndarray, list[str]]:
    """Canonical class of each 6-bit fusion pattern under rotation and reflection."""
    canon = {}
    for x in range(64):
        s = format(x, "06b")
        forms = [s[i:] + s[:i] for i in range(6)]
        canon[x] = max(forms + [f[::-1] for f in forms])
    names = sorted(set(canon.values()), key=lambda s: (s.count("1"), s[::-1]))
    return np.array([names.index(canon[x]) for x in range(64)]), names


_BRACELET, _PATTERNS = _bracelets()
_NP = len(_PATTERNS)  # 13 ring patterns
_RUNS_C = ("fissure", "bay", "cove", "fjord", "lagoon")  # 1, 2, 3, 4, 5+ fused C in a row
_RUNS_H = ("solo", "duo", "trio", "quartet")  # 1-4 CH in a row
_RUN_CODES = [(3, 0b101), (4, 0b1001), (5, 0b10001), (6, 0b100001), (6, 0b100000),
              (3, 0b010), (4, 0b0110), (5, 0b01110), (6, 0b011110)]  # (length, h=1 c=0)

#: The fixed columns: name -> what it counts (the learned vocabulary columns follow them).
FIXED_FEATURES = {
    "n_C": "carbon atoms",
    "n_CH": "CH carbons (in one ring; equals the number of hydrogens)",
    "n_C_fused": "carbons shared by two rings (fusion carbons on the perimeter)",
    "n_C_internal": "internal carbons shared by three rings",
    "n_rings": "six-membered rings",
    "n_fused_bonds": "C-C bonds shared by two rings",
    **{f"n_rings_degree_{d}": f"rings fused to {d} other rings" for d in range(7)},
    **{f"n_rings_pattern_{p}": f"rings whose edges, read around the ring, are fused (1) or "
       f"free (0) as {p} (canonical under rotation and reflection)" for p in _PATTERNS},
    "n_annelation_ortho": "pairs of adjacent fused edges of a ring (peri fusion)",
    "n_annelation_meta": "pairs of fused edges of a ring two apart (angular annelation)",
    "n_annelation_para": "pairs of opposite fused edges of a ring (linear annelation)",
    "n_perimeter_C": "carbons on the perimeter (all but the internal ones)",
    **{f"n_{r}": f"{r} regions: {k}{'+' if k == 5 else ''} fused carbons in a row on the "
       "perimeter between two CH" for k, r in enumerate(_RUNS_C, 1)},
    **{f"n_CH_{r}": f"{r} CH groups: {k} CH in a row on the perimeter between fused "
       "carbons" for k, r in enumerate(_RUNS_H, 1)},
    "steric_HH": "sum of (2.4 A - r)^2 over H...H pairs closer than 2.4 A in the idealised "
                 "planar geometry (hydrogens on carbons two or more bonds apart), A^2",
    "n_HH_clash": "H...H pairs closer than 1.0 A in the planar geometry (coves and worse)",
    "n_HH_close": "H...H pairs at 1.0-2.0 A in the planar geometry (bays, fjords)",
    "n_HH_contact": "H...H pairs at 2.0-2.4 A in the planar geometry",
    "steric_CH": "sum of (2.9 A - r)^2 over C...H pairs closer than 2.9 A in the planar "
                 "geometry (carbon two or more bonds from the H's carbon), A^2",
    "n_CH_contact": "C...H pairs closer than 2.9 A in the planar geometry",
    "steric_CC": "sum of (3.4 A - r)^2 over C...C pairs four or more bonds apart and closer "
                 "than 3.4 A in the planar geometry (overlapping helicene turns), A^2",
    "n_CC_contact": "C...C pairs four or more bonds apart closer than 3.4 A",
    "n_CC_overlap": "C...C pairs that coincide in the planar geometry (closer than 0.5 A)",
    "huckel_pi_energy": "Hueckel total pi energy, 2 x the sum of occupied eigenvalues, |beta|",
    "huckel_gap": "Hueckel HOMO-LUMO gap, |beta|",
    "log_kekule": "natural log of the number of Kekule structures",
    "pauling_ring_min": "smallest ring sum of Pauling bond orders (3 for a full Clar sextet, "
                        "1.5 for an empty ring)",
    "pauling_ring_mean": "mean ring sum of Pauling bond orders",
    "pauling_ring_max": "largest ring sum of Pauling bond orders",
    "pauling_ring_std": "standard deviation of the ring sums of Pauling bond orders",
    "pauling_bond_min": "smallest Pauling bond order",
    "pauling_bond_max": "largest Pauling bond order",
    "clar_number": "Clar number: the most disjoint sextets leaving a Kekule structure",
    "n_clar_structures": "number of sets of clar_number such sextets (Clar structures)",
    **{f"n_resonant_sets_{k}": f"resonant sets of {k} disjoint sextets (sextet polynomial "
       f"coefficient of x^{k}; k=1: rings that can hold a sextet)"
       for k in range(1, _MAX_SEXTETS + 1)},
}


# ---------------------------------------------------------------------------- parsing
def _read(smiles: Any) -> tuple[int, Any]:
    """Number of carbons and the bonds (pairs of atom indices) of one hydrocarbon SMILES."""
    if not isinstance(smiles, str):
        raise ValueError(f"expected a SMILES string, got {type(smiles).__name__} {smiles!r}")
    if "." in smiles:
        raise ValueError(f"{smiles!r} holds more than one molecule")
    n, edges = _read_plain(smiles) if _PLAIN_AROMATIC.match(smiles) else _read_rdkit(smiles)
    if len(edges) == 0:
        raise ValueError(f"{smiles!r} is not a benzenoid hydrocarbon (no C-C bonds)")
    return n, edges


def _read_plain(smiles: str) -> tuple[int, list]:
    """Read a SMILES made only of aromatic carbons, branches and ring closures (fast path)."""
    edges, bonds_open, stack, prev, n, i, need_atom = [], {}, [], -1, 0, 0, True
    while i < len(smiles):
        ch = smiles[i]
        if ch == "c":
            if prev >= 0:
                edges.append((prev, n))
            prev, n, need_atom, i = n, n + 1, False, i + 1
            continue
        if need_atom:
            raise ValueError(f"invalid SMILES {smiles!r} (no atom before {ch!r} at {i})")
        if ch == "(":
            stack.append(prev)
            need_atom, i = True, i + 1
        elif ch == ")":
            if not stack:
                raise ValueError(f"invalid SMILES {smiles!r} (unmatched ')' at {i})")
            prev, i = stack.pop(), i + 1
        else:
            label = smiles[i + 1:i + 3] if ch == "%" else ch
            if not label.isdigit() or (ch == "%" and len(label) != 2):
                raise ValueError(f"invalid SMILES {smiles!r} (bad ring closure at {i})")
            i += 3 if ch == "%" else 1
            j = bonds_open.pop(label, None)
            if j is None:
                bonds_open[label] = prev
            elif j == prev:
                raise ValueError(f"invalid SMILES {smiles!r} (ring closure {label} on one atom)")
            else:
                edges.append((j, prev))
    if bonds_open or stack or need_atom:
        raise ValueError(f"invalid SMILES {smiles!r} (unclosed ring or branch)")
    return n, edges


def _read_rdkit(smiles: str) -> tuple[int, np.ndarray]:
    """Read any other SMILES with RDKit; every atom must be an aromatic CH or C."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"invalid SMILES {smiles!r}")
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() != 6:
            raise ValueError(f"non-carbon atom {atom.GetSymbol()} in {smiles!r}: only "
                             "hydrocarbons are supported")
        if (not atom.GetIsAromatic() or atom.GetFormalCharge() or atom.GetIsotope()
                or atom.GetNumRadicalElectrons() or atom.GetTotalNumHs() + atom.GetDegree() != 3):
            raise ValueError(f"{smiles!r} is not a benzenoid hydrocarbon (atom {atom.GetIdx()} "
                             "is not an aromatic CH or C)")
    return mol.GetNumAtoms(), np.argwhere(np.triu(Chem.GetAdjacencyMatrix(mol)))


def _hexagons(edges: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """All six-membered cycles (h, 6) of a graph, in cyclic order, each found once, and all
    non-backtracking paths of three bonds (p, 4).

    A hexagon is two paths of three bonds between opposite atoms; it is kept from the pair
    of opposite atoms that holds its smallest atom.
    """
    nbr = _slots(np.concatenate(edges.T), np.concatenate(edges[:, ::-1].T), n, 3, -1)
    path = np.arange(n)[:, None]
    for _ in range(3):
        step = nbr[path[:, -1]]  # (p, 3)
        prev = path[:, -2] if path.shape[1] > 1 else np.full(len(path), -1)
        ok = (step >= 0) & (step != prev[:, None])
        p, k = np.nonzero(ok)
        path = np.column_stack([path[p], step[p, k]])
    paths, path = path, path[path[:, 0] < path[:, 3]]
    path = path[np.lexsort((path[:, 1], path[:, 3], path[:, 0]))]
    x, y = path[:-1], path[1:]
    pair = ((x[:, 0] == y[:, 0]) & (x[:, 3] == y[:, 3]) & (x[:, 1] != y[:, 1])
            & (x[:, 2] != y[:, 2]) & (x[:, 1] != y[:, 2]) & (x[:, 2] != y[:, 1]))
    cyc = np.column_stack([x[pair], y[pair][:, 2], y[pair][:, 1]])
    return cyc[cyc[:, 0] == cyc.min(1)], paths


class _Batch:
    """Molecules stacked into one graph: atoms, bonds and rings carry global indices.

    ``bad`` maps the position of each molecule that is not a benzenoid to the reason.
    """

    def __init__(self, parsed: Sequence[tuple]) -> None:
        self.m = len(parsed)
        self.size = np.array([p[0] for p in parsed])
        self.atom0 = np.concatenate([[0], np.cumsum(self.size)])
        self.n = int(self.atom0[-1])
        edges = np.concatenate([np.asarray(p[1], dtype=np.int64).reshape(-1, 2) + o
                                for p, o in zip(parsed, self.atom0, strict=False)])
        edges = np.sort(edges, axis=1)
        key = edges[:, 0] * self.n + edges[:, 1]
        order = np.argsort(key)
        self.edges, key = edges[order], key[order]
        self.mol_atom = np.repeat(np.arange(self.m), self.size)
        self.mol_edge = self.mol_atom[self.edges[:, 0]]
        self.edge0 = np.searchsorted(self.mol_edge, np.arange(self.m + 1))
        self.deg = np.bincount(self.edges.ravel(), minlength=self.n)
        rings, self.paths = _hexagons(self.edges, self.n)
        self.rings = rings[np.argsort(self.mol_atom[rings[:, 0]], kind="stable")]
        self.mol_ring = self.mol_atom[self.rings[:, 0]]
        self.ring0 = np.searchsorted(self.mol_ring, np.arange(self.m + 1))
        self.ring_local = np.arange(len(self.rings)) - self.ring0[self.mol_ring]
        self.n_ring = np.bincount(self.rings.ravel(), minlength=self.n)
        n_cycles = np.diff(self.edge0) - self.size + 1
        wrong = (np.diff(self.ring0) != n_cycles) | (self.per_mol(
            self.mol_edge[1:], np.diff(key) == 0) > 0) | (self.per_mol(
            self.mol_atom, (self.deg > 3) | (self.n_ring < 1) | (self.n_ring > 3)
            | ((self.n_ring == 1) != (self.deg == 2))) > 0)
        self.bad = {int(i): "it is not a benzenoid hydrocarbon (every carbon must be a CH in "
                    "one six-membered ring or a C shared by two or three such rings)"
                    for i in np.flatnonzero(wrong)}
        if self.bad:
            return
        nxt = np.roll(self.rings, -1, axis=1)
        self.ring_edge = np.searchsorted(key, np.minimum(self.rings, nxt) * self.n
                                         + np.maximum(self.rings, nxt))  # (r, 6)
        self.edge_rings = np.bincount(self.ring_edge.ravel(), minlength=len(self.edges))
        # pairs of fused rings (f, 2) and the bond each pair shares (f,)
        flat, owner = self.ring_edge.ravel(), np.repeat(np.arange(len(self.rings)), 6)
        keep = np.flatnonzero(self.edge_rings[flat] == 2)
        keep = keep[np.argsort(flat[keep], kind="stable")]
        self.fused = owner[keep].reshape(-1, 2)
        self.fused_edge = flat[keep][::2]

    def per_mol(self, mol: np.ndarray, values: Any = None) -> np.ndarray:
        """Sum of ``values`` (default 1) over items belonging to each molecule."""
        return np.bincount(mol, weights=values, minlength=self.m)

    def counts(self, mol: np.ndarray, code: np.ndarray, k: int) -> np.ndarray:
        """(m, k) counts of the integer codes 0..k-1 per molecule."""
        return np.bincount(mol * k + code, minlength=self.m * k).reshape(self.m, k)


def _slots(src: np.ndarray, values: np.ndarray, n: int, width: int, fill: int) -> np.ndarray:
    """(n, width) table: row i lists the ``values`` whose ``src`` is i (padded with fill)."""
    order = np.argsort(src, kind="stable")
    src, values = src[order], values[order]
    first = np.searchsorted(src, src)
    table = np.full((n, width), fill, dtype=np.int64)
    keep = np.arange(len(src)) - first < width
    table[src[keep], (np.arange(len(src)) - first)[keep]] = values[keep]
    return table


# ---------------------------------------------------------------------------- topology
def _topology(b: _Batch) -> tuple[np.ndarray, list]:
    """Carbon and ring counts; codes of the atom, bond and ring environments."""
    ebits = b.edge_rings[b.ring_edge] == 2  # (r, 6) fused edges around each ring
    pattern = _BRACELET[ebits @ (1 << np.arange(5, -1, -1))]
    annel = np.column_stack([(ebits & np.roll(ebits, -k, axis=1)).sum(1) for k in (1, 2, 3)])
    fixed = np.column_stack([
        b.size, b.counts(b.mol_atom, b.n_ring, 4)[:, 1:], np.diff(b.ring0),
        b.per_mol(b.mol_edge, b.edge_rings == 2), b.counts(b.mol_ring, ebits.sum(1), 7),
        b.counts(b.mol_ring, pattern, _NP),
        *(b.per_mol(b.mol_ring, annel[:, k] / (1 + (k == 2))) for k in range(3))])
    nbr = _slots(np.concatenate(b.edges.T), np.concatenate(b.n_ring[b.edges[:, ::-1]].T),
                 b.n, 3, 0)
    atom_code = b.n_ring * 1000 + np.sort(nbr, axis=1) @ np.array([100, 10, 1])
    ring_n = b.n_ring[b.edges]
    bond_code = ring_n.min(1) * 100 + ring_n.max(1) * 10 + b.edge_rings
    pairs = b.fused  # rings fused to each ring, by pattern
    around = _slots(pairs.ravel(), pattern[pairs[:, ::-1]].ravel(), len(b.rings), 6, _NP)
    ring_code = pattern * (_NP + 1) ** 6 + np.sort(around, 1) @ ((_NP + 1) ** np.arange(5, -1, -1))
    codes = [("atom", b.mol_atom, atom_code, 1.0), ("bond", b.mol_edge, bond_code, 1.0),
             ("ring", b.mol_ring, ring_code, 1.0)]
    return fixed, codes


def _circular(b: _Batch, radius: int) -> list:
    """Circular environments (as in Morgan/ECFP): start from each carbon's number of rings,
    then ``radius`` times hash each label with the sorted labels of its neighbours."""
    src, dst = np.concatenate(b.edges.T), np.concatenate(b.edges[:, ::-1].T)
    label, codes = b.n_ring.astype(np.uint64), []
    for r in range(1, radius + 1):
        nbr = np.sort(_slots(src, label[dst].view(np.int64), b.n, 3, -1), axis=1)
        mixed = label * _MIX[0] + np.uint64(r)
        for k in range(3):
            mixed = (mixed ^ nbr[:, k].view(np.uint64)) * _MIX[k + 1]
        label = mixed ^ (mixed >> np.uint64(31))
        if r > 1:  # radius 1 is the 'atom' key
            codes.append((f"env{r}", b.mol_atom, label.view(np.int64), 1.0))
    return codes


def _label(kind: str, code: int, window: int) -> str:
    """Readable vocabulary key of an environment code."""
    if kind == "atom":
        return f"atom {code // 1000}:" + "".join(d for d in f"{code % 1000:03d}" if d != "0")
    if kind == "bond":
        return f"bond {code // 10}/{code % 10}"
    if kind.startswith("env"):
        return f"{kind} {code % (1 << 64):016x}"
    if kind == "ring":
        digits = [(code // (_NP + 1) ** k) % (_NP + 1) for k in range(6, -1, -1)]
        return f"ring {_PATTERNS[digits[0]]}:" + "-".join(
            _PATTERNS[d] for d in digits[1:] if d < _NP)
    return "perimeter " + format(code, f"0{window}b").replace("1", "h").replace("0", "c")


def _perimeter(b: _Batch, window: int) -> tuple[np.ndarray, list, np.ndarray]:
    """Runs of fused carbons and of CH along the perimeter, and its windows.

    Every perimeter atom starts two walks (one each way) of ``max(window, 6)`` atoms; so
    every run and every window is seen twice, once from each end. Returns the run counts,
    the window codes (h = 1, c = 0, read in the direction giving the larger number) and the
    molecules whose perimeter is not a simple cycle.
    """
    outer = b.edges[b.edge_rings == 1]
    src = np.concatenate(outer.T)
    partner = _slots(src, np.concatenate(outer[:, ::-1].T), b.n, 3, -1)
    on = b.n_ring < 3
    bad = (np.bincount(src, minlength=b.n) != 2 * on) | (partner[:, 2] >= 0)
    partner[bad] = np.arange(b.n)[bad, None]  # keeps the walk in range; molecule dropped
    h = (b.deg == 2).astype(np.int64)
    start = np.tile(np.flatnonzero(on), 2)
    prev, cur = start, partner[start, np.repeat([0, 1], len(start) // 2)]
    code, codes = h[start], {}
    for length in range(2, max(window, 6) + 1):
        code = code * 2 + h[cur]
        codes[length] = code
        nxt = np.where(partner[cur, 0] == prev, partner[cur, 1], partner[cur, 0])
        prev, cur = cur, nxt
    mol = b.mol_atom[start]
    runs = np.column_stack([b.per_mol(mol, codes[k] == c) / 2 for k, c in _RUN_CODES])
    w = codes[window] if window > 1 else h[start]
    rev = np.zeros_like(w)
    for k in range(window):
        rev |= ((w >> k) & 1) << (window - 1 - k)
    fixed = np.column_stack([b.per_mol(b.mol_atom, on), runs])
    return fixed, [("perimeter", mol, np.maximum(w, rev), 0.5)], np.unique(b.mol_atom[bad])


# ---------------------------------------------------------------------------- pi electrons
def _colour(b: _Batch) -> tuple[np.ndarray, np.ndarray, set]:
    """Two-colouring of each molecule, the rank of each atom within its colour class and
    the molecules with no Kekule structure (colour classes of different size)."""
    colour = np.full(b.n, -1)
    colour[b.atom0[:-1]] = 0
    u, v = b.edges.T
    while True:
        cu, cv = colour[u], colour[v]
        fwd, back = (cu >= 0) & (cv < 0), (cv >= 0) & (cu < 0)
        if not (fwd.any() or back.any()):
            break
        colour[v[fwd]], colour[u[back]] = 1 - cu[fwd], 1 - cv[back]
    key = b.mol_atom * 2 + colour
    order = np.argsort(key, kind="stable")
    rank = np.empty(b.n, dtype=np.int64)
    rank[order] = np.arange(b.n) - np.searchsorted(key[order], key[order])
    bad = set(b.mol_edge[colour[u] == colour[v]]) | set(b.mol_atom[colour < 0])
    bad |= set(np.flatnonzero(2 * b.per_mol(b.mol_atom, colour == 0) != b.size))
    return colour, rank, bad


def _pi(b: _Batch) -> tuple[np.ndarray, set]:
    """Hueckel, Kekule, Pauling and Clar columns, and the non-Kekulean molecules."""
    colour, rank, bad = _colour(b)
    black = np.where(colour[b.edges[:, 0]] == 0, b.edges[:, 0], b.edges[:, 1])
    r_b, r_w = rank[black], rank[b.edges.sum(1) - black]
    # generic weights in [1, 2): a Weyl sequence of the atoms' positions in the molecule
    local = b.edges - b.atom0[b.mol_edge, None]
    weight = 1.0 + np.mod(local[:, 0] * 0.7548776662 + local[:, 1] * 0.5698402910, 1.0)
    is_black = colour[b.rings] == 0
    ring_b = rank[b.rings][is_black].reshape(-1, 3)  # rows of each ring's black atoms
    ring_w = rank[b.rings][~is_black].reshape(-1, 3)
    n_rings = np.diff(b.ring0)
    clar_ok = n_rings <= _MAX_CLAR_RINGS
    blocks = np.zeros((b.m, *(2 * [n_rings[clar_ok].max(initial=1)]), 3, 3))
    out, pauling, log_w = np.full((b.m, 9), np.nan), np.zeros(len(b.edges)), np.zeros(b.m)
    good = np.ones(b.m, dtype=bool)
    good[list(bad)] = False
    for half in np.unique(b.size[good] // 2):
        mols = np.flatnonzero(good & (b.size == 2 * half))
        mat = np.zeros((len(mols), half, half))
        loc, e = _members(b, mols)
        mat[loc[b.mol_edge[e]], r_b[e], r_w[e]] = 1.0
        sign, log_k = np.linalg.slogdet(mat)  # |det| = number of Kekule structures
        kek = (sign != 0) & (log_k > -0.5)
        bad |= set(mols[~kek])
        mols, mat, log_k = mols[kek], mat[kek], log_k[kek]
        loc, e = _members(b, mols)
        g = loc[b.mol_edge[e]]
        sv = np.linalg.svd(mat, compute_uv=False)  # Hueckel eigenvalues are +-sv
        out[mols, :3] = np.column_stack([2 * sv.sum(1), 2 * sv.min(1), log_k])
        pauling[e] = np.abs(np.linalg.inv(mat)[g, r_w[e], r_b[e]])  # K(G-i-j) / K(G)
        mat[g, r_b[e], r_w[e]] = weight[e]
        log_w[mols] = np.linalg.slogdet(mat)[1]
        # (W^-1)[white atoms of ring p, black atoms of ring q] for all ring pairs p, q
        p = np.flatnonzero((loc[b.mol_ring] >= 0) & clar_ok[b.mol_ring])
        p, q = _within(b, p)
        blocks[b.mol_ring[p], b.ring_local[p], b.ring_local[q]] = np.linalg.inv(mat)[
            loc[b.mol_ring[p]][:, None, None], ring_w[p][:, :, None], ring_b[q][:, None, :]]
    ring_sum = np.bincount(np.repeat(np.arange(len(b.rings)), 6),
                           weights=pauling[b.ring_edge.ravel()], minlength=len(b.rings))
    mean = b.per_mol(b.mol_ring, ring_sum) / n_rings
    var = b.per_mol(b.mol_ring, ring_sum**2) / n_rings - mean**2
    out[:, 3:] = np.column_stack([
        np.minimum.reduceat(ring_sum, b.ring0[:-1]), mean,
        np.maximum.reduceat(ring_sum, b.ring0[:-1]), np.sqrt(np.maximum(var, 0.0)),
        np.minimum.reduceat(pauling, b.edge0[:-1]), np.maximum.reduceat(pauling, b.edge0[:-1])])
    clar_ok[list(bad)] = False
    return np.hstack([out, _clar(b, blocks, log_w, clar_ok)]), bad


def _members(b: _Batch, mols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each molecule within ``mols`` (-1 if absent) and the bonds of ``mols``."""
    loc = np.full(b.m, -1)
    loc[mols] = np.arange(len(mols))
    return loc, np.flatnonzero(loc[b.mol_edge] >= 0)


def _within(b: _Batch, rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (p, q) with p in ``rings`` and q any ring of the same molecule."""
    count = np.diff(b.ring0)[b.mol_ring[rings]]
    p = np.repeat(rings, count)
    q = b.ring0[b.mol_ring[p]] + np.arange(len(p)) - np.repeat(np.cumsum(count) - count, count)
    return p, q


def _clar(b: _Batch, blocks: np.ndarray, log_w: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Clar number, number of Clar structures and resonant-set counts r(1..max).

    A set S of disjoint hexagons is resonant when the rest of the molecule keeps a perfect
    matching. With generic edge weights ``W`` that holds exactly when ``det W[rest] != 0``,
    which Jacobi's complementary-minor identity gives from the inverse:
    ``|det W[rest]| = |det W| |det (W^-1)[white(S), black(S)]|``; ``blocks`` holds the
    3 x 3 blocks of ``W^-1`` for every pair of rings. Supersets of a set that is not
    resonant are not resonant either, so only resonant sets are extended.
    """
    local = b.ring_local
    conflict = 1 << local  # bit mask (local ring indices) of the rings touching each ring
    at = _slots(b.rings.ravel(), np.repeat(np.arange(len(b.rings)), 6), b.n, 3, -1)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        both = (at[:, i] >= 0) & (at[:, j] >= 0)
        np.bitwise_or.at(conflict, at[both, i], 1 << local[at[both, j]])
        np.bitwise_or.at(conflict, at[both, j], 1 << local[at[both, i]])
    rings = np.flatnonzero(ok[b.mol_ring])
    sets, mol, blocked = local[rings][:, None], b.mol_ring[rings], conflict[rings]
    counts = np.zeros((b.m, _MAX_SEXTETS))
    for k in range(1, _MAX_SEXTETS + 1):
        feasible = np.zeros(len(sets), dtype=bool)
        for part in np.array_split(np.arange(len(sets)), 1 + len(sets) // 50000):
            sub = blocks[mol[part, None, None], sets[part, :, None], sets[part, None, :]]
            sub = sub.transpose(0, 1, 3, 2, 4).reshape(len(part), 3 * k, 3 * k)
            feasible[part] = np.linalg.slogdet(sub)[1] + log_w[mol[part]] > _DET_ZERO
        counts[:, k - 1] = b.per_mol(mol, feasible)
        sets, mol, blocked = sets[feasible], mol[feasible], blocked[feasible]
        last = sets[:, -1]
        extra = np.diff(b.ring0)[mol] - last - 1  # later rings of the same molecule
        parent = np.repeat(np.arange(len(sets)), extra)
        ring = last[parent] + 1 + np.arange(len(parent)) - np.repeat(np.cumsum(extra) - extra,
                                                                     extra)
        free = (blocked[parent] >> ring) & 1 == 0
        parent, ring = parent[free], ring[free]
        sets, mol = np.column_stack([sets[parent], ring]), mol[parent]
        blocked = blocked[parent] | conflict[b.ring0[mol] + ring]
        if not len(sets):
            break
    clar = (counts > 0).sum(1)
    out = np.column_stack([clar, counts[np.arange(b.m), np.maximum(clar - 1, 0)], counts])
    out[~ok] = np.nan
    return out


# ---------------------------------------------------------------------------- steric
def _from(ring_atoms: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each ring's atoms in cyclic order from ``u``, away from its neighbour ``v``."""
    iu = np.argmax(ring_atoms == u[:, None], axis=1)
    step = np.where(ring_atoms[np.arange(len(u)), (iu + 1) % 6] == v, -1, 1)
    return np.take_along_axis(ring_atoms, (iu[:, None] + step[:, None] * np.arange(6)) % 6, 1)


def _embed(b: _Batch) -> tuple[np.ndarray, np.ndarray]:
    """Idealised planar coordinates on the honeycomb (C-C = 1.40 A; helicene turns overlap)
    and ring centres: each ring is the mirror image of a placed neighbour across the edge they
    share, placed breadth-first from each molecule's first ring."""
    pos, centre = np.zeros((b.n, 2)), np.zeros((len(b.rings), 2))
    angle = np.pi / 3 * np.arange(6)
    first = b.ring0[:-1]
    pos[b.rings[first]] = _CC * np.column_stack([np.cos(angle), np.sin(angle)])
    placed = np.zeros(len(b.rings), dtype=bool)
    placed[first] = True
    src, dst = np.concatenate(b.fused.T), np.concatenate(b.fused[:, ::-1].T)
    edge = np.concatenate([b.fused_edge, b.fused_edge])
    while True:
        go = np.flatnonzero(placed[src] & ~placed[dst])
        if not len(go):
            return pos, centre
        go = go[np.unique(dst[go], return_index=True)[1]]
        a, r = src[go], dst[go]
        u, v = b.edges[edge[go]].T
        seq_a, seq_r = _from(b.rings[a], u, v), _from(b.rings[r], u, v)
        axis = (pos[v] - pos[u]) / _CC
        rel = pos[seq_a[:, 1:5]] - pos[u][:, None]
        along = (rel * axis[:, None]).sum(-1, keepdims=True) * axis[:, None]
        pos[seq_r[:, 1:5]] = pos[u][:, None] + 2 * along - rel
        centre[r] = pos[u] + pos[v] - centre[a]
        placed[r] = True


def _steric(b: _Batch) -> np.ndarray:
    """H...H, C...H and C...C contacts in the idealised planar geometry."""
    pos, centre = _embed(b)
    ring_of = _slots(b.rings.ravel(), np.repeat(np.arange(len(b.rings)), 6), b.n, 1, -1)[:, 0]
    carbon = pos[:, 0] + 1j * pos[:, 1]
    out_dir = carbon - (centre[ring_of, 0] + 1j * centre[ring_of, 1])
    hydrogen = carbon + _CH * out_dir / np.abs(out_dir)
    start, local = b.paths[:, 0], b.paths - b.atom0[b.mol_atom[b.paths[:, :1]]]
    out = np.zeros((b.m, 9))
    for n in np.unique(b.size):
        mols = np.flatnonzero(b.size == n)
        loc = np.full(b.m, -1)
        loc[mols] = np.arange(len(mols))
        sel = np.flatnonzero(loc[b.mol_atom[start]] >= 0)
        gp, lp = loc[b.mol_atom[start[sel]]], local[sel]
        near = np.zeros((2, len(mols), n, n), dtype=bool)  # within 1 and 3 bonds
        near[0, gp, lp[:, 0], lp[:, 1]] = True
        for k in (1, 2, 3):
            near[1, gp, lp[:, 0], lp[:, k]] = True
        i, j = np.triu_indices(n, 1)
        near = near[:, :, i, j]  # (2, g, pairs)
        idx = b.atom0[mols][:, None] + np.arange(n)  # (g, n) global atoms
        is_h = b.deg[idx] == 2
        c, h = carbon[idx], hydrogen[idx]
        far = ~near[0]
        hh = is_h[:, i] & is_h[:, j] & far
        hc, ch = is_h[:, i] & far, is_h[:, j] & far  # H on i with C j, and C i with H on j
        pairs = [_pairs(h, h, i, j, hh, _CONTACT["HH"]), _pairs(h, c, i, j, hc, _CONTACT["CH"]),
                 _pairs(c, h, i, j, ch, _CONTACT["CH"]), _pairs(c, c, i, j, ~near[1],
                                                              _CONTACT["CC"])]
        g = len(mols)
        out[mols] = np.column_stack([
            _contacts(*pairs[0], g, "HH", (1.0, 2.0, 2.4)),
            _contacts(*(np.concatenate(x) for x in zip(pairs[1], pairs[2], strict=True)), g,
                      "CH", (2.9,)),
            _contacts(*pairs[3], g, "CC", (3.4, 0.5))])
    return out


def _pairs(p: np.ndarray, q: np.ndarray, i: np.ndarray, j: np.ndarray, mask: np.ndarray,
           limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Distances |p[g, i] - q[g, j]| below ``limit`` over the pairs selected by ``mask``
    (g, pairs), and their g."""
    d = p[:, i] - q[:, j]
    d2 = d.real**2 + d.imag**2
    g, k = np.nonzero(mask & (d2 < limit**2))
    return np.sqrt(d2[g, k]), g


def _contacts(r: np.ndarray, mol: np.ndarray, m: int, kind: str, cuts: tuple) -> np.ndarray:
    """Sum of (R - r)^2 over pairs closer than R = _CONTACT[kind], then counts by cut."""
    limit = _CONTACT[kind]
    cols = [np.bincount(mol, weights=np.maximum(limit - r, 0.0) ** 2, minlength=m)]
    if kind == "HH":  # bins [0, 1), [1, 2), [2, 2.4)
        edges = (0.0, *cuts)
        cols += [np.bincount(mol, weights=(r >= lo) & (r < hi), minlength=m)
                 for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    else:
        cols += [np.bincount(mol, weights=r < cut, minlength=m) for cut in cuts]
    return np.column_stack(cols)


# ---------------------------------------------------------------------------- batches
def _parse_all(entries: Sequence) -> tuple[list, list, dict]:
    parsed, where, failures = [], [], {}
    for i, entry in enumerate(entries):
        try:
            parsed.append(_read(entry))
            where.append(i)
        except Exception as exc:  # noqa: BLE001 - reported per row by the base class
            failures[i] = exc
    return parsed, where, failures


def _describe(parsed: list, window: int, radius: int, full: bool
              ) -> tuple[np.ndarray | None, list, dict]:
    """Fixed columns (None unless ``full``), environment codes and failed molecules."""
    b = _Batch(parsed)
    if b.bad:
        return None, [], b.bad
    fixed, codes = _topology(b)
    perim, perim_codes, not_cycle = _perimeter(b, window)
    bad = {int(i): "its perimeter is not a simple cycle" for i in not_cycle}
    codes += perim_codes + _circular(b, radius)
    if not full or bad:
        return None, codes, bad
    pi, non_kekulean = _pi(b)
    bad.update({int(i): "it has no Kekule structure (non-Kekulean)" for i in non_kekulean})
    return np.hstack([fixed, perim, _steric(b), pi]), codes, bad


def _tally(mol: np.ndarray, code: np.ndarray, m: int) -> tuple[np.ndarray, ...]:
    """Distinct (molecule, code) pairs and how often each occurs."""
    uniq, dense = np.unique(code, return_inverse=True)
    keys, count = np.unique(dense * m + mol, return_counts=True)
    return keys % m, uniq[keys // m], count


class HydrocarbonFeaturizer(BaseFeaturizer):
    """Featurize benzenoid (polybenzenoid) hydrocarbons from their SMILES.

    Every carbon is a CH in one six-membered ring, a fusion carbon shared by two rings or an
    internal carbon shared by three. The columns, in order (:data:`FIXED_FEATURES` says what
    each fixed column counts, and in which unit):

    - carbon environments: ``n_C``, ``n_CH`` (= hydrogens), ``n_C_fused``, ``n_C_internal``;
    - rings and fusion topology: ``n_rings``, ``n_fused_bonds``, ``n_rings_degree_d`` (rings
      fused to d others), ``n_rings_pattern_xxxxxx`` (each ring's fused (1) and free (0)
      edges read around it: ``100100`` is a linearly, ``101000`` an angularly annelated
      ring), ``n_annelation_ortho|meta|para`` (pairs of fused edges of one ring: peri,
      angular, linear annelation);
    - the perimeter, a cycle of CH and fused carbons: ``n_perimeter_C``; runs of 1, 2, 3, 4,
      5+ fused carbons between two CH: ``n_fissure``, ``n_bay``, ``n_cove``, ``n_fjord``,
      ``n_lagoon``; runs of CH: ``n_CH_solo``, ``n_CH_duo``, ``n_CH_trio``, ``n_CH_quartet``;
    - steric crowding in the idealised planar geometry (regular hexagons, C-C 1.40 A, C-H
      1.09 A; helicene turns overlap): ``steric_HH|CH|CC`` sums of :math:`(R - r)^2` over
      non-bonded pairs closer than the contact distance R, and counts of such contacts;
    - pi electrons: the Hueckel pi energy and HOMO-LUMO gap (units of :math:`|\\beta|`); the
      number of Kekule structures :math:`K = |\\det B|` (``log_kekule``; ``B`` is the
      adjacency between the two colour classes of carbons); Pauling bond orders
      :math:`p_{ij} = K(G - i - j) / K = |(B^{-1})_{ji}|`, their extremes and their sums
      around each ring (``pauling_ring_*``: 3 for a full sextet); Clar's aromatic sextets:
      the Clar number, the number of Clar structures and the counts of resonant sets of k
      disjoint sextets (removing them leaves a Kekule structure);
    - counts learned as a vocabulary in ``fit`` (keys unseen in ``fit`` are ignored):
      ``atom a:bcd`` (a carbon in a rings with neighbours in b, c, d rings), ``bond ab/e``
      (a bond between carbons in a and b rings, itself in e rings), ``ring p:q-r`` (a ring
      of pattern p fused to rings of patterns q, r, ...), ``perimeter w`` (runs of
      ``perimeter_window`` perimeter carbons, ``h`` for CH and ``c`` for fused) and
      ``envR hash`` (circular environments of radius R = 2 ... ``radius`` bonds, as in
      Morgan/ECFP fingerprints but unfolded: each carbon starts from its number of rings and
      is relabelled R times from its own and its neighbours' sorted labels, 64-bit hashes).

    Parameters
    ----------
    radius : int, default=4
        Radius of the circular environments counted (``env2`` ... ``env{radius}``; radius 1
        is the ``atom`` key); 0 or 1 leaves them out.
    perimeter_window : int, default=8
        Length of the perimeter windows counted.
    min_frequency : int or float, default=0.003
        Keep a vocabulary key only if it occurs in at least this many ``fit`` molecules; a
        float in (0, 1) is a fraction of them (as ``min_df`` of
        :class:`~sklearn.feature_extraction.text.CountVectorizer`).
    on_error : {'raise', 'nan'}, default='raise'
        See :class:`~featurizers.BaseFeaturizer`. Invalid SMILES, atoms other than carbon
        and hydrogen, and molecules that are not Kekulean benzenoids are errors.
    n_jobs : int, default=None
        Number of joblib workers for ``transform``; see :class:`~featurizers.BaseFeaturizer`.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Learned key -> column index among the vocabulary columns (after the fixed ones).
    feature_names_out_ : ndarray of str
        Output feature names.
    n_features_in_ : int
        Number of input columns (2-D input only).
    feature_names_in_ : ndarray of str
        Input column names (DataFrame input only).

    See Also
    --------
    featurizers.DoublePerovskiteFeaturizer : The package's other featurizer.

    Notes
    -----
    The molecules of a batch are stacked into one graph and every descriptor is computed for
    all of them at once. Resonant sets use generic edge weights ``W`` (a fixed Weyl
    sequence): the rest of the molecule has a perfect matching exactly when its weighted
    determinant is nonzero, which comes from :math:`W^{-1}` by Jacobi's complementary-minor
    identity. Molecules of more than 24 rings get NaN in the Clar columns (the resonant sets,
    whose number grows like the number of Kekule structures, are not enumerated). The
    steric columns use the flat honeycomb geometry, where helicene turns overlap: they
    measure overcrowding, not the relaxed (twisted) structure.

    References
    ----------
    E. Clar, *The Aromatic Sextet* (Wiley, 1972). I. Gutman and S. J. Cyvin, *Introduction to
    the Theory of Benzenoid Hydrocarbons* (Springer, 1989). A. Wahab and R. Gershoni-Poranne,
    Phys. Chem. Chem. Phys. 26, 15344 (2024) (COMPAS-3).

    Examples
    --------
    >>> from taafs_sk.featurizers import HydrocarbonFeaturizer
    >>> smiles = ["c1ccc2cc3ccccc3cc2c1", "c1ccc2c(c1)ccc1ccccc12"]  # anthracene, phenanthrene
    >>> f = HydrocarbonFeaturizer().set_output(transform="pandas").fit(smiles)
    >>> out = f.transform(smiles)
    >>> out[["n_CH", "n_rings", "n_bay", "clar_number"]].to_numpy().tolist()
    [[10.0, 3.0, 0.0, 1.0], [10.0, 3.0, 1.0, 2.0]]
    >>> round(float(out["log_kekule"].iloc[1]), 4)  # phenanthrene has 5 Kekule structures
    1.6094
    """

    _parameter_constraints: dict = {
        **BaseFeaturizer._parameter_constraints,
        "radius": [Interval(Integral, 0, None, closed="left")],
        "perimeter_window": [Interval(Integral, 1, None, closed="left")],
        "min_frequency": [Interval(Integral, 1, None, closed="left"),
                          Interval(RealNotInt, 0, 1, closed="neither")],
        "on_error": [StrOptions({"raise", "nan"})],
    }

    def __init__(self, *, radius: int = 4, perimeter_window: int = 8,
                 min_frequency: float = 0.003, on_error: str = "raise",
                 n_jobs: int | None = None) -> None:
        self.radius = radius
        self.perimeter_window = perimeter_window
        self.min_frequency = min_frequency
        self.on_error = on_error
        self.n_jobs = n_jobs

    def _chunk(self, chunk: Sequence, full: bool) -> tuple[np.ndarray | None, list, list, dict]:
        """Fixed columns, environment codes, rows that succeeded and failures of a chunk."""
        parsed, where, failures = _parse_all(chunk)
        fixed, codes = None, []
        while parsed:
            fixed, codes, bad = _describe(parsed, self.perimeter_window, self.radius, full)
            if not bad:
                break
            for i in sorted(bad, reverse=True):
                failures[where[i]] = ValueError(f"{chunk[where[i]]!r}: {bad[i]}")
                del parsed[i], where[i]
        return fixed, codes, where, failures

    def _fit_entries(self, entries: Sequence) -> None:
        seen: Counter = Counter()
        n_valid = 0
        for lo in range(0, len(entries), _CHUNK):
            _, codes, where, _ = self._chunk(entries[lo:lo + _CHUNK], full=False)
            n_valid += len(where)
            for kind, mol, code, _ in codes:
                _, found, _ = _tally(mol, code, len(where))
                for c, k in zip(*np.unique(found, return_counts=True), strict=True):
                    seen[_label(kind, int(c), self.perimeter_window)] += int(k)
        least = self.min_frequency
        if isinstance(least, float):
            least = max(1, math.ceil(least * n_valid))
        kept = sorted(k for k, c in seen.items() if c >= least)
        self.vocabulary_ = {k: i for i, k in enumerate(kept)}

    def _featurize_many(self, entries: Sequence) -> tuple[np.ndarray, dict[int, Exception]]:
        n_fixed = len(FIXED_FEATURES)
        out = np.full((len(entries), n_fixed + len(self.vocabulary_)), np.nan)
        failures: dict[int, Exception] = {}
        for lo in range(0, len(entries), _CHUNK):
            fixed, codes, where, failed = self._chunk(entries[lo:lo + _CHUNK], full=True)
            failures.update({lo + i: exc for i, exc in failed.items()})
            if not where:
                continue
            rows = lo + np.array(where)
            counts = np.zeros((len(where), len(self.vocabulary_)))
            for kind, mol, code, weight in codes:
                mols, found, total = _tally(mol, code, len(where))
                uniq, inverse = np.unique(found, return_inverse=True)
                cols = np.array([self.vocabulary_.get(_label(kind, int(c), self.perimeter_window),
                                                      -1) for c in uniq], dtype=np.int64)[inverse]
                hit = cols >= 0
                counts[mols[hit], cols[hit]] = total[hit] * weight
            out[rows, :n_fixed] = fixed
            out[rows, n_fixed:] = counts
        return out, failures

    def featurize(self, entry: Any) -> np.ndarray:
        """Features of one SMILES (needs the vocabulary learned in ``fit``)."""
        features, failures = self._featurize_many([entry])
        if failures:
            raise failures[0]
        return features[0]

    def feature_labels(self) -> list[str]:
        """The labels of :data:`FIXED_FEATURES`, then the learned vocabulary."""
        return list(FIXED_FEATURES) + list(self.vocabulary_)

    def citations(self) -> list[str]:
        """BibTeX for COMPAS-3 (the benchmark data), Clar's sextets and benzenoid theory."""
        return [
            "@article{wahab2024compas3,\n  author = {Wahab, Alexandra and Gershoni-Poranne, "
            "Renana},\n  title = {{COMPAS-3}: a dataset of peri-condensed polybenzenoid "
            "hydrocarbons},\n  journal = {Physical Chemistry Chemical Physics}, volume = {26},"
            "\n  pages = {15344--15357}, year = {2024}, doi = {10.1039/D4CP01027B}\n}",
            "@book{clar1972,\n  author = {Clar, Erich},\n  title = {The Aromatic Sextet},\n"
            "  publisher = {Wiley}, address = {London}, year = {1972}\n}",
            "@book{gutman1989,\n  author = {Gutman, Ivan and Cyvin, Sven J.},\n  title = "
            "{Introduction to the Theory of Benzenoid Hydrocarbons},\n  publisher = "
            "{Springer}, address = {Berlin}, year = {1989}, doi = {10.1007/978-3-642-87143-6}\n}",
        ]

    def implementors(self) -> list[str]:
        return ["taafs-sk developers"]
