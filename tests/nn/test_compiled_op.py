"""The compiled TAAF operator (taafs_sk.nn._ops): derivatives, agreement with the Python
kernels, the fallback, pickles across paths, torch.compile, threads and odd shapes."""

from __future__ import annotations

import pickle
import shutil
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from taafs_sk.nn import TAAF
from taafs_sk.nn._fused import _TAAFFunction
from taafs_sk.nn._ops import STATE, _build, compiled_taaf, is_available, use_compiled
from taafs_sk.nn._ops._spec import basis_spec
from taafs_sk.nn.bases import available_bases, make_basis

TOOLCHAIN = bool(shutil.which("c++") or shutil.which("g++")) and bool(
    shutil.which("ninja") or shutil.which("ninja", path=str(_build.Path(_build.sys.executable)
                                                           .parent)))
needs_op = pytest.mark.skipif(not (TOOLCHAIN or is_available()),
                              reason="no C++ compiler or ninja: the operator cannot be built")
BASES = available_bases()
NORMALIZATIONS = ("tanh", "softsign", "clamp", "none")


def test_the_operator_builds_where_a_toolchain_exists():
    if not TOOLCHAIN:
        pytest.skip("no C++ compiler or ninja")
    assert is_available(), STATE.reason


def _inputs(K: int, sharing: str, dtype: torch.dtype, seed: int = 0, rows: int = 5,
            width: int = 3, scale: float = 1.5):
    gen = torch.Generator().manual_seed(seed)
    z = (scale * torch.randn(rows, width, generator=gen, dtype=torch.float64)).to(dtype)
    shape = (K + 1,) if sharing == "shared" else (width, K + 1)
    weight = (torch.randn(shape, generator=gen, dtype=torch.float64) / K**0.5).to(dtype)
    return z, weight


def _derivatives(fn, z, weight, seed: int = 1) -> list[torch.Tensor]:
    """y, dL/dz, dL/dw for L = sum(g y), and the derivatives of sum(a dL/dz) + sum(b dL/dw)
    with respect to z and w (what force training differentiates)."""
    z = z.clone().requires_grad_(True)
    weight = weight.clone().requires_grad_(True)
    gen = torch.Generator().manual_seed(seed)
    y = fn(z, weight)
    g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(y.dtype)
    gz, gw = torch.autograd.grad(y, (z, weight), g, create_graph=True)
    a = torch.randn(gz.shape, generator=gen, dtype=torch.float64).to(gz.dtype)
    b = torch.randn(gw.shape, generator=gen, dtype=torch.float64).to(gw.dtype)
    hz, hw = torch.autograd.grad((gz * a).sum() + (gw * b).sum(), (z, weight))
    return [t.detach() for t in (y, gz, gw, hz, hw)]


def _relative(got: torch.Tensor, want: torch.Tensor) -> float:
    got, want = got.double(), want.double()
    return float((got - want).abs().max() / want.abs().max().clamp_min(1e-300))


def _python(basis, normalization):
    return lambda z, w: _TAAFFunction.apply(z, w, basis, normalization)


def _compiled(basis, normalization):
    def fn(z, w):
        y = compiled_taaf(z, w, basis, normalization)
        assert y is not None, "the compiled operator declined the call"
        return y
    return fn


# ------------------------------------------------------------------------------ derivatives
@needs_op
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("name", BASES)
def test_gradcheck_and_gradgradcheck_in_float64(name, sharing):
    basis = make_basis(name, 5)
    z, weight = _inputs(5, sharing, torch.float64, rows=3)
    z.requires_grad_(True)
    weight.requires_grad_(True)
    fn = _compiled(basis, "tanh")
    assert torch.autograd.gradcheck(fn, (z, weight))
    assert torch.autograd.gradgradcheck(fn, (z, weight))


