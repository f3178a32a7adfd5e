"""One-dimensional kernels for the additive-kernel network, and the registry of kernel names.

The built-in kernels are :class:`RBF1D` (``"rbf"``), :class:`Matern52_1D` (``"matern52"``) and
:class:`Polynomial1D` (``"polynomial"``). :class:`Kernel1D` (defined in
:mod:`taafs_sk.additive._kernel_base`) documents what a new kernel implements;
:func:`register_kernel` makes its name known to every :class:`~taafs_sk.AdditiveKernelNN`,
and :func:`make_kernel` resolves a name or checks an instance.
"""

from __future__ import annotations

import copy

import numpy as np

from .._registry import Registry
from .._validation import RegisteredNames
from ._kernel_base import Kernel1D, missing_methods

__all__ = [
    "KERNELS", "KERNEL_REGISTRY", "Kernel1D", "Matern52_1D", "Polynomial1D", "RBF1D",
    "kernel_names", "make_kernel", "register_kernel",
]


class RBF1D(Kernel1D):
    r"""Squared-exponential kernel.

    .. math::
        k(a, b) = \exp\left(-\frac{(a - b)^2}{2 l^2}\right)
    """

    name = "rbf"

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


def _check_registrable(cls: type[Kernel1D], owner: str) -> None:
    """A registered kernel fulfils the contract and can be made without arguments."""
    _check_contract(cls, owner)
    try:
        cls()
    except TypeError as exc:
        raise TypeError(
            f"{owner}: {cls.__name__} must be constructible without arguments, as "
            f"make_kernel(name) does; {exc}. Pass an instance as kernel= instead."
        ) from exc


KERNEL_REGISTRY = Registry(
    Kernel1D,
    {"rbf": RBF1D, "matern52": Matern52_1D, "polynomial": Polynomial1D},
    what="kernel", register_name="register_kernel", base_path="taafs_sk.additive.Kernel1D",
    check=_check_registrable,
)
#: Kernel name -> :class:`Kernel1D` subclass; read by ``AdditiveKernelNN.fit``. Add to it with
#: :func:`register_kernel`.
KERNELS: dict[str, type[Kernel1D]] = KERNEL_REGISTRY.classes


def kernel_names() -> RegisteredNames:
    """The constraint on ``kernel`` names: those in :data:`KERNELS` when ``fit`` runs."""
    return RegisteredNames(KERNEL_REGISTRY.names,
                           hint="add one with taafs_sk.additive.register_kernel")


def register_kernel(name: str, cls: type[Kernel1D], *, overwrite: bool = False) -> type[Kernel1D]:
    """Make the kernel class ``cls`` available as ``AdditiveKernelNN(kernel=name)``.

    The name is known to every estimator at once: ``fit`` reads :data:`KERNELS` when it runs.
    A pickled :class:`~taafs_sk.AdditiveKernelNN` carries the registered
    ``(name, cls)`` pairs (those whose class pickles by reference, i.e. is importable) and
    registers them again where it is unpickled, for example in the worker processes of
    ``GridSearchCV(n_jobs=2)``, so that a grid over names works there; a process that gives a
    name to another class keeps it, with a warning.

    Parameters
    ----------
    name : str
        The new kernel name.
    cls : type
        A subclass of :class:`Kernel1D` that implements its contract and can be constructed
        without arguments.
    overwrite : bool, default=False
        Replace a built-in kernel or an earlier registration of ``name``. Registering the
        same class again (or a re-run of its definition) is always allowed.

    Returns
    -------
    cls : type
        The registered class.

    Notes
    -----
    The rules are those of every plug-in family of taafs-sk (:mod:`taafs_sk._registry`):
    basis families of :class:`~taafs_sk.TAAFSRegressor` register the same way.

    Examples
    --------
    >>> from taafs_sk.additive import KERNELS, RBF1D, register_kernel
    >>> class Gaussian1D(RBF1D):
    ...     pass
    >>> register_kernel("gaussian", Gaussian1D).__name__
    'Gaussian1D'
    >>> del KERNELS["gaussian"]
    """
    return KERNEL_REGISTRY.register(name, cls, overwrite=overwrite)


def make_kernel(kernel: str | Kernel1D) -> Kernel1D:
    """Return the 1-D kernel called ``kernel`` (a key of :data:`KERNELS`), or a copy of the
    :class:`Kernel1D` instance ``kernel`` after checking its contract.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.additive.kernels import make_kernel
    >>> k = make_kernel("rbf")
    >>> round(float(k(np.array([[0.0]]), np.array([[1.0]]), np.array([1.0]))[0, 0, 0]), 12)
    0.606530659713
    """
    if isinstance(kernel, Kernel1D):
        _check_contract(type(kernel), f"kernel={kernel!r}")
        return copy.deepcopy(kernel)
    if isinstance(kernel, type) and issubclass(kernel, Kernel1D):
        name = kernel.__name__
        raise TypeError(f"kernel={name} is a class; pass an instance, kernel={name}().")
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(
            f"Unknown 1-D kernel {kernel!r}; valid kernels are {sorted(KERNELS)}, or a Kernel1D "
            "instance. Add a name with taafs_sk.additive.register_kernel(name, cls)."
        )
    return KERNELS[kernel]()


def _check_contract(cls: type[Kernel1D], owner: str) -> None:
    missing = missing_methods(cls)
    if missing:
        raise TypeError(
            f"{owner}: {cls.__name__} does not define {', '.join(missing)}; see the Kernel1D "
            "docstring for what a 1-D kernel implements."
        )
