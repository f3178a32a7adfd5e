r"""The fused representation of a basis: the checks of its maps, and the plan of the fused
kernels (the matrices they apply to an activation's weights).

A TAAF holds ``weight = [c_1, ..., c_K, b]``; the fused kernels (:mod:`taafs_sk.nn._fused`)
turn it into coefficients on the working features ``S = basis.features(u)`` with one small
matrix product, ``weight @ rows``. :class:`FusedPlan` holds those ``rows`` for one basis, one
working dtype and one device: the basis' maps (see :class:`~taafs_sk.nn.Basis`) with a row
appended for the bias (which lands on the constant feature ``S[0] == 1``), concatenated and
transposed the ways the kernels use them.

Life cycle (all of it in :class:`~taafs_sk.nn.Basis`): :meth:`Basis.fused_plan` builds a plan
on its first call for an input dtype and the device of the maps and keeps it in the basis; the
basis forgets its plans when ``set_fused_maps`` is called, when it is moved or cast
(``.to()``, ``.float()``: ``_apply``), and when a state dict is loaded into it. Plans are
never pickled or deep-copied: they are rebuilt on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from ._base import Basis

__all__ = ["AMPLIFICATION_LIMIT", "FusedPlan", "check_fused_maps"]

#: Largest rounding amplification (``Basis.amplification``) of a fused representation that is
#: evaluated in the input's dtype; above it the features of float32 (or narrower) inputs are
#: built in float64. The polynomial and Fourier families switch to their ``'direct'`` features
#: above it, so that only B-splines need that upcast.
AMPLIFICATION_LIMIT = 1e3
#: Points of [-1, 1] on which :func:`check_fused_maps` checks the maps.
_CHECK_GRID = 1001


def _with_bias_row(table: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``(K, m)`` rows -> ``(K + 1, m)`` in ``dtype``, the last row (the bias') zero."""
    return torch.cat([table, torch.zeros_like(table[:1])]).to(dtype)


@dataclass(frozen=True, eq=False)
class FusedPlan:
    r"""The rows that map ``weight = [c, b]`` onto the fused features of one basis.

    With ``m`` forward features ``S`` (``S[0] == 1``) and :math:`f(u) = \sum_k c_k B_k(u)`,
    each table has ``K + 1`` rows (the last one the bias'). Build one with
    :meth:`Basis.fused_plan`, which caches it (see the module docstring for its life cycle).

    Attributes
    ----------
    dtype : torch.dtype
        Working dtype of the features: the input's, or float64 where the basis'
        ``amplification`` exceeds :data:`AMPLIFICATION_LIMIT`.
    value : Tensor of shape (K + 1, m)
        Rows of :math:`f + b` on ``S``.
    slope : Tensor of shape (K + 1, m)
        Rows of :math:`df/du` on ``S`` (the bias row is zero).
    both : Tensor of shape (K + 1, 2 m)
        ``[value, slope]``.
    tanh_both : Tensor of shape (K + 1, 2 m) or None
        ``[value, tanh]`` with ``tanh`` the rows of :math:`(1 - u^2) f'(u)` on ``S``, which
        is :math:`df/dz` under ``normalization='tanh'`` (:math:`u = \tanh z`), from the
        basis' ``tanh_slopes``; None when the basis has none.
    curvature : Tensor of shape (K + 1, m2) or None
        Rows of :math:`d^2 f/du^2` on ``basis.curvature_features(u, S)``, from the basis'
        ``curvature_maps``; None when the basis has none.
    joint : Tensor of shape (K + 1, 2 m) or None
        ``[slope, curvature]`` when the curvature features are ``S`` itself (the basis keeps
        the default :meth:`Basis.curvature_features`), else None.
    value_t, both_t : Tensor of shape (m, K + 1), (2 m, K + 1)
        ``value.T`` and ``both.T``, contiguous (a shared weight needs one matrix-vector
        product).
    tanh_both_t : Tensor of shape (2 m, K + 1) or None
        ``tanh_both.T``, contiguous.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import make_basis
    >>> basis = make_basis("legendre", 3)
    >>> plan = basis.fused_plan(torch.float32)
    >>> tuple(plan.value.shape), plan.dtype, basis.fused_plan(torch.float32) is plan
    ((4, 5), torch.float32, True)
    """

    dtype: torch.dtype
    value: torch.Tensor
    slope: torch.Tensor
    both: torch.Tensor
    tanh_both: torch.Tensor | None
    curvature: torch.Tensor | None
    joint: torch.Tensor | None
    value_t: torch.Tensor
    both_t: torch.Tensor
    tanh_both_t: torch.Tensor | None

    @classmethod
    def build(cls, basis: Basis, dtype: torch.dtype) -> FusedPlan:
        """The plan of ``basis`` (which must have fused maps) for inputs of ``dtype``."""
        _check_build_args(basis, dtype)
        wd = dtype
        if dtype != torch.float64 and basis.amplification > AMPLIFICATION_LIMIT:
            wd = torch.float64
        value = _with_bias_row(basis.maps[0], wd)
        value[-1, 0] = 1.0  # the bias lands on the constant feature S[0]
        slope = _with_bias_row(basis.maps[1], wd)
        both = torch.cat([value, slope], 1).contiguous()
        tanh_both = None
        if basis.tanh_slopes is not None:
            tanh_both = torch.cat([value, _with_bias_row(basis.tanh_slopes, wd)], 1).contiguous()
        curvature = joint = None
        if basis.curvature_maps is not None:
            curvature = _with_bias_row(basis.curvature_maps, wd).contiguous()
            if basis.curvature_on_features:
                joint = torch.cat([slope, curvature], 1).contiguous()
        return cls(wd, value.contiguous(), slope.contiguous(), both, tanh_both, curvature, joint,
                   value.T.contiguous(), both.T.contiguous(),
                   None if tanh_both is None else tanh_both.T.contiguous())


