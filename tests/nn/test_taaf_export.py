"""The public TAAF: drop-in signature, residual init, old pickles, torch.export deployment."""

from __future__ import annotations

import io
import pickle

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from taafs_sk.nn import TAAF

Z = torch.linspace(-4.0, 4.0, 81)[:, None].expand(-1, 3).contiguous()


def test_default_is_a_shared_bspline_close_to_tanh():
    act = TAAF()
    assert act.sharing == "shared" and act.basis.name == "bspline" and act.n_basis == 8
    assert act.weight.shape == (9,) and not act.residual
    with torch.no_grad():
        assert float((act(Z) - torch.tanh(Z)).abs().max()) < 1e-5


@pytest.mark.parametrize("init", [nn.CELU(alpha=0.1), nn.SiLU(), torch.tanh, F.softplus])
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("fused", [True, False])
def test_residual_init_reproduces_the_base_activation_exactly(init, sharing, fused):
    act = TAAF(3, "chebyshev1", n_basis=6, sharing=sharing, init=init, fused=fused)
    assert act.residual and act.init is init
    torch.testing.assert_close(act(Z), init(Z), rtol=0, atol=0)
    assert float(act.weight.abs().max()) == 0.0


def test_residual_taaf_trains_its_correction():
    act = TAAF(basis="legendre", init=nn.CELU(alpha=0.1))
    opt = torch.optim.SGD(act.parameters(), lr=0.5)
    before = act(Z).detach()
    (act(Z) - torch.sin(Z)).square().mean().backward()
    opt.step()
    assert float((act(Z) - before).abs().max()) > 1e-3


def test_silu_init_is_the_least_squares_fit_and_only_approximate():
    act = TAAF(basis="bspline", n_basis=12, init="silu")
    z = torch.linspace(-3.0, 3.0, 601, dtype=torch.float64)
    phi = act.basis(torch.tanh(z))
    target = F.silu(z)
    residual = phi @ act.coefficients.detach().double() - target
    normal_eq = (phi.T @ residual).abs().max()  # zero at the fit (float32 coefficients)
    assert float(normal_eq) < 1e-4 * float((phi.T @ target).abs().max())
    # tanh normalisation squeezes silu's linear tail: the named init is a fit, not a copy;
    # init=nn.SiLU() (residual form) is the exact drop-in
    assert float(residual.abs().max()) > 0.1
    exact = TAAF(basis="bspline", n_basis=12, init=nn.SiLU())
    torch.testing.assert_close(exact(z[:, None].float()), F.silu(z[:, None].float()))


@pytest.mark.parametrize(("kwargs", "param", "bad"), [
    ({"sharing": "network"}, "sharing", "'network'"),
    ({"sharing": True}, "sharing", "True"),
    ({"init": "relu"}, "init", "'relu'"),
    ({"sharing": "neuron"}, "num_features", "None"),
])
def test_bad_arguments_name_the_parameter_and_value(kwargs, param, bad):
    with pytest.raises(ValueError, match=param) as info:
        TAAF(**kwargs)
    assert bad in str(info.value)


def test_state_pickled_before_the_rename_loads():
    new = TAAF(3, "legendre", n_basis=4, sharing="neuron")
    state = new.__dict__.copy()  # what taafs-sk 0.1 pickled: n_features, per_neuron, no base
    state["_modules"] = {"basis": state["_modules"]["basis"]}
    state["init"] = state.pop("_init")
    state["n_features"], state["per_neuron"] = state.pop("num_features"), True
    del state["sharing"]
    old = TAAF.__new__(TAAF)
    old.__setstate__(state)
    assert old.sharing == "neuron" and old.num_features == 3 and old.base is None
    assert old.per_neuron and old.n_features == 3
    torch.testing.assert_close(old(Z), new(Z))


def test_pickle_round_trip_keeps_the_residual_base():
    act = TAAF(2, "fourier", n_basis=4, sharing="neuron", init=nn.CELU(0.1))
    back = pickle.loads(pickle.dumps(act))
    assert isinstance(back.base, nn.CELU)
    torch.testing.assert_close(back(Z[:, :2]), act(Z[:, :2]))


def test_state_pickled_with_the_old_vocabulary_loads():
    new = TAAF(3, "legendre", n_basis=4, init=nn.CELU(alpha=0.1))
    state = new.__dict__.copy()  # what older versions pickled: sharing 'layer', init 'residual'
    state["sharing"], state["init"] = "layer", "residual"
    del state["_init"]
    old = TAAF.__new__(TAAF)
    old.__setstate__(state)
    assert old.sharing == "shared" and old.residual and old.init is old.base
    torch.testing.assert_close(old(Z), new(Z), rtol=0, atol=0)


