"""Adam against RLEKF: epochs and wall-clock time to reach Adam's final validation RMSE.

Problems: (a) the halide double-perovskite band gap (31 descriptors, TAAFSRegressor), split by
composition into train / validation / test (test fixed, validation drawn per seed); (b) Cu
energies and forces with ``TAAFSPotential`` when the atomistic estimator is installed.
Each is run with a tanh network and with one TAAF basis, for several seeds. Adam runs
``--adam-epochs`` epochs; RLEKF runs a fifth of that (the target ratio). Reported per run:
Adam's final validation RMSE (the target), the first epoch at which RLEKF's validation RMSE
is at or below it and the training time until then (skorch's per-epoch ``dur``, validation
excluded for both), the ratios RLEKF / Adam, and each one's final test RMSE.

Run from the project root (1 torch thread)::

    nice -n 10 .venv/bin/python benchmarks/bench_optimizers.py [--seeds 3] [--adam-epochs 300]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from taafs_sk import TAAFSRegressor
from taafs_sk.datasets import load_double_perovskites
from taafs_sk.exceptions import ConvergenceWarning

DATA_CU = os.path.join(os.environ.get("TAAFS_SK_DATA", "../shared/data"), "pwmlff_md",
                       "cu.extxyz.gz")


class ValidationRMSE(Callback):
    """Record the RMSE (target units) on a fixed validation set after each epoch."""

    def __init__(self, X, y, y_mean, y_scale):
        self.X = torch.as_tensor(X, dtype=torch.float32)
        self.y, self.y_mean, self.y_scale = y, y_mean, y_scale

    def on_epoch_end(self, net, **kwargs):
        with torch.no_grad():
            pred = net.module_(self.X).numpy().ravel() * self.y_scale + self.y_mean
        net.history.record("val_rmse", float(np.sqrt(np.mean((pred - self.y) ** 2))))


def gap_splits(seed: int):
    """Train / validation / test of the band gap, split by composition (test fixed)."""
    bunch = load_double_perovskites("manzhos", "band_gap")
    X, y, groups = bunch.data, bunch.target, bunch.groups
    rest, test = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(X, y, groups))
    inner = GroupShuffleSplit(1, test_size=0.2, random_state=seed)
    tr, va = next(inner.split(X[rest], y[rest], groups[rest]))
    train, valid = rest[tr], rest[va]
    scaler = StandardScaler().fit(X[train])
    return [(scaler.transform(X[i]), y[i]) for i in (train, valid, test)]


def run_regressor(optimizer, basis, epochs, seed, splits, hidden, batch_size):
    (Xtr, ytr), (Xva, yva), (Xte, yte) = splits
    callback = ValidationRMSE(Xva, yva, ytr.mean(), ytr.std())
    model = TAAFSRegressor(
        hidden, basis=basis, n_basis=8 if basis == "tanh" else 6, max_epochs=epochs,
        batch_size=batch_size, optimizer=optimizer, lr=1e-3, early_stopping=False,
        random_state=seed,
        callbacks=[("val_rmse", callback)],
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
    total = time.perf_counter() - start
    val = np.array(model.history_[:, "val_rmse"])
    dur = np.cumsum(model.history_[:, "dur"])
    test = float(np.sqrt(np.mean((model.predict(Xte) - yte) ** 2)))
    return val, dur, total, test


def compare(name, runs, seeds, adam_epochs):
    """Print one row per (basis, seed) and the medians."""
    print(f"\n{name}: Adam {adam_epochs} epochs, RLEKF {adam_epochs // 5}")
    head = (f"{'basis':11s} {'seed':>4s} {'target':>8s} {'ep Adam':>7s} {'ep RLEKF':>8s} "
            f"{'ep ratio':>8s} {'s Adam':>7s} {'s RLEKF':>7s} {'s ratio':>7s} "
            f"{'test Adam':>9s} {'test RLEKF':>10s} {'test ratio':>10s}")
    print(head)
    rows = []
    for basis in runs:
        for seed in seeds:
            (va, da, _, ta), (vr, dr, _, tr) = runs[basis][seed]
            target = va[-1]
            hit = np.flatnonzero(vr <= target)
            ep = int(hit[0]) + 1 if hit.size else np.nan
            secs = float(dr[hit[0]]) if hit.size else np.nan
            row = (len(va), ep, ep / len(va), da[-1], secs, secs / da[-1], ta, tr, tr / ta)
            rows.append(row)
            print(f"{basis:11s} {seed:4d} {target:8.4f} {row[0]:7d} {ep:8.0f} {row[2]:8.3f} "
                  f"{row[3]:7.2f} {secs:7.2f} {row[5]:7.3f} {ta:9.4f} {tr:10.4f} {row[8]:10.3f}")
    med = np.nanmedian(np.array(rows, dtype=float), axis=0)
    reached = sum(np.isfinite(r[1]) for r in rows)
    print(f"median ratios: epochs {med[2]:.3f}, time {med[5]:.3f}, test RMSE {med[8]:.3f}; "
          f"RLEKF reached the target in {reached}/{len(rows)} runs")


def bench_gap(args):
    hidden = tuple(args.hidden)
    runs = {}
    for basis in ("tanh", args.basis):
        runs[basis] = {}
        for seed in range(args.seeds):
            splits = gap_splits(seed)
            adam = run_regressor("adam", basis, args.adam_epochs, seed, splits, hidden,
                                 args.batch_size)
            rlekf = run_regressor("rlekf", basis, args.adam_epochs // 5, seed, splits, hidden,
                                  args.batch_size)
            runs[basis][seed] = (adam, rlekf)
    compare(f"band gap, hidden={hidden}, batch {args.batch_size}", runs,
            range(args.seeds), args.adam_epochs)


def cu_splits(n_train: int):
    """Cu MD frames (two runs, 300 K and 500 K): training pool from the start of each run
    (the potential holds out its last block for validation), test from each run's end."""
    import ase.io

    frames = ase.io.read(DATA_CU, ":")
    runs = [[f for f in frames if f.info["source"] == s]
            for s in sorted({f.info["source"] for f in frames})]
    half = n_train // len(runs)
    stride = max(1, int(0.7 * len(runs[0])) // half)
    train = [f for run in runs for f in run[: half * stride : stride]]
    test = [f for run in runs for f in run[int(0.85 * len(run)) :: 2]]
    return train, test


def run_potential(optimizer, basis, epochs, seed, train, test, args):
    from taafs_sk.atomistic import TAAFSPotential

    pot = TAAFSPotential(
        tuple(args.cu_hidden), basis=basis, n_basis=6, max_epochs=epochs,
        batch_size=1 if optimizer == "rlekf" else args.cu_batch_size, optimizer=optimizer,
        lr=1e-3, validation_fraction=0.2, patience=10**6, random_state=seed,
    )
    start = time.perf_counter()
    pot.fit(train)
    total = time.perf_counter() - start
    val = np.sqrt([h["valid_loss"] for h in pot.history_])  # sqrt of the weighted loss
    dur = np.cumsum([h["dur"] for h in pot.history_])
    n_atoms = np.array([len(a) for a in test])
    e_true = np.array([a.get_potential_energy() for a in test])
    e_rmse = 1e3 * np.sqrt(np.mean(((pot.predict(test) - e_true) / n_atoms) ** 2))
    f_pred = np.concatenate(pot.predict_forces(test))
    f_true = np.concatenate([a.get_forces() for a in test])
    f_rmse = float(np.sqrt(np.mean((f_pred - f_true) ** 2)))
    return val, dur, total, (e_rmse, f_rmse)


def bench_cu(args):
    try:
        import taafs_sk.atomistic  # noqa: F401
    except ImportError as exc:
        print(f"\nCu energies + forces: skipped, TAAFSPotential not available ({exc}).")
        return
    train, test = cu_splits(args.cu_frames)
    epochs = args.cu_adam_epochs
    runs = {}
    for basis in ("tanh", args.basis):
        runs[basis] = {}
        for seed in range(args.seeds):
            adam = run_potential("adam", basis, epochs, seed, train, test, args)
            rlekf = run_potential("rlekf", basis, epochs // 5, seed, train, test, args)
            runs[basis][seed] = (adam, rlekf)
    print("\n(test RMSE columns below: force eV/A; energy meV/atom in the last lines)")
    forces = {b: {s: tuple((*r[:3], r[3][1]) for r in pair) for s, pair in d.items()}
              for b, d in runs.items()}
    compare(f"Cu energies + forces, {len(train)} training frames ({len(test)} test), hidden="
            f"{tuple(args.cu_hidden)}, Adam batch {args.cu_batch_size}, RLEKF batch 1, target "
            "sqrt(weighted valid loss)", forces, range(args.seeds), epochs)
    for basis, d in runs.items():
        for seed, (adam, rlekf) in d.items():
            print(f"{basis:11s} {seed:4d} energy test RMSE meV/atom: Adam {adam[3][0]:.3f}, "
                  f"RLEKF {rlekf[3][0]:.3f}, ratio {rlekf[3][0] / adam[3][0]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=["gap", "cu", "all"], default="all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--adam-epochs", type=int, default=300)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--basis", default="chebyshev1", help="the TAAF basis besides tanh")
    parser.add_argument("--cu-frames", type=int, default=40)
    parser.add_argument("--cu-adam-epochs", type=int, default=100)
    parser.add_argument("--cu-hidden", type=int, nargs="+", default=[32, 32])
    parser.add_argument("--cu-batch-size", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.problem in ("gap", "all"):
        bench_gap(args)
    if args.problem in ("cu", "all"):
        bench_cu(args)


if __name__ == "__main__":
    main()
