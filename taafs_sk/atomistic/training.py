r"""What :class:`~taafs_sk.atomistic.TAAFSPotential` brings to the library's one training loop.

The potential trains in :func:`taafs_sk.taafs.training.build_net`'s skorch net (a
:class:`~taafs_sk.taafs.net.TrainingNet`: early stopping with the best weights restored, the
divergence guard, history, progress output, the optimiser by name), like every torch model of
the library. This module adds the pieces that are specific to energies and forces:

- :class:`EnergyForceModule`, the net's module: a minibatch of structures (a
  :class:`~taafs_sk.atomistic._frames.Frames`) to ``(energies, forces)``, the forces
  differentiable in the weights while training;
- :class:`EnergyForceLoss`, the net's criterion,

  .. math::

      L = w_E \, \overline{(\Delta E / n_\mathrm{atoms})^2} + w_F \, \overline{\Delta F^2}

  (eV²/atom² and eV²/Å²), whose ``measurements`` say how a measurement optimiser such as
  :class:`~taafs_sk.nn.rlekf.RLEKF` (``optimizer='rlekf'``) updates on energies and forces;
- :class:`ValidationRMSE`, a callback adding ``valid_energy_rmse`` (meV/atom) and
  ``valid_force_rmse`` (eV/Å) to the history.

The minibatches come from :mod:`taafs_sk.atomistic._batches`. Another optimiser is a
``torch.optim.Optimizer`` subclass registered with
:func:`taafs_sk.nn.optimizers.register_optimizer` (a class with ``measure(prediction, target,
scale=None, weight=None)`` is trained by the measurements of :class:`EnergyForceLoss`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

from .._validation import check_count, check_real
from .._validation._text import short
from ..nn.optimizers import is_measurement_optimizer, optimizer_class, register_optimizer
from ..taafs.checkpoint import as_checkpoint, data_fingerprint
from ..taafs.training import build_net, optimizer_params
from ._batches import LastBlockSplit, StructureBatchIterator
from ._frames import Frames
from .learned import LearnedDescriptor
from .network import ElementNetworks, energies_and_forces

__all__ = ["GROUP_OPTIONS", "EnergyForceLoss", "EnergyForceModule", "ValidationRMSE",
           "check_loss_weights", "potential_checkpoint", "potential_net",
           "potential_net_params",
           "register_training_step"]

#: Options of the force measurements (``optimizer_kwargs`` of a measurement optimiser) and
#: their defaults: atoms per structure of the batch in a group, groups per minibatch.
GROUP_OPTIONS = {"atoms_per_group": 6, "force_groups": 4}


class EnergyForceModule(nn.Module):
    """The skorch net's module: structure energies ``(B,)`` and forces ``(N, 3)`` of a batch.

    Parameters
    ----------
    networks : ElementNetworks
        The atomic networks (trained in place).
    forces : bool, default=True
        Compute forces while training (the loss has no force term when False). They are
        always computed in evaluation mode, for the validation RMSEs.

    Examples
    --------
    >>> from taafs_sk.nn import make_activation_factory
    >>> from taafs_sk.atomistic.network import ElementNetworks
    >>> from taafs_sk.atomistic.training import EnergyForceModule
    >>> nets = ElementNetworks(4, ["Cu"], (3,), make_activation_factory("tanh"))
    >>> EnergyForceModule(nets).networks is nets
    True
    """

    def __init__(self, networks: nn.Module, forces: bool = True) -> None:
        super().__init__()
        if not isinstance(networks, ElementNetworks):
            raise TypeError(f"networks of EnergyForceModule must be an ElementNetworks, got "
                            f"{short(networks)} ({type(networks).__name__}).")
        self.networks = networks
        self.forces = forces

    def forward(self, frames) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(frames, Frames):
            raise TypeError(f"frames of EnergyForceModule.forward must be a Frames (a batch "
                            f"of structures), got {short(frames)} ({type(frames).__name__}).")
        with_forces = bool(self.forces) or not self.training
        energy, forces = energies_and_forces(self.networks, frames, create_graph=self.training,
                                             forces=with_forces)
        if forces is None:
            forces = energy.new_zeros(0, 3)
        return energy, forces


class EnergyForceLoss(nn.Module):
    """The skorch net's criterion: weighted mean squared per-atom energy and force errors.

    ``forward((energy, forces), (energy_true, forces_true, n_atoms))`` is the loss of the
    module docstring. For a measurement optimiser, :meth:`measurements` gives the updates of
    a minibatch, as in Hu et al. (AAAI 2023, arXiv:2212.06989): one from the per-atom
    energies of its structures (scale :math:`\\sqrt{w_E}`), then ``force_groups`` from the
    force components of a random group of ``atoms_per_group`` atoms per structure of the batch
    (drawn together from the whole batch; scale :math:`\\sqrt{w_F}`), each predicted again
    after the previous update. A loss weight enters as the square root of a measurement's
    scale (a weight is an inverse noise variance). Unlike the paper's reference code the force
    errors are not divided by the number of atoms (a force is a per-atom quantity already).

    Parameters
    ----------
    energy_weight, force_weight : float, default=1.0, 1.0
        :math:`w_E` and :math:`w_F`.
    atoms_per_group : int, default=6
        Atoms per structure of the batch in a force measurement.
    force_groups : int, default=4
        Force measurements per minibatch.
    random_state : int, default=None
        Seed of the atom groups.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.atomistic.training import EnergyForceLoss
    >>> loss = EnergyForceLoss(force_weight=0.5)
    >>> pred = (torch.tensor([1.0, 2.0]), torch.ones(3, 3))
    >>> true = (torch.tensor([0.0, 2.0]), torch.zeros(3, 3), torch.tensor([1, 2]))
    >>> float(loss(pred, true))  # 1 * mean([1, 0]) + 0.5 * mean(1)
    1.0
    """

    def __init__(self, energy_weight: float = 1.0, force_weight: float = 1.0,
                 atoms_per_group: int = 6, force_groups: int = 4, random_state=None) -> None:
        super().__init__()
        self.energy_weight = check_real("energy_weight of EnergyForceLoss", energy_weight,
                                        minimum=0.0)
        self.force_weight = check_real("force_weight of EnergyForceLoss", force_weight,
                                       minimum=0.0)
        self.atoms_per_group = check_count("atoms_per_group", atoms_per_group)
        self.force_groups = check_count("force_groups", force_groups)
        self.rng = np.random.RandomState(random_state)

    def forward(self, y_pred, y_true) -> torch.Tensor:
        energy, forces = y_pred
        energy_true, forces_true, n_atoms = y_true
        _check_shapes(energy, forces, energy_true, forces_true, n_atoms)
        per_atom = (energy - energy_true) / n_atoms.to(energy.dtype)  # (B,) eV/atom
        loss = self.energy_weight * per_atom.pow(2).mean()
        if self.force_weight > 0 and forces.numel():
            loss = loss + self.force_weight * (forces - forces_true).pow(2).mean()
        return loss

    def measurements(self, y_pred, y_true, sample_weight=None, forward=None):
        """``measure`` arguments of a minibatch's updates (see the class docstring)."""
        energy, _ = y_pred
        energy_true, forces_true, n_atoms = y_true
        if self.energy_weight > 0:
            n = n_atoms.to(energy.dtype)
            yield {"prediction": energy / n, "target": energy_true / n,
                   "scale": math.sqrt(self.energy_weight)}
        n_total = forces_true.shape[0]
        if self.force_weight <= 0 or not n_total:
            return
        size = min(n_total, self.atoms_per_group * len(energy_true))
        for _ in range(self.force_groups):
            group = torch.from_numpy(self.rng.choice(n_total, size, replace=False))
            forces = forward()[1]  # the weights changed with the previous update
            group = group.to(forces.device)
            yield {"prediction": forces[group], "target": forces_true[group],
                   "scale": math.sqrt(self.force_weight)}


