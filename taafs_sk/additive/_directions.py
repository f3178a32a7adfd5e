r"""Hidden directions of the additive GP (private): the rule that starts them and their
Monte-Carlo refinement.

:func:`initial_directions` turns ``AdditiveKernelNN(weights=...)`` into unit directions: the
input axes, then scrambled Sobol directions, by default mapped by :func:`gradient_metric`, the
square root of the average outer product of the gradients of cheap isotropic GPs (an active
subspace), so that mixed neurons point where the target changes.

:func:`refine_directions` follows opt-GPRNN (Manzhos & Ihara, arXiv:2509.08457, 2025): each
round replaces the least important quarter of the mixed (non-axis) neurons, by the spread of
their activations over the data, with fresh quasi-random directions, and keeps the change when
the log marginal likelihood improves, at fixed kernel hyperparameters. (The closed-form
leave-one-out error, Rasmussen & Williams 2006 eq. 5.12, was tried as the score instead and
was less accurate; see the user guide.)

A round changes a few neurons only, so the kernel matrix is updated rather than rebuilt:
with the features :math:`\Psi_n` of :class:`~taafs_sk.additive._likelihood.MarginalLikelihood`,
:math:`K' = K - \Psi_{old}\Psi_{old}^T + \Psi_{new}\Psi_{new}^T` (two rank updates of its lower
triangle), and one Cholesky factorisation scores the trial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.linalg import blas, lapack
from scipy.stats import qmc

from ._likelihood import (
    _GRID,
    _GRID_ROWS,
    Hyperparameters,
    MarginalLikelihood,
    _profile_variance_and_noise,
)

__all__ = ["gradient_metric", "initial_directions", "refine_directions", "sobol_directions"]


def sobol_directions(n: int, d: int, rng: np.random.RandomState) -> np.ndarray:
    """``n`` scrambled Sobol points of [-1, 1]^d (``(n, d)``, not normalised)."""
    if n == 0:
        return np.empty((0, d))
    sampler = qmc.Sobol(d, scramble=True, seed=rng.randint(2**31 - 1))
    pts = sampler.random_base2(int(np.ceil(np.log2(max(n, 2)))))[:n]
    return 2.0 * pts - 1.0


def initial_directions(
    weights, n_neurons: int | None, solver: str, xs: np.ndarray, t: np.ndarray,
    rng: np.random.RandomState,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Unit hidden directions ``(N, d)`` in the rescaled input space ``xs`` for
    ``AdditiveKernelNN(weights=weights, n_neurons=n_neurons)`` with the solver ``solver``
    (``"exact"`` or ``"inducing"``), and the matrix that maps Sobol points to mixed
    directions (``None``: the identity)."""
    d = xs.shape[1]
    metric = None
    if not isinstance(weights, str):
        w = np.asarray(weights, dtype=float)
        if w.ndim != 2 or w.shape[1] != d or n_neurons not in (None, w.shape[0]):
            raise ValueError(
                f"AdditiveKernelNN: weights must have shape (n_neurons, n_features) = "
                f"({n_neurons or 'N'}, {d}); got {w.shape}."
            )
    elif weights == "identity":
        if n_neurons not in (None, d):
            raise ValueError(
                f"AdditiveKernelNN: weights='identity' needs n_neurons=None or {d} "
                f"(n_features); got n_neurons={n_neurons}. Use weights='gradient' "
                "for more."
            )
        w = np.eye(d)
    else:
        n = n_neurons or (4 if solver == "exact" else 2) * d
        if weights == "random":
            w = rng.normal(size=(n, d))
        else:
            w = sobol_directions(n - min(n, d), d, rng)
            if weights == "gradient" and len(w):
                metric = gradient_metric(xs, t, rng)
                w = w @ metric
            w = np.vstack([np.eye(d)[:n], w])
    norm = np.linalg.norm(w, axis=1, keepdims=True)
    if not np.all(np.isfinite(w)) or np.any(norm == 0):
        raise ValueError("AdditiveKernelNN: every hidden direction must be finite and nonzero.")
    return w / norm, metric


