"""One network for every chip: dispersion-aware training on the three seed datasets.

Per dataset (loaded, featurised and split by :func:`taafs_sk.studies.load_study_data`; the
molecule sets at the studies' 6,000 rows,
the training part optionally cut to ``--rows``): a tanh ``TAAFSRegressor`` is trained (the ideal
network), then :class:`~taafs_sk.analog.DispersionAwareRegressor` trains a copy for
``--steps`` Adam steps on a fresh 10 %-dispersion chip per minibatch (``--resample``) and the
equal-epochs control; :func:`~taafs_sk.analog.evaluate_on_chips` scores everything on
``--chips`` unseen chips, with per-chip retraining (same epochs) on the first ``--retrain``.
Also times plain against dispersion-aware training of the same network in one process.

Writes ``chips_<dataset>.csv`` (one row per chip and model) to ``--out`` and prints the
summaries; run from the project root::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/bench_chips.py \
        [--datasets perovskites hydrocarbons qm9] [--rows 3000] [--out results/chips]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import root_mean_squared_error

from taafs_sk import TAAFSRegressor
from taafs_sk.analog import (
    DispersionAwareRegressor,
    NAFDispersion,
    disperse_network,
    evaluate_on_chips,
    summarize_chips,
    train_dispersion_aware,
)


def load(name: str, rows: int | None, cache: Path | None):
    """The study split (:func:`~taafs_sk.studies.load_study_data`: the molecule sets at
    6,000 rows), cached as .npz outside the repository (featurising is slow); the training
    part then subsampled to ``rows`` rows (``None``: all)."""
    from taafs_sk.studies import load_study_data

    path = None if cache is None else cache / f"{name}.npz"
    if path is not None and path.exists():
        d = np.load(path)
        parts = d["X_train"], d["X_test"], d["y_train"], d["y_test"]
    else:
        parts = load_study_data(name, random_state=0)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, X_train=parts[0], X_test=parts[1], y_train=parts[2],
                     y_test=parts[3])
    X_tr, X_te, y_tr, y_te = parts
    if rows is not None and rows < len(y_tr):
        keep = np.sort(np.random.RandomState(0).choice(len(y_tr), rows, replace=False))
        X_tr, y_tr = X_tr[keep], y_tr[keep]
    return X_tr, X_te, y_tr, y_te


def other_resample(aware, X_tr, y_tr, X_te, y_te, table) -> pd.DataFrame:
    """The same ideal network trained with the other ``resample`` mode (same seed, epochs and
    minibatches), scored on the same chips: rows ``model='aware_<mode>'``."""
    mode = "epoch" if aware.resample == "batch" else "batch"
    model = aware.ideal_model_.copy()
    start = time.perf_counter()
    train_dispersion_aware(model, X_tr, y_tr, aware.nafs, resample=mode,
                           epochs=aware.train_epochs, lr=aware.train_lr,
                           batch_size=aware.train_batch_size,
                           random_state=int(np.random.RandomState(aware.random_state)
                                            .randint(np.iinfo(np.int32).max)))
    print(f"resample={mode}: {time.perf_counter() - start:.1f} s", flush=True)
    rows = []
    for k, seed in table.drop_duplicates("chip")[["chip", "chip_seed"]].itertuples(index=False):
        chip = disperse_network(model, aware.nafs, spans=aware.spans_, random_state=int(seed))
        rows.append({"chip": k, "chip_seed": seed, "model": f"aware_{mode}",
                     "test_rmse": root_mean_squared_error(y_te, chip.predict(X_te))})
    return pd.DataFrame(rows)


def export_errors(name: str, cache: Path | None) -> pd.DataFrame:
    """Round trip of :func:`~taafs_sk.analog.export_hardware`: max |rebuilt - original| on the
    test inputs for a trainable-TAAF network and an ``AdditiveKernelNN``, by table size."""
    import tempfile

    from taafs_sk.additive import AdditiveKernelNN
    from taafs_sk.analog import export_hardware, load_hardware

    X_tr, X_te, y_tr, _ = load(name, None, cache)
    models = {
        "TAAFSRegressor(32-32, legendre)": TAAFSRegressor(
            (32, 32), basis="legendre", max_epochs=300, lr=2e-3, batch_size=32,
            random_state=0),
        "AdditiveKernelNN(16 neurons)": AdditiveKernelNN(n_neurons=16, random_state=0),
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for label, est in models.items():
            est.fit(X_tr, y_tr)
            for n_points in (65, 257, 1025):
                for fmt in ("npz", "csv"):
                    path = export_hardware(est, Path(tmp) / f"m_{n_points}.{fmt}", X_tr,
                                           n_points=n_points, format=fmt)
                    for interp, extra in (("pchip", "linear"), ("linear", "linear"),
                                          ("pchip", "clamp")):
                        rebuilt = load_hardware(path, interpolation=interp,
                                                extrapolation=extra)
                        for inputs, X in (("train", X_tr), ("test", X_te)):
                            err = np.abs(rebuilt.predict(X) - est.predict(X)).max()
                            rows.append({"dataset": name, "model": label,
                                         "n_points": n_points, "format": fmt,
                                         "interpolation": f"{interp}/{extra}",
                                         "inputs": inputs, "max_abs_error": float(err)})
    return pd.DataFrame(rows)


def by_parameter(aware, X_te, y_te, table) -> pd.DataFrame:
    """What limits the dispersion-aware weights: the same chips with only one of gain, shift,
    scale, offset dispersed (rows ``model='<aware|degraded>_only_<param>'``)."""
    rows = []
    seeds = table.drop_duplicates("chip")[["chip", "chip_seed"]].itertuples(index=False)
    seeds = list(seeds)
    for param in ("gain", "shift", "scale", "offset"):
        nafs = NAFDispersion(aware.nafs.base, spread=aware.nafs.spread, params=(param,))
        for label, net in (("aware", aware.model_), ("degraded", aware.ideal_model_)):
            for k, seed in seeds:
                chip = disperse_network(net, nafs, spans=aware.spans_, random_state=int(seed))
                rows.append({"chip": k, "chip_seed": seed, "model": f"{label}_only_{param}",
                             "test_rmse": root_mean_squared_error(y_te, chip.predict(X_te))})
    return pd.DataFrame(rows)


def time_ratio(name: str, rows, width: int, epochs: int, cache, repeats: int = 3) -> None:
    """Dispersion-aware against plain training of the same network (same epochs, minibatches
    and optimiser), alternated ``repeats`` times in one process; prints the median ratio."""
    from taafs_sk.analog import as_torch_model
    from taafs_sk.analog._training import train_model

    X_tr, _, y_tr, _ = load(name, rows, cache)
    bs = 32 if len(y_tr) <= 2000 else 64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = as_torch_model(TAAFSRegressor((width,), basis="tanh", max_epochs=5,
                                             batch_size=bs, random_state=0).fit(X_tr, y_tr))
    nafs = NAFDispersion("tanh", spread=0.1)
    plain, aware = [], []
    for _ in range(repeats):
        for times, run in ((plain, lambda m: train_model(m, X_tr, y_tr, epochs=epochs,
                                                         batch_size=bs, random_state=0)),
                           (aware, lambda m: train_dispersion_aware(
                               m, X_tr, y_tr, nafs, epochs=epochs, batch_size=bs,
                               random_state=0))):
            model = base.copy()
            start = time.perf_counter()
            run(model)
            times.append(time.perf_counter() - start)
    print(f"{name}: {len(y_tr)} rows, width {width}, {epochs} epochs: plain "
          f"{np.median(plain):.2f} s, dispersion-aware {np.median(aware):.2f} s (medians of "
          f"{repeats}); ratio {np.median(aware) / np.median(plain):.2f}", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["perovskites", "hydrocarbons", "qm9"])
    p.add_argument("--rows", type=int, default=None,
                   help="training rows kept (default: all of the study split)")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--spread", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=6000,
                   help="Adam steps of the dispersion-aware, control and per-chip runs "
                        "(epochs = steps / minibatches per epoch)")
    p.add_argument("--max-epochs", type=int, default=1000, help="of the ideal network")
    p.add_argument("--chips", type=int, default=32)
    p.add_argument("--retrain", type=int, default=4)
    p.add_argument("--resample", default="batch", choices=["batch", "epoch"])
    p.add_argument("--compare-resample", action="store_true",
                   help="also train the other resample mode from the same ideal network")
    p.add_argument("--out", default="results/chips")
    p.add_argument("--cache", default=None, help="folder for the featurised splits")
    p.add_argument("--export", action="store_true",
                   help="only measure the export round trip on the first dataset")
    p.add_argument("--timing", type=int, default=None, metavar="EPOCHS",
                   help="only time dispersion-aware against plain training for EPOCHS epochs")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.timing is not None:
        for name in args.datasets:
            time_ratio(name, args.rows, args.width, args.timing,
                       None if args.cache is None else Path(args.cache))
        return
    if args.export:
        table = export_errors(args.datasets[0], None if args.cache is None else Path(args.cache))
        same = table.pivot_table(index=["model", "n_points", "interpolation", "inputs"],
                                 columns="format", values="max_abs_error")
        print(f"npz and csv agree to {float((same.npz - same.csv).abs().max()):.1e}")
        wide = table[table.format == "npz"].pivot_table(
            index=["model", "n_points"], columns=["inputs", "interpolation"],
            values="max_abs_error")
        print(wide.to_string(float_format=lambda v: f"{v:.2e}"))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.datasets:
        X_tr, X_te, y_tr, y_te = load(name, args.rows, None if args.cache is None
                                      else Path(args.cache))
        bs = 32 if len(y_tr) <= 2000 else 64
        epochs = int(np.ceil(args.steps / np.ceil(len(y_tr) / bs)))
        ideal = TAAFSRegressor((args.width,), basis="tanh", max_epochs=args.max_epochs,
                               patience=50, lr=2e-3, batch_size=bs, random_state=0)
        aware = DispersionAwareRegressor(
            ideal, NAFDispersion("tanh", spread=args.spread), resample=args.resample,
            train_epochs=epochs, train_batch_size=bs, random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            aware.fit(X_tr, y_tr)
        fit_time = time.perf_counter() - start
        table = evaluate_on_chips(aware, X_tr, y_tr, X_te, y_te, n_chips=args.chips,
                                  n_retrain=args.retrain)
        table = pd.concat([table, by_parameter(aware, X_te, y_te, table)], ignore_index=True)
        if args.compare_resample:
            table = pd.concat([table, other_resample(aware, X_tr, y_tr, X_te, y_te, table)],
                              ignore_index=True)
        table.insert(0, "dataset", name)
        table["resample"] = args.resample
        table["spread"] = args.spread
        table["width"] = args.width
        table["n_train"] = len(y_tr)
        table["train_epochs"] = epochs
        table["ideal_epochs"] = len(aware.ideal_.history_)
        table["aware_time_s"] = aware.train_time_
        table["control_time_s"] = aware.control_time_
        table.to_csv(out / f"chips_{name}.csv", index=False)
        print(f"== {name}: {len(y_tr)} train / {len(y_te)} test rows, width {args.width}, "
              f"spread {args.spread:.0%}, {epochs} epochs, resample={args.resample}; "
              f"total fit {fit_time:.0f} s; dispersion-aware {aware.train_time_:.1f} s vs "
              f"plain (control) {aware.control_time_:.1f} s: time ratio "
              f"{aware.train_time_ / aware.control_time_:.2f}", flush=True)
        with pd.option_context("display.width", 160):
            print(summarize_chips(table).round(4), flush=True)
            extra = table[table.model.str.contains("_only_|aware_epoch|aware_batch")]
            if len(extra):
                ideal_rmse = table.loc[table.model == "ideal", "test_rmse"].iloc[0]
                stats = extra.groupby("model").test_rmse.agg(["mean", "median"])
                stats["ratio_to_ideal"] = stats["mean"] / ideal_rmse
                print(stats.round(4), flush=True)


if __name__ == "__main__":
    main()
