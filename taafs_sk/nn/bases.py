r"""Basis families on :math:`[-1, 1]` for trainable activation functions.

Each basis is a small :class:`torch.nn.Module` whose ``forward(u)`` maps a tensor ``u`` of any
shape to ``u.shape + (n_basis,)``. Inputs are clamped to :math:`[-1, 1]` first, so every finite
input gives finite values and gradients.

Besides the reference evaluation in ``forward`` (three-term recurrences, closed forms), every
basis offers a second, *fused* representation used by :mod:`taafs_sk.nn._fused`:
``features(u)`` returns a small stack of ``m`` working features ``S`` of shape
``(m,) + u.shape`` and two fixed matrices, ``maps[0]`` and ``maps[1]`` of shape
``(n_basis, m)``, with

.. math::

    B_k(u) = \sum_j \mathrm{maps}_{0,kj} S_j(u), \qquad
    B_k'(u) = \sum_j \mathrm{maps}_{1,kj} S_j(u).

An activation :math:`\sum_k c_k B_k` and its slope are then one small matrix product
``(c @ maps) @ S``. Polynomial families use powers of ``u`` (the maps hold the exact change of
basis to monomials), B-splines use powers plus truncated powers at the interior knots,
Fourier series use harmonics from the angle-addition recurrence and Gaussian RBFs use
:math:`\phi_k` and :math:`u\phi_k`. ``amplification`` measures how much rounding error the
change of basis can amplify; the fused code switches to float64 where it is large.
"""

from __future__ import annotations

import inspect
import math
from typing import ClassVar

import numpy as np
import torch
from numpy.polynomial import Polynomial
from torch import nn

__all__ = [
    "Basis", "BSplineBasis", "FourierBasis", "GaussianRBFBasis", "LegendreBasis",
    "HermiteBasis", "Chebyshev1Basis", "Chebyshev2Basis", "BesselBasis", "JacobiBasis",
    "BASES", "make_basis", "available_bases",
]


def _check_int(owner: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} of {owner} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_real(owner: str, name: str, value, lower: float, strict: bool = True) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > lower if strict else value >= lower)
    if not ok:
        relation = ">" if strict else ">="
        raise ValueError(f"{name} of {owner} must be a finite number {relation} {lower}, "
                         f"got {value!r}.")
    return float(value)


