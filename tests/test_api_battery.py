"""Bad input across the whole public API: every callable in the ``__all__`` of ``taafs_sk`` and
of each subpackage (found by walking the package, so a new public name is seen at once), the
loaders and the command line.

Each case calls one public callable with one bad argument (wrong type, empty, NaN/inf,
negative, out of range, unfitted, wrong kind of model) and requires a ``ValueError`` or
``TypeError`` (or ``NotFittedError``) whose message names the parameter and, where it has
one, the bad value: never another exception type, never a silent NaN, never a partly written
file. :func:`test_every_public_callable_has_a_bad_input_case` fails, listing them, when a
public callable has no case here (and is not in :data:`NOT_YET_COVERED`, the list of names
whose cases their authors are still writing).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

import taafs_sk

BAD = (ValueError, TypeError)
UNFITTED = (NotFittedError,)
NAN = float("nan")
INF = float("inf")

#: Public callables whose bad-input cases are still being written by the helper who owns
#: them (this session). Every entry is a debt: remove it when its cases land below. The test
#: below fails if a name here already has cases (a stale entry) or is no longer public.
NOT_YET_COVERED: dict[str, str] = {}


# ------------------------------------------------------------------ discovery
def _public_packages() -> list[str]:
    names = ["taafs_sk", "taafs_sk.datasets", "taafs_sk.exceptions"]
    for info in pkgutil.iter_modules(taafs_sk.__path__, "taafs_sk."):
        if info.ispkg and not info.name.rpartition(".")[2].startswith("_"):
            names.append(info.name)
            sub = importlib.import_module(info.name)
            for inner in pkgutil.iter_modules(sub.__path__, info.name + "."):
                if inner.ispkg and not inner.name.rpartition(".")[2].startswith("_"):
                    names.append(inner.name)
    return names


def _takes_arguments(obj) -> bool:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return True
    return bool(signature.parameters)


@functools.lru_cache(maxsize=1)
def public_callables() -> dict[str, str]:
    """name -> package of every public callable that takes arguments (exceptions, warnings
    and constants excluded: they have no input to check)."""
    found: dict[str, str] = {}
    for package in _public_packages():
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            if inspect.isclass(obj) and not _takes_arguments(obj) and not hasattr(obj, "fit"):
                continue  # e.g. a kernel class: its instances are checked where they are used
            if not _takes_arguments(obj):
                continue
            found.setdefault(name, package)
    return found


# ------------------------------------------------------------------ fitted models (tiny)
@functools.cache
def toy():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (40, 3))
    return X, np.sin(2 * X[:, 0]) + X[:, 1]


@functools.cache
def taafs_fitted():
    from taafs_sk import TAAFSRegressor

    X, y = toy()
    return TAAFSRegressor((4,), basis="legendre", n_basis=4, max_epochs=2,
                          early_stopping=False, random_state=0).fit(X, y)


@functools.cache
def akn_fitted():
    from taafs_sk import AdditiveKernelNN

    X, y = toy()
    return AdditiveKernelNN(n_neurons=3, weights="sobol", optimize=False, optimize_weights=0,
                            random_state=0).fit(X, y)


def _table(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


# ------------------------------------------------------------------ the cases
@dataclass(frozen=True)
class Case:
    name: str  # the public callable
    label: str  # what is wrong
    call: Callable[[], object]
    param: str  # must appear in the message
    value: str | None = None  # must appear in the message too
    errors: tuple = BAD

    @property
    def id(self) -> str:
        return f"{self.name}-{self.label}"


def _lazy(path: str):
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _fit(est_path, X=None, y=None, **params):
    def call():
        Xd, yd = toy()
        est = _lazy(est_path)(**params)
        return est.fit(Xd if X is None else X, yd if y is None else y)

    return call


def _nan_X():
    X, _ = toy()
    X = X.copy()
    X[3, 1] = NAN
    return X


def _taafs_cases() -> list[Case]:
    est = "taafs_sk.TAAFSRegressor"
    X, y = toy()
    return [
        Case("TAAFSRegressor", "nan-X", _fit(est, X=_nan_X(), max_epochs=1), "X", "NaN"),
        Case("TAAFSRegressor", "zero-width", _fit(est, hidden_layer_sizes=(0,), max_epochs=1),
             "hidden_layer_sizes", "(0,)"),
        Case("TAAFSRegressor", "negative-n_basis", _fit(est, n_basis=-1), "n_basis", "-1"),
        Case("TAAFSRegressor", "nan-lr", _fit(est, lr=NAN), "lr", "nan"),
        Case("TAAFSRegressor", "unknown-device", _fit(est, device="gpu0", max_epochs=1),
             "device", "gpu0"),
        Case("TAAFSRegressor", "cuda-on-cpu-torch", _fit(est, device="cuda", max_epochs=1),
             "device", "cuda"),
        Case("TAAFSRegressor", "warm_start-str", _fit(est, warm_start="yes"), "warm_start",
             "yes"),
        Case("TAAFSRegressor", "negative-weight",
             lambda: _lazy(est)(max_epochs=1).fit(X, y, sample_weight=-np.ones(len(y))),
             "sample_weight", "Negative"),
        Case("TAAFSRegressor", "nan-weight",
             lambda: _lazy(est)(max_epochs=1).fit(X, y, sample_weight=np.full(len(y), NAN)),
             "sample_weight", "NaN"),
        Case("TAAFSRegressor", "zero-weights",
             lambda: _lazy(est)(max_epochs=1).fit(X, y, sample_weight=np.zeros(len(y))),
             "sample_weight", "zero"),
        Case("TAAFSRegressor", "unfitted-predict", lambda: _lazy(est)().predict(X),
             "TAAFSRegressor", "not fitted", UNFITTED),
        Case("TAAFSRegressor", "layer-out-of-range",
             lambda: taafs_fitted().activation_functions(layer=5), "layer", "5"),
    ]


def _additive_cases() -> list[Case]:
    est = "taafs_sk.AdditiveKernelNN"
    X, y = toy()
    fast = {"optimize": False, "optimize_weights": 0, "n_neurons": 3, "weights": "sobol"}
    return [
        Case("AdditiveKernelNN", "nan-X", _fit(est, X=_nan_X(), **fast), "X", "NaN"),
        Case("AdditiveKernelNN", "zero-neurons", _fit(est, n_neurons=0), "n_neurons", "0"),
        Case("AdditiveKernelNN", "negative-alpha", _fit(est, alpha=-1.0), "alpha", "-1"),
        Case("AdditiveKernelNN", "unknown-kernel", _fit(est, kernel="nope"), "kernel", "nope"),
        Case("AdditiveKernelNN", "unfitted-predict", lambda: _lazy(est)().predict(X),
             "AdditiveKernelNN", "not fitted", UNFITTED),
        Case("AdditiveKernelNN", "unfitted-to_module", lambda: _lazy(est)().to_module(),
             "AdditiveKernelNN", "not fitted", UNFITTED),
        Case("AdditiveKernelNN", "to_module-n_grid", lambda: akn_fitted().to_module(n_grid=1),
             "n_grid", "1"),
        Case("AdditiveKernelNN", "to_module-margin", lambda: akn_fitted().to_module(margin=NAN),
             "margin", "nan"),
        Case("AdditiveKernelNN", "negative-weight",
             lambda: _lazy(est)(**fast).fit(X, y, sample_weight=-np.ones(len(y))),
             "sample_weight", "Negative"),
        Case("make_kernel", "unknown", lambda: _lazy("taafs_sk.additive.make_kernel")("nope"),
             "kernel", "nope"),
        Case("make_kernel", "int", lambda: _lazy("taafs_sk.additive.make_kernel")(3),
             "kernel", "3"),
        Case("register_kernel", "not-a-kernel",
             lambda: _lazy("taafs_sk.additive.register_kernel")("mine", int), "cls", "int"),
        Case("register_kernel", "name-int",
             lambda: _lazy("taafs_sk.additive.register_kernel")(
                 3, _lazy("taafs_sk.additive.RBF1D")), "name", "3"),
    ]


def _nn_cases() -> list[Case]:
    nn = "taafs_sk.nn."
    cases = []
    for cls in ["BSplineBasis", "BesselBasis", "Chebyshev1Basis", "Chebyshev2Basis",
                "FourierBasis", "GaussianRBFBasis", "HermiteBasis", "JacobiBasis",
                "LegendreBasis"]:
        cases += [
            Case(cls, "zero-n_basis", lambda c=cls: _lazy(nn + c)(0), "n_basis", "0"),
            Case(cls, "str-n_basis", lambda c=cls: _lazy(nn + c)("8"), "n_basis", "8"),
        ]
    cases += [
        Case("Basis", "zero-n_basis", lambda: _lazy(nn + "Basis")(0), "n_basis", "0"),
        Case("JacobiBasis", "alpha-below-minus-one",
             lambda: _lazy(nn + "JacobiBasis")(8, alpha=-2.0), "alpha", "-2"),
        Case("JacobiBasis", "nan-beta", lambda: _lazy(nn + "JacobiBasis")(8, beta=NAN),
             "beta", "nan"),
        Case("BSplineBasis", "zero-order", lambda: _lazy(nn + "BSplineBasis")(8, order=0),
             "order", "0"),
        Case("make_basis", "unknown", lambda: _lazy(nn + "make_basis")("nope", 8), "nope"),
        Case("make_basis", "zero-n_basis", lambda: _lazy(nn + "make_basis")("legendre", 0),
             "n_basis", "0"),
        Case("register_basis", "not-a-basis", lambda: _lazy(nn + "register_basis")("x", int),
             "cls", "int"),
        Case("register_basis", "name-int",
             lambda: _lazy(nn + "register_basis")(3, _lazy(nn + "LegendreBasis")), "name", "3"),
        Case("register_optimizer", "not-an-optimizer",
             lambda: _lazy(nn + "register_optimizer")("x", int), "cls", "int"),
        Case("register_optimizer", "name-int",
             lambda: _lazy(nn + "register_optimizer")(3, torch.optim.Adam), "name", "3"),
        Case("register_optimizer", "instance",
             lambda: _lazy(nn + "register_optimizer")(
                 "x", torch.optim.Adam(torch.nn.Linear(2, 1).parameters())), "cls", "instance"),
        Case("unregister_basis", "unknown", lambda: _lazy(nn + "unregister_basis")("nope"),
             "nope"),
        Case("check_basis_kwargs", "options-with-an-instance",
             lambda: _lazy("taafs_sk.nn.bases.check_basis_kwargs")(
                 _lazy("taafs_sk.nn.bases.make_basis")("legendre", 3), {"alpha": 1}, "TAAF"),
             "basis_kwargs", "alpha"),
        Case("resolve_basis", "unknown",
             lambda: _lazy("taafs_sk.nn.bases.resolve_basis")("nope", 8), "basis", "nope"),
        Case("resolve_basis", "zero-n_basis",
             lambda: _lazy("taafs_sk.nn.bases.resolve_basis")("legendre", 0), "n_basis", "0"),
        Case("fixed_activation", "unknown", lambda: _lazy(nn + "fixed_activation")("nope"),
             "nope"),
        Case("fixed_activation", "int", lambda: _lazy(nn + "fixed_activation")(3), "3"),
        Case("make_activation_factory", "unknown-basis",
             lambda: _lazy(nn + "make_activation_factory")("nope"), "basis", "nope"),
        Case("make_activation_factory", "zero-n_basis",
             lambda: _lazy(nn + "make_activation_factory")("legendre", n_basis=0), "n_basis",
             "0"),
        Case("make_activation_factory", "unknown-sharing",
             lambda: _lazy(nn + "make_activation_factory")("legendre", sharing="all"),
             "sharing", "all"),
        Case("count_activation_params", "zero-width",
             lambda: _lazy(nn + "count_activation_params")("legendre", 8, "layer", [0]),
             "hidden_layer_sizes", "0"),
        Case("count_activation_params", "zero-n_basis",
             lambda: _lazy(nn + "count_activation_params")("legendre", 0, "layer", [4]),
             "n_basis", "0"),
        Case("count_activation_params", "unknown-sharing",
             lambda: _lazy(nn + "count_activation_params")("legendre", 8, "all", [4]),
             "sharing", "all"),
        Case("TAAF", "zero-n_basis", lambda: _lazy(nn + "TAAF")(n_basis=0), "n_basis", "0"),
        Case("TAAF", "unknown-basis", lambda: _lazy(nn + "TAAF")(basis="nope"), "basis", "nope"),
        Case("TAAF", "neuron-without-width", lambda: _lazy(nn + "TAAF")(sharing="neuron"),
             "num_features", "None"),
        Case("MLP", "zero-inputs",
             lambda: _lazy(nn + "MLP")(0, (4,), 1, _lazy(nn + "make_activation_factory")("tanh")),
             "in_features", "0"),
        Case("MLP", "zero-width",
             lambda: _lazy(nn + "MLP")(2, (0,), 1, _lazy(nn + "make_activation_factory")("tanh")),
             "hidden_layer_sizes", "0"),
        Case("MLP", "factory-not-callable", lambda: _lazy(nn + "MLP")(2, (4,), 1, "tanh"),
             "activation_factory", "tanh"),
        Case("TabulatedActivation", "decreasing-grid",
             lambda: _lazy(nn + "TabulatedActivation")([1.0, 0.0], [0.0, 1.0]), "grid"),
        Case("TabulatedActivation", "nan-values",
             lambda: _lazy(nn + "TabulatedActivation")([0.0, 1.0], [[0.0, NAN]]), "values", "nan"),
        Case("TabulatedActivation", "short-values",
             lambda: _lazy(nn + "TabulatedActivation")([0.0, 1.0, 2.0], [0.0, 1.0]), "values"),
        Case("activation_grid", "not-a-module",
             lambda: _lazy(nn + "activation_grid")("tanh", [0.0, 1.0]), "module", "tanh"),
        Case("activation_grid", "nan-z",
             lambda: _lazy(nn + "activation_grid")(torch.nn.Tanh(), [0.0, NAN]), "z", "nan"),
        Case("FusedPlan", "not-a-basis",
             lambda: _lazy("taafs_sk.nn.bases.FusedPlan").build("bspline", torch.float32),
             "basis", "bspline"),
        Case("FusedPlan", "string-dtype",
             lambda: _lazy("taafs_sk.nn.bases.FusedPlan").build(
                 _lazy("taafs_sk.nn.bases.make_basis")("legendre", 3), "float32"),
             "dtype", "float32"),
        Case("RLEKF", "zero-block", lambda: _lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), block_size=0), "block_size", "0"),
        Case("RLEKF", "lambda1-above-one", lambda: _lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), lambda1=1.5), "lambda1", "1.5"),
        Case("RLEKF", "nan-nu", lambda: _lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), nu=NAN), "nu", "nan"),
        Case("RLEKF", "negative-p0", lambda: _lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), p0=-1.0), "p0", "-1"),
        Case("replace_activations", "not-a-module",
             lambda: _lazy(nn + "replace_activations")("net"), "module", "net"),
        Case("replace_activations", "estimator-given",
             lambda: _lazy(nn + "replace_activations")(taafs_fitted()), "module", "module_"),
        Case("replace_activations", "zero-n_basis",
             lambda: _lazy(nn + "replace_activations")(torch.nn.Tanh(), n_basis=0), "n_basis",
             "0"),
    ]
    return cases


def _taafs_glue_cases() -> list[Case]:
    t = "taafs_sk.taafs."
    X, y = toy()
    return [
        Case("build_net", "not-a-module", lambda: _lazy(t + "build_net")("net"), "module", "net"),
        Case("build_net", "zero-epochs",
             lambda: _lazy(t + "build_net")(torch.nn.Linear(3, 1), max_epochs=0), "max_epochs",
             "0"),
        Case("build_net", "unknown-optimizer",
             lambda: _lazy(t + "build_net")(torch.nn.Linear(3, 1), optimizer="adamx"),
             "optimizer", "adamx"),
        Case("build_net", "unknown-device",
             lambda: _lazy(t + "build_net")(torch.nn.Linear(3, 1), device="gpu0"), "device",
             "gpu0"),
        Case("fit_net", "zero-epochs",
             lambda: _lazy(t + "fit_net")(_lazy(t + "build_net")(torch.nn.Linear(3, 1)), X,
                                          y[:, None], epochs=0), "epochs", "0"),
        Case("fit_net", "not-a-net", lambda: _lazy(t + "fit_net")("net", X, y), "net", "net"),
        Case("fit_net", "nan-X",
             lambda: _lazy(t + "fit_net")(_lazy(t + "build_net")(torch.nn.Linear(3, 1)),
                                          _nan_X(), y[:, None]), "X", "nan"),
        Case("FiniteLossGuard", "hint-int", lambda: _lazy(t + "FiniteLossGuard")(hint=3),
             "hint", "3"),
    ]


def _featurizer_cases() -> list[Case]:
    f = "taafs_sk.featurizers."
    cases = []
    for cls in ["HydrocarbonFeaturizer", "MoleculeFeaturizer", "DoublePerovskiteFeaturizer"]:
        cases += [
            Case(cls, "fit-empty-list", lambda c=cls: _lazy(f + c)().fit([]), "X", "empty"),
            Case(cls, "fit-None", lambda c=cls: _lazy(f + c)().fit(None), "X", "None"),
            Case(cls, "transform-unfitted", lambda c=cls: _lazy(f + c)().transform(["CC"]),
                 cls, "not fitted", UNFITTED),
            Case(cls, "bad-on_error", lambda c=cls: _lazy(f + c)(on_error="skip").fit(["CC"]),
                 "on_error", "skip"),
        ]
    cases.append(Case("BaseFeaturizer", "fit-empty-list",
                      lambda: _lazy(f + "HydrocarbonFeaturizer")().fit(np.array([])), "X",
                      "empty"))
    return cases


def _plotting_cases() -> list[Case]:
    p = "taafs_sk.plotting."
    noise = _table(level=[0.0, 0.1], rmse_mean=[0.1, 0.2])
    return [
        Case("plot_activations", "unfitted",
             lambda: _lazy(p + "plot_activations")(_lazy("taafs_sk.TAAFSRegressor")()),
             "model", "not fitted", UNFITTED),
        Case("plot_activations", "additive-model",
             lambda: _lazy(p + "plot_activations")(akn_fitted()), "model", "AdditiveKernelNN"),
        Case("plot_activations", "string", lambda: _lazy(p + "plot_activations")("model"),
             "model", "'model'"),
        Case("plot_activations", "zero-max_shapes",
             lambda: _lazy(p + "plot_activations")(taafs_fitted(), max_shapes=0), "max_shapes",
             "0"),
        Case("plot_activations", "nan-z",
             lambda: _lazy(p + "plot_activations")(taafs_fitted(), z=[0.0, NAN]), "z", "nan"),
        Case("plot_neuron_activations", "unfitted",
             lambda: _lazy(p + "plot_neuron_activations")(_lazy("taafs_sk.AdditiveKernelNN")()),
             "model", "not fitted", UNFITTED),
        Case("plot_neuron_activations", "taafs-model",
             lambda: _lazy(p + "plot_neuron_activations")(taafs_fitted()), "model",
             "TAAFSRegressor"),
        Case("plot_neuron_activations", "ridge",
             lambda: _lazy(p + "plot_neuron_activations")(
                 __import__("sklearn.linear_model").linear_model.Ridge().fit(*toy())),
             "model", "Ridge"),
        Case("plot_neuron_activations", "one-point",
             lambda: _lazy(p + "plot_neuron_activations")(akn_fitted(), n_points=1),
             "n_points", "1"),
        Case("plot_neuron_activations", "unknown-cmap",
             lambda: _lazy(p + "plot_neuron_activations")(akn_fitted(), cmap="nope"), "cmap",
             "nope"),
        Case("plot_noise_sweep", "not-a-table", lambda: _lazy(p + "plot_noise_sweep")([1, 2]),
             "df", "[1, 2]"),
        Case("plot_noise_sweep", "empty", lambda: _lazy(p + "plot_noise_sweep")(noise.iloc[:0]),
             "df", "empty"),
        Case("plot_noise_sweep", "missing-column",
             lambda: _lazy(p + "plot_noise_sweep")(noise.drop(columns="level")), "level"),
        Case("plot_naf_study", "not-a-table", lambda: _lazy(p + "plot_naf_study")("table"),
             "df", "table"),
        Case("plot_naf_study", "empty", lambda: _lazy(p + "plot_naf_study")(_table(spread=[])),
             "df", "empty"),
        Case("plot_basis_comparison", "not-a-table",
             lambda: _lazy(p + "plot_basis_comparison")(None), "df", "None"),
        Case("plot_basis_comparison", "empty",
             lambda: _lazy(p + "plot_basis_comparison")(_table(basis=[], test_rmse=[])), "df",
             "empty"),
        Case("plot_chip_study", "not-a-table", lambda: _lazy(p + "plot_chip_study")({"a": 1}),
             "df", "{'a': 1}"),
        Case("plot_chip_study", "empty",
             lambda: _lazy(p + "plot_chip_study")(_table(model=[], rmse=[])), "df", "empty"),
        Case("plot_study", "unknown-kind", lambda: _lazy(p + "plot_study")("nope", noise),
             "kind", "nope"),
        Case("plot_study", "kind-list", lambda: _lazy(p + "plot_study")(["noise"], noise),
             "kind", "['noise']"),
    ]


def _dataset_cases(tmp_home: str) -> list[Case]:
    d = "taafs_sk.datasets."
    return [
        Case("load_hydrocarbons", "unknown-level",
             lambda: _lazy(d + "load_hydrocarbons")("b3lyp"), "level", "b3lyp"),
        Case("load_hydrocarbons", "unknown-unit",
             lambda: _lazy(d + "load_hydrocarbons")(energy_unit="kcal"), "energy_unit", "kcal"),
        Case("load_hydrocarbons", "level-list",
             lambda: _lazy(d + "load_hydrocarbons")(["xtb"]), "level", "['xtb']"),
        Case("load_hydrocarbons", "data_home-int",
             lambda: _lazy(d + "load_hydrocarbons")(data_home=3), "data_home", "3"),
        Case("load_double_perovskites", "unknown-source",
             lambda: _lazy(d + "load_double_perovskites")("nope"), "source", "nope"),
        Case("load_double_perovskites", "unknown-target",
             lambda: _lazy(d + "load_double_perovskites")(target="gap"), "target", "gap"),
        Case("load_qm9", "zero-samples", lambda: _lazy(d + "load_qm9")(n_samples=0),
             "n_samples", "0"),
        Case("load_qm9", "negative-samples", lambda: _lazy(d + "load_qm9")(n_samples=-5),
             "n_samples", "-5"),
        Case("load_qm9", "float-samples", lambda: _lazy(d + "load_qm9")(n_samples=2.5),
             "n_samples", "2.5"),
        Case("load_qm9", "unknown-target", lambda: _lazy(d + "load_qm9")("homo_lumo"),
             "target", "homo_lumo"),
        Case("get_data_home", "int", lambda: _lazy(d + "get_data_home")(3), "data_home", "3"),
        Case("list_datasets", "int", lambda: _lazy(d + "list_datasets")(3.5), "data_home",
             "3.5"),
        Case("load_element_lumo", "data_home-int",
             lambda: _lazy(d + "load_element_lumo")(data_home=3), "data_home", "3"),
    ]


def _study_cases() -> list[Case]:
    s = "taafs_sk.studies."
    data = toy()
    return [
        Case("load_study_data", "unknown", lambda: _lazy(s + "load_study_data")("nope"),
             "name", "nope"),
        Case("noise_tolerance", "unknown-dataset",
             lambda: _lazy(s + "noise_tolerance")("nope"), "dataset", "nope"),
        Case("noise_tolerance", "empty-levels",
             lambda: _lazy(s + "noise_tolerance")(data, levels=[]), "levels", "[]"),
        Case("noise_tolerance", "negative-level",
             lambda: _lazy(s + "noise_tolerance")(data, levels=[0.0, -0.1]), "levels", "-0.1"),
        Case("noise_tolerance", "nan-level",
             lambda: _lazy(s + "noise_tolerance")(data, levels=[NAN]), "levels", "nan"),
        Case("noise_tolerance", "zero-draws",
             lambda: _lazy(s + "noise_tolerance")(data, n_draws=0), "n_draws", "0"),
        Case("naf_inhomogeneity", "empty-spreads",
             lambda: _lazy(s + "naf_inhomogeneity")(data, spreads=[]), "spreads", "[]"),
        Case("naf_inhomogeneity", "negative-spread",
             lambda: _lazy(s + "naf_inhomogeneity")(data, spreads=[-0.1]), "spreads", "-0.1"),
        Case("naf_inhomogeneity", "zero-realizations",
             lambda: _lazy(s + "naf_inhomogeneity")(data, n_realizations=0), "n_realizations",
             "0"),
        Case("basis_comparison", "zero-repeats",
             lambda: _lazy(s + "basis_comparison")(data, repeats=0), "repeats", "0"),
        Case("basis_comparison", "nan-noise",
             lambda: _lazy(s + "basis_comparison")(data, noise_level=NAN), "noise_level", "nan"),
        Case("basis_comparison", "zero-draws",
             lambda: _lazy(s + "basis_comparison")(data, n_draws=0), "n_draws", "0"),
        Case("basis_comparison", "empty-bases",
             lambda: _lazy(s + "basis_comparison")(data, bases=[]), "bases", "[]"),
    ]


def _analog_cases() -> list[Case]:
    a = "taafs_sk.analog."
    X, y = toy()
    tm = lambda: _lazy(a + "as_torch_model")(taafs_fitted())  # noqa: E731
    naf = lambda: _lazy(a + "NAFDispersion")("sigmoid", spread=0.05)  # noqa: E731
    return [
        Case("NoiseModel", "negative-level",
             lambda: _lazy(a + "NoiseInjectedRegressor")(
                 taafs_fitted(), _lazy(a + "NoiseModel")(level=-0.1)).fit(X, y), "level", "-0.1"),
        Case("NoiseModel", "unknown-kind",
             lambda: _lazy(a + "NoiseInjectedRegressor")(
                 taafs_fitted(), _lazy(a + "NoiseModel")(kind="pink")).fit(X, y), "kind", "pink"),
        Case("NoiseInjectedRegressor", "zero-draws",
             lambda: _lazy(a + "NoiseInjectedRegressor")(taafs_fitted(), n_draws=0).fit(X, y),
             "n_draws", "0"),
        Case("NoiseInjectedRegressor", "not-an-estimator",
             lambda: _lazy(a + "NoiseInjectedRegressor")("model").fit(X, y), "estimator",
             "model"),
        Case("noise_sweep", "empty-levels",
             lambda: _lazy(a + "noise_sweep")(taafs_fitted(), X, y, []), "levels", "[]"),
        Case("noise_sweep", "nan-level",
             lambda: _lazy(a + "noise_sweep")(taafs_fitted(), X, y, [NAN]), "levels", "nan"),
        Case("noise_sweep", "zero-draws",
             lambda: _lazy(a + "noise_sweep")(taafs_fitted(), X, y, [0.1], n_draws=0), "n_draws",
             "0"),
        Case("noise_sweep", "unfitted",
             lambda: _lazy(a + "noise_sweep")(_lazy("taafs_sk.TAAFSRegressor")(), X, y, [0.1]),
             "not fitted", None, UNFITTED),
        Case("NAFDispersion", "nan-spread",
             lambda: _lazy(a + "realize_network")(tm(), _lazy(a + "NAFDispersion")(
                 "sigmoid", spread=NAN)), "spread", "nan"),
        Case("as_torch_model", "string", lambda: _lazy(a + "as_torch_model")("model"),
             "estimator", "str"),
        Case("as_torch_model", "unfitted",
             lambda: _lazy(a + "as_torch_model")(_lazy("taafs_sk.TAAFSRegressor")()),
             "not fitted", None, UNFITTED),
        Case("realize_network", "not-a-torch-model",
             lambda: _lazy(a + "realize_network")(taafs_fitted(), naf()), "model"),
        Case("disperse_network", "not-a-torch-model",
             lambda: _lazy(a + "disperse_network")("model", naf()), "model"),
        Case("retrain_weights", "zero-epochs",
             lambda: _lazy(a + "retrain_weights")(tm(), X, y, epochs=0), "epochs", "0"),
        Case("train_dispersion_aware", "zero-epochs",
             lambda: _lazy(a + "train_dispersion_aware")(tm(), X, y, naf(), epochs=0), "epochs",
             "0"),
        Case("HardwareNAFRegressor", "nan-X",
             lambda: _lazy(a + "HardwareNAFRegressor")(
                 taafs_fitted(), _lazy(a + "NAFDispersion")(None)).fit(_nan_X(), y),
             "X", "NaN"),
        Case("DispersionAwareRegressor", "zero-epochs",
             lambda: _lazy(a + "DispersionAwareRegressor")(
                 taafs_fitted(), naf(), train_epochs=0).fit(X, y), "train_epochs", "0"),
        Case("export_hardware", "zero-points",
             lambda: _lazy(a + "export_hardware")(taafs_fitted(), "hw.npz", X, n_points=0),
             "n_points", "0"),
        Case("load_hardware", "missing-file",
             lambda: _lazy(a + "load_hardware")("no_such_file.npz"), "no_such_file"),
    ]


def _shapes_cases() -> list[Case]:
    a = "taafs_sk.analog."
    X, y = toy()
    tm = lambda: _lazy(a + "as_torch_model")(taafs_fitted())  # noqa: E731
    aware = lambda: _lazy(a + "DispersionAwareRegressor")(  # noqa: E731
        taafs_fitted(), _lazy(a + "NAFDispersion")("tanh", spread=0.1))
    grid = np.linspace(-1.0, 1.0, 5)
    one = ([1.0], [0.0], [1.0], [0.0])  # gain, shift, scale, offset of one neuron
    chips = _table(model=["ideal", "degraded"], test_rmse=[0.1, 0.2])
    s = "taafs_sk.studies.chip_study"
    data = (X, X, y, y)
    return [
        Case("MeasuredNAF", "decreasing-x",
             lambda: _lazy(a + "MeasuredNAF")(grid[::-1], [np.tanh(grid)]).realize(2), "x",
             "0.5 after 1.0"),
        Case("MeasuredNAF", "nan-curve",
             lambda: _lazy(a + "MeasuredNAF")(grid, [[0.0, NAN, 1.0, 2.0, 3.0]]).realize(2),
             "curves", "nan"),
        Case("MeasuredNAF", "inf-x",
             lambda: _lazy(a + "MeasuredNAF")([0.0, 1.0, INF], [[0.0, 1.0, 2.0]]).realize(2),
             "x", "inf"),
        Case("MeasuredNAF", "zero-neurons",
             lambda: _lazy(a + "MeasuredNAF")(grid, [np.tanh(grid)]).realize(0), "n_neurons",
             "0"),
        Case("MeasuredNAF", "unknown-assignment",
             lambda: _lazy(a + "MeasuredNAF")(grid, [np.tanh(grid)], assignment="all").realize(
                 2), "assignment", "all"),
        Case("activation_spans", "nan-X",
             lambda: _lazy(a + "activation_spans")(tm(), _nan_X()), "X", "NaN"),
        Case("activation_spans", "estimator-given",
             lambda: _lazy(a + "activation_spans")(taafs_fitted(), X), "model",
             "as_torch_model"),
        Case("activation_spans", "wrong-width",
             lambda: _lazy(a + "activation_spans")(tm(), X[:, :2]), "X", "2 features"),
        Case("summarize_chips", "list", lambda: _lazy(a + "summarize_chips")([1]), "table",
             "[1]"),
        Case("summarize_chips", "empty",
             lambda: _lazy(a + "summarize_chips")(chips.iloc[:0]), "table", "empty"),
        Case("summarize_chips", "missing-column",
             lambda: _lazy(a + "summarize_chips")(chips.drop(columns="test_rmse")), "table",
             "test_rmse"),
        Case("DispersedActivation", "unknown-base",
             lambda: _lazy(a + "DispersedActivation")("sinc", *one), "base", "sinc"),
        Case("DispersedActivation", "nan-gain",
             lambda: _lazy(a + "DispersedActivation")("tanh", [NAN], *one[1:]), "gain", "nan"),
        Case("DispersedActivation", "length-mismatch",
             lambda: _lazy(a + "DispersedActivation")("tanh", [1.0, 2.0], *one[1:]), "shift",
             "1 value"),
        Case("DispersedModule", "act-str",
             lambda: _lazy(a + "DispersedModule")("tanh", *one), "act", "tanh"),
        Case("DispersedModule", "nan-scale",
             lambda: _lazy(a + "DispersedModule")(torch.nn.Tanh(), [1.0], [0.0], [NAN], [0.0]),
             "scale", "nan"),
        Case("DispersedModule", "empty-offset",
             lambda: _lazy(a + "DispersedModule")(torch.nn.Tanh(), *one[:3], []), "offset",
             "shape (0,)"),
        Case("TorchModel", "mlp-str",
             lambda: _lazy(a + "TorchModel")("mlp", [0.0], [1.0], torch.float32), "mlp",
             "'mlp'"),
        Case("TorchModel", "estimator-as-mlp",
             lambda: _lazy(a + "TorchModel")(taafs_fitted(), [0.0], [1.0], torch.float32),
             "mlp", "as_torch_model"),
        Case("TorchModel", "nan-y_mean",
             lambda: _lazy(a + "TorchModel")(tm().mlp, [NAN], [1.0], torch.float32), "y_mean",
             "nan"),
        Case("TorchModel", "y_scale-too-long",
             lambda: _lazy(a + "TorchModel")(tm().mlp, [0.0], [1.0, 2.0], torch.float32),
             "y_scale", "[1.0, 2.0]"),
        Case("TorchModel", "dtype-str",
             lambda: _lazy(a + "TorchModel")(tm().mlp, [0.0], [1.0], "float32"), "dtype",
             "float32"),
        Case("TorchModel", "transform-not-callable",
             lambda: _lazy(a + "TorchModel")(tm().mlp, [0.0], [1.0], torch.float32,
                                             transform="scale"), "transform", "scale"),
        Case("evaluate_on_chips", "string",
             lambda: _lazy(a + "evaluate_on_chips")("aware", X, y, X, y), "aware", "'aware'"),
        Case("evaluate_on_chips", "wrong-estimator",
             lambda: _lazy(a + "evaluate_on_chips")(taafs_fitted(), X, y, X, y), "aware",
             "TAAFSRegressor"),
        Case("evaluate_on_chips", "unfitted",
             lambda: _lazy(a + "evaluate_on_chips")(aware(), X, y, X, y), "aware",
             "not fitted", UNFITTED),
        Case("chip_study", "nan-spread", lambda: _lazy(s)(data, spread=NAN), "spread", "nan"),
        Case("chip_study", "negative-spread", lambda: _lazy(s)(data, spread=-0.1), "spread",
             "-0.1"),
        Case("chip_study", "unknown-base", lambda: _lazy(s)(data, base="sinc"), "base",
             "sinc"),
        Case("chip_study", "unknown-resample", lambda: _lazy(s)(data, resample="step"),
             "resample", "step"),
        Case("chip_study", "zero-chips", lambda: _lazy(s)(data, n_chips=0), "n_chips", "0"),
        Case("chip_study", "retrain-more-than-chips",
             lambda: _lazy(s)(data, n_chips=2, n_retrain=3), "n_retrain", "3"),
        Case("chip_study", "unknown-dataset", lambda: _lazy(s)("mnist"), "dataset", "mnist"),
    ]


@functools.cache
def tiny_atoms():
    """Two H atoms with a DFT-like energy and forces (one structure, no cell)."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = Atoms("H2", positions=[[0.0, 0.0, 0.0], [0.74, 0.0, 0.0]])
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((2, 3)))
    return atoms


