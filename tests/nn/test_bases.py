"""Basis families on [-1, 1]: closed forms, orthogonality, shapes, robustness, registry, and
the fused representation (features and maps) with its autograd Function."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.polynomial.legendre import leggauss
from scipy import special

from taafs_sk.nn._fused import NORMALIZATIONS, fused_taaf, normalize
from taafs_sk.nn.bases import (
    AMPLIFICATION_LIMIT,
    BASES,
    BesselBasis,
    BSplineBasis,
    Chebyshev1Basis,
    Chebyshev2Basis,
    FourierBasis,
    GaussianRBFBasis,
    HermiteBasis,
    JacobiBasis,
    LegendreBasis,
    available_bases,
    make_basis,
)

FAMILIES = ["bspline", "fourier", "grbf", "legendre", "hermite", "chebyshev1", "chebyshev2",
            "bessel", "jacobi"]
PROPERTY = settings(max_examples=25, derandomize=True, deadline=None)
F64 = torch.float64

#: (name, n_basis, options) covering every family and the code paths its options select.
VARIANTS = [
    ("bspline", 6, {"order": 1}), ("bspline", 7, {"order": 2}), ("bspline", 8, {"order": 3}),
    ("bspline", 9, {"order": 4}), ("bspline", 5, {"order": 4}),
    ("fourier", 7, {}), ("fourier", 6, {"period": 2.0}),
    ("grbf", 7, {}), ("grbf", 1, {}), ("grbf", 40, {}), ("grbf", 6, {"width": 0.05}),
    ("legendre", 7, {}), ("hermite", 7, {}), ("chebyshev1", 7, {}), ("chebyshev2", 7, {}),
    ("bessel", 7, {}), ("jacobi", 7, {}), ("jacobi", 6, {"alpha": -0.6, "beta": 2.5}),
]
VARIANT_IDS = [f"{n}-{k}-{','.join(f'{a}={v}' for a, v in o.items())}" for n, k, o in VARIANTS]


def _interior_points(n: int = 257, seed: int = 0) -> torch.Tensor:
    """Random points in (-1, 1): almost surely no knot or kink of any basis."""
    rng = np.random.default_rng(seed)
    return torch.as_tensor(rng.uniform(-0.999, 0.999, n), dtype=F64)


def _slopes(basis, u: torch.Tensor) -> torch.Tensor:
    """dB_k/du by autograd through the reference evaluation: shape u.shape + (K,)."""
    u = u.clone().requires_grad_(True)
    values = basis(u)
    cols = [torch.autograd.grad(values[..., k].sum(), u, retain_graph=True)[0]
            for k in range(basis.n_basis)]
    return torch.stack(cols, -1)


# ------------------------------------------------------------------------------ registry
def test_available_bases_lists_the_nine_families_in_paper_order():
    assert available_bases() == FAMILIES


@pytest.mark.parametrize("name", FAMILIES)
def test_registry_maps_each_name_to_its_class(name):
    basis = make_basis(name, 5)
    assert type(basis) is BASES[name]
    assert basis.name == name
    assert basis.n_basis == 5


def test_make_basis_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="'nope'") as info:
        make_basis("nope", 4)
    for name in FAMILIES:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("n_basis", [0, -1, -7])
def test_non_positive_n_basis_raises_naming_the_parameter(name, n_basis):
    with pytest.raises(ValueError, match=rf"n_basis.*got {n_basis}"):
        make_basis(name, n_basis)


@pytest.mark.parametrize("n_basis", [4.0, True, "4", None])
def test_non_integer_n_basis_raises(n_basis):
    # a wrong type is a TypeError, as for every check of the library (taafs_sk._validation)
    with pytest.raises(TypeError, match="n_basis of basis 'legendre' must be an integer"):
        make_basis("legendre", n_basis)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_bspline_n_basis_must_exceed_order(order):
    with pytest.raises(ValueError, match=rf"n_basis.*order={order}"):
        make_basis("bspline", order, order=order)
    assert make_basis("bspline", order + 1, order=order).n_basis == order + 1


@pytest.mark.parametrize(("name", "option", "value"), [
    ("bspline", "order", 0), ("bspline", "order", 2.5), ("jacobi", "alpha", -1.0),
    ("jacobi", "beta", -3), ("jacobi", "alpha", math.nan), ("fourier", "period", 0.0),
    ("fourier", "period", math.inf), ("grbf", "width", -0.5), ("grbf", "width", 0),
])
def test_invalid_family_option_raises_naming_it(name, option, value):
    wrong_type = isinstance(value, float) and option == "order"
    with pytest.raises(TypeError if wrong_type else ValueError,
                       match=rf"{option} of basis '{name}'"):
        make_basis(name, 6, **{option: value})


@pytest.mark.parametrize(("name", "option"), [("fourier", "order"), ("legendre", "alpha"),
                                               ("bspline", "width")])
def test_unknown_family_option_raises_naming_it(name, option):
    with pytest.raises(ValueError, match=rf"\['{option}'\].*{name}"):
        make_basis(name, 6, **{option: 1.0})


def test_make_basis_passes_the_options_on():
    basis = make_basis("jacobi", 5, alpha=0.5, beta=-0.25)
    assert (basis.alpha, basis.beta) == (0.5, -0.25)
    assert make_basis("bspline", 6, order=2).order == 2
    assert make_basis("fourier", 3, period=2.0).period == 2.0
    assert make_basis("grbf", 3, width=0.3).width == 0.3


# ------------------------------------------------------------------------- closed forms
@PROPERTY
@given(order=st.integers(1, 5), extra=st.integers(1, 12),
       u=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=40))
def test_bspline_partition_of_unity_on_the_grid(order, extra, u):
    basis = BSplineBasis(order + extra, order=order)
    values = basis(torch.tensor([-1.0, *u, 1.0], dtype=F64))
    assert torch.all(values >= -1e-14)
    np.testing.assert_allclose(values.sum(-1).numpy(), 1.0, rtol=0, atol=1e-12)


@PROPERTY
@given(order=st.integers(1, 5), extra=st.integers(1, 12),
       u=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=40))
def test_bspline_each_point_lies_in_at_most_order_plus_one_supports(order, extra, u):
    values = BSplineBasis(order + extra, order=order)(torch.tensor(u, dtype=F64))
    assert int((values > 1e-15).sum(-1).max()) <= order + 1


@PROPERTY
@given(n_basis=st.integers(1, 30), t=st.lists(st.floats(0.0, math.pi), min_size=1, max_size=40))
def test_chebyshev1_is_cos_of_n_t(n_basis, t):
    t = np.asarray(t)
    values = Chebyshev1Basis(n_basis)(torch.as_tensor(np.cos(t))).numpy()
    expected = np.cos(np.arange(n_basis) * t[:, None])
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-11)


@PROPERTY
@given(n_basis=st.integers(1, 30),
       t=st.lists(st.floats(0.05, math.pi - 0.05), min_size=1, max_size=40))
def test_chebyshev2_is_sin_of_n_plus_one_t_over_sin_t(n_basis, t):
    t = np.asarray(t)
    values = Chebyshev2Basis(n_basis)(torch.as_tensor(np.cos(t))).numpy()
    expected = np.sin((np.arange(n_basis) + 1) * t[:, None]) / np.sin(t)[:, None]
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n_basis", [1, 4, 15])
def test_chebyshev2_endpoint_values(n_basis):
    n = np.arange(n_basis)
    values = Chebyshev2Basis(n_basis)(torch.tensor([1.0, -1.0], dtype=F64)).numpy()
    np.testing.assert_allclose(values, [n + 1.0, (-1.0) ** n * (n + 1)], rtol=1e-13)


@pytest.mark.parametrize("n_basis", [1, 2, 6, 20])
def test_legendre_orthogonal_under_gauss_legendre_quadrature(n_basis):
    nodes, weights = leggauss(n_basis + 2)  # exact for degree <= 2 n_basis + 3
    phi = LegendreBasis(n_basis)(torch.as_tensor(nodes)).numpy()
    gram = phi.T @ (weights[:, None] * phi)
    np.testing.assert_allclose(gram, np.diag(2.0 / (2 * np.arange(n_basis) + 1)), atol=1e-12)


@PROPERTY
@given(n_basis=st.integers(1, 25), u=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=40))
def test_legendre_matches_scipy(n_basis, u):
    u = np.asarray(u)
    expected = np.stack([special.eval_legendre(n, u) for n in range(n_basis)], -1)
    np.testing.assert_allclose(LegendreBasis(n_basis)(torch.as_tensor(u)).numpy(), expected,
                               rtol=0, atol=1e-12)


@PROPERTY
@given(n_basis=st.integers(1, 25), u=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=40))
def test_hermite_is_normalised_probabilists_hermite(n_basis, u):
    u = np.asarray(u)
    expected = np.stack([special.eval_hermitenorm(n, u) / math.sqrt(math.factorial(n))
                         for n in range(n_basis)], -1)
    np.testing.assert_allclose(HermiteBasis(n_basis)(torch.as_tensor(u)).numpy(), expected,
                               rtol=1e-12, atol=1e-12)


def _jacobi_reference(n_basis, alpha, beta, u):
    """scipy's Jacobi polynomials, each divided by its maximum modulus on a fine grid."""
    fine = np.cos(np.linspace(0.0, np.pi, 40001))
    cols = [special.eval_jacobi(n, alpha, beta, u)
            / np.abs(special.eval_jacobi(n, alpha, beta, fine)).max() for n in range(n_basis)]
    return np.stack(cols, -1)


