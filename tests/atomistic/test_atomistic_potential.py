"""TAAFSPotential as a scikit-learn estimator: fitting from calculators or arrays, bad input
named by structure, clone / pickle / random_state, GridSearchCV with GroupKFold, the light
top-level import, and its training in the library's skorch loop (history, early stopping on
the last block of structures, RLEKF measurements, divergence, optimisers by name)."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.utils._param_validation import InvalidParameterError

from taafs_sk.atomistic import ANIDescriptor, TAAFSPotential, register_training_step
from taafs_sk.atomistic._deps import require
from taafs_sk.datasets import load_pwmlff
from taafs_sk.exceptions import TrainingDivergedError
from taafs_sk.nn.optimizers import OPTIMIZER_REGISTRY, is_measurement_optimizer
from taafs_sk.taafs.net import TrainingNet

TINY = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 2, "lr": 3e-3,
        "early_stopping": False, "random_state": 0}


@pytest.fixture(scope="module")
def cu(data_home):
    return load_pwmlff("cu", data_home=data_home)


@pytest.fixture(scope="module")
def fitted(cu):
    return TAAFSPotential(basis="chebyshev1", **TINY).fit(cu[:6])


def test_fit_sets_the_documented_attributes(fitted, cu):
    assert fitted.elements_ == ["Cu"]
    # the reference energy removes PWmat's absolute scale (about -4967.8 eV/atom for Cu)
    assert fitted.reference_energies_[0] == pytest.approx(-4967.8, abs=0.5)
    assert fitted.n_features_in_ == 48 and fitted.n_iter_ == 3 == len(fitted.history_)
    assert fitted.n_activation_params_ == 9  # one chebyshev1 TAAF, 8 coefficients + bias
    assert fitted.n_params_ == 48 * 8 + 8 + 8 + 1 + 9


def test_training_lowers_the_loss_with_taaf_activations(cu):
    pot = TAAFSPotential(basis="bspline", **{**TINY, "max_epochs": 6}).fit(cu[:6])
    losses = [row["train_loss"] for row in pot.history_]
    assert losses[-1] < 0.5 * losses[0]


def test_predictions_have_the_documented_shapes(fitted, cu):
    energies = fitted.predict(cu[:3])
    forces = fitted.predict_forces(cu[:3])
    assert energies.shape == (3,) and [f.shape for f in forces] == [(72, 3)] * 3
    assert np.isfinite(energies).all()
    # a list, a tuple and an object array give the same energies
    as_array = np.empty(3, dtype=object)
    as_array[:] = cu[:3]
    np.testing.assert_allclose(fitted.predict(tuple(cu[:3])), energies)
    np.testing.assert_allclose(fitted.predict(as_array), energies)


def test_explicit_energies_and_forces_equal_the_calculator_ones(cu, fitted):
    bare = [Atoms(a.get_chemical_symbols(), a.positions, cell=a.cell, pbc=True) for a in cu[:6]]
    pot = TAAFSPotential(basis="chebyshev1", **TINY).fit(
        bare, [a.get_potential_energy() for a in cu[:6]], [a.get_forces() for a in cu[:6]])
    np.testing.assert_allclose(pot.predict(cu[6:8]), fitted.predict(cu[6:8]), rtol=0, atol=1e-6)


def test_score_is_the_energy_r2(fitted, cu):
    from sklearn.metrics import r2_score

    y = np.array([a.get_potential_energy() for a in cu[:8]])
    assert fitted.score(cu[:8]) == pytest.approx(r2_score(y, fitted.predict(cu[:8])))


def test_same_random_state_same_model_and_clone_keeps_params(cu, fitted):
    again = clone(fitted).fit(cu[:6])
    np.testing.assert_array_equal(again.predict(cu[6:8]), fitted.predict(cu[6:8]))
    assert clone(fitted).get_params() == fitted.get_params()
    other = TAAFSPotential(basis="chebyshev1", **{**TINY, "random_state": 1}).fit(cu[:6])
    assert np.abs(other.predict(cu[6:8]) - fitted.predict(cu[6:8])).max() > 1e-4


def test_pickle_round_trip_predicts_the_same(fitted, cu):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(cu[6:8]), fitted.predict(cu[6:8]))
    for got, want in zip(restored.predict_forces(cu[6:8]), fitted.predict_forces(cu[6:8]),
                         strict=True):
        np.testing.assert_array_equal(got, want)
    assert restored.module_ is restored.net_.module_.networks  # one copy of the networks


def test_grid_search_over_basis_with_group_kfold(cu):
    frames = cu[:4] + cu[100:104]
    groups = [a.info["source"] for a in frames]
    search = GridSearchCV(TAAFSPotential(**{**TINY, "max_epochs": 2}),
                          {"basis": ["tanh", "chebyshev1"]}, cv=GroupKFold(2))
    search.fit(frames, groups=groups)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_["basis"] in ("tanh", "chebyshev1")
    assert search.predict(frames[:2]).shape == (2,)


# ------------------------------------------------------------------ bad input
def test_unseen_element_is_named_with_its_structure(fitted, cu):
    odd = cu[1].copy()
    odd[5].symbol = "Ag"
    with pytest.raises(ValueError, match=r"structure 1 contains element\(s\) \['Ag'\]"):
        fitted.predict([cu[0], odd])


def test_structure_without_calculator_needs_energies(cu):
    bare = cu[2].copy()
    bare.calc = None
    with pytest.raises(ValueError, match="structure 2 has no energy.*no calculator"):
        TAAFSPotential(**TINY).fit([cu[0], cu[1], bare])


def test_force_shape_mismatch_is_named(cu):
    forces = [a.get_forces() for a in cu[:3]]
    forces[1] = forces[1][:-1]
    with pytest.raises(ValueError, match=r"forces of structure 1 have shape \(71, 3\)"):
        TAAFSPotential(**TINY).fit(cu[:3], forces=forces)


def test_nan_positions_are_refused(fitted, cu):
    bad = cu[3].copy()
    bad.positions[0, 0] = np.nan
    with pytest.raises(ValueError, match="structure 1 has non-finite"):
        fitted.predict([cu[0], bad])
    with pytest.raises(ValueError, match="structure 0 has non-finite"):
        TAAFSPotential(**TINY).fit([bad])


def test_cell_thinner_than_the_cutoff_is_refused(fitted):
    small = bulk("Cu", "fcc", a=3.6, cubic=True)  # 3.6 Å < the 5.2 Å cutoff
    with pytest.raises(ValueError, match="structure 0: the periodic cell is 3.600 Å thick"):
        fitted.predict([small])
    assert fitted.predict([small.repeat(2)]).shape == (1,)  # a 7.2 Å supercell is fine


def test_energies_of_the_wrong_length_are_refused(cu):
    with pytest.raises(ValueError, match="energies has 2 values for 3 structures"):
        TAAFSPotential(**TINY).fit(cu[:3], [0.0, 1.0])


def test_not_a_list_of_atoms_is_a_type_error(fitted):
    with pytest.raises(TypeError, match="structure 1 of X is a str"):
        fitted.predict([bulk("Cu", cubic=True).repeat(2), "Cu"])


@pytest.mark.parametrize("param, value", [("basis", "nope"), ("optimizer", "lbfgs"),
                                          ("energy_weight", -1.0), ("dtype", "float16")])
def test_bad_parameters_are_refused_at_fit(cu, param, value):
    with pytest.raises(InvalidParameterError, match=param):
        TAAFSPotential(**{**TINY, param: value}).fit(cu[:2])


def test_missing_optional_dependency_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install taafs-sk\[atomistic\]"):
        require("surely_not_an_installed_package")


def test_top_level_import_stays_light():
    code = ("import sys, taafs_sk; assert 'ase' not in sys.modules and 'torchani' not in "
            "sys.modules; assert taafs_sk.TAAFSPotential.__name__ == 'TAAFSPotential'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ the training loop
@pytest.fixture(scope="module")
def validated(cu):
    """Ten structures, the last five held out (early stopping on their loss); on energies
    alone at a high rate, so that the validation loss goes up again after epoch 3."""
    return TAAFSPotential(basis="chebyshev1", **{**TINY, "early_stopping": True,
                                                 "validation_fraction": 0.5, "max_epochs": 6,
                                                 "lr": 1e-2, "force_weight": 0.0}).fit(cu[:10])


def test_the_net_is_the_library_training_net_with_validation_rmses(validated):
    assert isinstance(validated.net_, TrainingNet)
    assert validated.history_ is validated.net_.history
    row = validated.history_[-1]
    for key in ("train_loss", "valid_loss", "valid_energy_rmse", "valid_force_rmse", "dur"):
        assert np.isfinite(row[key]), key
    assert dict(validated.net_.callbacks_)["early_stopping"].monitor == "valid_loss"


def _energy_rmse(pot, frames) -> float:
    n_atoms = np.array([len(a) for a in frames])
    err = (pot.predict(frames) - [a.get_potential_energy() for a in frames]) / n_atoms
    return 1e3 * float(np.sqrt(np.mean(err**2)))


def test_the_held_out_block_is_the_last_structures_with_the_best_weights(validated, cu):
    best = dict(validated.net_.callbacks_)["early_stopping"].best_epoch_
    assert best < validated.n_iter_  # the best weights had to be restored
    recorded = validated.history_[best - 1]["valid_energy_rmse"]  # meV/atom
    # the restored weights are the best epoch's, scored on structures 5..9, not 0..4
    assert _energy_rmse(validated, cu[5:10]) == pytest.approx(recorded, rel=1e-3)
    assert _energy_rmse(validated, cu[:5]) != pytest.approx(recorded, rel=1e-2)


def test_early_stopping_with_three_structures_monitors_the_training_loss(cu):
    pot = TAAFSPotential(basis="tanh", **{**TINY, "early_stopping": True, "max_epochs": 30,
                                           "patience": 2, "lr": 1e-9}).fit(cu[:3])
    assert dict(pot.net_.callbacks_)["early_stopping"].monitor == "train_loss"
    assert "valid_loss" not in pot.history_[-1]
    assert pot.n_iter_ == 3  # the loss cannot improve at this lr: stopped after patience


def test_rlekf_in_the_shared_net_updates_on_energies_and_forces(cu):
    def fit(epochs, **kwargs):
        return TAAFSPotential((8,), basis="chebyshev1", n_basis=4, max_epochs=epochs,
                              batch_size=1, optimizer="rlekf", early_stopping=False,
                              random_state=0, **kwargs).fit(cu[:4])

    one, three = fit(1), fit(3, optimizer_kwargs={"force_groups": 2, "block_size": 64})
    assert is_measurement_optimizer(three.net_.optimizer_)
    assert three.net_.criterion_.force_groups == 2  # routed to the criterion
    assert sum(three.net_.optimizer_.sizes) == three.n_params_  # block_size to the filter
    losses = [row["train_loss"] for row in three.history_]
    assert losses[-1] < 0.5 * losses[0]
    assert np.abs(three.predict(cu[4:6]) - one.predict(cu[4:6])).max() > 1e-4
    with pytest.raises(ValueError, match="atoms_per_group"):
        fit(1, optimizer_kwargs={"atoms_per_group": 0})


def test_group_options_are_refused_for_a_gradient_optimizer(cu):
    with pytest.raises(ValueError, match=r"optimizer_kwargs of TAAFSPotential.*force_groups"):
        TAAFSPotential(**{**TINY, "optimizer_kwargs": {"force_groups": 2}}).fit(cu[:2])


def test_energy_only_training_lowers_the_loss(cu):
    pot = TAAFSPotential(basis="tanh", **{**TINY, "force_weight": 0.0}).fit(cu[:4])
    losses = [row["train_loss"] for row in pot.history_]
    assert losses[-1] < losses[0]


def test_divergence_raises_with_the_fix(cu):
    with pytest.raises(TrainingDivergedError, match="lower `lr`"):
        TAAFSPotential(basis="tanh", **{**TINY, "optimizer": "sgd", "lr": 1e10,
                                        "max_epochs": 5}).fit(cu[:2])


def test_the_descriptor_given_is_copied_not_changed(cu):
    descriptor = ANIDescriptor()
    pot = TAAFSPotential(basis="tanh", descriptor=descriptor, **{**TINY, "max_epochs": 1})
    pot.fit(cu[:2])
    assert pot.descriptor_ is not descriptor and pot.get_params()["descriptor"] is descriptor
    assert vars(descriptor) == vars(ANIDescriptor())  # no cached terms added to it


class CountingAdam(torch.optim.Adam):
    steps = 0

    def step(self, closure=None):
        CountingAdam.steps += 1
        return super().step(closure)


def test_register_training_step_is_a_deprecated_optimizer_registration(cu):
    with pytest.warns(FutureWarning, match="register_optimizer"):
        register_training_step("counting-adam", CountingAdam)
    try:
        TAAFSPotential(**{**TINY, "optimizer": "counting-adam", "max_epochs": 1}).fit(cu[:4])
    finally:
        OPTIMIZER_REGISTRY.unregister("counting-adam")
    assert CountingAdam.steps == 2  # two minibatches of two structures


def test_register_training_step_refuses_the_old_step_contract():
    class OldStep:
        def __init__(self, module, options): ...

        def step(self, batch, objective): ...

    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="register_optimizer"):
        register_training_step("old-step", OldStep)
    assert "old-step" not in OPTIMIZER_REGISTRY.names()
