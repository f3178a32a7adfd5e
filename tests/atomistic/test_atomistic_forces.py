"""TAAFSPotential physics: the descriptor equals torchani's AEV, forces are the exact negative
gradient of the energy (central finite differences in float64), the ASE calculator agrees
with predict_forces, and MD / geometry optimisation run on it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.atomistic._frames import build_frames
from taafs_sk.atomistic.descriptors import ANIDescriptor
from taafs_sk.atomistic.md import energy_drift, run_nve
from taafs_sk.datasets import load_pwmlff

SYSTEMS = ("cu", "hfo2", "ec")


@pytest.fixture(scope="module")
def frames(data_home):
    return {s: load_pwmlff(s, data_home=data_home) for s in SYSTEMS}


@pytest.fixture(scope="module")
def potentials(frames):
    """Small float64 models, a few epochs on a few frames (forces must be non-trivial)."""
    out = {}
    for system, basis in zip(SYSTEMS, ("bspline", "chebyshev1", "fourier"), strict=True):
        out[system] = TAAFSPotential((8, 8), basis=basis, max_epochs=4, batch_size=2,
                                     early_stopping=False, dtype="float64", lr=3e-3,
                                     random_state=0).fit(frames[system][:4:2])
    return out


@pytest.mark.parametrize("system", SYSTEMS)
def test_descriptor_equals_torchani_aev(frames, system):
    from torchani.aev import AEVComputer

    atoms = frames[system][3]
    elements = sorted(set(atoms.get_chemical_symbols()))
    got = build_frames([atoms], elements, ANIDescriptor(), torch.float64).G
    species = torch.tensor([[elements.index(s) for s in atoms.get_chemical_symbols()]])
    aev = AEVComputer.like_1x(num_species=len(elements), neighborlist="all_pairs").double()
    want = aev(species, torch.tensor(atoms.positions)[None], torch.tensor(atoms.cell.array),
               torch.tensor([True, True, True]))[0]
    assert got.shape == want.shape
    assert float((got - want).abs().max()) < 1e-10 * float(want.abs().max())


@pytest.mark.parametrize("system", SYSTEMS)
def test_forces_are_central_differences_of_the_energy(frames, potentials, system):
    pot, atoms = potentials[system], frames[system][-1]
    forces = pot.predict_forces([atoms])[0]
    assert np.abs(forces).max() > 1e-3  # a trained model: the test has something to check
    h = 1e-3
    rng = np.random.RandomState(0)
    picks = [(int(a), int(c)) for a, c in zip(rng.choice(len(atoms), 4, replace=False),
                                               rng.randint(0, 3, 4), strict=True)]
    displaced = []
    for step in (h, 2 * h):
        for a, c in picks:
            for sign in (1, -1):
                copy = atoms.copy()
                copy.positions[a, c] += sign * step
                displaced.append(copy)
    energies = pot.predict(displaced).reshape(2, -1, 2)
    fd_h, fd_2h = -(energies[:, :, 0] - energies[:, :, 1]) / (2 * np.array([[h], [2 * h]]))
    analytic = np.array([forces[a, c] for a, c in picks])
    # central differences carry an O(h^2) truncation error (measured: up to ~1e-3 relative at
    # h = 1e-3 Å on Cu); Richardson's combination cancels it, leaving O(h^4), measured
    # <= 1e-5 relative (the cubic B-spline's higher derivatives jump at its knots)
    np.testing.assert_allclose(analytic, (4 * fd_h - fd_2h) / 3, rtol=5e-5, atol=1e-8)
    assert (np.abs(analytic - fd_h) <= 0.5 * np.abs(fd_2h - fd_h) + 1e-8).all()


def test_forces_sum_to_zero_and_are_translation_invariant(frames, potentials):
    pot, atoms = potentials["hfo2"], frames["hfo2"][5]
    moved = atoms.copy()
    moved.positions += np.array([0.3, -1.1, 2.0])
    e, f = pot.predict_energies_and_forces([atoms, moved])
    np.testing.assert_allclose(f[0].sum(0), 0.0, atol=1e-10)
    np.testing.assert_allclose(f[0], f[1], atol=1e-9)
    assert abs(e[0] - e[1]) < 1e-8


@pytest.mark.parametrize("system", ["cu", "ec"])
def test_calculator_forces_equal_predict_forces(frames, potentials, system):
    pot, atoms = potentials[system], frames[system][7].copy()
    atoms.calc = pot.as_calculator()
    np.testing.assert_allclose(atoms.get_forces(), pot.predict_forces([atoms])[0], atol=1e-12)
    assert atoms.get_potential_energy() == pytest.approx(float(pot.predict([atoms])[0]),
                                                         abs=1e-9)


def test_calculator_stress_is_predict_stress(frames, potentials):
    atoms = frames["cu"][0].copy()
    atoms.calc = potentials["cu"].as_calculator()
    stress = atoms.get_stress()
    assert stress.shape == (6,)  # Voigt order, eV/Å^3
    np.testing.assert_allclose(stress, potentials["cu"].predict_stress([atoms])[0],
                               rtol=1e-6, atol=1e-9)


def test_twenty_step_nve_md_runs_and_stays_finite(frames, potentials):
    trace = run_nve(frames["cu"][150], potentials["cu"].as_calculator(), n_steps=20,
                    log_interval=5, random_state=1)
    assert trace["total"].shape == (5,)
    assert np.isfinite(trace["total"]).all() and np.isfinite(energy_drift(trace))
    assert trace["temperature"][0] == pytest.approx(300, rel=0.35)  # 72-atom MB sample
    assert (trace["min_distance"] > 1.0).all()


def test_md_with_the_same_seed_is_reproducible(frames, potentials):
    runs = [run_nve(frames["ec"][0], potentials["ec"].as_calculator(), n_steps=5,
                    log_interval=5, random_state=3)["total"] for _ in range(2)]
    np.testing.assert_array_equal(*runs)


def test_bfgs_lowers_the_energy(frames, potentials):
    from ase.optimize import BFGS

    atoms = frames["ec"][10].copy()
    atoms.calc = potentials["ec"].as_calculator()
    before = atoms.get_potential_energy()
    BFGS(atoms, logfile=None).run(fmax=1e-3, steps=5)
    assert atoms.get_potential_energy() < before


def test_energy_drift_of_a_linear_trace():
    t = np.linspace(0.0, 0.5, 6)
    trace = {"time_ps": t, "total": 1.0 - 0.036 * t, "n_atoms": 72}
    assert energy_drift(trace) == pytest.approx(-0.5)
