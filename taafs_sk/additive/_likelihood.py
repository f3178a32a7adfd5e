r"""Log marginal likelihood of the additive GP and its maximisation (private).

Neuron ``n`` sees the coordinate

.. math::
    u_n = \sum_d p_{nd}\, \rho_d\, \tilde x_d , \qquad
    z_n = \frac{u_n - \min_i u_{n,i}}{\max_i u_{n,i} - \min_i u_{n,i}} \in [0, 1],

where :math:`\tilde x \in [0, 1]^D` are the rescaled inputs, :math:`p_n` the unit hidden
direction and :math:`\rho_d` optional per-feature scales (automatic relevance determination,
ARD). The kernel is

.. math::
    K = \sum_n s_n\, k(z_n, z_n'; \ell_n) + \sigma^2 I , \qquad
    \ell_n = \sqrt{\left(l_n\, \frac{\operatorname{span}_n(1)}
    {\operatorname{span}_n(\rho)}\right)^2 + \ell_{\min}^2} ,

so that stretching the inputs by :math:`\rho` shortens the length scales as ARD does in a
full kernel, and :math:`\ell_n` stays above :data:`MIN_LENGTH_SCALE`.

Each 1-D kernel is replaced by its feature expansion :math:`k_n \approx \psi_n \psi_n^T`
(:meth:`~taafs_sk.additive.kernels.Kernel1D.expansion`, ``m`` features per neuron, accurate to about
``1e-7`` for the RBF kernel above :data:`MIN_LENGTH_SCALE`), so that with
:math:`\Psi = [\sqrt{s_n} \psi_n]_n` of shape ``(M, N m)``

.. math::
    K = \Psi \Psi^T + \sigma^2 I, \qquad
    \frac{\partial L}{\partial \Psi} = G = (\alpha \alpha^T - K^{-1}) \Psi .

One Cholesky factorisation and two matrix products (in function space when ``M <= N m``,
else in the ``N m``-dimensional weight space) give the likelihood and the whole gradient:
with respect to every neuron's length scale and variance, the noise and, through
:math:`\partial L / \partial z_{n,i} = \sum_q G_{i,nq}\, \partial \Psi_{i,nq} / \partial z`,
the feature scales. Nothing is computed per neuron or per sample in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from scipy.linalg import blas, lapack
from threadpoolctl import threadpool_limits

from .kernels import Kernel1D

__all__ = ["Hyperparameters", "MarginalLikelihood", "LOG_BOUNDS", "MIN_LENGTH_SCALE"]

MIN_LENGTH_SCALE = 0.05  # on the [0, 1]-rescaled neuron coordinates
LOG_BOUNDS = {
    "feature_scale": (np.log(1e-3), np.log(1e3)),
    "length_scale": (np.log(1e-3), np.log(1e2)),
    "amplitude": (np.log(1e-6), np.log(1e2)),
    "noise": (np.log(1e-8), np.log(1e1)),
}
_SMALL = 1000  # up to this many samples the likelihood runs on one BLAS thread
_FTOL = 1e-6  # L-BFGS-B relative reduction of -log L at which a stage stops
_GRID = 12  # shared length scales tried in the first stage
_GRID_ROWS = 512  # rows (at most) whose eigendecomposition scores the grid


@dataclass
class Hyperparameters:
    """Per-neuron length scales and prior variances, noise variance, feature scales."""

    length_scale: np.ndarray  # (N,)
    amplitude: np.ndarray  # (N,)
    noise: float
    feature_scale: np.ndarray  # (D,)


class MarginalLikelihood:
    """Negative log marginal likelihood of targets ``t`` as a function of log-parameters.

    Parameters
    ----------
    kernel : Kernel1D
    xs : ndarray of shape (M, D)
        Inputs rescaled to [0, 1].
    directions : ndarray of shape (N, D)
        Hidden directions (normalised here).
    t : ndarray of shape (M,)
        Centred (and scaled) targets.
    """

    def __init__(self, kernel: Kernel1D, xs: np.ndarray, directions: np.ndarray, t: np.ndarray):
        self.kernel, self.xs, self.t = kernel, xs, t
        self.p = directions / np.linalg.norm(directions, axis=1, keepdims=True)  # (N, D)
        self.n_basis = kernel.n_basis(MIN_LENGTH_SCALE)
        self._span0 = _safe_span(xs @ self.p.T)  # spans at rho = 1, (N,)

    @property
    def n_neurons(self) -> int:
        return self.p.shape[0]

    def affine(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(A, b)`` with ``z = xs @ A.T + b`` spanning [0, 1] on the likelihood's data."""
        v = self.p * rho  # (N, D)
        u = self.xs @ v.T  # (M, N)
        lo, span = u.min(0), np.ptp(u, axis=0)
        span = np.where(span > 0, span, 1.0)
        return v / span[:, None], -lo / span

    def effective_length_scale(
        self, h: Hyperparameters, floor: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Length scales on the rescaled coordinates ``z`` and ``d log l_eff / d log l_raw``.

        ``l_raw`` is ``l_n`` divided by the factor by which the feature scales stretch neuron
        ``n`` (so ``rho`` acts as ARD does on a full kernel); ``l_eff = sqrt(l_raw^2 + l_min^2)``
        keeps it above :data:`MIN_LENGTH_SCALE`, where the feature expansion is accurate.
        """
        raw = h.length_scale * self._span0 / _safe_span(self.xs @ (self.p * h.feature_scale).T)
        if not floor:
            return raw, np.ones_like(raw)
        eff = np.sqrt(raw**2 + MIN_LENGTH_SCALE**2)
        return eff, (raw / eff) ** 2

    def coordinates(self, rho: np.ndarray, xs: np.ndarray | None = None) -> np.ndarray:
        """Neuron coordinates ``z`` of shape ``(N, M)`` (in [0, 1] on the likelihood's data)."""
        a, b = self.affine(rho)
        return ((self.xs if xs is None else xs) @ a.T + b).T

    # -- parameter vector --------------------------------------------------------------
    def _sizes(self, ard: bool, per_neuron: bool) -> tuple[int, int]:
        return (self.xs.shape[1] if ard else 0), (self.n_neurons if per_neuron else 1)

    def pack(self, h: Hyperparameters, ard: bool, per_neuron: bool) -> np.ndarray:
        parts = [np.log(h.feature_scale)] if ard else []
        if per_neuron:
            parts += [np.log(h.length_scale), np.log(h.amplitude)]
        else:
            parts += [np.log(h.length_scale[:1]), np.log([h.amplitude.sum()])]
        return np.concatenate([*parts, [np.log(h.noise)]])

    def unpack(self, theta: np.ndarray, ard: bool, per_neuron: bool, base: Hyperparameters):
        d, k = self._sizes(ard, per_neuron)
        n = self.n_neurons
        rho = np.exp(theta[:d]) if ard else base.feature_scale
        ls = np.broadcast_to(np.exp(theta[d : d + k]), (n,)).copy()
        amp = np.exp(theta[d + k : d + 2 * k])
        amp = amp.copy() if per_neuron else np.full(n, amp[0] / n)
        return Hyperparameters(ls, amp, float(np.exp(theta[-1])), rho)

    def bounds(self, ard: bool, per_neuron: bool) -> list[tuple[float, float]]:
        d, k = self._sizes(ard, per_neuron)
        b = LOG_BOUNDS
        return (
            [b["feature_scale"]] * d + [b["length_scale"]] * k + [b["amplitude"]] * k
            + [b["noise"]]
        )

    # -- value and gradient ------------------------------------------------------------
    def __call__(
        self, theta: np.ndarray, ard: bool, per_neuron: bool, base: Hyperparameters
    ) -> tuple[float, np.ndarray]:
        h = self.unpack(theta, ard, per_neuron, base)
        z = self.coordinates(h.feature_scale)  # (N, M)
        ls, dlog_ls = self.effective_length_scale(h)
        psi, dpsi_dz, a, b = self.kernel.expansion(z, ls, self.n_basis)
        root = np.sqrt(h.amplitude)[:, None]  # Psi = sqrt(s) psi
        psi *= root
        m, n, q = psi.shape
        out = self._solve(psi.reshape(m, n * q), h.noise)
        if out is None:
            return 1e25, np.zeros_like(theta)
        lml, g, tr_w = out
        g = g.reshape(m, n, q)
        g_psi = np.einsum("inq,inq->nq", g, psi)  # sum_i G Psi, (N, m)
        g_z = np.einsum("inq,inq->in", g, dpsi_dz) * root[:, 0]  # dL / dz, (M, N)
        g_amp = 0.5 * g_psi.sum(1)
        g_ls = np.einsum("nq,nq->n", g_psi, a) + np.einsum("in,in->n", g_z, b)
        g_ls *= dlog_ls  # now with respect to log l_raw
        g_noise = 0.5 * h.noise * tr_w
        g_rho = self._feature_scale_gradient(h.feature_scale, z, g_z, g_ls) if ard else []
        if not per_neuron:
            g_ls, g_amp = g_ls.sum(keepdims=True), g_amp.sum(keepdims=True)
        grad = np.concatenate([g_rho, g_ls, g_amp, [g_noise]])
        return -float(lml), -grad

    def _solve(self, psi: np.ndarray, noise: float):
        """``log L``, ``G = (alpha alpha^T - K^-1) Psi`` and ``tr(alpha alpha^T - K^-1)``.

        ``psi`` is C-ordered ``(M, r)``, so ``psi.T`` is the Fortran-ordered matrix BLAS sees.
        """
        t = self.t
        m, r = psi.shape
        if m <= r:  # function space: K = Psi Psi^T + noise I is (M, M)
            kmat = blas.dsyrk(1.0, psi.T, trans=1, lower=1)
            kmat[np.diag_indices(m)] += noise
            chol, info = lapack.dpotrf(kmat, lower=1, clean=1, overwrite_a=1)
            if info != 0:
                return None
            alpha, _ = lapack.dpotrs(chol, t, lower=1)
            logdet = np.log(np.diag(chol)).sum()
            k_inv = _symmetric_inverse(chol)  # then one GEMM: far quicker than two TRSMs
            k_inv_psi = k_inv @ psi
            lml = -0.5 * t @ alpha - logdet
            tr_k_inv = np.trace(k_inv)
        else:  # weight space: A = Psi^T Psi + noise I is (r, r)
            a = blas.dsyrk(1.0, psi.T, trans=0, lower=1)
            a[np.diag_indices(r)] += noise
            chol, info = lapack.dpotrf(a, lower=1, clean=1, overwrite_a=1)
            if info != 0:
                return None
            psi_t = psi.T @ t
            w, _ = lapack.dpotrs(chol, psi_t, lower=1)
            alpha = (t - psi @ w) / noise
            logdet = np.log(np.diag(chol)).sum() + 0.5 * (m - r) * np.log(noise)
            a_inv = _symmetric_inverse(chol)
            k_inv_psi = psi @ a_inv  # (Psi Psi^T + s I)^-1 Psi = Psi (Psi^T Psi + s I)^-1
            lml = -0.5 * (t @ t - psi_t @ w) / noise - logdet
            tr_k_inv = (m - r) / noise + np.trace(a_inv)
        g = np.outer(alpha, alpha @ psi)
        g -= k_inv_psi
        return lml - 0.5 * m * np.log(2 * np.pi), g, alpha @ alpha - tr_k_inv

    def _feature_scale_gradient(self, rho, z, g_z, g_ls):
        """``dL / dlog rho`` from ``dL / dz`` (``(M, N)``), through the min-max rescaling, and
        from ``dL / dlog l_n`` through the effective length scales."""
        u = self.xs @ (self.p * rho).T  # (M, N)
        span = _safe_span(u)
        g_u = g_z / span  # direct part; the extremes also move every z
        cols = np.arange(u.shape[1])
        lo, hi = u.argmin(0), u.argmax(0)
        corr_lo = -(g_z * (1.0 - z.T)).sum(0) / span
        corr_hi = -(g_z * z.T).sum(0) / span
        # and log l_raw = log l - log span + const
        corr_lo += g_ls / span
        corr_hi -= g_ls / span
        np.add.at(g_u, (lo, cols), corr_lo)
        np.add.at(g_u, (hi, cols), corr_hi)
        g_v = g_u.T @ self.xs  # dL / d(p_nd rho_d), (N, D)
        return rho * (self.p * g_v).sum(0)

    # -- optimisation ------------------------------------------------------------------
    def _minimize(self, theta0, ard, per_neuron, base, maxiter):
        return optimize.minimize(
            self, theta0, args=(ard, per_neuron, base), jac=True, method="L-BFGS-B",
            bounds=self.bounds(ard, per_neuron), options={"maxiter": maxiter, "ftol": _FTOL},
        )

    def optimize(
        self,
        h0: Hyperparameters,
        *,
        ard: bool,
        per_neuron: bool,
        n_restarts: int,
        maxiter: int = 200,
    ) -> tuple[Hyperparameters, float]:
        """Maximise the likelihood in stages.

        1. Shared length scale, prior variance and noise: every length scale of a grid gets
           the exact optimum over variance and noise from one eigendecomposition; the best
           local minima of this profile (at most ``1 + n_restarts``) are refined, by a
           bounded scalar search of the profile itself when the grid saw every row (at most
           :data:`_GRID_ROWS`), else by L-BFGS-B.
        2. With feature scales (``ard``), then with per-neuron length scales and variances
           (``per_neuron``).
        """
        # small matrices: threaded BLAS costs more in synchronisation than it saves
        limits = 1 if len(self.t) <= _SMALL else None
        with threadpool_limits(limits=limits, user_api="blas"):
            h, fun = self._shared_start(h0, 1 + n_restarts, maxiter)
            for stage_ard, stage_pn in dict.fromkeys([(ard, False), (ard, per_neuron)]):
                if stage_ard or stage_pn:
                    res = self._minimize(
                        self.pack(h, stage_ard, stage_pn), stage_ard, stage_pn, h, maxiter
                    )
                    h, fun = self.unpack(res.x, stage_ard, stage_pn, h), res.fun
            return h, -float(fun)

    def _shared_start(self, h0: Hyperparameters, n_starts: int, maxiter: int):
        """Stage 1: the best shared ``(l, s, sigma^2)`` (see :meth:`optimize`)."""
        profile = _SharedProfile(self, h0)
        grid = np.linspace(np.log(MIN_LENGTH_SCALE), np.log(20.0), _GRID)
        fits = [profile(v) for v in grid]  # a handful of candidate length scales
        scores = np.array([f[0] for f in fits])
        # refine the best local minima of the grid profile: one per basin of the length scale
        padded = np.r_[np.inf, scores, np.inf]
        minima = np.flatnonzero((scores <= padded[:-2]) & (scores <= padded[2:]))
        best = None
        for i in minima[np.argsort(scores[minima])][:n_starts]:
            if profile.exact:
                # the grid saw every row, so its profile is the likelihood itself: a bounded
                # scalar search of it in the basin is exact and needs no gradient
                res = optimize.minimize_scalar(
                    lambda v: profile(v)[0], method="bounded", options={"xatol": 1e-3},
                    bounds=(grid[max(i - 1, 0)], grid[min(i + 1, _GRID - 1)]),
                )
                value, amp, noise = profile(res.x)
                cand = profile.start(res.x, amp, noise), value + profile.constant
            else:
                h = profile.start(grid[i], fits[i][1], fits[i][2])
                res = self._minimize(self.pack(h, False, False), False, False, h, maxiter)
                cand = self.unpack(res.x, False, False, h), res.fun
            if best is None or cand[1] < best[1]:
                best = cand
        return best


class _SharedProfile:
    """``-log L`` of one shared length scale at the best shared variance and noise, on (at
    most :data:`_GRID_ROWS` evenly spaced) rows of ``ml``'s data; memoised."""

    def __init__(self, ml: MarginalLikelihood, h0: Hyperparameters) -> None:
        m = len(ml.t)
        self.rows = np.unique(np.linspace(0, m - 1, min(m, _GRID_ROWS)).astype(int))
        self.z, self.t = ml.coordinates(h0.feature_scale)[:, self.rows], ml.t[self.rows]
        self.ml, self.h0 = ml, h0
        self.exact = len(self.rows) == m  # the profile is the likelihood itself
        self.constant = 0.5 * len(self.t) * np.log(2 * np.pi)  # left out of the profile
        self._seen: dict[float, tuple[float, float, float]] = {}

    def __call__(self, log_ls: float) -> tuple[float, float, float]:
        """``-log L`` (no constant), ``s`` and ``sigma^2`` at the best ``s`` and noise."""
        if log_ls not in self._seen:
            ml, h0, n = self.ml, self.h0, self.ml.n_neurons
            h = Hyperparameters(np.full(n, np.exp(log_ls)), h0.amplitude, h0.noise,
                                h0.feature_scale)
            psi = ml.kernel.expansion(self.z, ml.effective_length_scale(h)[0], ml.n_basis)[0]
            lam, c2 = _spectrum(psi.reshape(len(self.t), -1) / np.sqrt(n), self.t)
            self._seen[log_ls] = _profile_variance_and_noise(lam, c2)
        return self._seen[log_ls]

    def start(self, log_ls: float, amp: float, noise: float) -> Hyperparameters:
        """Shared hyperparameters from a profile point, clipped to :data:`LOG_BOUNDS`."""
        n = self.ml.n_neurons
        amp = float(np.clip(amp, *np.exp(LOG_BOUNDS["amplitude"])))
        noise = float(np.clip(noise, *np.exp(LOG_BOUNDS["noise"])))
        return Hyperparameters(np.full(n, np.exp(log_ls)), np.full(n, amp / n), noise,
                               self.h0.feature_scale)


def _spectrum(psi: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of ``psi psi^T`` and squared projections of ``t`` on its eigenvectors
    (zero eigenvalues included, so both have ``M`` entries)."""
    m, r = psi.shape
    if m <= r:  # eigh reads the lower triangle only, which syrk fills
        lam, vec = linalg.eigh(blas.dsyrk(1.0, psi.T, trans=1, lower=1), check_finite=False)
        return np.maximum(lam, 0.0), (vec.T @ t) ** 2
    lam, vec = linalg.eigh(psi.T @ psi, check_finite=False)  # the nonzero part, r x r
    lam = np.maximum(lam, 0.0)
    proj = vec.T @ (psi.T @ t)  # = sqrt(lam) * (u^T t)
    pos = lam > 1e-12 * lam.max(initial=0.0)
    c2 = np.where(pos, proj**2 / np.where(pos, lam, 1.0), 0.0)
    rest = max(t @ t - c2.sum(), 0.0) / (m - r)  # spread over the null space
    return np.r_[np.where(pos, lam, 0.0), np.zeros(m - r)], np.r_[c2, np.full(m - r, rest)]


def _profile_variance_and_noise(lam: np.ndarray, c2: np.ndarray) -> tuple[float, float, float]:
    """Minimise ``-log L`` of ``K = s (U diag(lam) U^T) + sigma^2 I`` over ``s`` and ``sigma^2``.

    With ``g = sigma^2 / s`` the optimal ``s`` is ``mean(c2 / (lam + g))``, which leaves a
    1-D profile in ``g`` (searched on a log grid, then refined). Returns the minimum of
    ``-log L`` (without the constant), ``s`` and ``sigma^2``.
    """
    m = len(lam)

    def profile(log_g):
        g = np.exp(np.atleast_1d(log_g))[:, None]
        amp = (c2 / (lam + g)).mean(1)
        return 0.5 * (m * np.log(amp) + np.log(lam + g).sum(1))

    grid = np.linspace(np.log(1e-8), np.log(1e3), 45)
    i = int(np.argmin(profile(grid)))
    res = optimize.minimize_scalar(
        lambda v: profile(v)[0], bounds=(grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]),
        method="bounded", options={"xatol": 1e-3},
    )
    g = float(np.exp(res.x))
    amp = float((c2 / (lam + g)).mean())
    return float(res.fun) + 0.5 * m, amp, g * amp


def _safe_span(u: np.ndarray) -> np.ndarray:
    span = np.ptp(u, axis=0)
    return np.where(span > 0, span, 1.0)


def _symmetric_inverse(chol: np.ndarray) -> np.ndarray:
    """The full inverse of ``L L^T`` from its lower Cholesky factor ``L``."""
    inv, _ = lapack.dpotri(chol, lower=1)  # lower triangle; the upper one is zero
    inv += np.tril(inv, -1).T
    return inv