def _powers(S: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
    """Fill ``S[j] = x**j`` for all rows of ``S`` by repeated doubling (log2 many products)."""
    S[0].fill_(1.0)
    if len(S) > 1 and x is not None:  # x None: S[1] already holds x
        S[1].copy_(x)
    n = 1
    while n + 1 < len(S):  # rows n+1..2n from rows 1..n times x^n
        hi = min(2 * n, len(S) - 1)
        torch.mul(S[1: hi - n + 1], S[n], out=S[n + 1: hi + 1])
        n = hi
    return S


class Basis(nn.Module):
    """Base class of the basis families: ``u`` (any shape) -> ``u.shape + (n_basis,)``.

    Subclasses implement ``_values(u)`` (reference evaluation on clamped ``u``),
    ``features(u)`` and call ``_set_maps`` at the end of ``__init__``.

    Parameters
    ----------
    n_basis : int
        Number of basis functions.
    """

    name: ClassVar[str] = ""
    min_basis: ClassVar[int] = 1

    def __init__(self, n_basis: int) -> None:
        super().__init__()
        self.n_basis = _check_int(f"basis {self.name!r}", "n_basis", n_basis, self.min_basis)
        self.amplification = 1.0

    def _apply(self, fn, recurse: bool = True):
        """Move the tables with the module, but never round them: a cast of the network
        (``.float()``, ``.half()``) keeps every float64 buffer in float64 (each use casts it to
        the input's dtype), and drops the fused-kernel plans built for the old device."""
        precise = {k: b for k, b in self._buffers.items()
                   if b is not None and b.dtype == torch.float64}
        super()._apply(fn, recurse)
        for k, old in precise.items():
            new = self._buffers[k]
            if new.dtype != torch.float64:
                self._buffers[k] = old.to(new.device)
        self.__dict__.pop("_fused_plans", None)
        return self

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Values of all basis functions at ``u``: shape ``u.shape + (n_basis,)``."""
        return self._values(u.clamp(-1.0, 1.0))

    def _values(self, u: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """Working features ``(m,) + u.shape`` of the fused representation (``u`` in [-1, 1])."""
        raise NotImplementedError

    def _set_maps(self, values: np.ndarray, slopes: np.ndarray) -> None:
        """Register ``maps`` (2, n_basis, m) and measure the rounding amplification."""
        maps = np.stack([values, slopes]).astype(np.float64)
        self.register_buffer("maps", torch.as_tensor(maps, dtype=torch.float64))
        grid = torch.linspace(-1.0, 1.0, 1001, dtype=torch.float64)
        feats = self.features(grid).reshape(maps.shape[2], -1)  # (m, G)
        vals = self._values(grid)  # (G, K)
        terms = (torch.as_tensor(maps[0])[:, :, None] * feats[None]).abs().sum(1)  # (K, G)
        scale = vals.abs().amax(0).clamp_min(1e-12)  # (K,)
        self.amplification = float((terms.amax(1) / scale).max())

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}"


# ----------------------------------------------------------------------------- polynomials
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
        self._set_maps(monomial, slopes)
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

    def _values(self, u: torch.Tensor) -> torch.Tensor:
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


# ------------------------------------------------------------------------- grid families
class BSplineBasis(Basis):
    r"""B-splines of degree ``order`` on a uniform grid over [-1, 1] with extended knots.

    With :math:`G = K - k` intervals of width :math:`h = 2/G`, the knots are
    :math:`t_i = -1 + (i - k) h`, :math:`i = 0, ..., K + k`, and
    :math:`B_i(u) = N_k((u - t_i)/h)` with the cardinal B-spline

    .. math::

        N_k(x) = \frac{1}{k!} \sum_{j < (k+1)/2} (-1)^j \binom{k+1}{j}
                 \bigl(\tfrac{k+1}{2} - |x - \tfrac{k+1}{2}| - j\bigr)_+^k ,

    a closed form (symmetric truncated-power sum) that is exactly zero outside the support.
    The functions form a partition of unity on [-1, 1].

    Parameters
    ----------
    n_basis : int
        Number of B-splines; must exceed ``order``.
    order : int, default=3
        Polynomial degree :math:`k` (3: cubic splines), at least 1.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import BSplineBasis
    >>> float(BSplineBasis(6)(torch.tensor([0.3])).sum())
    1.0
    """

    name = "bspline"

    def __init__(self, n_basis: int, order: int = 3) -> None:
        self.order = _check_int("basis 'bspline'", "order", order, 1)
        super().__init__(n_basis)
        if self.n_basis <= self.order:
            raise ValueError(f"n_basis of basis 'bspline' must exceed order={self.order}, got "
                             f"{n_basis!r}; use n_basis >= {self.order + 1} or a lower order.")
        k, K = self.order, self.n_basis
        self.h = 2.0 / (K - k)
        knots = -1.0 + (np.arange(K + k + 1) - k) * self.h
        dtype = torch.float64
        self.register_buffer("knots", torch.as_tensor(knots, dtype=dtype))
        self.register_buffer("interior_knots", torch.as_tensor(knots[k + 1: K], dtype=dtype))
        self._set_maps(*self._truncated_power_maps(knots))

    def _truncated_power_maps(self, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact maps onto ``[u^0..u^k, (u - tau)_+^k, (u - tau)_+^(k-1)]`` on [-1, 1]."""
        k, K = self.order, self.n_basis
        n_int = K - k - 1
        m = k + 1 + 2 * n_int
        top, low = self._blocks()
        values, slopes = np.zeros((K, m)), np.zeros((K, m))
        for i in range(K):
            for j in range(k + 2):
                w = (-1) ** j * math.comb(k + 1, j) / (math.factorial(k) * self.h ** k)
                idx = i + j
                if idx <= k:  # knot <= -1: a full polynomial (u - t)^k on [-1, 1]
                    p = Polynomial([-knots[idx], 1.0]) ** k
                    values[i, : k + 1] += w * p.coef
                    slopes[i, :k] += w * p.deriv().coef
                elif idx < K:  # interior knot: truncated powers
                    values[i, top + idx - k - 1] += w
                    slopes[i, low + idx - k - 1] += w * k
        return values, slopes

    def _values(self, u: torch.Tensor) -> torch.Tensor:
        k = self.order
        c = (k + 1) / 2
        t = self.knots[: self.n_basis].to(u.dtype)
        x = c - ((u[..., None] - t) / self.h - c).abs()  # (..., K)
        out = torch.zeros_like(x)
        for j in range(math.ceil(c)):
            out = out + (-1) ** j * math.comb(k + 1, j) * (x - j).clamp_min(0.0) ** k
        return out / math.factorial(k)

    def _blocks(self) -> tuple[int, int]:
        """Feature rows where the truncated powers of degree ``k`` and ``k - 1`` start."""
        k, n_int = self.order, self.n_basis - self.order - 1
        first, second = k + 1, k + 1 + n_int
        return (first, second) if k in (1, 3) else (second, first)

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """``[u^0..u^k]`` and the truncated powers ``(u - tau)_+^k``, ``(u - tau)_+^(k-1)``
        over the interior knots ``tau`` (block order from ``_blocks``)."""
        k, n_int = self.order, self.n_basis - self.order - 1
        S = u.new_empty((k + 1 + 2 * n_int, *u.shape))
        _powers(S[: k + 1], u)
        if n_int:
            tau = self.interior_knots.to(u.dtype).view(-1, *([1] * u.dim()))
            A, B = S[k + 1: k + 1 + n_int], S[k + 1 + n_int:]
            torch.sub(u, tau, out=A).clamp_min_(0.0)  # r = (u - tau)_+
            if k == 1:
                B.copy_(A > 0)  # A: r, B: step
            elif k == 3:
                torch.mul(A, A, out=B)
                A.mul_(B)  # A: r^3, B: r^2
            else:
                r = A.clone()
                torch.mul(A, A, out=B)  # B: r^2, A: r
                for _ in range(k - 2):
                    A.copy_(B)
                    B.mul_(r)  # B: r^k, A: r^(k-1)
        return S

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}, order={self.order}"


