"""A 3-D geometry of a molecule (ETKDG with a fixed seed, force-field fallback) and the
eigenvalues of its Coulomb matrix."""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdDepictor, rdDistGeom, rdForceFieldHelpers
from rdkit.Geometry import Point3D

__all__ = ["BOHR_IN_ANGSTROM", "EMBED_SEED", "coulomb_eigenvalues"]

BOHR_IN_ANGSTROM = 0.529177210903  # CODATA 2018
EMBED_SEED = 20140805  # fixed ETKDG seed: the same SMILES always gets the same geometry


def _embed(mol: Chem.Mol) -> np.ndarray:
    """Coordinates (Angstrom) of ``mol`` (hydrogens explicit): ETKDGv3 with a fixed seed,
    else (strained cages fail its checks) 2-D coordinates lifted by a seeded random z and
    relaxed with MMFF94 (UFF if MMFF lacks parameters)."""
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = EMBED_SEED
    params.numThreads = 1
    if rdDistGeom.EmbedMolecule(mol, params) == 0:
        return mol.GetConformer().GetPositions()
    rdDepictor.Compute2DCoords(mol)
    conf = mol.GetConformer()
    lift = np.random.RandomState(EMBED_SEED).uniform(-0.5, 0.5, mol.GetNumAtoms())
    for i, z in enumerate(lift):
        p = conf.GetAtomPosition(i)
        conf.SetAtomPosition(i, Point3D(p.x, p.y, float(z)))
    if rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol):
        rdForceFieldHelpers.MMFFOptimizeMolecule(mol, maxIters=2000)
    else:
        rdForceFieldHelpers.UFFOptimizeMolecule(mol, maxIters=2000)
    xyz = conf.GetPositions()
    if not np.isfinite(xyz).all():
        raise ValueError("could not build a 3-D geometry (ETKDG and the force-field fallback "
                         "failed)")
    return xyz


def coulomb_eigenvalues(mol: Chem.Mol) -> np.ndarray:
    """Eigenvalues (Hartree, descending) of the Coulomb matrix of a 3-D geometry."""
    mol = Chem.AddHs(mol)
    xyz = _embed(mol) / BOHR_IN_ANGSTROM
    z = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=np.float64)
    dist = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    np.fill_diagonal(dist, 1.0)
    matrix = np.outer(z, z) / dist
    np.fill_diagonal(matrix, 0.5 * z**2.4)
    return np.linalg.eigvalsh(matrix)[::-1]