def _atomistic_cases() -> list[Case]:
    m = "taafs_sk.atomistic."
    pot = m + "TAAFSPotential"

    def fit(**params):
        return lambda: _lazy(pot)(max_epochs=1, **params).fit([tiny_atoms()])

    def ani(**params):
        return fit(descriptor=_lazy(m + "ANIDescriptor")(**params))

    def nan_positions():
        atoms = tiny_atoms().copy()
        atoms.positions[1, 0] = NAN
        return atoms

    step = "taafs_sk.atomistic.register_training_step"
    d = "taafs_sk.datasets.load_pwmlff"
    return [
        Case("TAAFSPotential", "unfitted-predict", lambda: _lazy(pot)().predict([tiny_atoms()]),
             "TAAFSPotential", "not fitted", UNFITTED),
        Case("TAAFSPotential", "zero-width", fit(hidden_layer_sizes=(0,)),
             "hidden_layer_sizes", "(0,)"),
        Case("TAAFSPotential", "nan-lr", fit(lr=NAN), "lr", "nan"),
        Case("TAAFSPotential", "unknown-optimizer", fit(optimizer="nope"), "optimizer", "nope"),
        Case("TAAFSPotential", "unknown-device", fit(device="gpu0"), "device", "gpu0"),
        Case("TAAFSPotential", "empty-X", lambda: _lazy(pot)(max_epochs=1).fit([]), "X",
             "empty"),
        Case("TAAFSPotential", "X-not-atoms", lambda: _lazy(pot)(max_epochs=1).fit([[0.0]]),
             "X", "list"),
        Case("TAAFSPotential", "nan-positions",
             lambda: _lazy(pot)(max_epochs=1).fit([nan_positions()]), "structure 0", "NaN"),
        Case("TAAFSPotential", "energies-too-many",
             lambda: _lazy(pot)(max_epochs=1).fit([tiny_atoms()], energies=[1.0, 2.0]),
             "energies", "2 values"),
        Case("ANIDescriptor", "nan-radial_cutoff", ani(radial_cutoff=NAN), "radial_cutoff",
             "nan"),
        Case("ANIDescriptor", "angular-above-radial", ani(angular_cutoff=9.0),
             "angular_cutoff", "9.0"),
        Case("ANIDescriptor", "zero-shifts", ani(radial_num_shifts=0), "radial_num_shifts",
             "0"),
        Case("ANIDescriptor", "float-sections", ani(angular_num_sections=2.5),
             "angular_num_sections", "2.5"),
        Case("ANIDescriptor", "zero-species",
             lambda: _lazy(m + "ANIDescriptor")().n_features(0), "n_species", "0"),
        Case("register_training_step", "name-int",
             lambda: _lazy(step)(3, torch.optim.Adam), "name", "3"),
        Case("register_training_step", "name-empty",
             lambda: _lazy(step)("", torch.optim.Adam), "name", "''"),
        Case("register_training_step", "factory-not-optimizer",
             lambda: _lazy(step)("battery-step", 3), "factory", "3"),
        Case("register_training_step", "old-step-contract",
             lambda: _lazy(step)("battery-step", print), "factory", "register_optimizer"),
        Case("register_training_step", "already-registered",
             lambda: _lazy(step)("adam", torch.optim.SGD), "adam", "overwrite"),
        Case("load_pwmlff", "unknown-system", lambda: _lazy(d)("si"), "system", "si"),
        Case("load_pwmlff", "system-list", lambda: _lazy(d)(["cu"]), "system", "['cu']"),
        Case("load_pwmlff", "unknown-split", lambda: _lazy(d)("cu", split="valid"), "split",
             "valid"),
        Case("load_pwmlff", "data_home-int", lambda: _lazy(d)("cu", data_home=3), "data_home",
             "3"),
    ]