def _check_shapes(energy, forces, energy_true, forces_true, n_atoms) -> None:
    """Refuse targets ``y_true`` whose shapes do not match the predictions (shapes only)."""
    if energy_true.shape != energy.shape or n_atoms.shape != energy.shape:
        raise ValueError(f"y_true of EnergyForceLoss has {tuple(energy_true.shape)} energies "
                         f"and {tuple(n_atoms.shape)} atom counts for {tuple(energy.shape)} "
                         "predicted energies.")
    if forces.numel() and forces_true.shape != forces.shape:
        raise ValueError(f"y_true of EnergyForceLoss has forces of shape "
                         f"{tuple(forces_true.shape)} for predicted forces of shape "
                         f"{tuple(forces.shape)}.")


class ValidationRMSE(Callback):
    """Record ``valid_energy_rmse`` (meV/atom) and ``valid_force_rmse`` (eV/Å) per epoch.

    Summed over the validation batches as they come (so the history row has them before
    ``on_epoch_end``, where early stopping may end the fit); nothing without a validation set.
    """

    def on_epoch_begin(self, net, **kwargs) -> None:
        self.sums_ = np.zeros(4)  # energy SE, structures, force SE, force components

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs) -> None:
        if training or y_pred is None:
            return
        energy, forces = y_pred
        energy_true, forces_true, n_atoms = batch[1]
        per_atom = (energy.detach() - energy_true) / n_atoms.to(energy.dtype)
        self.sums_ += [float(per_atom.pow(2).sum()), per_atom.numel(),
                       float((forces.detach() - forces_true).pow(2).sum()), forces.numel()]
        se_e, n_e, se_f, n_f = self.sums_
        net.history.record("valid_energy_rmse", 1e3 * math.sqrt(se_e / max(n_e, 1)))
        net.history.record("valid_force_rmse", math.sqrt(se_f / max(n_f, 1)))


