"""Polynomial basis families from their three-term recurrences."""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.polynomial import Polynomial

from ._base import Basis, _check_real, _powers

__all__ = [
    "LegendreBasis", "Chebyshev1Basis", "Chebyshev2Basis", "HermiteBasis", "BesselBasis",
    "JacobiBasis",
]


class _PolynomialBasis(Basis):
    """Family :math:`B_n = P_n / s_n` with :math:`P_{n+1} = (A_n u + B_n) P_n - C_n P_{n-1}`."""

    def __init__(self, n_basis: int) -> None:
        super().__init__(n_basis)
        scales = self._scales()
        self.register_buffer("inv_scales", torch.as_tensor(1.0 / scales,
                                                           dtype=torch.float64))
        polys = [p / s for p, s in zip(self._sequence(Polynomial([0.0, 1.0])), scales, strict=True)]
        m = self.n_basis + 2  # two spare powers hold (1 - u^2) B_k'(u), the tanh chain rule
        monomial = np.zeros((self.n_basis, m))  # B_k = sum_j monomial[k, j] u^j
        slopes = np.zeros((self.n_basis, m))
        for k, p in enumerate(polys):
            coef = p.coef[: k + 1]
            monomial[k, : len(coef)] = coef
            dp = p.deriv().coef[:k] if k > 0 else np.zeros(1)
            slopes[k, : len(dp)] = dp
        self.set_fused_maps(monomial, slopes)
        folded = slopes.copy()
        folded[:, 2:] -= slopes[:, :-2]  # (1 - u^2) B_k'(u)
        self.register_buffer("tanh_slopes", torch.as_tensor(folded, dtype=torch.float64))

    def _first(self) -> tuple[float, float]:
        """``(a, b)`` with :math:`P_1 = a u + b`."""
        return 1.0, 0.0

    def _step(self, n: int) -> tuple[float, float, float]:
        raise NotImplementedError

    def _scales(self) -> np.ndarray:
        return np.ones(self.n_basis)

    def _sequence(self, x):
        """:math:`P_0, ..., P_{K-1}` at ``x`` (a tensor or a numpy ``Polynomial``)."""
        a, b = self._first()
        out = [x * 0.0 + 1.0, a * x + b][: self.n_basis]
        for n in range(1, self.n_basis - 1):
            A, B, C = self._step(n)
            out.append((A * x + B) * out[n] - C * out[n - 1])
        return out

    def values(self, u: torch.Tensor) -> torch.Tensor:
        return torch.stack(self._sequence(u), dim=-1) * self.inv_scales.to(u.dtype)

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """Powers :math:`u^0, ..., u^{K+1}`, shape ``(n_basis + 2,) + u.shape``."""
        return _powers(u.new_empty((self.n_basis + 2, *u.shape)), u)


class LegendreBasis(_PolynomialBasis):
    r"""Legendre polynomials :math:`P_0, ..., P_{K-1}` (:math:`|P_n| \le 1` on [-1, 1]).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import LegendreBasis
    >>> LegendreBasis(3)(torch.tensor([0.5]))
    tensor([[ 1.0000,  0.5000, -0.1250]])
    """

    name = "legendre"

    def _step(self, n):
        return (2 * n + 1) / (n + 1), 0.0, n / (n + 1)


class Chebyshev1Basis(_PolynomialBasis):
    r"""Chebyshev polynomials of the first kind, :math:`T_n(\cos t) = \cos(n t)`.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import Chebyshev1Basis
    >>> Chebyshev1Basis(4)(torch.tensor([0.5]))
    tensor([[ 1.0000,  0.5000, -0.5000, -1.0000]])
    """

    name = "chebyshev1"

    def _step(self, n):
        return 2.0, 0.0, 1.0