@pytest.mark.parametrize("basis", ["bspline", "legendre", "fourier", "grbf"])
def test_pickled_taaf_carries_no_plan_and_gives_the_same_outputs(basis):
    torch.manual_seed(0)
    act = TAAF(3, basis, n_basis=24, sharing="neuron")  # 24: 'direct' polynomials, Fourier
    with torch.no_grad():
        act.weight.add_(0.1 * torch.randn_like(act.weight))
    z = Z.clone().requires_grad_(True)
    y = act(z)  # builds the fused plan
    blob = pickle.dumps(act)
    assert b"FusedPlan" not in blob and b"_fused_plans" not in blob
    back = pickle.loads(blob)
    zb = Z.clone().requires_grad_(True)
    yb = back(zb)
    torch.testing.assert_close(yb, y, rtol=0, atol=0)
    torch.testing.assert_close(torch.autograd.grad(yb.sum(), zb)[0],
                               torch.autograd.grad(y.sum(), z)[0], rtol=0, atol=0)
    assert back.basis.fused_plan(Z.dtype) is not act.basis.fused_plan(Z.dtype)


def test_pickle_with_a_cached_plan_of_an_older_version_loads(monkeypatch):
    from taafs_sk.nn import _fused
    from taafs_sk.nn.bases import BSplineBasis

    act = TAAF(3, "bspline", n_basis=6)
    y = act(Z)

    t = torch.zeros(2, 3)
    old_plan = _fused._Plan(torch.float32, t, t, t, False)  # pickled as NEWOBJ, as 0.1 did

    def old_getstate(self):  # what a 0.1 basis put in its pickle
        return {**self.__dict__, "_fused_plans": {(torch.float32, "cpu"): old_plan}}

    with monkeypatch.context() as patch:
        patch.setattr(BSplineBasis, "__getstate__", old_getstate)
        blob = pickle.dumps(act)
    assert b"_Plan" in blob
    back = pickle.loads(blob)
    assert "_fused_plans" not in back.basis.__dict__
    torch.testing.assert_close(back(Z), y, rtol=0, atol=0)


def test_dtype_casts_move_weights_and_keep_tables():
    act = TAAF(3, "chebyshev1", n_basis=6).double()
    assert act.weight.dtype == torch.float64
    assert act.basis.maps.dtype == torch.float64
    assert act(Z.double()).dtype == torch.float64
    assert act.float()(Z).dtype == torch.float32 and act.basis.maps.dtype == torch.float64


def _network(basis: str) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), TAAF(8, basis, n_basis=6), nn.Linear(8, 8),
                        TAAF(8, basis, n_basis=6, sharing="neuron"), nn.Linear(8, 8),
                        TAAF(basis=basis, init=nn.CELU(alpha=0.1)), nn.Linear(8, 1))
    with torch.no_grad():
        for act in net.modules():
            if isinstance(act, TAAF):
                act.weight.add_(0.1 * torch.randn_like(act.weight))
    return net


@pytest.mark.parametrize("basis", ["bspline", "chebyshev1", "fourier"])
def test_exported_program_reproduces_outputs_and_input_gradient(basis):
    net = _network(basis)
    batch = torch.export.Dim("batch")
    program = torch.export.export(net, (torch.randn(5, 3),), dynamic_shapes=({0: batch},))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    buffer.seek(0)
    exported = torch.export.load(buffer).module()
    x = torch.randn(17, 3, requires_grad=True)  # another batch size than the example
    want = net(x)
    got = exported(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    (grad_got,) = torch.autograd.grad(got.sum(), x)
    (grad_want,) = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(grad_got, grad_want, rtol=1e-5, atol=1e-6)


def test_export_traces_plain_torch_operations():
    program = torch.export.export(_network("legendre"), (torch.randn(4, 3),))
    targets = {str(node.target) for node in program.graph.nodes if node.op == "call_function"}
    assert not any("TAAF" in t or "autograd" in t.lower() for t in targets)
    assert any("tanh" in t for t in targets)


@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("fused", [True, False])
def test_no_host_tensors_in_forward_or_double_backward(fused, sharing):
    # the meta device refuses any operation that mixes in a CPU tensor, as CUDA would: a
    # forward, gradient and second derivative on it show that everything follows .to()
    from taafs_sk.nn.bases import available_bases

    for basis in available_bases():
        act = TAAF(4, basis, n_basis=6, sharing=sharing, fused=fused,
                   init=nn.CELU(0.1) if basis == "grbf" else "tanh").to("meta")
        z = torch.empty(5, 4, device="meta", requires_grad=True)
        (grad,) = torch.autograd.grad(act(z).sum(), z, create_graph=True)
        grad.sum().backward()
        assert act.weight.grad.device.type == "meta", basis
