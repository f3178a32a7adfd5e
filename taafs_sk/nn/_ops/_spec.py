"""What the compiled operator needs to know of a basis: its family code and parameters.

The operator evaluates each built-in family from its definition (see ``taaf_op.cpp``); this
module reads the definition's numbers off a basis object into one float64 vector ``spec``
(``spec[0]`` is ``n_basis``, the rest depends on the family). Only the exact built-in classes
are described (a subclass may redefine ``values``); anything else gets ``None`` and the
Python kernels.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import torch

from ..bases import (
    BesselBasis,
    BSplineBasis,
    Chebyshev1Basis,
    Chebyshev2Basis,
    FourierBasis,
    GaussianRBFBasis,
    HermiteBasis,
    JacobiBasis,
    LegendreBasis,
)

__all__ = ["FAMILIES", "NORMALIZATION_CODES", "basis_spec"]

#: Family codes of the operator (the ``Family`` enum of ``taaf_op.cpp``).
FAMILIES = {"polynomial": 0, "bspline": 1, "fourier": 2, "grbf": 3}
#: ``normalization`` -> its code in the operator (the ``Norm`` enum of ``taaf_op.cpp``).
NORMALIZATION_CODES = {"tanh": 0, "softsign": 1, "clamp": 2, "none": 3}
_POLYNOMIALS = (LegendreBasis, Chebyshev1Basis, Chebyshev2Basis, HermiteBasis, BesselBasis,
                JacobiBasis)
_MAX_BSPLINE_ORDER = 15  # MAX_ORDER of taaf_op.cpp
# Key of the spec in the basis' table of derived values (``Basis._casts``, the cache of
# ``Basis.cast``), which the basis forgets whenever its numbers may change or it moves
# (``set_fused_maps``, ``.to()``, ``load_state_dict``) and never pickles: the spec lives
# exactly as long as the numbers it was read from.
_KEY = ("taafs_sk.nn._ops", "spec")


def _polynomial(basis) -> list[float]:
    c0, (a1, b1), steps = basis._coefs  # the scaled recurrence the eager path runs
    return [c0, a1, b1] + [x for step in steps for x in step]


@lru_cache(maxsize=16)
def _cardinal_pieces(k: int) -> tuple[float, ...]:
    r"""Coefficients of :math:`\tau^0..\tau^k` of the pieces :math:`m = 0..k` of the cardinal
    B-spline :math:`N_k(m + \tau) = \frac{1}{k!}\sum_{j \le m} (-1)^j \binom{k+1}{j}
    (m - j + \tau)^k`, exact fractions rounded once."""
    out = []
    for m in range(k + 1):
        coef = [Fraction(0)] * (k + 1)
        for j in range(m + 1):
            sign = (-1) ** j * math.comb(k + 1, j)
            for q in range(k + 1):
                coef[q] += sign * math.comb(k, q) * Fraction(m - j) ** (k - q)
        out += [float(c / math.factorial(k)) for c in coef]
    return tuple(out)


def _bspline(basis) -> list[float] | None:
    if basis.order > _MAX_BSPLINE_ORDER:
        return None
    first_knot = float(basis.knots[0])
    return [float(basis.order), float(basis.h), first_knot, *_cardinal_pieces(basis.order)]


def _grbf(basis) -> list[float] | None:
    """``[width, mu_0, delta]``: the operator assumes evenly spaced centres (checked)."""
    centers = basis.centers.detach().cpu().double()
    delta = float(centers[1] - centers[0]) if len(centers) > 1 else 0.0
    even = torch.arange(len(centers), dtype=torch.float64) * delta + centers[0]
    if not torch.allclose(even, centers, rtol=0, atol=1e-13):
        return None
    return [float(basis.width), float(centers[0]), delta]


def _parameters(basis) -> tuple[int, list[float]] | None:
    """``(family code, parameters)`` of an exact built-in basis, else None."""
    kind = type(basis)
    if kind in _POLYNOMIALS:
        return FAMILIES["polynomial"], _polynomial(basis)
    if kind is BSplineBasis:
        params = _bspline(basis)
        return None if params is None else (FAMILIES["bspline"], params)
    if kind is FourierBasis:
        return FAMILIES["fourier"], [float(basis.omega)]
    if kind is GaussianRBFBasis:
        params = _grbf(basis)
        return None if params is None else (FAMILIES["grbf"], params)
    return None


def _agrees_with_maps(basis, family: int, spec: torch.Tensor) -> bool:
    """Whether the operator's values and slopes of every ``B_k`` equal the basis' fused maps
    on a grid of (-1, 1) (maps loaded from a state dict may describe other functions)."""
    K = basis.n_basis
    # off the knots (a linear spline's slope jumps there) and the clamp at +-1
    grid = torch.linspace(-0.98, 0.98, 41, dtype=torch.float64) + 1.234567e-3
    weight = torch.eye(K, K + 1, dtype=torch.float64)  # neuron k evaluates B_k alone
    values, slopes, _ = torch.ops.taafs_sk.taaf_forward.default(
        grid[:, None].expand(-1, K).contiguous(), weight, spec, family,
        NORMALIZATION_CODES["none"], True)
    maps = basis.maps.detach().to("cpu", torch.float64)
    features = basis.features(grid.to(basis.maps.device)).detach().to("cpu", torch.float64)
    tol = max(1e-6, 1e-12 * basis.amplification)  # the rule of check_fused_maps
    for got, rows in ((values, maps[0]), (slopes, maps[1])):
        want = (rows @ features).T  # (G, K)
        scale = want.abs().amax(0).clamp_min(1e-300)
        if not bool((((got - want).abs() / scale) <= tol).all()):
            return False
    return True


def basis_spec(basis) -> tuple[int | None, torch.Tensor | None]:
    """``(family, spec)`` of ``basis`` for the compiled operator (which must be loaded);
    ``(None, None)`` when the operator does not know the basis: a family of one's own, a
    subclass of a built-in one, or maps that no longer describe the family's functions.

    Read and checked once, and kept with the basis' derived tables, which follow its life
    cycle (a move, a cast, ``set_fused_maps`` or ``load_state_dict`` gives a new spec).

    Examples
    --------
    >>> from taafs_sk.nn.bases import make_basis
    >>> from taafs_sk.nn._ops import is_available
    >>> from taafs_sk.nn._ops._spec import basis_spec
    >>> if is_available():
    ...     family, spec = basis_spec(make_basis("legendre", 3))
    ...     print(family, spec.tolist())  # K, then B_0 = 1, B_1 = u, B_2 = 1.5 u B_1 - 0.5 B_0
    ... else:
    ...     print(0, [3.0, 1.0, 1.0, 0.0, 1.5, 0.0, 0.5])
    0 [3.0, 1.0, 1.0, 0.0, 1.5, 0.0, 0.5]
    """
    entry = basis._casts.get(_KEY)
    if entry is None:
        found = _parameters(basis) if basis.supports_fused else None
        if found is None:
            entry = (None, None)
        else:
            family, params = found
            spec = torch.tensor([float(basis.n_basis), *params], dtype=torch.float64)
            entry = (family, spec) if _agrees_with_maps(basis, family, spec) else (None, None)
        basis._casts[_KEY] = entry
    return entry
