r"""A short-range pair repulsion under the networks: the ZBL universal screened Coulomb wall.

A network trained on near-equilibrium structures has seen no pair closer than the shortest
bond of its data; nothing in it makes the energy rise when two atoms approach further, and
MD can then merge atoms. ``TAAFSPotential(repulsion='zbl')`` adds the Ziegler-Biersack-
Littmark (ZBL) universal nuclear repulsion [1]_ of every pair, switched smoothly to zero
between ``inner`` and ``outer``:

.. math::

    V(r) = \frac{k\, Z_i Z_j}{r}\, \phi(r / a)\, s(r), \qquad
    a = \frac{0.46850\ \text{Å}}{Z_i^{0.23} + Z_j^{0.23}},

    \phi(x) = 0.18175\, e^{-3.19980 x} + 0.50986\, e^{-0.94229 x}
            + 0.28022\, e^{-0.40290 x} + 0.02817\, e^{-0.20162 x},

with :math:`k = e^2 / 4\pi\varepsilon_0 = 14.399645` eV Å and the quintic switch
:math:`s = 1 - 10 t^3 + 15 t^4 - 6 t^5`, :math:`t = (r - r_\mathrm{in}) / (r_\mathrm{out} -
r_\mathrm{in})` clipped to [0, 1] (value, first and second derivatives continuous; full ZBL
below ``inner``, zero beyond ``outer``). The structure's repulsion energy is
:math:`\sum_{i<j} V(r_{ij})`; the potential subtracts it (and its forces) from the training
targets and adds it back at every prediction, as DeePMD-kit's ``DPZBLModel`` and MACE's
``pair_repulsion`` do, so the networks learn what the wall leaves over.

References
----------
.. [1] J. F. Ziegler, J. P. Biersack and U. Littmark, *The Stopping and Range of Ions in
   Solids* (Pergamon, New York, 1985), ch. 2.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_real
from .._validation._text import short
from ._deps import require
from ._frames import as_atoms_list

__all__ = ["COULOMB", "REPULSIONS", "check_repulsion", "repulsion_terms",
           "subtract_repulsion", "switch", "zbl_pair"]

#: :math:`e^2 / 4\pi\varepsilon_0` in eV Å.
COULOMB = 14.399645
_COEFFS = np.array([0.18175, 0.50986, 0.28022, 0.02817])
_EXPONENTS = np.array([3.19980, 0.94229, 0.40290, 0.20162])
#: Names accepted by ``TAAFSPotential(repulsion=...)`` (None: no repulsion).
REPULSIONS = ("zbl",)


def switch(r, inner: float, outer: float) -> tuple[np.ndarray, np.ndarray]:
    """The quintic switch :math:`s(r)` and :math:`ds/dr`: 1 below ``inner``, 0 beyond ``outer``.

    Examples
    --------
    >>> from taafs_sk.atomistic.repulsion import switch
    >>> s, ds = switch([0.5, 1.5, 2.5], 1.0, 2.0)
    >>> s.tolist(), ds.tolist()
    ([1.0, 0.5, 0.0], [-0.0, -1.875, -0.0])
    """
    inner, outer = _check_radii(inner, outer, "switch")
    r = np.asarray(r, dtype=float)
    width = outer - inner
    t = np.clip((r - inner) / width, 0.0, 1.0)
    s = 1.0 - t**3 * (10.0 - 15.0 * t + 6.0 * t**2)
    ds = -30.0 * t**2 * (1.0 - t) ** 2 / width
    return s, ds


def zbl_pair(r, z_i, z_j, inner: float, outer: float) -> tuple[np.ndarray, np.ndarray]:
    """Switched ZBL pair energy :math:`V(r)` (eV) and :math:`dV/dr` (eV/Å), elementwise.

    Parameters
    ----------
    r : array-like of shape (n_pairs,)
        Pair distances (Å), positive.
    z_i, z_j : array-like of shape (n_pairs,)
        Atomic numbers of the two atoms.
    inner, outer : float
        Switching radii (Å), ``0 <= inner < outer``.

    Examples
    --------
    Two Cu atoms 1 Å apart, below the switch (pure ZBL, about 135 eV):

    >>> from taafs_sk.atomistic.repulsion import zbl_pair
    >>> v, dv = zbl_pair([1.0], [29], [29], 1.5, 2.0)
    >>> round(float(v[0]), 1), bool(dv[0] < 0)
    (135.0, True)
    """
    r = np.asarray(r, dtype=float)
    if r.size and not (np.isfinite(r).all() and r.min() > 0):
        bad = r.ravel()[~(np.isfinite(r.ravel()) & (r.ravel() > 0))][0]
        raise ValueError(f"r of zbl_pair must hold positive finite distances (Å), got {bad}.")
    z_i, z_j = np.asarray(z_i, dtype=float), np.asarray(z_j, dtype=float)
    for name, z in (("z_i", z_i), ("z_j", z_j)):
        if z.size and not (np.isfinite(z).all() and z.min() >= 1):
            raise ValueError(f"{name} of zbl_pair must hold atomic numbers (>= 1), got "
                             f"{z.ravel()[~(z.ravel() >= 1)][0]}.")
    a = 0.46850 / (z_i**0.23 + z_j**0.23)  # (P,) screening length, Å
    x = r / a
    terms = _COEFFS * np.exp(-np.multiply.outer(x, _EXPONENTS))  # (P, 4)
    phi = terms.sum(-1)
    dphi = -(terms * _EXPONENTS).sum(-1) / a  # dphi/dr
    k = COULOMB * z_i * z_j
    e = k * phi / r
    de = k * (dphi / r - phi / r**2)
    s, ds = switch(r, inner, outer)
    return e * s, de * s + e * ds


def _check_radii(inner, outer, owner: str) -> tuple[float, float]:
    """``inner`` and ``outer`` as floats with ``0 <= inner < outer``, else ``ValueError``."""
    inner = check_real(f"inner of {owner}", inner, minimum=0.0)
    outer = check_real(f"outer of {owner}", outer, minimum=0.0)
    if not inner < outer:
        raise ValueError(f"inner and outer of {owner} must satisfy inner < outer (the switch "
                         f"runs from inner to outer), got inner={inner!r}, outer={outer!r}.")
    return inner, outer


def check_repulsion(repulsion, inner, outer, cutoff: float) -> None:
    """Refuse an unknown ``repulsion`` and switching radii out of order, naming them.

    Examples
    --------
    >>> from taafs_sk.atomistic.repulsion import check_repulsion
    >>> check_repulsion("zbl", 1.0, 2.0, 5.2)
    >>> try:
    ...     check_repulsion("zbl", 2.0, 1.0, 5.2)
    ... except ValueError as exc:
    ...     print(str(exc).split(" < cutoff")[0])
    zbl_inner and zbl_outer of TAAFSPotential must satisfy 0 <= zbl_inner < zbl_outer
    """
    if repulsion is not None and repulsion not in REPULSIONS:
        raise ValueError(f"repulsion of TAAFSPotential must be None or one of "
                         f"{list(REPULSIONS)}, got {repulsion!r}.")
    inner = check_real("zbl_inner of TAAFSPotential", inner, minimum=0.0)
    outer = check_real("zbl_outer of TAAFSPotential", outer, minimum=0.0)
    if not inner < outer < cutoff:
        raise ValueError(f"zbl_inner and zbl_outer of TAAFSPotential must satisfy 0 <= "
                         f"zbl_inner < zbl_outer < cutoff ({cutoff} Å): got zbl_inner={inner!r}, "
                         f"zbl_outer={outer!r}; the switch runs from zbl_inner (full ZBL) to "
                         "zbl_outer (none).")


def repulsion_terms(atoms_list: list, inner: float, outer: float, stress: bool = False):
    """Repulsion energies ``(B,)`` (eV), forces (list of ``(n_atoms, 3)``, eV/Å) and, with
    ``stress``, virials ``(B, 3, 3)`` (:math:`\\sum_p \\partial E/\\partial \\mathbf r_p
    \\otimes \\mathbf r_p`, eV) of checked structures; one vectorised evaluation over the
    pairs of all structures (the neighbour lists are per structure).

    Examples
    --------
    >>> from ase import Atoms
    >>> from taafs_sk.atomistic.repulsion import repulsion_terms, zbl_pair
    >>> e, f, _ = repulsion_terms([Atoms("Cu2", positions=[[0, 0, 0], [1.2, 0, 0]])], 1.0, 2.0)
    >>> bool(abs(e[0] - zbl_pair([1.2], [29], [29], 1.0, 2.0)[0][0]) < 1e-9)
    True
    >>> bool(f[0][0, 0] < 0 < f[0][1, 0])  # pushed apart
    True
    """
    atoms_list = as_atoms_list(atoms_list, "atoms_list of repulsion_terms")
    inner, outer = _check_radii(inner, outer, "repulsion_terms")
    neighbor_list = require("ase.neighborlist").neighbor_list
    pi, pj, vec, struct, numbers, counts = [], [], [], [], [], []
    offset = 0
    for k, atoms in enumerate(atoms_list):
        i, j, d = neighbor_list("ijD", atoms, outer)
        pi.append(i + offset)
        pj.append(j + offset)
        vec.append(d)
        struct.append(np.full(len(i), k))
        numbers.append(atoms.numbers)
        counts.append(len(atoms))
        offset += len(atoms)
    pi, pj, struct = np.concatenate(pi), np.concatenate(pj), np.concatenate(struct)
    vec, numbers = np.concatenate(vec).reshape(-1, 3), np.concatenate(numbers)
    r = np.linalg.norm(vec, axis=1)
    v, dv = zbl_pair(r, numbers[pi], numbers[pj], inner, outer)
    n = len(atoms_list)
    energy = 0.5 * np.bincount(struct, weights=v, minlength=n)  # each pair twice
    de_dr = (0.5 * dv / r)[:, None] * vec  # dE/dr_p (P, 3)
    forces = np.zeros((offset, 3))
    np.add.at(forces, pi, de_dr)
    np.add.at(forces, pj, -de_dr)
    virial = None
    if stress:
        virial = np.zeros((n, 3, 3))
        np.add.at(virial, struct, de_dr[:, :, None] * vec[:, None, :])
    return energy, np.split(forces, np.cumsum(counts)[:-1]), virial


def subtract_repulsion(potential, atoms_list: list, energies: np.ndarray,
                       forces: list) -> tuple[np.ndarray, list]:
    """The training targets left for the networks of ``potential`` (a
    :class:`~taafs_sk.atomistic.TAAFSPotential`): energies ``(B,)`` and forces minus its
    repulsion, unchanged without one; its repulsion parameters are checked first."""
    from .potential import TAAFSPotential  # it imports this module

    if not isinstance(potential, TAAFSPotential):
        raise TypeError(f"potential of subtract_repulsion must be a TAAFSPotential, got "
                        f"{short(potential)} ({type(potential).__name__}).")
    check_repulsion(potential.repulsion, potential.zbl_inner, potential.zbl_outer,
                    float(potential.descriptor_.cutoff))
    if potential.repulsion is None:
        return energies, forces
    e_rep, f_rep, _ = repulsion_terms(atoms_list, potential.zbl_inner, potential.zbl_outer)
    return energies - e_rep, [f - g for f, g in zip(forces, f_rep, strict=True)]
