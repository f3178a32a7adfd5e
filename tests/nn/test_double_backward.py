"""Second derivatives of TAAF (force training): fused and eager paths, every built-in basis."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from taafs_sk.nn import TAAF
from taafs_sk.nn._fused import NORMALIZATIONS, fused_taaf, normalize
from taafs_sk.nn.bases import available_bases, make_basis

F64 = torch.float64
BASES = available_bases()


def _eager(z, weight, basis, normalization):
    phi = basis(normalize(z, normalization))
    if weight.dim() == 2:
        return (phi * weight[:, :-1]).sum(-1) + weight[:, -1]
    return phi @ weight[:-1] + weight[-1]


def _inputs(basis, sharing, seed):
    gen = torch.Generator().manual_seed(seed)
    z = torch.rand(3, 2, generator=gen, dtype=F64) * 4 - 2
    shape = (2, basis.n_basis + 1) if sharing == "neuron" else (basis.n_basis + 1,)
    weight = torch.randn(shape, generator=gen, dtype=F64)
    return z.requires_grad_(True), weight.requires_grad_(True)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("name", BASES)
def test_gradgradcheck_every_basis(name, sharing, fused):
    basis = make_basis(name, 5)
    fn = fused_taaf if fused else _eager
    z, weight = _inputs(basis, sharing, seed=0)
    assert torch.autograd.gradgradcheck(lambda z, w: fn(z, w, basis, "tanh"), (z, weight))


@pytest.mark.parametrize("normalization", [n for n in NORMALIZATIONS if n != "tanh"])
@pytest.mark.parametrize("name", ["bspline", "legendre", "fourier", "grbf"])
def test_fused_gradgradcheck_other_normalizations(name, normalization):
    basis = make_basis(name, 5)
    z, weight = _inputs(basis, "neuron", seed=1)
    with torch.no_grad():
        z.mul_(0.5)  # keep |z| < 1 away from the kinks of the clipping normalisations
    assert torch.autograd.gradgradcheck(lambda z, w: fused_taaf(z, w, basis, normalization),
                                        (z, weight))


@pytest.mark.parametrize("name", ["legendre", "chebyshev1", "fourier"])
def test_gradgradcheck_in_the_direct_representation(name):
    basis = make_basis(name, 24)  # above AMPLIFICATION_LIMIT: values and slopes themselves
    assert basis.representation == "direct"
    z, weight = _inputs(basis, "shared", seed=2)
    assert torch.autograd.gradgradcheck(lambda z, w: fused_taaf(z, w, basis, "tanh"),
                                        (z, weight))


def _force_step_grads(fused: bool, sharing: str, basis: str):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 6), TAAF(6, basis, n_basis=6, sharing=sharing, fused=fused),
                        nn.Linear(6, 1)).double()
    with torch.no_grad():
        for act in net.modules():
            if isinstance(act, TAAF):
                act.weight.add_(0.2 * torch.randn_like(act.weight))
    x = torch.randn(10, 3, dtype=F64, requires_grad=True)
    energy = net(x).sum()
    (forces,) = torch.autograd.grad(-energy, x, create_graph=True)
    target = torch.zeros_like(forces)
    loss = energy.square() + (forces - target).square().sum()
    loss.backward()
    return [p.grad.clone() for p in net.parameters()]


@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("basis", ["bspline", "chebyshev1", "grbf"])
def test_force_training_step_fused_equals_eager(basis, sharing):
    fused = _force_step_grads(True, sharing, basis)
    eager = _force_step_grads(False, sharing, basis)
    for got, want in zip(fused, eager, strict=True):
        assert torch.isfinite(got).all() and float(got.abs().max()) > 0
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-11)


def test_residual_taaf_is_twice_differentiable():
    act = TAAF(basis="bspline", init=nn.CELU(alpha=0.1)).double()
    with torch.no_grad():
        act.weight.normal_(generator=torch.Generator().manual_seed(3))

    def fn(z, w):  # TAAF.forward with w as its weight
        return torch.func.functional_call(act, {"weight": w}, (z,))

    z = (torch.rand(4, 3, dtype=F64, generator=torch.Generator().manual_seed(4)) - 0.5)
    assert torch.autograd.gradgradcheck(fn, (z.requires_grad_(True),
                                             act.weight.detach().clone().requires_grad_(True)))


def test_custom_basis_without_closed_form_uses_forward_mode_second_derivative():
    from taafs_sk.nn import Basis

    class Cubes(Basis):
        def values(self, u):
            k = torch.arange(self.n_basis, dtype=u.dtype, device=u.device)
            return torch.sin(u[..., None] * (k + 1))

    u = torch.linspace(-1, 1, 7, dtype=F64)
    k = torch.arange(4, dtype=F64) + 1
    torch.testing.assert_close(Cubes(4).second_derivatives(u),
                               -(k**2) * torch.sin(u[:, None] * k), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", BASES)
def test_closed_form_second_derivatives_match_forward_mode(name):
    from taafs_sk.nn.bases import Basis

    basis = make_basis(name, 7)
    u = torch.linspace(-0.93, 0.97, 41, dtype=F64)  # off the B-spline knots
    torch.testing.assert_close(basis.second_derivatives(u), Basis.second_derivatives(basis, u),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("name", "n_basis"), [("legendre", 8), ("jacobi", 6), ("bessel", 12),
                                               ("grbf", 6), ("fourier", 7), ("fourier", 40)])
def test_curvature_maps_times_features_give_second_derivatives(name, n_basis):
    basis = make_basis(name, n_basis)
    assert "curvature_maps" in basis._buffers  # the one-product second-derivative pass
    u = torch.linspace(-1.0, 1.0, 101, dtype=F64)
    want = basis.second_derivatives(u).T
    scale = want.abs().amax(1, keepdim=True).clamp_min(1.0)
    got = basis.curvature_maps @ basis.curvature_features(u, basis.features(u))
    torch.testing.assert_close(got / scale, want / scale, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_bspline_curvature_maps_give_second_derivatives(order):
    basis = make_basis("bspline", 9, order=order)
    u = torch.linspace(-0.97, 0.99, 113, dtype=F64)  # off the knots
    got = basis.curvature_maps @ basis.curvature_features(u, basis.features(u))
    torch.testing.assert_close(got, basis.second_derivatives(u).T, rtol=1e-9, atol=1e-8)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_bspline_gradgradcheck_each_order(order):
    basis = make_basis("bspline", 7, order=order)
    z, weight = _inputs(basis, "layer", seed=5)
    assert torch.autograd.gradgradcheck(lambda z, w: fused_taaf(z, w, basis, "tanh"),
                                        (z, weight))


@pytest.mark.parametrize("sharing", ["shared", "neuron"])
@pytest.mark.parametrize("name", ["bspline", "fourier", "grbf", "legendre", "hermite"])
def test_first_order_backward_skips_the_differentiable_function(name, sharing):
    """Without ``create_graph`` the gradients come straight from the saved features (no
    graph of the gradient), and equal those of the differentiable backward."""
    basis = make_basis(name, 6).double()
    z, weight = _inputs(basis, sharing, seed=3)
    g = torch.randn(z.shape, dtype=F64, generator=torch.Generator().manual_seed(4))
    plain = torch.autograd.grad(fused_taaf(z, weight, basis, "tanh"), (z, weight), g)
    graph = torch.autograd.grad(fused_taaf(z, weight, basis, "tanh"), (z, weight), g,
                                create_graph=True)
    assert all(t.grad_fn is None for t in plain)
    assert all(t.grad_fn is not None for t in graph)
    for a, b in zip(plain, graph, strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=1e-12, atol=1e-12)