def gradient_metric(
    xs: np.ndarray,
    t: np.ndarray,
    rng: np.random.RandomState,
    n_steps: int = 3,
    max_rows: int = _GRID_ROWS,
) -> np.ndarray:
    r"""Square root of the expected gradient outer product of cheap isotropic GPs.

    A Gaussian process with one isotropic RBF kernel over all features,
    :math:`k(x, x') = s \exp(-|x - x'|^2 / 2 l^2) + \sigma^2 \delta`, is fitted to ``t`` on
    (at most ``max_rows`` randomly chosen) rows of ``xs``; ``l`` comes from a grid of
    :data:`_GRID` values scaled to the RMS pair distance, each scored by the exact
    likelihood profile over ``s`` and :math:`\sigma^2` (one eigendecomposition each). The
    gradients :math:`g_j = \nabla f(x_j)` of its posterior mean give
    :math:`C = \frac{1}{M}\sum_j g_j g_j^T`, whose leading eigenvectors span the directions
    along which the target changes (the active subspace). Each further step refits the GP on
    the inputs mapped by the current :math:`C^{1/2}` (a learned Mahalanobis metric, as ARD
    would give, but with off-diagonal terms) and recomputes :math:`C` with the chain rule.

    Parameters
    ----------
    xs : ndarray of shape (M, D)
        Inputs rescaled to [0, 1].
    t : ndarray of shape (M,)
        Centred (and scaled) targets.
    rng : RandomState
        Chooses the row subset.
    n_steps : int, default=3
        Fits of the isotropic GP.
    max_rows : int, default=512
        Rows (at most) the GPs see.

    Returns
    -------
    root : ndarray of shape (D, D)
        Symmetric :math:`C^{1/2}`, scaled to unit largest eigenvalue, its eigenvalues floored
        at ``1e-3`` so that no direction is lost; the identity if the gradients vanish.
    """
    m, d = xs.shape
    if m < 3 or not np.any(t):
        return np.eye(d)
    if m > max_rows:
        rows = np.sort(rng.choice(m, max_rows, replace=False))
        xs, t = xs[rows], t[rows]
        m = max_rows
    root, start = np.eye(d), None
    for _ in range(n_steps):
        grad, start = _isotropic_gradients(xs @ root, t, start)
        grad = grad @ root  # chain rule, root symmetric
        lam, vec = linalg.eigh(grad.T @ grad / m, check_finite=False)
        top = lam.max(initial=0.0)
        if not np.isfinite(top) or top <= 0.0:
            return root
        lam = np.maximum(lam / top, 1e-6)  # eigenvalues of C: a floor of 1e-3 on its root
        root = (vec * np.sqrt(lam)) @ vec.T
    return root


def _isotropic_gradients(
    xs: np.ndarray, t: np.ndarray, start: int | None = None
) -> tuple[np.ndarray, int]:
    """Posterior-mean gradients ``(M, D)`` at the training points of a GP with an isotropic
    RBF kernel, its length scale from a grid scaled to the RMS pair distance, and the index
    of that grid point.

    Without ``start`` every grid point is scored; with it, the search walks downhill on the
    grid from index ``start`` (the profile is unimodal in practice, so it ends at the same
    point with a fraction of the eigendecompositions).
    """
    sq = (xs * xs).sum(1)
    dist2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * xs @ xs.T, 0.0)
    rms = np.sqrt(max(dist2.mean(), 1e-300))
    grid = rms * np.exp(np.linspace(np.log(0.05), np.log(8.0), _GRID))
    values: dict[int, float] = {}
    lowest: list = [None, None]  # the index with the lowest value so far, and its arrays

    def score(i: int) -> float:
        if i not in values:
            kmat = np.exp(-0.5 * dist2 / grid[i] ** 2)
            lam, vec = linalg.eigh(kmat, check_finite=False)
            lam = np.maximum(lam, 0.0)
            proj = vec.T @ t
            values[i], amp, noise = _profile_variance_and_noise(lam, proj**2)
            if lowest[0] is None or values[i] < values[lowest[0]]:
                lowest[:] = i, (kmat, lam, vec, proj, amp, noise)
        return values[i]

    if start is None:
        best = min(range(_GRID), key=score)
    else:
        best = start
        while True:
            steps = [j for j in (best - 1, best + 1) if 0 <= j < _GRID]
            nxt = min(steps, key=score)
            if score(nxt) >= score(best):
                break
            best = nxt
    assert lowest[0] == best  # every point evaluated on the way is at least as high
    kmat, lam, vec, proj, amp, noise = lowest[1]
    alpha = vec @ (proj / (amp * lam + noise))
    weighted = amp * kmat * alpha[None, :]  # weighted[j, i] = s k(x_j, x_i) alpha_i
    grad = (weighted @ xs - weighted.sum(1)[:, None] * xs) / grid[best] ** 2
    return grad, best


@dataclass
class _State:
    directions: np.ndarray  # (N, D) unit rows
    psi: np.ndarray  # (M, N, q) features, times sqrt(amplitude)
    gram: np.ndarray  # (M, M) lower triangle of Psi Psi^T (no noise); the rest is unused
    score: float  # log marginal likelihood (without the constant)
    spread: np.ndarray  # (N,) standard deviation of each activation over the data


