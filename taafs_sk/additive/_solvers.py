"""Solvers behind :class:`~taafs_sk.additive.estimator.AdditiveKernelNN` (private).

The model is a Gaussian process on ``N`` hidden coordinates ``z_n`` (one per neuron, each
rescaled to [0, 1] on the training data) with the additive kernel

.. math::
    K(x, x') = \\sum_{n=1}^{N} s_n\\, k(z_n, z_n'; l_n) + \\sigma^2 \\delta_{x x'}

``ExactSolver`` solves with the full ``M x M`` Gram matrix (hyperparameters come from
:mod:`taafs_sk.additive._likelihood`). ``InducingSolver`` represents every activation by ``m``
inducing points at quantiles of the neuron's coordinate (subset of regressors / DTC with
whitened Nystrom features), so that its cost is ``O(M (N m)^2)`` and its memory linear in
``M``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import linalg
from scipy.linalg import blas
from threadpoolctl import threadpool_limits

from ._likelihood import LOG_BOUNDS, Hyperparameters
from .kernels import Kernel1D

__all__ = ["ExactSolver", "InducingSolver", "neuron_outputs"]

_CHUNK = 2**21  # elements per temporary block (16 MiB)
_SMALL = 1000  # linear systems up to this size are solved on one BLAS thread


def _blas_threads(size: int) -> threadpool_limits:
    """One BLAS thread for small systems, where threading costs more than it saves."""
    return threadpool_limits(limits=1 if size <= _SMALL else None, user_api="blas")


def _chunks(n: int, per_item: int, budget: int = _CHUNK) -> list[slice]:
    step = max(1, budget // max(per_item, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def neuron_outputs(
    kernel: Kernel1D,
    z: np.ndarray,
    centers: np.ndarray,
    coef: np.ndarray,
    length_scale: np.ndarray,
    amplitude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Activation values ``phi_n(z_n) = sum_q coef[n, q] k(z_n, centers[n, q]; l_n)``.

    ``z`` is ``(N, P)``, ``centers`` and ``coef`` are ``(N, Q)``. Returns ``phi`` of shape
    ``(N, P)`` and, when ``amplitude`` is given, the summed cross Gram matrix
    ``sum_n amplitude[n] k(z_n, centers_n)`` of shape ``(P, Q)``. Memory is bounded by
    processing the ``P`` points in blocks.
    """
    n, p = z.shape
    phi = np.empty((n, p))
    cross = None if amplitude is None else np.empty((p, centers.shape[1]))
    for sl in _chunks(p, n * centers.shape[1]):  # larger blocks run 4x slower
        k = kernel(z[:, sl], centers, length_scale)  # (N, p_chunk, Q)
        phi[:, sl] = (k @ coef[:, :, None])[..., 0]  # batched matrix-vector products
        if cross is not None:
            cross[sl] = np.tensordot(amplitude, k, axes=1)
    return phi, cross


