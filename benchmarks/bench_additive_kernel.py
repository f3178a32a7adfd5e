"""AdditiveKernelNN against scikit-learn's GaussianProcessRegressor, and its scaling on QM9.

Part 1 (accuracy and fit time, side by side in one process): test RMSE and fit time of
``AdditiveKernelNN`` variants and of ``GaussianProcessRegressor`` (RBF with one length scale
per feature + WhiteKernel, ``normalize_y=True``) on

* the seed authors' halide double perovskites (``load_double_perovskites(source="manzhos")``),
  band gap and heat of formation, 80/20 split by composition (``groups``);
* the Pilania oxide double-perovskite gaps, featurized with ``DoublePerovskiteFeaturizer``,
  80/20 split by formula.

Part 2 (scaling): fit time and peak traced memory of the inducing solver on QM9 ZPVE for
M = 2k, 8k, 32k and all 63,768 molecules, with ``featurizers.MoleculeFeaturizer`` when it is
importable, else a clearly labelled stand-in feature set of rdkit counts.

Run: ``TAAFS_SK_DATA=../shared/data python benchmarks/bench_additive_kernel.py [--skip-qm9]``.
Timings depend on the machine's load; compare the ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.gaussian_process import GaussianProcessRegressor  # noqa: E402
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel  # noqa: E402
from sklearn.model_selection import GroupShuffleSplit  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from taafs_sk.additive_kernel import AdditiveKernelNN  # noqa: E402
from taafs_sk.datasets import load_double_perovskites, load_qm9  # noqa: E402

VARIANTS = {
    "AKNN basic (shared l, no ARD)": {"per_neuron": False, "ard": False},
    "AKNN per-neuron + ARD": {},
    "AKNN per-neuron + ARD, 4D neurons": {"n_neurons": "4d"},
    "AKNN per-neuron + ARD, optimize_weights=2": {"optimize_weights": 2},
}


def _split(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    splitter = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0)
    return next(splitter.split(np.zeros(len(groups)), groups=groups))


def _gpr(d: int) -> GaussianProcessRegressor:
    kernel = ConstantKernel() * RBF(np.ones(d), (1e-2, 1e3)) + WhiteKernel(1e-2, (1e-8, 1e1))
    return GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2,
                                    random_state=0)


def _timed_fit(model, X, y) -> float:
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def _rmse(model, X, y) -> float:
    return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))


def compare(
    name: str, X: np.ndarray, y: np.ndarray, groups: np.ndarray, variants: list[str]
) -> None:
    train, test = _split(groups)
    scaler = StandardScaler().fit(X[train])
    Xtr, Xte = scaler.transform(X[train]), scaler.transform(X[test])
    keep = np.ptp(Xtr, axis=0) > 0
    Xtr, Xte = Xtr[:, keep], Xte[:, keep]
    gpr = _gpr(Xtr.shape[1])
    t_gpr = _timed_fit(gpr, Xtr, y[train])
    r_gpr = _rmse(gpr, Xte, y[test])
    print(f"\n{name}: {len(train)} train / {len(test)} test, {Xtr.shape[1]} features")
    head = f"{'RMSE':>9s} {'fit s':>8s} {'RMSE/GPR':>9s} {'GPR t/t':>8s} {'cov95':>6s}"
    print(f"{'model':44s} {head}")
    print(f"{'GPR (RBF-ARD + White, normalize_y)':44s} {r_gpr:9.4f} {t_gpr:8.2f}")
    for label in variants:
        params = dict(VARIANTS[label])
        if params.get("n_neurons") == "4d":
            params["n_neurons"] = 4 * Xtr.shape[1]
        model = AdditiveKernelNN(random_state=0, **params)
        t = _timed_fit(model, Xtr, y[train])
        mean, std = model.predict(Xte, return_std=True)
        r = float(np.sqrt(np.mean((mean - y[test]) ** 2)))
        cov = float(np.mean(np.abs(mean - y[test]) <= 1.96 * std))
        print(f"{label:44s} {r:9.4f} {t:8.2f} {r / r_gpr:9.3f} {t_gpr / t:8.1f} {cov:6.2f}")


def _qm9_features(smiles: np.ndarray) -> tuple[np.ndarray, str]:
    try:
        from featurizers import MoleculeFeaturizer  # type: ignore[attr-defined]
    except ImportError:
        MoleculeFeaturizer = None  # noqa: N806
    if MoleculeFeaturizer is None:
        return _standin_features(smiles), "STAND-IN rdkit counts (MoleculeFeaturizer missing)"
    return np.asarray(MoleculeFeaturizer().fit_transform(smiles), dtype=float), \
        "featurizers.MoleculeFeaturizer"


def _standin_features(smiles: np.ndarray) -> np.ndarray:
    """12 counts per molecule: C, N, O, F, H atoms, single/double/triple/aromatic bonds,
    rings, sp3 and sp2 heavy atoms."""
    from rdkit import Chem

    rows = []
    for smi in smiles:  # featurization, not the timed fit
        mol = Chem.AddHs(Chem.MolFromSmiles(smi))
        atoms = [a.GetSymbol() for a in mol.GetAtoms()]
        bonds = [str(b.GetBondType()) for b in mol.GetBonds()]
        hyb = [str(a.GetHybridization()) for a in mol.GetAtoms() if a.GetSymbol() != "H"]
        rows.append(
            [atoms.count(e) for e in ("C", "N", "O", "F", "H")]
            + [bonds.count(b) for b in ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")]
            + [mol.GetRingInfo().NumRings(), hyb.count("SP3"), hyb.count("SP2")]
        )
    return np.asarray(rows, dtype=float)


def qm9_scaling(sizes: list[int]) -> None:
    smiles, y = load_qm9(return_X_y=True, energy_unit="meV")
    X, label = _qm9_features(np.asarray(smiles))
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    order = rng.permutation(len(y))
    test, pool = order[:2000], order[2000:]
    print(f"\nQM9 ZPVE (meV), inducing solver, features: {label} ({X.shape[1]} columns)")
    print(f"{'M':>7s} {'fit s':>8s} {'peak MiB':>9s} {'MiB/1k rows':>12s} {'test MAE meV':>13s}")
    for m in sizes:
        idx = pool[: min(m, len(pool))] if m < len(y) else np.r_[pool, test]
        model = AdditiveKernelNN(solver="inducing", random_state=0)
        tracemalloc.start()
        t = _timed_fit(model, X[idx], y[idx])
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        mae = float(np.mean(np.abs(model.predict(X[test]) - y[test])))
        note = " (test rows inside training set)" if m >= len(y) else ""
        per_k = 1000 * peak / len(idx)
        print(f"{len(idx):7d} {t:8.1f} {peak:9.1f} {per_k:12.2f} {mae:13.2f}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-qm9", action="store_true")
    parser.add_argument("--skip-perovskites", action="store_true")
    parser.add_argument("--qm9-sizes", type=int, nargs="+", default=[2000, 8000, 32000, 63768])
    parser.add_argument("--sets", nargs="+", default=["band_gap", "formation_energy", "pilania"])
    parser.add_argument("--variants", type=int, nargs="+", default=list(range(len(VARIANTS))),
                        help="indices into VARIANTS")
    args = parser.parse_args()
    variants = [list(VARIANTS)[i] for i in args.variants]
    if not args.skip_perovskites:
        for target in [s for s in args.sets if s != "pilania"]:
            b = load_double_perovskites(source="manzhos", target=target)
            compare(f"Manzhos perovskites, {target}", np.asarray(b.data, float), b.target,
                    b.groups, variants)
        if "pilania" in args.sets:
            from featurizers import DoublePerovskiteFeaturizer

            b = load_double_perovskites(source="pilania", as_frame=True)
            X = np.asarray(DoublePerovskiteFeaturizer().fit_transform(b.data), dtype=float)
            compare("Pilania oxide gaps (DoublePerovskiteFeaturizer)", X,
                    np.asarray(b.target), np.asarray(b.groups), variants)
    if not args.skip_qm9:
        qm9_scaling(args.qm9_sizes)


if __name__ == "__main__":
    main()
