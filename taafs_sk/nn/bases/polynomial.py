"""Polynomial basis families from their three-term recurrences."""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.polynomial import Polynomial

from ._base import Basis, _check_real, _power_rows
from ._plan import AMPLIFICATION_LIMIT

__all__ = [
    "LegendreBasis", "Chebyshev1Basis", "Chebyshev2Basis", "HermiteBasis", "BesselBasis",
    "JacobiBasis",
]


class _PolynomialBasis(Basis):
    r"""Family :math:`B_n = P_n / s_n` with :math:`P_{n+1} = (A_n u + B_n) P_n - C_n P_{n-1}`.

    Values (and the derivatives) are evaluated by the recurrence of the *scaled* functions,
    :math:`B_{n+1} = (A_n u + B_n)\frac{s_n}{s_{n+1}} B_n - C_n\frac{s_{n-1}}{s_{n+1}}
    B_{n-1}`, which neither overflows nor loses accuracy on [-1, 1]. The fused features are
    the monomials :math:`u^0, ..., u^{K+1}` while the rewrite in monomials amplifies rounding
    by at most :data:`~taafs_sk.nn.bases.AMPLIFICATION_LIMIT` (``representation ==
    'powers'``; low degrees, and Bessel and Hermite at every degree), with ``tanh_slopes``
    (the two spare powers hold :math:`(1 - u^2) B_k'`); above it they are ``[1, B_0..B_{K-1},
    B_0'..B_{K-1}']`` from the recurrence (``representation == 'direct'``), accurate in
    float32 at every degree.
    """

    def __init__(self, n_basis: int) -> None:
        super().__init__(n_basis)
        self._coefs = self._recurrence_coefficients()
        self._set_maps()

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if "_coefs" not in self.__dict__:  # pickled by an older version: monomial maps only
            self._coefs = self._recurrence_coefficients()
            self._set_maps()

    def _monomial_maps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values, slopes, curvatures)`` of the scaled polynomials on ``u^0..u^(K+1)``."""
        polys = [p / s for p, s in zip(self._sequence(Polynomial([0.0, 1.0])), self._scales(),
                                       strict=True)]
        K, m = self.n_basis, self.n_basis + 2  # two spare powers hold (1 - u^2) B_k'(u)
        maps = np.zeros((3, K, m))  # B_k, B_k', B_k'' = sum_j maps[d, k, j] u^j
        for k, p in enumerate(polys):
            for d in range(3):
                coef = p.deriv(d).coef[: k + 1 - d] if k >= d else np.zeros(0)
                maps[d, k, : len(coef)] = coef
        return maps[0], maps[1], maps[2]

    def _set_maps(self) -> None:
        """The monomial maps while they amplify rounding by at most AMPLIFICATION_LIMIT, else
        the values and slopes from the recurrence."""
        values, slopes, curvatures = self._monomial_maps()
        grid = torch.linspace(-1.0, 1.0, 2001, dtype=torch.float64)
        peak = self.values(grid).abs().amax(0).numpy()  # max |B_k| on [-1, 1]
        amplification = float((np.abs(values).sum(1) / peak).max())  # attained at |u| = 1
        if amplification <= AMPLIFICATION_LIMIT:
            self.representation = "powers"
            tanh_slopes = slopes.copy()
            tanh_slopes[:, 2:] -= slopes[:, :-2]  # (1 - u^2) B_k'(u)
            self.set_fused_maps(values, slopes, curvatures, tanh_slopes=tanh_slopes)
        else:
            self.representation = "direct"
            K = self.n_basis
            eye, zero, col = np.eye(K), np.zeros((K, K)), np.zeros((K, 1))
            self.set_fused_maps(np.hstack([col, eye, zero]), np.hstack([col, zero, eye]))

    def _first(self) -> tuple[float, float]:
        """``(a, b)`` with :math:`P_1 = a u + b`."""
        return 1.0, 0.0

    def _step(self, n: int) -> tuple[float, float, float]:
        raise NotImplementedError

    def _scales(self) -> np.ndarray:
        return np.ones(self.n_basis)

    def _sequence(self, x: float | np.ndarray | Polynomial) -> list:
        """Unscaled :math:`P_0, ..., P_{K-1}` at ``x`` (a number, an array or a ``Polynomial``)."""
        a, b = self._first()
        out = [x * 0.0 + 1.0, a * x + b][: self.n_basis]
        for n in range(1, self.n_basis - 1):
            A, B, C = self._step(n)
            out.append((A * x + B) * out[n] - C * out[n - 1])
        return out

    def _recurrence_coefficients(self) -> tuple:
        """``(B_0, (a, b) of B_1, [(alpha_n, beta_n, gamma_n)])`` of the scaled recurrence."""
        s = np.asarray(self._scales(), dtype=np.float64)
        a, b = self._first()
        first = (a / s[1], b / s[1]) if self.n_basis > 1 else (0.0, 0.0)
        steps = []
        for n in range(1, self.n_basis - 1):
            A, B, C = self._step(n)
            steps.append((float(A * s[n] / s[n + 1]), float(B * s[n] / s[n + 1]),
                          float(C * s[n - 1] / s[n + 1])))
        return float(1.0 / s[0]), (float(first[0]), float(first[1])), steps

    def _recurrence(self, u: torch.Tensor, order: int = 0) -> list[torch.Tensor]:
        """:math:`B^{(d)}_k(u)`, ``d = 0..order``, each of shape ``(n_basis,) + u.shape``."""
        c0, (a1, b1), steps = self._coefs
        zero = torch.zeros_like(u)
        rows = [[torch.full_like(u, c0)], [zero], [zero]][: order + 1]
        if self.n_basis > 1:
            rows[0].append(a1 * u + b1)
            if order >= 1:
                rows[1].append(torch.full_like(u, a1))
            if order >= 2:
                rows[2].append(zero)
        for n, (al, be, ga) in enumerate(steps, start=1):
            t = al * u + be
            P = rows[0]
            P.append(t * P[n] - ga * P[n - 1])
            for d in range(1, order + 1):  # d-th derivative of the recurrence
                R, L = rows[d], rows[d - 1]
                R.append(d * al * L[n] + t * R[n] - ga * R[n - 1])
        return [torch.stack(r) for r in rows]

    def values(self, u: torch.Tensor) -> torch.Tensor:
        return self._recurrence(u)[0].movedim(0, -1)

    def second_derivatives(self, u: torch.Tensor) -> torch.Tensor:
        """:math:`B_k''(u)` from the differentiated recurrence."""
        return self._recurrence(u, 2)[2].movedim(0, -1)

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """Powers :math:`u^0, ..., u^{K+1}` (``(n_basis + 2,) + u.shape``) or, for the
        ``'direct'`` representation, ``[1, B, B']`` (``(2 n_basis + 1,) + u.shape``)."""
        if self.representation == "powers":
            return torch.stack(_power_rows(u, self.n_basis + 2))
        values, slopes = self._recurrence(u, 1)
        return torch.cat([torch.ones_like(u)[None], values, slopes])


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

    def _step(self, n: int) -> tuple[float, float, float]:
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

    def _step(self, n: int) -> tuple[float, float, float]:
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

    def _first(self) -> tuple[float, float]:
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

    def _step(self, n: int) -> tuple[float, float, float]:
        return 1.0, 0.0, float(n)

    def _scales(self) -> np.ndarray:
        return np.exp(0.5 * np.array([math.lgamma(n + 1.0) for n in range(self.n_basis)]))


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

    def _first(self) -> tuple[float, float]:
        return 1.0, 1.0

    def _step(self, n: int) -> tuple[float, float, float]:
        return 2.0 * n + 1.0, 0.0, -1.0

    def _scales(self) -> np.ndarray:
        return np.array(self._sequence(1.0), dtype=np.float64)  # y_n(1) > 0, no cancellation


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

    def _first(self) -> tuple[float, float]:
        a, b = self.alpha, self.beta
        return (a + b + 2) / 2, (a - b) / 2

    def _step(self, n: int) -> tuple[float, float, float]:
        a, b = self.alpha, self.beta
        s = 2 * n + a + b
        den = 2 * (n + 1) * (n + a + b + 1) * s
        A = (s + 1) * (s + 2) * s / den
        B = (s + 1) * (a * a - b * b) / den
        C = 2 * (n + a) * (n + b) * (s + 2) / den
        return A, B, C

    def _scales(self) -> np.ndarray:
        r""":math:`\max_{[-1,1]} |P_n^{(\alpha,\beta)}|`. For :math:`q = \max(\alpha,\beta)
        \ge -1/2` it is :math:`\binom{n+q}{n}`, the value at an end point (Szegő, *Orthogonal
        Polynomials*, Thm. 7.32.1); otherwise the maximum is interior and is taken from the
        recurrence evaluated on a dense grid (float64 numbers, stable on [-1, 1])."""
        a, b = self.alpha, self.beta
        q = max(a, b)
        n = np.arange(self.n_basis, dtype=np.float64)
        if q >= -0.5:
            lg = np.vectorize(math.lgamma)
            return np.exp(lg(n + q + 1.0) - lg(n + 1.0) - math.lgamma(q + 1.0))
        grid = np.cos(np.linspace(0.0, np.pi, 4001))
        coarse = np.abs(np.stack(self._sequence(grid)))  # (K, G)
        peaks = coarse.max(1)
        for k, i in enumerate(coarse.argmax(1)):  # refine each interior peak locally
            if 0 < i < len(grid) - 1:
                local = np.linspace(grid[i + 1], grid[i - 1], 2001)
                peaks[k] = max(peaks[k], np.abs(self._sequence(local)[k]).max())
        return peaks

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}, alpha={self.alpha}, beta={self.beta}"
