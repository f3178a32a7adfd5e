"""One-dimensional kernels for the additive-kernel network, vectorised over neurons.

Each kernel is a function ``kappa(s)`` of a scaled *pair statistic*
``s = pair(a, b) / length_scale**2``, with ``pair = (a - b)**2`` for the stationary kernels and
``a * b`` for the polynomial one. The solvers need ``kappa`` (Gram blocks) and the
tabulation in ``to_module`` the derivative with respect to ``a``,
``kappa'(s) * pair_da(a, b) / length_scale**2``.

Arrays carry a leading neuron axis: ``a`` of shape ``(N, P)``, ``b`` of shape ``(N, Q)`` and
``length_scale`` of shape ``(N,)`` give Gram blocks of shape ``(N, P, Q)``.

For the marginal likelihood every kernel also has a finite *feature expansion* on [0, 1],
``k(a, b; l) ~ sum_q psi_q(a; l) psi_q(b; l)`` (:meth:`Kernel1D.expansion`): exact for the
polynomial kernel (three monomials) and the Hilbert-space (Laplacian eigenfunction)
approximation for the stationary ones, ``psi_q(z) = sqrt(S(w_q) / L) sin(w_q (z - 1/2 + L))``
with ``w_q = pi q / (2 L)`` on ``[1/2 - L, 1/2 + L]``, ``L = 1/2 + c l`` and ``S`` the
spectral density (Solin & Sarkka, Stat. Comput. 30, 419 (2020)). Gram matrices of ``M`` points
then cost ``O(M^2 m)`` matrix-product flops instead of ``M^2`` transcendental evaluations.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Kernel1D", "RBF1D", "Matern52_1D", "Polynomial1D", "KERNELS", "make_kernel"]


class Kernel1D:
    """Base class: ``k(a, b; l) = value(pair(a, b) / l**2)``.

    Subclasses define :meth:`pair`, :meth:`pair_da`, :meth:`value` and :meth:`value_and_ds`,
    and for the feature expansion either :meth:`log_spectral` (stationary kernels) or
    :meth:`expansion` itself.
    """

    name = ""
    stationary = True

    @staticmethod
    def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Length-scale-free pair statistic, shape ``a.shape + b.shape[-1:]``."""
        raise NotImplementedError

    @staticmethod
    def value(s: np.ndarray) -> np.ndarray:
        """Kernel value from the scaled statistic ``s = pair / l**2``."""
        raise NotImplementedError

    @staticmethod
    def value_and_ds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kernel value ``kappa(s)`` and its derivative ``kappa'(s)``."""
        raise NotImplementedError

    @staticmethod
    def pair_da(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Derivative of :meth:`pair` with respect to ``a``, shape ``(N, P, Q)``."""
        return 2.0 * (a[..., :, None] - b[..., None, :])

    def derivative(self, a: np.ndarray, b: np.ndarray, length_scale: np.ndarray) -> np.ndarray:
        """Derivative ``dk(a, b) / da``, shape ``(N, P, Q)``."""
        ls2 = np.asarray(length_scale, dtype=float).reshape(-1, 1, 1) ** 2
        _, ds = self.value_and_ds(self.pair(a, b) / ls2)
        return ds * self.pair_da(a, b) / ls2

    def __call__(self, a: np.ndarray, b: np.ndarray, length_scale: np.ndarray) -> np.ndarray:
        """Gram blocks ``k(a[n, p], b[n, q]; l[n])`` of shape ``(N, P, Q)``."""
        ls = np.asarray(length_scale, dtype=float).reshape(-1, 1, 1)
        return self.value(self.pair(a, b) / ls**2)

    def diag(self, a: np.ndarray, length_scale: np.ndarray) -> np.ndarray:
        """``k(a, a)`` of shape ``(N, P)``."""
        ls = np.asarray(length_scale, dtype=float).reshape(-1, 1)
        return self.value(self.pair(a[..., None], a[..., None])[..., 0, 0] / ls**2)

    # -- finite feature expansion (stationary kernels: Hilbert-space approximation) ---------
    domain = 4.0  # half-width of the expansion domain beyond [0, 1], in length scales
    basis_per_inverse_length = 2.6  # basis functions per 1 / length_scale for ~1e-7 accuracy
    weight_cutoff = 1e-14  # features lighter than this (relative to the first) are dropped

    @staticmethod
    def log_spectral(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log g(u)`` and ``d log g / d log u`` with spectral density ``S(w) = l g(l w)``."""
        raise NotImplementedError

    def n_basis(self, min_length_scale: float) -> int:
        """Size ``m`` of the expansion that is accurate down to ``min_length_scale``."""
        return max(8, int(np.ceil(self.basis_per_inverse_length / min_length_scale)))

    def expansion(
        self, z: np.ndarray, length_scale: np.ndarray, n_basis: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Features with ``k(z_i, z_j; l_n) ~ sum_q psi[i, n, q] psi[j, n, q]`` for ``z`` in [0, 1].

        ``z`` is ``(N, M)`` and ``length_scale`` ``(N,)``. Returns ``psi`` and
        ``dpsi_dz = d psi / dz``, each of shape ``(M, N, m)``, and ``a`` ``(N, m)``
        and ``b`` ``(M, N)`` that give the derivative with respect to ``log(length_scale)``,
        ``psi * a[None] + dpsi_dz * b[..., None]`` (so that gradient sums need no third array).
        ``m <= n_basis``: the stationary kernels leave out the features whose spectral weight
        is below :attr:`weight_cutoff` of the largest for every neuron.
        """
        ls = np.asarray(length_scale, dtype=float)
        half = 0.5 + self.domain * ls  # (N,)
        q = np.arange(1, n_basis + 1)
        omega = (0.5 * np.pi / half)[:, None] * q  # (N, m)
        log_g, dlog_g = self.log_spectral(ls[:, None] * omega)
        # drop the frequencies whose spectral weight is below weight_cutoff of the largest for
        # every neuron: long length scales need few features
        useful = log_g - log_g[:, :1] > np.log(self.weight_cutoff)
        n_keep = max(1, int(useful.sum(1).max()))
        omega, log_g, dlog_g = omega[:, :n_keep], log_g[:, :n_keep], dlog_g[:, :n_keep]
        amp = np.sqrt(ls[:, None] / half[:, None] * np.exp(log_g))  # sqrt(S / L), (N, m)
        c = z.T - 0.5  # (M, N)
        theta = (0.5 * np.pi / half) * (c + half)  # the q-th feature's phase is q * theta
        # sin(q theta) and cos(q theta) for all q at once, as powers of exp(i theta)
        rot = np.cumprod(
            np.broadcast_to(np.exp(1j * theta)[..., None], c.shape + (n_keep,)), axis=2
        )
        psi = rot.imag * amp
        dpsi_dz = rot.real * (amp * omega)
        shrink = self.domain * ls / half  # d log L / d log l
        a = 0.5 * (1.0 + dlog_g * (0.5 / half)[:, None] - shrink[:, None])
        return psi, dpsi_dz, a, -c * shrink

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RBF1D(Kernel1D):
    r"""Squared-exponential kernel.

    .. math::
        k(a, b) = \exp\left(-\frac{(a - b)^2}{2 l^2}\right)
    """

    name = "rbf"

    @staticmethod
    def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a[..., :, None] - b[..., None, :]) ** 2

    @staticmethod
    def value(s: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * s)

    @staticmethod
    def value_and_ds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.exp(-0.5 * s)
        return k, -0.5 * k

    def __call__(self, a: np.ndarray, b: np.ndarray, length_scale: np.ndarray) -> np.ndarray:
        # (a - b)^2 / (2 l^2) with a and b scaled first: one allocation, four in-place passes
        inv = (np.sqrt(0.5) / np.asarray(length_scale, dtype=float)).reshape(-1, 1)
        k = np.subtract((a * inv)[..., :, None], (b * inv)[..., None, :])
        np.square(k, out=k)
        np.negative(k, out=k)
        return np.exp(k, out=k)

    @staticmethod
    def log_spectral(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # S(w) = sqrt(2 pi) l exp(-(l w)^2 / 2)
        return 0.5 * np.log(2.0 * np.pi) - 0.5 * u * u, -u * u


class Matern52_1D(Kernel1D):
    r"""Matern kernel with smoothness 5/2.

    .. math::
        k(a, b) = \left(1 + r + \frac{r^2}{3}\right) e^{-r}, \qquad
        r = \frac{\sqrt{5}\,|a - b|}{l}
    """

    name = "matern52"

    @staticmethod
    def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a[..., :, None] - b[..., None, :]) ** 2

    @staticmethod
    def value(s: np.ndarray) -> np.ndarray:
        r = np.sqrt(5.0 * s)
        return (1.0 + r + r * r / 3.0) * np.exp(-r)

    @staticmethod
    def value_and_ds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = np.sqrt(5.0 * s)
        e = np.exp(-r)
        # dk/dr = -(r / 3)(1 + r) e^{-r} and dr/ds = 5 / (2 r)
        return (1.0 + r + r * r / 3.0) * e, (-5.0 / 6.0) * (1.0 + r) * e

    def __call__(self, a: np.ndarray, b: np.ndarray, length_scale: np.ndarray) -> np.ndarray:
        # r = sqrt(5) |a - b| / l with a and b scaled first, then (1 + r (1 + r / 3)) e^-r
        inv = (np.sqrt(5.0) / np.asarray(length_scale, dtype=float)).reshape(-1, 1)
        r = np.subtract((a * inv)[..., :, None], (b * inv)[..., None, :])
        np.abs(r, out=r)
        k = np.negative(r)
        np.exp(k, out=k)
        k *= 1.0 + r * (1.0 + r / 3.0)
        return k

    basis_per_inverse_length = 5.0  # the spectral density decays only like w^-6
    # Gram entries to ~1e-4 (|l w| <= 12): the expansion domain alone limits them to ~3e-6
    # (the kernel is still 5e-3 at 4 length scales), and all 5 / l features cost 2-3x more
    weight_cutoff = 4e-5

    @staticmethod
    def log_spectral(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # S(w) = (16 / 3) 5^(5/2) l (5 + (l w)^2)^-3
        v = 5.0 + u * u
        return np.log(16.0 / 3.0 * 5.0**2.5) - 3.0 * np.log(v), -6.0 * u * u / v


class Polynomial1D(Kernel1D):
    r"""Quadratic polynomial kernel: every activation is a parabola ``c0 + c1 y + c2 y^2``,
    the square-law shape of a MOS transistor's transfer curve above threshold.

    .. math::
        k(a, b) = \left(1 + \frac{a b}{l^2}\right)^2

    ``l`` sets the weight of the linear and quadratic parts against the constant.
    """

    name = "polynomial"
    stationary = False

    @staticmethod
    def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a[..., :, None] * b[..., None, :]

    @staticmethod
    def value(s: np.ndarray) -> np.ndarray:
        return (1.0 + s) ** 2

    @staticmethod
    def value_and_ds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (1.0 + s) ** 2, 2.0 * (1.0 + s)

    @staticmethod
    def pair_da(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.broadcast_to(b[..., None, :], a.shape + b.shape[-1:])

    def n_basis(self, min_length_scale: float) -> int:
        return 3

    def expansion(
        self, z: np.ndarray, length_scale: np.ndarray, n_basis: int = 3
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Exact: ``(1 + a b / l^2)^2 = 1 + 2 (a / l)(b / l) + (a / l)^2 (b / l)^2``."""
        inv = 1.0 / np.asarray(length_scale, dtype=float)  # (N,)
        zt = z.T  # (M, N)
        one, r2 = np.ones_like(zt), np.sqrt(2.0)
        psi = np.stack([one, r2 * zt * inv, (zt * inv) ** 2], axis=2)
        dpsi_dz = np.stack([0 * zt, r2 * inv * one, 2.0 * zt * inv**2], axis=2)
        a = np.broadcast_to(np.array([0.0, -1.0, -2.0]), (len(inv), 3))
        return psi, dpsi_dz, a, np.zeros_like(zt)


KERNELS: dict[str, type[Kernel1D]] = {
    "rbf": RBF1D,
    "matern52": Matern52_1D,
    "polynomial": Polynomial1D,
}


def make_kernel(name: str) -> Kernel1D:
    """Return the 1-D kernel called ``name`` (one of :data:`KERNELS`).

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.additive.kernels import make_kernel
    >>> k = make_kernel("rbf")
    >>> round(float(k(np.array([[0.0]]), np.array([[1.0]]), np.array([1.0]))[0, 0, 0]), 12)
    0.606530659713
    """
    if name not in KERNELS:
        raise ValueError(
            f"Unknown 1-D kernel {name!r}; valid kernels are {sorted(KERNELS)}."
        )
    return KERNELS[name]()
