"""Bad-input cases of taafs_sk.nn: the package-level functions and classes."""

from __future__ import annotations

import torch

from .common import (
    NAN,
    Case,
    lazy,
    taafs_fitted,
)


def nn_cases() -> list[Case]:
    nn = "taafs_sk.nn."
    cases = []
    for cls in ["BSplineBasis", "BesselBasis", "Chebyshev1Basis", "Chebyshev2Basis",
                "FourierBasis", "GaussianRBFBasis", "HermiteBasis", "JacobiBasis",
                "LegendreBasis"]:
        cases += [
            Case(cls, "zero-n_basis", lambda c=cls: lazy(nn + c)(0), "n_basis", "0"),
            Case(cls, "str-n_basis", lambda c=cls: lazy(nn + c)("8"), "n_basis", "8"),
        ]
    cases += [
        Case("Basis", "zero-n_basis", lambda: lazy(nn + "Basis")(0), "n_basis", "0"),
        Case("JacobiBasis", "alpha-below-minus-one",
             lambda: lazy(nn + "JacobiBasis")(8, alpha=-2.0), "alpha", "-2"),
        Case("JacobiBasis", "nan-beta", lambda: lazy(nn + "JacobiBasis")(8, beta=NAN),
             "beta", "nan"),
        Case("BSplineBasis", "zero-order", lambda: lazy(nn + "BSplineBasis")(8, order=0),
             "order", "0"),
        Case("make_basis", "unknown", lambda: lazy(nn + "make_basis")("nope", 8), "nope"),
        Case("make_basis", "zero-n_basis", lambda: lazy(nn + "make_basis")("legendre", 0),
             "n_basis", "0"),
        Case("register_basis", "not-a-basis", lambda: lazy(nn + "register_basis")("x", int),
             "cls", "int"),
        Case("register_basis", "name-int",
             lambda: lazy(nn + "register_basis")(3, lazy(nn + "LegendreBasis")), "name", "3"),
        Case("register_optimizer", "not-an-optimizer",
             lambda: lazy(nn + "register_optimizer")("x", int), "cls", "int"),
        Case("register_optimizer", "name-int",
             lambda: lazy(nn + "register_optimizer")(3, torch.optim.Adam), "name", "3"),
        Case("register_optimizer", "instance",
             lambda: lazy(nn + "register_optimizer")(
                 "x", torch.optim.Adam(torch.nn.Linear(2, 1).parameters())), "cls", "instance"),
        Case("unregister_basis", "unknown", lambda: lazy(nn + "unregister_basis")("nope"),
             "nope"),
        Case("check_basis_kwargs", "options-with-an-instance",
             lambda: lazy("taafs_sk.nn.bases.check_basis_kwargs")(
                 lazy("taafs_sk.nn.bases.make_basis")("legendre", 3), {"alpha": 1}, "TAAF"),
             "basis_kwargs", "alpha"),
        Case("resolve_basis", "unknown",
             lambda: lazy("taafs_sk.nn.bases.resolve_basis")("nope", 8), "basis", "nope"),
        Case("resolve_basis", "zero-n_basis",
             lambda: lazy("taafs_sk.nn.bases.resolve_basis")("legendre", 0), "n_basis", "0"),
        Case("fixed_activation", "unknown", lambda: lazy(nn + "fixed_activation")("nope"),
             "nope"),
        Case("fixed_activation", "int", lambda: lazy(nn + "fixed_activation")(3), "3"),
        Case("make_activation_factory", "unknown-basis",
             lambda: lazy(nn + "make_activation_factory")("nope"), "basis", "nope"),
        Case("make_activation_factory", "zero-n_basis",
             lambda: lazy(nn + "make_activation_factory")("legendre", n_basis=0), "n_basis",
             "0"),
        Case("make_activation_factory", "unknown-sharing",
             lambda: lazy(nn + "make_activation_factory")("legendre", sharing="all"),
             "sharing", "all"),
        Case("count_activation_params", "zero-width",
             lambda: lazy(nn + "count_activation_params")("legendre", 8, "layer", [0]),
             "hidden_layer_sizes", "0"),
        Case("count_activation_params", "zero-n_basis",
             lambda: lazy(nn + "count_activation_params")("legendre", 0, "layer", [4]),
             "n_basis", "0"),
        Case("count_activation_params", "unknown-sharing",
             lambda: lazy(nn + "count_activation_params")("legendre", 8, "all", [4]),
             "sharing", "all"),
        Case("TAAF", "zero-n_basis", lambda: lazy(nn + "TAAF")(n_basis=0), "n_basis", "0"),
        Case("TAAF", "unknown-basis", lambda: lazy(nn + "TAAF")(basis="nope"), "basis", "nope"),
        Case("TAAF", "neuron-without-width", lambda: lazy(nn + "TAAF")(sharing="neuron"),
             "num_features", "None"),
        Case("MLP", "zero-inputs",
             lambda: lazy(nn + "MLP")(0, (4,), 1, lazy(nn + "make_activation_factory")("tanh")),
             "in_features", "0"),
        Case("MLP", "zero-width",
             lambda: lazy(nn + "MLP")(2, (0,), 1, lazy(nn + "make_activation_factory")("tanh")),
             "hidden_layer_sizes", "0"),
        Case("MLP", "factory-not-callable", lambda: lazy(nn + "MLP")(2, (4,), 1, "tanh"),
             "activation_factory", "tanh"),
        Case("TabulatedActivation", "decreasing-grid",
             lambda: lazy(nn + "TabulatedActivation")([1.0, 0.0], [[0.0, 1.0]]), "grid",
             "increasing"),
        Case("TabulatedActivation", "nan-values",
             lambda: lazy(nn + "TabulatedActivation")([0.0, 1.0], [[0.0, NAN]]), "values", "nan"),
        Case("TabulatedActivation", "short-values",
             lambda: lazy(nn + "TabulatedActivation")([0.0, 1.0, 2.0], [0.0, 1.0]), "values"),
        Case("activation_grid", "not-a-module",
             lambda: lazy(nn + "activation_grid")("tanh", [0.0, 1.0]), "module", "tanh"),
        Case("activation_grid", "nan-z",
             lambda: lazy(nn + "activation_grid")(torch.nn.Tanh(), [0.0, NAN]), "z", "nan"),
        Case("FusedPlan", "not-a-basis",
             lambda: lazy("taafs_sk.nn.bases.FusedPlan").build("bspline", torch.float32),
             "basis", "bspline"),
        Case("FusedPlan", "string-dtype",
             lambda: lazy("taafs_sk.nn.bases.FusedPlan").build(
                 lazy("taafs_sk.nn.bases.make_basis")("legendre", 3), "float32"),
             "dtype", "float32"),
        Case("RLEKF", "zero-block", lambda: lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), block_size=0), "block_size", "0"),
        Case("RLEKF", "lambda1-above-one", lambda: lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), lambda1=1.5), "lambda1", "1.5"),
        Case("RLEKF", "nan-nu", lambda: lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), nu=NAN), "nu", "nan"),
        Case("RLEKF", "negative-p0", lambda: lazy(nn + "RLEKF")(
            torch.nn.Linear(2, 1).parameters(), p0=-1.0), "p0", "-1"),
        Case("replace_activations", "not-a-module",
             lambda: lazy(nn + "replace_activations")("net"), "module", "net"),
        Case("replace_activations", "estimator-given",
             lambda: lazy(nn + "replace_activations")(taafs_fitted()), "module", "module_"),
        Case("replace_activations", "types-linear",
             lambda: lazy(nn + "replace_activations")(torch.nn.Sequential(torch.nn.Linear(2, 2)),
                                                      types=(torch.nn.Linear,)), "types",
             "Linear"),
        Case("replace_activations", "zero-n_basis",
             lambda: lazy(nn + "replace_activations")(torch.nn.Tanh(), n_basis=0), "n_basis",
             "0"),
    ]
    return cases
