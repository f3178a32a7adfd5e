"""How good are the featurizers? Test errors of standard scikit-learn models on each dataset.

For each dataset, featurize the raw loader output with this package's featurizer (timed:
featurization throughput), make the fixed 80/20 split (``train_test_split``,
``random_state=0``), and fit, side by side:

* ``RidgeCV`` (alphas 1e-6 .. 1e3) on standardised features;
* ``RandomForestRegressor`` (100 trees, ``max_features=0.3``; on at most ``--rf-rows`` training
  rows, stated in the table, since forests on 50,000 x 2,000 matrices take long on 2 cores);
* ``MLPRegressor`` (two hidden layers of 256, early stopping) on standardised features with a
  standardised target (``TransformedTargetRegressor``).

Datasets: QM9 ZPVE (63,768 molecules, :class:`taafs_sk.featurizers.MoleculeFeaturizer`),
COMPAS-3x (39,482 hydrocarbons, :class:`taafs_sk.featurizers.HydrocarbonFeaturizer`) and the
Pilania oxide double perovskites (1,306, :class:`taafs_sk.featurizers.DoublePerovskiteFeaturizer`
with Pilania's elemental LUMO table). Errors are printed in
meV for QM9 and in eV otherwise.

Reference figures (issue 3, from ``../shared/reference/baselines.py``: simple features):
QM9 ZPVE MAE 25.8 meV (MLPRegressor); COMPAS-3x RMSE 0.055 eV; Pilania gap RMSE 0.369 eV
(MLPRegressor). Targets: QM9 MAE <= 8 meV, COMPAS-3x RMSE <= 0.040 eV, Pilania RMSE <= 0.30 eV.

Run from the project root::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/bench_features.py \
        [--datasets qm9 hydrocarbons pilania] [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from taafs_sk.datasets import load_double_perovskites, load_hydrocarbons, load_qm9
from taafs_sk.featurizers import (
    DoublePerovskiteFeaturizer,
    HydrocarbonFeaturizer,
    MoleculeFeaturizer,
)

TARGETS = {"qm9": ("MAE", 8.0), "hydrocarbons": ("RMSE", 0.040), "pilania": ("RMSE", 0.30)}


def load(name: str, n_jobs: int):
    """Raw entries, target, featurizer and unit factor of one dataset."""
    if name == "qm9":
        bunch = load_qm9(target="zpve", energy_unit="meV")
        return bunch.data, bunch.target, MoleculeFeaturizer(n_jobs=n_jobs), "meV"
    if name == "hydrocarbons":
        bunch = load_hydrocarbons(level="xtb")
        return bunch.data, bunch.target, HydrocarbonFeaturizer(n_jobs=n_jobs), "eV"
    bunch = load_double_perovskites(source="pilania", target="band_gap")
    featurizer = DoublePerovskiteFeaturizer(element_lumo=bunch.element_lumo)
    return bunch.data, bunch.target, featurizer, "eV"


def models(seed: int = 0) -> dict:
    alphas = np.logspace(-6, 3, 19)
    mlp = MLPRegressor(hidden_layer_sizes=(256, 256), early_stopping=True, max_iter=500,
                       learning_rate_init=1e-3, n_iter_no_change=20, random_state=seed)
    return {
        "RidgeCV": make_pipeline(StandardScaler(), RidgeCV(alphas=alphas)),
        "RandomForest": RandomForestRegressor(100, max_features=0.3, n_jobs=-1,
                                              random_state=seed),
        "MLPRegressor": TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp),
                                                   transformer=StandardScaler()),
    }


def evaluate(name: str, n_jobs: int, rf_rows: int) -> None:
    raw, y, featurizer, unit = load(name, n_jobs)
    y = np.asarray(y, dtype=np.float64)
    start = time.perf_counter()
    X = featurizer.fit_transform(raw)
    seconds = time.perf_counter() - start
    print(f"\n{name}: {len(y)} entries -> {X.shape[1]} features in {seconds:.1f} s "
          f"({len(y) / seconds:,.0f} entries/s, n_jobs={n_jobs})")
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0)
    print(f"{'model':<14}{'train rows':>11}{'RMSE':>10}{'MAE':>10}{'fit s':>8}   [{unit}]")
    rng = np.random.RandomState(0)
    for label, model in models().items():
        rows = train
        if label == "RandomForest" and len(train) > rf_rows:
            rows = np.sort(rng.choice(train, rf_rows, replace=False))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X[rows], y[rows])
        fit_s = time.perf_counter() - start
        err = model.predict(X[test]) - y[test]
        rmse, mae = float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err)))
        print(f"{label:<14}{len(rows):>11}{rmse:>10.4g}{mae:>10.4g}{fit_s:>8.1f}")
    metric, target = TARGETS[name]
    print(f"target ({metric}, best of RidgeCV / MLPRegressor): <= {target} {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["qm9", "hydrocarbons", "pilania"],
                        choices=sorted(TARGETS))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--rf-rows", type=int, default=10_000)
    args = parser.parse_args()
    for name in args.datasets:
        evaluate(name, args.n_jobs, args.rf_rows)


if __name__ == "__main__":
    main()