def check_loss_weights(energy_weight: float, force_weight: float) -> None:
    """Refuse a loss whose two weights are 0 (nothing to fit), naming both.

    Examples
    --------
    >>> from taafs_sk.atomistic.training import check_loss_weights
    >>> check_loss_weights(0.0, 1.0)
    >>> try:
    ...     check_loss_weights(0, 0)
    ... except ValueError as exc:
    ...     print(str(exc).split(":")[0])
    energy_weight and force_weight of TAAFSPotential are both 0
    """
    if energy_weight == 0 and force_weight == 0:
        raise ValueError("energy_weight and force_weight of TAAFSPotential are both 0: the "
                         "loss would be 0 and there is nothing to fit; make one of them "
                         "positive.")


def potential_net_params(optimizer, optimizer_kwargs: dict | None) -> dict:
    """``optimizer_kwargs`` of a potential as skorch arguments, names checked: a measurement
    optimiser's force-group options (:data:`GROUP_OPTIONS`) go to the criterion, the rest to
    the optimiser.

    Examples
    --------
    >>> from taafs_sk.atomistic.training import potential_net_params
    >>> potential_net_params("rlekf", {"force_groups": 2, "block_size": 64})
    {'criterion__force_groups': 2, 'optimizer__block_size': 64}
    """
    if optimizer_kwargs is not None and not isinstance(optimizer_kwargs, dict):
        raise TypeError(f"optimizer_kwargs of TAAFSPotential must be a dict or None, got "
                        f"{short(optimizer_kwargs)} ({type(optimizer_kwargs).__name__}).")
    kwargs = dict(optimizer_kwargs or {})
    params = {}
    if is_measurement_optimizer(optimizer_class(optimizer)):
        params = {f"criterion__{k}": kwargs.pop(k) for k in GROUP_OPTIONS if k in kwargs}
    return {**params, **optimizer_params(optimizer, kwargs, "TAAFSPotential")}


def potential_net(potential, networks: nn.Module, n_structures: int, seed: int,
                  net_params: dict, valid_batch_size: int):
    """The library's skorch net (not yet initialised) that trains ``networks`` with the
    training parameters of ``potential`` (a :class:`~taafs_sk.atomistic.TAAFSPotential`):
    :class:`EnergyForceModule`, :class:`EnergyForceLoss`, :class:`ValidationRMSE`, the
    structure batches and the last-block split; ``net_params`` from
    :func:`potential_net_params`."""
    from .potential import TAAFSPotential  # it imports this module

    if not isinstance(potential, TAAFSPotential):
        raise TypeError(f"potential of potential_net must be a TAAFSPotential, got "
                        f"{short(potential)} ({type(potential).__name__}).")
    p = potential
    return build_net(
        EnergyForceModule(networks, forces=p.force_weight > 0),
        n_samples=n_structures, max_epochs=p.max_epochs, batch_size=p.batch_size, lr=p.lr,
        optimizer=p.optimizer, weight_decay=p.weight_decay, early_stopping=p.early_stopping,
        validation_fraction=p.validation_fraction, patience=p.patience, random_state=seed,
        verbose=p.verbose, callbacks=[("valid_rmse", ValidationRMSE())],
        criterion=EnergyForceLoss, device=p.device, divergence_hint="lower `lr`",
        split=LastBlockSplit(p.validation_fraction),
        iterator_train=StructureBatchIterator, iterator_valid=StructureBatchIterator,
        iterator_valid__batch_size=valid_batch_size,
        criterion__energy_weight=p.energy_weight, criterion__force_weight=p.force_weight,
        criterion__random_state=seed, **descriptor_lr(networks, p), **net_params,
    )


