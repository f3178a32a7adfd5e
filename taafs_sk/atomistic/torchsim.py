"""A fitted :class:`~taafs_sk.atomistic.TAAFSPotential` as a torch-sim model (batched MD).

`torch-sim <https://github.com/Radical-AI/torch-sim>`_ (the ``torch-sim-atomistic``
package: ``pip install taafs-sk[torchsim]``) runs molecular dynamics, relaxations and other
workflows on many systems at once: a batched ``SimState`` holds the atoms of all systems
concatenated (``system_idx`` says which system each atom is in) and a model returns the
energies, forces and (when asked) stresses of all of them in one call.
:func:`as_torchsim_model` wraps a fitted potential in such a model: one call evaluates every
system of the state with the code path of the potential's ``predict_energies_and_forces`` and
``predict_stress`` (neighbour lists per system, then the descriptors, the networks and their
forces for all systems together, the repulsion if any), so a batched run sees exactly the
energies and forces of the ASE calculator.

Units are torch-sim's metal units, which are ASE's: Å, eV, amu, and the time unit
``ase.units.fs`` per fs (a 1 fs step is ``dt = ase.units.fs``). The stress is returned as
``(n_systems, 3, 3)`` in eV/Å³ with ASE's sign (negative under compression).

This module never imports torch-sim until :func:`as_torchsim_model` is called, so
``import taafs_sk.atomistic`` does not need it.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .._validation._text import short
from ._deps import require
from ._evaluation import evaluate

__all__ = ["TORCHSIM_HINT", "as_torchsim_model"]

TORCHSIM_HINT = "pip install taafs-sk[torchsim]"

_VOIGT = ((0, 5, 4), (5, 1, 3), (4, 3, 2))  # (3, 3) entry -> Voigt index (xx yy zz yz xz xy)


def as_torchsim_model(potential, *, compute_stress: bool = False):
    """A torch-sim model (a ``torch_sim.models.interface.ModelInterface``) backed by
    ``potential``.

    Parameters
    ----------
    potential : TAAFSPotential
        A fitted potential.
    compute_stress : bool, default=False
        Also return each system's stress (``"stress"``, ``(n_systems, 3, 3)``, eV/Å³), as
        torch-sim's NPT integrators and cell relaxations need; every system must then be
        periodic along all three directions.

    Returns
    -------
    model : torch.nn.Module
        Called on a ``torch_sim.SimState`` (or a dict with its ``positions``, ``cell`` in
        torch-sim's column-vector convention, ``pbc``, ``atomic_numbers``, ``system_idx``),
        it returns ``{"energy": (n_systems,), "forces": (n_atoms, 3)}`` (and ``"stress"``) in
        the state's dtype and device. Its ``dtype`` is the potential's.

    Examples
    --------
    >>> import pytest
    >>> ts = pytest.importorskip("torch_sim")
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk.atomistic import TAAFSPotential
    >>> from taafs_sk.atomistic.torchsim import as_torchsim_model
    >>> frames = []
    >>> for k in range(2):
    ...     atoms = bulk("Cu", cubic=True).repeat(2)
    ...     atoms.rattle(0.05, seed=k)
    ...     atoms.calc = EMT()
    ...     frames.append(atoms)
    >>> pot = TAAFSPotential((8,), basis="tanh", max_epochs=1, early_stopping=False,
    ...                      dtype="float64", random_state=0).fit(frames)
    >>> model = as_torchsim_model(pot)
    >>> state = ts.io.atoms_to_state(frames, torch.device("cpu"), torch.float64)
    >>> out = model(state)
    >>> out["energy"].shape, out["forces"].shape
    (torch.Size([2]), torch.Size([64, 3]))
    >>> bool(np.allclose(out["energy"].numpy(), pot.predict(frames)))
    True
    """
    from sklearn.utils.validation import check_is_fitted

    from .potential import TAAFSPotential  # it does not import this module

    if not isinstance(potential, TAAFSPotential):
        raise TypeError(f"potential of as_torchsim_model must be a fitted TAAFSPotential, "
                        f"got {short(potential)} ({type(potential).__name__}).")
    check_is_fitted(potential, "module_")
    if not isinstance(compute_stress, (bool, np.bool_)):
        raise TypeError(f"compute_stress of as_torchsim_model must be a bool, got "
                        f"{short(compute_stress)} ({type(compute_stress).__name__}).")
    return _model_class()(potential, bool(compute_stress))


@functools.cache
def _model_class() -> type:
    """The model class, built on first use (it subclasses torch-sim's interface)."""
    try:
        interface = require("torch_sim.models.interface")
    except ImportError as exc:
        raise ImportError(f"as_torchsim_model needs torch-sim (the torch-sim-atomistic "
                          f"package), which is not installed ({exc.__cause__}); install "
                          f"the torchsim extra: {TORCHSIM_HINT}") from exc

    class TAAFSTorchSimModel(interface.ModelInterface):
        """A fitted TAAFSPotential as a torch-sim model (see :func:`as_torchsim_model`)."""

        def __init__(self, potential, compute_stress: bool) -> None:
            super().__init__()
            self.potential = potential
            self._device = torch.device(potential.device)
            self._dtype = potential.dtype_
            self._compute_stress = compute_stress
            self._compute_forces = True
            self._memory_scales_with = "n_atoms_x_density"

        def forward(self, state, **kwargs) -> dict[str, torch.Tensor]:
            return _evaluate_state(self.potential, state, self._compute_stress)

    return TAAFSTorchSimModel


def _state_tensors(state) -> tuple:
    """positions ``(N, 3)``, column-vector cells ``(B, 3, 3)``, pbc, atomic numbers ``(N,)``
    and system indices ``(N,)`` of a SimState or a dict of its fields."""
    if isinstance(state, dict):
        get = state.get
    elif hasattr(state, "positions") and hasattr(state, "cell"):
        def get(name):
            return getattr(state, name, None)
    else:
        raise TypeError(f"state of the TAAFS torch-sim model must be a torch_sim.SimState or a "
                        f"dict of its fields, got {short(state)} ({type(state).__name__}).")
    fields = {name: get(name) for name in ("positions", "cell", "pbc", "atomic_numbers")}
    missing = [name for name, value in fields.items() if value is None]
    if missing:
        raise ValueError(f"state of the TAAFS torch-sim model lacks {missing}: it needs "
                         "positions, cell, pbc and atomic_numbers (and system_idx for "
                         "several systems).")
    positions = torch.as_tensor(fields["positions"])
    system_idx = get("system_idx")
    if system_idx is None:
        system_idx = get("batch")
    if system_idx is None:
        system_idx = torch.zeros(positions.shape[0], dtype=torch.long)
    return (positions, torch.as_tensor(fields["cell"]), fields["pbc"],
            torch.as_tensor(fields["atomic_numbers"]), torch.as_tensor(system_idx))


def _state_to_atoms(positions, cells, pbc, numbers, system_idx) -> list:
    """One ``ase.Atoms`` per system (cells transposed to ASE's row vectors)."""
    Atoms = require("ase").Atoms
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"positions of the torch-sim state must have shape (n_atoms, 3), "
                         f"got {tuple(positions.shape)}.")
    counts = torch.bincount(system_idx.long()).cpu().numpy()
    cells = cells.reshape(-1, 3, 3)
    if len(counts) != cells.shape[0] or not torch.equal(
            system_idx.cpu(), torch.repeat_interleave(torch.arange(len(counts)),
                                                      torch.as_tensor(counts))):
        raise ValueError(f"system_idx of the torch-sim state must number the systems 0, 1, "
                         f"... in order, one cell each; got {len(counts)} systems for "
                         f"{cells.shape[0]} cells.")
    pos = np.split(positions.detach().cpu().double().numpy(), np.cumsum(counts)[:-1])
    nums = np.split(numbers.cpu().numpy(), np.cumsum(counts)[:-1])
    rows = cells.detach().cpu().double().numpy().transpose(0, 2, 1)
    pbc = np.asarray(pbc.cpu() if torch.is_tensor(pbc) else pbc, dtype=bool)
    return [Atoms(numbers=n, positions=p, cell=c, pbc=pbc)
            for n, p, c in zip(nums, pos, rows, strict=True)]


def _evaluate_state(potential, state, compute_stress: bool) -> dict[str, torch.Tensor]:
    """The potential's energies, forces (and 3x3 stresses) of every system of ``state``."""
    positions, cells, pbc, numbers, system_idx = _state_tensors(state)
    atoms_list = _state_to_atoms(positions, cells, pbc, numbers, system_idx)
    energies, forces, stress = evaluate(potential, atoms_list, forces=True,
                                        stress=compute_stress)
    like = dict(dtype=positions.dtype, device=positions.device)
    out = {"energy": torch.as_tensor(energies, **like),
           "forces": torch.as_tensor(np.concatenate(forces), **like)}
    if compute_stress:
        out["stress"] = torch.as_tensor(stress[:, np.array(_VOIGT)], **like)
    return out
