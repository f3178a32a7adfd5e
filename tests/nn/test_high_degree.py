"""Basis families at large n_basis (issue 14): eager and fused paths against scipy.special.

Tolerances are the largest errors measured by ``benchmarks/bench_numerics.py`` (see
``docs/numerics.rst``) times about 5: float64 ~1e-13, float32 ~1e-5 (Hermite's monomial
rewrite, amplification 900 at n_basis=64, reaches 1.5e-5 in float32).
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest
import torch
from scipy import optimize, special

from taafs_sk.nn import TAAF
from taafs_sk.nn.bases import make_basis

SIZES = (8, 16, 32, 48, 64)
FAMILIES = {
    "legendre": ("legendre", {}), "chebyshev1": ("chebyshev1", {}),
    "chebyshev2": ("chebyshev2", {}), "hermite": ("hermite", {}), "bessel": ("bessel", {}),
    "jacobi": ("jacobi", {}), "jacobi-asym": ("jacobi", {"alpha": -0.7, "beta": 2.0}),
    "fourier": ("fourier", {}),
}
TOL = {torch.float64: 5e-13, torch.float32: 2e-5}
HERMITE_F32 = 8e-5
U = np.linspace(-1.0, 1.0, 201)


@functools.cache
def _bessel(n: int) -> np.ndarray:
    """Bessel polynomial y_n(u) / y_n(1) on ``U`` from its closed-form sum, 30 digits."""
    u = U
    with mpmath.workdps(30):
        coef = [mpmath.factorial(n + k) / (mpmath.factorial(n - k) * mpmath.factorial(k))
                / mpmath.mpf(2) ** k for k in range(n + 1)]
        top = mpmath.fsum(coef)
        return np.array([float(mpmath.polyval(coef[::-1], mpmath.mpf(float(x))) / top)
                         for x in u])


def _reference(name: str, options: dict, n_basis: int) -> np.ndarray:
    if name == "legendre":
        cols = [special.eval_legendre(k, U) for k in range(n_basis)]
    elif name == "chebyshev1":
        cols = [special.eval_chebyt(k, U) for k in range(n_basis)]
    elif name == "chebyshev2":
        cols = [special.eval_chebyu(k, U) for k in range(n_basis)]
    elif name == "hermite":
        cols = [special.eval_hermitenorm(k, U) / math.sqrt(math.factorial(k))
                for k in range(n_basis)]
    elif name == "bessel":
        cols = [_bessel(k) for k in range(n_basis)]
    elif name == "jacobi":  # max(alpha, beta) >= -1/2: the maximum is binom(n + q, n)
        a, b = options.get("alpha", 1.0), options.get("beta", 1.0)
        cols = [special.eval_jacobi(k, a, b, U) / special.binom(k + max(a, b), k)
                for k in range(n_basis)]
    else:
        w = np.pi / 2
        cols = [np.cos((k // 2 + 1) * w * U) if k % 2 == 0 else np.sin((k // 2 + 1) * w * U)
                for k in range(n_basis)]
    return np.stack(cols, -1)


CASES = [(label, n, dtype) for label in FAMILIES for n in SIZES
         for dtype in (torch.float32, torch.float64)]


@pytest.mark.parametrize(("label", "n_basis", "dtype"), CASES)
def test_eager_and_fused_agree_with_scipy(label, n_basis, dtype):
    name, options = FAMILIES[label]
    ref = _reference(name, options, n_basis)
    basis = make_basis(name, n_basis, **options)
    u = torch.as_tensor(U, dtype=dtype)
    tol = HERMITE_F32 if (name == "hermite" and dtype == torch.float32) else TOL[dtype]
    vals = basis(u).double().numpy()
    assert np.abs(vals - ref).max(0).max() <= tol * 5 * np.abs(ref).max()
    coef = np.random.default_rng(n_basis).standard_normal(n_basis)
    f_ref = ref @ coef
    for fused in (False, True):
        act = TAAF(1, basis, normalization="none", fused=fused).to(dtype)
        with torch.no_grad():
            act.weight.copy_(torch.as_tensor(np.append(coef, 0.5)))
        out = act(u[:, None])[:, 0].detach().double().numpy()
        err = np.abs(out - 0.5 - f_ref).max() / np.abs(f_ref).max()
        assert err <= tol, (fused, err)


@pytest.mark.parametrize("n_basis", [32, 48])
@pytest.mark.parametrize("label", ["legendre", "chebyshev1", "jacobi", "hermite", "bessel",
                                   "fourier"])
def test_fused_gradcheck_at_large_n_basis(label, n_basis):
    name, options = FAMILIES[label]
    act = TAAF(2, name, n_basis=n_basis, sharing="neuron",
               basis_kwargs=options or None).double()
    gen = torch.Generator().manual_seed(n_basis)
    weight = (torch.randn(act.weight.shape, generator=gen, dtype=torch.float64)
              / math.sqrt(n_basis)).requires_grad_(True)
    z = (torch.rand(3, 2, generator=gen, dtype=torch.float64) * 4 - 2).requires_grad_(True)

    def fn(z, w):
        return torch.func.functional_call(act, {"weight": w}, (z,))

    assert torch.autograd.gradcheck(fn, (z, weight))


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 1.0), (0.0, 0.0), (-0.7, 2.0), (3.0, 0.5)])
@pytest.mark.parametrize("n_basis", [48, 64])
def test_jacobi_maximum_modulus_is_one_at_high_degree(n_basis, alpha, beta):
    grid = torch.as_tensor(np.cos(np.linspace(0.0, np.pi, 4001)))  # includes both end points
    peak = make_basis("jacobi", n_basis, alpha=alpha, beta=beta)(grid).abs().amax(0).numpy()
    np.testing.assert_allclose(peak, 1.0, rtol=1e-12)  # max(alpha, beta) >= -1/2: an end point


@pytest.mark.parametrize(("alpha", "beta"), [(-0.8, -0.8), (-0.9, -0.6)])
def test_jacobi_interior_maximum_is_one_at_high_degree(alpha, beta):
    basis = make_basis("jacobi", 48, alpha=alpha, beta=beta)
    grid = np.cos(np.linspace(0.0, np.pi, 20001))
    values = basis(torch.as_tensor(grid)).abs().numpy()
    assert values.max() <= 1.0 + 1e-12
    for k in (5, 30, 47):
        i = int(values[:, k].argmax())
        res = optimize.minimize_scalar(
            lambda x, k=k: -float(basis(torch.tensor([x], dtype=torch.float64))[0, k].abs()),
            bounds=(grid[i + 1], grid[i - 1]), method="bounded", options={"xatol": 1e-13})
        assert abs(-res.fun - 1.0) < 1e-8


def test_float32_hermite_does_not_overflow_at_degree_64():
    values = make_basis("hermite", 64)(torch.linspace(-1, 1, 101))
    assert torch.isfinite(values).all() and float(values.abs().max()) <= 1.0 + 1e-5
