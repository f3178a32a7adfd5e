"""Bad-input cases of taafs_sk.nn's public methods (what users feed tensors to) and of the
functions of its public modules that the package does not re-export."""

from __future__ import annotations

import numpy as np
import torch

from .common import NAN, Case, lazy, tanh_mlp

NN = "taafs_sk.nn."


def _rlekf():
    """An RLEKF on a fresh Linear(2, 1), with the model to measure through."""
    lin = torch.nn.Linear(2, 1)
    return lazy(NN + "RLEKF")(lin.parameters()), lin


def _measure(prediction_rows: int, target):
    def call():
        opt, lin = _rlekf()
        return opt.measure(lin(torch.zeros(prediction_rows, 2)), target)

    return call


def _update(grads, error):
    def call():
        opt, _ = _rlekf()
        return opt.update(grads, error)

    return call


def module_function_cases() -> list[Case]:
    """Functions of taafs_sk.nn's public modules (rlekf, optimizers, checks, network, fixed)
    and the factory class of activations."""
    rlekf, optim, checks = NN + "rlekf.", NN + "optimizers.", NN + "checks."
    def ev(*args):
        return lambda: lazy(NN + "network.evaluate")(*args)

    factory = lambda basis: lazy(NN + "activations.ActivationFactory")(  # noqa: E731
        basis, n_basis=4, sharing="layer", normalization="tanh", basis_kwargs=None,
        init="tanh", fused=True)
    return [
        Case("block_sizes", "zero-block", lambda: lazy(rlekf + "block_sizes")([3], 0),
             "block_size", "0"),
        Case("block_sizes", "negative-size", lambda: lazy(rlekf + "block_sizes")([3, -1], 4),
             "param_sizes", "-1"),
        Case("covariance_bytes", "dtype-str",
             lambda: lazy(rlekf + "covariance_bytes")([3], "float32"), "dtype", "str"),
        Case("covariance_bytes", "negative-size",
             lambda: lazy(rlekf + "covariance_bytes")([-3]), "sizes", "-3"),
        Case("optimizer_class", "unknown", lambda: lazy(optim + "optimizer_class")("adamx"),
             "optimizer", "adamx"),
        Case("optimizer_class", "int", lambda: lazy(optim + "optimizer_class")(3),
             "optimizer", "3"),
        Case("is_measurement_optimizer", "unknown-name",
             lambda: lazy(optim + "is_measurement_optimizer")("adamx"), "optimizer", "adamx"),
        Case("check_device", "unknown", lambda: lazy(checks + "check_device")("device", "gpu0"),
             "device", "gpu0"),
        Case("check_device", "int", lambda: lazy(checks + "check_device")("device", 3.5),
             "device", "3.5"),
        Case("check_torch_module", "str",
             lambda: lazy(checks + "check_torch_module")("module", "net"), "module", "net"),
        Case("check_finite_tensor", "nan",
             lambda: lazy(checks + "check_finite_tensor")("target", torch.tensor([1.0, NAN])),
             "target", "nan"),
        Case("evaluate", "not-a-module", ev("mlp", np.zeros((2, 2))), "module", "mlp"),
        Case("evaluate", "nan-X", ev(tanh_mlp(), np.full((2, 2), NAN)), "X", "nan"),
        Case("evaluate", "wrong-width", ev(tanh_mlp(), np.zeros((2, 3))), "X", "3"),
        Case("evaluate", "zero-chunk", ev(tanh_mlp(), np.zeros((2, 2)), 0), "chunk_rows", "0"),
        Case("ActivationFactory", "unknown-basis", lambda: factory("nope")(0, 3), "basis",
             "nope"),
        Case("FixedActivation", "module-str",
             lambda: lazy(NN + "fixed.FixedActivation")("tanh", None), "module", "tanh"),
    ]


def method_cases() -> list[Case]:
    """Public methods of the nn classes: forward passes, the optimiser's measurements."""
    taaf, plan = lazy(NN + "TAAF"), NN + "bases.FusedPlan"
    legendre = lambda: lazy(NN + "LegendreBasis")(4)  # noqa: E731
    tab = lambda: lazy(NN + "TabulatedActivation")([0.0, 1.0], [[0.0, 1.0], [0.0, 1.0]])  # noqa: E731
    return [
        Case("TAAF.forward", "integer-tensor", lambda: taaf()(torch.tensor([1, 2])), "input",
             "int64", errors=(TypeError,)),
        Case("TAAF.forward", "neuron-width-mismatch",
             lambda: taaf(3, sharing="neuron")(torch.zeros(5, 4)), "num_features", "3"),
        Case("TAAF.forward", "list", lambda: taaf()([0.1]), "input", "list"),
        Case("TAAF", "negative-num_features", lambda: taaf(num_features=-4), "num_features",
             "-4"),
        Case("MLP.forward", "list", lambda: tanh_mlp()([[0.0, 0.0]]), "x", "list"),
        Case("MLP.forward", "wrong-width", lambda: tanh_mlp()(torch.zeros(4, 3)), "x", "3"),
        Case("MLP.forward", "hook-str", lambda: tanh_mlp()(torch.zeros(4, 2), hook="h"),
             "hook", "str"),
        Case("MLP.hidden_pre_activations", "wrong-width",
             lambda: tanh_mlp().hidden_pre_activations(torch.zeros(4, 3)), "x", "3"),
        Case("TabulatedActivation.forward", "wrong-width", lambda: tab()(torch.zeros(3, 3)),
             "input", "3"),
        Case("TabulatedActivation.forward", "list", lambda: tab()([[0.5, 0.5]]), "x", "list"),
        Case("LegendreBasis.forward", "list", lambda: legendre()([0.1]), "u", "list"),
        Case("LegendreBasis.fused_plan", "dtype-str", lambda: legendre().fused_plan("float32"),
             "dtype", "float32"),
        Case("LegendreBasis.set_fused_maps", "wrong-shape",
             lambda: legendre().set_fused_maps(np.eye(3), np.eye(3)), "values", "(3, 3)"),
        Case("FusedPlan.build", "int-dtype",
             lambda: lazy(plan).build(legendre(), torch.int64), "dtype", "int64"),
        Case("RLEKF.measure", "shape-mismatch", _measure(4, torch.zeros(3)), "target", "(3,)"),
        Case("RLEKF.measure", "shape-mismatch-names-prediction", _measure(4, torch.zeros(3)),
             "prediction", "(4, 1)"),
        Case("RLEKF.measure", "nan-target", _measure(3, torch.tensor([[0.0], [NAN], [0.0]])),
             "target", "nan"),
        Case("RLEKF.measure", "prediction-list",
             lambda: _rlekf()[0].measure([0.0], torch.zeros(1)), "prediction", "list"),
        Case("RLEKF.step", "loss-closure", lambda: _rlekf()[0].step(lambda: 0.0), "measure"),
        Case("RLEKF.update", "too-few-grads", _update([torch.zeros(3)], 0.1), "grads", "1"),
        Case("RLEKF.update", "nan-grads",
             _update([torch.full((1, 2), NAN), torch.zeros(1)], 0.1), "grads", "nan"),
    ]
