"""Score trained networks on unseen chips: the test-RMSE distribution over K realisations.

For a fitted :class:`~taafs_sk.analog.DispersionAwareRegressor`, :func:`evaluate_on_chips`
draws ``n_chips`` chips (per-neuron shapes from its ``nafs``) with seeds from their own
``numpy.random.SeedSequence`` (the training shapes come from a ``torch.Generator`` stream, so no
training realisation is ever a test chip) and scores on each:

``ideal``          the ideal network on its ideal shapes (the same on every chip)
``control``        the equal-epochs control on the ideal shapes
``degraded``       the ideal weights on the chip
``control_chip``   the control's weights on the chip
``retrained``      the ideal weights retrained on the chip (the seed study's method; only the
                   first ``n_retrain`` chips, since it is one fit per chip)
``aware``          the dispersion-aware weights on the chip, no retraining
``aware_nominal``  the dispersion-aware weights on the ideal shapes

:func:`summarize_chips` turns that into mean and 5 / 50 / 95 % percentiles per model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import root_mean_squared_error

from .._validation import (
    check_count,
    check_estimator_kind,
    check_finite_array,
    check_real,
    check_table,
)
from ._checks import check_targets
from .aware import DispersionAwareRegressor
from .hardware import retrain_weights

__all__ = ["evaluate_on_chips", "summarize_chips", "CHIP_MODELS"]

CHIP_MODELS = ("ideal", "control", "degraded", "control_chip", "retrained", "aware",
               "aware_nominal")


def _rmse(y, pred) -> float:
    return float(root_mean_squared_error(np.asarray(y).reshape(len(y), -1),
                                         np.asarray(pred).reshape(len(y), -1)))


def _check_chip_args(aware, data, n_chips, n_retrain, retrain_epochs,
                     retrain_validation_fraction, chip_seed) -> tuple[int, int, int, int]:
    """The arguments of :func:`evaluate_on_chips` checked, naming each; returns ``n_chips,
    n_retrain, epochs, chip_seed``."""
    X_train, y_train, X_test, y_test = data
    check_estimator_kind("aware", aware, DispersionAwareRegressor)
    n_chips = check_count("evaluate_on_chips: n_chips", n_chips)
    n_retrain = check_count("evaluate_on_chips: n_retrain", n_retrain, minimum=0)
    if n_retrain > n_chips:
        raise ValueError(f"evaluate_on_chips: n_retrain={n_retrain} exceeds n_chips={n_chips}.")
    epochs = aware.train_epochs if retrain_epochs is None else check_count(
        "evaluate_on_chips: retrain_epochs", retrain_epochs)
    chip_seed = check_count("evaluate_on_chips: chip_seed", chip_seed, minimum=0)
    if retrain_validation_fraction is not None:
        check_real("evaluate_on_chips: retrain_validation_fraction", retrain_validation_fraction,
                   minimum=0.0, maximum=1.0, include_minimum=False, include_maximum=False)
    check_targets("evaluate_on_chips", "y_train", y_train,
                  len(aware.ideal_model_.network_input(X_train)), "X_train")
    check_targets("evaluate_on_chips", "y_test", y_test,
                  len(aware.ideal_model_.network_input(X_test)), "X_test")
    return n_chips, n_retrain, epochs, chip_seed


def evaluate_on_chips(
    aware, X_train, y_train, X_test, y_test, *, n_chips: int = 32, n_retrain: int = 4,
    retrain_epochs: int | None = None, retrain_validation_fraction: float | None = 0.1,
    chip_seed: int = 20261202, verbose: int = 0,
) -> pd.DataFrame:
    """Test RMSE of every model of ``aware`` on ``n_chips`` unseen chips.

    Parameters
    ----------
    aware : DispersionAwareRegressor
        Fitted (with ``control=True`` for the control rows).
    X_train, y_train : array-like
        The training data (for the per-chip retraining).
    X_test, y_test : array-like
        The data the RMSEs are measured on.
    n_chips : int, default=32
        Number of chips.
    n_retrain : int, default=4
        Chips (the first ones) on which the ideal weights are also retrained; 0 for none.
    retrain_epochs : int, default=None
        Per-chip retraining epochs; ``aware.train_epochs`` by default (the same budget).
    retrain_validation_fraction : float or None, default=0.1
        Held-out fraction of the per-chip retraining (best epoch kept), as in
        :class:`~taafs_sk.analog.HardwareNAFRegressor`.
    chip_seed : int, default=20261202
        Entropy of the chips' ``SeedSequence``.
    verbose : int, default=0
        Passed to the retraining.

    Returns
    -------
    table : pandas.DataFrame
        One row per chip and model: ``chip, chip_seed, model, test_rmse`` (models in
        :data:`CHIP_MODELS`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import (DispersionAwareRegressor, NAFDispersion,
    ...                             evaluate_on_chips, summarize_chips)
    >>> X = np.random.RandomState(0).normal(size=(120, 3)); y = np.tanh(X).sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=200, random_state=0)
    >>> aware = DispersionAwareRegressor(est, NAFDispersion("tanh", 0.1), train_epochs=3,
    ...                                  random_state=0).fit(X, y)
    >>> table = evaluate_on_chips(aware, X, y, X, y, n_chips=4, n_retrain=1,
    ...                           retrain_epochs=2)
    >>> int(summarize_chips(table).loc["degraded", "n_chips"])
    4
    """
    n_chips, n_retrain, epochs, chip_seed = _check_chip_args(
        aware, (X_train, y_train, X_test, y_test), n_chips, n_retrain, retrain_epochs,
        retrain_validation_fraction, chip_seed)
    seeds = np.random.SeedSequence(chip_seed).generate_state(n_chips)
    fixed = {"ideal": _rmse(y_test, aware.ideal_.predict(X_test)),
             "aware_nominal": _rmse(y_test, aware.model_.predict(X_test))}
    if aware.control_ is not None:
        fixed["control"] = _rmse(y_test, aware.control_.predict(X_test))
    rows = []
    for k, seed in enumerate(int(s) for s in seeds):
        def add(model, rmse, k=k, seed=seed):
            rows.append({"chip": k, "chip_seed": seed, "model": model, "test_rmse": rmse})

        for name, value in fixed.items():
            add(name, value)
        degraded = aware.chip(seed, model="ideal")
        add("degraded", _rmse(y_test, degraded.predict(X_test)))
        add("aware", _rmse(y_test, aware.chip(seed).predict(X_test)))
        if aware.control_ is not None:
            add("control_chip", _rmse(y_test, aware.chip(seed, model="control").predict(X_test)))
        if k < n_retrain:
            retrained = degraded.copy()
            retrain_weights(retrained, X_train, y_train, epochs=epochs, lr=aware.train_lr,
                            batch_size=aware.train_batch_size,
                            validation_fraction=retrain_validation_fraction, random_state=seed,
                            verbose=verbose)
            add("retrained", _rmse(y_test, retrained.predict(X_test)))
    return pd.DataFrame(rows)


def summarize_chips(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: ``n_chips, mean, p5, p50, p95`` of the test RMSE and ``ratio_to_ideal``
    (mean over the ideal network's RMSE), in the order of :data:`CHIP_MODELS`.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`evaluate_on_chips` (columns ``model, test_rmse``; extra grouping columns
        such as ``dataset`` are not allowed here: filter first).

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by model.
    """
    check_table("table", table, "summarize_chips")
    missing = {"model", "test_rmse"} - set(table.columns)
    if missing:
        raise ValueError(f"summarize_chips: table lacks columns {sorted(missing)}.")
    check_finite_array("summarize_chips: table['test_rmse']", table["test_rmse"].to_numpy())
    grouped = table.groupby("model")["test_rmse"]
    summary = pd.DataFrame({
        "n_chips": grouped.size(), "mean": grouped.mean(),
        "p5": grouped.quantile(0.05), "p50": grouped.quantile(0.5),
        "p95": grouped.quantile(0.95),
    })
    order = [m for m in CHIP_MODELS if m in summary.index]
    summary = summary.loc[order]
    if "ideal" in summary.index:
        summary["ratio_to_ideal"] = summary["mean"] / summary.loc["ideal", "mean"]
    return summary
