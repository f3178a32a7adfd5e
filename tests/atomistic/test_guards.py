"""TAAFSPotential is never silently wrong: atoms closer than ``min_distance`` are refused at
fit and at every prediction (naming the structure, the atoms and their distance), free atoms
and structures without any pair have their exact reference energy and zero force, a loss
with no weight is refused, non-finite descriptors and predictions are named, and bad
structures or targets raise errors that name them."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import fcc111
from ase.neighborlist import neighbor_list
from sklearn.utils._param_validation import InvalidParameterError

from taafs_sk.atomistic import TAAFSPotential

FIT = {"hidden_layer_sizes": (8,), "basis": "tanh", "max_epochs": 1, "batch_size": 1,
       "early_stopping": False, "dtype": "float64", "random_state": 0}
CLOSE = r"structure 1: atom 3 and atom 7 are {} Å apart, closer than min_distance=0\.1 Å"


def _with_pair(frame, distance: float) -> Atoms:
    """``frame`` with atom 7 moved to ``distance`` Å from atom 3 (along x)."""
    atoms = frame.copy()
    atoms.positions[7] = atoms.positions[3] + [distance, 0.0, 0.0]
    return atoms


def _free_atom_energy(pot, symbol: str) -> float:
    """What the model gives an atom with a zero descriptor: its reference energy plus its
    network's output at G = 0."""
    e = pot.elements_.index(symbol)
    zero = torch.zeros(1, pot.n_features_in_, dtype=pot.dtype_)
    with torch.no_grad():
        network = float(pot.module_.atomic_energies(zero, torch.tensor([e]))[0])
    return network + float(pot.reference_energies_[e])


# ------------------------------------------------------------------ min_distance
@pytest.mark.parametrize("method", ["predict", "predict_forces", "predict_energies_and_forces",
                                    "score"])
def test_coincident_atoms_are_refused_by_every_prediction(tiny_hfo2, hfo2_frames, method):
    X = [hfo2_frames[0], _with_pair(hfo2_frames[1], 0.0)]
    args = (X, [0.0, 1.0]) if method == "score" else (X,)
    with pytest.raises(ValueError, match=CLOSE.format("0")):
        getattr(tiny_hfo2, method)(*args)


def test_the_calculator_refuses_coincident_atoms(tiny_hfo2, hfo2_frames):
    atoms = _with_pair(hfo2_frames[1], 0.05)
    atoms.calc = tiny_hfo2.as_calculator()
    with pytest.raises(ValueError, match=r"structure 0: atom 3 and atom 7 are 0\.05 Å apart"):
        atoms.get_forces()


def test_fit_refuses_atoms_closer_than_min_distance(hfo2_frames):
    X = [hfo2_frames[0], _with_pair(hfo2_frames[1], 0.05)]
    with pytest.raises(ValueError, match=CLOSE.format(r"0\.05")):
        TAAFSPotential(**FIT).fit(X, [0.0, 0.0], [np.zeros((96, 3))] * 2)


def test_the_distance_named_is_the_shortest_pair(tiny_hfo2, hfo2_frames):
    atoms = hfo2_frames[4]
    i, j, d = neighbor_list("ijd", atoms, 3.0)
    shortest = np.argmin(d)
    pot = copy.deepcopy(tiny_hfo2).set_params(min_distance=3.0)
    a, b = sorted((i[shortest], j[shortest]))
    with pytest.raises(ValueError, match=rf"structure 0: atom {a} and atom {b} are "
                                         rf"{d[shortest]:.4g} Å apart.*min_distance=3\.0"):
        pot.predict([atoms])


def test_nearly_coincident_atoms_above_min_distance_have_finite_forces(tiny_hfo2, hfo2_frames):
    energies, forces = tiny_hfo2.predict_energies_and_forces([_with_pair(hfo2_frames[1], 0.2)])
    assert np.isfinite(energies).all() and np.isfinite(forces[0]).all()
    assert np.abs(forces[0][[3, 7]]).max() > 1e-3  # the close pair pushes


