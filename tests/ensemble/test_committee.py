"""A committee of potentials: energies, per-atom force stds, the ASE calculator, and the MD
option that records the force std and stops (or warns) past a threshold."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from taafs_sk import EnsembleRegressor
from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.atomistic.md import run_nve
from taafs_sk.ensemble.committee import force_std

TINY = dict(hidden_layer_sizes=(8,), basis="tanh", max_epochs=2, batch_size=2,
            early_stopping=False)


def _frames(n: int) -> list:
    frames = []
    for k in range(n):
        atoms = bulk("Cu", cubic=True).repeat(2)
        atoms.rattle(0.05, seed=k)
        atoms.calc = EMT()
        frames.append(atoms)
    return frames


@pytest.fixture(scope="module")
def frames():
    return _frames(6)


@pytest.fixture(scope="module")
def committee(frames):
    energies = [a.get_potential_energy() for a in frames]
    forces = [a.get_forces() for a in frames]
    return EnsembleRegressor(TAAFSPotential(**TINY), n_members=3, calibrate="scale",
                             calibration_fraction=0.3, random_state=0).fit(
        frames, energies, forces=forces)


def test_calibration_block_is_the_last_structures(committee):
    np.testing.assert_array_equal(committee.calibration_indices_, [4, 5])
    assert all(m.n_iter_ == 2 for m in committee.estimators_)


def test_energy_std_is_the_members_spread(committee, frames):
    mean, raw = committee.predict(frames, return_std=True, calibrated=False)
    members = np.stack([m.predict(frames) for m in committee.estimators_])
    np.testing.assert_allclose(mean, members.mean(0))
    np.testing.assert_allclose(raw, members.std(0), rtol=1e-9, atol=1e-12)
    assert raw.shape == (6,) and raw.min() > 0


def test_force_std_is_the_rms_deviation_of_force_vectors(committee, frames):
    forces, stds = committee.predict_forces(frames[:2], return_std=True)
    members = np.stack([m.predict_forces(frames[:2])[1] for m in committee.estimators_])
    want = np.sqrt(np.mean(np.sum((members - members.mean(0)) ** 2, axis=-1), axis=0))
    np.testing.assert_allclose(stds[1], want, rtol=1e-9)
    np.testing.assert_allclose(forces[1], members.mean(0))
    assert forces[0].shape == (32, 3) and stds[0].shape == (32,)


def test_force_std_of_constructed_members():
    f = np.zeros((4, 2, 3))
    f[:, 0, 0] = [1.0, -1.0, 1.0, -1.0]  # atom 0: disagreement of +-1 on x
    np.testing.assert_allclose(force_std(f), [1.0, 0.0])
    f[:, 0, 1] = [1.0, -1.0, 1.0, -1.0]  # and on y: the vector deviation is sqrt(2)
    np.testing.assert_allclose(force_std(f), [np.sqrt(2), 0.0])


def test_calculator_results_equal_predict(committee, frames):
    atoms = frames[1].copy()
    atoms.calc = committee.as_calculator()
    forces, stds = committee.predict_forces([frames[1]], return_std=True)
    energies, energy_std = committee.predict([frames[1]], return_std=True)
    np.testing.assert_allclose(atoms.get_forces(), forces[0], rtol=1e-12)
    np.testing.assert_allclose(atoms.calc.get_property("forces_std", atoms), stds[0],
                               rtol=1e-12)
    assert atoms.get_potential_energy() == pytest.approx(energies[0], rel=1e-12)
    assert atoms.calc.results["energy_std"] == pytest.approx(energy_std[0], rel=1e-12)


def test_md_stops_when_the_force_std_passes_the_threshold(committee, frames):
    calc = committee.as_calculator()
    full = run_nve(frames[0], calc, n_steps=6, log_interval=2, uncertainty_threshold=1e3)
    assert full["flagged_ps"] is None and len(full["max_forces_std_per_step"]) == 7
    assert full["max_forces_std"].shape == full["time_ps"].shape == (4,)
    # a threshold between the smallest and the largest per-step maximum: stops at the
    # first step above it, which is recorded
    worst = full["max_forces_std_per_step"]
    threshold = 0.5 * (worst.min() + worst.max())
    first = int(np.argmax(worst > threshold))
    stopped = run_nve(frames[0], calc, n_steps=6, log_interval=2,
                      uncertainty_threshold=threshold)
    assert stopped["flagged_ps"] == pytest.approx(first * 1e-3)
    assert stopped["time_ps"][-1] == pytest.approx(first * 1e-3)
    assert len(stopped["max_forces_std_per_step"]) == first + 1


def test_md_warns_and_runs_on(committee, frames):
    with pytest.warns(UserWarning, match="passed uncertainty_threshold"):
        trace = run_nve(frames[0], committee.as_calculator(), n_steps=3, log_interval=1,
                        uncertainty_threshold=1e-9, on_uncertainty="warn")
    assert trace["flagged_ps"] == 0.0 and len(trace["time_ps"]) == 4


def test_md_threshold_needs_a_committee(frames):
    with pytest.raises(ValueError, match="uncertainty_threshold needs a calculator.*EMT"):
        run_nve(frames[0], EMT(), n_steps=2, uncertainty_threshold=0.1)


@pytest.mark.parametrize("kwargs, match", [
    ({"uncertainty_threshold": -0.1}, "uncertainty_threshold must be > 0.0, got -0.1"),
    ({"uncertainty_threshold": "high"}, "uncertainty_threshold must be a real number"),
    ({"on_uncertainty": "ignore"}, "on_uncertainty must be one of 'stop', 'warn'"),
    ({"n_steps": -1}, "n_steps must be an integer >= 0, got -1"),
])
def test_md_bad_arguments_are_named(frames, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        run_nve(frames[0], EMT(), **kwargs)