class FourierBasis(Basis):
    r"""Fourier harmonics :math:`\cos(j\omega u), \sin(j\omega u)`, :math:`j = 1, 2, ...`,
    interleaved (cos first) and truncated to ``n_basis`` functions, :math:`\omega = 2\pi/P`.

    There is no constant term: the activation's bias plays that role. The fused features are
    :math:`c^i` and :math:`s\,c^i` with :math:`c = \cos\omega u`, :math:`s = \sin\omega u`,
    since :math:`\cos j\theta = T_j(\cos\theta)` and
    :math:`\sin j\theta = \sin\theta\, U_{j-1}(\cos\theta)`: two transcendental
    evaluations per input instead of ``n_basis``.

    Parameters
    ----------
    n_basis : int
        Number of harmonic functions.
    period : float, default=4.0
        Fundamental period :math:`P` in ``u``. The default, twice the length of [-1, 1], lets
        the series represent non-periodic shapes such as :math:`\tanh`; ``period=2`` is the
        classical series, which forces equal values at :math:`u = \pm 1`.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import FourierBasis
    >>> FourierBasis(2, period=4.0)(torch.tensor([1.0], dtype=torch.float64)).round(decimals=4)
    tensor([[0., 1.]], dtype=torch.float64)
    """

    name = "fourier"

    def __init__(self, n_basis: int, period: float = 4.0) -> None:
        self.period = _check_real("basis 'fourier'", "period", period, 0.0)
        super().__init__(n_basis)
        self.omega = 2.0 * math.pi / self.period
        K = self.n_basis
        nc = self.n_cos = (K + 1) // 2
        harmonic = np.arange(K) // 2 + 1
        self.register_buffer("frequencies", torch.as_tensor(self.omega * harmonic,
                                                            dtype=torch.float64))
        x = Polynomial([0.0, 1.0])
        T, U = [x * 0 + 1, x], [x * 0 + 1, 2 * x]  # Chebyshev T_j(c), U_j(c)
        for _ in range(nc):
            T.append(2 * x * T[-1] - T[-2])
            U.append(2 * x * U[-1] - U[-2])

        def row(p: Polynomial, odd: bool) -> np.ndarray:
            out = np.zeros(2 * nc + 1)  # features [c^0..c^nc, s c^0 .. s c^(nc-1)]
            coef = p.coef[: nc + 1 - odd]
            out[(nc + 1 if odd else 0) + np.arange(len(coef))] = coef
            return out

        values, slopes = np.zeros((K, 2 * nc + 1)), np.zeros((K, 2 * nc + 1))
        for b, j in enumerate(harmonic):
            if b % 2 == 0:  # cos(j w u) = T_j(c); slope -j w sin(j w u) = -j w s U_{j-1}(c)
                values[b], slopes[b] = row(T[j], False), -j * self.omega * row(U[j - 1], True)
            else:  # sin(j w u) = s U_{j-1}(c); slope j w cos(j w u) = j w T_j(c)
                values[b], slopes[b] = row(U[j - 1], True), j * self.omega * row(T[j], False)
        self._set_maps(values, slopes)

    def _values(self, u: torch.Tensor) -> torch.Tensor:
        theta = u[..., None] * self.frequencies.to(u.dtype)
        is_cos = torch.arange(self.n_basis, device=u.device) % 2 == 0
        return torch.where(is_cos, torch.cos(theta), torch.sin(theta))

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """``[c^0, ..., c^nc, s c^0, ..., s c^(nc-1)]``, ``nc = ceil(n_basis / 2)``."""
        nc = self.n_cos
        S = u.new_empty((2 * nc + 1, *u.shape))
        theta = u * self.omega
        torch.cos(theta, out=S[1])
        _powers(S[: nc + 1], None)
        torch.sin(theta, out=S[nc + 1])
        if nc > 1:
            torch.mul(S[1:nc], S[nc + 1], out=S[nc + 2:])
        return S

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}, period={self.period}"


