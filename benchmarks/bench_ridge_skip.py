"""The ridge start of ``skip_connection='ridge'``: scikit-learn's ``RidgeCV`` against
:func:`taafs_sk.taafs._ridge.ridge_gcv`, side by side on the same data.

Both choose the penalty from :data:`taafs_sk.taafs._recipe.RIDGE_ALPHAS` by the leave-one-out
error (generalised cross-validation); ``RidgeCV`` takes a thin SVD of the centred ``X`` (its
route for more rows than columns), ``ridge_gcv`` one eigendecomposition of ``X^T X``. The data
are sparse counts shaped like ``MoleculeFeaturizer`` columns on QM9 (Poisson counts, most of
them zero, standardised as ``StandardScaler`` would), or the cached QM9 features of
``bench_qm9_zpve.py --cache``. Printed: seconds of each, their ratio, the two penalties and the
largest coefficient difference. One BLAS thread unless ``--threads``.

Run from the project root::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ridge_skip.py [--rows 20000]
        [--cols 1500] [--cache /tmp/qm9/features.npz]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.linear_model import RidgeCV

from taafs_sk.taafs._recipe import RIDGE_ALPHAS
from taafs_sk.taafs._ridge import ridge_gcv


def data(args) -> tuple[np.ndarray, np.ndarray]:
    if args.cache:
        stored = np.load(args.cache)
        X, y = stored["X_train"].astype(np.float64), stored["y_train"]
    else:
        rng = np.random.RandomState(0)
        rates = rng.exponential(0.3, args.cols) * (rng.uniform(size=args.cols) < 0.5)
        X = rng.poisson(rates, size=(args.rows, args.cols)).astype(np.float64)
        y = X @ rng.normal(size=args.cols) + rng.normal(size=args.rows)
    keep = X.std(axis=0) > 0
    X = (X[:, keep] - X[:, keep].mean(axis=0)) / X[:, keep].std(axis=0)
    return X, ((y - y.mean()) / y.std())[:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--cols", type=int, default=1500)
    parser.add_argument("--cache", default=None, help="npz of bench_qm9_zpve.py --cache")
    args = parser.parse_args()
    X, y = data(args)
    start = time.perf_counter()
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(X, y)
    t_sklearn = time.perf_counter() - start
    start = time.perf_counter()
    fit = ridge_gcv(X, y, RIDGE_ALPHAS)
    t_ours = time.perf_counter() - start
    diff = np.abs(fit.coef - ridge.coef_.reshape(fit.coef.shape)).max()
    print(f"{X.shape[0]} x {X.shape[1]}: RidgeCV {t_sklearn:.1f} s (alpha {ridge.alpha_:.3g}), "
          f"ridge_gcv {t_ours:.1f} s (alpha {fit.alpha:.3g}); ratio {t_sklearn / t_ours:.1f}x; "
          f"max |coef difference| {diff:.1e}")


if __name__ == "__main__":
    main()
