"""The base class of the 1-D kernels of the additive-kernel network and the contract it sets.

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

__all__ = ["Kernel1D", "missing_methods"]


class Kernel1D:
    r"""Base class of the 1-D kernels: ``k(a, b; l) = value(pair(a, b) / l**2)``.

    A kernel object holds no length scale: the estimator passes one per neuron. Pass an
    instance as ``AdditiveKernelNN(kernel=...)``, or register its class under a name with
    :func:`~taafs_sk.additive.register_kernel`. Instances must be picklable (no lambdas or
    open resources as attributes), because ``clone``, ``pickle`` and parallel grid searches
    copy them.

    **What a subclass defines.** A stationary kernel (a function of ``a - b``) needs three
    static methods; everything else is derived from them:

    - :meth:`value` ``(s) -> kappa(s)``, with ``s = (a - b)**2 / l**2``;
    - :meth:`value_and_ds` ``(s) -> (kappa(s), kappa'(s))``;
    - :meth:`log_spectral` ``(u) -> (log g(u), d log g / d log u)``, where the spectral density
      is ``S(w) = l g(l w)`` (:math:`k(r) = \frac{1}{2\pi}\int S(w) e^{i w r} dw`); it feeds
      the Hilbert-space feature expansion used by the marginal likelihood and the direction
      search.

    A non-stationary kernel sets ``stationary = False`` and defines :meth:`pair` and
    :meth:`pair_da` (the defaults are the squared difference and its derivative), and,
    having no spectral density, :meth:`expansion` itself (and :meth:`n_basis` if ``m`` is
    not ``basis_per_inverse_length / min_length_scale``), as
    :class:`~taafs_sk.additive.Polynomial1D` does.

    **What the estimator calls.** Every method works on a leading neuron axis: ``a`` of
    shape ``(N, P)``, ``b`` ``(N, Q)`` and ``length_scale`` ``(N,)``. The solvers call
    ``kernel(a, b, length_scale)`` (:meth:`__call__`, Gram blocks of shape ``(N, P, Q)``)
    and :meth:`diag` (predictive variances); the likelihood and the direction search call
    :meth:`n_basis` and :meth:`expansion`; ``to_module`` calls :meth:`derivative`;
    ``ard=True`` is applied only when :attr:`stationary` is true. A
    subclass may override :meth:`__call__` with a faster formula (the built-ins do), but it
    must agree with :meth:`value`. :attr:`domain`, :attr:`basis_per_inverse_length` and
    :attr:`weight_cutoff` tune the Hilbert expansion of a stationary kernel: a spectral
    density that decays slowly needs more features per inverse length scale, or a larger
    cutoff to keep their number down.

    **What is checked.** ``fit`` (and :func:`~taafs_sk.additive.register_kernel`) refuses,
    with a ``TypeError`` naming the missing methods, a kernel that does not define
    :meth:`value` and :meth:`value_and_ds`, a stationary kernel without
    :meth:`log_spectral` or :meth:`expansion`, a non-stationary one without
    :meth:`expansion`, and one that redefines :meth:`pair` but not :meth:`pair_da`.

    Examples
    --------
    A Laplacian (Matern 1/2) kernel, ``k = exp(-|a - b| / l)``, with the spectral density
    ``S(w) = 2 l / (1 + (l w)^2)``:

    >>> import numpy as np
    >>> from taafs_sk.additive import Kernel1D
    >>> class Laplace1D(Kernel1D):
    ...     @staticmethod
    ...     def value(s):
    ...         return np.exp(-np.sqrt(s))
    ...     @staticmethod
    ...     def value_and_ds(s):
    ...         r = np.sqrt(s)
    ...         return np.exp(-r), -0.5 * np.exp(-r) / np.maximum(r, 1e-300)
    ...     @staticmethod
    ...     def log_spectral(u):
    ...         return np.log(2.0) - np.log1p(u * u), -2.0 * u * u / (1.0 + u * u)
    >>> k = Laplace1D()
    >>> round(float(k(np.array([[0.0]]), np.array([[0.5]]), np.array([0.5]))[0, 0, 0]), 6)
    0.367879
    """

    name = ""
    stationary = True

    @staticmethod
    def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Length-scale-free pair statistic, shape ``a.shape + b.shape[-1:]``: ``(a - b)**2``
        unless overridden."""
        return (a[..., :, None] - b[..., None, :]) ** 2

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
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


Kernel1D.__module__ = "taafs_sk.additive"  # its public home, in error messages and pickles


def _defines(cls: type, method: str) -> bool:
    return getattr(cls, method, None) is not getattr(Kernel1D, method)


def missing_methods(cls: type) -> list[str]:
    """What the :class:`Kernel1D` subclass ``cls`` lacks of the contract (empty if nothing)."""
    missing = [m for m in ("value", "value_and_ds") if not _defines(cls, m)]
    if not _defines(cls, "expansion"):
        if not cls.stationary:
            missing.append("expansion (a non-stationary kernel has no spectral density)")
        elif not _defines(cls, "log_spectral"):
            missing.append("log_spectral (or expansion)")
    if _defines(cls, "pair") and not _defines(cls, "pair_da"):
        missing.append("pair_da (pair is redefined)")
    return missing