class Chebyshev2Basis(Chebyshev1Basis):
    r"""Chebyshev polynomials of the second kind, :math:`U_n(\cos t)\sin t = \sin((n+1)t)`.

    Not rescaled: :math:`\max_{[-1,1]} |U_n| = U_n(1) = n + 1`.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import Chebyshev2Basis
    >>> Chebyshev2Basis(3)(torch.tensor([1.0]))
    tensor([[1., 2., 3.]])
    """

    name = "chebyshev2"

    def _first(self):
        return 2.0, 0.0


class HermiteBasis(_PolynomialBasis):
    r"""Normalised probabilists' Hermite polynomials :math:`He_n(u) / \sqrt{n!}`.

    :math:`He_{n+1} = u He_n - n He_{n-1}`; the division by :math:`\sqrt{n!}` makes the family
    orthonormal under the standard normal weight and keeps values on [-1, 1] of order one
    (:math:`|He_n(u)|/\sqrt{n!} \le 1` there for the first dozens of degrees).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import HermiteBasis
    >>> HermiteBasis(3)(torch.tensor([0.0]))
    tensor([[ 1.0000,  0.0000, -0.7071]])
    """

    name = "hermite"

    def _step(self, n):
        return 1.0, 0.0, float(n)

    def _scales(self):
        # n! exceeds int64 from n = 21 on: convert the exact integers to float64 first
        return np.sqrt(np.array([math.factorial(n) for n in range(self.n_basis)],
                                dtype=np.float64))


class BesselBasis(_PolynomialBasis):
    r"""Bessel polynomials :math:`y_n(u) = \sum_{k=0}^{n} \frac{(n+k)!}{(n-k)!\,k!}(u/2)^k`,
    divided by :math:`y_n(1)` so that their maximum on [-1, 1] is 1.

    Recurrence :math:`y_{n+1} = (2n+1)\, u\, y_n + y_{n-1}`, :math:`y_0 = 1`, :math:`y_1 = 1 + u`.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import BesselBasis
    >>> BesselBasis(3)(torch.tensor([1.0]))
    tensor([[1., 1., 1.]])
    """

    name = "bessel"

    def _first(self):
        return 1.0, 1.0

    def _step(self, n):
        return 2.0 * n + 1.0, 0.0, -1.0

    def _scales(self):
        return np.array([float(p(1.0)) for p in self._sequence(Polynomial([0.0, 1.0]))])


class JacobiBasis(_PolynomialBasis):
    r"""Jacobi polynomials :math:`P_n^{(\alpha,\beta)}`, each divided by its maximum modulus on
    [-1, 1], so that ``alpha=beta=0`` gives the Legendre polynomials.

    Parameters
    ----------
    n_basis : int
        Number of polynomials (degrees 0 to ``n_basis - 1``).
    alpha, beta : float, default=1.0
        Jacobi parameters, both > -1.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import JacobiBasis
    >>> JacobiBasis(3, alpha=0.0, beta=0.0)(torch.tensor([0.5]))
    tensor([[ 1.0000,  0.5000, -0.1250]])
    """

    name = "jacobi"

    def __init__(self, n_basis: int, alpha: float = 1.0, beta: float = 1.0) -> None:
        self.alpha = _check_real("basis 'jacobi'", "alpha", alpha, -1.0)
        self.beta = _check_real("basis 'jacobi'", "beta", beta, -1.0)
        super().__init__(n_basis)

    def _first(self):
        a, b = self.alpha, self.beta
        return (a + b + 2) / 2, (a - b) / 2

    def _step(self, n):
        a, b = self.alpha, self.beta
        s = 2 * n + a + b
        den = 2 * (n + 1) * (n + a + b + 1) * s
        A = (s + 1) * (s + 2) * s / den
        B = (s + 1) * (a * a - b * b) / den
        C = 2 * (n + a) * (n + b) * (s + 2) / den
        return A, B, C

    def _scales(self):
        grid = np.cos(np.linspace(0.0, np.pi, 4001))
        return np.array([np.abs(p(grid)).max()
                         for p in self._sequence(Polynomial([0.0, 1.0]))])

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}, alpha={self.alpha}, beta={self.beta}"