def _relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """Largest ``|got - want|`` of a row ``(K, G)`` relative to the row's largest ``|want|``."""
    scale = want.abs().amax(1, keepdim=True).clamp_min(1e-12)
    return float(((got - want).abs() / scale).max())


def _rows(basis: Basis, name: str, rows: ArrayLike, width: int) -> torch.Tensor:
    """``rows`` as a float64 ``(n_basis, width)`` tensor, or a ValueError naming ``name``."""
    table = np.asarray(rows, float)
    if table.shape != (basis.n_basis, width):
        raise ValueError(
            f"{type(basis).__name__}.set_fused_maps needs {name} of shape (n_basis, {width}) = "
            f"({basis.n_basis}, {width}) for features of {width} rows; got {table.shape}.")
    return torch.as_tensor(table, dtype=torch.float64)


def _value_maps(basis: Basis, values: ArrayLike, slopes: ArrayLike, grid: torch.Tensor,
                feats: torch.Tensor) -> tuple[torch.Tensor, float]:
    """``[values, slopes]`` (float64) checked against ``feats`` ``(m, G)`` and
    ``basis.values`` on ``grid``, and the amplification of the value rows."""
    owner = type(basis).__name__
    maps = torch.as_tensor(np.stack([np.asarray(values, float), np.asarray(slopes, float)]))
    if maps.dim() != 3 or maps.shape[1] != basis.n_basis or feats.shape != (
            maps.shape[2], len(grid)):
        raise ValueError(
            f"{owner}.set_fused_maps needs values and slopes of shape (n_basis, m) = "
            f"({basis.n_basis}, m) with features(u) of shape (m,) + u.shape; got maps "
            f"{tuple(maps.shape[1:])} and features {tuple(feats.shape)} for u of shape "
            f"({len(grid)},).")
    if not torch.allclose(feats[0], torch.ones_like(feats[0])):
        raise ValueError(f"{owner}.features(u)[0] must be 1 everywhere (the bias feature).")
    vals = basis.values(grid).T  # (K, G)
    terms = (maps[0][:, :, None] * feats[None]).abs().sum(1)  # (K, G)
    amplification = float((terms.amax(1) / vals.abs().amax(1).clamp_min(1e-12)).max())
    error = _relative_error(maps[0] @ feats, vals)
    if error > max(1e-6, 1e-12 * amplification):
        raise ValueError(
            f"{owner}.set_fused_maps: values @ features(u) differs from values(u) by "
            f"{error:.3g} (relative) on [-1, 1]; fix the value rows or features, or do not "
            "call set_fused_maps (the eager path is then used).")
    return maps, amplification


def check_fused_maps(
    basis: Basis, values: ArrayLike, slopes: ArrayLike, curvatures: ArrayLike | None = None,
    tanh_slopes: ArrayLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, float]:
    """The arguments of :meth:`Basis.set_fused_maps` checked on a grid of [-1, 1].

    Returns
    -------
    maps : Tensor of shape (2, n_basis, m)
    curvature_maps, tanh_slopes : Tensor or None
    amplification : float

    Raises
    ------
    ValueError
        As described in :meth:`Basis.set_fused_maps`.
    """
    grid = torch.linspace(-1.0, 1.0, _CHECK_GRID, dtype=torch.float64)
    feats = basis.features(grid)  # (m, G)
    maps, amplification = _value_maps(basis, values, slopes, grid, feats)
    curv = tanh = None
    if curvatures is not None:
        width = basis.curvature_features(grid, feats).shape[0]
        curv = _rows(basis, "curvatures", curvatures, width)
    if tanh_slopes is not None:
        tanh = _rows(basis, "tanh_slopes", tanh_slopes, feats.shape[0])
        error = _relative_error(tanh @ feats, (1.0 - grid * grid) * (maps[1] @ feats))
        if error > max(1e-6, 1e-12 * amplification):
            raise ValueError(f"{type(basis).__name__}.set_fused_maps: tanh_slopes @ features(u) "
                             f"differs from (1 - u^2) slopes @ features(u) by {error:.3g} "
                             "(relative); fix the rows or pass tanh_slopes=None.")
    return maps, curv, tanh, amplification


def _check_build_args(basis, dtype) -> None:
    if not (hasattr(basis, "maps") and hasattr(basis, "amplification")):
        raise TypeError(f"basis of FusedPlan.build must be a taafs_sk.nn.Basis, got "
                        f"{basis!r:.60} ({type(basis).__name__}).")
    if basis.maps is None:
        raise ValueError(f"basis of FusedPlan.build ({type(basis).__name__}) has no fused "
                         "maps; call its set_fused_maps first (supports_fused is False).")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype of FusedPlan.build must be a floating torch.dtype, got "
                        f"{dtype!r}.")
