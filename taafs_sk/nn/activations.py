r"""Trainable adaptive activation functions (TAAF), fixed activations and sharing schemes.

A TAAF maps each pre-activation :math:`z` to

.. math::

    \sigma(z) = \phi_0(z) + \sum_{k=1}^{K} c_k\, B_k(\mathrm{norm}(z)) + b,

with :math:`B_k` a basis family of :mod:`taafs_sk.nn.bases` on :math:`[-1, 1]` and
:math:`\phi_0` zero (the TAAFS paper's form) or a fixed base activation (the residual form,
which reproduces a given activation exactly at the start; see :class:`TAAF`).

One word, one meaning. A :class:`TAAF`'s own ``sharing`` says how its coefficients spread over
the neurons it sees: ``'shared'`` (one set for all of them) or ``'neuron'`` (one set per
neuron). The :func:`make_activation_factory` builds the activations of an
:class:`~taafs_sk.nn.network.MLP` under one of the TAAFS paper's sharing schemes (section 5.1),
the words :class:`~taafs_sk.TAAFSRegressor` and :func:`~taafs_sk.nn.replace_activations` use
too:

``'global'``
    one activation (one module object) for everything the factory builds;
``'network'``
    one activation per network: a new module whenever layer 0 is built, reused by the later
    layers. A factory that builds a single network, as :class:`~taafs_sk.TAAFSRegressor`
    does, gives the same model as ``'global'``;
``'layer'``
    one ``'shared'`` TAAF per hidden layer;
``'neuron'``
    one ``'neuron'`` TAAF (per-neuron coefficients and biases) per hidden layer.

:class:`TAAF` lives in ``_taaf.py`` and the factory with its parameter count in
``_factory.py``; this module is their public home.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from .._validation import check_count, check_finite_array
from ._factory import (
    SHARING_SCHEMES,
    ActivationFactory,
    count_activation_params,
    make_activation_factory,
)
from ._fused import NORMALIZATIONS
from ._taaf import (
    INITS,
    TAAF,
    TAAF_SHARING,
    _Function,  # noqa: F401  (pickles of residual TAAFs name it here)
)
from .checks import check_torch_module
from .fixed import FIXED_ACTIVATIONS

__all__ = [
    "TAAF", "FIXED_ACTIVATIONS", "NORMALIZATIONS", "SHARING_SCHEMES", "TAAF_SHARING", "INITS",
    "ActivationFactory", "make_activation_factory", "count_activation_params", "activation_grid",
]


def activation_grid(module: nn.Module, z: ArrayLike, width: int | None = None) -> np.ndarray:
    """Evaluate an activation module on a grid of pre-activations, for plots.

    Parameters
    ----------
    module : nn.Module
        Any elementwise activation (TAAF, fixed, hardware NAF).
    z : array-like of shape (n_points,)
        Pre-activation values.
    width : int, default=None
        Number of neurons to evaluate (columns). By default a per-neuron TAAF gives one column
        per neuron and every other module one column.

    Returns
    -------
    values : ndarray of shape (n_points, width)

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.nn.activations import TAAF, activation_grid
    >>> activation_grid(TAAF(3, "grbf", sharing="neuron"), np.linspace(-1, 1, 5)).shape
    (5, 3)
    """
    check_torch_module("module", module)
    if width is None:
        width = module.num_features if getattr(module, "sharing", None) == "neuron" else 1
    width = check_count("width of activation_grid", width)
    ref = next(iter(module.parameters()), None)
    if ref is None:
        ref = next(iter(module.buffers()), torch.empty(0))
    grid = torch.as_tensor(check_finite_array("z", z).ravel(), device=ref.device)
    dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
    grid = grid.to(dtype)[:, None].expand(-1, width).contiguous()
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return module(grid).cpu().double().numpy()
    finally:
        module.train(was_training)
