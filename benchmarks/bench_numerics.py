"""Accuracy of the basis families at large ``n_basis``: eager and fused vs independent references.

For every polynomial family (and the Fourier series, whose fused form is a polynomial in
``cos``), each ``n_basis`` and float32/float64, on 401 points of [-1, 1]:

- ``values``: max over k of ``max_u |B_k(u) - R_k(u)| / max_u |R_k|`` (eager ``basis(u)``),
  with ``R`` from scipy.special (Bessel polynomials: their closed-form sum in 50-digit mpmath;
  Fourier: numpy cos/sin);
- ``eager``, ``fused``: ``max |f(u) - f_ref(u)| / max |f_ref|`` for an activation
  ``f = sum_k c_k B_k`` with fixed random ``c ~ N(0, 1)`` (``TAAF(..., fused=False/True)`` with
  ``normalization='none'``, so that ``u = z``);
- ``slope``: the fused ``df/dz`` against the float64 eager one (autograd through the
  recurrence), relative to its maximum;
- ``max|B|``: largest deviation of ``max_u |B_k|`` from 1 for the families documented to have
  ``max |B_k| = 1`` (Legendre, Chebyshev T, Bessel, Jacobi): a 20001-point grid, refined by a
  bounded scalar search around an interior maximum.

Run: ``TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/bench_numerics.py``
(about a minute on 2 cores); ``--rst`` prints the table as an RST ``csv-table`` for
``docs/numerics.rst``.
"""

from __future__ import annotations

import argparse
import math

import mpmath
import numpy as np
import torch
from scipy import optimize, special

from taafs_sk.nn import TAAF
from taafs_sk.nn.bases import make_basis

SIZES = (8, 16, 32, 48, 64)
FAMILIES = {  # label -> (name, options)
    "legendre": ("legendre", {}),
    "chebyshev1": ("chebyshev1", {}),
    "chebyshev2": ("chebyshev2", {}),
    "hermite": ("hermite", {}),
    "bessel": ("bessel", {}),
    "jacobi(1,1)": ("jacobi", {}),
    "jacobi(-0.7,2)": ("jacobi", {"alpha": -0.7, "beta": 2.0}),
    "jacobi(-0.8,-0.8)": ("jacobi", {"alpha": -0.8, "beta": -0.8}),
    "fourier": ("fourier", {}),
}
UNIT_MAX = ("legendre", "chebyshev1", "bessel", "jacobi")


def _bessel(n: int, u: np.ndarray) -> np.ndarray:
    with mpmath.workdps(50):
        coef = [mpmath.factorial(n + k) / (mpmath.factorial(n - k) * mpmath.factorial(k))
                / mpmath.mpf(2) ** k for k in range(n + 1)]
        top = mpmath.fsum(coef)
        return np.array([float(mpmath.polyval(coef[::-1], mpmath.mpf(float(x))) / top)
                         for x in u])


def _jacobi_scale(n: int, a: float, b: float) -> float:
    q = max(a, b)
    if q >= -0.5:
        return math.exp(math.lgamma(n + q + 1) - math.lgamma(n + 1) - math.lgamma(q + 1))
    fine = np.cos(np.linspace(0.0, np.pi, 20001))
    i = int(np.abs(special.eval_jacobi(n, a, b, fine)).argmax())
    if i in (0, len(fine) - 1):
        return float(abs(special.eval_jacobi(n, a, b, fine[i])))
    res = optimize.minimize_scalar(lambda x: -abs(special.eval_jacobi(n, a, b, x)),
                                   bounds=(fine[i + 1], fine[i - 1]), method="bounded",
                                   options={"xatol": 1e-13})
    return float(-res.fun)


def _peak(basis, k: int) -> float:
    """``max |B_k|`` on [-1, 1]: a 20001-point grid, then a bounded search around its argmax."""
    fine = np.cos(np.linspace(0.0, np.pi, 20001))
    vals = basis(torch.as_tensor(fine))[:, k].abs().numpy()
    i = int(vals.argmax())
    if i in (0, len(fine) - 1):
        return float(vals[i])

    def neg(x: float) -> float:
        return -float(basis(torch.tensor([x], dtype=torch.float64))[0, k].abs())

    res = optimize.minimize_scalar(neg, bounds=(fine[i + 1], fine[i - 1]), method="bounded",
                                   options={"xatol": 1e-13})
    return max(float(vals[i]), -float(res.fun))


