"""Finding (c) of the seed study, tested fairly: does less overfitting mean more tolerance?

The seed abstract states that "models that show less overfitting (not necessarily the lowest
test set error) are more noise-tolerant". Varying the architecture confounds that with the
width's own effect on tolerance, so here the architecture is fixed per dataset (one hidden
layer of ``--width`` tanh neurons, ``TAAFSRegressor(basis='tanh')``, same seed) and only the
regularisation varies: weight decay x early-stopping patience. For each model:

* overfitting: ``overfit = test RMSE / train RMSE``;
* noise tolerance: ``rmse_ratio`` at 5 % and 10 % additive post-activation noise
  (:func:`~taafs_sk.analog.noise_sweep`, ``--draws`` draws, scales calibrated on the
  training inputs);
* dispersion tolerance: mean test RMSE over ``--chips`` chips at 10 % ``NAFDispersion``
  (ideal weights on each chip) over the ideal test RMSE.

Per dataset (over the distinct models: settings whose early stopping restored the same epoch
count once), the Spearman correlation of ``overfit`` with each tolerance ratio, with a
bootstrap 95 % interval over the models, and the same against the test RMSE (a model that fits
worse has a larger noiseless RMSE, which shrinks every ratio). The seed's finding predicts a
positive correlation with ``overfit`` (more overfitting, larger degradation). Writes
``overfitting_<dataset>.csv`` to ``--out``::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/bench_overfitting.py \
        [--datasets perovskites hydrocarbons qm9] [--rows 2000] [--out results/overfitting]
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import root_mean_squared_error

from taafs_sk import TAAFSRegressor
from taafs_sk.analog import NAFDispersion, as_torch_model, disperse_network, noise_sweep

WEIGHT_DECAYS = (0.0, 1e-4, 1e-3, 1e-2, 3e-2)
PATIENCES = (3, 10, 30)
TOLERANCES = ("noise_ratio@0.05", "noise_ratio@0.1", "dispersion_ratio@0.1")


def spearman_interval(x, y, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Spearman rho and its percentile-bootstrap 95 % interval (resampling the models)."""
    x, y = np.asarray(x), np.asarray(y)
    rho = float(spearmanr(x, y).statistic)
    rng = np.random.RandomState(seed)
    idx = rng.randint(len(x), size=(n_boot, len(x)))
    boots = []
    for rows in idx:  # 2000 tiny rank correlations, not a hot path
        if np.unique(x[rows]).size > 1 and np.unique(y[rows]).size > 1:
            boots.append(spearmanr(x[rows], y[rows]).statistic)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return rho, float(lo), float(hi)


def run_dataset(name, X_tr, X_te, y_tr, y_te, args) -> pd.DataFrame:
    rows = []
    seeds = np.random.SeedSequence(7).generate_state(args.chips)
    for wd, patience in itertools.product(WEIGHT_DECAYS, PATIENCES):
        est = TAAFSRegressor((args.width,), basis="tanh", weight_decay=wd, patience=patience,
                             max_epochs=args.max_epochs, lr=2e-3,
                             batch_size=32 if len(y_tr) <= 2000 else 64, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_tr, y_tr)
        train = root_mean_squared_error(y_tr, est.predict(X_tr))
        test = root_mean_squared_error(y_te, est.predict(X_te))
        sweep = noise_sweep(est, X_te, y_te, levels=[0.05, 0.1], n_draws=args.draws,
                            X_calib=X_tr, random_state=0)
        model = as_torch_model(est)
        chips = [root_mean_squared_error(y_te, disperse_network(
            model, NAFDispersion("tanh", 0.1), random_state=int(s)).predict(X_te))
            for s in seeds]
        row = {"dataset": name, "width": args.width, "weight_decay": wd, "patience": patience,
               "epochs": len(est.history_), "train_rmse": train, "test_rmse": test,
               "overfit": test / train,
               "noise_ratio@0.05": float(sweep.rmse_ratio.iloc[0]),
               "noise_ratio@0.1": float(sweep.rmse_ratio.iloc[1]),
               "dispersion_ratio@0.1": float(np.mean(chips)) / test}
        rows.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in row.items()), flush=True)
    return pd.DataFrame(rows)


def correlations(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for name, part in table.groupby("dataset", sort=False):
        # settings whose early stopping restored the same epoch give the same model: count once
        part = part.drop_duplicates(subset=["train_rmse", "test_rmse"])
        for tol in TOLERANCES:
            rho, lo, hi = spearman_interval(part["overfit"], part[tol])
            rho_t, lo_t, hi_t = spearman_interval(part["test_rmse"], part[tol])
            out.append({"dataset": name, "tolerance": tol, "n_distinct_models": len(part),
                        "overfit_range": f"{part.overfit.min():.2f}-{part.overfit.max():.2f}",
                        "spearman": rho, "ci95_low": lo, "ci95_high": hi,
                        "spearman_vs_test_rmse": rho_t, "ci95_low_test": lo_t,
                        "ci95_high_test": hi_t})
    return pd.DataFrame(out)


def main(argv=None) -> None:
    from bench_chips import load

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["perovskites", "hydrocarbons", "qm9"])
    p.add_argument("--rows", type=int, default=2000, help="training rows kept")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--max-epochs", type=int, default=300)
    p.add_argument("--draws", type=int, default=32)
    p.add_argument("--chips", type=int, default=16)
    p.add_argument("--out", default="results/overfitting")
    p.add_argument("--cache", default=None)
    p.add_argument("--report", action="store_true",
                   help="no training: the correlations of the CSVs already in --out")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    if args.report:
        tables = [pd.read_csv(out / f"overfitting_{name}.csv") for name in args.datasets
                  if (out / f"overfitting_{name}.csv").exists()]
        with pd.option_context("display.width", 200):
            print(correlations(pd.concat(tables)).round(3).to_string(index=False))
        return
    out.mkdir(parents=True, exist_ok=True)
    tables = []
    for name in args.datasets:
        parts = load(name, args.rows, None if args.cache is None else Path(args.cache))
        table = run_dataset(name, *parts, args)
        table.to_csv(out / f"overfitting_{name}.csv", index=False)
        tables.append(table)
    with pd.option_context("display.width", 160):
        print(correlations(pd.concat(tables)).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