@needs_op
@pytest.mark.parametrize("normalization", ["softsign", "clamp", "none"])
@pytest.mark.parametrize("name", ["bspline", "fourier", "grbf", "jacobi"])
def test_gradgradcheck_under_every_normalization(name, normalization):
    basis = make_basis(name, 6)
    z, weight = _inputs(6, "neuron", torch.float64, seed=3, rows=3, scale=0.8)
    z.requires_grad_(True)
    weight.requires_grad_(True)
    assert torch.autograd.gradgradcheck(_compiled(basis, normalization), (z, weight))


@needs_op
def test_third_derivatives_are_refused():
    act = TAAF(3, "legendre", n_basis=4).double()
    z = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(act(z).sum(), z, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), z, create_graph=True)
    with pytest.raises(RuntimeError, match="third derivatives"):
        h.sum().backward()


# --------------------------------------------------------------- agreement with the Python path
def _reference(name: str, K: int, normalization: str, sharing: str):
    """The Python path whose numbers the operator must reproduce in float64: the fused
    Functions, or for B-splines the eager closed form (their fused truncated powers amplify
    rounding by up to 1e9 at n_basis=64, see docs/numerics.rst)."""
    basis = make_basis(name, K)
    if name != "bspline":
        return basis, _python(basis, normalization)
    act = TAAF(3, basis, fused=False, normalization=normalization, sharing=sharing).double()

    def eager(z, w):
        return torch.func.functional_call(act, {"weight": w}, (z,))
    return basis, eager


@needs_op
@pytest.mark.parametrize("K", [4, 8, 16, 33, 64])
@pytest.mark.parametrize("name", BASES)
def test_float64_equals_the_python_path_to_1e_12(name, K):
    for sharing, normalization in (("shared", "tanh"), ("neuron", "softsign")):
        basis, reference = _reference(name, K, normalization, sharing)
        z, weight = _inputs(K, sharing, torch.float64, seed=K)
        want = _derivatives(reference, z, weight)
        got = _derivatives(_compiled(basis, normalization), z, weight)
        errors = [_relative(g, w) for g, w in zip(got, want, strict=True)]
        assert max(errors) < 1e-12, (sharing, normalization, errors)


@needs_op
@pytest.mark.parametrize("K", [4, 8, 16, 33, 64])
@pytest.mark.parametrize("name", BASES)
def test_float32_equals_the_float64_python_path_to_1e_6(name, K):
    # normalization 'none': u = z in both dtypes, so the comparison sees only the evaluation
    basis = make_basis(name, K)
    for sharing in ("shared", "neuron"):
        z, weight = _inputs(K, sharing, torch.float32, seed=K, scale=0.6)
        reference = _reference(name, K, "none", sharing)[1]
        want = _derivatives(reference, z.double(), weight.double())
        got = _derivatives(_compiled(basis, "none"), z, weight)
        errors = [_relative(g, w) for g, w in zip(got, want, strict=True)]
        assert max(errors) < 1e-6, (sharing, errors)


@needs_op
@pytest.mark.parametrize("name", BASES)
def test_float32_stays_within_the_python_float32_error(name):
    # the Python float32 path rounds its features; the operator works in float64: both are
    # within the Python path's own error of the float64 result
    basis = make_basis(name, 8)
    z, weight = _inputs(8, "neuron", torch.float32, seed=11)
    exact = _derivatives(_python(basis, "tanh"), z.double(), weight.double())
    python = _derivatives(_python(basis, "tanh"), z, weight)
    got = _derivatives(_compiled(basis, "tanh"), z, weight)
    for g, p, e in zip(got, python, exact, strict=True):
        assert _relative(g, e) <= 2.0 * _relative(p, e) + 2e-6


@needs_op
def test_maps_that_describe_other_functions_send_the_call_to_python():
    act = TAAF(3, "legendre", n_basis=5).double()
    state = act.state_dict()
    state["basis.maps"] = 2.0 * state["basis.maps"]
    act.load_state_dict(state)
    assert basis_spec(act.basis) == (None, None)
    assert compiled_taaf(torch.zeros(2, 3, dtype=torch.float64), act.weight, act.basis,
                         "tanh") is None


