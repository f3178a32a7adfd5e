"""One network for every chip: dispersion-aware weights against per-chip retraining."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import root_mean_squared_error

from .._validation import check_choice, check_real
from ..analog import DispersionAwareRegressor, NAFDispersion, evaluate_on_chips
from ..analog.hardware import retrain_weights
from ..analog.naf import BASES
from ._common import (
    arch_label,
    batch_size,
    count_in,
    count_or,
    dataset_meta,
    fit,
    hidden_sizes,
    positive_int,
    regressor,
    resolve,
    run_parallel,
    say,
    with_columns,
)

__all__ = ["chip_study"]


def _retrain_on_chip(aware, seed, X_tr, y_tr, X_te, y_te, epochs):
    chip = aware.chip(seed, model="ideal")
    retrain_weights(chip, X_tr, y_tr, epochs=epochs, lr=aware.train_lr,
                    batch_size=aware.train_batch_size, validation_fraction=0.1,
                    random_state=seed)
    return float(root_mean_squared_error(y_te, chip.predict(X_te)))


def chip_study(
    dataset, *, spread: float = 0.1, architecture: Sequence[int] = (128,),
    n_chips: int | None = None, n_retrain: int | None = None, train_epochs: int | None = None,
    resample: str = "batch",
    base: str = "tanh", quick: bool = False, random_state=0, n_jobs: int | None = None,
    data_home=None, verbose: int = 0,
) -> pd.DataFrame:
    """Test-RMSE distribution over unseen chips of the ideal, degraded, per-chip retrained,
    dispersion-aware and control networks.

    A ``TAAFSRegressor(basis=base)`` is trained (the ideal network); a
    :class:`~taafs_sk.analog.DispersionAwareRegressor` trains a copy on a fresh ``spread``
    dispersion per minibatch (or epoch) and the equal-epochs control;
    :func:`~taafs_sk.analog.evaluate_on_chips` scores them on ``n_chips`` unseen chips, and
    the ideal weights are retrained on the first ``n_retrain`` chips (the seed study's method)
    with the same epochs, in parallel over chips (``n_jobs``).

    Parameters
    ----------
    dataset : {'hydrocarbons', 'perovskites', 'qm9'} or tuple of arrays
        A study dataset or ``(X_train, X_test, y_train, y_test)``.
    spread : float, default=0.1
        Relative spread of gain, shift, scale and offset (:class:`NAFDispersion`).
    architecture : tuple of int, default=(128,)
        Hidden layer sizes.
    n_chips : int, default=None
        Unseen chips; 32 (8 when ``quick``) by default.
    n_retrain : int, default=None
        Chips on which the ideal weights are retrained; 4 (1 when ``quick``) by default.
    train_epochs : int, default=None
        Dispersion-aware (and control, and per-chip) epochs; by default about 6,000 Adam steps
        (5 epochs when ``quick``).
    resample : {'batch', 'epoch'}, default='batch'
        How often training draws new shapes.
    base : str, default='tanh'
        Nominal activation of the ideal network.
    quick : bool, default=False
        Small subsample and few epochs.
    random_state : int, default=0
        Seeds the split, training and the chips' seed sequence.
    n_jobs : int, default=None
        Parallel per-chip retraining (joblib).
    data_home : str or path, default=None
        Data folder.
    verbose : int, default=0
        Print progress to stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per chip and model: ``dataset, target_unit, spread, architecture, resample,
        train_epochs, chip, chip_seed, model, test_rmse`` (models as in
        :func:`~taafs_sk.analog.evaluate_on_chips`).
    """
    arch = hidden_sizes(architecture)
    spread = check_real("spread", spread, minimum=0.0)
    check_choice("base", base, sorted(BASES))
    check_choice("resample", resample, ["batch", "epoch"])
    n_chips = count_or("n_chips", n_chips, 8 if quick else 32)
    n_retrain = min(1 if quick else 4, n_chips) if n_retrain is None else n_retrain
    n_retrain = count_in("n_retrain", n_retrain, n_chips, f"n_chips={n_chips}")
    name, (X_tr, X_te, y_tr, y_te) = resolve(dataset, quick, random_state, data_home)
    bs = batch_size(len(y_tr))
    epochs = positive_int("train_epochs", train_epochs)
    if epochs is None:
        epochs = 5 if quick else int(np.ceil(6000 / np.ceil(len(y_tr) / bs)))
    nafs = NAFDispersion(base, spread=spread)
    ideal = regressor(arch, base, quick, random_state, len(y_tr))
    aware = DispersionAwareRegressor(ideal, nafs, resample=resample, train_epochs=epochs,
                                     train_batch_size=bs, random_state=random_state)
    say(verbose, f"{name}: ideal, dispersion-aware ({epochs} epochs) and control")
    fit(aware, X_tr, y_tr)
    table = evaluate_on_chips(aware, X_tr, y_tr, X_te, y_te, n_chips=n_chips, n_retrain=0,
                              chip_seed=random_state)
    seeds = table.drop_duplicates("chip").chip_seed.to_numpy()[:n_retrain]
    say(verbose, f"{name}: retraining on {n_retrain} chips")
    rmse = run_parallel(_retrain_on_chip, [(aware, int(s), X_tr, y_tr, X_te, y_te, epochs)
                                           for s in seeds], n_jobs=n_jobs)
    if len(seeds):
        extra = pd.DataFrame({"chip": np.arange(len(seeds)), "chip_seed": seeds,
                              "model": "retrained", "test_rmse": rmse})
        table = pd.concat([table, extra], ignore_index=True)
    return with_columns(table, {**dataset_meta(name), "spread": float(spread),
                                "architecture": arch_label(arch), "resample": resample,
                                "train_epochs": epochs})