class GaussianRBFBasis(Basis):
    r"""Gaussian radial basis functions :math:`\exp(-((u - \mu_k)/h)^2)` on a uniform grid.

    On a uniform grid :math:`\mu_k = \mu_0 + k\delta`,
    :math:`\phi_k = \phi_0(u)\, q(u)^k e^{-k^2\delta^2/h^2}` with
    :math:`q = e^{2\delta(u-\mu_0)/h^2}`: the fused features need two exponentials per input
    instead of ``n_basis`` (used while :math:`4/h^2 \le 80`, so that nothing overflows in
    float32; narrower widths use the direct form).

    Parameters
    ----------
    n_basis : int
        Number of centres :math:`\mu_k`, evenly spaced over [-1, 1] (a single one sits at 0).
    width : float, default=None
        Width :math:`h`; by default the grid spacing :math:`2/(K-1)` (1 when ``n_basis=1``).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import GaussianRBFBasis
    >>> GaussianRBFBasis(3)(torch.tensor([0.0]))
    tensor([[0.3679, 1.0000, 0.3679]])
    """

    name = "grbf"

    def __init__(self, n_basis: int, width: float | None = None) -> None:
        super().__init__(n_basis)
        K = self.n_basis
        default = 2.0 / (K - 1) if K > 1 else 1.0
        self.width = default if width is None else _check_real("basis 'grbf'", "width", width, 0)
        centers = np.linspace(-1.0, 1.0, K) if K > 1 else np.zeros(1)
        self.register_buffer("centers", torch.as_tensor(centers, dtype=torch.float64))
        h2 = self.width**2
        self.delta = 2.0 / (K - 1) if K > 1 else 0.0
        self.ref = (K - 1) // 2  # the geometric recurrence starts at the middle centre
        span = max(self.ref, K - 1 - self.ref) * self.delta
        self.geometric = max(1.3 / h2, span**2 / h2) <= 80.0  # no float32 over/underflow
        shift = centers - centers[self.ref]
        gamma = np.exp(-(shift**2) / h2) if self.geometric else np.ones(K)
        # features [1, F_k, (u - mu_r) F_k], phi_k = gamma_k F_k;
        # phi_k' = -2 (u - mu_k) / h^2 phi_k = -2 / h^2 ((u - mu_r) - (mu_k - mu_r)) phi_k
        values = np.hstack([np.zeros((K, 1)), np.diag(gamma), np.zeros((K, K))])
        slopes = np.hstack([np.zeros((K, 1)), np.diag(2.0 * shift * gamma / h2),
                            np.diag(-2.0 * gamma / h2)])
        self._set_maps(values, slopes)

    def _values(self, u: torch.Tensor) -> torch.Tensor:
        return torch.exp(-(((u[..., None] - self.centers.to(u.dtype)) / self.width) ** 2))

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """``[1, F_k, (u - mu_r) F_k]`` with ``F_k = phi_r q^(k - r)`` (geometric) or ``phi_k``."""
        K, h2, r = self.n_basis, self.width**2, self.ref
        S = u.new_empty((2 * K + 1, *u.shape))
        S[0].fill_(1.0)
        d = u - float(self.centers[r])  # u - mu_r
        F = S[1: K + 1]
        if self.geometric:
            torch.exp(d.square().mul_(-1.0 / h2), out=F[r])
            if K > 1:
                q = torch.exp(d * (2.0 * self.delta / h2))
                for j in range(r + 1, K):
                    torch.mul(F[j - 1], q, out=F[j])
                if r > 0:
                    q.reciprocal_()
                    for j in range(r - 1, -1, -1):
                        torch.mul(F[j + 1], q, out=F[j])
        else:
            mu = (self.centers.to(u.dtype) / self.width).view(-1, *([1] * u.dim()))
            torch.exp(torch.sub(u * (1.0 / self.width), mu).square_().neg_(), out=F)
        torch.mul(F, d, out=S[K + 1:])
        return S

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}, width={self.width:.4g}"


