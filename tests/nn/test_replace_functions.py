"""replace_activations where a library holds its activation as a function: callables in
attributes, e3nn's normalize2mom wrappers (FullyConnectedNet, Activation, Gate), gates, odd
scalars, and the report."""

from __future__ import annotations

import functools
import pickle

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from taafs_sk.nn import TAAF, ReplacementReport, replace_activations

# e3nn scripts its modules as it builds them (torch.jit is deprecated in torch 2.13)
pytestmark = [pytest.mark.filterwarnings("ignore:`torch.jit.*is deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The TorchScript type system:UserWarning")]
X = 2 * torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def shifted_softplus(x: torch.Tensor) -> torch.Tensor:
    """schnetpack's activation: softplus shifted to pass through 0."""
    return F.softplus(x) - torch.log(torch.tensor(2.0, dtype=x.dtype))


class Dense(nn.Linear):
    """A layer holding its activation as a function (schnetpack's Dense does this)."""

    def __init__(self, n_in, n_out, activation):
        super().__init__(n_in, n_out, dtype=torch.float64)
        self.activation = activation

    def forward(self, x):
        return self.activation(super().forward(x))


class Gated(nn.Module):
    """A scalar activation and a gate held as attributes (MACE's gated block style)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4, dtype=torch.float64)
        self._act_scalar = F.silu
        self._act_gate = torch.sigmoid

    def forward(self, x):
        h = self.linear(x)
        return self._act_scalar(h) * self._act_gate(h)


def _net(activation) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(Dense(4, 5, activation), Dense(5, 3, activation))


@pytest.mark.parametrize("fn", [F.silu, torch.tanh, F.softplus, torch.sigmoid,
                                functools.partial(F.softplus, beta=2.0)],
                         ids=["silu", "tanh", "softplus", "sigmoid", "partial"])
def test_functions_in_attributes_are_swapped_bit_for_bit_and_reported(fn):
    net = _net(fn)
    new, report = replace_activations(net, "bspline", n_basis=5, report=True)
    assert all(isinstance(layer.activation, TAAF) for layer in new)
    assert torch.equal(new(X), net(X))
    assert [r["path"] for r in report.replaced] == ["0.activation", "1.activation"]
    assert {r["kind"] for r in report.replaced} == {"function"}
    assert report.n_params_added == 2 * 6 and not report.skipped
    x = X.clone().requires_grad_()
    g_new, = torch.autograd.grad(new(x).sum(), x)
    g_old, = torch.autograd.grad(net(x).sum(), x)
    assert torch.equal(g_new, g_old)


def test_a_users_function_is_swapped_when_named_and_pickles():
    net = _net(shifted_softplus)
    with pytest.raises(ValueError, match="holds no activation module"):
        replace_activations(net)
    new = replace_activations(net, "chebyshev1", functions=(shifted_softplus,),
                              sharing="neuron")
    assert new[0].activation.init is shifted_softplus
    assert new[0].activation.num_features == 5  # from the Linear that holds it
    assert torch.equal(new(X), net(X))
    back = pickle.loads(pickle.dumps(new))
    assert torch.equal(back(X), net(X))


def test_gates_are_kept_unless_asked_and_listed():
    model = Gated()
    new, report = replace_activations(model, report=True)
    assert isinstance(new._act_scalar, TAAF) and new._act_gate is torch.sigmoid
    assert report.skipped == [{"path": "_act_gate", "old": "torch.sigmoid",
                               "reason": "a gate (it multiplies equivariant features); pass "
                                         "gates=True to swap it"}]
    both, report = replace_activations(model, gates=True, report=True)
    assert isinstance(both._act_gate, TAAF) and [r["gate"] for r in report.replaced] == [
        False, True]
    assert torch.equal(both(X), model(X))
    assert "_act_gate: torch.sigmoid -> TAAF(BSplineBasis" in str(report)


def test_only_gates_gives_the_clear_error():
    class OnlyGate(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = nn.Sigmoid()

    with pytest.raises(ValueError, match=r"no activation that can be replaced.*'gate' "
                                         r"\(Sigmoid\(\)\): a gate.*gates=True"):
        replace_activations(OnlyGate())


def test_network_sharing_over_functions_gives_one_taaf_per_network():
    net = _net(F.silu)
    new, report = replace_activations(net, sharing="global", report=True)
    assert new[0].activation is new[1].activation
    assert report.n_taafs == 1 and [r["params"] for r in report.replaced] == [9, 0]
    assert torch.equal(new(X), net(X))


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"functions": "silu"}, TypeError, r"functions of replace_activations must be a tuple"),
    ({"functions": (1,)}, TypeError, r"functions of replace_activations must hold plain "
                                     r"callables .*got 1"),
    ({"functions": (nn.Tanh(),)}, TypeError, r"functions .*got Tanh\(\); pass activation "
                                             r"module classes in types="),
    ({"functions": (F.softmax,)}, ValueError, r"functions .*elementwise.*softmax"),
    ({"types": (torch.tanh,)}, TypeError, r"types .*pass functions such as torch.tanh in "
                                          r"functions="),
    ({"gates": "yes"}, TypeError, r"gates of replace_activations must be True or False"),
    ({"report": 1}, TypeError, r"report of replace_activations must be True or False"),
    ({"sharing": "element"}, ValueError, r"sharing of replace_activations must be one of"),
    ({"basis": "wavelet"}, ValueError, r"'wavelet'"),
])
def test_bad_arguments_are_named(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        replace_activations(_net(F.silu), **kwargs)


def test_a_function_that_is_not_elementwise_is_refused():
    def centred(x):
        return x - x.mean(-1, keepdim=True)

    with pytest.raises(ValueError, match=r"functions of replace_activations holds .*centred, "
                                         r"found at '0.activation'.*changes other entries"):
        replace_activations(_net(centred), functions=(centred,))


# --- e3nn ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def e3nn():
    with torch.serialization.safe_globals([slice]):  # e3nn 0.4.4 loads its constants so
        return pytest.importorskip("e3nn.nn")


def test_fully_connected_net_keeps_its_normalisation_to_the_bit(e3nn):
    torch.manual_seed(0)
    fc = e3nn.FullyConnectedNet([4, 6, 5, 2], F.silu).double()
    new, report = replace_activations(fc, "chebyshev1", n_basis=4, sharing="neuron",
                                      report=True)
    assert [r["path"] for r in report.replaced] == ["layer0.act", "layer1.act"]
    assert [new.layer0.act.num_features, new.layer1.act.num_features] == [6, 5]
    assert report.replaced[0]["old"].endswith("torch.nn.functional.silu (normalize2mom)")
    assert new.layer0.act.base.cst == fc.layer0.act.cst != 1.0
    x = X.clone().requires_grad_()
    assert torch.equal(new(x), fc(x))
    g_new, = torch.autograd.grad(new(x).sum(), x)
    g_old, = torch.autograd.grad(fc(x).sum(), x)
    assert torch.equal(g_new, g_old)


def test_activation_swaps_even_scalars_and_keeps_odd_ones(e3nn):
    act = e3nn.Activation("4x0e + 3x0o", [F.silu, torch.tanh])
    x = torch.randn(5, 7)
    new, report = replace_activations(act, report=True)
    assert isinstance(new.acts[0], TAAF) and not isinstance(new.acts[1], TAAF)
    assert new.acts[0].base.cst == act.acts[0].cst
    assert report.skipped[0]["path"] == "acts.1" and "parity -1" in report.skipped[0]["reason"]
    assert str(new.irreps_out) == str(act.irreps_out) and torch.equal(new(x), act(x))
    with pytest.raises(ValueError, match=r"no activation that can be replaced.*acts.0.*odd"):
        replace_activations(e3nn.Activation("3x0o", [torch.tanh]))


def test_gate_is_swapped_only_on_request_and_stays_equivariant(e3nn):
    from e3nn import o3

    gate = e3nn.Gate("2x0e", [F.silu], "3x0e", [torch.sigmoid], "3x1o")
    new, report = replace_activations(gate, report=True)
    assert [r["path"] for r in report.replaced] == ["act_scalars.acts.0"]
    assert [r["path"] for r in report.skipped] == ["act_gates.acts.0"]
    both = replace_activations(gate, gates=True)
    assert isinstance(both.act_gates.acts[0], TAAF)
    torch.manual_seed(0)
    x = gate.irreps_in.randn(4, -1)
    assert torch.equal(both(x), gate(x))
    for t in (t for t in both.modules() if isinstance(t, TAAF)):  # a trained shape
        t.weight.data.normal_()
    rot = o3.rand_matrix()
    d_in, d_out = gate.irreps_in.D_from_matrix(rot), gate.irreps_out.D_from_matrix(rot)
    assert torch.allclose(both(x @ d_in.T), both(x) @ d_out.T, atol=1e-5)


def test_report_is_a_report():
    _, report = replace_activations(_net(F.silu), report=True)
    assert isinstance(report, ReplacementReport) and report.sharing == "layer"
    assert str(report).startswith("replaced 2 activation sites with 2 TAAFs")
