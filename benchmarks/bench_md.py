"""NVE molecular dynamics with the Cu potentials of ``bench_potential.py`` (the TAAFS paper's
Experiment 4): energy conservation and physical sanity, tanh against each TAAF basis.

For each model pickled by ``bench_potential.py --save-models`` (Cu, seed 0): 1,000 steps of
velocity Verlet at 1 fs on Cu72, from a frame of the 500 K test run (``--start``, default 20:
the run starts near the ideal lattice and heats up; the DFT potential energy of frame 20 is
about that of a 225 K crystal, so with 300 K velocities the run equilibrates near the 300 K of
the training data; frame 50 is fully at 500 K, which with 300 K velocities means about 400 K,
outside the training data) with 300 K Maxwell-Boltzmann velocities (seeded, centre of mass at
rest). Reported: the total-energy drift (slope of a least-squares line, meV/atom/ps), the
closest pair distance over the run (physical if >= 1.8 Å), the temperature range (physical if
within a factor 2 of the initial 300 K), and one plot of the total-energy traces.

Run from the project root (after bench_potential.py)::

    nice -n 10 .venv/bin/python benchmarks/bench_md.py [--steps 1000] [--start 20]
        [--models results/potential] [--out results/potential]

With ``--model FILE`` a single pickled potential is run instead (e.g. one trained with the
defaults by ``--train FILE``, which fits ``TAAFSPotential(random_state=0)`` on the 300 K run
and pickles it); ``--temperature`` sets the initial velocities; ``--repulsion none zbl``
runs each model without and with the ZBL wall (``--zbl-radii INNER OUTER``, Å: the same
networks, the repulsion set with ``set_params``; for a model trained without it this equals
training with it whenever no training pair is closer than OUTER, as for Cu: its closest
training pair is 2.32 Å).

``--npt`` instead runs 500 steps (``--steps``) of Berendsen NPT at 300 K and 0 GPa with
``--model`` from frame 50 of the 300 K run and an energy-volume scan of the ideal fcc Cu72
lattice, against the DFT frames' cell (a = 3.621 Å).

and, to draw the traces of several such runs in one figure::

    .venv/bin/python benchmarks/bench_md.py --combine DIR [DIR ...] --start 20 --out DIR
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import torch

from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.atomistic.md import energy_drift, run_nve
from taafs_sk.datasets import load_pwmlff

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ACTIVATIONS = ("tanh", "bspline", "fourier", "chebyshev1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--models", type=Path, default=Path("results/potential"))
    parser.add_argument("--out", type=Path, default=Path("results/potential"))
    parser.add_argument("--activations", nargs="+", default=list(ACTIVATIONS))
    parser.add_argument("--start", type=int, default=20, help="frame of the 500 K run")
    parser.add_argument("--temperature", type=float, default=300.0)
    parser.add_argument("--model", type=Path, default=None, help="one pickled potential")
    parser.add_argument("--train", type=Path, default=None,
                        help="instead: fit TAAFSPotential(random_state=0) on the 300 K run "
                             "and pickle it here")
    parser.add_argument("--repulsion", nargs="+", default=["none"], choices=["none", "zbl"])
    parser.add_argument("--zbl-radii", type=float, nargs=2, default=(1.0, 2.0))
    parser.add_argument("--combine", type=Path, nargs="+", default=None,
                        help="instead: plot the saved traces of these output folders in one "
                             "figure, saved under --out")
    parser.add_argument("--npt", action="store_true")
    args = parser.parse_args()
    if args.combine:
        combine(args)
        return
    if args.train:
        train(args.train)
        return
    if args.npt:
        npt(args)
        return
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    start_frame = load_pwmlff("cu", "test")[args.start]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    rows = []
    for act, pot, repulsion in models(args):
        start = time.perf_counter()
        trace = run_nve(start_frame, pot.as_calculator(), n_steps=args.steps, timestep_fs=1.0,
                        temperature_K=args.temperature, random_state=0, log_interval=10)
        t0 = trace["temperature"][0]
        tt = args.temperature
        row = {"activation": act, "repulsion": repulsion,
               "drift_meV_atom_ps": energy_drift(trace),
               "min_distance": float(trace["min_distance"].min()),
               "t_min": float(trace["temperature"].min()),
               "t_max": float(trace["temperature"].max()), "t_start": float(t0),
               "wall_s": time.perf_counter() - start}
        row["physical"] = bool(row["min_distance"] >= 1.8 and row["t_max"] <= 2 * tt
                               and row["t_min"] >= tt / 2 or False)
        rows.append(row)
        print(json.dumps(row), flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        tag = "" if repulsion == "none" else "_" + repulsion.replace(" ", "")
        np.savez(args.out / f"md_trace_{act}{tag}_start{args.start}.npz", **trace)
        act = f"{act} {repulsion}"
        per_atom = 1e3 * (trace["total"] - trace["total"][0]) / trace["n_atoms"]
        ax.plot(trace["time_ps"], per_atom, label=act)
    ax.set_xlabel("time (ps)")
    ax.set_ylabel("total energy - E(0) (meV/atom)")
    ax.set_title(f"NVE Cu72 from 500 K frame {args.start}, {tt:.0f} K velocities, "
                 f"{args.steps} x 1 fs")
    ax.legend()
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / f"md_energy_traces_start{args.start}.png", dpi=120)
    (args.out / f"md_start{args.start}.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    print("\n| activation | repulsion | drift (meV/atom/ps) | min pair distance (Å) | T range "
          "(K) | physical |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['activation']} | {r['repulsion']} | {r['drift_meV_atom_ps']:+.3f} | "
              f"{r['min_distance']:.3f} |"
              f" {r['t_min']:.0f}-{r['t_max']:.0f} | {'yes' if r['physical'] else 'no'} |")


def models(args):
    """(name, potential, repulsion) of every run: each model without and/or with ZBL."""
    paths = ([(args.model.stem, args.model)] if args.model else
             [(act, args.models / f"cu_{act}_seed0.pkl") for act in args.activations])
    inner, outer = args.zbl_radii
    for name, path in paths:
        with open(path, "rb") as fh:
            pot = pickle.load(fh)
        for repulsion in args.repulsion:
            if repulsion == "zbl":
                pot.set_params(repulsion="zbl", zbl_inner=inner, zbl_outer=outer)
                yield name, pot, f"zbl {inner:g}-{outer:g}"
            else:
                yield name, pot.set_params(repulsion=None), "none"


def train(path: Path) -> None:
    """Fit the default potential on the Cu 300 K run and pickle it to ``path``."""
    start = time.perf_counter()
    pot = TAAFSPotential(random_state=0).fit(load_pwmlff("cu", "train"))
    print(f"fit {time.perf_counter() - start:.0f} s, {pot.n_iter_} epochs", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(pot, fh)


def npt(args) -> None:
    """Berendsen NPT (300 K, 0 GPa) and an energy-volume scan with one model."""
    from ase import units
    from ase.build import bulk
    from ase.md.nptberendsen import NPTBerendsen
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    with open(args.model, "rb") as fh:
        pot = pickle.load(fh)
    atoms = load_pwmlff("cu", "train")[50].copy()
    v_dft = atoms.get_volume()
    a_dft = float((4 * v_dft / len(atoms)) ** (1 / 3))  # fcc: 4 atoms per cubic cell
    atoms.calc = pot.as_calculator()
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(0))
    dyn = NPTBerendsen(atoms, timestep=1 * units.fs, temperature_K=300, pressure_au=0.0,
                       taut=100 * units.fs, taup=500 * units.fs,
                       compressibility_au=1 / (140 * units.GPa))
    volumes = []
    dyn.attach(lambda: volumes.append(atoms.get_volume()), interval=10)
    start = time.perf_counter()
    dyn.run(args.steps)
    last = np.array(volumes[len(volumes) // 2:])
    a_scan = np.linspace(3.50, 3.75, 11)
    cells = [bulk("Cu", "fcc", a=a, cubic=True).repeat((3, 3, 2)) for a in a_scan]
    e_scan = pot.predict(cells) / 72
    a_min = float(np.roots(np.polyder(np.polyfit(a_scan, e_scan, 3)))[
        np.argmin(np.abs(np.roots(np.polyder(np.polyfit(a_scan, e_scan, 3))) - 3.62))].real)
    row = {"v_dft": v_dft, "v_npt_mean_second_half": float(last.mean()),
           "v_ratio": float(last.mean() / v_dft), "v_min": min(volumes), "v_max": max(volumes),
           "a_dft": a_dft, "a_scan_min": a_min,
           "t_end": float(atoms.get_temperature()), "wall_s": time.perf_counter() - start}
    print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / "npt_volumes.npz", volume=np.array(volumes), a=a_scan, e=e_scan)


def combine(args) -> None:
    """One figure of the traces saved by earlier runs (``md_trace_<act>_start<N>.npz``)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for act in args.activations:
        for folder in args.combine:
            path = folder / f"md_trace_{act}_start{args.start}.npz"
            if path.is_file():
                trace = np.load(path)
                per_atom = 1e3 * (trace["total"] - trace["total"][0]) / int(trace["n_atoms"])
                ax.plot(trace["time_ps"], per_atom, label=act)
    ax.set_xlabel("time (ps)")
    ax.set_ylabel("total energy - E(0) (meV/atom)")
    ax.set_title(f"NVE Cu72 from 500 K frame {args.start}, 300 K velocities, 1 fs steps")
    ax.legend()
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / f"md_energy_traces_start{args.start}.png", dpi=120)


if __name__ == "__main__":
    main()