def all_cases() -> list[Case]:
    return [*_taafs_cases(), *_additive_cases(), *_nn_cases(), *_taafs_glue_cases(),
            *_featurizer_cases(), *_plotting_cases(), *_dataset_cases(""), *_study_cases(),
            *_analog_cases(), *_shapes_cases(), *_atomistic_cases()]


CASES = all_cases()


# ------------------------------------------------------------------ the tests
def test_every_public_callable_has_a_bad_input_case():
    covered = {case.name for case in CASES} | {"main"}  # main: CLI_CASES below
    public = public_callables()
    missing = sorted(set(public) - covered - set(NOT_YET_COVERED))
    assert not missing, (
        "public callables with no bad-input case in tests/test_api_battery.py: "
        + ", ".join(f"{n} ({public[n]})" for n in missing)
    )
    stale = sorted(set(NOT_YET_COVERED) & covered)
    assert not stale, f"NOT_YET_COVERED lists names that now have cases: {stale}"
    gone = sorted(set(NOT_YET_COVERED) - set(public))
    assert not gone, f"NOT_YET_COVERED lists names that are not public callables: {gone}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_with_a_message_naming_it(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written by mistake lands here (checked below)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is checked just below
        case.call()
    exc = info.value
    assert isinstance(exc, case.errors), (
        f"{case.id}: raised {type(exc).__name__}: {exc} (expected one of "
        f"{[e.__name__ for e in case.errors]})"
    )
    message = str(exc)
    assert case.param.lower() in message.lower(), f"{case.id}: {message!r} lacks {case.param!r}"
    if case.value is not None:
        assert case.value.lower() in message.lower(), (
            f"{case.id}: {message!r} lacks the bad value {case.value!r}"
        )
    assert not list(tmp_path.iterdir()), f"{case.id} left files: {list(tmp_path.iterdir())}"