def test_min_distance_zero_disables_the_check_and_the_nan_is_named(tiny_hfo2, hfo2_frames):
    pot = copy.deepcopy(tiny_hfo2).set_params(min_distance=0.0)
    X = [hfo2_frames[0], _with_pair(hfo2_frames[1], 0.0)]
    with pytest.raises(ValueError, match="structure 1: the descriptor of atom 3 or its "
                                         "derivative is not finite"):
        pot.predict_forces(X)
    assert np.isfinite(pot.predict_forces([_with_pair(hfo2_frames[1], 0.05)])[0]).all()


@pytest.mark.parametrize("value", [-0.1, "0.1", float("nan")])
def test_bad_min_distance_is_refused_at_fit(hfo2_frames, value):
    with pytest.raises(InvalidParameterError, match="min_distance"):
        TAAFSPotential(**FIT, min_distance=value).fit(hfo2_frames[:1])


def test_min_distance_beyond_the_cutoff_is_refused(hfo2_frames):
    with pytest.raises(ValueError, match=r"min_distance of TAAFSPotential must be smaller "
                                         r"than the descriptor cutoff 5\.2 Å, got 6\.0"):
        TAAFSPotential(**FIT, min_distance=6.0).fit(hfo2_frames[:1])


# ------------------------------------------------------------------ free atoms
def test_a_single_atom_has_its_reference_energy_and_zero_force(tiny_hfo2):
    for symbol in ("Hf", "O"):
        for atoms in (Atoms(symbol), Atoms(symbol, cell=[6.0, 6.0, 6.0], pbc=True)):
            energies, forces = tiny_hfo2.predict_energies_and_forces([atoms])
            assert energies[0] == _free_atom_energy(tiny_hfo2, symbol)
            assert forces[0].shape == (1, 3) and not forces[0].any()


def test_a_structure_without_any_pair_is_the_sum_of_free_atoms(tiny_hfo2):
    atoms = Atoms("HfOO", positions=[[0, 0, 0], [10, 0, 0], [0, 0, 20]])
    energies, forces = tiny_hfo2.predict_energies_and_forces([atoms])
    want = _free_atom_energy(tiny_hfo2, "Hf") + 2 * _free_atom_energy(tiny_hfo2, "O")
    assert energies[0] == pytest.approx(want, rel=1e-14)
    assert not forces[0].any()


def test_a_free_atom_beside_a_molecule_adds_its_energy_and_feels_no_force(tiny_hfo2):
    pair = Atoms("HfO", positions=[[0, 0, 0], [1.9, 0.3, 0]])
    with_free = Atoms("HfOO", positions=[[0, 0, 0], [1.9, 0.3, 0], [30, 0, 0]])
    energies, forces = tiny_hfo2.predict_energies_and_forces([pair, with_free])
    assert energies[1] - energies[0] == pytest.approx(_free_atom_energy(tiny_hfo2, "O"),
                                                      abs=1e-10)
    assert not forces[1][2].any()
    np.testing.assert_allclose(forces[1][:2], forces[0], atol=1e-12)
    assert np.abs(forces[0]).max() > 1e-3


def test_fit_accepts_free_atoms(hfo2_frames):
    single = Atoms("O", cell=[6.0, 6.0, 6.0], pbc=True)
    energies = [hfo2_frames[0].get_potential_energy(), -4.0]
    forces = [hfo2_frames[0].get_forces(), np.zeros((1, 3))]
    pot = TAAFSPotential(**FIT).fit([hfo2_frames[0], single], energies, forces)
    assert np.isfinite(pot.history_[-1]["train_loss"])
    assert np.isfinite(pot.predict([single])).all()


# ------------------------------------------------------------------ the loss, the outputs
def test_both_loss_weights_zero_is_refused(hfo2_frames):
    with pytest.raises(ValueError, match="energy_weight and force_weight of TAAFSPotential "
                                         "are both 0"):
        TAAFSPotential(**FIT, energy_weight=0.0, force_weight=0).fit(hfo2_frames[:1])


def test_force_only_training_is_fine(hfo2_frames):
    pot = TAAFSPotential(**FIT, energy_weight=0.0).fit(hfo2_frames[:1])
    assert np.isfinite(pot.history_[-1]["train_loss"])


