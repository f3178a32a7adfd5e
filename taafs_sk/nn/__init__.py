"""Torch building blocks, with no scikit-learn in them.

- basis families (:class:`Basis`, the contract a new family implements, and its built-in
  subclasses; :func:`register_basis` adds a family by name; :func:`make_basis`,
  :func:`available_bases`);
- :class:`TAAF`, the trainable activation built from a basis, and the factory that gives each
  layer of a network its activation; :func:`replace_activations`, which swaps the fixed
  activations of any torch network for TAAFs that reproduce them at step 0;
- the fixed activations by name (:data:`FIXED_ACTIVATIONS`, :func:`fixed_activation`);
- :class:`MLP`, the network with hook sites for the analog studies, and
  :class:`TabulatedActivation`, an activation given as a lookup table;
- :class:`RLEKF`, the reorganised-layer extended Kalman filter optimiser, and the optimisers
  by name (:func:`register_optimizer`, :func:`available_optimizers`; the registry in
  :mod:`taafs_sk.nn.optimizers`).
"""

from .activations import TAAF, activation_grid, count_activation_params, make_activation_factory
from .bases import (
    BASES,
    Basis,
    BesselBasis,
    BSplineBasis,
    Chebyshev1Basis,
    Chebyshev2Basis,
    FourierBasis,
    GaussianRBFBasis,
    HermiteBasis,
    JacobiBasis,
    LegendreBasis,
    available_bases,
    make_basis,
    register_basis,
    unregister_basis,
)
from .fixed import FIXED_ACTIVATIONS, fixed_activation
from .network import MLP
from .optimizers import available_optimizers, register_optimizer
from .replace import ReplacementReport, replace_activations
from .rlekf import RLEKF
from .tabulated import TabulatedActivation

__all__ = [
    "BASES",
    "BSplineBasis",
    "Basis",
    "BesselBasis",
    "Chebyshev1Basis",
    "Chebyshev2Basis",
    "FIXED_ACTIVATIONS",
    "FourierBasis",
    "GaussianRBFBasis",
    "HermiteBasis",
    "JacobiBasis",
    "LegendreBasis",
    "MLP",
    "RLEKF",
    "ReplacementReport",
    "TAAF",
    "TabulatedActivation",
    "activation_grid",
    "available_bases",
    "available_optimizers",
    "count_activation_params",
    "fixed_activation",
    "make_activation_factory",
    "make_basis",
    "register_basis",
    "register_optimizer",
    "replace_activations",
    "unregister_basis",
]
