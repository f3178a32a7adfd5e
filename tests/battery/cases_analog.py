"""Bad-input cases of taafs_sk.analog: its functions and classes."""

from __future__ import annotations

import numpy as np
import torch

from .common import (
    INF,
    NAN,
    UNFITTED,
    Case,
    lazy,
    nan_X,
    taafs_fitted,
    table,
    toy,
)


def analog_cases() -> list[Case]:
    a = "taafs_sk.analog."
    X, y = toy()
    tm = lambda: lazy(a + "as_torch_model")(taafs_fitted())  # noqa: E731
    naf = lambda: lazy(a + "NAFDispersion")("sigmoid", spread=0.05)  # noqa: E731
    return [
        Case("NoiseModel", "negative-level",
             lambda: lazy(a + "NoiseInjectedRegressor")(
                 taafs_fitted(), lazy(a + "NoiseModel")(level=-0.1)).fit(X, y), "level", "-0.1"),
        Case("NoiseModel", "unknown-kind",
             lambda: lazy(a + "NoiseInjectedRegressor")(
                 taafs_fitted(), lazy(a + "NoiseModel")(kind="pink")).fit(X, y), "kind", "pink"),
        Case("NoiseInjectedRegressor", "zero-draws",
             lambda: lazy(a + "NoiseInjectedRegressor")(taafs_fitted(), n_draws=0).fit(X, y),
             "n_draws", "0"),
        Case("NoiseInjectedRegressor", "not-an-estimator",
             lambda: lazy(a + "NoiseInjectedRegressor")("model").fit(X, y), "estimator",
             "model"),
        Case("noise_sweep", "empty-levels",
             lambda: lazy(a + "noise_sweep")(taafs_fitted(), X, y, []), "levels", "[]"),
        Case("noise_sweep", "nan-level",
             lambda: lazy(a + "noise_sweep")(taafs_fitted(), X, y, [NAN]), "levels", "nan"),
        Case("noise_sweep", "zero-draws",
             lambda: lazy(a + "noise_sweep")(taafs_fitted(), X, y, [0.1], n_draws=0), "n_draws",
             "0"),
        Case("noise_sweep", "unfitted",
             lambda: lazy(a + "noise_sweep")(lazy("taafs_sk.TAAFSRegressor")(), X, y, [0.1]),
             "not fitted", None, UNFITTED),
        Case("NAFDispersion", "nan-spread",
             lambda: lazy(a + "realize_network")(tm(), lazy(a + "NAFDispersion")(
                 "sigmoid", spread=NAN)), "spread", "nan"),
        Case("as_torch_model", "string", lambda: lazy(a + "as_torch_model")("model"),
             "estimator", "str"),
        Case("as_torch_model", "unfitted",
             lambda: lazy(a + "as_torch_model")(lazy("taafs_sk.TAAFSRegressor")()),
             "not fitted", None, UNFITTED),
        Case("realize_network", "not-a-torch-model",
             lambda: lazy(a + "realize_network")(taafs_fitted(), naf()), "model"),
        Case("disperse_network", "not-a-torch-model",
             lambda: lazy(a + "disperse_network")("model", naf()), "model"),
        Case("retrain_weights", "zero-epochs",
             lambda: lazy(a + "retrain_weights")(tm(), X, y, epochs=0), "epochs", "0"),
        Case("train_dispersion_aware", "zero-epochs",
             lambda: lazy(a + "train_dispersion_aware")(tm(), X, y, naf(), epochs=0), "epochs",
             "0"),
        Case("HardwareNAFRegressor", "nan-X",
             lambda: lazy(a + "HardwareNAFRegressor")(
                 taafs_fitted(), lazy(a + "NAFDispersion")(None)).fit(nan_X(), y),
             "X", "NaN"),
        Case("DispersionAwareRegressor", "zero-epochs",
             lambda: lazy(a + "DispersionAwareRegressor")(
                 taafs_fitted(), naf(), train_epochs=0).fit(X, y), "train_epochs", "0"),
        Case("export_hardware", "zero-points",
             lambda: lazy(a + "export_hardware")(taafs_fitted(), "hw.npz", X, n_points=0),
             "n_points", "0"),
        Case("load_hardware", "missing-file",
             lambda: lazy(a + "load_hardware")("no_such_file.npz"), "no_such_file"),
    ]


