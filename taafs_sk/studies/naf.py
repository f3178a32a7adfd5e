"""NAF inhomogeneity: cost of per-neuron activation-shape spread, and what retraining wins back."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import root_mean_squared_error

from ..analog import NAFDispersion, as_torch_model
from ..analog.hardware import realize_network, recovery_table, retrain_weights
from ._common import (
    activation_names,
    arch_label,
    batch_size,
    check_names,
    count_or,
    dataset_meta,
    fit,
    hidden_sizes,
    non_negative_floats,
    positive_int,
    positive_number,
    regressor,
    resolve,
    run_parallel,
    say,
)

__all__ = ["naf_inhomogeneity"]

_MODELS = ("ideal", "degraded", "retrained", "control")


def naf_inhomogeneity(
    dataset, *, spreads: Sequence[float] = (0, 0.05, 0.1, 0.2), retrain: bool = True,
    architecture: Sequence[int] = (32,), quick: bool = False, random_state=0,
    base: str = "tanh", n_realizations: int | None = None, retrain_epochs: int | None = None,
    retrain_lr: float = 1e-3, max_epochs: int | None = None, common_draws: bool = False,
    estimator=None, n_jobs: int | None = None, data_home=None, verbose: int = 0,
) -> pd.DataFrame:
    """Cost of per-neuron activation dispersion, and what retraining wins back.

    One ideal network is trained with the nominal activation ``base``; for each spread,
    ``n_realizations`` sets of per-neuron shapes (:class:`~taafs_sk.analog.NAFDispersion`)
    replace its activations (degraded), and the weights are retrained on them (retrained). The
    control is the ideal network trained for the same extra epochs with the same minibatches.

    Parameters
    ----------
    dataset : {'hydrocarbons', 'perovskites', 'qm9'} or tuple of arrays
        See :func:`noise_tolerance`.
    spreads : sequence of float, default=(0, 0.05, 0.1, 0.2)
        Relative spreads of gain, shift, scale and offset.
    retrain : bool, default=True
        Retrain (and train the control); otherwise only ideal and degraded.
    architecture : tuple of int, default=(32,)
        Hidden layer sizes.
    quick : bool, default=False
        Small subsample, few epochs, one realisation.
    random_state : int, default=0
        Seeds split, training and realisations.
    base : str, default='tanh'
        Nominal activation (the ideal model's ``basis``): a fixed activation name.
    n_realizations : int, default=None
        Independent shape draws per spread: 3 (1 when ``quick``).
    retrain_epochs : int, default=None
        Retraining epochs: 200 (10 when ``quick``).
    retrain_lr : float, default=1e-3
        Retraining learning rate.
    max_epochs : int, default=None
        Epoch cap of the ideal model: 2000 (40 when ``quick``).
    common_draws : bool, default=False
        Realisation ``r`` uses the same random deviations at every spread, scaled by the
        spread (the same devices, more or less alike; common random numbers). The curves
        against spread are then smooth with few realisations. By default every spread and
        realisation gets draws of its own.
    estimator : estimator, default=None
        Template replacing the ``TAAFSRegressor`` for the ideal model.
    n_jobs : int, default=None
        Realisations retrained in parallel through :mod:`joblib` (see
        :func:`noise_tolerance`); the table does not depend on it.
    data_home : str or path, default=None
        Data folder of a named dataset; by default ``TAAFS_SK_DATA``.
    verbose : int, default=0
        Print progress to stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per spread and realisation: ``dataset, target_unit, architecture, base,
        spread, realization, retrain_epochs``, ``train_rmse_<model>`` and
        ``test_rmse_<model>`` (in ``target_unit``) for ideal, degraded, retrained and
        control, and the test-set ``recovery`` (``(degraded - retrained) / (degraded -
        ideal)``) and ``recovery_vs_control``.
    """
    spreads = non_negative_floats("spreads", spreads)
    n_real = count_or("n_realizations", n_realizations, 1 if quick else 3)
    epochs = count_or("retrain_epochs", retrain_epochs, 10 if quick else 200)
    max_epochs = positive_int("max_epochs", max_epochs)
    positive_number("retrain_lr", retrain_lr)
    arch = hidden_sizes(architecture)
    check_names("base", base, activation_names()[1])
    name, data = resolve(dataset, quick, random_state, data_home)
    n_train = len(data[2])
    ideal = (regressor(arch, base, quick, random_state, n_train, max_epochs)
             if estimator is None else clone(estimator).set_params(hidden_layer_sizes=arch))
    train_kw = dict(epochs=epochs, lr=retrain_lr, batch_size=batch_size(n_train),
                    random_state=random_state)
    ideal_model, fixed = _ideal_and_control(ideal, data, retrain, train_kw)
    configs = [(s, r) for s in spreads for r in range(n_real)]
    seeds = np.random.SeedSequence(random_state).generate_state(len(configs))
    if common_draws:
        seeds = np.tile(seeds[:n_real], len(spreads))
    jobs = [(ideal_model, base, spread, int(seed), data, retrain, train_kw)
            for (spread, _), seed in zip(configs, seeds, strict=True)]
    def report(i, rmse):
        spread, r = configs[i]
        say(verbose, f"{name} spread {spread:.0%} #{r}: degraded {rmse['degraded'][1]:.4g}, "
                     f"retrained {rmse['retrained'][1]:.4g}")

    results = run_parallel(_one_realization, jobs, n_jobs, on_result=report)
    meta = {**dataset_meta(name), "architecture": arch_label(arch), "base": base}
    return pd.DataFrame([
        _row(meta, spread, r, epochs if retrain else 0, {**rmse, **fixed})
        for (spread, r), rmse in zip(configs, results, strict=True)])


def _row(meta: dict, spread: float, r: int, epochs: int, rmse: dict) -> dict:
    """One row of the table: a spread, a realisation, the four models' RMSEs, the recovery."""
    row = {**meta, "spread": spread, "realization": r, "retrain_epochs": epochs}
    for i, split in enumerate(("train", "test")):
        for label in _MODELS:
            row[f"{split}_rmse_{label}"] = rmse[label][i]
    rec = recovery_table(*(None if np.isnan(row[f"test_rmse_{m}"]) else row[f"test_rmse_{m}"]
                           for m in _MODELS))
    if spread == 0:  # nothing was lost: a recovery fraction means nothing
        rec["recovery"] = rec["recovery_vs_control"] = np.nan
    row["recovery"], row["recovery_vs_control"] = rec["recovery"], rec["recovery_vs_control"]
    return row


def _ideal_and_control(ideal, data, retrain: bool, train_kw: dict) -> tuple:
    """Fit ``ideal``; return a copy of its network and the (train, test) RMSEs of the ideal
    model and, with ``retrain``, of the control (its network trained ``train_kw`` more)."""
    X_tr, X_te, y_tr, y_te = data
    fit(ideal, X_tr, y_tr)
    ideal_model = as_torch_model(ideal).copy()
    fixed = {"ideal": _rmses(ideal, data), "control": (np.nan, np.nan)}
    if retrain:
        control = ideal_model.copy()
        retrain_weights(control, X_tr, y_tr, **train_kw)
        fixed["control"] = _rmses(control, data)
    return ideal_model, fixed


def _rmses(model, data) -> tuple[float, float]:
    X_tr, X_te, y_tr, y_te = data
    return (root_mean_squared_error(y_tr, model.predict(X_tr)),
            root_mean_squared_error(y_te, model.predict(X_te)))


def _one_realization(ideal_model, base, spread, seed, data, retrain, train_kw) -> dict:
    """Degrade the ideal network with one draw of shapes, and retrain it (one joblib job)."""
    nafs = NAFDispersion(base=base, spread=float(spread))
    degraded = realize_network(ideal_model, nafs, random_state=seed)
    out = {"degraded": _rmses(degraded, data), "retrained": (np.nan, np.nan)}
    if retrain:
        retrained = degraded.copy()
        retrain_weights(retrained, data[0], data[2], **train_kw)
        out["retrained"] = _rmses(retrained, data)
    return out
