"""The additive-kernel network: :class:`AdditiveKernelNN`, whose neurons' activation functions
are the posterior means of an additive Gaussian process, and the 1-D kernels it is built from
(:class:`Kernel1D` documents what a new one implements; :func:`register_kernel` names it)."""

from .estimator import AdditiveKernelNN
from .kernels import (
    KERNELS,
    RBF1D,
    Kernel1D,
    Matern52_1D,
    Polynomial1D,
    make_kernel,
    register_kernel,
)

__all__ = [
    "AdditiveKernelNN",
    "KERNELS",
    "Kernel1D",
    "Matern52_1D",
    "Polynomial1D",
    "RBF1D",
    "make_kernel",
    "register_kernel",
]