def shapes_cases() -> list[Case]:
    a = "taafs_sk.analog."
    X, y = toy()
    tm = lambda: lazy(a + "as_torch_model")(taafs_fitted())  # noqa: E731
    aware = lambda: lazy(a + "DispersionAwareRegressor")(  # noqa: E731
        taafs_fitted(), lazy(a + "NAFDispersion")("tanh", spread=0.1))
    grid = np.linspace(-1.0, 1.0, 5)
    one = ([1.0], [0.0], [1.0], [0.0])  # gain, shift, scale, offset of one neuron
    chips = table(model=["ideal", "degraded"], test_rmse=[0.1, 0.2])
    s = "taafs_sk.studies.chip_study"
    data = (X, X, y, y)
    return [
        Case("MeasuredNAF", "decreasing-x",
             lambda: lazy(a + "MeasuredNAF")(grid[::-1], [np.tanh(grid)]).realize(2), "x",
             "0.5 after 1.0"),
        Case("MeasuredNAF", "nan-curve",
             lambda: lazy(a + "MeasuredNAF")(grid, [[0.0, NAN, 1.0, 2.0, 3.0]]).realize(2),
             "curves", "nan"),
        Case("MeasuredNAF", "inf-x",
             lambda: lazy(a + "MeasuredNAF")([0.0, 1.0, INF], [[0.0, 1.0, 2.0]]).realize(2),
             "x", "inf"),
        Case("MeasuredNAF", "zero-neurons",
             lambda: lazy(a + "MeasuredNAF")(grid, [np.tanh(grid)]).realize(0), "n_neurons",
             "0"),
        Case("MeasuredNAF", "unknown-assignment",
             lambda: lazy(a + "MeasuredNAF")(grid, [np.tanh(grid)], assignment="all").realize(
                 2), "assignment", "all"),
        Case("activation_spans", "nan-X",
             lambda: lazy(a + "activation_spans")(tm(), nan_X()), "X", "NaN"),
        Case("activation_spans", "estimator-given",
             lambda: lazy(a + "activation_spans")(taafs_fitted(), X), "model",
             "as_torch_model"),
        Case("activation_spans", "wrong-width",
             lambda: lazy(a + "activation_spans")(tm(), X[:, :2]), "X", "2 features"),
        Case("summarize_chips", "list", lambda: lazy(a + "summarize_chips")([1]), "table",
             "[1]"),
        Case("summarize_chips", "empty",
             lambda: lazy(a + "summarize_chips")(chips.iloc[:0]), "table", "empty"),
        Case("summarize_chips", "missing-column",
             lambda: lazy(a + "summarize_chips")(chips.drop(columns="test_rmse")), "table",
             "test_rmse"),
        Case("DispersedActivation", "unknown-base",
             lambda: lazy(a + "DispersedActivation")("sinc", *one), "base", "sinc"),
        Case("DispersedActivation", "nan-gain",
             lambda: lazy(a + "DispersedActivation")("tanh", [NAN], *one[1:]), "gain", "nan"),
        Case("DispersedActivation", "length-mismatch",
             lambda: lazy(a + "DispersedActivation")("tanh", [1.0, 2.0], *one[1:]), "shift",
             "1 value"),
        Case("DispersedModule", "act-str",
             lambda: lazy(a + "DispersedModule")("tanh", *one), "act", "tanh"),
        Case("DispersedModule", "nan-scale",
             lambda: lazy(a + "DispersedModule")(torch.nn.Tanh(), [1.0], [0.0], [NAN], [0.0]),
             "scale", "nan"),
        Case("DispersedModule", "empty-offset",
             lambda: lazy(a + "DispersedModule")(torch.nn.Tanh(), *one[:3], []), "offset",
             "shape (0,)"),
        Case("TorchModel", "mlp-str",
             lambda: lazy(a + "TorchModel")("mlp", [0.0], [1.0], torch.float32), "mlp",
             "'mlp'"),
        Case("TorchModel", "estimator-as-mlp",
             lambda: lazy(a + "TorchModel")(taafs_fitted(), [0.0], [1.0], torch.float32),
             "mlp", "as_torch_model"),
        Case("TorchModel", "nan-y_mean",
             lambda: lazy(a + "TorchModel")(tm().mlp, [NAN], [1.0], torch.float32), "y_mean",
             "nan"),
        Case("TorchModel", "y_scale-too-long",
             lambda: lazy(a + "TorchModel")(tm().mlp, [0.0], [1.0, 2.0], torch.float32),
             "y_scale", "[1.0, 2.0]"),
        Case("TorchModel", "dtype-str",
             lambda: lazy(a + "TorchModel")(tm().mlp, [0.0], [1.0], "float32"), "dtype",
             "float32"),
        Case("TorchModel", "transform-not-callable",
             lambda: lazy(a + "TorchModel")(tm().mlp, [0.0], [1.0], torch.float32,
                                             transform="scale"), "transform", "scale"),
        Case("evaluate_on_chips", "string",
             lambda: lazy(a + "evaluate_on_chips")("aware", X, y, X, y), "aware", "'aware'"),
        Case("evaluate_on_chips", "wrong-estimator",
             lambda: lazy(a + "evaluate_on_chips")(taafs_fitted(), X, y, X, y), "aware",
             "TAAFSRegressor"),
        Case("evaluate_on_chips", "unfitted",
             lambda: lazy(a + "evaluate_on_chips")(aware(), X, y, X, y), "aware",
             "not fitted", UNFITTED),
        Case("chip_study", "nan-spread", lambda: lazy(s)(data, spread=NAN), "spread", "nan"),
        Case("chip_study", "negative-spread", lambda: lazy(s)(data, spread=-0.1), "spread",
             "-0.1"),
        Case("chip_study", "unknown-base", lambda: lazy(s)(data, base="sinc"), "base",
             "sinc"),
        Case("chip_study", "unknown-resample", lambda: lazy(s)(data, resample="step"),
             "resample", "step"),
        Case("chip_study", "zero-chips", lambda: lazy(s)(data, n_chips=0), "n_chips", "0"),
        Case("chip_study", "retrain-more-than-chips",
             lambda: lazy(s)(data, n_chips=2, n_retrain=3), "n_retrain", "3"),
        Case("chip_study", "unknown-dataset", lambda: lazy(s)("mnist"), "dataset", "mnist"),
    ]
