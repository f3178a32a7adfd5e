"""Stress (strain derivative of the energy, ASE's convention) and the ZBL repulsion."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.atomistic.repulsion import repulsion_terms, switch, zbl_pair

VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]


def _emt_frames(n=2):
    frames = []
    for k in range(n):
        atoms = bulk("Cu", cubic=True).repeat(2)
        atoms.rattle(0.1, seed=k)
        atoms.calc = EMT()
        frames.append(atoms)
    return frames


def _strained(atoms, component, h):
    """``atoms`` under the symmetric strain ``h`` of Voigt ``component`` (cell and atoms)."""
    i, j = VOIGT[component]
    eps = np.zeros((3, 3))
    eps[i, j] += h / 2
    eps[j, i] += h / 2
    out = atoms.copy()
    out.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
    return out


def _fd_stress(energy, atoms, h=1e-5):
    """Central differences of ``energy(atoms)`` under each strain, over the volume."""
    return np.array([(energy(_strained(atoms, c, h)) - energy(_strained(atoms, c, -h)))
                     / (2 * h) for c in range(6)]) / atoms.get_volume()


@pytest.fixture(scope="module")
def cu_frames():
    return _emt_frames()


@pytest.fixture(scope="module", params=[None, "zbl"])
def tiny_cu(request, cu_frames):
    """float64, (8,), two epochs; the ZBL switch reaches into the first shell (2.55 Å)."""
    return TAAFSPotential((8,), basis="chebyshev1", max_epochs=2, early_stopping=False,
                          dtype="float64", random_state=0, repulsion=request.param,
                          zbl_inner=1.5, zbl_outer=2.7).fit(cu_frames)


def test_finite_differences_give_ases_stress_convention(cu_frames):
    # the reference is right: EMT's own stress is the same strain derivative
    atoms = cu_frames[0].copy()
    atoms.calc = EMT()
    fd = _fd_stress(lambda a: (setattr(a, "calc", EMT()), a.get_potential_energy())[1], atoms)
    np.testing.assert_allclose(atoms.get_stress(), fd, rtol=1e-6, atol=1e-9)


def test_stress_equals_finite_differences_of_the_energy(tiny_cu, cu_frames):
    atoms = cu_frames[1].copy()
    atoms.set_cell(atoms.cell * 0.97, scale_atoms=True)  # compressed: a sizeable stress
    stress = tiny_cu.predict_stress([atoms])[0]
    fd = _fd_stress(lambda a: tiny_cu.predict([a])[0], atoms)
    assert np.abs(stress - fd).max() <= 1e-6 * np.abs(fd).max()


def test_two_element_stress_with_zbl_equals_finite_differences(tiny_hfo2, hfo2_frames):
    pot = copy.deepcopy(tiny_hfo2).set_params(repulsion="zbl", zbl_inner=1.0, zbl_outer=2.3)
    atoms = hfo2_frames[40]
    assert repulsion_terms([atoms], 1.0, 2.3)[0][0] > 0  # Hf-O pairs inside the switch
    stress = pot.predict_stress([atoms])[0]
    fd = _fd_stress(lambda a: pot.predict([a])[0], atoms)
    assert np.abs(stress - fd).max() <= 1e-6 * np.abs(fd).max()


def test_stress_of_several_structures_is_per_structure(tiny_cu, cu_frames):
    both = tiny_cu.predict_stress(cu_frames)
    assert both.shape == (2, 6)
    np.testing.assert_allclose(both[1], tiny_cu.predict_stress([cu_frames[1]])[0], rtol=1e-12)
    assert not np.allclose(both[0], both[1])


def test_the_calculator_gives_the_stress(tiny_cu, cu_frames):
    atoms = cu_frames[0].copy()
    atoms.calc = tiny_cu.as_calculator()
    np.testing.assert_allclose(atoms.get_stress(), tiny_cu.predict_stress([atoms])[0],
                               rtol=1e-12)


def test_stress_is_refused_without_a_periodic_cell(tiny_cu, cu_frames):
    slab = cu_frames[0].copy()
    slab.pbc = [True, True, False]
    molecule = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.5]])
    with pytest.raises(ValueError, match=r"structure 1 has no stress.*pbc is \[True, True, Fa"):
        tiny_cu.predict_stress([cu_frames[0], slab])
    molecule.calc = tiny_cu.as_calculator()
    with pytest.raises(ValueError, match="structure 0 has no stress"):
        molecule.get_stress()
    assert np.isfinite(molecule.get_potential_energy())  # energy and forces still work


# ------------------------------------------------------------------ ZBL
@pytest.mark.parametrize(("z", "r", "energy", "dv_dr"), [
    # by hand: a = 0.46850 / (2 Z^0.23); x = r / a; phi = sum c exp(-b x); V = k Z^2 phi / r
    # H-H at 0.5 Å: a = 0.23425, x = 2.1345, phi = 0.20532, phi' = -0.116385
    (1, 0.5, 5.9131, -26.135),
    # Cu-Cu at 1.0 Å: a = 0.107973, x = 9.2616, phi = 0.011150, phi' = -0.0036607
    (29, 1.0, 135.02, -545.6),
])
def test_zbl_against_values_worked_out_by_hand(z, r, energy, dv_dr):
    v, dv = zbl_pair([r], [z], [z], inner=3.0, outer=4.0)  # below the switch: pure ZBL
    assert v[0] == pytest.approx(energy, rel=1e-3)
    assert dv[0] == pytest.approx(dv_dr, rel=1e-3)


def test_zbl_pair_force_pushes_atoms_apart_by_the_derivative():
    atoms = Atoms("H2", positions=[[0, 0, 0], [0.5, 0, 0]])
    e, f, _ = repulsion_terms([atoms], 3.0, 4.0)
    assert e[0] == pytest.approx(5.9131, rel=1e-3)  # one pair, counted once
    np.testing.assert_allclose(f[0], [[-26.135, 0, 0], [26.135, 0, 0]], rtol=1e-3)


def test_switch_is_smooth_and_zbl_derivative_is_consistent():
    inner, outer, tiny = 1.2, 2.0, 1e-9
    for edge in (inner, outer):  # value and first derivative continuous at both radii
        s, ds = switch([edge - tiny, edge + tiny], inner, outer)
        assert abs(s[0] - s[1]) < 1e-8 and abs(ds[0] - ds[1]) < 1e-6
    assert switch([inner], inner, outer)[0][0] == 1.0 and switch([outer], inner, outer)[0][0] == 0
    r = np.linspace(0.8, 2.2, 57)
    h = 1e-6
    v, dv = zbl_pair(r, np.full_like(r, 29), np.full_like(r, 8), inner, outer)
    up, down = zbl_pair(r + h, 29, 8, inner, outer)[0], zbl_pair(r - h, 29, 8, inner, outer)[0]
    fd = (up - down) / (2 * h)
    np.testing.assert_allclose(dv, fd, rtol=1e-6, atol=1e-6)
    assert (v[r >= outer] == 0).all() and (v[r < outer] > 0).all()


def test_the_repulsion_is_added_back_at_prediction(tiny_cu, cu_frames):
    # with repulsion=None nothing is added: the networks alone are the prediction
    networks_only = copy.deepcopy(tiny_cu).set_params(repulsion=None)
    e_rep, f_rep, _ = repulsion_terms(cu_frames, 1.5, 2.7)
    assert e_rep.min() > 0.1  # the first shell is inside the switch
    on = tiny_cu.repulsion is not None
    e, f = tiny_cu.predict_energies_and_forces(cu_frames)
    e0, f0 = networks_only.predict_energies_and_forces(cu_frames)
    np.testing.assert_allclose(e, e0 + on * e_rep, rtol=1e-12)
    np.testing.assert_allclose(f[1], f0[1] + on * f_rep[1], rtol=1e-10, atol=1e-12)


def test_the_repulsion_is_subtracted_from_the_training_targets(cu_frames):
    # the same networks learn E - E_zbl whether the wall is added by the potential or
    # removed from the targets by hand
    e_rep, f_rep, _ = repulsion_terms(cu_frames, 1.5, 2.7)
    energies = np.array([a.get_potential_energy() for a in cu_frames])
    forces = [a.get_forces() for a in cu_frames]
    kw = dict(hidden_layer_sizes=(4,), basis="tanh", max_epochs=2, early_stopping=False,
              dtype="float64", random_state=0, zbl_inner=1.5, zbl_outer=2.7)
    with_wall = TAAFSPotential(repulsion="zbl", **kw).fit(cu_frames)
    by_hand = TAAFSPotential(**kw).fit(cu_frames, energies - e_rep,
                                       [f - g for f, g in zip(forces, f_rep, strict=True)])
    np.testing.assert_allclose(with_wall.predict(cu_frames),
                               by_hand.predict(cu_frames) + e_rep, rtol=1e-10)


@pytest.mark.parametrize(("params", "message"), [
    ({"repulsion": "lj"}, "repulsion"),
    ({"repulsion": "zbl", "zbl_inner": 2.0, "zbl_outer": 1.0},
     r"zbl_inner and zbl_outer .* got zbl_inner=2.0, zbl_outer=1.0"),
    ({"repulsion": "zbl", "zbl_outer": 6.0}, r"zbl_outer < cutoff \(5.2 Å\)"),
    ({"zbl_inner": -1.0}, "zbl_inner"),
])
def test_bad_repulsion_parameters_are_named(cu_frames, params, message):
    with pytest.raises(ValueError, match=message):
        TAAFSPotential((4,), max_epochs=1, **params).fit(cu_frames)
