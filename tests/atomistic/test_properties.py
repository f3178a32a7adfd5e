"""Properties of a fitted TAAFSPotential on random structures (hypothesis): finite energies
and forces, forces equal to minus the energy gradient (central differences in float64), and
invariance to translation, to permuting the atoms and, without periodicity, to rotation.

Structures are built, not filtered: atoms sit on distinct sites of a 2x2x2 grid in
fractional coordinates (jittered by at most 0.1), in cells whose lattice planes are at least
5.4 Å apart (more than the 5.2 Å cutoff), so any two atoms (or periodic images) are at least
0.3 * 5.4 = 1.62 Å apart: far above ``min_distance``, yet close enough to interact.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.transform import Rotation

PROPERTY = settings(max_examples=20, derandomize=True, deadline=None)
SITES = np.array(list(itertools.product((0.0, 0.5), repeat=3)))  # fractional, (8, 3)
MIN_HEIGHT = 5.4  # Å


def _heights(cell: np.ndarray) -> np.ndarray:
    """Spacings of the lattice planes (Å), one per cell vector."""
    return 1.0 / np.linalg.norm(np.linalg.inv(cell), axis=0)


@st.composite
def structures(draw, periodic: bool | None = None) -> Atoms:
    """A random Hf/O structure: orthorhombic or skewed cell, 1 to 8 atoms, random pbc (or
    ``periodic`` along all three axes)."""
    cell = np.diag(draw(hnp.arrays(float, 3, elements=st.floats(MIN_HEIGHT, 7.5))))
    if draw(st.booleans()):  # skewed: lower-triangular off-diagonal terms
        cell[[1, 2, 2], [0, 0, 1]] = draw(hnp.arrays(float, 3, elements=st.floats(-3.0, 3.0)))
        cell *= max(1.0, MIN_HEIGHT / _heights(cell).min())
    n = draw(st.integers(1, 8))
    sites = draw(st.lists(st.integers(0, 7), min_size=n, max_size=n, unique=True))
    jitter = draw(hnp.arrays(float, (n, 3), elements=st.floats(-0.1, 0.1)))
    symbols = draw(st.lists(st.sampled_from(["Hf", "O"]), min_size=n, max_size=n))
    if periodic is None:
        pbc = draw(st.lists(st.booleans(), min_size=3, max_size=3))
    else:
        pbc = [periodic] * 3
    return Atoms(symbols, positions=(SITES[sites] + jitter) @ cell, cell=cell, pbc=pbc)


def test_the_potential_has_forces_to_check(tiny_hfo2):
    """The properties below have something to check: the forces are not negligible."""
    atoms = Atoms("HfO2", positions=[[0, 0, 0], [2.0, 0.3, 0], [0, 2.1, 0.4]])
    assert np.abs(tiny_hfo2.predict_forces([atoms])[0]).max() > 1e-2


@PROPERTY
@given(atoms=structures(), data=st.data())
def test_energy_and_forces_are_finite_and_forces_are_minus_the_gradient(tiny_hfo2, atoms,
                                                                        data):
    energies, forces = tiny_hfo2.predict_energies_and_forces([atoms])
    assert np.isfinite(energies).all() and forces[0].shape == (len(atoms), 3)
    assert np.isfinite(forces[0]).all()
    # central differences at h and 2h, combined (Richardson) to cancel the O(h²) error,
    # which is large here: measured ~5e-5 relative at h = 1e-4 Å (the tiny model's features
    # are scaled by spreads learned on two frames, so its third derivatives are big)
    h = 1e-4
    picks = [(data.draw(st.integers(0, len(atoms) - 1)), data.draw(st.integers(0, 2)))
             for _ in range(2)]
    displaced = []
    for step, (a, c), sign in itertools.product((h, 2 * h), picks, (1, -1)):
        moved = atoms.copy()
        moved.positions[a, c] += sign * step
        displaced.append(moved)
    e = tiny_hfo2.predict(displaced).reshape(2, len(picks), 2)
    fd_h, fd_2h = -(e[:, :, 0] - e[:, :, 1]) / (2 * np.array([[h], [2 * h]]))
    analytic = np.array([forces[0][a, c] for a, c in picks])
    np.testing.assert_allclose(analytic, (4 * fd_h - fd_2h) / 3, rtol=1e-6, atol=1e-7)


@PROPERTY
@given(atoms=structures(), shift=hnp.arrays(float, 3, elements=st.floats(-20.0, 20.0)))
def test_translation_changes_nothing(tiny_hfo2, atoms, shift):
    moved = atoms.copy()
    moved.positions += shift
    energies, forces = tiny_hfo2.predict_energies_and_forces([atoms, moved])
    assert energies[1] == pytest.approx(energies[0], rel=1e-12, abs=1e-10)
    np.testing.assert_allclose(forces[1], forces[0], atol=1e-10)


@PROPERTY
@given(atoms=structures(), data=st.data())
def test_permuting_the_atoms_permutes_the_forces(tiny_hfo2, atoms, data):
    order = np.array(data.draw(st.permutations(range(len(atoms)))), dtype=int)
    energies, forces = tiny_hfo2.predict_energies_and_forces([atoms, atoms[order]])
    assert energies[1] == pytest.approx(energies[0], rel=1e-12, abs=1e-10)
    np.testing.assert_allclose(forces[1], forces[0][order], atol=1e-10)


@PROPERTY
@given(atoms=structures(periodic=False), seed=st.integers(0, 2**32 - 1))
def test_rotating_a_non_periodic_structure_rotates_the_forces(tiny_hfo2, atoms, seed):
    rotation = Rotation.random(random_state=seed).as_matrix()
    turned = atoms.copy()
    turned.positions = atoms.positions @ rotation.T
    energies, forces = tiny_hfo2.predict_energies_and_forces([atoms, turned])
    assert energies[1] == pytest.approx(energies[0], rel=1e-12, abs=1e-10)
    np.testing.assert_allclose(forces[1], forces[0] @ rotation.T, atol=1e-10)
