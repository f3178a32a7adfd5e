"""Trainable activations (TAAF), fixed activations and the sharing schemes of the factory."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from taafs_sk.nn._fused import NORMALIZATIONS, normalize
from taafs_sk.nn.activations import (
    FIXED_ACTIVATIONS,
    SHARING_SCHEMES,
    TAAF,
    activation_grid,
    count_activation_params,
    make_activation_factory,
)
from taafs_sk.nn.bases import available_bases
from taafs_sk.nn.network import MLP

BASES = available_bases()
POLYNOMIALS = ["legendre", "hermite", "chebyshev1", "chebyshev2", "bessel", "jacobi"]
#: Largest |TAAF(z) - tanh(z)| on [-3, 3] right after construction (tanh normalization,
#: n_basis=8). Polynomials and splines hold u = tanh(z) exactly; 4 Fourier harmonics and 8
#: Gaussians only approximate it.
INIT_TOL = {**dict.fromkeys([*POLYNOMIALS, "bspline"], 1e-5), "fourier": 2e-3, "grbf": 6e-2}
HIDDEN = (3, 5, 2)
Z = torch.linspace(-3.0, 3.0, 601)


def _unique_params(modules) -> int:
    return sum(p.numel() for p in torch.nn.ModuleList(modules).parameters())  # de-duplicated


def _on_grid(act, width):
    with torch.no_grad():
        return act(Z[:, None].expand(-1, width).contiguous())


# ------------------------------------------------------------------------ initial shape
@pytest.mark.parametrize("sharing", SHARING_SCHEMES)
@pytest.mark.parametrize("basis", BASES)
def test_taaf_starts_close_to_tanh(basis, sharing):
    net = MLP(2, HIDDEN, 1, make_activation_factory(basis, n_basis=8, sharing=sharing))
    for act, width in zip(net.activations, HIDDEN, strict=True):
        err = (_on_grid(act, width) - torch.tanh(Z)[:, None]).abs().max()
        assert float(err) < INIT_TOL[basis]


@pytest.mark.parametrize("basis", [*POLYNOMIALS, "bspline"])
def test_identity_init_is_exact_under_clamp_normalization(basis):
    act = TAAF(4, basis, n_basis=6, normalization="clamp", init="identity")
    torch.testing.assert_close(_on_grid(act, 4), Z[:, None].expand(-1, 4), rtol=0, atol=1e-5)


@pytest.mark.parametrize("init", ["tanh", "silu", "identity"])
@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("basis", BASES)
def test_initial_coefficients_are_the_least_squares_fit(basis, normalization, init):
    act = TAAF(None, basis, n_basis=7, normalization=normalization, init=init)
    z = Z.double()
    phi = act.basis(normalize(z, normalization)).double()  # (G, K)
    target = {"tanh": torch.tanh, "silu": F.silu, "identity": lambda v: v}[init](z)
    residual = phi @ act.coefficients.detach().double() - target
    normal_eq = phi.T @ residual  # zero at the least-squares solution
    assert float(normal_eq.abs().max()) < 1e-4 * float((phi.T @ target).abs().max())
    assert act.bias.item() == 0.0


@pytest.mark.parametrize("basis", ["bspline", "legendre"])
def test_per_neuron_taaf_starts_with_identical_rows(basis):
    act = TAAF(5, basis, n_basis=6, sharing="neuron")
    assert act.weight.shape == (5, 7)
    assert torch.equal(act.weight, act.weight[:1].expand(5, -1))


# ------------------------------------------------------------------- parameter counts
def _formula(n_basis, sharing, hidden):
    if not hidden:
        return 0
    return {"global": n_basis + 1, "network": n_basis + 1, "layer": len(hidden) * (n_basis + 1),
            "neuron": (n_basis + 1) * sum(hidden)}[sharing]


@pytest.mark.parametrize("hidden", [(), (7,), (3, 5, 2)])
@pytest.mark.parametrize("sharing", SHARING_SCHEMES)
@pytest.mark.parametrize("basis", ["bspline", "fourier", "grbf", "chebyshev1", "jacobi"])
def test_count_activation_params_matches_formula_and_network(basis, sharing, hidden):
    n_basis = 6
    net = MLP(4, hidden, 1, make_activation_factory(basis, n_basis=n_basis, sharing=sharing))
    expected = _formula(n_basis, sharing, hidden)
    assert count_activation_params(basis, n_basis=n_basis, sharing=sharing,
                                   hidden_layer_sizes=hidden) == expected
    assert _unique_params(net.activations) == expected


@pytest.mark.parametrize("sharing", SHARING_SCHEMES)
@pytest.mark.parametrize("basis", ["relu", "tanh", "identity"])
def test_fixed_activations_add_no_parameters(basis, sharing):
    net = MLP(4, HIDDEN, 1, make_activation_factory(basis, sharing=sharing))
    assert count_activation_params(basis, n_basis=8, sharing=sharing,
                                   hidden_layer_sizes=HIDDEN) == 0
    assert _unique_params(net.activations) == 0


# -------------------------------------------------------------------- sharing schemes
@pytest.mark.parametrize(("sharing", "n_modules"), [("global", 1), ("network", 1), ("layer", 3),
                                                     ("neuron", 3)])
def test_distinct_activation_modules_per_network(sharing, n_modules):
    net = MLP(2, HIDDEN, 1, make_activation_factory("legendre", n_basis=5, sharing=sharing))
    assert len({id(act) for act in net.activations}) == n_modules


@pytest.mark.parametrize(("sharing", "shared_across_networks"),
                         [("global", True), ("network", False), ("layer", False),
                          ("neuron", False)])
def test_reuse_across_networks_built_by_one_factory(sharing, shared_across_networks):
    factory = make_activation_factory("grbf", n_basis=5, sharing=sharing)
    first, second = MLP(2, (4, 4), 1, factory), MLP(3, (6,), 1, factory)
    assert (first.activations[0] is second.activations[0]) is shared_across_networks


@pytest.mark.parametrize("sharing", ["global", "network"])
def test_shared_activation_updates_every_layer(sharing):
    net = MLP(2, HIDDEN, 1, make_activation_factory("chebyshev1", n_basis=5, sharing=sharing))
    with torch.no_grad():
        net.activations[0].weight[-1] = 0.25  # the bias
    for act, width in zip(net.activations, HIDDEN, strict=True):
        assert act(torch.zeros(1, width)).max().item() == pytest.approx(0.25, abs=1e-6)


def test_neuron_sharing_gives_per_neuron_weights_of_each_width():
    net = MLP(2, HIDDEN, 1, make_activation_factory("bessel", n_basis=4, sharing="neuron"))
    assert [tuple(act.weight.shape) for act in net.activations] == [(h, 5) for h in HIDDEN]


def test_factory_is_picklable_and_keeps_building():
    factory = make_activation_factory("fourier", n_basis=4, sharing="layer")
    factory = pickle.loads(pickle.dumps(factory))
    net = MLP(2, (3,), 1, factory)
    assert isinstance(net.activations[0], TAAF)
    assert net(torch.zeros(2, 2)).shape == (2, 1)


# ------------------------------------------------------------------ fixed activations
TORCH_FUNCTIONS = {
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "silu": F.silu,
    "gelu": F.gelu, "elu": F.elu, "softplus": F.softplus, "leaky_relu": F.leaky_relu,
    "identity": lambda x: x,
}


def test_every_fixed_activation_has_a_reference():
    assert set(FIXED_ACTIVATIONS) == set(TORCH_FUNCTIONS)


@pytest.mark.parametrize("name", sorted(TORCH_FUNCTIONS))
def test_fixed_activation_matches_torch(name):
    act = make_activation_factory(name)(0, 5)
    z = torch.linspace(-6.0, 6.0, 241)[:, None].expand(-1, 5)
    torch.testing.assert_close(act(z), TORCH_FUNCTIONS[name](z), rtol=0, atol=0)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("build", "param", "bad"), [
    (lambda v: make_activation_factory(v), "basis", "tanhh"),
    (lambda v: make_activation_factory("legendre", sharing=v), "sharing", "per-layer"),
    (lambda v: make_activation_factory("legendre", normalization=v), "normalization", "sigmoid"),
    (lambda v: make_activation_factory("legendre", init=v), "init", "zeros"),
    (lambda v: TAAF(3, v), "basis", "nope"),
    (lambda v: TAAF(3, "legendre", normalization=v), "normalization", "Tanh"),
    (lambda v: TAAF(3, "legendre", init=v), "init", "relu"),
    (lambda v: count_activation_params("legendre", n_basis=4, sharing=v,
                                        hidden_layer_sizes=(3,)), "sharing", "layers"),
    (lambda v: count_activation_params(v, n_basis=4, sharing="layer",
                                        hidden_layer_sizes=(3,)), "basis", "tahn"),
])
def test_unknown_choice_raises_with_the_bad_value(build, param, bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))) as info:
        build(bad)
    assert param in str(info.value)


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"n_basis": 0}, "n_basis"), ({"basis": "bspline", "n_basis": 3}, "n_basis"),
    ({"basis_kwargs": {"order": 2}}, "order"), ({"basis_kwargs": {"alpha": -2.0}}, "alpha"),
])
def test_factory_validates_basis_options_before_building(kwargs, param):
    kwargs = {"basis": "jacobi", **kwargs}
    with pytest.raises(ValueError, match=param):
        make_activation_factory(**kwargs)


@pytest.mark.parametrize("num_features", [None, 0, -2, 2.5, True])
def test_per_neuron_taaf_needs_a_positive_width(num_features):
    with pytest.raises(ValueError, match="num_features"):
        TAAF(num_features, "legendre", sharing="neuron")


# -------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("basis", BASES)
def test_gradients_flow_to_every_coefficient_and_the_bias(basis, sharing, fused):
    gen = torch.Generator().manual_seed(0)
    act = TAAF(4, basis, n_basis=6, sharing=sharing, fused=fused)
    z = torch.rand(256, 4, generator=gen) * 6 - 3
    loss = (act(z) - torch.randn(256, 4, generator=gen)).square().mean()
    loss.backward()
    grad = act.weight.grad
    assert grad is not None and grad.shape == act.weight.shape
    assert torch.isfinite(grad).all()
    assert bool((grad != 0).all())


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("basis", BASES)
def test_fused_and_reference_taaf_agree(basis, sharing, normalization):
    gen = torch.Generator().manual_seed(1)
    fused = TAAF(3, basis, n_basis=6, sharing=sharing, normalization=normalization,
                 fused=True).double()
    eager = TAAF(3, basis, n_basis=6, sharing=sharing, normalization=normalization,
                 fused=False).double()
    with torch.no_grad():
        eager.weight.copy_(fused.weight + 0.1 * torch.randn(fused.weight.shape, generator=gen,
                                                            dtype=torch.float64))
        fused.weight.copy_(eager.weight)
    z = (torch.rand(5, 20, 3, generator=gen, dtype=torch.float64) * 8 - 4).requires_grad_(True)
    outs = [m(z) for m in (fused, eager)]
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-10, atol=1e-10)
    grads = torch.autograd.grad(outs[0].sum(), (z, fused.weight))
    refs = torch.autograd.grad(outs[1].sum(), (z, eager.weight))
    for got, want in zip(grads, refs, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-8)


def test_an_optimizer_step_changes_the_activation():
    act = TAAF(None, "bspline", n_basis=6)
    z = torch.linspace(-3, 3, 50)[:, None]
    before = act(z).detach().clone()
    opt = torch.optim.SGD(act.parameters(), lr=0.5)
    (act(z) - 0.3).square().mean().backward()
    opt.step()
    assert (act(z) - before).abs().max().item() > 1e-3


def test_coefficients_and_bias_are_views_of_weight():
    act = TAAF(3, "legendre", n_basis=4, sharing="neuron")
    with torch.no_grad():
        act.weight[:, -1] = 2.0
        act.weight[:, 0] = 5.0
    assert torch.equal(act.bias, torch.full((3,), 2.0))
    assert torch.equal(act.coefficients[:, 0], torch.full((3,), 5.0))
    assert act.coefficients.shape == (3, 4) and act.n_basis == 4


# --------------------------------------------------------------------- activation_grid
@pytest.mark.parametrize(("module", "width"), [(TAAF(4, "grbf", n_basis=5, sharing="neuron"), 4),
                                               (TAAF(None, "fourier", n_basis=5), 1),
                                               (torch.nn.Tanh(), 1)])
def test_activation_grid_shape_values_and_mode(module, width):
    module.train()
    grid = np.linspace(-2, 2, 9)
    values = activation_grid(module, grid)
    assert values.shape == (9, width)
    assert module.training
    with torch.no_grad():
        z = torch.tensor(grid, dtype=torch.float32)[:, None].expand(-1, width).contiguous()
        expected = module(z).double().numpy()
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-6)


# --------------------------------------------------------- keyword-only options, vocabulary
@pytest.mark.parametrize("build", [
    lambda: make_activation_factory("legendre", 5),
    lambda: make_activation_factory("legendre", 5, "layer"),
    lambda: TAAF(3, "legendre", 5),
    lambda: TAAF(3, "legendre", 5, "neuron"),
])
def test_options_after_basis_are_keyword_only(build):
    with pytest.raises(TypeError, match="positional argument"):
        build()


def test_factory_and_taaf_take_their_options_in_the_same_order():
    import inspect

    factory = list(inspect.signature(make_activation_factory).parameters)
    taaf = list(inspect.signature(TAAF).parameters)
    assert factory[1:] == taaf[2:]  # after basis (and TAAF's num_features)
    assert factory[1:3] == ["n_basis", "sharing"]


def test_taaf_sharing_layer_is_a_deprecated_spelling_of_shared():
    with pytest.warns(FutureWarning, match="sharing='layer' of TAAF is deprecated.*'shared'"):
        old = TAAF(3, "legendre", n_basis=5, sharing="layer")
    new = TAAF(3, "legendre", n_basis=5, sharing="shared")
    assert old.sharing == "shared" and old.weight.shape == new.weight.shape == (6,)
    torch.testing.assert_close(_on_grid(old, 3), _on_grid(new, 3), rtol=0, atol=0)


@pytest.mark.parametrize(("sharing", "taaf_sharing"), [("global", "shared"),
                                                       ("network", "shared"),
                                                       ("layer", "shared"),
                                                       ("neuron", "neuron")])
def test_factory_schemes_build_taafs_of_the_taaf_vocabulary(sharing, taaf_sharing, recwarn):
    net = MLP(2, HIDDEN, 1, make_activation_factory("legendre", n_basis=4, sharing=sharing))
    assert {act.sharing for act in net.activations} == {taaf_sharing}
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]


# ----------------------------------------------------------------------- init, truthfully
def test_named_init_is_reported_as_given():
    act = TAAF(3, "legendre", n_basis=5, init="silu")
    assert act.init == "silu" and not act.residual and act.base is None


@pytest.mark.parametrize("init", [torch.tanh, F.softplus, torch.nn.CELU(alpha=0.2)])
def test_callable_init_is_reported_as_given(init):
    act = TAAF(3, "legendre", n_basis=5, init=init)
    assert act.init is init and act.residual
    assert act.init in (act.base, getattr(act.base, "fn", None))
    assert "init=base" in repr(act)
    twin = TAAF(3, "legendre", n_basis=5, init=act.init)  # what it reports builds it again
    torch.testing.assert_close(_on_grid(twin, 3), _on_grid(act, 3), rtol=0, atol=0)


def test_init_is_read_only():
    act = TAAF(3, "legendre", n_basis=5)
    with pytest.raises(AttributeError):
        act.init = "silu"