def test_families_of_ones_own_and_subclasses_are_declined():
    from taafs_sk.nn.bases import LegendreBasis

    class Mine(LegendreBasis):  # a subclass may redefine anything: not the operator's to run
        name = "mine"

    assert basis_spec(Mine(4)) == (None, None)
    z = torch.zeros(2, 3)
    assert compiled_taaf(z, torch.zeros(5), Mine(4), "tanh") is None
    assert compiled_taaf(z.half(), torch.zeros(5).half(), make_basis("legendre", 4),
                         "tanh") is None


# ------------------------------------------------------------------------ shapes and threads
@needs_op
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("shape", [(0, 3), (7, 3), (2, 5, 3), (130, 3)])
def test_odd_shapes_and_strides(shape, sharing):
    act = TAAF(3, "hermite", n_basis=6, sharing=sharing).double()
    with torch.no_grad():
        act.weight.add_(0.1 * torch.randn_like(act.weight))
    z = torch.randn(*shape[:-1], 6, dtype=torch.float64)[..., ::2]  # not contiguous
    with use_compiled(False):
        want = _derivatives(lambda x, w: torch.func.functional_call(act, {"weight": w}, (x,)),
                            z, act.weight.detach())
    got = _derivatives(lambda x, w: torch.func.functional_call(act, {"weight": w}, (x,)),
                       z, act.weight.detach())
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w, rtol=1e-11, atol=1e-12)


@needs_op
def test_a_shared_weight_acts_on_a_tensor_of_any_rank():
    basis = make_basis("fourier", 6)
    weight = torch.randn(7, dtype=torch.float64)
    for z in (torch.randn(100, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)):
        want = _TAAFFunction.apply(z, weight, basis, "tanh")
        torch.testing.assert_close(_compiled(basis, "tanh")(z, weight), want)


@needs_op
@pytest.mark.parametrize("name", BASES)
def test_non_finite_inputs_give_what_the_python_path_gives(name):
    basis = make_basis(name, 6)
    weight = torch.randn(7)
    z = torch.tensor([[float("nan"), float("inf"), -float("inf"), 0.5]])
    for normalization in NORMALIZATIONS:
        want = _TAAFFunction.apply(z, weight, basis, normalization)
        got = _compiled(basis, normalization)(z, weight)
        torch.testing.assert_close(got, want, equal_nan=True, rtol=1e-5, atol=1e-6)


