"""Bad-input cases of taafs_sk.atomistic: the potential, its descriptor and calculator."""

from __future__ import annotations

import torch

from .common import (
    NAN,
    UNFITTED,
    Case,
    lazy,
    tiny_atoms,
)


def atomistic_cases() -> list[Case]:
    m = "taafs_sk.atomistic."
    pot = m + "TAAFSPotential"

    def fit_with(**params):
        return lambda: lazy(pot)(max_epochs=1, **params).fit([tiny_atoms()])

    def ani(**params):
        return fit_with(descriptor=lazy(m + "ANIDescriptor")(**params))

    def nan_positions():
        atoms = tiny_atoms().copy()
        atoms.positions[1, 0] = NAN
        return atoms

    step = "taafs_sk.atomistic.register_training_step"
    d = "taafs_sk.datasets.load_pwmlff"
    return [
        Case("TAAFSPotential.predict", "unfitted", lambda: lazy(pot)().predict([tiny_atoms()]),
             "TAAFSPotential", "not fitted", UNFITTED),
        Case("TAAFSPotential", "zero-width", fit_with(hidden_layer_sizes=(0,)),
             "hidden_layer_sizes", "(0,)"),
        Case("TAAFSPotential", "nan-lr", fit_with(lr=NAN), "lr", "nan"),
        Case("TAAFSPotential", "unknown-optimizer", fit_with(optimizer="nope"), "optimizer",
             "nope"),
        Case("TAAFSPotential", "unknown-device", fit_with(device="gpu0"), "device", "gpu0"),
        Case("TAAFSPotential", "empty-X", lambda: lazy(pot)(max_epochs=1).fit([]), "X",
             "empty"),
        Case("TAAFSPotential", "X-not-atoms", lambda: lazy(pot)(max_epochs=1).fit([[0.0]]),
             "X", "list"),
        Case("TAAFSPotential", "nan-positions",
             lambda: lazy(pot)(max_epochs=1).fit([nan_positions()]), "structure 0", "NaN"),
        Case("TAAFSPotential", "energies-too-many",
             lambda: lazy(pot)(max_epochs=1).fit([tiny_atoms()], energies=[1.0, 2.0]),
             "energies", "2 values"),
        Case("ANIDescriptor", "nan-radial_cutoff", ani(radial_cutoff=NAN), "radial_cutoff",
             "nan"),
        Case("ANIDescriptor", "angular-above-radial", ani(angular_cutoff=9.0),
             "angular_cutoff", "9.0"),
        Case("ANIDescriptor", "zero-shifts", ani(radial_num_shifts=0), "radial_num_shifts",
             "0"),
        Case("ANIDescriptor", "float-sections", ani(angular_num_sections=2.5),
             "angular_num_sections", "2.5"),
        Case("ANIDescriptor.n_features", "zero-species",
             lambda: lazy(m + "ANIDescriptor")().n_features(0), "n_species", "0"),
        Case("register_training_step", "name-int",
             lambda: lazy(step)(3, torch.optim.Adam), "name", "3"),
        Case("register_training_step", "name-empty",
             lambda: lazy(step)("", torch.optim.Adam), "name", "''"),
        Case("register_training_step", "factory-not-optimizer",
             lambda: lazy(step)("battery-step", 3), "factory", "3"),
        Case("register_training_step", "old-step-contract",
             lambda: lazy(step)("battery-step", print), "factory", "register_optimizer"),
        Case("register_training_step", "already-registered",
             lambda: lazy(step)("adam", torch.optim.SGD), "adam", "overwrite"),
        Case("load_pwmlff", "unknown-system", lambda: lazy(d)("si"), "system", "si"),
        Case("load_pwmlff", "system-list", lambda: lazy(d)(["cu"]), "system", "['cu']"),
        Case("load_pwmlff", "unknown-split", lambda: lazy(d)("cu", split="valid"), "split",
             "valid"),
        Case("load_pwmlff", "data_home-int", lambda: lazy(d)("cu", data_home=3), "data_home",
             "3"),
    ]
