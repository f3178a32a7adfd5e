"""The torch-sim adapter against the potential's own predictions and ASE's velocity Verlet."""

from __future__ import annotations

import numpy as np
import pytest
import torch

ts = pytest.importorskip("torch_sim")

from ase import units  # noqa: E402
from ase.md.verlet import VelocityVerlet  # noqa: E402

from taafs_sk.atomistic.torchsim import as_torchsim_model  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def two_frames(hfo2_frames):
    return [hfo2_frames[40].copy(), hfo2_frames[95].copy()]


def test_energies_forces_stress_equal_predict(tiny_hfo2, two_frames):
    state = ts.io.atoms_to_state(two_frames, CPU, torch.float64)
    out = as_torchsim_model(tiny_hfo2, compute_stress=True)(state)
    energies, forces = tiny_hfo2.predict_energies_and_forces(two_frames)
    np.testing.assert_allclose(out["energy"].numpy(), energies, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out["forces"].numpy(), np.concatenate(forces), rtol=0,
                               atol=1e-10)
    assert np.abs(np.concatenate(forces)).max() > 1e-2  # the forces compared are not zeros
    voigt = tiny_hfo2.predict_stress(two_frames)
    full = out["stress"].numpy()
    assert np.allclose(full, full.transpose(0, 2, 1), rtol=0, atol=1e-14)
    rows, cols = [0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]
    np.testing.assert_allclose(full[:, rows, cols], voigt, rtol=0, atol=1e-12)


def test_model_attributes_and_dict_state(tiny_hfo2, two_frames):
    model = as_torchsim_model(tiny_hfo2)
    assert isinstance(model, ts.models.interface.ModelInterface)
    assert model.dtype == torch.float64 and not model.compute_stress and model.compute_forces
    state = ts.io.atoms_to_state(two_frames[:1], CPU, torch.float64)
    fields = {"positions": state.positions, "cell": state.cell, "pbc": state.pbc,
              "atomic_numbers": state.atomic_numbers}  # one system: no system_idx
    out = model(fields)
    assert "stress" not in out
    np.testing.assert_allclose(out["energy"].numpy(), tiny_hfo2.predict(two_frames[:1]),
                               rtol=0, atol=1e-10)


def test_bad_inputs(tiny_hfo2, two_frames):
    with pytest.raises(TypeError, match="potential of as_torchsim_model"):
        as_torchsim_model("pot")
    with pytest.raises(TypeError, match="compute_stress"):
        as_torchsim_model(tiny_hfo2, compute_stress="yes")
    model = as_torchsim_model(tiny_hfo2)
    with pytest.raises(TypeError, match="state of the TAAFS torch-sim model"):
        model("H2")
    with pytest.raises(ValueError, match="atomic_numbers"):
        model({"positions": torch.zeros(2, 3), "cell": torch.eye(3), "pbc": True})
    state = ts.io.atoms_to_state(two_frames, CPU, torch.float64)
    with pytest.raises(ValueError, match="system_idx"):
        model({"positions": state.positions, "cell": state.cell[:1], "pbc": True,
               "atomic_numbers": state.atomic_numbers, "system_idx": state.system_idx})


def _minimum_image(delta: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Differences of positions ``(n, 3)`` brought to the nearest periodic image."""
    frac = delta @ np.linalg.inv(cell)
    return (frac - np.round(frac)) @ cell


def test_batched_nve_equals_ase_velocity_verlet(tiny_hfo2, two_frames):
    """Five steps of torch-sim's NVE on both cells at once against ASE per cell."""
    n_steps, dt = 5, 1.0 * units.fs
    rng = np.random.default_rng(0)
    velocities = [rng.normal(0, 0.02, (len(a), 3)) for a in two_frames]  # Å per ASE time
    reference = []
    for atoms, v in zip(two_frames, velocities, strict=True):
        atoms = atoms.copy()
        atoms.calc = tiny_hfo2.as_calculator()
        atoms.set_velocities(v)
        VelocityVerlet(atoms, timestep=dt).run(n_steps)
        reference.append((atoms.positions.copy(), atoms.get_velocities()))
    model = as_torchsim_model(tiny_hfo2)
    init, update = ts.integrators.nve(model, dt=torch.tensor(dt, dtype=torch.float64),
                                      kT=torch.tensor(0.0, dtype=torch.float64))
    state = init(ts.io.atoms_to_state(two_frames, CPU, torch.float64))
    state.momenta = state.masses[:, None] * torch.as_tensor(np.concatenate(velocities))
    for _ in range(n_steps):
        state = update(state)
    positions = np.split(state.positions.numpy(), 2)
    moved = 0.0
    for k, atoms in enumerate(two_frames):
        delta = _minimum_image(positions[k] - reference[k][0], atoms.cell.array)
        assert np.abs(delta).max() < 1e-8
        np.testing.assert_allclose(np.split(state.velocities.numpy(), 2)[k], reference[k][1],
                                   rtol=0, atol=1e-9)
        moved = max(moved, np.abs(reference[k][0] - atoms.positions).max())
    assert moved > 1e-3  # the atoms did move
