"""Bad-input cases of taafs_sk.analog's public methods (the wrappers' fit and predict, the
torch model, the shape modules) and of the misbehaviours issue 29 found in its functions
(files that are not an export, targets of the wrong length, NaN or negative spreads)."""

from __future__ import annotations

import functools
import pickle

import numpy as np
import torch
from sklearn.linear_model import Ridge

from .common import NAN, UNFITTED, Case, lazy, taafs_fitted, table, torch_model, toy

A = "taafs_sk.analog."


def _naf(spread=0.1, **kwargs):
    return lazy(A + "NAFDispersion")("tanh", spread=spread, **kwargs)


def _unfitted_mlp():
    """A tanh MLPRegressor (4,), a few iterations (tanh: the NAFs' nominal base)."""
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(hidden_layer_sizes=(4,), activation="tanh", max_iter=5, random_state=0)


@functools.cache
def aware_fitted():
    X, y = toy()
    return lazy(A + "DispersionAwareRegressor")(_unfitted_mlp(), _naf(), train_epochs=1,
                                               train_batch_size=40, random_state=0).fit(X, y)


@functools.cache
def hardware_fitted():
    X, y = toy()
    return lazy(A + "HardwareNAFRegressor")(_unfitted_mlp(), _naf(), retrain_epochs=1,
                                           control=False, random_state=0).fit(X, y)


@functools.cache
def noisy_fitted():
    X, y = toy()
    return lazy(A + "NoiseInjectedRegressor")(_unfitted_mlp(), n_draws=2,
                                             random_state=0).fit(X, y)


def _aware(nafs):
    X, y = toy()
    return lambda: lazy(A + "DispersionAwareRegressor")(_unfitted_mlp(), nafs,
                                                       train_epochs=1).fit(X, y)


def wrapper_method_cases() -> list[Case]:
    X, y = toy()
    nm = lambda: lazy(A + "NoiseModel")().fit(taafs_fitted(), X)  # noqa: E731
    return [
        Case("DispersionAwareRegressor.fit", "negative-spread", _aware(_naf(-0.1)), "spread",
             "-0.1"),
        Case("DispersionAwareRegressor.fit", "nan-spread", _aware(_naf(NAN)), "spread", "nan"),
        Case("DispersionAwareRegressor.fit", "params-str", _aware(_naf(params="gain")),
             "params", "'gain'"),
        Case("DispersionAwareRegressor.fit", "unsupported-estimator",
             lambda: lazy(A + "DispersionAwareRegressor")(Ridge(), _naf()).fit(X, y),
             "estimator", "Ridge"),
        Case("DispersionAwareRegressor.predict", "wrong-width",
             lambda: aware_fitted().predict(X[:, :2]), "X", "2 features"),
        Case("DispersionAwareRegressor.chip", "unknown-model",
             lambda: aware_fitted().chip(0, model="best"), "model", "best"),
        Case("HardwareNAFRegressor.fit", "nan-spread",
             lambda: lazy(A + "HardwareNAFRegressor")(_unfitted_mlp(), _naf(NAN)).fit(X, y),
             "spread", "nan"),
        Case("HardwareNAFRegressor.predict", "unfitted",
             lambda: lazy(A + "HardwareNAFRegressor")(_unfitted_mlp(), _naf()).predict(X),
             "HardwareNAFRegressor", "not fitted", UNFITTED),
        Case("HardwareNAFRegressor.recovery_score", "y-too-short",
             lambda: hardware_fitted().recovery_score(X, y[:3]), "y", "3 rows"),
        Case("NoiseInjectedRegressor.fit", "nan-y",
             lambda: lazy(A + "NoiseInjectedRegressor")(_unfitted_mlp()).fit(X, y * NAN), "y",
             "NaN"),
        Case("NoiseInjectedRegressor.predict", "wrong-width",
             lambda: noisy_fitted().predict(X[:, :2]), "X", "2 features"),
        Case("NoiseInjectedRegressor.predict_draws", "zero-draws",
             lambda: noisy_fitted().predict_draws(X, n_draws=0), "n_draws", "0"),
        Case("NoiseModel.fit", "model-str", lambda: lazy(A + "NoiseModel")().fit("model", X),
             "model", "str"),
        Case("NoiseModel.make_hook", "zero-draws", lambda: nm().make_hook(0), "n_draws", "0"),
        Case("NoiseModel.make_hook", "generator-str", lambda: nm().make_hook(1, "seed"),
             "generator", "seed"),
        Case("NoiseModel.make_hook", "network-str",
             lambda: nm().make_hook(1, network="mlp"), "network", "mlp"),
    ]