@PROPERTY
@given(n_basis=st.integers(1, 12), alpha=st.floats(-0.95, 4.0), beta=st.floats(-0.95, 4.0),
       u=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=30))
def test_jacobi_matches_scipy_divided_by_max_modulus(n_basis, alpha, beta, u):
    u = np.asarray(u)
    values = JacobiBasis(n_basis, alpha=alpha, beta=beta)(torch.as_tensor(u)).numpy()
    np.testing.assert_allclose(values, _jacobi_reference(n_basis, alpha, beta, u),
                               rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 1.0), (-0.8, -0.8), (-0.7, 2.0), (3.0, 0.0)])
def test_jacobi_maximum_modulus_is_one(alpha, beta):
    grid = torch.as_tensor(np.cos(np.linspace(0.0, np.pi, 20001)))
    peak = JacobiBasis(9, alpha=alpha, beta=beta)(grid).abs().amax(0).numpy()
    # the module finds the maximum on a 4001-point grid: interior peaks may be missed by ~1e-6
    np.testing.assert_allclose(peak, 1.0, rtol=1e-5)


def test_jacobi_zero_zero_is_legendre():
    u = _interior_points()
    torch.testing.assert_close(JacobiBasis(12, 0.0, 0.0)(u), LegendreBasis(12)(u),
                               rtol=0, atol=1e-12)


