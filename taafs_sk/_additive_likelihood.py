"""Log marginal likelihood of the additive GP and its maximisation (private).

Neuron ``n`` sees the coordinate

.. math::
    y_n = \\sum_d p_{nd}\\, \\rho_d\\, \\tilde x_d - q_n ,

where :math:`\\tilde x \\in [0, 1]^D` are the rescaled inputs, :math:`p_n` the hidden direction
divided by the range of :math:`p_n \\cdot \\tilde x` on the training data (so that with
:math:`\\rho = 1` the coordinate spans [0, 1]) and :math:`\\rho_d` optional per-feature
scales (automatic relevance determination, ARD). The kernel is

.. math::
    K = \\sum_n s_n\\, k(y_n, y_n'; l_n) + \\sigma^2 I ,

and its log marginal likelihood :math:`L` has the gradient
:math:`\\partial L / \\partial \\theta = \\tfrac12 \\operatorname{tr}
[(\\alpha \\alpha^T - K^{-1})\\, \\partial K / \\partial \\theta]`, evaluated neuron block by
neuron block so that memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from threadpoolctl import threadpool_limits

from .kernels1d import Kernel1D

__all__ = ["Hyperparameters", "MarginalLikelihood", "LOG_BOUNDS"]

LOG_BOUNDS = {
    "feature_scale": (np.log(1e-3), np.log(1e3)),
    "length_scale": (np.log(1e-2), np.log(1e2)),
    "amplitude": (np.log(1e-6), np.log(1e2)),
    "noise": (np.log(1e-8), np.log(1e1)),
}
_BLOCK = 2**20  # elements of one neuron block of Gram matrices
_KEEP = 2**24  # largest N * M**2 whose blocks are kept between the two passes
_SMALL = 1000  # up to this many samples the likelihood runs on one BLAS thread


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
    t : ndarray of shape (M,)
        Centred (and scaled) targets.
    """

    def __init__(self, kernel: Kernel1D, xs: np.ndarray, directions: np.ndarray, t: np.ndarray):
        self.kernel, self.xs, self.t = kernel, xs, t
        proj = directions @ xs.T  # (N, M)
        lo = proj.min(1)
        rng = np.ptp(proj, axis=1)
        rng = np.where(rng > 0, rng, 1.0)
        self.p = directions / rng[:, None]  # (N, D)
        self.q = lo / rng  # (N,)
        n, m = proj.shape
        step = max(1, _BLOCK // (m * m))
        self._blocks = [slice(i, min(i + step, n)) for i in range(0, n, step)]
        # buffers (s -> kappa', k) per block: kept for all blocks between the two passes
        # when small enough, else one pair reused (and the second pass recomputes)
        n_buf = len(self._blocks) if n * m * m <= _KEEP else 1
        self._keep = n_buf > 1 or len(self._blocks) == 1
        self._buf = [
            (np.empty((sl.stop - sl.start, m, m)), np.empty((sl.stop - sl.start, m, m)))
            for sl in self._blocks[:n_buf]
        ]

    @property
    def n_neurons(self) -> int:
        return self.p.shape[0]

    def coordinates(self, rho: np.ndarray, xs: np.ndarray | None = None) -> np.ndarray:
        """Neuron coordinates ``y`` of shape ``(N, M)``."""
        xs = self.xs if xs is None else xs
        return (self.p * rho) @ xs.T - self.q[:, None]

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
    def _block(self, i: int, y: np.ndarray, ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``k`` and ``kappa'`` of block ``i``, each ``(n_block, M, M)``, in its buffers."""
        s, k = self._buf[i] if self._keep else self._buf[0]
        s, k = s[: len(y)], k[: len(y)]
        self.kernel.pair_into(y, out=s)
        s *= (1.0 / ls**2)[:, None, None]
        self.kernel.evaluate_inplace(s, k)
        return k, s

    def __call__(
        self, theta: np.ndarray, ard: bool, per_neuron: bool, base: Hyperparameters
    ) -> tuple[float, np.ndarray]:
        h = self.unpack(theta, ard, per_neuron, base)
        y = self.coordinates(h.feature_scale)
        m = y.shape[1]
        kmat = np.zeros(m * m)
        for i, sl in enumerate(self._blocks):
            k, _ = self._block(i, y[sl], h.length_scale[sl])
            kmat += k.reshape(len(k), -1).T @ h.amplitude[sl]
        kmat = kmat.reshape(m, m)
        kmat[np.diag_indices(m)] += h.noise
        try:
            chol = linalg.cholesky(kmat, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return 1e25, np.zeros_like(theta)
        a = linalg.cho_solve((chol, True), self.t, check_finite=False)
        lml = -0.5 * self.t @ a - np.log(np.diag(chol)).sum() - 0.5 * m * np.log(2 * np.pi)
        w = np.outer(a, a) - linalg.cho_solve((chol, True), np.eye(m), check_finite=False)
        grads = self._gradient(h, y, w, ard)
        g_noise = 0.5 * h.noise * np.trace(w)
        g_ls, g_amp = grads[1], grads[2]
        if not per_neuron:
            g_ls, g_amp = g_ls.sum(keepdims=True), g_amp.sum(keepdims=True)
        grad = np.concatenate([grads[0] if ard else [], g_ls, g_amp, [g_noise]])
        return -float(lml), -grad

    def _gradient(self, h: Hyperparameters, y: np.ndarray, w: np.ndarray, ard: bool):
        """Per-neuron gradient sums; every block needs one pass over ``W * kappa'`` and a
        matrix product with ``[1, y]`` (see :meth:`Kernel1D.contract`)."""
        n, m = y.shape
        g_ls, g_amp, r = np.empty(n), np.empty(n), np.empty_like(y)
        ones_y = np.stack([np.ones_like(y), y], axis=2)  # (N, M, 2)
        for i, sl in enumerate(self._blocks):
            if self._keep:
                ks, k = self._buf[i]
            else:
                k, ks = self._block(i, y[sl], h.length_scale[sl])
            g_amp[sl] = k.reshape(len(k), -1) @ w.ravel()
            ks *= w
            q = np.matmul(ks, ones_y[sl])  # (n, M, 2): Q 1 and Q y
            g_ls[sl], r[sl] = self.kernel.contract(
                y[sl], q[..., 0], q[..., 1], h.length_scale[sl] ** 2
            )
        g_ls *= 0.5 * h.amplitude
        g_amp *= 0.5 * h.amplitude
        g_rho = None
        if ard:
            g_v = h.amplitude[:, None] * (r @ self.xs)  # dL/d(p_nd rho_d), (N, D)
            g_rho = h.feature_scale * (self.p * g_v).sum(0)
        return g_rho, g_ls, g_amp

    # -- optimisation ------------------------------------------------------------------
    def _minimize(self, theta0, ard, per_neuron, base, maxiter):
        return optimize.minimize(
            self, theta0, args=(ard, per_neuron, base), jac=True, method="L-BFGS-B",
            bounds=self.bounds(ard, per_neuron), options={"maxiter": maxiter, "ftol": 1e-6},
        )

    def optimize(
        self,
        h0: Hyperparameters,
        *,
        ard: bool,
        per_neuron: bool,
        n_restarts: int,
        rng: np.random.RandomState,
        maxiter: int = 200,
    ) -> tuple[Hyperparameters, float]:
        """Maximise the likelihood in stages: shared length scale, prior variance and noise
        (from ``h0`` and ``n_restarts`` random length scales); then with feature scales
        (``ard``); then with per-neuron length scales and variances (``per_neuron``)."""
        # small matrices: threaded BLAS costs more in synchronisation than it saves
        limits = 1 if len(self.t) <= _SMALL else None
        with threadpool_limits(limits=limits, user_api="blas"):
            return self._optimize(h0, ard, per_neuron, n_restarts, rng, maxiter)

    def _optimize(self, h0, ard, per_neuron, n_restarts, rng, maxiter):
        starts = [self.pack(h0, False, False)]
        for _ in range(n_restarts):
            theta = starts[0].copy()
            theta[0] = rng.uniform(np.log(0.1), np.log(3.0))
            starts.append(theta)
        fits = [self._minimize(th, False, False, h0, maxiter) for th in starts]
        res = min(fits, key=lambda r: r.fun)
        h = self.unpack(res.x, False, False, h0)
        for stage_ard, stage_pn in ((ard, False), (ard, per_neuron)):
            if (stage_ard, stage_pn) == (False, False):
                continue
            res = self._minimize(self.pack(h, stage_ard, stage_pn), stage_ard, stage_pn, h, maxiter)
            h = self.unpack(res.x, stage_ard, stage_pn, h)
            if not per_neuron:
                break
        return h, -float(res.fun)
