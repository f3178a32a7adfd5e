"""Reading hydrocarbon SMILES into carbon counts and C-C bonds: a small reader for SMILES of
aromatic carbons only, RDKit for anything else."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from rdkit import Chem, rdBase

__all__ = ["read_smiles"]

_PLAIN_AROMATIC = re.compile(r"^[c0-9%()]+$")  # aromatic carbons only: read without RDKit


def read_smiles(smiles: Any) -> tuple[int, Any]:
    """Number of carbons and the bonds (pairs of atom indices) of one hydrocarbon SMILES."""
    if not isinstance(smiles, str):
        raise ValueError(f"expected a SMILES string, got {type(smiles).__name__} {smiles!r}")
    if "." in smiles:
        raise ValueError(f"{smiles!r} holds more than one molecule")
    reader = _read_plain if _PLAIN_AROMATIC.match(smiles) else _read_rdkit
    n_atoms, bonds = reader(smiles)
    if len(bonds) == 0:
        raise ValueError(f"{smiles!r} is not a benzenoid hydrocarbon (no C-C bonds)")
    return n_atoms, bonds


def _read_plain(smiles: str) -> tuple[int, list]:
    """Read a SMILES made only of aromatic carbons, branches and ring closures (fast path)."""
    bonds, open_closures, stack, prev, n_atoms, i, need_atom = [], {}, [], -1, 0, 0, True
    while i < len(smiles):
        char = smiles[i]
        if char == "c":
            if prev >= 0:
                bonds.append((prev, n_atoms))
            prev, n_atoms, need_atom, i = n_atoms, n_atoms + 1, False, i + 1
            continue
        if need_atom:
            raise ValueError(f"invalid SMILES {smiles!r} (no atom before {char!r} at {i})")
        if char == "(":
            stack.append(prev)
            need_atom, i = True, i + 1
        elif char == ")":
            if not stack:
                raise ValueError(f"invalid SMILES {smiles!r} (unmatched ')' at {i})")
            prev, i = stack.pop(), i + 1
        else:
            label = smiles[i + 1:i + 3] if char == "%" else char
            if not label.isdigit() or (char == "%" and len(label) != 2):
                raise ValueError(f"invalid SMILES {smiles!r} (bad ring closure at {i})")
            i += 3 if char == "%" else 1
            j = open_closures.pop(label, None)
            if j is None:
                open_closures[label] = prev
            elif j == prev:
                raise ValueError(f"invalid SMILES {smiles!r} (ring closure {label} on one atom)")
            else:
                bonds.append((j, prev))
    if open_closures or stack or need_atom:
        raise ValueError(f"invalid SMILES {smiles!r} (unclosed ring or branch)")
    return n_atoms, bonds


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


