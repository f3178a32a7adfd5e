"""Bad-input cases of the PaiNN descriptor (:class:`taafs_sk.atomistic.PaiNN`)."""

from __future__ import annotations

import torch

from .common import NAN, Case, lazy, tiny_atoms


def painn_cases() -> list[Case]:
    spec = "taafs_sk.atomistic.PaiNN"

    def fit_with(**params):
        return lambda: lazy("taafs_sk.atomistic.TAAFSPotential")(
            max_epochs=1, descriptor=lazy(spec)(**params)).fit([tiny_atoms()])

    def build(*args):
        return lambda: lazy(spec)(n_atom_basis=4).build(*args)

    silu = lambda width, network: torch.nn.SiLU()  # noqa: E731
    return [
        Case("PaiNN", "zero-interactions", fit_with(n_interactions=0), "n_interactions", "0"),
        Case("PaiNN", "negative-channels", fit_with(n_atom_basis=-3), "n_atom_basis", "-3"),
        Case("PaiNN", "float-rbf", fit_with(n_rbf=2.5), "n_rbf", "2.5"),
        Case("PaiNN", "nan-cutoff", fit_with(cutoff=NAN), "cutoff", "nan"),
        Case("PaiNN", "zero-cutoff", fit_with(cutoff=0.0), "cutoff", "0.0"),
        Case("PaiNN.build", "zero-species", build(0, silu, torch.float64), "n_species", "0"),
        Case("PaiNN.build", "activation-not-callable", build(1, "silu", torch.float64),
             "activation", "str"),
        Case("PaiNN.build", "integer-dtype", build(1, silu, torch.int64), "dtype", "int64"),
    ]
