r"""Stress of a pair-vector potential: the strain derivative of the energy, ASE's convention.

The energy of :class:`~taafs_sk.atomistic.TAAFSPotential` depends on the positions only
through the directed neighbour-pair vectors :math:`\mathbf r_p` (the networks through the
descriptors, the repulsion through the distances). A homogeneous strain
:math:`\varepsilon` of the cell and the positions maps every :math:`\mathbf r_p` to
:math:`(1 + \varepsilon)\,\mathbf r_p`, so

.. math::

    \frac{\partial E}{\partial \varepsilon_{ab}}\Big|_{\varepsilon = 0}
        = \sum_p \frac{\partial E}{\partial r_{p,a}}\, r_{p,b} = W_{ab},
    \qquad
    \sigma = \frac{1}{V}\, \frac{W + W^\top}{2},

the stress in eV/Å³ with ASE's sign (``atoms.get_stress()``: negative under compression,
:math:`p = -\operatorname{tr}\sigma / 3`), in Voigt order ``xx yy zz yz xz xy``. The
:math:`\partial E / \partial \mathbf r_p` are the ones the forces are made of (see
:mod:`taafs_sk.atomistic.descriptors`), so the stress costs one more contraction per pair.
The symmetric part is taken because only a symmetric strain deforms the crystal (for a
rotation-invariant energy :math:`W` is symmetric already).
"""

from __future__ import annotations

import numpy as np

from ._frames import as_atoms_list

__all__ = ["cell_volumes", "virial_to_stress"]


def cell_volumes(atoms_list: list) -> np.ndarray:
    """Volumes (Å³) of structures that have a stress: periodic along all three directions.

    A structure that is not periodic along all three cell vectors (a molecule, a slab) has
    no stress: it is refused with a ``ValueError`` naming it.

    Examples
    --------
    >>> from ase import Atoms
    >>> from ase.build import bulk
    >>> from taafs_sk.atomistic.stress import cell_volumes
    >>> cell_volumes([bulk("Cu", "fcc", a=4.0, cubic=True)])
    array([64.])
    >>> try:
    ...     cell_volumes([bulk("Cu"), Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.5]])])
    ... except ValueError as exc:
    ...     print(str(exc).split(":")[0])
    structure 1 has no stress
    """
    atoms_list = as_atoms_list(atoms_list, "atoms_list of cell_volumes")
    volumes = np.empty(len(atoms_list))
    for k, atoms in enumerate(atoms_list):
        if not atoms.pbc.all():
            raise ValueError(
                f"structure {k} has no stress: the stress is the energy's derivative with "
                f"respect to a strain of a 3-D periodic cell, and its pbc is "
                f"{atoms.pbc.tolist()} (cell {np.round(atoms.cell.array, 6).tolist()}); "
                "give it a periodic cell (atoms.pbc = True, with a cell), or ask for energies "
                "and forces only.")
        volumes[k] = abs(np.linalg.det(atoms.cell.array))
    return volumes


def virial_to_stress(virial: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Stresses ``(B, 6)`` (eV/Å³, Voigt order xx yy zz yz xz xy) from the strain derivatives
    ``virial`` ``(B, 3, 3)`` (eV) and cell volumes ``(B,)`` (Å³).

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.atomistic.stress import virial_to_stress
    >>> w = np.array([[[1.0, 2.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 5.0]]])
    >>> virial_to_stress(w, np.array([2.0]))
    array([[0.5, 1.5, 2.5, 0. , 0. , 0.5]])
    """
    virial, volumes = np.asarray(virial, dtype=float), np.asarray(volumes, dtype=float)
    if virial.ndim != 3 or virial.shape[1:] != (3, 3) or volumes.shape != virial.shape[:1]:
        raise ValueError(f"virial of virial_to_stress must have shape (B, 3, 3) and volumes "
                         f"(B,), got {virial.shape} and {volumes.shape}.")
    if volumes.size and not (np.isfinite(volumes).all() and volumes.min() > 0):
        raise ValueError(f"volumes of virial_to_stress must be positive and finite, got "
                         f"{volumes[~(volumes > 0) | ~np.isfinite(volumes)][0]}.")
    sym = 0.5 * (virial + np.swapaxes(virial, 1, 2)) / volumes[:, None, None]
    rows, cols = np.array([0, 1, 2, 1, 0, 0]), np.array([0, 1, 2, 2, 2, 1])
    return sym[:, rows, cols]
