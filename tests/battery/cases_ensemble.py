"""Bad-input cases of taafs_sk.ensemble (the ensemble helper's package): the estimator, the
recalibrations and the uncertainty metrics."""

from __future__ import annotations

import functools

import numpy as np
from sklearn.linear_model import Ridge

from .common import NAN, Case, lazy, toy

E = "taafs_sk.ensemble."
Z = np.array([[1.0], [2.0], [3.0]])  # standardised errors, (n_rows, n_outputs)


@functools.cache
def ensemble_fitted():
    return lazy(E + "EnsembleRegressor")(Ridge(), n_members=2, random_state=0).fit(*toy())


def ensemble_cases() -> list[Case]:
    X, y = toy()
    ens = lazy(E + "EnsembleRegressor")
    ones = [1.0, 1.0]
    return [
        Case("EnsembleRegressor", "one-member",
             lambda: ens(Ridge(), n_members=1).fit(X, y), "n_members", "1"),
        Case("EnsembleRegressor", "unknown-calibrate",
             lambda: ens(Ridge(), calibrate="platt").fit(X, y), "calibrate", "platt"),
        Case("EnsembleRegressor", "interval-coverage-above-one",
             lambda: ensemble_fitted().predict_interval(X, coverage=1.5), "coverage", "1.5"),
        Case("EnsembleRegressor", "return_std-str",
             lambda: ensemble_fitted().predict(X, return_std="yes"), "return_std", "yes"),
        Case("ScaleCalibration", "quantile-above-one",
             lambda: lazy(E + "ScaleCalibration")().fit(Z).quantile(2.0), "p", "2."),
        Case("ScaleCalibration", "nan-errors",
             lambda: lazy(E + "ScaleCalibration")().fit(np.array([[1.0], [NAN]])), "z", "nan"),
        Case("IsotonicCalibration", "quantile-nan",
             lambda: lazy(E + "IsotonicCalibration")().fit(Z).quantile([0.2, NAN]), "p",
             "nan"),
        Case("IsotonicCalibration", "nan-errors",
             lambda: lazy(E + "IsotonicCalibration")().fit(np.array([[1.0], [NAN], [2.0]])),
             "z", "nan"),
        Case("gaussian_nll", "nan-mean",
             lambda: lazy(E + "gaussian_nll")([1.0, 2.0], [1.0, NAN], ones), "y_mean", "nan"),
        Case("gaussian_nll", "negative-std",
             lambda: lazy(E + "gaussian_nll")([1.0, 2.0], [1.0, 2.0], [1.0, -1.0]), "y_std",
             "-1"),
        Case("interval_coverage", "short-lower",
             lambda: lazy(E + "interval_coverage")([1.0, 2.0], [0.0], [3.0, 3.0]), "lower",
             "(1,)"),
        Case("reliability_curve", "level-above-one",
             lambda: lazy(E + "reliability_curve")([1.0, 2.0], [1.0, 2.0], ones, levels=[1.5]),
             "levels", "1.5"),
    ]