class ExactSolver:
    """Exact additive GP on training coordinates ``z`` of shape ``(N, M)``."""

    def __init__(self, kernel: Kernel1D, z: np.ndarray) -> None:
        self.kernel = kernel
        self.z = z

    def gram(self, h: Hyperparameters) -> np.ndarray:
        """``sum_n s_n k_n`` on the training points, ``(M, M)`` (no noise)."""
        n, m = self.z.shape
        gram = np.zeros(m * m)
        for sl in _chunks(n, m * m):
            k = self.kernel(self.z[sl], self.z[sl], h.length_scale[sl])
            gram += k.reshape(len(k), -1).T @ h.amplitude[sl]
        return gram.reshape(m, m)

    def fit(self, t: np.ndarray, h: Hyperparameters) -> ExactSolver:
        """Posterior weights ``c = (K + sigma^2 I)^{-1} t`` for fixed hyperparameters."""
        with _blas_threads(self.z.shape[1]):
            return self._fit(t, h)

    def _fit(self, t: np.ndarray, h: Hyperparameters) -> ExactSolver:
        m = self.z.shape[1]
        kmat = self.gram(h)
        kmat[np.diag_indices(m)] += h.noise
        self.hyper_ = h
        self.chol_ = linalg.cholesky(kmat, lower=True, check_finite=False)
        self.dual_coef_ = linalg.cho_solve((self.chol_, True), t, check_finite=False)
        self.log_marginal_likelihood_ = float(
            -0.5 * t @ self.dual_coef_
            - np.log(np.diag(self.chol_)).sum()
            - 0.5 * m * np.log(2 * np.pi)
        )
        return self

    def representation(self) -> tuple[np.ndarray, np.ndarray]:
        """``centers (N, M)`` and ``coef (N, M)`` with ``phi_n = sum_i coef k(z, center)``."""
        return self.z, self.hyper_.amplitude[:, None] * self.dual_coef_[None, :]

    def predict(self, z: np.ndarray, return_var: bool = False):
        """Per-neuron activations ``(N, P)`` and, if asked, the predictive variance of ``y``."""
        h = self.hyper_
        centers, coef = self.representation()
        phi, cross = neuron_outputs(
            self.kernel, z, centers, coef, h.length_scale, h.amplitude if return_var else None
        )
        if not return_var:
            return phi, None
        v = linalg.solve_triangular(self.chol_, cross.T, lower=True, check_finite=False)
        prior = self.kernel.diag(z, h.length_scale).T @ h.amplitude
        return phi, np.maximum(prior - (v * v).sum(0), 0.0) + h.noise


