"""Test RMSE of TAAFSRegressor with each trainable basis against its tanh network, side by side.

For each target, one fixed train/test split; a StandardScaler fitted on the training part in
front of every model. Every TAAFS model (``basis='tanh'`` and each trainable basis) gets the
same tuning budget: the grid ``--lr`` x ``--weight-decay`` (plus, for the trainable bases
only, ``--activation-lr-ratio``, the activation coefficients' learning rate as a multiple of
``lr``), scored on an inner validation split of the training part (by composition where the
target has groups); the best setting is then refitted on the whole training part with
``--seeds`` seeds and scored on the test part. The "best basis" is chosen by the inner
validation score, never by the test set. scikit-learn's ``MLPRegressor`` (same hidden layers,
early stopping, lr 1e-3), ``RandomForestRegressor`` (200 trees) and, with ``--baselines``,
``RidgeCV`` and ``AdditiveKernelNN`` run on the same splits.

Targets: ``halide_gap`` / ``halide_hof`` (the seed authors' 540 halide double perovskites,
31 descriptors, split by composition, ``GroupShuffleSplit(test_size=0.2, random_state=0)``);
``pilania`` (1,306 oxides, :class:`~taafs_sk.featurizers.DoublePerovskiteFeaturizer`,
``train_test_split(test_size=0.2, random_state=0)``); ``compas`` (COMPAS-3x xTB energies,
:class:`~taafs_sk.featurizers.HydrocarbonFeaturizer`) and ``qm9`` (ZPVE in meV,
:class:`~taafs_sk.featurizers.MoleculeFeaturizer`, ``skip_connection='ridge'``, or ``True`` with
``--qm9-skip true``): bench_features' 80/20 split of the whole set, from which ``--n-train``
training and ``--n-test`` test molecules are drawn (``random_state=0``); the featurizer is
fitted on the training rows.

Each finished (target, model) row is appended as JSON to ``--out`` (so partial runs keep
their results); ``--report FILE`` prints the tables from such a file.

Run from the project root (one thread; nice it on a shared machine)::

    nice -n 10 .venv/bin/python benchmarks/bench_accuracy.py --targets halide_gap \\
        [--bases tanh bspline hermite fourier chebyshev1] [--seeds 3] [--out results.jsonl]
    .venv/bin/python benchmarks/bench_accuracy.py --report results.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import (
    GroupKFold,
    GroupShuffleSplit,
    KFold,
    ShuffleSplit,
    train_test_split,
)
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.datasets import load_double_perovskites, load_hydrocarbons, load_qm9

UNITS = {"halide_gap": "eV", "halide_hof": "eV", "pilania": "eV", "compas": "eV",
         "qm9": "meV"}


def load_target(name: str, n_train: int, n_test: int):
    """``(X_train, X_test, y_train, y_test, groups_train or None, note)``, scaled."""
    groups_tr = None
    if name.startswith("halide"):
        b = load_double_perovskites("manzhos", "band_gap" if name == "halide_gap"
                                    else "formation_energy")
        X, y, g = np.asarray(b.data, float), np.asarray(b.target, float), b.groups
        tr, te = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(X, y, g))
        Xtr, Xte, groups_tr = X[tr], X[te], g[tr]
        note = f"{len(tr)} train / {len(te)} test rows, split by composition"
    elif name == "pilania":
        from taafs_sk.featurizers import DoublePerovskiteFeaturizer
        b = load_double_perovskites("pilania", "band_gap")
        y = np.asarray(b.target, float)
        tr, te = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0)
        feat = DoublePerovskiteFeaturizer(element_lumo=b.element_lumo)
        data = np.asarray(b.data, dtype=object)
        Xtr = feat.fit_transform(data[tr])
        Xte = feat.transform(data[te])
        note = f"{len(tr)} train / {len(te)} test rows (80/20)"
    else:
        if name == "compas":
            from taafs_sk.featurizers import HydrocarbonFeaturizer
            b = load_hydrocarbons(level="xtb")
            feat = HydrocarbonFeaturizer(n_jobs=1)
        else:
            from taafs_sk.featurizers import MoleculeFeaturizer
            b = load_qm9(target="zpve", energy_unit="meV")
            feat = MoleculeFeaturizer(n_jobs=1)
        data, y = np.asarray(b.data, dtype=object), np.asarray(b.target, float)
        tr_all, te_all = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0)
        rng = np.random.RandomState(0)
        tr = np.sort(rng.choice(tr_all, min(n_train, len(tr_all)), replace=False))
        te = np.sort(rng.choice(te_all, min(n_test, len(te_all)), replace=False))
        Xtr = np.asarray(feat.fit_transform(data[tr]), float)
        Xte = np.asarray(feat.transform(data[te]), float)
        note = (f"{len(tr)} of {len(tr_all)} train / {len(te)} of {len(te_all)} test rows "
                "of the 80/20 split, drawn at random")
    scaler = StandardScaler().fit(Xtr)
    keep = scaler.scale_ > 0
    Xtr, Xte = scaler.transform(Xtr)[:, keep], scaler.transform(Xte)[:, keep]
    return Xtr, Xte, y[tr], y[te], groups_tr, note + f", {Xtr.shape[1]} features"


def rmse(model, X, y) -> float:
    return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))


def fit_quiet(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def taafs_grid(args, basis: str) -> list[dict]:
    """The tuning grid of one TAAFS model: ``--lr`` x ``--weight-decay`` (tanh:
    ``--tanh-lr`` x ``--tanh-weight-decay`` when given) times, for tanh, every list of
    ``--tanh-grid`` and, for a trainable basis, ``--activation-lr-ratio`` and every list of
    ``--basis-grid``."""
    if basis == "tanh":
        lrs, wds = args.tanh_lr or args.lr, args.tanh_weight_decay or args.weight_decay
        ratios, extra = [None], json.loads(args.tanh_grid)
    else:
        lrs, wds = args.lr, args.weight_decay
        ratios = [None if r == 1 else r for r in args.activation_lr_ratio]
        extra = json.loads(args.basis_grid)
    grid = []
    for lr, wd, r, *more in itertools.product(lrs, wds, ratios, *extra.values()):
        grid.append({"lr": lr, "weight_decay": wd,
                     "activation_lr": None if r is None else lr * r,
                     **dict(zip(extra, more, strict=True))})
    return grid


def inner_splits(args, X, y, groups) -> list[tuple[np.ndarray, np.ndarray]]:
    """``--inner-folds`` 1: one 20 % split (by group where there are groups); K > 1: K-fold
    (``GroupKFold`` where there are groups), all within the training part."""
    if args.inner_folds == 1:
        splitter = (GroupShuffleSplit(1, test_size=0.2, random_state=1) if groups is not None
                    else ShuffleSplit(1, test_size=0.2, random_state=1))
    elif groups is not None:
        splitter = GroupKFold(args.inner_folds)
    else:
        splitter = KFold(args.inner_folds, shuffle=True, random_state=1)
    return list(splitter.split(X, y, groups))


def _inner_score(args, basis, params, skip, X, y, itr, iva) -> float:
    torch.set_num_threads(1)
    m = fit_quiet(make_taafs(args, basis, params, 0, skip), X[itr], y[itr])
    return rmse(m, X[iva], y[iva])


def make_taafs(args, basis: str, params: dict, seed: int, skip: bool) -> TAAFSRegressor:
    extra = {} if basis == "tanh" else json.loads(args.basis_options)
    common = json.loads(args.options)
    return TAAFSRegressor(tuple(args.hidden), basis=basis, max_epochs=args.max_epochs,
                          skip_connection=skip, random_state=seed,
                          **{**common, **extra, **params})


def run_taafs(args, basis, data, skip) -> dict:
    Xtr, Xte, ytr, yte, groups, _ = data
    folds = inner_splits(args, Xtr, ytr, groups)
    grid = taafs_grid(args, basis)
    start = time.perf_counter()
    jobs = [(params, itr, iva) for params in grid for itr, iva in folds]
    flat = Parallel(n_jobs=args.n_jobs)(
        delayed(_inner_score)(args, basis, params, skip, Xtr, ytr, itr, iva)
        for params, itr, iva in jobs)
    per_fold = np.asarray(flat).reshape(len(grid), len(folds))
    scores = per_fold.mean(1)
    i_best = int(np.argmin(scores))
    best = grid[i_best]
    test, epochs, times = [], [], []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        m = fit_quiet(make_taafs(args, basis, best, seed, skip), Xtr, ytr)
        times.append((time.perf_counter() - t0) / max(m.n_iter_, 1))
        test.append(rmse(m, Xte, yte))
        epochs.append(m.n_iter_)
    return {"inner": float(scores[i_best]), "inner_folds": per_fold[i_best].tolist(),
            "best": best, "test": test, "epochs": epochs,
            "epoch_s": float(np.median(times)), "total_s": time.perf_counter() - start}


def run_sklearn(args, name, data) -> dict:
    Xtr, Xte, ytr, yte, _, _ = data
    start = time.perf_counter()
    test = []
    mu, sd = ytr.mean(), ytr.std()
    for seed in range(args.seeds):
        if name == "MLPRegressor":
            m = MLPRegressor(hidden_layer_sizes=tuple(args.hidden), early_stopping=True,
                             max_iter=args.max_epochs, n_iter_no_change=30, random_state=seed)
            fit_quiet(m, Xtr, (ytr - mu) / sd)
            test.append(float(np.sqrt(np.mean((m.predict(Xte) * sd + mu - yte) ** 2))))
            continue
        if name == "RandomForest":
            m = RandomForestRegressor(200, max_features=0.3, random_state=seed, n_jobs=1)
        elif name == "RidgeCV":
            m = RidgeCV(alphas=np.logspace(-6, 3, 19))
        else:
            from taafs_sk import AdditiveKernelNN
            m = AdditiveKernelNN(random_state=seed)
        test.append(rmse(fit_quiet(m, Xtr, ytr), Xte, yte))
    return {"test": test, "total_s": time.perf_counter() - start}


def report(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    for target in dict.fromkeys(r["target"] for r in rows):
        rs = {r["model"]: r for r in rows if r["target"] == target}
        unit = UNITS[target]
        print(f"\n{target} ({rs[next(iter(rs))]['note']}) test RMSE [{unit}]")
        print(f"{'model':<22}{'mean':>9}{'std':>8}{'x tanh':>8}{'inner':>9}  {'epochs':<20}"
              f"{'s/epoch':>8}  setting")
        for model, r in rs.items():
            ref = rs.get("tanh" + r.get("tag", ""), rs.get("tanh"))
            base = np.mean(ref["test"]) if ref is not None else np.nan
            t = np.asarray(r["test"])
            ep = "/".join(str(e) for e in r.get("epochs", []))
            print(f"{model:<22}{t.mean():9.4g}{t.std():8.2g}{t.mean() / base:8.3f}"
                  f"{r.get('inner', np.nan):9.4g}  {ep:<20}{r.get('epoch_s', np.nan):8.3f}"
                  f"  {r.get('best', '')}")
        for tag in dict.fromkeys(r.get("tag", "") for r in rs.values()):
            ref = rs.get("tanh" + tag, rs.get("tanh"))
            cand = {m: r for m, r in rs.items() if "inner" in r and r.get("tag", "") == tag
                    and not m.startswith("tanh")}
            if cand and ref is not None:
                pick = min(cand, key=lambda m: cand[m]["inner"])
                print(f"best trainable basis by inner validation (tag {tag!r}): {pick}, "
                      f"{np.mean(cand[pick]['test']) / np.mean(ref['test']):.3f} x "
                      f"{ref['model']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=list(UNITS), choices=list(UNITS))
    parser.add_argument("--bases", nargs="*",
                        default=["tanh", "bspline", "hermite", "fourier", "chebyshev1"])
    parser.add_argument("--baselines", nargs="*", default=["MLPRegressor", "RandomForest"])
    parser.add_argument("--hidden", nargs="+", type=int, default=[64, 64])
    parser.add_argument("--max-epochs", type=int, default=300)
    parser.add_argument("--lr", nargs="+", type=float, default=[1e-3, 3e-3])
    parser.add_argument("--weight-decay", nargs="+", type=float, default=[0.0, 1e-4])
    parser.add_argument("--activation-lr-ratio", nargs="+", type=float, default=[1.0])
    parser.add_argument("--tanh-lr", nargs="+", type=float, default=None,
                        help="tanh's own lr grid (default: --lr)")
    parser.add_argument("--tanh-weight-decay", nargs="+", type=float, default=None,
                        help="tanh's own weight_decay grid (default: --weight-decay)")
    parser.add_argument("--basis-grid", default="{}",
                        help="JSON dict of lists: more grid axes for the trainable bases, "
                             "e.g. '{\"sharing\": [\"layer\", \"neuron\"]}'")
    parser.add_argument("--tanh-grid", default="{}",
                        help="JSON dict of lists: more grid axes for tanh, e.g. "
                             "'{\"lr_schedule\": [\"constant\", \"cosine\"]}' to give it as "
                             "many points as the bases get from --activation-lr-ratio")
    parser.add_argument("--inner-folds", type=int, default=1,
                        help="1: one inner 20%% split; K > 1: K-fold inner CV")
    parser.add_argument("--n-jobs", type=int, default=1, help="joblib workers (inner fits)")
    parser.add_argument("--options", default="{}",
                        help="JSON dict of TAAFSRegressor options for every TAAFS model")
    parser.add_argument("--basis-options", default="{}",
                        help="JSON dict of TAAFSRegressor options for the trainable bases")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--qm9-skip", choices=["true", "ridge"], default="ridge",
                        help="skip_connection of the TAAFS models on qm9")
    parser.add_argument("--skip", choices=["default", "true", "false", "ridge"],
                        default="default",
                        help="skip_connection of the TAAFS models (default: 'ridge' on qm9 "
                             "only, see --qm9-skip)")
    parser.add_argument("--out", default="bench_accuracy.jsonl")
    parser.add_argument("--tag", default="", help="suffix of the model names in --out")
    parser.add_argument("--report", default=None)
    args = parser.parse_args()
    if args.report:
        report(args.report)
        return
    torch.set_num_threads(1)
    for target in args.targets:
        t0 = time.perf_counter()
        data = load_target(target, args.n_train, args.n_test)
        print(f"{target}: {data[5]} (loaded in {time.perf_counter() - t0:.0f} s)", flush=True)
        skip = {"true": True, "false": False, "ridge": "ridge"}.get(args.skip, False)
        if target == "qm9" and args.skip == "default":
            skip = "ridge" if args.qm9_skip == "ridge" else True
        for model in [*args.bases, *args.baselines]:
            if model in ("MLPRegressor", "RandomForest", "RidgeCV", "AdditiveKernelNN"):
                row = run_sklearn(args, model, data)
            else:
                row = run_taafs(args, model, data, skip)
            row.update(target=target, model=model + args.tag, note=data[5], tag=args.tag,
                       inner_scheme=args.inner_folds)
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"  {model + args.tag:<16} test {np.mean(row['test']):.4g} "
                  f"+- {np.std(row['test']):.2g} ({row['total_s']:.0f} s) "
                  f"{row.get('best', '')} epochs {row.get('epochs', '')}", flush=True)
    report(args.out)


if __name__ == "__main__":
    main()
