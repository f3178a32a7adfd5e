"""noise_sweep: the test error of a fitted regressor under circuit noise, level by level."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .._validation import check_count, check_levels
from .._validation._text import short
from ._adapters import torch_model_of
from ._checks import check_targets
from .injected import NoiseInjectedRegressor
from .noise import NoiseModel, noisy_draws

__all__ = ["noise_sweep"]


def _rmse_per_draw(draws: np.ndarray, y) -> np.ndarray:
    """RMSE of each draw ``(n_draws, ...)`` against ``y`` (all outputs pooled)."""
    y = np.asarray(y, dtype=np.float64).reshape(draws.shape[1:])
    err = (draws - y).reshape(len(draws), -1)
    return np.sqrt(np.mean(err**2, axis=1))


def noise_sweep(
    estimator, X, y, levels, noise=None, n_draws=32, X_calib=None, random_state=0
) -> pd.DataFrame:
    """Test error of a fitted regressor under noise, level by level.

    Parameters
    ----------
    estimator : fitted estimator
        Anything :func:`~taafs_sk.analog.as_torch_model` accepts, or a fitted
        :class:`NoiseInjectedRegressor` (its ``estimator_`` and, if ``noise`` is None, its
        ``noise``).
    X, y : array-like
        Evaluation data.
    levels : sequence of float
        Noise levels (0 gives the noiseless estimator exactly).
    noise : NoiseModel, default=None
        Kind, site and scale of the noise (its ``level`` is overridden); ``NoiseModel()``
        by default.
    n_draws : int, default=32
        Draws per level.
    X_calib : array-like, default=None
        Data the noise scales are measured on (pass the training inputs); ``X`` if None.
    random_state : int, default=0
        Seeds the draws; the same value reproduces the table.

    Returns
    -------
    table : pandas.DataFrame
        One row per level: ``level, kind, where, scale, n_draws, rmse_noiseless, rmse_mean,
        rmse_std, rmse_p5, rmse_p50, rmse_p95, rmse_ratio`` (``rmse_mean / rmse_noiseless``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import noise_sweep
    >>> X = np.random.RandomState(0).normal(size=(200, 3)); y = X.sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y)
    >>> table = noise_sweep(est, X, y, levels=[0, 0.05, 0.2], n_draws=8)
    >>> bool(table["rmse_mean"].is_monotonic_increasing)
    True
    """
    levels = check_levels("noise_sweep: levels", levels)
    n_draws = check_count("noise_sweep: n_draws", n_draws)
    if random_state is not None:
        random_state = check_count("noise_sweep: random_state", random_state, minimum=0)
    if isinstance(estimator, NoiseInjectedRegressor):
        check_is_fitted(estimator)
        noise = estimator.noise if noise is None else noise
        estimator = estimator.estimator_
    if noise is not None and not isinstance(noise, NoiseModel):
        raise TypeError(f"noise_sweep: noise must be a NoiseModel or None, got {short(noise)} "
                        f"({type(noise).__name__}).")
    model = torch_model_of(estimator, "noise_sweep: estimator")
    y = check_targets("noise_sweep", "y", y, len(model.network_input(X)))
    nm = clone(noise if noise is not None else NoiseModel())
    nm.fit(model, X if X_calib is None else X_calib)
    seeds = np.random.SeedSequence(random_state).generate_state(len(levels))
    base = np.asarray(estimator.predict(X))
    rmse0 = float(_rmse_per_draw(base[None], y)[0])
    rows = []
    for level, seed in zip(levels, seeds, strict=True):
        nm.set_params(level=float(level))
        rmse = _rmse_per_draw(noisy_draws(model, nm, X, n_draws, seed, estimator.predict), y)
        p5, p50, p95 = np.percentile(rmse, [5, 50, 95])
        rows.append({
            "level": float(level), "kind": nm.kind, "where": nm.where, "scale": nm.scale,
            "n_draws": int(n_draws), "rmse_noiseless": rmse0, "rmse_mean": rmse.mean(),
            "rmse_std": rmse.std(ddof=1) if len(rmse) > 1 else 0.0, "rmse_p5": p5,
            "rmse_p50": p50, "rmse_p95": p95, "rmse_ratio": rmse.mean() / rmse0,
        })
    return pd.DataFrame(rows)
