"""Bad-input cases of taafs_sk.atomistic's public methods (the potential's fit and predict
family, the calculator, the descriptor) and of the functions and classes of its public modules
(``descriptors``, ``network``, ``training``, ``md``)."""

from __future__ import annotations

import numpy as np
import torch

from .common import NAN, Case, atoms_with, lazy, potential_fitted, tiny_atoms

M = "taafs_sk.atomistic."


def _same_position():
    """Two H atoms at the same point."""
    return atoms_with([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def _water_like():
    """An H-O pair: O is an element the tiny potential never saw."""
    return atoms_with([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0]], "HO")


def _calculate(atoms):
    return lambda: potential_fitted().as_calculator().calculate(atoms)


def _networks():
    factory = lazy("taafs_sk.nn.make_activation_factory")("tanh")
    return lazy(M + "network.ElementNetworks")(4, ["H"], (3,), factory)


def potential_method_cases() -> list[Case]:
    pot = lazy(M + "TAAFSPotential")
    tiny = dict(hidden_layer_sizes=(4,), basis="tanh", max_epochs=1, early_stopping=False)
    return [
        *stress_and_repulsion_cases(),  # collected here: tests/battery/__init__.py unchanged
        *torchsim_cases(),
        Case("TAAFSPotential.fit", "same-position-names-structure",
             lambda: pot(**tiny).fit([tiny_atoms(), _same_position()]), "min_distance",
             "structure 1"),
        Case("TAAFSPotential.fit", "same-position-names-atoms",
             lambda: pot(**tiny).fit([tiny_atoms(), _same_position()]), "min_distance",
             "atom 0 and atom 1"),
        Case("TAAFSPotential.fit", "both-loss-weights-zero",
             lambda: pot(**tiny, energy_weight=0, force_weight=0).fit([tiny_atoms()]),
             "energy_weight", "force_weight"),
        Case("TAAFSPotential.fit", "negative-min_distance",
             lambda: pot(**tiny, min_distance=-1.0).fit([tiny_atoms()]), "min_distance",
             "-1"),
        Case("TAAFSPotential.fit", "forces-wrong-shape",
             lambda: pot(**tiny).fit([tiny_atoms()], forces=[np.zeros((3, 3))]), "forces",
             "structure 0"),
        Case("TAAFSPotential.predict", "unseen-element",
             lambda: potential_fitted().predict([_water_like()]), "structure 0", "'O'"),
        Case("TAAFSPotential.predict_forces", "same-position",
             lambda: potential_fitted().predict_forces([_same_position()]), "min_distance",
             "structure 0"),
        Case("TAAFSPotential.predict_energies_and_forces", "not-atoms",
             lambda: potential_fitted().predict_energies_and_forces(["H2"]), "X", "str"),
        Case("TAAFSPotential.predict_energies_and_forces", "empty",
             lambda: potential_fitted().predict_energies_and_forces([]), "X", "empty"),
        Case("TAAFSPotential.score", "X-str", lambda: potential_fitted().score("H2"), "X",
             "str"),
        Case("TAAFSPotential.score", "y-too-long",
             lambda: potential_fitted().score([tiny_atoms()], y=[1.0, 2.0]), "y", "2"),
        Case("TAAFSPotential.score", "nan-y",
             lambda: potential_fitted().score([tiny_atoms()], y=[NAN]), "y", "nan"),
        Case("TAAFSCalculator.calculate", "same-position", _calculate(_same_position()),
             "min_distance", "structure 0"),
        Case("TAAFSCalculator.calculate", "unseen-element", _calculate(_water_like()),
             "structure 0", "'O'"),
        Case("TAAFSCalculator.calculate", "atoms-str", _calculate("H2"), "atoms", "str"),
        Case("TAAFSCalculator", "potential-str",
             lambda: lazy(M + "calculator.TAAFSCalculator")("pot"), "potential", "pot"),
        Case("TAAFSPotential.predict_stress", "no-cell",
             lambda: potential_fitted().predict_stress([tiny_atoms()]), "structure 0",
             "pbc"),
        Case("TAAFSPotential.fit", "zbl-radii-out-of-order",
             lambda: pot(**tiny, repulsion="zbl", zbl_inner=2.0, zbl_outer=1.0).fit(
                 [tiny_atoms()]), "zbl_inner", "2.0"),
    ]


def stress_and_repulsion_cases() -> list[Case]:
    rep, st, tr = M + "repulsion.", M + "stress.", M + "training."
    return [
        Case("switch", "inner-above-outer", lambda: lazy(rep + "switch")([1.0], 2.0, 1.0),
             "inner", "2.0"),
        Case("zbl_pair", "negative-r",
             lambda: lazy(rep + "zbl_pair")([-1.0], [1], [1], 1.0, 2.0), "r", "-1"),
        Case("zbl_pair", "zero-z", lambda: lazy(rep + "zbl_pair")([1.0], [0], [1], 1.0, 2.0),
             "z_i", "0"),
        Case("check_repulsion", "unknown", lambda: lazy(rep + "check_repulsion")(
            "lj", 1.0, 2.0, 5.2), "repulsion", "lj"),
        Case("repulsion_terms", "nan-outer", lambda: lazy(rep + "repulsion_terms")(
            [tiny_atoms()], 1.0, NAN), "outer", "nan"),
        Case("subtract_repulsion", "potential-str", lambda: lazy(rep + "subtract_repulsion")(
            "pot", [tiny_atoms()], np.zeros(1), [np.zeros((2, 3))]), "potential", "str"),
        Case("cell_volumes", "no-cell", lambda: lazy(st + "cell_volumes")([tiny_atoms()]),
             "structure 0", "pbc"),
        Case("virial_to_stress", "wrong-shape", lambda: lazy(st + "virial_to_stress")(
            np.zeros((2, 3)), np.ones(2)), "virial", "(2, 3)"),
        Case("virial_to_stress", "zero-volume", lambda: lazy(st + "virial_to_stress")(
            np.zeros((1, 3, 3)), np.zeros(1)), "volumes", "0"),
        Case("TAAFSPotential.export_lammps", "path-int",
             lambda: potential_fitted().export_lammps(3), "path", "3"),
        Case("export_lammps", "potential-str", lambda: lazy(M + "lammps.export_lammps")(
            "pot", "x.pkl"), "potential", "str"),
        Case("TAAFSMLIAPUnified", "potential-str",
             lambda: lazy(M + "lammps.TAAFSMLIAPUnified")("pot"), "potential", "str"),
        Case("TAAFSMLIAPUnified.compute_forces", "data-str",
             lambda: lazy(M + "lammps.TAAFSMLIAPUnified")(potential_fitted()).compute_forces(
                 "data"), "data", "str"),
        Case("TAAFSMLIAPUnified.compute_gradients", "data-none",
             lambda: lazy(M + "lammps.TAAFSMLIAPUnified")(
                 potential_fitted()).compute_gradients(None), "data", "None"),
        Case("TAAFSMLIAPUnified.compute_descriptors", "data-none",
             lambda: lazy(M + "lammps.TAAFSMLIAPUnified")(
                 potential_fitted()).compute_descriptors(None), "data", "None"),
        Case("potential_checkpoint", "potential-str",
             lambda: lazy(tr + "potential_checkpoint")("pot", [], [], []), "potential",
             "str"),
    ]


def descriptor_cases() -> list[Case]:
    ani = lazy(M + "ANIDescriptor")
    one_pair = (torch.tensor([0, 0]), torch.tensor([0]), torch.tensor([1]))

    def compute(vectors, n_species=1, species=None):
        s, i, j = one_pair
        return lambda: ani().compute(s if species is None else species, i, j, vectors,
                                     n_species)

    unit = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    return [
        Case("ANIDescriptor.n_features", "str", lambda: ani().n_features("2"), "n_species",
             "'2'"),
        Case("ANIDescriptor.compute", "zero-species", compute(unit, n_species=0), "n_species",
             "0"),
        Case("ANIDescriptor.compute", "nan-vectors", compute(torch.full((1, 3), NAN,
                                                                        dtype=torch.float64)),
             "vectors", "nan"),
        Case("ANIDescriptor.compute", "species-out-of-range",
             compute(unit, species=torch.tensor([0, 5])), "species", "5"),
        Case("make_descriptor", "unknown", lambda: lazy(M + "descriptors.make_descriptor")(
            "nope"), "descriptor", "nope"),
        Case("make_descriptor", "int", lambda: lazy(M + "descriptors.make_descriptor")(3),
             "descriptor", "3"),
    ]


def network_and_training_cases() -> list[Case]:
    net, tr = M + "network.", M + "training."
    factory = lambda: lazy("taafs_sk.nn.make_activation_factory")("tanh")  # noqa: E731
    pred = (torch.zeros(2), torch.zeros(3, 3))
    true = (torch.zeros(3), torch.zeros(3, 3), torch.tensor([1, 2, 1]))
    return [
        Case("ElementNetworks", "zero-features",
             lambda: lazy(net + "ElementNetworks")(0, ["H"], (4,), factory()), "n_features",
             "0"),
        Case("ElementNetworks", "no-elements",
             lambda: lazy(net + "ElementNetworks")(4, [], (4,), factory()), "elements", "[]"),
        Case("ElementNetworks.atomic_energies", "wrong-width",
             lambda: _networks().atomic_energies(torch.zeros(2, 5), torch.tensor([0, 0])),
             "G", "5"),
        Case("ElementNetworks.atomic_energies", "species-out-of-range",
             lambda: _networks().atomic_energies(torch.zeros(2, 4), torch.tensor([0, 3])),
             "species", "3"),
        Case("ElementNetworks.set_scaling", "nan-G",
             lambda: _networks().set_scaling(torch.full((2, 4), NAN), torch.tensor([0, 0]),
                                             1.0), "G", "nan"),
        Case("energies_and_forces", "not-networks",
             lambda: lazy(net + "energies_and_forces")("model", None), "model", "str"),
        Case("EnergyForceModule", "networks-str",
             lambda: lazy(tr + "EnergyForceModule")("net"), "networks", "net"),
        Case("EnergyForceModule.forward", "frames-str",
             lambda: lazy(tr + "EnergyForceModule")(_networks())("frames"), "frames", "str"),
        Case("EnergyForceLoss", "zero-atoms_per_group",
             lambda: lazy(tr + "EnergyForceLoss")(atoms_per_group=0), "atoms_per_group", "0"),
        Case("EnergyForceLoss", "negative-energy_weight",
             lambda: lazy(tr + "EnergyForceLoss")(energy_weight=-1.0), "energy_weight", "-1"),
        Case("EnergyForceLoss.forward", "energy-count-mismatch",
             lambda: lazy(tr + "EnergyForceLoss")()(pred, true), "y_true", "3"),
        Case("check_loss_weights", "both-zero", lambda: lazy(tr + "check_loss_weights")(0, 0),
             "energy_weight", "force_weight"),
        Case("potential_net_params", "unknown-kwarg",
             lambda: lazy(tr + "potential_net_params")("adam", {"nope": 1}),
             "optimizer_kwargs", "nope"),
        Case("potential_net_params", "kwargs-str",
             lambda: lazy(tr + "potential_net_params")("adam", "lr"), "optimizer_kwargs",
             "lr"),
        Case("potential_net", "not-a-potential",
             lambda: lazy(tr + "potential_net")("pot", _networks(), 1, 0, {}, 1), "potential",
             "str"),
    ]


def md_cases() -> list[Case]:
    run_nve, drift = lazy(M + "md.run_nve"), lazy(M + "md.energy_drift")

    def nve(atoms=None, **kwargs):
        return lambda: run_nve(tiny_atoms() if atoms is None else atoms,
                               potential_fitted().as_calculator(), **kwargs)

    return [
        Case("run_nve", "negative-steps", nve(n_steps=-1), "n_steps", "-1"),
        Case("run_nve", "zero-log_interval", nve(n_steps=2, log_interval=0), "log_interval",
             "0"),
        Case("run_nve", "atoms-str", nve(atoms="H2", n_steps=1), "atoms", "str"),
        Case("run_nve", "nan-timestep", nve(n_steps=2, timestep_fs=NAN), "timestep_fs", "nan"),
        Case("run_nve", "negative-temperature", nve(n_steps=2, temperature_K=-5.0),
             "temperature_K", "-5"),
        Case("energy_drift", "empty-trace", lambda: drift({}), "trace", "time_ps"),
        Case("energy_drift", "one-point",
             lambda: drift({"time_ps": np.zeros(1), "total": np.ones(1), "n_atoms": 2}),
             "trace", "1"),
    ]


def torchsim_cases() -> list[Case]:
    """as_torchsim_model checks its arguments before it imports torch-sim."""
    ts_model = lazy(M + "torchsim.as_torchsim_model")
    return [
        Case("as_torchsim_model", "potential-str", lambda: ts_model("pot"), "potential",
             "pot"),
        Case("as_torchsim_model", "compute_stress-str",
             lambda: ts_model(potential_fitted(), compute_stress="yes"), "compute_stress",
             "yes"),
    ]
