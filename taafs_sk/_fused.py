r"""Fused forward and analytic backward of a trainable activation (TAAF).

A TAAF computes :math:`y = \sum_k c_k B_k(u) + b` with :math:`u = \mathrm{norm}(z)`. Built
from ordinary torch operations (the eager path) it records a dozen small autograd nodes per
layer, and at the sizes of a typical MLP the per-operation overhead, not arithmetic, sets the
price. Here one :class:`torch.autograd.Function` does the whole activation:

forward
    ``u = norm(z)``; ``S = basis.features(u)`` (``m`` working features with ``S[0] = 1``, see
    :mod:`taafs_sk.bases`); ``A = [c, b] @ maps`` (value and slope coefficients on the
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


def _work_dtype(basis: Basis, dtype: torch.dtype) -> torch.dtype:
    if dtype != torch.float64 and basis.amplification > AMPLIFICATION_LIMIT:
        return torch.float64
    return dtype


def _extended_maps(basis: Basis, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """``(K + 1, 2 m)`` value and slope maps of ``weight = [c, b]`` and the ``(K + 1, m)``
    value half; the bias row hits the constant feature ``S[0]``. Cached per dtype/device."""
    key = (dtype, basis.maps.device)
    cache = basis.__dict__.setdefault("_fused_cache", {})
    if key not in cache:
        maps = basis.maps.to(dtype)  # (2, K, m)
        bias_row = torch.zeros_like(maps[:, :1])  # (2, 1, m)
        bias_row[0, 0, 0] = 1.0
        ext = torch.cat([maps, bias_row], 1).transpose(0, 1)  # (K + 1, 2, m)
        cache[key] = (ext.reshape(ext.shape[0], -1).contiguous(), ext[:, 0].contiguous())
    return cache[key]


class _TAAFFunction(torch.autograd.Function):
    """``y = [c, b] . [B(norm(z)), 1]`` with one weight vector shared by every neuron."""

    @staticmethod
    def forward(ctx, z, weight, basis, normalization):
        need_z, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        u, chain = _normalize_with_slope(z, normalization, need_z)
        wd = _work_dtype(basis, z.dtype)
        S = basis.features(u if wd == z.dtype else u.to(wd))  # (m, *z.shape)
        m = S.shape[0]
        Sf = S.view(m, -1)  # (m, N)
        both, value = _extended_maps(basis, wd)
        w = weight if weight.dtype == wd else weight.to(wd)
        if need_z:
            out = torch.mm(torch.mv(both.T, w).view(2, m), Sf)  # (2, N): f + b, f'
            dz = chain(out[1].view(z.shape) if wd == z.dtype else out[1].view(z.shape).to(z.dtype))
        else:
            out, dz = torch.mv(Sf.T, torch.mv(value.T, w)).view(1, -1), None
        y = out[0].view(z.shape)
        ctx.basis = basis
        ctx.save_for_backward(Sf if need_w else None, dz)
        return y if wd == z.dtype else y.to(z.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        Sf, dz = ctx.saved_tensors
        grad_z = g * dz if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            value = _extended_maps(ctx.basis, Sf.dtype)[1]
            gS = torch.mv(Sf, g.reshape(-1) if g.dtype == Sf.dtype else g.reshape(-1).to(Sf.dtype))
            grad_w = torch.mv(value, gS).to(g.dtype)  # (K + 1,)
        return grad_z, grad_w, None, None


class _TAAFNeuronFunction(torch.autograd.Function):
    """Per-neuron weights ``[c, b]`` of shape ``(n_features, K + 1)``."""

    @staticmethod
    def forward(ctx, z, weight, basis, normalization):
        need_z, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        u, chain = _normalize_with_slope(z, normalization, need_z)
        wd = _work_dtype(basis, z.dtype)
        n_feat = z.shape[-1]
        S = basis.features(u if wd == z.dtype else u.to(wd))  # (m, *z.shape)
        m = S.shape[0]
        S3 = S.view(m, -1, n_feat)  # (m, B, F)
        both, value = _extended_maps(basis, wd)
        w = weight if weight.dtype == wd else weight.to(wd)
        A = torch.mm(w, both if need_z else value).view(n_feat, -1, m)  # (F, r, m)
        A = A.permute(1, 2, 0).unsqueeze(2)  # (r, m, 1, F)
        y = (S3 * A[0]).sum(0).view(z.shape)
        dz = None
        if need_z:
            dz = chain((S3 * A[1]).sum(0).view(z.shape).to(z.dtype))
        ctx.basis = basis
        ctx.save_for_backward(S3 if need_w else None, dz)
        return y.to(z.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        S3, dz = ctx.saved_tensors
        grad_z = g * dz if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            g2 = g.reshape(-1, g.shape[-1]).to(S3.dtype)  # (B, F)
            gS = (S3 * g2).sum(1)  # (m, F)
            value = _extended_maps(ctx.basis, S3.dtype)[1]  # (K + 1, m)
            grad_w = torch.mm(gS.T, value.T).to(g.dtype)  # (F, K + 1)
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
    >>> from taafs_sk.bases import make_basis
    >>> from taafs_sk._fused import fused_taaf
    >>> weight = torch.tensor([0.0, 1.0, 0.0, 0.5])  # u + 0.5 in the Legendre basis
    >>> fused_taaf(torch.zeros(2, 4), weight, make_basis("legendre", 3), "tanh")[0]
    tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """
    fn = _TAAFNeuronFunction if weight.dim() == 2 else _TAAFFunction
    return fn.apply(z, weight, basis, normalization)
