"""Energies and forces of a fitted :class:`~taafs_sk.atomistic.TAAFSPotential`.

What its ``predict`` methods (and so ``score`` and the ASE calculator) run: the structures
are checked on the way in (types, elements, positions, cells, pairs closer than
``min_distance``), evaluated in chunks of :data:`PREDICT_CHUNK` structures, and checked on the
way out (a non-finite energy or force is an error naming its structure, never a silent NaN).
With ``repulsion='zbl'`` the pair repulsion of :mod:`~taafs_sk.atomistic.repulsion` is added
to the networks' energies, forces and stresses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_real
from ._frames import as_atoms_list, build_frames, check_structures
from .learned import LearnedDescriptor
from .network import energies_and_forces
from .repulsion import repulsion_terms
from .stress import cell_volumes, virial_to_stress

__all__ = ["LEARNED_CHUNK", "PREDICT_CHUNK", "check_finite_outputs", "composition", "evaluate",
           "predict_chunk"]

#: Structures per evaluation in predict (and per validation batch in fit).
PREDICT_CHUNK = 64
#: The same with a learned descriptor (its per-pair activations are kept for the forces).
LEARNED_CHUNK = 16


def predict_chunk(descriptor) -> int:
    """Structures per evaluation with ``descriptor`` (fixed or learned)."""
    return LEARNED_CHUNK if isinstance(descriptor, LearnedDescriptor) else PREDICT_CHUNK


def composition(atoms_list: list, elements: Sequence[str]) -> np.ndarray:
    """Atoms of each element in each structure, shape ``(n_structures, n_elements)``.

    Examples
    --------
    >>> from ase import Atoms
    >>> from taafs_sk.atomistic._evaluation import composition
    >>> composition([Atoms("H2O"), Atoms("O")], ["H", "O"])
    array([[2., 1.],
           [0., 1.]])
    """
    symbols = [np.asarray(a.get_chemical_symbols()) for a in atoms_list]
    return np.array([[np.count_nonzero(s == el) for el in elements] for s in symbols],
                    dtype=float)


def check_finite_outputs(energies: np.ndarray, forces: np.ndarray | None,
                         n_atoms: np.ndarray, first: int = 0) -> None:
    """Refuse a non-finite energy ``(B,)`` or force ``(N, 3)``, naming the structure (its
    index in the chunk plus ``first``) and, for a force, the atom.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.atomistic._evaluation import check_finite_outputs
    >>> forces = np.zeros((5, 3))
    >>> forces[3, 1] = np.nan
    >>> try:
    ...     check_finite_outputs(np.zeros(2), forces, np.array([2, 3]), first=10)
    ... except ValueError as exc:
    ...     print(str(exc).split(";")[0])
    the predicted force on atom 1 of structure 11 is not finite ([ 0. nan  0.])
    """
    hint = ("the model's weights or the structure's descriptors overflowed; check the "
            "structure (atoms too close? set min_distance) and the fit (diverged?).")
    bad = np.flatnonzero(~np.isfinite(energies))
    if bad.size:
        raise ValueError(f"the predicted energy of structure {first + int(bad[0])} is not "
                         f"finite ({energies[bad[0]]}); {hint}")
    if forces is None:
        return
    bad = np.flatnonzero(~np.isfinite(forces).all(axis=1))
    if bad.size:
        ends = np.cumsum(n_atoms)
        k = int(np.searchsorted(ends, bad[0], side="right"))
        atom = int(bad[0] - (ends[k] - n_atoms[k]))
        raise ValueError(f"the predicted force on atom {atom} of structure {first + k} is not "
                         f"finite ({forces[bad[0]]}); {hint}")


def evaluate(potential, X, forces: bool, stress: bool = False):
    """Total energies ``(n_structures,)`` (eV), with ``forces`` the list of ``(n_atoms, 3)``
    forces (eV/Å) and with ``stress`` the stresses ``(n_structures, 6)`` (eV/Å³, ASE's Voigt
    order; None otherwise) of the structures ``X`` under the fitted ``potential``, its
    repulsion (if any) included."""
    atoms_list = as_atoms_list(X, "X")
    min_distance = check_real("min_distance of TAAFSPotential", potential.min_distance,
                              minimum=0.0)
    descriptor = potential.descriptor_
    check_structures(atoms_list, potential.elements_, float(descriptor.cutoff),
                     getattr(descriptor, "cutoff_name", None))
    volumes = cell_volumes(atoms_list) if stress else None
    energies, force_list, virials = [], [], []
    size = predict_chunk(descriptor)
    for b in range(0, len(atoms_list), size):
        chunk = atoms_list[b:b + size]
        frames = build_frames(chunk, potential.elements_, potential.descriptor_,
                              potential.dtype_, potential.device, min_distance=min_distance,
                              first=b)
        e, f, w = _network_outputs(potential, frames, forces or stress, stress)
        e = e + composition(chunk, potential.elements_) @ potential.reference_energies_
        if getattr(potential, "repulsion", None) is not None:
            e_rep, f_rep, w_rep = repulsion_terms(chunk, potential.zbl_inner,
                                                  potential.zbl_outer, stress)
            e, f = e + e_rep, None if f is None else f + np.concatenate(f_rep)
            w = None if w is None else w + w_rep
        n_atoms = frames.n_atoms.cpu().numpy()
        check_finite_outputs(e, f, n_atoms, first=b)
        energies.append(e)
        if forces:
            force_list.extend(np.split(f, np.cumsum(n_atoms)[:-1]))
        virials.append(w)
    stresses = virial_to_stress(np.concatenate(virials), volumes) if stress else None
    return np.concatenate(energies), force_list, stresses


def _network_outputs(potential, frames, forces: bool, virials: bool):
    """The networks' energies ``(B,)``, forces ``(N, 3)`` (or None) and virials
    ``(B, 3, 3)`` (or None) of a chunk, as float64 arrays."""
    out = energies_and_forces(potential.module_, frames, create_graph=False, forces=forces,
                              virials=virials)
    e = out[0].double().cpu().numpy()
    f = None if out[1] is None else out[1].double().cpu().numpy()
    w = out[2].cpu().numpy() if virials else None
    return e, f, w
