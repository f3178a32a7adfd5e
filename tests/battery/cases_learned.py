"""Bad-input cases of the learned descriptors: :class:`taafs_sk.atomistic.DeepPotSE`, its
switch :func:`~taafs_sk.atomistic.deeppot.smooth_switch`, and the contract of
:mod:`taafs_sk.atomistic.learned` (``LearnedDescriptor``'s parameters, ``DescriptorActivation``)."""

from __future__ import annotations

import torch

from .common import NAN, Case, lazy, tiny_atoms


def learned_cases() -> list[Case]:
    spec = "taafs_sk.atomistic.DeepPotSE"

    def fit_with(**params):
        return lambda: lazy("taafs_sk.atomistic.TAAFSPotential")(
            max_epochs=1, descriptor=lazy(spec)(**params)).fit([tiny_atoms()])

    def build(*args):
        return lambda: lazy(spec)(neuron=(2, 4), axis_neuron=2).build(*args)

    def switch(*args):
        return lambda: lazy("taafs_sk.atomistic.deeppot.smooth_switch")(*args)

    tanh = lambda width, network: torch.nn.Tanh()  # noqa: E731
    r = torch.tensor([1.0, 2.0])
    return [
        Case("DeepPotSE", "zero-rcut", fit_with(rcut=0), "rcut", "0"),
        Case("DeepPotSE", "rcut-smth-past-rcut", fit_with(rcut_smth=7.0), "rcut_smth", "7.0"),
        Case("DeepPotSE", "empty-neuron", fit_with(neuron=()), "neuron", "()"),
        Case("DeepPotSE", "axis-neuron-too-wide", fit_with(axis_neuron=200), "axis_neuron",
             "200"),
        Case("DeepPotSE", "zero-sel", fit_with(sel=0), "sel", "0"),
        Case("DeepPotSE", "nan-lr-scale", fit_with(lr_scale=NAN), "lr_scale", "nan"),
        Case("DeepPotSE.build", "zero-species", build(0, tanh, torch.float64), "n_species", "0"),
        Case("DeepPotSE.build", "activation-not-callable", build(1, "tanh", torch.float64),
             "activation", "str"),
        Case("DeepPotSE.build", "integer-dtype", build(1, tanh, torch.int64), "dtype", "int64"),
        Case("smooth_switch", "r-a-list", switch([1.0, 2.0], 0.5, 6.0), "r", "list"),
        Case("smooth_switch", "integer-r", switch(torch.tensor([1, 2]), 0.5, 6.0), "r",
             "int64"),
        Case("smooth_switch", "nan-rcut", switch(r, 0.5, NAN), "rcut", "nan"),
        Case("smooth_switch", "rcut-smth-equal-rcut", switch(r, 5.0, 5.0), "rcut_smth", "5.0"),
        Case("DescriptorActivation", "factory-a-name",
             lambda: lazy("taafs_sk.atomistic.learned.DescriptorActivation")("tanh"),
             "factory", "'tanh'"),
        Case("LearnedDescriptor.get_params", "deep-a-string",
             lambda: lazy(spec)().get_params(deep="yes"), "deep", "yes"),
        Case("LearnedDescriptor.set_params", "unknown-name",
             lambda: lazy(spec)().set_params(rcutt=3.0), "parameter", "rcutt"),
    ]
