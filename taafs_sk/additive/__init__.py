"""The additive-kernel network: :class:`AdditiveKernelNN`, whose neurons' activation functions
are the posterior means of an additive Gaussian process, and the 1-D kernels it is built from."""

from .estimator import AdditiveKernelNN
from .kernels import KERNELS, RBF1D, Kernel1D, Matern52_1D, Polynomial1D, make_kernel

__all__ = [
    "AdditiveKernelNN",
    "KERNELS",
    "Kernel1D",
    "Matern52_1D",
    "Polynomial1D",
    "RBF1D",
    "make_kernel",
]