# ---------------------------------------------------------------------------- registry
BASES: dict[str, type[Basis]] = {
    cls.name: cls
    for cls in (BSplineBasis, FourierBasis, GaussianRBFBasis, LegendreBasis, HermiteBasis,
                Chebyshev1Basis, Chebyshev2Basis, BesselBasis, JacobiBasis)
}


def available_bases() -> list[str]:
    """Names of the registered basis families, in the TAAFS paper's order.

    Examples
    --------
    >>> from taafs_sk.nn.bases import available_bases
    >>> available_bases()[:3]
    ['bspline', 'fourier', 'grbf']
    """
    return list(BASES)


def make_basis(name: str, n_basis: int, **kwargs) -> Basis:
    """Build the basis family ``name`` with ``n_basis`` functions.

    Parameters
    ----------
    name : str
        One of :func:`available_bases`.
    n_basis : int
        Number of basis functions.
    **kwargs
        Family options: ``order`` (bspline), ``period`` (fourier), ``width`` (grbf),
        ``alpha`` and ``beta`` (jacobi).

    Returns
    -------
    basis : Basis
        The module.

    Raises
    ------
    ValueError
        For an unknown name, an impossible ``n_basis`` or an unknown or invalid option.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import make_basis
    >>> make_basis("jacobi", 5, alpha=0.5, beta=0.5)(torch.zeros(7, 3)).shape
    torch.Size([7, 3, 5])
    """
    if name not in BASES:
        raise ValueError(f"Unknown basis {name!r}; valid names are {available_bases()}.")
    cls = BASES[name]
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self",
                                                                                    "n_basis")]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for basis {name!r}; it accepts "
                         f"{allowed or 'no options'}.")
    return cls(n_basis, **kwargs)