class InducingSolver:
    """Additive subset-of-regressors model with ``m`` inducing points per neuron.

    The inducing points of neuron ``n`` sit at ``m`` evenly spaced quantiles of its training
    coordinates (the ends included), so they follow the data when it is bunched or has long
    tails. Each activation is ``phi_n(z) = psi_n(z) . b_n`` with whitened Nystrom features
    ``psi_n(z) = sqrt(s_n) Lambda_n^{-1/2} V_n^T k(u, z)`` (``K_uu = V Lambda V^T``,
    eigenvalues below ``1e-10`` of the largest dropped, e.g. for repeated quantiles of a
    discrete coordinate), so the normal equations ``(Psi^T Psi + sigma^2 I) b = Psi^T t`` are
    well conditioned. ``Psi^T Psi`` is accumulated over blocks of rows, so memory does not
    grow with ``M``.
    """

    def __init__(self, kernel: Kernel1D, n_inducing: int, h: Hyperparameters) -> None:
        self.kernel = kernel
        self.n_inducing = n_inducing
        self.hyper_ = h

    def _set_inducing(self, z: np.ndarray) -> None:
        h = self.hyper_
        self.inducing_ = np.quantile(z, np.linspace(0.0, 1.0, self.n_inducing), axis=1).T
        kuu = self.kernel(self.inducing_, self.inducing_, h.length_scale)  # (N, m, m)
        lam, vec = np.linalg.eigh(kuu)
        keep = lam > 1e-10 * lam[:, -1:]
        inv_sqrt = np.where(keep, 1.0 / np.sqrt(np.where(keep, lam, 1.0)), 0.0)
        self.transform_ = vec * inv_sqrt[:, None, :] * np.sqrt(h.amplitude)[:, None, None]

    def features(self, z: np.ndarray) -> np.ndarray:
        """Whitened features ``Psi`` of shape ``(P, N m)`` for coordinates ``z (N, P)``."""
        k = self.kernel(z, self.inducing_, self.hyper_.length_scale)  # (N, P, m)
        psi = k @ self.transform_  # (N, P, m)
        return psi.transpose(1, 0, 2).reshape(z.shape[1], -1)

    def _normal_equations(self, z: np.ndarray, t: np.ndarray, mask: np.ndarray):
        """``Psi^T Psi``, ``Psi^T t`` and ``t^T t`` over the rows in ``mask``, block by block."""
        r = self.transform_.shape[0] * self.transform_.shape[2]
        gram, rhs, tt = np.zeros((r, r), order="F"), np.zeros(r), 0.0
        idx = np.flatnonzero(mask)
        for sl in _chunks(len(idx), r):
            psi = self.features(z[:, idx[sl]])  # C-ordered, so psi.T is Fortran-ordered
            gram = blas.dsyrk(1.0, psi.T, beta=1.0, c=gram, lower=1, overwrite_c=1)
            rhs += psi.T @ t[idx[sl]]
            tt += t[idx[sl]] @ t[idx[sl]]
        gram += np.tril(gram, -1).T  # the lower triangle, mirrored
        return gram, rhs, tt

    def fit(
        self, z: np.ndarray, t: np.ndarray, rng: np.random.RandomState, select_noise: bool
    ) -> InducingSolver:
        """Solve for the weights; with ``select_noise`` pick ``sigma^2`` on a 20% hold-out."""
        with _blas_threads(z.shape[0] * self.n_inducing):
            return self._fit(z, t, rng, select_noise)

    def _fit(self, z, t, rng, select_noise) -> InducingSolver:
        self._set_inducing(z)
        m = z.shape[1]
        val = rng.rand(m) < 0.2 if select_noise and m >= 20 else np.zeros(m, dtype=bool)
        g_tr, r_tr, tt_tr = self._normal_equations(z, t, ~val)
        noise = self.hyper_.noise
        if val.any():
            g_va, r_va, tt_va = self._normal_equations(z, t, val)
            grid = np.clip(noise * np.logspace(-2, 3, 11), *np.exp(LOG_BOUNDS["noise"]))
            err = [self._holdout_error(g_tr, r_tr, g_va, r_va, tt_va, s) for s in grid]
            noise = float(grid[int(np.argmin(err))])
            g_tr += g_va
            r_tr, tt_tr = r_tr + r_va, tt_tr + tt_va
            del g_va
        self.hyper_ = replace(self.hyper_, noise=noise)
        g_tr[np.diag_indices(len(r_tr))] += noise
        self.chol_ = linalg.cholesky(g_tr, lower=True, overwrite_a=True, check_finite=False)
        self.weights_ = linalg.cho_solve((self.chol_, True), r_tr, check_finite=False)
        logdet = 2 * np.log(np.diag(self.chol_)).sum() + (m - len(r_tr)) * np.log(noise)
        quad = (tt_tr - r_tr @ self.weights_) / noise
        self.log_marginal_likelihood_ = float(-0.5 * (quad + logdet + m * np.log(2 * np.pi)))
        return self

    @staticmethod
    def _holdout_error(g_tr, r_tr, g_va, r_va, tt_va, noise: float) -> float:
        a = g_tr.copy()
        a[np.diag_indices(len(r_tr))] += noise
        try:
            c = linalg.cho_factor(a, lower=True, overwrite_a=True, check_finite=False)
        except linalg.LinAlgError:
            return np.inf
        b = linalg.cho_solve(c, r_tr, check_finite=False)
        return float(tt_va - 2 * b @ r_va + b @ (g_va @ b))

    def representation(self) -> tuple[np.ndarray, np.ndarray]:
        """``centers (N, m)`` and ``coef (N, m)`` with ``phi_n = sum_j coef k(z, u_j)``."""
        n, m, _ = self.transform_.shape
        b = self.weights_.reshape(n, m)
        return np.asarray(self.inducing_), np.einsum("nij,nj->ni", self.transform_, b)

    def predict(self, z: np.ndarray, return_var: bool = False):
        """Per-neuron activations ``(N, P)`` and, if asked, the DTC predictive variance."""
        h = self.hyper_
        centers, coef = self.representation()
        phi, _ = neuron_outputs(self.kernel, z, centers, coef, h.length_scale)
        if not return_var:
            return phi, None
        var = np.empty(z.shape[1])
        prior = self.kernel.diag(z, h.length_scale).T @ h.amplitude
        r = self.chol_.shape[0]
        for sl in _chunks(z.shape[1], r):
            psi = self.features(z[:, sl])
            v = linalg.solve_triangular(self.chol_, psi.T, lower=True, check_finite=False)
            var[sl] = prior[sl] - (psi * psi).sum(1) + h.noise * (v * v).sum(0)
        return phi, np.maximum(var, 0.0) + h.noise
