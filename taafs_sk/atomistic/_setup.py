"""What :class:`~taafs_sk.atomistic.TAAFSPotential`'s ``fit`` builds before training, for a
fixed descriptor (:class:`~taafs_sk.atomistic.descriptors.AtomicDescriptor`) and a learned
one (:class:`~taafs_sk.atomistic.learned.LearnedDescriptor`) alike: the checked copy of the
descriptor, the untrained networks and the training dataset. Functions here return values;
the estimator sets its fitted attributes.
"""

from __future__ import annotations

import copy
import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn.activations import make_activation_factory
from ..taafs.architecture import optimizer_names
from ..taafs.checkpoint import TrainingCheckpoint
from ..taafs.training import early_stopping_monitor
from ._batches import LastBlockSplit, StructureDataset, training_dataset
from ._evaluation import composition
from ._frames import build_frames
from .descriptors import DESCRIPTORS, AtomicDescriptor, make_descriptor
from .learned import DescriptorActivation, LearnedDescriptor, check_learned_module
from .network import ElementNetworks

__all__ = ["DTYPES", "POTENTIAL_CONSTRAINTS", "SETSTATE_DEFAULTS", "build_networks",
           "cutoff_name", "fit_descriptor", "is_learned", "structure_dataset"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}

#: scikit-learn constraints of TAAFSPotential's parameters other than the network shape
#: (:data:`taafs_sk.taafs.architecture.ARCHITECTURE_CONSTRAINTS`).
POTENTIAL_CONSTRAINTS: dict = {
    "descriptor": [StrOptions(set(DESCRIPTORS)), AtomicDescriptor, LearnedDescriptor],
    "repulsion": [StrOptions({"zbl"}), None],
    "zbl_inner": [Interval(Real, 0, None, closed="left")],
    "zbl_outer": [Interval(Real, 0, None, closed="neither")],
    "min_distance": [Interval(Real, 0, None, closed="left")],
    "energy_weight": [Interval(Real, 0, None, closed="left")],
    "force_weight": [Interval(Real, 0, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [optimizer_names()],
    "optimizer_kwargs": [dict, None],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "dtype": [StrOptions(set(DTYPES))],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "checkpoint": [None, str, os.PathLike, TrainingCheckpoint],
}

#: Parameters added after the first pickles, with the value that reproduces them.
SETSTATE_DEFAULTS = {"min_distance": 0.1, "checkpoint": None, "repulsion": None,
                     "zbl_inner": 1.0, "zbl_outer": 2.0}


def is_learned(descriptor) -> bool:
    """Whether ``descriptor`` (a spec or a fitted ``descriptor_``) is a learned one."""
    return isinstance(descriptor, LearnedDescriptor)


def cutoff_name(descriptor) -> str | None:
    """How messages name the cutoff of ``descriptor`` (None for a fixed descriptor)."""
    return descriptor.cutoff_name if is_learned(descriptor) else None


def fit_descriptor(descriptor, min_distance: float):
    """A checked deep copy of the ``descriptor`` parameter (the one given is never changed),
    and its cutoff (Å), after refusing ``min_distance`` at or beyond it."""
    descriptor = copy.deepcopy(make_descriptor(descriptor))
    if is_learned(descriptor):
        descriptor.check()
    cutoff = float(descriptor.cutoff)
    if min_distance >= cutoff:
        raise ValueError(f"min_distance of TAAFSPotential must be smaller than the "
                         f"descriptor cutoff {cutoff} Å, got {min_distance!r}.")
    return descriptor, cutoff


def build_networks(potential, elements: list[str], hidden: tuple[int, ...],
                   dtype: torch.dtype) -> tuple[ElementNetworks, int]:
    """The untrained :class:`ElementNetworks` of ``potential`` (its ``descriptor_``, basis and
    sharing parameters) in ``dtype``, and the descriptor length; a learned descriptor's
    module is built first, with the same activation factory (so ``sharing='global'`` shares
    one TAAF between it and the fitting networks)."""
    descriptor = potential.descriptor_
    init = descriptor.taaf_init if is_learned(descriptor) else "tanh"
    factory = make_activation_factory(
        potential.basis, n_basis=potential.n_basis, sharing=potential.sharing,
        normalization=potential.normalization, basis_kwargs=potential.basis_kwargs, init=init)
    module = None
    if is_learned(descriptor):
        module = descriptor.build(len(elements), DescriptorActivation(factory), dtype)
        n_features = check_learned_module(module, descriptor)
    else:
        n_features = descriptor.n_features(len(elements))
    networks = ElementNetworks(n_features, elements, hidden, factory, descriptor=module)
    return networks.to(dtype=dtype), n_features


def structure_dataset(potential, atoms_list: list, energies: np.ndarray,
                      force_list: list) -> StructureDataset:
    """The training structures of ``potential`` (fitted ``elements_``, ``descriptor_``,
    ``reference_energies_``, ``module_``) with their residual energies and forces; sets
    ``module_``'s scaling (and a learned descriptor's statistics) from the training block."""
    p = potential
    frames = build_frames(atoms_list, p.elements_, p.descriptor_, p.dtype_, p.device,
                          min_distance=float(p.min_distance))
    residual = energies - composition(atoms_list, p.elements_) @ p.reference_energies_
    n = len(atoms_list)
    held_out = early_stopping_monitor(p.early_stopping, False, n,
                                      p.validation_fraction) == "valid_loss"
    n_train = n - LastBlockSplit(p.validation_fraction).n_valid(n) if held_out else n
    return training_dataset(frames, residual, force_list, p.module_, n_train)
