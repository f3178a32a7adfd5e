"""Counting the local patterns of one molecule: atoms, hybridisations, environments, bonds,
angles, torsions, rings and (optionally) radius-1 neighbourhoods."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from rdkit import Chem

__all__ = ["molecule_counts", "parse_smiles"]

_BOND = {Chem.BondType.SINGLE: "-", Chem.BondType.DOUBLE: "=", Chem.BondType.TRIPLE: "#",
         Chem.BondType.AROMATIC: ":"}
_HYBRIDISATION = {getattr(Chem.HybridizationType, name): name.lower()
                  for name in ("S", "SP", "SP2", "SP3", "SP3D", "SP3D2")}


def parse_smiles(entry: Any) -> Chem.Mol:
    """SMILES -> sanitised RDKit molecule (implicit hydrogens); ValueError naming the value."""
    if not isinstance(entry, str):
        raise ValueError(f"expected a SMILES string, got {type(entry).__name__} {entry!r}")
    mol = Chem.MolFromSmiles(entry)
    if mol is None:
        raw = Chem.MolFromSmiles(entry, sanitize=False)
        reason = "not valid SMILES syntax"
        if raw is not None:
            try:
                Chem.SanitizeMol(raw)
            except Exception as exc:  # noqa: BLE001 - only its message is used
                reason = str(exc)
        raise ValueError(f"invalid SMILES {entry!r}: {reason}")
    if mol.GetNumAtoms() == 0:
        raise ValueError(f"SMILES {entry!r} has no atoms")
    return mol


def _charge(q: int) -> str:
    return "" if q == 0 else ("+" if q > 0 else "-") + (str(abs(q)) if abs(q) > 1 else "")


class _Graph(NamedTuple):
    """Per-atom labels of one molecule; ``nbrs[i]`` lists ``(j, bond symbol)``."""

    elements: list
    envs: list
    hs: list
    aromatic: list
    nbrs: list
    rings: tuple


def _atom_graph(mol: Chem.Mol, counts: defaultdict) -> _Graph:
    """Build neighbour lists and atom labels; count atoms, hybridisations, environments."""
    n, rings = mol.GetNumAtoms(), mol.GetRingInfo().AtomRings()
    smallest = [0] * n
    for ring in rings:
        for i in ring:
            if smallest[i] == 0 or len(ring) < smallest[i]:
                smallest[i] = len(ring)
    nbrs: list[list] = [[] for _ in range(n)]
    for k in range(mol.GetNumBonds()):
        bond = mol.GetBondWithIdx(k)
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        order = _BOND.get(bond.GetBondType(), "~")
        nbrs[i].append((j, order))
        nbrs[j].append((i, order))
    graph = _Graph([], [], [], [], nbrs, rings)
    for i in range(n):
        atom = mol.GetAtomWithIdx(i)
        sym, h, arom = atom.GetSymbol(), atom.GetTotalNumHs(), atom.GetIsAromatic()
        env = (f"[{sym.lower() if arom else sym}{_charge(atom.GetFormalCharge())};"
               f"D{len(nbrs[i])};H{h};{f'r{smallest[i]}' if smallest[i] else '!R'}]")
        graph.elements.append(sym)
        graph.envs.append(env)
        graph.hs.append(h)
        graph.aromatic.append(arom)
        counts["atom " + sym] += 1
        counts["atom H"] += h
        if sym != "H":
            hyb = _HYBRIDISATION.get(atom.GetHybridization(), "other")
            counts[f"hybridisation {sym} {hyb}"] += 1
            counts["environment " + env] += 1
    return graph


def _pair(a: str, b: str) -> tuple[str, str]:
    """Order two labels alphabetically, hydrogen last (``C-H``, ``O-H``, ``C-O``)."""
    return (a, b) if b == "H" or (a != "H" and a <= b) else (b, a)


def _bonds_angles(graph: _Graph, counts: defaultdict) -> None:
    """Count bonds (element- and environment-typed) and angles, one pass over the atoms."""
    elements, envs = graph.elements, graph.envs
    for i, el in enumerate(elements):
        h, heavy = graph.hs[i], [elements[j] for j, _ in graph.nbrs[i]]
        if h:
            counts[f"bond {el}-H"] += h
            if h > 1:
                counts[f"angle H-{el}-H"] += h * (h - 1) // 2
        for j, order in graph.nbrs[i]:
            if j > i:
                a, b = _pair(el, elements[j])
                counts[f"bond {a}{order}{b}"] += 1
                a, b = (envs[i], envs[j]) if envs[i] <= envs[j] else (envs[j], envs[i])
                counts[f"bond {a}{order}{b}"] += 1
        for x, a in enumerate(heavy):
            if h:
                counts[f"angle {a}-{el}-H"] += h
            for b in heavy[x + 1:]:
                a_, b_ = _pair(a, b)
                counts[f"angle {a_}-{el}-{b_}"] += 1


def _torsions(graph: _Graph, counts: defaultdict) -> None:
    """Count torsions a-b-c-d around each bond b-c (a != d), hydrogens included."""
    elements, hs = graph.elements, graph.hs
    rank = ["~" if e == "H" else e for e in elements]  # orientation key: hydrogen last
    for b, nb in enumerate(graph.nbrs):
        eb, hb = elements[b], hs[b]
        for c, order in nb:
            if c < b:
                continue
            ec, hc = elements[c], hs[c]
            if hb and hc:
                lo, hi = (eb, ec) if eb <= ec else (ec, eb)
                counts[f"torsion H-{lo}{order}{hi}-H"] += hb * hc
            ends_c = [d for d, _ in graph.nbrs[c] if d != b]
            if hb:
                for d in ends_c:
                    counts[f"torsion {elements[d]}-{ec}{order}{eb}-H"] += hb
            for a, _ in nb:
                if a == c:
                    continue
                ea = elements[a]
                if hc:
                    counts[f"torsion {ea}-{eb}{order}{ec}-H"] += hc
                for d in ends_c:
                    if d == a:
                        continue
                    if (rank[a], eb) <= (rank[d], ec):
                        counts[f"torsion {ea}-{eb}{order}{ec}-{elements[d]}"] += 1
                    else:
                        counts[f"torsion {elements[d]}-{ec}{order}{eb}-{ea}"] += 1


def _rings(graph: _Graph, counts: defaultdict) -> None:
    """Count ring sizes, aromatic rings and pairs of rings sharing atoms."""
    sets = [set(r) for r in graph.rings]
    for ring in graph.rings:
        counts[f"ring size {len(ring)}"] += 1
        if all(graph.aromatic[i] for i in ring):
            counts[f"ring aromatic {len(ring)}"] += 1
    for x, first in enumerate(sets):
        for second in sets[x + 1:]:
            shared = len(first & second)
            if shared == 1:
                counts["ring spiro"] += 1
            elif shared == 2:
                lo, hi = sorted((len(first), len(second)))
                counts["ring fused"] += 1
                counts[f"ring fused {lo}-{hi}"] += 1
            elif shared > 2:
                counts["ring bridged"] += 1


def molecule_counts(mol: Chem.Mol, neighbourhoods: bool) -> tuple[dict, tuple]:
    """All count features of one molecule, and its ``SIZE_FEATURES`` row."""
    counts: defaultdict[str, int] = defaultdict(int)
    graph = _atom_graph(mol, counts)
    _bonds_angles(graph, counts)
    _torsions(graph, counts)
    _rings(graph, counts)
    if neighbourhoods:
        for i, nb in enumerate(graph.nbrs):
            if graph.elements[i] != "H":
                around = "".join(sorted(" " + order + graph.envs[j] for j, order in nb))
                counts[f"neighbourhood {graph.envs[i]}{around}"] += 1
    n_h = sum(graph.hs)
    size = (len(graph.elements) + n_h, sum(el != "H" for el in graph.elements),
            mol.GetNumBonds() + n_h,
            mol.GetNumBonds() - mol.GetNumAtoms() + len(Chem.GetMolFrags(mol)))
    return counts, size

