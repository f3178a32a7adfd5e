"""Training of the atomic networks on energies and forces: the loss, the pluggable training
step, and the epoch loop with early stopping.

Why not the library's skorch loop (:mod:`taafs_sk.taafs.training`): a sample here is a whole
structure of variable size whose prediction needs the structure's neighbour pairs and pair
Jacobians (ragged tensors skorch cannot batch), and the loss needs forces, i.e. a gradient of
the output inside the forward pass. So this module has its own small loop.

How to plug in another optimiser (e.g. an extended Kalman filter that needs the per-structure
energy errors and the per-atom force errors, not only the loss): write a class with
``__init__(module, options)`` and ``step(batch, objective) -> float`` and register it with
:func:`register_training_step`; ``TAAFSPotential(optimizer=name)`` then uses it. In ``step``,
``objective.errors(module, batch, create_graph=True)`` returns a :class:`BatchErrors` whose
``energy`` (per-atom energy error of each structure, shape ``(B,)``) and ``forces`` (force
error, ``(N, 3)``) are differentiable in the weights; ``objective.loss(errors)`` is the weighted
loss. ``options`` is a dict with ``lr``, ``weight_decay``, ``n_train`` (training structures)
and ``random_state`` (an int seed).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..exceptions import TrainingDivergedError
from ..nn._denormals import flush_denormals
from ._rlekf_step import RLEKFStep
from .network import energies_and_forces

__all__ = ["BatchErrors", "GradientStep", "Objective", "TRAINING_STEPS",
           "register_training_step", "train"]


@dataclass
class BatchErrors:
    """Prediction minus target on a minibatch (weights-differentiable when asked)."""

    energy: torch.Tensor  # (B,) per-atom energy error of each structure (eV/atom)
    forces: torch.Tensor  # (N, 3) force error (eV/Å)
    struct: torch.Tensor  # (N,) structure of each atom


@dataclass
class Objective:
    """``energy_weight * mean(per-atom energy error²) + force_weight * mean(force error²)``
    (eV²/atom² and eV²/Å²)."""

    energy_weight: float = 1.0
    force_weight: float = 1.0

    def errors(self, module, batch, create_graph: bool = True) -> BatchErrors:
        energy, forces = energies_and_forces(module, batch, create_graph=create_graph,
                                             forces=self.force_weight > 0 or not create_graph)
        per_atom = (energy - batch.energy) / batch.n_atoms.to(energy.dtype)
        dF = forces - batch.forces if forces is not None else batch.forces.new_zeros(0, 3)
        return BatchErrors(per_atom, dF, batch.struct)

    def loss(self, errors: BatchErrors) -> torch.Tensor:
        loss = self.energy_weight * errors.energy.pow(2).mean()
        if self.force_weight > 0 and errors.forces.numel():
            loss = loss + self.force_weight * errors.forces.pow(2).mean()
        return loss


class GradientStep:
    """A torch optimiser step on the weighted loss (Adam by default)."""

    optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam

    def __init__(self, module: torch.nn.Module, options: dict) -> None:
        self.module = module
        self.optimizer = self.optimizer_class(module.parameters(), lr=options["lr"],
                                              weight_decay=options.get("weight_decay", 0.0),
                                              **(options.get("optimizer_kwargs") or {}))

    def step(self, batch, objective: Objective) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        loss = objective.loss(objective.errors(self.module, batch, create_graph=True))
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())


def _with_optimizer(name: str, cls: type[torch.optim.Optimizer]) -> type[GradientStep]:
    return type(f"{name.capitalize()}Step", (GradientStep,), {"optimizer_class": cls,
                                                              "__module__": __name__})


AdamStep = _with_optimizer("adam", torch.optim.Adam)
AdamwStep = _with_optimizer("adamw", torch.optim.AdamW)
SgdStep = _with_optimizer("sgd", torch.optim.SGD)
RmspropStep = _with_optimizer("rmsprop", torch.optim.RMSprop)

#: Training steps by ``optimizer`` name; :func:`register_training_step` adds one.
TRAINING_STEPS: dict[str, Callable] = {"adam": AdamStep, "adamw": AdamwStep, "sgd": SgdStep,
                                       "rmsprop": RmspropStep,
                                       "rlekf": RLEKFStep}  # Kalman filter (nn.rlekf)


def register_training_step(name: str, factory: Callable, overwrite: bool = False) -> None:
    """Make ``TAAFSPotential(optimizer=name)`` use ``factory(module, options)``.

    Examples
    --------
    >>> from taafs_sk.atomistic.training import (GradientStep, TRAINING_STEPS,
    ...                                          register_training_step)
    >>> register_training_step("my-adam", GradientStep)
    >>> "my-adam" in TRAINING_STEPS
    True
    >>> del TRAINING_STEPS["my-adam"]
    """
    if not isinstance(name, str):
        raise TypeError(f"name of a training step must be a non-empty str, got {name!r} "
                        f"({type(name).__name__}).")
    if not name:
        raise ValueError(f"name of a training step must be a non-empty str, got {name!r}.")
    if not callable(factory):
        raise TypeError(f"factory of training step {name!r} must be callable "
                        f"(factory(module, options) -> step), got {factory!r} "
                        f"({type(factory).__name__}).")
    if name in TRAINING_STEPS and not overwrite:
        raise ValueError(f"training step {name!r} is already registered; pass overwrite=True.")
    TRAINING_STEPS[name] = factory


def evaluate_errors(module, objective: Objective, frames) -> dict:
    """Loss and RMSEs (energy meV/atom, force eV/Å) of ``frames`` without weight gradients."""
    err = objective.errors(module, frames, create_graph=False)
    loss = float(objective.loss(err))
    return {"loss": loss, "energy_rmse": 1e3 * float(err.energy.pow(2).mean().sqrt()),
            "force_rmse": float(err.forces.pow(2).mean().sqrt())}


@flush_denormals()  # see taafs_sk.nn._denormals
def train(module, objective: Objective, step, train_frames, valid_frames, *,
          max_epochs: int, batch_size: int, patience: int, rng: np.random.RandomState,
          verbose: int = 0, hooks: list[Callable] | None = None) -> list[dict]:
    """Epoch loop: shuffled minibatches of structures, early stopping on ``valid_frames``.

    Each ``hook(record, module)`` is called after every epoch with the history row; a hook
    returning True stops training. With ``valid_frames`` the weights of the best validation
    loss are restored at the end.

    Returns
    -------
    history : list of dict
        ``epoch``, ``train_loss``, ``dur`` (s) and, with validation, ``valid_loss``,
        ``valid_energy_rmse``, ``valid_force_rmse``.
    """
    history: list[dict] = []
    best, best_state, waited = np.inf, None, 0
    n = train_frames.n_structures
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n)
        losses, weights = [], []
        module.train()
        for b in range(0, n, batch_size):
            idx = order[b:b + batch_size]
            losses.append(step.step(train_frames.subset(idx), objective))
            weights.append(len(idx))
        train_loss = float(np.average(losses, weights=weights))
        if not np.isfinite(train_loss):
            raise TrainingDivergedError(
                f"TAAFSPotential: the training loss became {train_loss} at epoch {epoch}; "
                "lower lr.")
        record = {"epoch": epoch, "train_loss": train_loss}
        module.eval()
        if valid_frames is not None:
            val = evaluate_errors(module, objective, valid_frames)
            record.update(valid_loss=val["loss"], valid_energy_rmse=val["energy_rmse"],
                          valid_force_rmse=val["force_rmse"])
            if val["loss"] < best:
                best, waited = val["loss"], 0
                best_state = copy.deepcopy(module.state_dict())
            else:
                waited += 1
        record["dur"] = time.perf_counter() - start
        history.append(record)
        if verbose:
            print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in record.items()))
        stop = any(bool(h(record, module)) for h in (hooks or []))
        if stop or (valid_frames is not None and waited >= patience):
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    return history