def test_a_non_finite_prediction_names_its_structure(tiny_hfo2, hfo2_frames):
    pot = copy.deepcopy(tiny_hfo2)
    with torch.no_grad():  # a broken O network: only structures with O are affected
        next(pot.module_.nets[pot.elements_.index("O")].parameters()).fill_(np.inf)
    for method in ("predict", "predict_forces"):
        with pytest.raises(ValueError, match="predicted energy of structure 1 is not finite"):
            getattr(pot, method)([Atoms("Hf"), hfo2_frames[0]])


# ------------------------------------------------------------------ bad structures, targets
def _bad(frames, kind):
    atoms = frames[1].copy()
    if kind == "nan":
        atoms.positions[5, 2] = np.nan
    elif kind == "singular":
        atoms.cell[2] = atoms.cell[0]
    elif kind == "cell":
        atoms.cell[2, 2] = np.inf
    else:
        atoms = Atoms(pbc=True)
    return [frames[0], atoms]


@pytest.mark.parametrize("kind, message", [
    ("nan", r"structure 1 has non-finite \(NaN or inf\) positions: atom 5 is at"),
    ("singular", r"structure 1 is periodic \(pbc=\[True, True, True\]\) but its periodic cell "
                 r"vectors are linearly dependent"),
    ("cell", "structure 1 has a non-finite cell"),
    ("empty", "structure 1 has no atoms"),
])
def test_bad_structures_are_named_at_fit_and_predict(tiny_hfo2, hfo2_frames, kind, message):
    X = _bad(hfo2_frames, kind)
    with pytest.raises(ValueError, match=message):
        tiny_hfo2.predict(X)
    with pytest.raises(ValueError, match=message):
        TAAFSPotential(**FIT).fit(X, [0.0, 0.0], [np.zeros((len(a), 3)) for a in X])


def test_an_unseen_element_and_no_structure_are_named(tiny_hfo2, hfo2_frames):
    odd = hfo2_frames[1].copy()
    odd[4].symbol = "Cu"
    with pytest.raises(ValueError, match=r"structure 1 contains element\(s\) \['Cu'\]"):
        tiny_hfo2.predict([hfo2_frames[0], odd])
    with pytest.raises(ValueError, match="X is empty"):
        tiny_hfo2.predict([])
    with pytest.raises(ValueError, match="X is empty"):
        TAAFSPotential(**FIT).fit([])


def test_a_slab_with_a_zero_non_periodic_cell_vector_is_accepted(tiny_hfo2):
    slab = fcc111("Cu", size=(3, 3, 2), vacuum=None)  # cell[2] is zero, pbc along a, b only
    slab.set_chemical_symbols(["Hf", "O"] * 9)
    slab.pbc = [True, True, False]
    assert not slab.cell[2].any()
    assert np.isfinite(tiny_hfo2.predict_forces([slab])[0]).all()


@pytest.mark.parametrize("energies, forces, error, message", [
    ([1.0], None, ValueError, "energies has 1 values for 2 structures"),
    (["a", "b"], None, ValueError, r"energies must be numbers.*\['a', 'b'\]"),
    (None, "one", ValueError, "forces has 1 entries for 2 structures"),
    (None, "shape", ValueError, r"the forces of structure 1 have shape \(96, 2\), expected "
                                r"\(96, 3\)"),
    (None, "ragged", ValueError, "the forces of structure 1 must be numbers in a rectangular"),
    (None, "none", ValueError, r"the forces of structure 1 have shape \(\)"),
    (None, 3.0, TypeError, "forces must be a list of 2"),
])
def test_bad_targets_are_named(hfo2_frames, energies, forces, error, message):
    good = [a.get_forces() for a in hfo2_frames[:2]]
    forces = {"one": good[:1], "shape": [good[0], good[1][:, :2]],
              "ragged": [good[0], [[1.0, 2.0], [3.0]]], "none": [good[0], None]}.get(
        forces, forces)
    with pytest.raises(error, match=message):
        TAAFSPotential(**FIT).fit(hfo2_frames[:2], energies, forces)