def _bessel_polynomial(n: int, x: np.ndarray) -> np.ndarray:
    return sum(math.factorial(n + k) / (math.factorial(n - k) * math.factorial(k)) * (x / 2) ** k
               for k in range(n + 1))


@PROPERTY
@given(n_basis=st.integers(1, 15), u=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=40))
def test_bessel_is_closed_form_over_its_value_at_one(n_basis, u):
    u = np.asarray(u)
    expected = np.stack([_bessel_polynomial(n, u) / _bessel_polynomial(n, 1.0)
                         for n in range(n_basis)], -1)
    np.testing.assert_allclose(BesselBasis(n_basis)(torch.as_tensor(u)).numpy(), expected,
                               rtol=1e-12, atol=1e-12)


@PROPERTY
@given(n_basis=st.integers(1, 15), period=st.floats(0.5, 8.0),
       u=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=40))
def test_fourier_is_interleaved_cos_sin_harmonics(n_basis, period, u):
    u = np.asarray(u)
    omega = 2 * np.pi / period
    cols = [np.cos((k // 2 + 1) * omega * u) if k % 2 == 0 else np.sin((k // 2 + 1) * omega * u)
            for k in range(n_basis)]
    values = FourierBasis(n_basis, period=period)(torch.as_tensor(u)).numpy()
    np.testing.assert_allclose(values, np.stack(cols, -1), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("n_basis", "width"), [(1, None), (5, None), (9, 0.3), (4, 2.0)])
def test_grbf_is_gaussians_on_evenly_spaced_centres(n_basis, width):
    u = _interior_points().numpy()
    centres = np.linspace(-1, 1, n_basis) if n_basis > 1 else np.zeros(1)
    h = width if width is not None else (2 / (n_basis - 1) if n_basis > 1 else 1.0)
    expected = np.exp(-(((u[:, None] - centres) / h) ** 2))
    values = GaussianRBFBasis(n_basis, width=width)(torch.as_tensor(u)).numpy()
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ shapes and robustness
@pytest.mark.parametrize("name", FAMILIES)
@settings(max_examples=15, derandomize=True, deadline=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
       n_basis=st.integers(4, 9))
def test_output_shape_is_input_shape_plus_n_basis(name, shape, n_basis):
    basis = make_basis(name, n_basis)
    u = torch.rand(shape) * 2 - 1
    out = basis(u)
    assert out.shape == (*shape, n_basis)
    assert out.dtype == u.dtype
    assert basis.features(u.double()).shape == (basis.maps.shape[2], *shape)


EXTREMES = [-3e38, -1e30, -1e4, -1.0 - 1e-6, -1.0, 1.0, 1.0 + 1e-6, 1e4, 1e30, 3e38]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("name", "n_basis", "options"), VARIANTS, ids=VARIANT_IDS)
def test_values_and_gradients_finite_at_large_inputs_and_endpoints(name, n_basis, options,
                                                                   dtype):
    basis = make_basis(name, n_basis, **options)
    u = torch.tensor(EXTREMES, dtype=dtype, requires_grad=True)
    values = basis(u)
    (grad,) = torch.autograd.grad(values.square().sum(), u)
    assert torch.isfinite(values).all()
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize(("name", "n_basis", "options"), VARIANTS, ids=VARIANT_IDS)
def test_inputs_outside_the_domain_are_clamped(name, n_basis, options):
    basis = make_basis(name, n_basis, **options)
    outside = basis(torch.tensor([-1e30, -5.0, 5.0, 1e30], dtype=F64))
    ends = basis(torch.tensor([-1.0, -1.0, 1.0, 1.0], dtype=F64))
    torch.testing.assert_close(outside, ends, rtol=0, atol=0)


# ----------------------------------------------------------------- fused representation
@pytest.mark.parametrize(("name", "n_basis", "options"), VARIANTS, ids=VARIANT_IDS)
def test_maps_times_features_give_values(name, n_basis, options):
    basis = make_basis(name, n_basis, **options)
    u = _interior_points()
    feats = basis.features(u)
    torch.testing.assert_close(basis.maps[0] @ feats, basis(u).T, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("name", "n_basis", "options"), VARIANTS, ids=VARIANT_IDS)
def test_slope_maps_times_features_give_derivatives(name, n_basis, options):
    basis = make_basis(name, n_basis, **options)
    u = _interior_points()
    slopes = _slopes(basis, u)
    scale = float(slopes.abs().max()) or 1.0
    torch.testing.assert_close(basis.maps[1] @ basis.features(u) / scale, slopes.T / scale,
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["legendre", "hermite", "chebyshev1", "chebyshev2", "bessel",
                                  "jacobi"])
def test_tanh_slopes_are_one_minus_u_squared_times_derivative(name):
    basis = make_basis(name, 8)
    u = _interior_points()
    expected = (1 - u**2)[:, None] * _slopes(basis, u)
    torch.testing.assert_close(basis.tanh_slopes @ basis.features(u), expected.T,
                               rtol=1e-9, atol=1e-9)


FUSED_CASES = [(name, norm, per_neuron) for name in FAMILIES for norm in NORMALIZATIONS
               for per_neuron in (False, True)]


def _away_from_kinks(shape, seed) -> torch.Tensor:
    """Pre-activations in [-4, 4] at least 0.01 away from the clamp kinks at |z| = 1 and 3."""
    z = torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=F64) * 8 - 4
    for kink in (1.0, 3.0):
        near = (z.abs() - kink).abs() < 0.01
        z = torch.where(near, z + 0.05 * torch.sign(z), z)
    return z


