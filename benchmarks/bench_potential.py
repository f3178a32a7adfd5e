"""TAAFSPotential: tanh against TAAF activations on the three PWMLFF DFT trajectories.

The TAAFS paper's Experiment 3 on this project's data: the same per-element ANI networks with
tanh or a trainable activation (B-spline, Fourier, Chebyshev I; per-layer sharing), trained
on energies and forces with the same settings and early stopping, three seeds each. Fits are
interleaved (for each seed, every activation in turn) in one process so that the timing
ratios see the same machine load. Splits (never random; see ``load_pwmlff``): Cu train
300 K / test 500 K; HfO2 train runs 000 and 001 / test run 002; EC first 150 / last 50 frames.

Reported per system and activation: test energy RMSE (meV/atom) and force RMSE (eV/Å), mean
± std over seeds, the ratio to tanh, parameter count and TAAF overhead, and the mean training
time per epoch (ratio to tanh). The descriptors of each data set are computed once and shared
by all its fits (identical inputs give identical descriptors), so the fit times below are
training only. With ``--save-models`` the Cu seed-0 models are pickled for ``bench_md.py``.

``--descriptor deeppot`` swaps the fixed ANI descriptor for the learned DeepPot-SE
(:class:`taafs_sk.atomistic.DeepPotSE`, ``se_e2_a``): its embedding networks take the same
activation as the fitting networks (tanh, the published model, or a TAAF), trained together;
``--dp-neuron``, ``--dp-axis``, ``--rcut``, ``--rcut-smth`` set it. The neighbour lists are
built once per data set and shared by all fits (the descriptor itself is recomputed at every
step, so fit times include it).

Run from the project root::

    nice -n 10 .venv/bin/python benchmarks/bench_potential.py [--systems cu hfo2 ec]
        [--seeds 3] [--epochs 40] [--stride 2 2 1] [--out results/potential]
        [--descriptor deeppot --dp-neuron 8 16 32 --dp-axis 4 --batch-size 4 --lr 2e-3]
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import pickle
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from taafs_sk.atomistic import DeepPotSE, TAAFSPotential, _evaluation, _setup
from taafs_sk.datasets import load_pwmlff

ACTIVATIONS = ("tanh", "bspline", "fourier", "chebyshev1")


def share_descriptors():
    """Memoise the descriptor step of fit and predict on the identity of the structure
    list's members (the same frames are described once for every activation and seed)."""
    original = _setup.build_frames
    cache: dict = {}

    @functools.wraps(original)
    def cached(atoms_list, elements, descriptor, dtype, device="cpu", **options):
        key = (tuple(id(a) for a in atoms_list), tuple(elements), repr(descriptor), dtype,
               str(device), tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = original(atoms_list, elements, descriptor, dtype, device, **options)
        return copy.copy(cache[key])

    _setup.build_frames = _evaluation.build_frames = cached
    return cache


def make_potential(args, act: str, seed: int, **overrides) -> TAAFSPotential:
    """The potential of one fit: ``act`` everywhere, the descriptor of ``--descriptor``."""
    descriptor = "ani1x"
    if args.descriptor == "deeppot":
        descriptor = DeepPotSE(rcut=args.rcut, rcut_smth=args.rcut_smth,
                               neuron=tuple(args.dp_neuron), axis_neuron=args.dp_axis)
    params = {"basis": act, "sharing": "layer", "descriptor": descriptor,
              "max_epochs": args.epochs, "patience": args.patience, "random_state": seed,
              "batch_size": args.batch_size, "lr": args.lr, **overrides}
    return TAAFSPotential(tuple(args.hidden), **params)


def rmse(pot, frames) -> tuple[float, float]:
    energies, forces = pot.predict_energies_and_forces(frames)
    n = np.array([len(a) for a in frames])
    e_ref = np.array([a.get_potential_energy() for a in frames])
    f_ref = np.concatenate([a.get_forces() for a in frames])
    e = 1e3 * np.sqrt(np.mean(((energies - e_ref) / n) ** 2))
    f = float(np.sqrt(np.mean((np.concatenate(forces) - f_ref) ** 2)))
    return float(e), f


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=["cu", "hfo2", "ec"])
    parser.add_argument("--activations", nargs="+", default=list(ACTIVATIONS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    parser.add_argument("--stride", type=int, nargs="+", default=[2, 2, 1],
                        help="keep every stride-th frame of each split, per system (1: all)")
    parser.add_argument("--out", type=Path, default=Path("results/potential"))
    parser.add_argument("--save-models", action="store_true")
    parser.add_argument("--timing", type=int, default=0,
                        help="instead: time N interleaved rounds of 3-epoch fits per activation")
    parser.add_argument("--descriptor", choices=["ani", "deeppot"], default="ani")
    parser.add_argument("--dp-neuron", type=int, nargs="+", default=[25, 50, 100])
    parser.add_argument("--dp-axis", type=int, default=16)
    parser.add_argument("--rcut", type=float, default=6.0)
    parser.add_argument("--rcut-smth", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", module="torchani")
    args.out.mkdir(parents=True, exist_ok=True)
    share_descriptors()
    if args.timing:
        time_epochs(args)
        return
    rows = []
    strides = dict(zip(args.systems, args.stride * len(args.systems)
                       if len(args.stride) == 1 else args.stride, strict=False))
    for system in args.systems:
        train = load_pwmlff(system, "train")[::strides[system]]
        test = load_pwmlff(system, "test")[::strides[system]]
        print(f"== {system}: {len(train)} training / {len(test)} test frames, "
              f"{len(train[0])} atoms", flush=True)
        for seed in range(args.seeds):
            for act in args.activations:
                pot = make_potential(args, act, seed)
                start = time.perf_counter()
                pot.fit(train)
                wall = time.perf_counter() - start
                e, f = rmse(pot, test)
                epoch = float(np.mean([r["dur"] for r in pot.history_]))
                row = {"system": system, "descriptor": args.descriptor, "activation": act,
                       "seed": seed, "energy_rmse": e,
                       "force_rmse": f, "n_params": pot.n_params_,
                       "n_activation_params": pot.n_activation_params_,
                       "epochs": pot.n_iter_, "epoch_s": epoch, "fit_s": wall,
                       "n_train": len(train), "n_test": len(test)}
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.save_models and seed == 0:
                    with open(args.out / f"{system}_{act}_seed0.pkl", "wb") as fh:
                        pickle.dump(pot, fh)
                (args.out / "runs.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    print_table(rows)


def time_epochs(args) -> None:
    """Median time per training epoch, activations interleaved round by round (same load)."""
    strides = dict(zip(args.systems, args.stride * len(args.systems)
                       if len(args.stride) == 1 else args.stride, strict=False))
    print("| system | activation | s/epoch (median) | x tanh |\n|---|---|---|---|")
    for system in args.systems:
        train = load_pwmlff(system, "train")[::strides[system]]
        times: dict[str, list[float]] = {act: [] for act in args.activations}
        for rnd in range(args.timing):
            for act in args.activations:
                pot = make_potential(args, act, rnd, max_epochs=3,
                                     early_stopping=False).fit(train)
                times[act].extend(r["dur"] for r in pot.history_[1:])
        base = np.median(times["tanh"])
        for act, ts in times.items():
            print(f"| {system} | {act} | {np.median(ts):.3f} | {np.median(ts) / base:.2f} |",
                  flush=True)


def print_table(rows) -> None:
    print("\n| system | activation | energy RMSE (meV/atom) | x tanh | force RMSE (eV/Å) | "
          "x tanh | params | TAAF overhead | epochs | s/epoch | x tanh |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for system in dict.fromkeys(r["system"] for r in rows):
        sub = [r for r in rows if r["system"] == system]
        base = {k: np.mean([r[k] for r in sub if r["activation"] == "tanh"])
                for k in ("energy_rmse", "force_rmse", "epoch_s")}
        for act in dict.fromkeys(r["activation"] for r in sub):
            rs = [r for r in sub if r["activation"] == act]
            m = {k: np.mean([r[k] for r in rs]) for k in ("energy_rmse", "force_rmse",
                                                          "epoch_s", "epochs")}
            s = {k: np.std([r[k] for r in rs]) for k in ("energy_rmse", "force_rmse")}
            over = 100 * rs[0]["n_activation_params"] / rs[0]["n_params"]
            print(f"| {system} | {act} | {m['energy_rmse']:.3f} ± {s['energy_rmse']:.3f} | "
                  f"{m['energy_rmse'] / base['energy_rmse']:.2f} | {m['force_rmse']:.4f} ± "
                  f"{s['force_rmse']:.4f} | {m['force_rmse'] / base['force_rmse']:.2f} | "
                  f"{rs[0]['n_params']} | {over:.2f} % | {m['epochs']:.0f} | "
                  f"{m['epoch_s']:.3f} | {m['epoch_s'] / base['epoch_s']:.2f} |")


if __name__ == "__main__":
    main()
