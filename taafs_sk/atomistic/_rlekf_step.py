"""The RLEKF training step of :class:`~taafs_sk.atomistic.TAAFSPotential` (``optimizer='rlekf'``).

Energies and forces are separate measurements of the filter (:class:`taafs_sk.nn.rlekf.RLEKF`),
as in Hu et al. (AAAI 2023, arXiv:2212.06989): per minibatch of structures, one update from
the per-atom energy errors of its structures, then ``force_groups`` updates, each from the
force components of a random group of atoms (``atoms_per_group`` per structure of the batch,
drawn together from the whole batch), each with a fresh forward pass because the weights have
just changed. Each group of errors is folded into one measurement (sign trick) by
:meth:`~taafs_sk.nn.rlekf.RLEKF.measure`; the loss weights enter as the square root of the
weight on a measurement (a weight is an inverse noise variance).

Where this differs from the paper's reference implementation: the force errors are not
divided by the number of atoms (a force is already a per-atom quantity; the relative weight is
``force_weight``); the energy error is per atom, as there.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..nn.rlekf import RLEKF

__all__ = ["RLEKFStep"]

_STEP_OPTIONS = {"atoms_per_group": 6, "force_groups": 4}


class RLEKFStep:
    """Kalman-filter training step (registered as ``'rlekf'`` in ``TRAINING_STEPS``).

    Parameters
    ----------
    module : torch.nn.Module
        The element networks, trained in place.
    options : dict
        ``random_state`` (int, the seed of the atom groups), ``weight_decay`` (must be 0),
        and ``optimizer_kwargs``: :class:`~taafs_sk.nn.rlekf.RLEKF` options (``block_size``,
        ``lambda1``, ``nu``, ``p0``, ``noise``, ``max_memory_mb``, ``lr``) plus
        ``atoms_per_group`` (default 6) and ``force_groups`` (default 4). The potential's
        ``lr`` is a gradient optimizer's and is not used.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.atomistic._rlekf_step import RLEKFStep
    >>> step = RLEKFStep(torch.nn.Linear(3, 1), {"random_state": 0,
    ...                  "optimizer_kwargs": {"block_size": 2, "force_groups": 2}})
    >>> step.optimizer.sizes, step.force_groups
    ([2, 2], 2)
    """

    def __init__(self, module: torch.nn.Module, options: dict) -> None:
        kwargs = dict(options.get("optimizer_kwargs") or {})
        for name, default in _STEP_OPTIONS.items():
            value = kwargs.pop(name, default)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(
                    f"{name} of the 'rlekf' training step must be a positive int, got {value!r}."
                )
            setattr(self, name, int(value))
        self.module = module
        self.optimizer = RLEKF(module.parameters(),
                               weight_decay=options.get("weight_decay", 0.0), **kwargs)
        self.rng = np.random.RandomState(options.get("random_state"))

    def step(self, batch, objective) -> float:
        """One energy update and ``force_groups`` force updates; returns the loss before them."""
        err = objective.errors(self.module, batch, create_graph=True)
        loss = float(objective.loss(err).detach())
        if objective.energy_weight > 0:
            zero = torch.zeros_like(err.energy)
            self.optimizer.measure(err.energy, zero, scale=math.sqrt(objective.energy_weight))
        n_atoms = err.forces.shape[0]
        if objective.force_weight > 0 and n_atoms:
            size = min(n_atoms, self.atoms_per_group * int(batch.n_structures))
            scale = math.sqrt(objective.force_weight)
            for _ in range(self.force_groups):
                group = torch.from_numpy(self.rng.choice(n_atoms, size, replace=False))
                forces = objective.errors(self.module, batch, create_graph=True).forces
                chosen = forces[group.to(forces.device)]  # (size, 3) force errors
                self.optimizer.measure(chosen, torch.zeros_like(chosen), scale=scale)
        return loss
