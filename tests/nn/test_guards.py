"""The torch building blocks refuse bad input where it enters (issue 29), and take the unusual
input that is valid (empty batches, any floating dtype, NaN passed through)."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from taafs_sk.nn import MLP, TAAF
from taafs_sk.nn.activations import (
    activation_grid,
    count_activation_params,
    make_activation_factory,
)
from taafs_sk.nn.bases import available_bases
from taafs_sk.nn.rlekf import RLEKF

NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------------------ RLEKF.measure
@pytest.fixture
def model_and_filter():
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    return model, RLEKF(model.parameters(), p0=10.0)


def _unchanged(model, before):
    return all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))


@pytest.mark.parametrize(("target_shape", "shown"), [((3,), r"\(3,\)"), ((4,), r"\(4,\)"),
                                                      ((1, 4), r"\(1, 4\)")])
def test_measure_refuses_a_target_of_another_shape(model_and_filter, target_shape, shown):
    model, opt = model_and_filter
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=rf"target of RLEKF.measure has shape {shown}.*"
                                         r"prediction has shape \(4, 1\)"):
        opt.measure(model(torch.randn(4, 2)), torch.zeros(target_shape))
    assert _unchanged(model, before) and opt.n_updates == 0


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_measure_refuses_a_non_finite_target_naming_the_first_bad_index(model_and_filter, bad):
    model, opt = model_and_filter
    before = [p.detach().clone() for p in model.parameters()]
    target = torch.zeros(4, 1)
    target[2, 0] = bad
    target[3, 0] = bad
    with pytest.raises(ValueError, match=rf"target of RLEKF.measure must be finite, got "
                                         rf"{bad} at index \(2, 0\)"):
        opt.measure(model(torch.randn(4, 2)), target)
    assert _unchanged(model, before) and opt.n_updates == 0


def test_measure_refuses_a_non_finite_prediction(model_and_filter):
    model, opt = model_and_filter
    x = torch.randn(3, 2)
    x[1, 0] = NAN
    with pytest.raises(ValueError, match=r"prediction of RLEKF.measure must be finite, got nan "
                                         r"at index \(1, 0\)"):
        opt.measure(model(x), torch.zeros(3, 1))
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"weight": torch.tensor([[1.0], [-2.0], [1.0]])}, r"weight .* non-negative, got -2.0 at"),
    ({"weight": torch.tensor([1.0, NAN, 1.0])[:, None]}, r"weight .* finite, got nan at"),
    ({"weight": torch.ones(4)}, r"weight .* shape \(4,\) does not broadcast .* \(3, 1\)"),
    ({"scale": torch.ones(3, 5)}, r"scale .* shape \(3, 5\) does not broadcast .* \(3, 1\)"),
    ({"scale": NAN}, r"scale of RLEKF.measure must be finite, got nan"),
])
def test_measure_refuses_bad_scale_and_weight(model_and_filter, kwargs, match):
    model, opt = model_and_filter
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=match):
        opt.measure(model(torch.randn(3, 2)), torch.ones(3, 1), **kwargs)
    assert _unchanged(model, before) and opt.n_updates == 0


def test_measure_refuses_a_prediction_without_its_graph_or_of_integers(model_and_filter):
    model, opt = model_and_filter
    with torch.no_grad():
        detached = model(torch.randn(3, 2))
    with pytest.raises(ValueError, match="prediction of RLEKF.measure must carry its autograd"):
        opt.measure(detached, torch.zeros(3, 1))
    with pytest.raises(TypeError, match=r"prediction of RLEKF.measure .* got torch.int64"):
        opt.measure(torch.ones(3, 1, dtype=torch.int64), torch.zeros(3, 1))


def test_measure_of_nothing_makes_no_update(model_and_filter):
    model, opt = model_and_filter
    P = [b.clone() for b in opt.P]
    assert opt.measure(model(torch.zeros(0, 2)), torch.zeros(0, 1)) == 0.0
    assert opt.n_updates == 0 and all(torch.equal(a, b) for a, b in zip(opt.P, P, strict=True))


def test_update_refuses_gradients_that_do_not_fit_or_are_not_finite(model_and_filter):
    model, opt = model_and_filter
    with pytest.raises(ValueError, match="grads of RLEKF.update has 5 entries.* 3 numbers"):
        opt.update(torch.zeros(5), 1.0)
    with pytest.raises(ValueError, match=r"grads of RLEKF.update holds 1 tensors.*\(2\)"):
        opt.update([torch.zeros(1, 2)], 1.0)
    with pytest.raises(ValueError, match=r"grads of RLEKF.update must be finite, got inf at "
                                         r"index 2"):
        opt.update(torch.tensor([0.0, 1.0, INF]), 1.0)
    with pytest.raises(ValueError, match="error of RLEKF.update must be finite, got nan"):
        opt.update(torch.ones(3), NAN)
    with pytest.raises(TypeError, match="error of RLEKF.update must be one number"):
        opt.update(torch.ones(3), torch.ones(2))
    assert opt.n_updates == 0 and all(bool(torch.isfinite(p).all()) for p in model.parameters())


# -------------------------------------------------------------------------- TAAF arguments
@pytest.mark.parametrize(("num_features", "exc", "shown"), [
    (-4, ValueError, "-4"), (0, ValueError, "0"), (2.5, TypeError, "2.5"),
    (True, TypeError, "True"), ("4", TypeError, "'4'"),
])
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
def test_taaf_refuses_a_bad_num_features(num_features, exc, shown, sharing):
    with pytest.raises(exc, match=rf"num_features of TAAF .* got {shown}"):
        TAAF(num_features, sharing=sharing)


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"sharing": True}, "sharing"), ({"normalization": 3}, "normalization"),
    ({"init": 3}, "init"), ({"fused": "no"}, "fused"), ({"fused": 1}, "fused"),
])
def test_taaf_refuses_options_of_the_wrong_type_with_a_type_error(kwargs, param):
    with pytest.raises(TypeError, match=rf"{param} of TAAF must be .* got "):
        TAAF(**kwargs)


# ----------------------------------------------------------------------------- TAAF input
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64])
def test_taaf_refuses_a_non_floating_input_naming_its_dtype(fused, sharing, dtype):
    with pytest.raises(TypeError, match=rf"input of TAAF must be a floating-point tensor, got "
                                        rf"dtype {dtype}"):
        TAAF(4, sharing=sharing, fused=fused)(torch.zeros(3, 4, dtype=dtype))


def test_taaf_refuses_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="input of TAAF must be a torch.Tensor, got list"):
        TAAF()([[0.0, 1.0]])


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("shape", [(3, 5), (3, 1), (5, 0), ()])
def test_per_neuron_taaf_refuses_another_width(fused, shape):
    shown = re.escape(str(tuple(shape)))
    with pytest.raises(ValueError, match=rf"input of TAAF has shape {shown}.*num_features=4"):
        TAAF(4, sharing="neuron", fused=fused)(torch.zeros(shape))


def test_shared_taaf_takes_any_width():
    act = TAAF(4)
    assert act(torch.zeros(3, 7)).shape == (3, 7) and act(torch.tensor(0.5)).shape == ()


# ------------------------------------------------------------------------------ empty batch
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("basis", available_bases())
def test_taaf_on_an_empty_batch_gives_zero_gradients(basis, sharing, fused, dtype):
    act = TAAF(3, basis, n_basis=5, sharing=sharing, fused=fused).to(dtype)
    z = torch.zeros(0, 3, dtype=dtype, requires_grad=True)
    y = act(z)
    assert y.shape == (0, 3) and y.dtype == dtype
    (grad_z,) = torch.autograd.grad(y.sum(), z, create_graph=True)  # forces: double backward
    assert grad_z.shape == (0, 3)
    (grad_z.sum() + y.sum()).backward()
    assert act.weight.grad is not None and act.weight.grad.shape == act.weight.shape
    assert not act.weight.grad.any()


# ------------------------------------------------------------------------- torch.compile
def test_compiled_network_with_taafs_matches_eager_and_keeps_the_checks():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), TAAF(4, "legendre", n_basis=4, sharing="neuron"),
                        nn.Linear(4, 4), TAAF(basis="bspline", n_basis=5), nn.Linear(4, 1))
    compiled = torch.compile(net, backend="aot_eager", fullgraph=True)
    x = torch.randn(5, 3, requires_grad=True)
    got, want = compiled(x), net(x)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(torch.autograd.grad(got.sum(), x)[0],
                               torch.autograd.grad(want.sum(), x)[0])
    with pytest.raises(ValueError, match="num_features=4"):
        torch.compile(net[1], backend="aot_eager")(torch.randn(2, 5))


# ------------------------------------------------------------- dtypes, NaN, strided input
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_both_paths_take_any_floating_dtype_and_return_it(sharing, dtype):
    torch.manual_seed(0)
    fused = TAAF(4, "legendre", n_basis=5, sharing=sharing)
    eager = TAAF(4, "legendre", n_basis=5, sharing=sharing, fused=False)
    z = torch.randn(6, 4).to(dtype)
    y_fused, y_eager = fused(z), eager(z)  # float32 weights, input of another dtype
    assert y_fused.dtype == y_eager.dtype == dtype
    tol = 1e-9 if dtype == torch.float64 else 2e-2
    torch.testing.assert_close(y_fused, y_eager, rtol=tol, atol=tol)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
def test_nan_input_gives_nan_only_where_it_is_and_strided_input_the_same_values(fused, sharing):
    act = TAAF(4, "chebyshev1", n_basis=5, sharing=sharing, fused=fused)
    z = torch.randn(4, 5, generator=torch.Generator().manual_seed(0)).T  # (5, 4), strided
    assert not z.is_contiguous()
    torch.testing.assert_close(act(z), act(z.contiguous()), rtol=0, atol=0)
    z = z.contiguous()
    z[1, 2] = NAN
    nan = act(z).isnan()
    assert nan[1, 2] and int(nan.sum()) == 1


# --------------------------------------------------- factory, parameter count, MLP, grid
def test_count_activation_params_takes_its_options_by_keyword():
    kwargs = {"n_basis": 8, "sharing": "neuron", "hidden_layer_sizes": (4, 3)}
    assert count_activation_params("bspline", **kwargs) == 9 * 7
    with pytest.warns(FutureWarning, match=r"by position is deprecated.*"
                                           r"count_activation_params\('bspline', n_basis=8"):
        assert count_activation_params("bspline", 8, "neuron", (4, 3)) == 9 * 7
    with pytest.raises(TypeError, match=r"got \['n_basis'\] by position and by keyword"):
        count_activation_params("bspline", 8, n_basis=8, hidden_layer_sizes=(4,))
    with pytest.raises(TypeError, match="hidden_layer_sizes must be a sequence .* got 4 \\(int"):
        count_activation_params("bspline", hidden_layer_sizes=4)


@pytest.mark.parametrize(("build", "param"), [
    (lambda: make_activation_factory("legendre", fused="yes"), "fused"),
    (lambda: make_activation_factory(None), "basis"),
    (lambda: make_activation_factory("legendre", sharing=1), "sharing"),
    (lambda: count_activation_params(3, hidden_layer_sizes=(4,)), "basis"),
])
def test_factory_options_of_the_wrong_type_raise_type_errors(build, param):
    with pytest.raises(TypeError, match=rf"{param} of (make_activation_factory|"
                                        rf"count_activation_params) must be .*got "):
        build()


def test_mlp_refuses_an_int_for_the_layer_sizes_and_a_factory_giving_no_module():
    with pytest.raises(TypeError, match=r"hidden_layer_sizes must be a sequence .* got 4 \(int"):
        MLP(3, 4, 1, lambda i, n: nn.Tanh())
    with pytest.raises(TypeError, match=r"activation_factory of MLP must return an nn.Module, "
                                        r"got None \(NoneType\) for layer 1"):
        MLP(3, (4, 4), 1, lambda i, n: nn.Tanh() if i == 0 else None)


def test_mlp_of_taafs_on_an_empty_batch():
    net = MLP(3, (4, 4), 2, make_activation_factory("bspline", sharing="global"))
    x = torch.zeros(0, 3, requires_grad=True)
    out = net(x)
    assert out.shape == (0, 2)
    out.sum().backward()
    assert not net.activations[0].weight.grad.any()


@pytest.mark.parametrize(("width", "exc", "shown"), [(0, ValueError, "0"),
                                                     (-1, ValueError, "-1"),
                                                     (2.5, TypeError, "2.5")])
def test_activation_grid_refuses_a_bad_width(width, exc, shown):
    with pytest.raises(exc, match=rf"width of activation_grid must be an integer.*got {shown}"):
        activation_grid(TAAF(), [0.0, 1.0], width=width)


def test_residual_taaf_refuses_an_in_place_base():
    with pytest.raises(ValueError, match=r"init of TAAF must not work in place, got "
                                         r"ReLU\(inplace=True\)"):
        TAAF(init=nn.ReLU(inplace=True))


# ------------------------------------------------ MLP input, evaluate, covariance sizes
def test_mlp_names_a_bad_x_and_hook():
    net = MLP(2, (3,), 1, make_activation_factory("tanh"))
    with pytest.raises(TypeError, match="x of MLP must be a torch.Tensor, got list"):
        net([[0.0, 0.0]])
    for call in (net, net.hidden_pre_activations):
        with pytest.raises(ValueError, match=r"x of MLP has shape \(4, 3\).*in_features=2"):
            call(torch.zeros(4, 3))
    with pytest.raises(TypeError, match=r"hook of MLP.forward must be callable.* got 'h' \(str"):
        net(torch.zeros(4, 2), hook="h")


@pytest.mark.parametrize(("args", "exc", "match"), [
    (("mlp", [[0.0, 0.0]]), TypeError, r"module must be a torch.nn.Module, got 'mlp'"),
    ((None, [[0.0, NAN]]), ValueError, r"X must be finite, got nan at index \(0, 1\)"),
    ((None, torch.tensor([[INF, 0.0]])), ValueError, r"X must be finite, got inf"),
    ((None, [[0.0, 0.0, 0.0]]), ValueError, r"X of evaluate must have shape \(n_samples, 2\), "
                                            r"got \(1, 3\)"),
    ((None, [[0.0, 0.0]], 0), ValueError, r"chunk_rows must be an integer >= 1, got 0"),
])
def test_evaluate_refuses_bad_module_rows_and_chunks(args, exc, match):
    from taafs_sk.nn.network import evaluate

    net = MLP(2, (3,), 1, make_activation_factory("tanh"))
    with pytest.raises(exc, match=match):
        evaluate(net if args[0] is None else args[0], *args[1:])


def test_evaluate_keeps_empty_inputs_and_chunks():
    from taafs_sk.nn.network import evaluate

    net = MLP(2, (3,), 1, make_activation_factory("tanh"))
    X = torch.randn(5, 2, generator=torch.Generator().manual_seed(0)).numpy()
    assert evaluate(net, X[:0]).shape == (0, 1)
    assert (evaluate(net, X, 2) == evaluate(net, X)).all()


def test_block_and_covariance_sizes_refuse_negative_counts():
    from taafs_sk.nn.rlekf import block_sizes, covariance_bytes

    with pytest.raises(ValueError, match=r"param_sizes\[1\] must be an integer >= 0, got -1"):
        block_sizes([3, -1], 4)
    with pytest.raises(ValueError, match=r"sizes\[0\] must be an integer >= 0, got -3"):
        covariance_bytes([-3])
    assert block_sizes([3, 0, 2], 4) == [3, 2]