class _Scorer:
    """Features of any set of directions and the likelihood of a Gram matrix, at fixed ``h``."""

    def __init__(self, ml: MarginalLikelihood, h: Hyperparameters) -> None:
        self.ml, self.h = ml, h
        self.n_features: int | None = None

    def features(self, directions: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """``(M, len(slots), q)`` features of ``directions`` placed in neuron ``slots`` (whose
        length scale and prior variance they take)."""
        ml, h = self.ml, self.h
        sub = MarginalLikelihood(ml.kernel, ml.xs, directions, ml.t)
        hs = Hyperparameters(h.length_scale[slots], h.amplitude[slots], h.noise, h.feature_scale)
        ls = sub.effective_length_scale(hs)[0]
        psi = ml.kernel.expansion(sub.coordinates(h.feature_scale), ls, ml.n_basis)[0]
        psi *= np.sqrt(hs.amplitude)[:, None]
        if self.n_features is None:
            self.n_features = psi.shape[2]
        q = self.n_features  # a subset keeps no more features than the full set
        if psi.shape[2] < q:
            psi = np.concatenate([psi, np.zeros(psi.shape[:2] + (q - psi.shape[2],))], axis=2)
        return psi[:, :, :q]

    def score(
        self, gram: np.ndarray, psi: np.ndarray, slots=None, new: np.ndarray | None = None
    ) -> tuple[float, np.ndarray] | None:
        """Log marginal likelihood of ``K = gram + noise I`` (without the constant; ``None`` if
        ``K`` is not positive definite) and the spread of every neuron's posterior-mean
        activation, with the features of neurons ``slots`` replaced by ``new``."""
        t, m = self.ml.t, len(self.ml.t)
        kmat = gram.copy()
        kmat[np.diag_indices(m)] += self.h.noise
        chol, info = lapack.dpotrf(kmat, lower=1, clean=1, overwrite_a=1)
        if info != 0:
            return None
        alpha, _ = lapack.dpotrs(chol, t, lower=1)
        value = -0.5 * t @ alpha - np.log(np.diag(chol)).sum()
        phi = _activations(psi, alpha)
        if slots is not None:
            phi[:, slots] = _activations(new, alpha)
        return float(value), phi.std(axis=0)


def _activations(psi: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Posterior-mean activations ``psi_n (psi_n^T alpha)`` at the data, ``(M, N)``."""
    m, n, q = psi.shape
    weights = (alpha @ psi.reshape(m, -1)).reshape(n, q)
    return np.einsum("inq,nq->in", psi, weights)


def refine_directions(
    ml: MarginalLikelihood,
    h: Hyperparameters,
    n_rounds: int,
    rng: np.random.RandomState,
    metric: np.ndarray | None = None,
) -> tuple[np.ndarray, bool]:
    """Monte-Carlo refinement of ``ml``'s directions at fixed hyperparameters ``h``.

    Each round draws fresh Sobol directions (times ``metric`` if given) for the least
    important quarter of the mixed neurons and keeps them if the likelihood improves.
    Returns the directions ``(N, D)`` and whether any round was accepted.
    """
    scorer = _Scorer(ml, h)
    slots = np.arange(ml.n_neurons)
    psi = scorer.features(ml.p, slots)
    gram = blas.dsyrk(1.0, psi.reshape(len(ml.t), -1).T, trans=1, lower=1)
    first = scorer.score(gram, psi)
    if first is None:
        return ml.p, False
    state = _State(ml.p.copy(), psi, gram, *first)
    mixed = np.flatnonzero(np.abs(ml.p).max(1) < 1.0 - 1e-12)
    accepted = False
    for _ in range(n_rounds if len(mixed) else 0):
        weakest = mixed[np.argsort(state.spread[mixed])[: max(1, len(mixed) // 4)]]
        fresh = sobol_directions(len(weakest), ml.p.shape[1], rng)
        if metric is not None:
            fresh = fresh @ metric
        norm = np.linalg.norm(fresh, axis=1, keepdims=True)
        fresh = fresh / np.where(norm > 0, norm, 1.0)
        new = scorer.features(fresh, weakest)
        old = np.ascontiguousarray(state.psi[:, weakest]).reshape(len(ml.t), -1)
        gram = blas.dsyrk(-1.0, old.T, beta=1.0, c=state.gram, trans=1, lower=1)
        gram = blas.dsyrk(1.0, new.reshape(len(ml.t), -1).T, beta=1.0, c=gram, trans=1,
                          lower=1, overwrite_c=1)
        result = scorer.score(gram, state.psi, weakest, new)
        if result is not None and result[0] > state.score:
            state.psi[:, weakest] = new  # the state owns its arrays
            state.directions[weakest] = fresh
            state.gram, (state.score, state.spread) = gram, result
            accepted = True
    return state.directions, accepted
