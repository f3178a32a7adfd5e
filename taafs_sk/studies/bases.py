"""Basis comparison: accuracy, cost and noise tolerance of each activation basis."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sklearn.metrics import root_mean_squared_error

from ..analog import noise_sweep
from ._common import (
    activation_names,
    arch_label,
    check_names,
    count_or,
    dataset_meta,
    fit,
    hidden_sizes,
    non_negative_floats,
    positive_int,
    regressor,
    resolve,
    run_parallel,
    say,
)

__all__ = ["basis_comparison"]


def basis_comparison(
    dataset, *, bases: Sequence[str] | None = None, repeats: int | None = None,
    quick: bool = False, random_state=0, architecture: Sequence[int] = (32,),
    noise_level: float = 0.05, n_draws: int = 16, max_epochs: int | None = None,
    n_jobs: int | None = None, data_home=None, verbose: int = 0,
) -> pd.DataFrame:
    """Accuracy, cost and noise tolerance of each activation basis on the same split.

    Parameters
    ----------
    dataset : {'hydrocarbons', 'perovskites', 'qm9'} or tuple of arrays
        See :func:`noise_tolerance`.
    bases : sequence of str, default=None
        Bases to compare; all of :func:`taafs_sk.nn.bases.available_bases` plus ``'tanh'``.
    repeats : int, default=None
        Training seeds per basis: 3 (1 when ``quick``).
    quick : bool, default=False
        Small subsample, few epochs, one repeat.
    random_state : int, default=0
        Seeds the split; repeat ``r`` trains with seed ``random_state + r``.
    architecture : tuple of int, default=(32,)
        Hidden layer sizes.
    noise_level : float, default=0.05
        Post-activation noise level of the ``noise_ratio`` column.
    n_draws : int, default=16
        Noise draws behind ``noise_ratio``.
    max_epochs : int, default=None
        Epoch cap (early stopping may end sooner): 2000 (40 when ``quick``).
    n_jobs : int, default=None
        Fits run in parallel through :mod:`joblib` (see :func:`noise_tolerance`); the table
        does not depend on it (``fit_time_s`` aside).
    data_home : str or path, default=None
        Data folder of a named dataset; by default ``TAAFS_SK_DATA``.
    verbose : int, default=0
        Print progress to stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per basis and repeat: ``dataset, target_unit, basis, repeat, architecture,
        n_params, n_epochs, fit_time_s, train_rmse, test_rmse`` (in ``target_unit``),
        ``noise_level`` and ``noise_ratio`` (noisy / noiseless test RMSE at that level).
    """
    if bases is None:
        bases = (*activation_names()[0], "tanh")
    if isinstance(bases, str) or not len(bases):
        raise ValueError(f"bases must be a non-empty sequence of names; got {bases!r}.")
    check_names("bases", bases, sum(activation_names(), ()))
    repeats = count_or("repeats", repeats, 1 if quick else 3)
    n_draws = positive_int("n_draws", n_draws, allow_none=False)
    max_epochs = positive_int("max_epochs", max_epochs)
    (noise_level,) = non_negative_floats("noise_level", [noise_level])
    arch = hidden_sizes(architecture)
    name, data = resolve(dataset, quick, random_state, data_home)
    configs = [(b, r) for b in bases for r in range(repeats)]
    jobs = [(regressor(arch, b, quick, random_state + r, len(data[2]), max_epochs), data,
             noise_level, n_draws, random_state + r) for b, r in configs]
    def report(i, res):
        basis, r = configs[i]
        say(verbose, f"{name} {basis} #{r}: test RMSE {res['test_rmse']:.4g}")

    results = run_parallel(_one_fit, jobs, n_jobs, on_result=report)
    rows = []
    for (basis, r), res in zip(configs, results, strict=True):
        rows.append({**dataset_meta(name), "basis": basis, "repeat": r,
                     "architecture": arch_label(arch), **res})
    return pd.DataFrame(rows)


def _one_fit(est, data, noise_level, n_draws, seed) -> dict:
    """Train one basis with one seed and measure it (one joblib job)."""
    X_tr, X_te, y_tr, y_te = data
    seconds = fit(est, X_tr, y_tr)
    sweep = noise_sweep(est, X_te, y_te, [noise_level], n_draws=n_draws, X_calib=X_tr,
                        random_state=seed)
    return {"n_params": est.n_params_, "n_epochs": est.n_iter_, "fit_time_s": seconds,
            "train_rmse": root_mean_squared_error(y_tr, est.predict(X_tr)),
            "test_rmse": root_mean_squared_error(y_te, est.predict(X_te)),
            "noise_level": noise_level, "noise_ratio": float(sweep["rmse_ratio"].iloc[0])}
