"""One-dimensional kernels for the additive-kernel network, and the registry of kernel names.

The built-in kernels are :class:`RBF1D` (``"rbf"``), :class:`Matern52_1D` (``"matern52"``) and
:class:`Polynomial1D` (``"polynomial"``). :class:`Kernel1D` (defined in
:mod:`taafs_sk.additive._kernel_base`) documents what a new kernel implements;
:func:`register_kernel` makes its name known to every :class:`~taafs_sk.AdditiveKernelNN`,
and :func:`make_kernel` resolves a name or checks an instance.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._kernel_base import Kernel1D, missing_methods

__all__ = [
    "Kernel1D", "RBF1D", "Matern52_1D", "Polynomial1D", "KERNELS", "make_kernel",
    "register_kernel",
    "KernelNames",
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


#: Kernel name -> :class:`Kernel1D` subclass; read by ``AdditiveKernelNN.fit``. Add to it with
#: :func:`register_kernel`.
KERNELS: dict[str, type[Kernel1D]] = {
    "rbf": RBF1D,
    "matern52": Matern52_1D,
    "polynomial": Polynomial1D,
}
_BUILTIN = dict(KERNELS)


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
        Replace a built-in kernel or an earlier registration of ``name``.

    Returns
    -------
    cls : type
        The registered class.

    Examples
    --------
    >>> from taafs_sk.additive import KERNELS, RBF1D, register_kernel
    >>> class Gaussian1D(RBF1D):
    ...     pass
    >>> register_kernel("gaussian", Gaussian1D).__name__
    'Gaussian1D'
    >>> del KERNELS["gaussian"]
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_kernel: name must be a non-empty str; got {name!r}.")
    if not (isinstance(cls, type) and issubclass(cls, Kernel1D)):
        hint = " (pass the class, not an instance)" if isinstance(cls, Kernel1D) else ""
        raise TypeError(
            f"register_kernel: cls must be a subclass of taafs_sk.additive.Kernel1D; got "
            f"{cls!r}{hint}."
        )
    _check_contract(cls, f"register_kernel({name!r}, {cls.__name__})")
    current = KERNELS.get(name)
    if current is not None and current is not cls and not overwrite:
        kind = "a built-in kernel" if name in _BUILTIN else f"registered to {current.__name__}"
        raise ValueError(
            f"register_kernel: {name!r} is {kind}; pass overwrite=True to replace it or choose "
            f"another name (taken: {sorted(KERNELS)})."
        )
    try:
        cls()
    except TypeError as exc:
        raise TypeError(
            f"register_kernel: {cls.__name__} must be constructible without arguments, as "
            f"make_kernel({name!r}) does; {exc}. Pass an instance as kernel= instead."
        ) from exc
    KERNELS[name] = cls
    return cls


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


class KernelNames(StrOptions):
    """Parameter constraint: a name in :data:`KERNELS` *when it is checked* (in ``fit``), so
    that :func:`register_kernel` reaches every estimator, also those already made."""

    def __init__(self) -> None:
        super().__init__(set())

    @property
    def options(self) -> set[str]:
        return set(KERNELS)

    @options.setter
    def options(self, value) -> None:  # StrOptions.__init__ assigns it; the registry rules
        pass

    def __str__(self) -> str:
        return f"{super().__str__()} (add one with taafs_sk.additive.register_kernel)"


def _check_contract(cls: type[Kernel1D], owner: str) -> None:
    missing = missing_methods(cls)
    if missing:
        raise TypeError(
            f"{owner}: {cls.__name__} does not define {', '.join(missing)}; see the Kernel1D "
            "docstring for what a 1-D kernel implements."
        )


def registrations() -> dict[str, type[Kernel1D]]:
    """The registered kernels that are not built-in ones and pickle by reference (a class
    defined inside a function does not), for the state of a pickled estimator."""
    user = {n: c for n, c in KERNELS.items() if _BUILTIN.get(n) is not c}
    out = {}
    for name, cls in user.items():
        try:
            pickle.dumps(cls)
        except (pickle.PicklingError, AttributeError, TypeError):
            continue
        out[name] = cls
    return out


def restore_registrations(kernels: dict[str, type[Kernel1D]]) -> None:
    """Register each ``name: cls`` again, for an unpickled estimator, unless this process
    already gives the name to another user class (then warn and keep that one)."""
    for name, cls in kernels.items():
        current = KERNELS.get(name)
        if current is None or current is _BUILTIN.get(name):
            KERNELS[name] = cls
        elif current is not cls:
            warnings.warn(
                f"AdditiveKernelNN: the unpickled estimator knew kernel {name!r} as "
                f"{cls.__module__}.{cls.__qualname__}, but here it is registered to "
                f"{current.__module__}.{current.__qualname__}, which fit will use. Call "
                f"register_kernel({name!r}, {cls.__qualname__}, overwrite=True) to use the "
                "former.",
                UserWarning,
                stacklevel=3,
            )
