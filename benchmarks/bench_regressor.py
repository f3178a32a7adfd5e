"""TAAFSRegressor fit time and accuracy against scikit-learn's MLPRegressor, side by side.

Both estimators train the same architecture for the same number of epochs on the same data
(no early stopping, so the epoch count is equal), in one process, interleaved and repeated;
the table reports median fit times and the ratio TAAFS / MLPRegressor.

Run from the project root::

    .venv/bin/python benchmarks/bench_regressor.py [--epochs 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GroupShuffleSplit
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor

DATA = Path(os.environ.get("TAAFS_SK_DATA", Path(__file__).resolve().parents[2] / "shared/data"))


def perovskite_split():
    raw = np.loadtxt(DATA / "manzhos-double-perovskites" / "perovskite_ML_data.dat")
    X, y, groups = raw[:, :31], raw[:, 31], np.arange(len(raw)) % 270
    train, test = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(X, y, groups))
    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), scaler.transform(X[test]), y[train], y[test]


def timed_fit(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    Xs = rng.normal(size=(5000, 30))
    ys = np.tanh(Xs[:, :5]).sum(1) + 0.1 * rng.normal(size=5000)
    cases = {"synthetic 5000x30": (Xs, Xs, ys, ys), "perovskite gap": perovskite_split()}
    hidden = (64, 64)
    print(f"hidden={hidden}, batch 64, {args.epochs} epochs, Adam lr 1e-3, 1 thread")
    print(f"{'data':20s} {'model':22s} {'fit s':>8s} {'ratio':>6s} {'test RMSE':>10s}")
    for name, (Xtr, Xte, ytr, yte) in cases.items():
        models = {
            "MLPRegressor tanh": lambda: MLPRegressor(
                hidden, activation="tanh", batch_size=64, max_iter=args.epochs, tol=0,
                n_iter_no_change=10**6, random_state=0),
            "TAAFS tanh": lambda: TAAFSRegressor(
                hidden, basis="tanh", max_epochs=args.epochs, early_stopping=False,
                random_state=0),
            "TAAFS chebyshev1": lambda: TAAFSRegressor(
                hidden, basis="chebyshev1", max_epochs=args.epochs, early_stopping=False,
                random_state=0),
            "TAAFS bspline": lambda: TAAFSRegressor(
                hidden, basis="bspline", max_epochs=args.epochs, early_stopping=False,
                random_state=0),
        }
        times = {k: [] for k in models}
        rmse = {}
        for _ in range(args.repeats):
            for key, make in models.items():
                model = make()
                times[key].append(timed_fit(model, Xtr, ytr))
                rmse[key] = float(np.sqrt(np.mean((model.predict(Xte) - yte) ** 2)))
        base = np.median(times["MLPRegressor tanh"])
        for key in models:
            t = np.median(times[key])
            print(f"{name:20s} {key:22s} {t:8.2f} {t / base:6.2f} {rmse[key]:10.4f}")


if __name__ == "__main__":
    main()
