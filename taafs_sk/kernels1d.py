"""One-dimensional kernels for the additive-kernel network, vectorised over neurons.

Each kernel is a function ``kappa(s)`` of a scaled *pair statistic*
``s = pair(a, b) / length_scale**2``, with ``pair = (a - b)**2`` for the stationary kernels and
``a * b`` for the polynomial one. The additive solvers need ``kappa`` and ``kappa'(s)``: the
derivative with respect to ``log(length_scale)`` is ``-2 s kappa'(s)`` and the one with
respect to ``a`` is ``kappa'(s) * pair_da(a, b) / length_scale**2``.

Arrays carry a leading neuron axis: ``a`` of shape ``(N, P)``, ``b`` of shape ``(N, Q)`` and
``length_scale`` of shape ``(N,)`` give Gram blocks of shape ``(N, P, Q)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Kernel1D", "RBF1D", "Matern52_1D", "Polynomial1D", "KERNELS", "make_kernel"]


class Kernel1D:
    """Base class: ``k(a, b; l) = value(pair(a, b) / l**2)``.

    Subclasses define :meth:`pair`, :meth:`pair_da`, :meth:`value` and :meth:`value_and_ds`.
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

    @staticmethod
    def pair_into(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """:meth:`pair` of ``a`` with itself, written into ``out`` (no allocation)."""
        np.subtract(a[..., :, None], a[..., None, :], out=out)
        return np.square(out, out=out)

    def evaluate_inplace(self, s: np.ndarray, k: np.ndarray) -> None:
        """Write ``kappa(s)`` into ``k`` and ``kappa'(s)`` over ``s``."""
        k[...], s[...] = self.value_and_ds(s)

    @staticmethod
    def contract(y: np.ndarray, q_row: np.ndarray, q_y: np.ndarray, ls2: np.ndarray):
        """Gradient sums from ``Q = W * kappa'(s)`` of a block of neurons with coordinates ``y``.

        With ``q_row = Q 1`` and ``q_y = Q y`` (both ``(n, M)``) returns
        ``sum_ij W_ij dk_ij / dlog l`` of shape ``(n,)`` and
        ``r_i = sum_j W_ij dk_ij / dy_i`` of shape ``(n, M)``. For ``pair = (a - b)**2``:
        ``sum_ij Q_ij (y_i - y_j)**2 = 2 y**2 . Q 1 - 2 y . Q y``.
        """
        quad = 2.0 * ((y * y * q_row).sum(1) - (y * q_y).sum(1))
        return -2.0 * quad / ls2, 2.0 * (y * q_row - q_y) / ls2[:, None]

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

    def evaluate_inplace(self, s: np.ndarray, k: np.ndarray) -> None:
        np.multiply(s, -0.5, out=k)
        np.exp(k, out=k)
        np.multiply(k, -0.5, out=s)


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
    def pair_into(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.multiply(a[..., :, None], a[..., None, :], out=out)

    def evaluate_inplace(self, s: np.ndarray, k: np.ndarray) -> None:
        s += 1.0
        np.square(s, out=k)
        s *= 2.0

    @staticmethod
    def pair_da(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.broadcast_to(b[..., None, :], a.shape + b.shape[-1:])

    @staticmethod
    def contract(y: np.ndarray, q_row: np.ndarray, q_y: np.ndarray, ls2: np.ndarray):
        # pair = y_i y_j: sum_ij Q_ij y_i y_j = y . Q y and dk_ij / dy_i = kappa' y_j / l^2
        return -2.0 * (y * q_y).sum(1) / ls2, q_y / ls2[:, None]


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
    >>> from taafs_sk.kernels1d import make_kernel
    >>> k = make_kernel("rbf")
    >>> float(k(np.array([[0.0]]), np.array([[1.0]]), np.array([1.0]))[0, 0, 0])
    0.6065306597126334
    """
    if name not in KERNELS:
        raise ValueError(
            f"Unknown 1-D kernel {name!r}; valid kernels are {sorted(KERNELS)}."
        )
    return KERNELS[name]()
