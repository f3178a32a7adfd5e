"""The fitted additive GP as neuron activations and as a torch network (private).

:class:`NeuronActivation` is one entry of ``AdditiveKernelNN.activation_functions_``;
:func:`to_mlp` builds the :class:`~taafs_sk.nn.network.MLP` that ``to_module`` returns, its
activations tabulated (values and slopes) by :func:`tabulate`.
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_count, check_real
from ..nn.network import MLP
from ..nn.tabulated import TabulatedActivation
from ._solvers import neuron_outputs
from .kernels import Kernel1D

__all__ = ["NeuronActivation", "check_export_args", "tabulate", "to_mlp"]


class NeuronActivation:
    """One neuron's activation ``phi(z) = sum_q coef[q] k(z, centers[q]; l)``.

    Maps a numpy array of rescaled coordinates (any shape) to an array of the same shape,
    in target units. Picklable, unlike a closure.
    """

    def __init__(self, kernel: Kernel1D, centers, coef, length_scale: float) -> None:
        self.kernel, self.centers, self.coef = kernel, centers, coef
        self.length_scale = float(length_scale)

    def __call__(self, z) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        phi, _ = neuron_outputs(
            self.kernel, z.reshape(1, -1), self.centers[None], self.coef[None],
            np.array([self.length_scale]),
        )
        return phi.reshape(z.shape)


def tabulate(model, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and slopes ``(N, len(grid))`` of every activation of the solver ``model``
    (standardised units) on ``grid``; the slopes come from :meth:`Kernel1D.derivative`."""
    centers, coef = model.representation()
    kernel, ls = model.kernel, model.hyper_.length_scale
    zg = np.broadcast_to(grid, (len(coef), len(grid)))
    values, _ = neuron_outputs(kernel, zg, centers, coef, ls)
    slopes = np.empty_like(values)
    step = max(1, 2**22 // (len(coef) * centers.shape[1]))  # bounds the (N, step, Q) block
    for i in range(0, len(grid), step):
        dk = kernel.derivative(zg[:, i : i + step], centers, ls)
        slopes[:, i : i + step] = np.einsum("npq,nq->np", dk, coef)
    return values, slopes


def to_mlp(estimator, dtype: torch.dtype, n_grid: int, margin: float) -> MLP:
    """The fitted ``AdditiveKernelNN`` as an :class:`~taafs_sk.nn.network.MLP` (see
    ``AdditiveKernelNN.to_module``)."""
    grid = np.linspace(-margin, 1.0 + margin, n_grid)
    values, slopes = tabulate(estimator.model_, grid)
    act = TabulatedActivation(grid, values, slopes)
    n, d = estimator.hidden_weights_.shape
    net = MLP(d, (n,), 1, lambda i, width: act)
    with torch.no_grad():
        net.hidden[0].weight.copy_(torch.as_tensor(estimator.hidden_weights_))
        net.hidden[0].bias.copy_(torch.as_tensor(estimator.hidden_bias_))
        net.output.weight.fill_(estimator.y_scale_)
        net.output.bias.fill_(estimator.intercept_)
    return net.to(dtype)


def check_export_args(dtype, n_grid, margin) -> None:
    """The arguments of ``AdditiveKernelNN.to_module``, checked."""
    check_count("n_grid", n_grid, minimum=2)
    check_real("margin", margin, minimum=0.0)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}.")
