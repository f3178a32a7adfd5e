r"""Basis families on :math:`[-1, 1]` for trainable activation functions.

Each basis is a small :class:`torch.nn.Module`, a subclass of :class:`Basis`, whose
``forward(u)`` maps a tensor ``u`` of any shape to ``u.shape + (n_basis,)``. Inputs are
clamped to :math:`[-1, 1]` first, so every finite input gives finite values and gradients.

Besides the reference evaluation (``values``: three-term recurrences, closed forms), every
built-in basis offers a second, *fused* representation used by :mod:`taafs_sk.nn._fused`:
``features(u)`` returns a small stack of ``m`` working features ``S`` of shape
``(m,) + u.shape`` and two fixed matrices, ``maps[0]`` and ``maps[1]`` of shape
``(n_basis, m)``, with

.. math::

    B_k(u) = \sum_j \mathrm{maps}_{0,kj} S_j(u), \qquad
    B_k'(u) = \sum_j \mathrm{maps}_{1,kj} S_j(u).

An activation :math:`\sum_k c_k B_k` and its slope are then one small matrix product
``(c @ maps) @ S``, whose rows the kernels take from the basis' :class:`FusedPlan`
(:meth:`Basis.fused_plan`); optional ``curvature_maps`` give :math:`B_k''` on
``curvature_features(u, S)`` for the second derivatives of force training (otherwise
:meth:`Basis.second_derivatives` is used), and optional ``tanh_slopes`` the slope times
:math:`1 - u^2` under the tanh normalization. ``representation`` names the kind of features
(one vocabulary for every family): ``'powers'`` for polynomial families while the exact change
of basis to the monomials :math:`u^j` amplifies rounding by at most
:data:`AMPLIFICATION_LIMIT`, for B-splines (powers plus truncated powers at the interior
knots) and Fourier series at low ``n_basis`` (powers of :math:`\cos\omega u`);
``'direct'`` for polynomials above that limit (their values and slopes from the recurrence),
Fourier series at high ``n_basis`` (the harmonics themselves) and Gaussian RBFs
(:math:`\phi_k` and :math:`(u - \mu_r)\phi_k`, up to constant factors). ``amplification``
measures how much rounding error the change of basis can amplify; the fused code switches
float32 inputs to float64 features where it exceeds :data:`AMPLIFICATION_LIMIT` (see
``docs/numerics.rst``). A family of one's own needs only ``values`` (see :class:`Basis`) and is
added by name with :func:`register_basis`.

Modules: ``_base`` (the :class:`Basis` contract), ``_plan`` (:class:`FusedPlan` and
:data:`AMPLIFICATION_LIMIT`), ``polynomial``, ``grid`` (B-splines, Fourier, Gaussian RBF) and
``_registry`` (:data:`BASES` and the functions on it).
"""

from ._base import Basis
from ._plan import AMPLIFICATION_LIMIT, FusedPlan
from ._registry import (
    BASES,
    BASIS_REGISTRY,
    BUILTIN_BASES,
    available_bases,
    check_basis_kwargs,
    make_basis,
    register_basis,
    resolve_basis,
    unregister_basis,
    user_bases,
)
from .grid import BSplineBasis, FourierBasis, GaussianRBFBasis
from .polynomial import (
    BesselBasis,
    Chebyshev1Basis,
    Chebyshev2Basis,
    HermiteBasis,
    JacobiBasis,
    LegendreBasis,
)

__all__ = [
    "Basis", "BSplineBasis", "FourierBasis", "GaussianRBFBasis", "LegendreBasis",
    "HermiteBasis", "Chebyshev1Basis", "Chebyshev2Basis", "BesselBasis", "JacobiBasis",
    "BASES", "BASIS_REGISTRY", "BUILTIN_BASES", "make_basis", "available_bases",
    "check_basis_kwargs", "register_basis", "resolve_basis", "unregister_basis", "user_bases",
    "FusedPlan", "AMPLIFICATION_LIMIT",
]