# ------------------------------------------------------------------ the command line
CLI_CASES = {
    "unknown-command": (["fit"], "fit"),
    "unknown-study": (["study", "nope", "--dataset", "perovskites"], "nope"),
    "unknown-dataset": (["study", "noise", "--dataset", "mnist"], "mnist"),
    "negative-level": (["study", "noise", "--dataset", "perovskites", "--levels", "0,-0.1"],
                       "-0.1"),
    "nan-level": (["study", "noise", "--dataset", "perovskites", "--levels", "nan"], "nan"),
    "zero-draws": (["study", "noise", "--dataset", "perovskites", "--draws", "0"], "0"),
    "text-epochs": (["study", "noise", "--dataset", "perovskites", "--epochs", "many"],
                    "many"),
    "empty-sizes": (["study", "noise", "--dataset", "perovskites", "--sizes", ""], "sizes"),
    "negative-spread": (["study", "naf", "--dataset", "perovskites", "--spreads", "-1"], "-1"),
}


@pytest.mark.parametrize("argv, bad", CLI_CASES.values(), ids=list(CLI_CASES))
def test_cli_refuses_bad_arguments_in_one_line(argv, bad, tmp_path, capsys, monkeypatch):
    from taafs_sk.cli import main

    monkeypatch.chdir(tmp_path)
    status = main([*argv, "--out", str(tmp_path / "out")] if argv[0] == "study"
                  and len(argv) > 2 else argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    assert bad in err, err
    assert not (tmp_path / "out").exists()  # nothing half written


# ------------------------------------------------------------------ properties
@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(max_value=0), st.floats(), st.text(max_size=3), st.none(),
                 st.booleans()))
