"""Bad-input cases of the estimators (TAAFSRegressor, AdditiveKernelNN), the taafs training
glue and the featurizers."""

from __future__ import annotations

import numpy as np
import torch

from .common import (
    NAN,
    UNFITTED,
    Case,
    akn_fitted,
    fit,
    lazy,
    nan_X,
    taafs_fitted,
    toy,
)


def taafs_cases() -> list[Case]:
    est = "taafs_sk.TAAFSRegressor"
    X, y = toy()
    return [
        Case("TAAFSRegressor", "nan-X", fit(est, X=nan_X(), max_epochs=1), "X", "NaN"),
        Case("TAAFSRegressor", "zero-width", fit(est, hidden_layer_sizes=(0,), max_epochs=1),
             "hidden_layer_sizes", "(0,)"),
        Case("TAAFSRegressor", "negative-n_basis", fit(est, n_basis=-1), "n_basis", "-1"),
        Case("TAAFSRegressor", "nan-lr", fit(est, lr=NAN), "lr", "nan"),
        Case("TAAFSRegressor", "unknown-device", fit(est, device="gpu0", max_epochs=1),
             "device", "gpu0"),
        Case("TAAFSRegressor", "cuda-on-cpu-torch", fit(est, device="cuda", max_epochs=1),
             "device", "cuda"),
        Case("TAAFSRegressor", "warm_start-str", fit(est, warm_start="yes"), "warm_start",
             "yes"),
        Case("TAAFSRegressor", "negative-weight",
             lambda: lazy(est)(max_epochs=1).fit(X, y, sample_weight=-np.ones(len(y))),
             "sample_weight", "Negative"),
        Case("TAAFSRegressor", "nan-weight",
             lambda: lazy(est)(max_epochs=1).fit(X, y, sample_weight=np.full(len(y), NAN)),
             "sample_weight", "NaN"),
        Case("TAAFSRegressor", "zero-weights",
             lambda: lazy(est)(max_epochs=1).fit(X, y, sample_weight=np.zeros(len(y))),
             "sample_weight", "zero"),
        Case("TAAFSRegressor", "unfitted-predict", lambda: lazy(est)().predict(X),
             "TAAFSRegressor", "not fitted", UNFITTED),
        Case("TAAFSRegressor", "layer-out-of-range",
             lambda: taafs_fitted().activation_functions(layer=5), "layer", "5"),
    ]


def additive_cases() -> list[Case]:
    est = "taafs_sk.AdditiveKernelNN"
    X, y = toy()
    fast = {"optimize": False, "optimize_weights": 0, "n_neurons": 3, "weights": "sobol"}
    return [
        Case("AdditiveKernelNN", "nan-X", fit(est, X=nan_X(), **fast), "X", "NaN"),
        Case("AdditiveKernelNN", "zero-neurons", fit(est, n_neurons=0), "n_neurons", "0"),
        Case("AdditiveKernelNN", "negative-alpha", fit(est, alpha=-1.0), "alpha", "-1"),
        Case("AdditiveKernelNN", "unknown-kernel", fit(est, kernel="nope"), "kernel", "nope"),
        Case("AdditiveKernelNN", "unfitted-predict", lambda: lazy(est)().predict(X),
             "AdditiveKernelNN", "not fitted", UNFITTED),
        Case("AdditiveKernelNN", "unfitted-to_module", lambda: lazy(est)().to_module(),
             "AdditiveKernelNN", "not fitted", UNFITTED),
        Case("AdditiveKernelNN", "to_module-n_grid", lambda: akn_fitted().to_module(n_grid=1),
             "n_grid", "1"),
        Case("AdditiveKernelNN", "to_module-margin", lambda: akn_fitted().to_module(margin=NAN),
             "margin", "nan"),
        Case("AdditiveKernelNN", "negative-weight",
             lambda: lazy(est)(**fast).fit(X, y, sample_weight=-np.ones(len(y))),
             "sample_weight", "Negative"),
        Case("make_kernel", "unknown", lambda: lazy("taafs_sk.additive.make_kernel")("nope"),
             "kernel", "nope"),
        Case("make_kernel", "int", lambda: lazy("taafs_sk.additive.make_kernel")(3),
             "kernel", "3"),
        Case("register_kernel", "not-a-kernel",
             lambda: lazy("taafs_sk.additive.register_kernel")("mine", int), "cls", "int"),
        Case("register_kernel", "name-int",
             lambda: lazy("taafs_sk.additive.register_kernel")(
                 3, lazy("taafs_sk.additive.RBF1D")), "name", "3"),
    ]