def shape_method_cases() -> list[Case]:
    grid = np.linspace(-1.0, 1.0, 5)
    act = lambda: _naf().realize(4)  # noqa: E731
    module = lambda: lazy(A + "DispersedModule")(torch.nn.Tanh(), *[np.ones(4)] * 4)  # noqa: E731
    return [
        Case("NAFDispersion.draw", "nan-spread", lambda: _naf(NAN).draw(3), "spread", "nan"),
        Case("NAFDispersion.draw", "zero-neurons", lambda: _naf().draw(0), "n_neurons", "0"),
        Case("NAFDispersion.realize", "float-neurons", lambda: _naf().realize(2.5),
             "n_neurons", "2.5"),
        Case("MeasuredNAF.realize", "too-few-curves",
             lambda: lazy(A + "MeasuredNAF")(grid, [np.tanh(grid)]).realize(3), "assignment",
             "per_neuron"),
        Case("DispersedActivation.forward", "wrong-width", lambda: act()(torch.zeros(2, 3)),
             "z", "(2, 3)"),
        Case("DispersedActivation.forward", "ndarray", lambda: act()(np.zeros((2, 4))), "z",
             "float64"),
        Case("DispersedModule.forward", "wrong-width", lambda: module()(torch.zeros(2, 3)), "z",
             "(2, 3)"),
        Case("DispersedModule.forward", "integer-tensor",
             lambda: module()(torch.zeros(2, 4, dtype=torch.int64)), "z", "int64"),
    ]


def torch_model_method_cases() -> list[Case]:
    X, y = toy()
    return [
        Case("TorchModel.forward", "ndarray", lambda: torch_model()(X), "x", "ndarray"),
        Case("TorchModel.forward", "wrong-width",
             lambda: torch_model()(torch.zeros(3, 2)), "x", "(3, 2)"),
        Case("TorchModel.network_input", "one-dimensional",
             lambda: torch_model().network_input(X[0]), "X", "(3,)"),
        Case("TorchModel.network_input", "no-rows",
             lambda: torch_model().network_input(X[:0]), "X", "(0, 3)"),
        Case("TorchModel.predict", "nan-X", lambda: torch_model().predict(X * NAN), "X", "NaN"),
        Case("TorchModel.as_tensor", "str", lambda: torch_model().as_tensor("X"), "X", "str"),
        Case("TorchModel.to_target", "wrong-width",
             lambda: torch_model().to_target(np.ones((3, 2))), "out", "(3, 2)"),
        Case("TorchModel.to_target", "str", lambda: torch_model().to_target("a"), "out", "'a'"),
        Case("TorchModel.target_to_network", "nan-y",
             lambda: torch_model().target_to_network([1.0, NAN]), "y", "nan"),
        Case("TorchModel.target_to_network", "too-many-columns",
             lambda: torch_model().target_to_network(np.ones((3, 2))), "y", "2 column"),
    ]


def _write(tmp_name: str, writer):
    """A call that writes a file with ``writer(path)`` in the current folder (the test's
    temporary one), loads it with load_hardware and removes it, whatever happens."""
    import os

    def call():
        try:
            writer(tmp_name)
            return lazy(A + "load_hardware")(tmp_name)
        finally:
            if os.path.exists(tmp_name):
                os.remove(tmp_name)

    return call


def _tampered(key: str, value):
    """A real export with one array replaced (``value`` None: removed)."""
    def writer(path):
        lazy(A + "export_hardware")(taafs_fitted(), path, toy()[0], n_points=5)
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
        np.savez(path, **arrays)

    return writer


def _pickled(path):
    with open(path, "wb") as f:
        pickle.dump({"weights": [1.0]}, f)


def _text(path):
    with open(path, "w") as f:
        f.write("weights,bias\n1,2\n")