@needs_op
def test_threads_give_the_single_thread_result():
    basis = make_basis("grbf", 8)
    z, weight = _inputs(8, "neuron", torch.float64, rows=20_000, width=3)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _derivatives(_compiled(basis, "tanh"), z, weight)
        torch.set_num_threads(2)
        two = _derivatives(_compiled(basis, "tanh"), z, weight)
    finally:
        torch.set_num_threads(previous)
    for a, b in zip(one, two, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@needs_op
def test_bad_arguments_name_the_parameter():
    STATE.get()
    op = torch.ops.taafs_sk.taaf.default
    family, spec = basis_spec(make_basis("legendre", 4))
    with pytest.raises(RuntimeError, match="weight of taafs_sk::taaf"):
        op(torch.zeros(2, 3), torch.zeros(2, 3, 5), spec, family, 0)
    with pytest.raises(RuntimeError, match="per-neuron weight .* 4 rows"):
        op(torch.zeros(2, 3), torch.zeros(4, 5), spec, family, 0)
    with pytest.raises(RuntimeError, match="describes 4 basis functions, the weight 6"):
        op(torch.zeros(2, 3), torch.zeros(7), spec, family, 0)
    with pytest.raises(RuntimeError, match="z of taafs_sk::taaf must be float32 or float64"):
        op(torch.zeros(2, 3, dtype=torch.int64), torch.zeros(5), spec, family, 0)


# ---------------------------------------------------------------------------------- fallback
def test_an_unavailable_operator_warns_once_and_the_python_path_runs(monkeypatch):
    def fail():
        raise OSError("no compiler here (simulated)")

    act = TAAF(3, "chebyshev1", n_basis=6)
    z = torch.randn(4, 3, requires_grad=True)
    with use_compiled(False):
        want = act(z)
    monkeypatch.setattr(_build, "open_operator", fail)
    STATE.reset()
    try:
        with pytest.warns(UserWarning, match="simulated.*Python kernels|Python kernels.*simul"):
            got = act(z)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once: no second warning
            again = act(z)
        assert not is_available() and "simulated" in STATE.reason
    finally:
        monkeypatch.undo()
        STATE.reset()
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    torch.testing.assert_close(again, want, rtol=0, atol=0)
    got.sum().backward()
    assert act.weight.grad is not None


def test_the_environment_switch_turns_the_operator_off(monkeypatch):
    monkeypatch.setenv("TAAFS_SK_COMPILED_OP", "0")
    state = _build.OperatorState()
    assert not state.enabled
    monkeypatch.setenv("TAAFS_SK_COMPILED_OP", "1")
    assert _build.OperatorState().enabled


def test_use_compiled_needs_a_bool():
    with pytest.raises(TypeError, match="enabled of use_compiled must be True or False"):
        with use_compiled("yes"):
            pass


def test_the_cache_folder_is_outside_the_source_tree(monkeypatch, tmp_path):
    import taafs_sk

    package = _build.Path(taafs_sk.__file__).resolve().parent.parent
    monkeypatch.delenv("TAAFS_SK_EXTENSIONS_DIR", raising=False)
    assert package not in _build.cache_dir().resolve().parents
    monkeypatch.setenv("TAAFS_SK_EXTENSIONS_DIR", str(tmp_path))
    assert _build.cache_dir() == tmp_path
    assert _build.extension_name().startswith("taafs_sk_taaf_op_")


# ------------------------------------------------------------------- pickles across the paths
def _train(compiled: bool) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), TAAF(8, "bspline", n_basis=6, sharing="neuron"),
                        nn.Linear(8, 8), TAAF(basis="fourier", n_basis=6), nn.Linear(8, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.randn(64, 4)
    y = torch.sin(x.sum(1, keepdim=True))
    with use_compiled(compiled):
        for _ in range(20):
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(x), y).backward()
            opt.step()
    return net


@needs_op
@pytest.mark.parametrize("trained_compiled", [True, False])
def test_a_pickled_network_predicts_the_same_with_the_other_path(trained_compiled):
    net = pickle.loads(pickle.dumps(_train(trained_compiled)))
    x = torch.randn(33, 4)
    with use_compiled(True):
        compiled = net(x)
    with use_compiled(False):
        python = net(x)
    torch.testing.assert_close(compiled, python, rtol=1e-5, atol=1e-6)


@needs_op
def test_a_regressor_fitted_with_one_path_predicts_with_the_other():
    from taafs_sk import TAAFSRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = np.tanh(X @ rng.normal(size=4))
    with use_compiled(True):
        model = TAAFSRegressor((8,), basis="legendre", n_basis=6, max_epochs=3,
                               random_state=0).fit(X, y)
    blob = pickle.dumps(model)
    with use_compiled(False):
        python = pickle.loads(blob).predict(X)
    np.testing.assert_allclose(model.predict(X), python, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------ torch.compile
@needs_op
def test_torch_compile_traces_the_operator():
    STATE.get()
    family, spec = basis_spec(make_basis("legendre", 5))
    weight = torch.randn(6, requires_grad=True)

    def f(z):
        return torch.ops.taafs_sk.taaf(z, weight, spec, family, 0).square().sum()

    compiled = torch.compile(f, backend="aot_eager", fullgraph=True)
    z1 = torch.randn(7, 3, requires_grad=True)
    z2 = z1.detach().clone().requires_grad_(True)
    torch.testing.assert_close(compiled(z1), f(z2))
    (g1,) = torch.autograd.grad(compiled(z1), z1)
    (g2,) = torch.autograd.grad(f(z2), z2)
    torch.testing.assert_close(g1, g2)