def taafs_glue_cases() -> list[Case]:
    t = "taafs_sk.taafs."
    X, y = toy()
    return [
        Case("build_net", "not-a-module", lambda: lazy(t + "build_net")("net"), "module", "net"),
        Case("build_net", "zero-epochs",
             lambda: lazy(t + "build_net")(torch.nn.Linear(3, 1), max_epochs=0), "max_epochs",
             "0"),
        Case("build_net", "unknown-optimizer",
             lambda: lazy(t + "build_net")(torch.nn.Linear(3, 1), optimizer="adamx"),
             "optimizer", "adamx"),
        Case("build_net", "unknown-device",
             lambda: lazy(t + "build_net")(torch.nn.Linear(3, 1), device="gpu0"), "device",
             "gpu0"),
        Case("fit_net", "zero-epochs",
             lambda: lazy(t + "fit_net")(lazy(t + "build_net")(torch.nn.Linear(3, 1)), X,
                                          y[:, None], epochs=0), "epochs", "0"),
        Case("fit_net", "not-a-net", lambda: lazy(t + "fit_net")("net", X, y), "net", "net"),
        Case("fit_net", "nan-X",
             lambda: lazy(t + "fit_net")(lazy(t + "build_net")(torch.nn.Linear(3, 1)),
                                          nan_X(), y[:, None]), "X", "nan"),
        Case("FiniteLossGuard", "hint-int", lambda: lazy(t + "FiniteLossGuard")(hint=3),
             "hint", "3"),
        Case("TrainingCheckpoint", "dirname-int", lambda: lazy(t + "TrainingCheckpoint")(3),
             "dirname", "3"),
        Case("TrainingCheckpoint", "every-zero",
             lambda: lazy(t + "TrainingCheckpoint")("runs", every=0), "every", "0"),
        Case("fit_net", "checkpoint-with-epochs",
             lambda: lazy(t + "fit_net")(
                 lazy(t + "build_net")(torch.nn.Linear(3, 1)), X, y[:, None], epochs=2,
                 checkpoint=lazy(t + "TrainingCheckpoint")("runs").for_fit("x")),
             "checkpoint", "2"),
    ]


def featurizer_cases() -> list[Case]:
    f = "taafs_sk.featurizers."
    cases = []
    for cls in ["HydrocarbonFeaturizer", "MoleculeFeaturizer", "DoublePerovskiteFeaturizer"]:
        cases += [
            Case(cls, "fit-empty-list", lambda c=cls: lazy(f + c)().fit([]), "X", "empty"),
            Case(cls, "fit-None", lambda c=cls: lazy(f + c)().fit(None), "X", "None"),
            Case(cls, "transform-unfitted", lambda c=cls: lazy(f + c)().transform(["CC"]),
                 cls, "not fitted", UNFITTED),
            Case(cls, "bad-on_error", lambda c=cls: lazy(f + c)(on_error="skip").fit(["CC"]),
                 "on_error", "skip"),
        ]
    cases.append(Case("BaseFeaturizer", "fit-empty-list",
                      lambda: lazy(f + "HydrocarbonFeaturizer")().fit(np.array([])), "X",
                      "empty"))
    return cases