def test_any_invalid_count_is_refused(value):
    from taafs_sk._validation import check_count

    with pytest.raises(BAD, match="n_draws"):
        check_count("n_draws", value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5).filter(
    lambda v: not v or any(not math.isfinite(x) or x < 0 for x in v)))
def test_any_invalid_level_list_is_refused(levels):
    from taafs_sk._validation import check_levels

    with pytest.raises(ValueError, match="levels"):
        check_levels("levels", levels)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["legendre", "chebyshev1", "chebyshev2", "hermite", "bessel", "jacobi",
                        "bspline", "fourier", "gaussian_rbf"]),
       st.integers(4, 16),
       st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8))
def test_any_finite_input_gives_a_finite_activation(basis, n_basis, z):
    from taafs_sk.nn import TAAF, available_bases

    if basis not in available_bases():
        basis = "legendre"
    act = TAAF(basis=basis, n_basis=n_basis)
    out = act(torch.tensor(z, dtype=torch.float32))
    assert torch.isfinite(out).all()


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=3),
                min_size=1, max_size=6))
def test_any_finite_input_gives_finite_predictions(rows):
    X = np.asarray(rows, dtype=float)
    assert np.isfinite(taafs_fitted().predict(X)).all()
    assert np.isfinite(akn_fitted().predict(X)).all()