def export_cases() -> list[Case]:
    X, y = toy()
    version = f"format version {lazy(A + 'export.FORMAT_VERSION')}"
    return [
        Case("load_hardware", "random-npz", _write("r.npz", lambda p: np.savez(p, a=np.ones(3))),
             "export_hardware", version),
        Case("load_hardware", "text-file", _write("t.npz", _text), "t.npz", "export_hardware"),
        Case("load_hardware", "pickle", _write("p.pkl", _pickled), "p.pkl", version),
        Case("load_hardware", "npy", _write("a.npy", lambda p: np.save(p, np.ones(3))),
             "a.npy", "(3,)"),
        Case("load_hardware", "future-version",
             _write("v.npz", _tampered("format_version", np.array(99))), "format_version",
             "99"),
        Case("load_hardware", "missing-grid", _write("g.npz", _tampered("grid_0", None)),
             "grid_0", "g.npz"),
        Case("load_hardware", "nan-table",
             _write("n.npz", _tampered("table_0", np.full((4, 5), NAN))), "table_0", "nan"),
        Case("load_hardware", "path-int", lambda: lazy(A + "load_hardware")(3), "path", "3"),
        Case("export_hardware", "path-is-a-folder",
             lambda: lazy(A + "export_hardware")(taafs_fitted(), ".", X), "path", "folder"),
        Case("export_hardware", "model-str",
             lambda: lazy(A + "export_hardware")("model", "m.npz", X), "model", "str"),
        Case("noise_sweep", "y-too-short",
             lambda: lazy(A + "noise_sweep")(taafs_fitted(), X, y[:5], [0.1], n_draws=2), "y",
             "5 rows"),
        Case("noise_sweep", "nan-y",
             lambda: lazy(A + "noise_sweep")(taafs_fitted(), X, y * NAN, [0.1], n_draws=2), "y",
             "nan"),
        Case("noise_sweep", "noise-str",
             lambda: lazy(A + "noise_sweep")(taafs_fitted(), X, y, [0.1], noise="gauss"),
             "noise", "gauss"),
        Case("noise_sweep", "random_state-str",
             lambda: lazy(A + "noise_sweep")(taafs_fitted(), X, y, [0.1], random_state="a"),
             "random_state", "'a'"),
    ]


def analog_function_cases() -> list[Case]:
    X, y = toy()
    tm = torch_model
    return [
        Case("realize_network", "nafs-str", lambda: lazy(A + "realize_network")(tm(), "tanh"),
             "nafs", "tanh"),
        Case("disperse_network", "nafs-none", lambda: lazy(A + "disperse_network")(tm(), None),
             "nafs", "None"),
        Case("disperse_network", "spans-wrong-length",
             lambda: lazy(A + "disperse_network")(tm(), lazy(A + "NAFDispersion")(None),
                                                  spans=[np.ones(2)]), "spans[0]", "2 value"),
        Case("train_dispersion_aware", "negative-spread",
             lambda: lazy(A + "train_dispersion_aware")(tm().copy(), X, y, _naf(-1.0),
                                                        epochs=1), "spread", "-1"),
        Case("train_dispersion_aware", "zero-lr",
             lambda: lazy(A + "train_dispersion_aware")(tm().copy(), X, y, _naf(), lr=0.0),
             "lr", "0"),
        Case("retrain_weights", "validation_fraction-above-one",
             lambda: lazy(A + "retrain_weights")(tm().copy(), X, y, validation_fraction=1.5),
             "validation_fraction", "1.5"),
        Case("evaluate_on_chips", "y_test-too-short",
             lambda: lazy(A + "evaluate_on_chips")(aware_fitted(), X, y, X, y[:3], n_chips=1,
                                                   n_retrain=0), "y_test", "3 rows"),
        Case("evaluate_on_chips", "nan-y_test",
             lambda: lazy(A + "evaluate_on_chips")(aware_fitted(), X, y, X, y * NAN, n_chips=1,
                                                   n_retrain=0), "y_test", "nan"),
        Case("evaluate_on_chips", "validation-fraction-two",
             lambda: lazy(A + "evaluate_on_chips")(aware_fitted(), X, y, X, y, n_chips=1,
                                                   n_retrain=1, retrain_validation_fraction=2.0),
             "retrain_validation_fraction", "2.0"),
        Case("summarize_chips", "nan-rmse",
             lambda: lazy(A + "summarize_chips")(
                 table(model=["ideal"], test_rmse=[NAN])),
             "test_rmse", "nan"),
    ]
