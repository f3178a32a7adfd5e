r"""Fused forward and analytic backward of a trainable activation (TAAF).

A TAAF computes :math:`y = \sum_k c_k B_k(u) + b` with :math:`u = \mathrm{norm}(z)`. Built
from ordinary torch operations (the eager path) it records a dozen small autograd nodes per
layer, and at the sizes of a typical MLP the per-operation overhead, not arithmetic, sets the
price. Here one :class:`torch.autograd.Function` does the whole activation:

forward
    ``u = norm(z)``; ``S = basis.features(u)`` (``m`` working features with ``S[0] = 1``, see
    :mod:`taafs_sk.nn.bases`); ``A = [c, b] @ maps`` (value and slope coefficients on the
    features, a tiny product; the bias lands on ``S[0]``); ``[f + b; f'] = A @ S`` (one
    matrix product).
backward
    :math:`\partial L/\partial z = g\, f'(u)\, \mathrm{norm}'(z)` (the factor is computed in
    forward), :math:`\partial L/\partial [c, b] = \mathrm{maps}_0 (S g)` (two products).

Only ``S`` and the chain factor ``f'(u) norm'(z)`` are saved. Where the basis' change of
representation amplifies rounding (``basis.amplification`` above ``AMPLIFICATION_LIMIT``,
e.g. high-degree Chebyshev or fine B-spline grids) and the input is in reduced precision, the
features are built in float64.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from .bases import Basis

__all__ = ["NORMALIZATIONS", "normalize", "fused_taaf", "AMPLIFICATION_LIMIT"]

#: name -> input scale ``s`` of the clipping normalisations (``u = clip(z / s, -1, 1)``).
_CLIP_SCALES = {"clamp": 3.0, "none": 1.0}
NORMALIZATIONS = ("tanh", "softsign", "clamp", "none")
AMPLIFICATION_LIMIT = 1e3


def normalize(z: torch.Tensor, normalization: str) -> torch.Tensor:
    """Map pre-activations to the basis domain [-1, 1] (differentiable torch ops)."""
    if normalization == "tanh":
        return torch.tanh(z)
    if normalization == "softsign":
        return F.softsign(z)
    return (z * (1.0 / _CLIP_SCALES[normalization])).clamp(-1.0, 1.0)


def _normalize_with_slope(z: torch.Tensor, normalization: str, slope: bool):
    """``u = norm(z)`` and, if ``slope``, a callable ``fp -> fp * norm'(z)``."""
    if normalization == "tanh":
        u = torch.tanh(z)
        return u, (lambda fp: torch.addcmul(fp, fp * u, u, value=-1.0)) if slope else None
    if normalization == "softsign":
        u = F.softsign(z)
        return u, (lambda fp: fp * (1.0 - u.abs()).square_()) if slope else None
    inv = 1.0 / _CLIP_SCALES[normalization]
    w = z * inv
    u = w.clamp(-1.0, 1.0)
    if not slope:
        return u, None
    inside = w.abs_() <= 1.0  # the gradient of clamp is 1 on the closed interval
    return u, lambda fp: (fp * inv).mul_(inside)


class _Plan(NamedTuple):
    """Per (basis, dtype, device, normalization): the maps of ``weight = [c, b]``."""

    dtype: torch.dtype  # working dtype of the features
    both_t: torch.Tensor  # (2 m, K + 1): value and slope rows, transposed for ``mv``
    value_t: torch.Tensor  # (m, K + 1)
    value: torch.Tensor  # (K + 1, m)
    folded: bool  # the slope rows already include norm'(z) (polynomials under tanh)


def _plan(basis: Basis, dtype: torch.dtype, normalization: str) -> _Plan:
    """Cached :class:`_Plan`; the bias entry of ``weight`` maps onto the constant ``S[0]``."""
    key = (dtype, basis.maps.device, normalization)
    cache = basis.__dict__.setdefault("_fused_plans", {})
    if key not in cache:
        wd = dtype
        if dtype != torch.float64 and basis.amplification > AMPLIFICATION_LIMIT:
            wd = torch.float64
        folded = normalization == "tanh" and hasattr(basis, "tanh_slopes")
        value, slope = basis.maps[0], basis.tanh_slopes if folded else basis.maps[1]
        bias_row = torch.zeros_like(value[:1])
        bias_row[0, 0] = 1.0
        value = torch.cat([value, bias_row]).to(wd)  # (K + 1, m)
        slope = torch.cat([slope, torch.zeros_like(bias_row)]).to(wd)
        both_t = torch.cat([value, slope], 1).T.contiguous()  # (2 m, K + 1)
        cache[key] = _Plan(wd, both_t, value.T.contiguous(), value.contiguous(), folded)
    return cache[key]