def reference(name: str, options: dict, n_basis: int, u: np.ndarray) -> np.ndarray:
    """Independent values ``(len(u), n_basis)`` of a family."""
    n = range(n_basis)
    if name == "legendre":
        cols = [special.eval_legendre(k, u) for k in n]
    elif name == "chebyshev1":
        cols = [special.eval_chebyt(k, u) for k in n]
    elif name == "chebyshev2":
        cols = [special.eval_chebyu(k, u) for k in n]
    elif name == "hermite":
        cols = [special.eval_hermitenorm(k, u) / math.exp(0.5 * math.lgamma(k + 1)) for k in n]
    elif name == "bessel":
        cols = [_bessel(k, u) for k in n]
    elif name == "jacobi":
        a, b = options.get("alpha", 1.0), options.get("beta", 1.0)
        cols = [special.eval_jacobi(k, a, b, u) / _jacobi_scale(k, a, b) for k in n]
    else:  # fourier, period 4
        w = 2 * np.pi / options.get("period", 4.0)
        cols = [np.cos((k // 2 + 1) * w * u) if k % 2 == 0 else np.sin((k // 2 + 1) * w * u)
                for k in n]
    return np.stack(cols, -1)


def measure(name: str, options: dict, n_basis: int, dtype: torch.dtype, points: int = 401):
    """The row of the table for one family, size and dtype (see the module docstring)."""
    u = np.linspace(-1.0, 1.0, points)
    ref = reference(name, options, n_basis, u)
    coef = np.random.default_rng(0).standard_normal(n_basis)
    f_ref = ref @ coef
    scale = np.abs(f_ref).max()
    ut = torch.as_tensor(u, dtype=dtype)
    basis = make_basis(name, n_basis, **options)
    vals = basis(ut).double().numpy()
    row = {"values": float((np.abs(vals - ref).max(0) / np.abs(ref).max(0)).max())}
    weight = torch.as_tensor(np.append(coef, 0.0), dtype=dtype)
    slopes = {}
    for fused in (False, True):
        act = TAAF(1, basis, normalization="none", fused=fused).to(dtype)
        with torch.no_grad():
            act.weight.copy_(weight)
        z = ut[:, None].clone().requires_grad_(True)
        y = act(z)
        (slopes[fused],) = torch.autograd.grad(y.sum(), z)
        err = np.abs(y.detach().double().numpy()[:, 0] - f_ref).max() / scale
        row["fused" if fused else "eager"] = float(err)
    eager64 = TAAF(1, basis, normalization="none", fused=False).double()
    with torch.no_grad():
        eager64.weight.copy_(weight.double())
    z64 = torch.as_tensor(u)[:, None].requires_grad_(True)
    (slope_ref,) = torch.autograd.grad(eager64(z64).sum(), z64)
    inner = slice(1, -1)  # the clamp of normalization='none' has a one-sided slope at +-1
    diff = (slopes[True].double() - slope_ref)[inner].abs().max()
    row["slope"] = float(diff / slope_ref[inner].abs().max())
    if name in UNIT_MAX and dtype == torch.float64:
        row["max|B|"] = max(abs(_peak(basis, k) - 1.0) for k in range(n_basis))
    row["representation"] = getattr(basis, "representation", "")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rst", action="store_true", help="print an RST csv-table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cols = ["values", "eager", "fused", "slope"]
    header = ["family", "n_basis", "fused features",
              *[f"{c} f32" for c in cols], *[f"{c} f64" for c in cols], "max|B| - 1"]
    rows = []
    for label, (name, options) in FAMILIES.items():
        for n_basis in SIZES:
            r32, r64 = (measure(name, options, n_basis, dt)
                        for dt in (torch.float32, torch.float64))
            rows.append([label, str(n_basis), r64["representation"],
                         *[f"{r32[c]:.1e}" for c in cols], *[f"{r64[c]:.1e}" for c in cols],
                         f"{r64['max|B|']:.1e}" if "max|B|" in r64 else "-"])
    if args.rst:
        print(".. csv-table::\n   :header: " + ", ".join(f'"{h}"' for h in header) + "\n")
        for line in rows:
            print("   " + ", ".join(line))
        return
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        print("  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