def descriptor_lr(networks, potential) -> dict:
    """The optimiser parameter group of a learned descriptor whose module has an
    ``lr_scale`` other than 1 (its parameters train at ``lr * lr_scale``); nothing for a
    fixed descriptor or a measurement optimiser (no learning rate)."""
    scale = float(getattr(networks.descriptor, "lr_scale", 1.0))
    if scale == 1.0 or is_measurement_optimizer(optimizer_class(potential.optimizer)):
        return {}
    return {"optimizer__param_groups": [("networks.descriptor.*",
                                         {"lr": potential.lr * scale})]}


def potential_checkpoint(potential, atoms_list: list, energies, force_list):
    """The ``checkpoint`` of ``potential`` (a :class:`~taafs_sk.atomistic.TAAFSPotential`)
    bound to this fit's structures, targets and parameters (None without one)."""
    from .potential import TAAFSPotential  # it imports this module

    if not isinstance(potential, TAAFSPotential):
        raise TypeError(f"potential of potential_checkpoint must be a TAAFSPotential, got "
                        f"{short(potential)} ({type(potential).__name__}).")
    if potential.checkpoint is None:
        return None
    data = [[a.numbers, a.positions, a.cell.array, a.pbc] for a in atoms_list]
    params = {k: repr(v) if isinstance(v, LearnedDescriptor) else v  # by its settings
              for k, v in potential.get_params(deep=False).items()
              if k not in ("checkpoint", "verbose")}
    return as_checkpoint(potential.checkpoint,
                         data_fingerprint(params, data, energies, list(force_list)))


def register_training_step(name: str, factory, overwrite: bool = False) -> type:
    """Deprecated: register a torch optimiser class for ``TAAFSPotential(optimizer=name)``.

    .. deprecated:: 0.2
        Use :func:`taafs_sk.nn.optimizers.register_optimizer`, which this calls: the potential
        trains in the library's skorch loop, so an optimiser is a ``torch.optim.Optimizer``
        subclass (one with ``measure(prediction, target, scale=None, weight=None)`` is trained
        by energy and force measurements, as ``'rlekf'``). The old training steps,
        ``factory(module, options)`` with ``step(batch, objective)``, are refused.

    Parameters
    ----------
    name : str
        The optimiser name.
    factory : type
        A ``torch.optim.Optimizer`` subclass.
    overwrite : bool, default=False
        Replace a name that is taken.

    Returns
    -------
    cls : type
        The registered class.

    Examples
    --------
    >>> import warnings, torch
    >>> from taafs_sk.atomistic import register_training_step
    >>> from taafs_sk.nn.optimizers import OPTIMIZER_REGISTRY
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     register_training_step("my-nadam", torch.optim.NAdam).__name__
    'NAdam'
    >>> OPTIMIZER_REGISTRY.unregister("my-nadam")
    """
    warnings.warn("register_training_step is deprecated and will be removed; use "
                  "taafs_sk.nn.optimizers.register_optimizer(name, cls) with a "
                  "torch.optim.Optimizer subclass.", FutureWarning, stacklevel=2)
    if not isinstance(name, str):
        raise TypeError(f"name of register_training_step must be a str, got {name!r} "
                        f"({type(name).__name__}).")
    if not name:
        raise ValueError(f"name of register_training_step must be a non-empty str, got "
                         f"{name!r}.")
    if not (isinstance(factory, type) and issubclass(factory, torch.optim.Optimizer)):
        raise TypeError(
            f"factory of register_training_step({name!r}, ...) must be a torch.optim.Optimizer "
            f"subclass, got {factory!r}: training steps (factory(module, options) with "
            "step(batch, objective)) are no longer supported, since TAAFSPotential trains in "
            "the library's skorch loop. Register an optimiser class with "
            "taafs_sk.nn.optimizers.register_optimizer(name, cls); a class with "
            "measure(prediction, target, scale=None, weight=None) is trained by energy and "
            "force measurements, like 'rlekf'."
        )
    return register_optimizer(name, factory, overwrite=overwrite)
