"""PaiNN in TAAFSPotential: SiLU against trainable activations (TAAFs) on Cu 300 K -> 500 K.

The TAAFS paper's PaiNN experiment on this project's data: the same PaiNN descriptor
(:class:`taafs_sk.atomistic.PaiNN`, written from Schütt et al., ICML 2021) and per-element
readout networks, with the paper's SiLU (``basis='silu'``) or a TAAF (B-spline, Chebyshev I;
by default the TAAFs are SiLU plus a trained basis expansion, ``--taaf-form plain`` the
expansion alone) in every message, update and readout network, trained on
energies and forces with the same settings, seed and early stopping, one after the other in
one process on one thread. Split (never random, see ``load_pwmlff``): train on the 300 K run
(the last 10 % held out for early stopping), test on the 500 K run.

Reported per activation: test energy RMSE (meV/atom), force RMSE (eV/Å), ratios to SiLU,
parameters, epochs run and CPU seconds per epoch (``time.process_time``, so other jobs on the
machine slow the wall clock but not this number much). The paper's size is 2 interactions,
128 channels, 16 radial functions; ``--channels`` shrinks it to what a small CPU affords.

Run from the project root::

    nice -n 10 .venv/bin/python benchmarks/bench_painn.py [--channels 32] [--epochs 30]
        [--batch-size 2] [--stride 1] [--activations silu bspline chebyshev1]
        [--out results/painn]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from bench_potential import rmse  # the same scoring as the ANI and DeepPotSE rows

from taafs_sk.atomistic import PaiNN, TAAFSPotential
from taafs_sk.datasets import load_pwmlff

ACTIVATIONS = ("silu", "bspline", "chebyshev1")


def best_epoch(history) -> int:
    """The epoch (from 1) of the lowest monitored loss (held-out, else training)."""
    key = "valid_loss" if "valid_loss" in history[-1] else "train_loss"
    return int(np.argmin(history[:, key])) + 1


class PlainTAAFPaiNN(PaiNN):
    """PaiNN whose TAAFs are the paper's plain form (no SiLU term), fitted to SiLU on
    [-3, 3] at the start (``--taaf-form plain``)."""

    taaf_init = "silu"


def potential(args, activation: str) -> TAAFSPotential:
    taaf = {} if activation == "silu" else {"n_basis": args.n_basis, "sharing": args.sharing}
    spec = PlainTAAFPaiNN if args.taaf_form == "plain" else PaiNN
    descriptor = spec(n_atom_basis=args.channels, n_interactions=args.interactions,
                      n_rbf=args.rbf, cutoff=args.cutoff)
    return TAAFSPotential(tuple(args.hidden), basis=activation, **taaf, descriptor=descriptor,
                          max_epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                          patience=args.patience, random_state=args.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", nargs="+", default=list(ACTIVATIONS))
    parser.add_argument("--channels", type=int, default=32, help="n_atom_basis (paper: 128)")
    parser.add_argument("--interactions", type=int, default=2)
    parser.add_argument("--rbf", type=int, default=16)
    parser.add_argument("--cutoff", type=float, default=5.0)
    parser.add_argument("--hidden", type=int, nargs="+", default=[16],
                        help="hidden widths of the per-element readout (paper: F/2)")
    parser.add_argument("--n-basis", type=int, default=8)
    parser.add_argument("--taaf-form", choices=["residual", "plain"], default="residual",
                        help="TAAF = SiLU + sum c_k B_k (PaiNN's default) or sum c_k B_k")
    parser.add_argument("--sharing", default="layer")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stride", type=int, default=1,
                        help="keep every stride-th frame of each split (1: all)")
    parser.add_argument("--out", type=Path, default=Path("results/painn"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    train = load_pwmlff("cu", "train")[::args.stride]
    test = load_pwmlff("cu", "test")[::args.stride]
    print(f"Cu: {len(train)} training frames (last 10 % held out), {len(test)} test frames; "
          f"PaiNN F={args.channels}, {args.interactions} interactions, {args.rbf} rbf, "
          f"cutoff {args.cutoff} Å, readout {args.hidden}, {args.epochs} epochs max, "
          f"seed {args.seed}, TAAF form {args.taaf_form}, 1 thread", flush=True)
    rows = []
    for activation in args.activations:
        pot = potential(args, activation)
        start = time.process_time()
        pot.fit(train)
        seconds = time.process_time() - start
        e, f = rmse(pot, test)
        epochs = len(pot.history_)
        rows.append({"activation": activation, "energy_mev_atom": e, "force_ev_a": f,
                     "params": int(sum(p.numel() for p in pot.module_.parameters())),
                     "epochs": epochs, "cpu_s_per_epoch": seconds / epochs,
                     "best_epoch": best_epoch(pot.history_)})
        print(json.dumps(rows[-1]), flush=True)
    print_table(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "painn_cu.json").write_text(json.dumps(
        {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=1))


def print_table(rows) -> None:
    base = next((r for r in rows if r["activation"] == "silu"), rows[0])
    print(f"{'activation':<12}{'E meV/atom':>11}{'ratio':>7}{'F eV/Å':>9}{'ratio':>7}"
          f"{'params':>8}{'epochs':>7}{'s/epoch':>9}{'ratio':>7}")
    for r in rows:
        print(f"{r['activation']:<12}{r['energy_mev_atom']:>11.3f}"
              f"{r['energy_mev_atom'] / base['energy_mev_atom']:>7.2f}"
              f"{r['force_ev_a']:>9.4f}{r['force_ev_a'] / base['force_ev_a']:>7.2f}"
              f"{r['params']:>8}{r['epochs']:>7}{r['cpu_s_per_epoch']:>9.2f}"
              f"{r['cpu_s_per_epoch'] / base['cpu_s_per_epoch']:>7.2f}")


if __name__ == "__main__":
    main()
