"""Basis families on a uniform grid or spectrum: B-splines, Fourier harmonics, Gaussian RBFs."""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.polynomial import Polynomial

from ._base import Basis, _check_int, _check_real, _power_rows
from ._plan import AMPLIFICATION_LIMIT

__all__ = ["BSplineBasis", "FourierBasis", "GaussianRBFBasis"]


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
    representation = "powers"

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
        self.set_fused_maps(*self._truncated_power_maps(knots))

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if self.curvature_maps is None:  # pickled by an older version
            self.set_fused_maps(*self._truncated_power_maps(self.knots.cpu().numpy()))

    def _truncated_power_maps(self, knots: np.ndarray) -> tuple[np.ndarray, ...]:
        """Exact maps onto ``[u^0..u^k, (u - tau)_+^k, (u - tau)_+^(k-1)]`` on [-1, 1], and the
        curvature maps onto :meth:`curvature_features`."""
        k, K = self.order, self.n_basis
        n_int = K - k - 1
        m = k + 1 + 2 * n_int
        top, low = self._blocks()
        values, slopes = np.zeros((K, m)), np.zeros((K, m))
        curvatures = np.zeros((K, m if k < 2 else k - 1 + n_int))
        for i in range(K):
            for j in range(k + 2):
                w = (-1) ** j * math.comb(k + 1, j) / (math.factorial(k) * self.h ** k)
                idx = i + j
                if idx <= k:  # knot <= -1: a full polynomial (u - t)^k on [-1, 1]
                    p = Polynomial([-knots[idx], 1.0]) ** k
                    values[i, : k + 1] += w * p.coef
                    slopes[i, :k] += w * p.deriv().coef
                    if k >= 2:
                        curvatures[i, : k - 1] += w * p.deriv(2).coef
                elif idx < K:  # interior knot: truncated powers
                    values[i, top + idx - k - 1] += w
                    slopes[i, low + idx - k - 1] += w * k
                    if k >= 2:
                        curvatures[i, idx - 2] += w * k * (k - 1)  # column k - 1 + (idx - k - 1)
        return values, slopes, curvatures

    def curvature_features(self, u: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
        """``[u^0..u^(k-2), (u - tau)_+^(k-2)]`` (``order >= 2``; linear splines: ``S``, on
        which their curvature maps are zero)."""
        k = self.order
        if k < 2:
            return S
        r = (u - self.cast("interior_knots", u, column=True)).clamp_min_(0.0)  # (u - tau)_+
        tail = (r > 0).to(u.dtype) if k == 2 else (r if k == 3 else r ** (k - 2))
        return torch.cat([S[: k - 1], tail])

    def _truncated_power_sum(self, u: torch.Tensor, degree: int) -> torch.Tensor:
        r""":math:`\sum_j (-1)^j \binom{k+1}{j} (x - j)_+^{d}` over :math:`j < (k+1)/2` with
        :math:`x = \frac{k+1}{2} - |\frac{u - t_i}{h} - \frac{k+1}{2}|`: shape
        ``u.shape + (n_basis,)`` (``degree`` 0 counts the positive terms)."""
        c = (self.order + 1) / 2
        t = self.knots[: self.n_basis].to(u.dtype)
        x = c - ((u[..., None] - t) / self.h - c).abs()  # (..., K)
        out = torch.zeros_like(x)
        for j in range(math.ceil(c)):
            r = x - j
            term = (r > 0).to(x.dtype) if degree == 0 else r.clamp_min(0.0) ** degree
            out = out + (-1) ** j * math.comb(self.order + 1, j) * term
        return out

    def values(self, u: torch.Tensor) -> torch.Tensor:
        return self._truncated_power_sum(u, self.order) / math.factorial(self.order)

    def second_derivatives(self, u: torch.Tensor) -> torch.Tensor:
        """:math:`B_i''` from the closed form (:math:`|dx/du| = 1/h`; 0 for linear splines)."""
        k = self.order
        if k < 2:
            return torch.zeros(*u.shape, self.n_basis, dtype=u.dtype, device=u.device)
        return self._truncated_power_sum(u, k - 2) * (k * (k - 1)
                                                      / (math.factorial(k) * self.h**2))

    def _blocks(self) -> tuple[int, int]:
        """Feature rows where the truncated powers of degree ``k`` and ``k - 1`` start."""
        k, n_int = self.order, self.n_basis - self.order - 1
        first, second = k + 1, k + 1 + n_int
        return (first, second) if k in (1, 3) else (second, first)

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """``[u^0..u^k]`` and the truncated powers ``(u - tau)_+^k``, ``(u - tau)_+^(k-1)``
        over the interior knots ``tau`` (block order from ``_blocks``)."""
        k, n_int = self.order, self.n_basis - self.order - 1
        powers = torch.stack(_power_rows(u, k + 1))
        if not n_int:
            return powers
        r = (u - self.cast("interior_knots", u, column=True)).clamp_min_(0.0)  # (u - tau)_+
        low = (r > 0).to(u.dtype) if k == 1 else r
        for _ in range(k - 2):
            low = low * r  # r^(k-1)
        high = r if k == 1 else low * r  # r^k
        first, second = (high, low) if k in (1, 3) else (low, high)
        return torch.cat([powers, first, second])

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
        self.n_cos = (K + 1) // 2
        harmonic = np.arange(K) // 2 + 1
        self.register_buffer("frequencies", torch.as_tensor(self.omega * harmonic,
                                                            dtype=torch.float64))
        values, slopes = self._power_maps()
        # max over u of sum_j |coef_j| |c|^j (|s| <= 1) is at |c| = 1: the amplification
        if float(np.abs(values).sum(1).max()) <= AMPLIFICATION_LIMIT:
            self.representation = "powers"
        else:
            self.representation = "direct"
            values, slopes = self._direct_maps()
        curvatures = -((self.omega * harmonic) ** 2)[:, None] * values  # B'' = -(j w)^2 B
        self.set_fused_maps(values, slopes, curvatures)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if self.representation is None:  # pickled by an older version: always powers
            self.representation = "powers"

    def _power_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Values and slopes on ``[c^0..c^nc, s c^0 .. s c^(nc-1)]``, ``c = cos(w u)``,
        ``s = sin(w u)``, from the Chebyshev polynomials ``T_j(c)``, ``U_j(c)``."""
        nc, K, w = self.n_cos, self.n_basis, self.omega
        x = Polynomial([0.0, 1.0])
        T, U = [x * 0 + 1, x], [x * 0 + 1, 2 * x]
        for _ in range(nc):
            T.append(2 * x * T[-1] - T[-2])
            U.append(2 * x * U[-1] - U[-2])

        def row(p: Polynomial, odd: bool) -> np.ndarray:
            out = np.zeros(2 * nc + 1)
            coef = p.coef[: nc + 1 - odd]
            out[(nc + 1 if odd else 0) + np.arange(len(coef))] = coef
            return out

        values, slopes = np.zeros((K, 2 * nc + 1)), np.zeros((K, 2 * nc + 1))
        for b, j in enumerate(np.arange(K) // 2 + 1):
            if b % 2 == 0:  # cos(j w u) = T_j(c); slope -j w sin(j w u) = -j w s U_{j-1}(c)
                values[b], slopes[b] = row(T[j], False), -j * w * row(U[j - 1], True)
            else:  # sin(j w u) = s U_{j-1}(c); slope j w cos(j w u) = j w T_j(c)
                values[b], slopes[b] = row(U[j - 1], True), j * w * row(T[j], False)
        return values, slopes

    def _direct_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Values and slopes on ``[1, cos(j w u), sin(j w u)]``, ``j = 1..nc``."""
        nc, K, w = self.n_cos, self.n_basis, self.omega
        values, slopes = np.zeros((K, 2 * nc + 1)), np.zeros((K, 2 * nc + 1))
        for b, j in enumerate(np.arange(K) // 2 + 1):
            cos_row, sin_row = j, nc + j
            if b % 2 == 0:
                values[b, cos_row], slopes[b, sin_row] = 1.0, -j * w
            else:
                values[b, sin_row], slopes[b, cos_row] = 1.0, j * w
        return values, slopes

    def values(self, u: torch.Tensor) -> torch.Tensor:
        theta = u[..., None] * self.frequencies.to(u.dtype)
        is_cos = torch.arange(self.n_basis, device=u.device) % 2 == 0
        return torch.where(is_cos, torch.cos(theta), torch.sin(theta))

    def second_derivatives(self, u: torch.Tensor) -> torch.Tensor:
        r""":math:`B_k'' = -(j\omega)^2 B_k`."""
        return self.values(u) * -self.frequencies.to(u.dtype).square()

    def features(self, u: torch.Tensor) -> torch.Tensor:
        """``[c^0, ..., c^nc, s c^0, ..., s c^(nc-1)]``, ``nc = ceil(n_basis / 2)``, or for the
        ``'direct'`` representation (high ``n_basis``) ``[1, cos(j w u), sin(j w u)]``."""
        nc = self.n_cos
        if self.representation == "direct":
            theta = u[None] * (self.omega * torch.arange(1, nc + 1, device=u.device,
                                                         dtype=u.dtype)).view(-1, *[1] * u.dim())
            return torch.cat([torch.ones_like(u)[None], torch.cos(theta), torch.sin(theta)])
        theta = u * self.omega
        cosines = torch.stack(_power_rows(torch.cos(theta), nc + 1))  # c^0 .. c^nc
        return torch.cat([cosines, cosines[:nc] * torch.sin(theta)])

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}, period={self.period}"


class GaussianRBFBasis(Basis):
    r"""Gaussian radial basis functions :math:`\exp(-((u - \mu_k)/h)^2)` on a uniform grid.

    On a uniform grid :math:`\mu_k = \mu_0 + k\delta`,
    :math:`\phi_k = \phi_0(u)\, q(u)^k e^{-k^2\delta^2/h^2}` with
    :math:`q = e^{2\delta(u-\mu_0)/h^2}`: the fused features take the factors
    :math:`\phi_r q^{k-r}` about the middle centre :math:`\mu_r`, all in one exponential of a
    broadcast argument. That form is used while :math:`\max(1.3, s^2)/h^2 \le 80`, with
    :math:`s` the largest distance of a centre from :math:`\mu_r`, so that nothing overflows
    in float32; narrower widths evaluate each Gaussian directly (``geometric`` is False).

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
    representation = "direct"

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
        self._set_maps()

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if self.curvature_maps is None:  # pickled by an older version
            self._set_maps()

    def _set_maps(self) -> None:
        K, h2 = self.n_basis, self.width**2
        centers = self.centers.cpu().numpy()
        shift = centers - centers[self.ref]
        gamma = np.exp(-(shift**2) / h2) if self.geometric else np.ones(K)
        # features [1, F_k, d F_k] with d = u - mu_r, phi_k = gamma_k F_k;
        # phi_k' = -2 (u - mu_k) / h^2 phi_k = -2 / h^2 (d - s_k) phi_k, s_k = mu_k - mu_r;
        # phi_k'' = (4 (d - s_k)^2 / h^4 - 2 / h^2) phi_k, on [1, F_k, d F_k, d^2 F_k]
        zero, col, h4 = np.zeros((K, K)), np.zeros((K, 1)), h2 * h2
        values = np.hstack([col, np.diag(gamma), zero])
        slopes = np.hstack([col, np.diag(2.0 * shift * gamma / h2), np.diag(-2.0 * gamma / h2)])
        curvatures = np.hstack([col, np.diag(gamma * (4.0 * shift**2 / h4 - 2.0 / h2)),
                                np.diag(-8.0 * gamma * shift / h4), np.diag(4.0 * gamma / h4)])
        self.set_fused_maps(values, slopes, curvatures)

    def _table(self, name: str) -> torch.Tensor:
        if name == "_geometric_slopes":  # 2 s_k / h^2 with s_k = mu_k - mu_r
            return (self.centers - self.centers[self.ref]) * (2.0 / self.width**2)
        if name == "_scaled_centers":
            return self.centers / self.width
        if name == "_reference_center":
            return self.centers[self.ref]
        return super()._table(name)

    def values(self, u: torch.Tensor) -> torch.Tensor:
        return torch.exp(-(((u[..., None] - self.centers.to(u.dtype)) / self.width) ** 2))

    def curvature_features(self, u: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
        """``[1, F_k, (u - mu_r) F_k, (u - mu_r)^2 F_k]`` from the forward features."""
        K = self.n_basis
        d = u - self.cast("_reference_center", u)  # u - mu_r
        return torch.cat([S, S[K + 1:] * d])

    def second_derivatives(self, u: torch.Tensor) -> torch.Tensor:
        r""":math:`\phi_k'' = (4 (u - \mu_k)^2 / h^4 - 2 / h^2)\, \phi_k`."""
        h2 = self.width**2
        d2 = (u[..., None] - self.centers.to(u.dtype)).square()
        return self.values(u) * (d2 * (4.0 / (h2 * h2)) - 2.0 / h2)

    def features(self, u: torch.Tensor) -> torch.Tensor:
        r"""``[1, F_k, (u - mu_r) F_k]`` with ``F_k = phi_k / gamma_k`` (geometric:
        :math:`F_k = \exp((2 s_k d - d^2)/h^2)`, :math:`d = u - \mu_r`,
        :math:`s_k = \mu_k - \mu_r`, one exponential of arguments at most
        :math:`s_k^2/h^2 \le 80`) or ``phi_k``."""
        h2 = self.width**2
        d = u - self.cast("_reference_center", u)  # u - mu_r (no host sync)
        if self.geometric:
            slope = self.cast("_geometric_slopes", u, column=True)  # 2 s_k / h^2
            F = torch.addcmul(d.square().mul_(-1.0 / h2), slope, d).exp_()
        else:
            mu = self.cast("_scaled_centers", u, column=True)  # mu_k / h
            F = torch.sub(u * (1.0 / self.width), mu).square_().neg_().exp_()
        return torch.cat([torch.ones_like(u)[None], F, F * d])

    def extra_repr(self) -> str:
        return f"n_basis={self.n_basis}, width={self.width:.4g}"