def _weight(basis, n_features, per_neuron, seed, dtype=F64):
    shape = (n_features, basis.n_basis + 1) if per_neuron else (basis.n_basis + 1,)
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=F64).to(dtype) / basis.n_basis


def _eager(z, weight, basis, norm):
    return (basis(normalize(z, norm)) * weight[..., :-1]).sum(-1) + weight[..., -1]


@pytest.mark.parametrize(("name", "norm", "per_neuron"), FUSED_CASES)
def test_fused_gradient_passes_gradcheck(name, norm, per_neuron):
    basis = make_basis(name, 6)
    z = _away_from_kinks((4, 3), seed=1).requires_grad_(True)
    weight = _weight(basis, 3, per_neuron, seed=2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z, w: fused_taaf(z, w, basis, norm), (z, weight),
                                    eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("order", [1, 2, 4, 5])
@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_fused_bspline_gradient_passes_gradcheck_for_each_order(order, norm):
    basis = make_basis("bspline", order + 4, order=order)
    z = _away_from_kinks((4, 3), seed=3).requires_grad_(True)
    weight = _weight(basis, 3, False, seed=4).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z, w: fused_taaf(z, w, basis, norm), (z, weight),
                                    eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(("name", "norm", "per_neuron"), FUSED_CASES)
def test_fused_matches_eager_values_and_gradients(name, norm, per_neuron):
    basis = make_basis(name, 7)
    z = _away_from_kinks((2, 16, 5), seed=5).requires_grad_(True)
    weight = _weight(basis, 5, per_neuron, seed=6).requires_grad_(True)
    fused, eager = fused_taaf(z, weight, basis, norm), _eager(z, weight, basis, norm)
    torch.testing.assert_close(fused, eager, rtol=1e-10, atol=1e-10)
    g = torch.randn(z.shape, generator=torch.Generator().manual_seed(7), dtype=F64)
    for got, want in zip(torch.autograd.grad(fused, (z, weight), g),
                         torch.autograd.grad(eager, (z, weight), g), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("per_neuron", [False, True])
@pytest.mark.parametrize("needs", ["z", "weight", "none"])
def test_fused_gives_the_same_result_whatever_requires_grad(needs, per_neuron):
    basis = make_basis("fourier", 6)
    z = _away_from_kinks((8, 3), seed=8).requires_grad_(needs == "z")
    weight = _weight(basis, 3, per_neuron, seed=9).requires_grad_(needs == "weight")
    out = fused_taaf(z, weight, basis, "tanh")
    torch.testing.assert_close(out, _eager(z.detach(), weight.detach(), basis, "tanh"),
                               rtol=1e-10, atol=1e-10)
    if needs != "none":
        (grad,) = torch.autograd.grad(out.sum(), z if needs == "z" else weight)
        (want,) = torch.autograd.grad(
            _eager(z, weight, basis, "tanh").sum(), z if needs == "z" else weight)
        torch.testing.assert_close(grad, want, rtol=1e-9, atol=1e-9)


AMPLIFYING = [("bspline", 20, {"order": 2}), ("bspline", 13, {"order": 3}),
              ("bspline", 13, {"order": 5})]


@pytest.mark.parametrize("per_neuron", [False, True])
@pytest.mark.parametrize(("name", "n_basis", "options"), AMPLIFYING)
def test_fused_float32_is_accurate_for_amplifying_bases(name, n_basis, options, per_neuron):
    basis = make_basis(name, n_basis, **options)
    assert basis.amplification > AMPLIFICATION_LIMIT  # exercises the float64 feature path
    assert basis.fused_plan(torch.float32).dtype == F64
    z64 = _away_from_kinks((64, 4), seed=10).requires_grad_(True)
    w64 = _weight(basis, 4, per_neuron, seed=11).requires_grad_(True)
    z32 = z64.detach().float().requires_grad_(True)
    w32 = w64.detach().float().requires_grad_(True)
    for norm in ("tanh", "softsign"):
        out = fused_taaf(z32, w32, basis, norm)
        ref = _eager(z64, w64, basis, norm)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out.double(), ref, rtol=0, atol=1e-5)
        for got, want in zip(torch.autograd.grad(out.sum(), (z32, w32)),
                             torch.autograd.grad(ref.sum(), (z64, w64)), strict=True):
            assert got.dtype == torch.float32
            torch.testing.assert_close(got.double(), want, rtol=1e-4,
                                       atol=1e-4 * float(want.abs().max()))


def test_low_amplification_basis_keeps_float32_features():
    basis = make_basis("grbf", 8)
    assert basis.amplification < AMPLIFICATION_LIMIT
    assert basis.fused_plan(torch.float32).dtype == torch.float32


@pytest.mark.parametrize("norm", NORMALIZATIONS)
@pytest.mark.parametrize(("name", "n_basis", "options"), VARIANTS, ids=VARIANT_IDS)
def test_fused_finite_at_extreme_pre_activations(name, n_basis, options, norm):
    basis = make_basis(name, n_basis, **options)
    z = torch.tensor(EXTREMES, dtype=torch.float32).view(2, 5).requires_grad_(True)
    weight = _weight(basis, 5, False, seed=12, dtype=torch.float32).requires_grad_(True)
    out = fused_taaf(z, weight, basis, norm)
    grads = torch.autograd.grad(out.sum(), (z, weight))
    assert torch.isfinite(out).all()
    assert all(torch.isfinite(g).all() for g in grads)


def test_docstring_example_of_fused_taaf():
    weight = torch.tensor([0.0, 1.0, 0.0, 0.5])  # u + 0.5 in the Legendre basis
    z = torch.linspace(-2, 2, 8).view(2, 4)
    out = fused_taaf(z, weight, make_basis("legendre", 3), "tanh")
    torch.testing.assert_close(out, torch.tanh(z) + 0.5)


def test_error_messages_quote_the_family():
    with pytest.raises(ValueError, match=re.escape("n_basis of basis 'hermite'")):
        make_basis("hermite", 0)


def test_casting_a_taaf_to_float32_keeps_its_tables_exact():
    from taafs_sk.nn.activations import TAAF

    act = TAAF(4, "bspline", n_basis=20)  # an amplifying change of representation
    assert act.basis.amplification > AMPLIFICATION_LIMIT
    z = torch.linspace(-2, 2, 50, dtype=torch.float64)[:, None].expand(50, 4).contiguous()
    with torch.no_grad():
        reference = act.double()(z)
        act = act.float()
        assert act.basis.maps.dtype == torch.float64
        out = act(z.float()).double()
    assert (out - reference).abs().max() < 1e-6


def test_cast_caches_a_table_in_the_input_dtype_until_the_basis_moves():
    basis = make_basis("bspline", 8)
    u32 = torch.zeros(3, 4)
    first = basis.cast("interior_knots", u32, column=True)
    assert first.dtype == torch.float32 and first.shape == (basis.n_basis - 4, 1, 1)
    assert basis.cast("interior_knots", u32, column=True) is first  # cached
    torch.testing.assert_close(first.ravel().double(), basis.interior_knots, rtol=0, atol=1e-7)
    assert basis.cast("interior_knots", u32.double()).dtype == F64
    basis.to(torch.device("cpu"))  # a move drops the cache
    assert basis.cast("interior_knots", u32, column=True) is not first
    with pytest.raises(KeyError, match="no buffer or derived table 'nope'"):
        basis.cast("nope", u32)


def test_grbf_geometric_features_equal_the_direct_gaussians():
    basis = make_basis("grbf", 9).double()
    assert basis.geometric
    u = torch.linspace(-1, 1, 201, dtype=F64)
    S = basis.features(u)
    gamma = torch.diagonal(basis.maps[0][:, 1: basis.n_basis + 1])
    torch.testing.assert_close(S[1: basis.n_basis + 1].T * gamma, basis.values(u),
                               rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ the plan's life cycle
@pytest.mark.parametrize(("name", "n_basis", "options"), VARIANTS, ids=VARIANT_IDS)
def test_every_family_states_its_representation_in_one_vocabulary(name, n_basis, options):
    basis = make_basis(name, n_basis, **options)
    assert basis.representation in ("powers", "direct")
    if basis.representation == "direct":  # the maps only pick and scale
        assert basis.amplification == pytest.approx(1.0)
        assert ((basis.maps[0] != 0).sum(1) == 1).all()


@pytest.mark.parametrize("name", ["legendre", "chebyshev1", "fourier"])
def test_high_degree_switches_to_the_direct_representation(name):
    assert make_basis(name, 6).representation == "powers"
    basis = make_basis(name, 40)
    assert basis.representation == "direct" and basis.tanh_slopes is None


def test_fused_plan_is_cached_per_dtype_and_built_again_after_a_move():
    basis = make_basis("legendre", 6)
    plan32, plan64 = basis.fused_plan(torch.float32), basis.fused_plan(F64)
    assert basis.fused_plan(torch.float32) is plan32 and plan64 is not plan32
    assert plan32.dtype == torch.float32 and plan32.tanh_both is not None
    basis.to(torch.device("cpu"))
    assert basis.fused_plan(torch.float32) is not plan32


def test_loading_a_state_dict_forgets_the_plan():
    torch.manual_seed(0)
    from taafs_sk.nn import TAAF

    act = TAAF(3, "legendre", n_basis=5).double()
    z = _away_from_kinks((6, 3), seed=20)
    with torch.no_grad():
        before = act(z)
        state = act.state_dict()
        state["basis.maps"] = 2.0 * state["basis.maps"]  # every B_k doubled
        state["weight"] = state["weight"].clone()
        state["weight"][-1] = 0.0
        act.load_state_dict(state)
        after = act(z)
    torch.testing.assert_close(after, 2.0 * before, rtol=1e-12, atol=1e-12)


def test_set_fused_maps_without_optional_rows_clears_the_old_ones():
    basis = make_basis("legendre", 5)
    assert basis.tanh_slopes is not None and basis.curvature_maps is not None
    plan = basis.fused_plan(F64)
    basis.set_fused_maps(basis.maps[0].numpy(), basis.maps[1].numpy())
    assert basis.tanh_slopes is None and basis.curvature_maps is None
    new = basis.fused_plan(F64)
    assert new is not plan and new.tanh_both is None and new.curvature is None
    z = _away_from_kinks((4, 3), seed=21).requires_grad_(True)
    weight = _weight(basis, 3, False, seed=22).requires_grad_(True)
    assert torch.autograd.gradgradcheck(lambda z, w: fused_taaf(z, w, basis, "tanh"),
                                        (z, weight), eps=1e-6, atol=1e-5, rtol=1e-4)


def test_set_fused_maps_refuses_wrong_tanh_slopes():
    basis = make_basis("legendre", 5)
    values, slopes = basis.maps[0].numpy(), basis.maps[1].numpy()
    with pytest.raises(ValueError, match=r"tanh_slopes @ features\(u\) differs"):
        basis.set_fused_maps(values, slopes, tanh_slopes=slopes)
    with pytest.raises(ValueError, match=r"tanh_slopes of shape \(n_basis, 7\)"):
        basis.set_fused_maps(values, slopes, tanh_slopes=slopes[:, :3])


@pytest.mark.parametrize(("name", "n_basis", "old", "new"), [
    ("legendre", 6, "monomial", "powers"), ("legendre", 24, "recurrence", "direct"),
    ("fourier", 6, "chebyshev", "powers"), ("fourier", 40, "direct", "direct"),
    ("fourier", 6, None, "powers"),
])
def test_bases_pickled_with_the_old_representation_words_load(name, n_basis, old, new):
    basis = make_basis(name, n_basis)
    state = basis.__getstate__()
    state.pop("representation")
    if old is not None:
        state["representation"] = old
    state["_fused_plans"] = {}  # an older version's cache
    back = type(basis).__new__(type(basis))
    back.__setstate__(state)
    assert back.representation == new and "_fused_plans" not in back.__dict__
    u = _interior_points()
    torch.testing.assert_close(back.maps[0] @ back.features(u), basis(u).T, rtol=1e-9,
                               atol=1e-9)


def test_polynomial_pickled_before_the_recurrence_rebuilds_its_maps():
    basis = make_basis("chebyshev1", 24)
    state = basis.__getstate__()
    for name in ("_coefs", "representation"):  # what taafs-sk 0.1 had
        state.pop(name)
    state["_buffers"] = {"maps": state["_buffers"]["maps"]}
    back = type(basis).__new__(type(basis))
    back.__setstate__(state)
    assert back.representation == "direct" and back.tanh_slopes is None
    z = _away_from_kinks((3, 4), seed=23)
    weight = _weight(basis, 4, False, seed=24)
    torch.testing.assert_close(fused_taaf(z, weight, back, "tanh"),
                               _eager(z, weight, basis, "tanh"), rtol=1e-10, atol=1e-10)
