"""Batched MD in torch-sim against separate ASE runs (issue 28, item 4): time per step per cell.

16 Cu72 cells (frames of ``load_pwmlff('cu')``, evenly spaced over the data set) with 300 K
Maxwell-Boltzmann velocities (seeded, the same for both), NVE velocity Verlet at 1 fs:

- **ASE**: 16 separate runs of ``ase.md.verlet.VelocityVerlet`` with the potential's
  calculator, one after the other (what a user without torch-sim does);
- **torch-sim**: one batched ``torch_sim.integrators.nve`` run of all 16 cells with
  :func:`taafs_sk.atomistic.as_torchsim_model` (one potential call per step for all cells).

One process, one thread (``torch.set_num_threads(1)``). Reported: the wall time per MD step
per cell of each (after one untimed warm-up step), their ratio, and the largest difference
between the two runs' final positions (minimum image; the same dynamics up to the rounding of
the potential's dtype). The potential is ``--model FILE`` (a pickled TAAFSPotential, e.g. the
default model of ``bench_md.py --train``) or, without it, a small one fitted here (hidden
(16,), 3 epochs on 20 frames; the timing, not the accuracy, is measured).

Run from the project root::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_torchsim.py [--model FILE]
        [--cells 16] [--steps 20]
"""

from __future__ import annotations

import argparse
import os
import pickle
import time

import numpy as np
import torch
from ase import units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

from taafs_sk.atomistic import TAAFSPotential, as_torchsim_model
from taafs_sk.datasets import load_pwmlff


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="a pickled fitted TAAFSPotential")
    parser.add_argument("--cells", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def load_potential(path, frames) -> TAAFSPotential:
    if path and os.path.exists(path):
        with open(path, "rb") as fh:
            return pickle.load(fh)
    return TAAFSPotential((16,), max_epochs=3, early_stopping=False,
                          random_state=0).fit(frames[::10])


def starting_cells(frames, n_cells: int, seed: int) -> list:
    """``n_cells`` frames evenly spaced over the data, with seeded 300 K velocities."""
    rng = np.random.default_rng(seed)
    cells = []
    for k in np.linspace(0, len(frames) - 1, n_cells).astype(int):
        atoms = frames[int(k)].copy()
        atoms.calc = None
        MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=rng)
        Stationary(atoms)
        cells.append(atoms)
    return cells


def run_ase(potential, cells, n_steps: int, dt: float):
    """Final positions of separate ASE runs and the seconds per step per cell."""
    finals, seconds = [], 0.0
    for start in cells:
        atoms = start.copy()
        atoms.calc = potential.as_calculator()
        dyn = VelocityVerlet(atoms, timestep=dt)
        dyn.run(1)  # warm-up (first forces)
        t0 = time.perf_counter()
        dyn.run(n_steps)
        seconds += time.perf_counter() - t0
        finals.append(atoms.positions.copy())
    return finals, seconds / (n_steps * len(cells))


def run_torchsim(potential, cells, n_steps: int, dt: float):
    """Final positions of one batched torch-sim run and the seconds per step per cell."""
    import torch_sim as ts

    dtype = potential.dtype_
    init, update = ts.integrators.nve(as_torchsim_model(potential),
                                      dt=torch.tensor(dt, dtype=dtype),
                                      kT=torch.tensor(0.0, dtype=dtype))
    state = init(ts.io.atoms_to_state(cells, torch.device("cpu"), dtype))
    velocities = np.concatenate([a.get_velocities() for a in cells])
    state.momenta = state.masses[:, None] * torch.as_tensor(velocities, dtype=dtype)
    state = update(state)  # warm-up, as in run_ase
    t0 = time.perf_counter()
    for _ in range(n_steps):
        state = update(state)
    seconds = time.perf_counter() - t0
    finals = np.split(state.positions.double().numpy(), len(cells))
    return finals, seconds / (n_steps * len(cells))


def max_difference(a_list, b_list, cells) -> float:
    worst = 0.0
    for a, b, atoms in zip(a_list, b_list, cells, strict=True):
        frac = (a - b) @ np.linalg.inv(atoms.cell.array)
        worst = max(worst, float(np.abs((frac - np.round(frac)) @ atoms.cell.array).max()))
    return worst


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    frames = load_pwmlff("cu")
    potential = load_potential(args.model, frames)
    cells = starting_cells(frames, args.cells, args.seed)
    dt = 1.0 * units.fs
    ase_final, ase_s = run_ase(potential, cells, args.steps, dt)
    ts_final, ts_s = run_torchsim(potential, cells, args.steps, dt)
    print(f"model: {args.model or 'small fit'} (hidden {potential.hidden_layer_sizes}, "
          f"{potential.basis}, {potential.dtype}); {args.cells} Cu{len(cells[0])} cells, "
          f"{args.steps} steps, 1 thread")
    print(f"ASE VelocityVerlet, separate runs : {1e3 * ase_s:8.2f} ms per step per cell")
    print(f"torch-sim nve, one batched run    : {1e3 * ts_s:8.2f} ms per step per cell")
    print(f"speed-up (ASE / torch-sim)        : {ase_s / ts_s:8.2f}x")
    print(f"largest final position difference: {max_difference(ase_final, ts_final, cells):.2e} Å")


if __name__ == "__main__":
    main()