class _TAAFFunction(torch.autograd.Function):
    """``y = [c, b] . [B(norm(z)), 1]`` with one weight vector shared by every neuron."""

    @staticmethod
    def forward(ctx, z, weight, basis, normalization):
        need_z, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        plan = _plan(basis, z.dtype, normalization)
        ctx.plan = plan
        if plan.dtype != z.dtype:
            return _forward_upcast(ctx, z, weight, basis, normalization, plan)
        if plan.folded:
            u, chain = torch.tanh(z), None
        else:
            u, chain = _normalize_with_slope(z, normalization, need_z)
        Sf = basis.features(u).flatten(1)  # (m, N)
        if need_z:
            out = torch.mm(torch.mv(plan.both_t, weight).view(2, -1), Sf)  # (2, N)
            y, dz = out[0].view(z.shape), out[1].view(z.shape)
            if chain is not None:
                dz = chain(dz)
        else:
            y, dz = torch.mv(Sf.T, torch.mv(plan.value_t, weight)).view(z.shape), None
        ctx.save_for_backward(Sf if need_w else None, dz)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        Sf, dz = ctx.saved_tensors
        grad_z = g * dz if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            gS = torch.mv(Sf, g.reshape(-1).to(Sf.dtype))  # (m,)
            grad_w = torch.mv(ctx.plan.value, gS).to(g.dtype)  # (K + 1,)
        return grad_z, grad_w, None, None


def _forward_upcast(ctx, z, weight, basis, normalization, plan):
    """``_TAAFFunction.forward`` with the features in ``plan.dtype`` (amplifying bases)."""
    need_z, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
    u, chain = _normalize_with_slope(z, normalization, need_z and not plan.folded)
    Sf = basis.features(u.to(plan.dtype)).flatten(1)
    out = torch.mm(torch.mv(plan.both_t, weight.to(plan.dtype)).view(2, -1), Sf)
    y, dz = out[0].view(z.shape).to(z.dtype), out[1].view(z.shape).to(z.dtype)
    if chain is not None:
        dz = chain(dz)
    ctx.save_for_backward(Sf if need_w else None, dz if need_z else None)
    return y


class _TAAFNeuronFunction(torch.autograd.Function):
    """Per-neuron weights ``[c, b]`` of shape ``(n_features, K + 1)``."""

    @staticmethod
    def forward(ctx, z, weight, basis, normalization):
        need_z, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        plan = _plan(basis, z.dtype, normalization)
        u, chain = _normalize_with_slope(z, normalization, need_z and not plan.folded)
        n_feat = z.shape[-1]
        S = basis.features(u.to(plan.dtype))  # (m, *z.shape)
        m = S.shape[0]
        S3 = S.view(m, -1, n_feat)  # (m, B, F)
        rows = 2 if need_z else 1
        A = torch.mm(weight.to(plan.dtype), plan.both_t.T[:, : rows * m])  # (F, rows m)
        A = A.view(n_feat, rows, m).permute(1, 2, 0).unsqueeze(2)  # (rows, m, 1, F)
        y = (S3 * A[0]).sum(0).view(z.shape).to(z.dtype)
        dz = None
        if need_z:
            dz = (S3 * A[1]).sum(0).view(z.shape).to(z.dtype)
            if chain is not None:
                dz = chain(dz)
        ctx.plan = plan
        ctx.save_for_backward(S3 if need_w else None, dz)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        S3, dz = ctx.saved_tensors
        grad_z = g * dz if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            g2 = g.reshape(-1, g.shape[-1]).to(S3.dtype)  # (B, F)
            gS = (S3 * g2).sum(1)  # (m, F)
            grad_w = torch.mm(gS.T, ctx.plan.value_t).to(g.dtype)  # (F, K + 1)
        return grad_z, grad_w, None, None


def fused_taaf(z: torch.Tensor, weight: torch.Tensor, basis: Basis,
               normalization: str) -> torch.Tensor:
    """Evaluate a TAAF with the fused kernels.

    Parameters
    ----------
    z : Tensor of shape (..., n_features)
        Pre-activations.
    weight : Tensor of shape (n_basis + 1,) or (n_features, n_basis + 1)
        Coefficients followed by the bias, shared or per neuron.
    basis : Basis
        The basis family.
    normalization : str
        One of ``NORMALIZATIONS``.

    Returns
    -------
    y : Tensor of the shape of ``z``

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import make_basis
    >>> from taafs_sk.nn._fused import fused_taaf
    >>> weight = torch.tensor([0.0, 1.0, 0.0, 0.5])  # u + 0.5 in the Legendre basis
    >>> fused_taaf(torch.zeros(2, 4), weight, make_basis("legendre", 3), "tanh")[0]
    tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """
    fn = _TAAFNeuronFunction if weight.dim() == 2 else _TAAFFunction
    return fn.apply(z, weight, basis, normalization)
