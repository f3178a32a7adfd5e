r"""Fused forward and analytic first and second derivatives of a trainable activation (TAAF).

A TAAF computes :math:`y = \sum_k c_k B_k(u) + b` with :math:`u = \mathrm{norm}(z)`. Built
from ordinary torch operations (the eager path) it records a dozen small autograd nodes per
layer, and at the sizes of a typical MLP the per-operation overhead, not arithmetic, sets the
price. Here two :class:`torch.autograd.Function` do the whole activation:

:class:`_TAAFFunction` (the activation)
    ``u = norm(z)``; ``S = basis.features(u)`` (``m`` working features with ``S[0] = 1``, see
    :mod:`taafs_sk.nn.bases`); ``A = [c, b] @ maps`` (value and slope coefficients on the
    features, a tiny product; the bias lands on ``S[0]``); ``[f + b; f'] = A @ S`` (one
    matrix product). Its backward computes the two gradients below directly from the saved
    features when no graph of the gradient is being built (plain training), and through the
    second Function when one is (``create_graph=True``: force training).
:class:`_TAAFBackward` (its gradient, itself differentiable)
    :math:`\partial L/\partial z = g\, f'(u)\, \mathrm{norm}'(z)` (the factor comes from
    forward), :math:`\partial L/\partial [c, b] = \mathrm{maps}_0 (S g)`. Its own backward
    (the second derivatives that force training needs: ``grad(E, x, create_graph=True)``
    then ``backward()``) uses the slope maps, the basis' ``second_derivatives`` and
    :math:`\mathrm{norm}''`. Third derivatives are not supported.

The matrices come from the basis' :class:`~taafs_sk.nn.bases.FusedPlan`
(``basis.fused_plan(dtype)``, built on first use and owned by the basis; see
:class:`~taafs_sk.nn.Basis` for every hook it reads). Under ``normalization='tanh'`` a basis
with ``tanh_slopes`` gives the gradient factor :math:`f'(u)(1 - u^2)` from the forward
product itself (``plan.tanh_both``). One code path serves a weight shared by every neuron,
``(K + 1,)``, and per-neuron weights, ``(F, K + 1)``. Where the basis' change of
representation amplifies rounding (``basis.amplification`` above ``AMPLIFICATION_LIMIT``,
e.g. fine B-spline grids) and the input is in reduced precision, the features are built in
float64 (``plan.dtype``).

:func:`fused_taaf` first offers the call to the compiled operator
(:func:`taafs_sk.nn._ops.compiled_taaf`: C++, the built-in families on the CPU); these two
Functions run where it declines.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from ._ops import compiled_taaf
from .bases import AMPLIFICATION_LIMIT, Basis, FusedPlan

__all__ = ["NORMALIZATIONS", "normalize", "fused_taaf", "AMPLIFICATION_LIMIT"]

#: name -> input scale ``s`` of the clipping normalisations (``u = clip(z / s, -1, 1)``).
_CLIP_SCALES = {"clamp": 3.0, "none": 1.0}
NORMALIZATIONS = ("tanh", "softsign", "clamp", "none")


def normalize(z: torch.Tensor, normalization: str) -> torch.Tensor:
    """Map pre-activations to the basis domain [-1, 1] (differentiable torch ops).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn._fused import normalize
    >>> normalize(torch.tensor([-6.0, 1.5]), "clamp")
    tensor([-1.0000,  0.5000])
    """
    if normalization == "tanh":
        return torch.tanh(z)
    if normalization == "softsign":
        return F.softsign(z)
    return (z * (1.0 / _CLIP_SCALES[normalization])).clamp(-1.0, 1.0)


def _chain(z: torch.Tensor, u: torch.Tensor, normalization: str,
           second: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``norm'(z)`` and, if ``second``, ``norm''(z)`` (None when it is zero), from ``u``."""
    if normalization == "tanh":
        n1 = 1.0 - u * u
        return n1, (-2.0 * u * n1 if second else None)
    if normalization == "softsign":
        r = 1.0 - u.abs()
        return r * r, (-2.0 * torch.sign(u) * r * r * r if second else None)
    inv = 1.0 / _CLIP_SCALES[normalization]
    inside = (z * inv).abs() <= 1.0  # the gradient of clamp is 1 on the closed interval
    return inside.to(u.dtype) * inv, None


class _Plan(tuple):
    """A plan that taafs-sk 0.1 pickled in ``Basis._fused_plans``: such pickles rebuild it
    (``_Plan.__new__(_Plan, *fields)``) before ``Basis.__setstate__`` drops it. Used by
    nothing else; remove it when 0.1 pickles need no longer load (``tests/test_legacy.py``)."""

    def __new__(cls, *fields: object) -> _Plan:
        return super().__new__(cls, fields)


def _combine(weight: torch.Tensor, rows: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    r"""``r`` functions :math:`\sum_j (w\,\mathrm{rows})_{ij} S_j` of shape ``(r,) + S.shape[1:]``.

    ``weight`` is ``(K + 1,)`` (shared) or ``(F, K + 1)`` (per neuron, last axis of ``S``);
    ``rows`` is ``(K + 1, r m)``."""
    m = S.shape[0]
    A = weight @ rows  # (r m,) or (F, r m)
    r = A.shape[-1] // m
    if weight.dim() == 1:
        return torch.mm(A.view(r, m), S.reshape(m, -1)).view(r, *S.shape[1:])
    n_feat = weight.shape[0]
    S3 = S.reshape(1, m, -1, n_feat)  # (1, m, B, F)
    A4 = A.view(n_feat, r, m).permute(1, 2, 0).unsqueeze(2)  # (r, m, 1, F)
    return (S3 * A4).sum(1).view(r, *S.shape[1:])


def _project(S: torch.Tensor, g: torch.Tensor, rows: torch.Tensor, shared: bool) -> torch.Tensor:
    """d/dweight of ``sum(g * _combine(weight, rows, S)[0])`` for rows of shape ``(K+1, m)``."""
    m = S.shape[0]
    if shared:
        return torch.mv(rows, torch.mv(S.reshape(m, -1), g.reshape(-1)))  # (K + 1,)
    n_feat = g.shape[-1]
    gS = (S.reshape(m, -1, n_feat) * g.reshape(-1, n_feat)).sum(1)  # (m, F)
    return torch.mm(gS.T, rows.T)  # (F, K + 1)


def _first_order(g: torch.Tensor, S: torch.Tensor | None, dz: torch.Tensor | None,
                 weight: torch.Tensor, plan: FusedPlan, need_z: bool,
                 need_w: bool) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``(dL/dz, dL/dweight)`` of :class:`_TAAFFunction` for the output gradient ``g``."""
    grad_z = g * dz if need_z else None
    grad_w = None
    if need_w:
        gw = g if g.dtype == plan.dtype else g.to(plan.dtype)
        grad_w = _project(S, gw, plan.value, weight.dim() == 1)
        if grad_w.dtype != weight.dtype:
            grad_w = grad_w.to(weight.dtype)
    return grad_z, grad_w


def _forward_rows(plan: FusedPlan, normalization: str,
                  need_z: bool) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """``(rows, rows.T, chained)``: the rows of the forward product and whether its second
    half is already :math:`df/dz` (``tanh_both``) rather than :math:`df/du`."""
    if not need_z:
        return plan.value, plan.value_t, False
    if normalization == "tanh" and plan.tanh_both is not None:
        return plan.tanh_both, plan.tanh_both_t, True
    return plan.both, plan.both_t, False


def _evaluate(z: torch.Tensor, u: torch.Tensor, w: torch.Tensor, S: torch.Tensor, plan: FusedPlan,
              normalization: str, need_z: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(y, dy/dz)`` (``dy/dz`` None unless ``need_z``) in the working dtype."""
    rows, rows_t, chained = _forward_rows(plan, normalization, need_z)
    if w.dim() == 1:  # shared weight: a matrix-vector product, then one matrix product
        m = S.shape[0]
        A = torch.mv(rows_t, w).view(-1, m)  # (r, m)
        out = torch.mm(A, S.reshape(m, -1)).view(A.shape[0], *z.shape)  # r counted: z may be empty
    else:
        out = _combine(w, rows, S)
    if not need_z:
        return out[0], None
    slope = out[1]
    if chained:
        return out[0], slope
    if normalization == "tanh":  # f'(u) (1 - u^2) in two calls
        return out[0], torch.addcmul(slope, slope * u, u, value=-1.0)
    return out[0], slope * _chain(z, u, normalization)[0]


class _TAAFFunction(torch.autograd.Function):
    """``y = [c, b] . [B(norm(z)), 1]``; the weight is shared ``(K+1,)`` or per neuron."""

    @staticmethod
    def forward(ctx, z, weight, basis, normalization):
        need_z, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        plan = basis.fused_plan(z.dtype)
        u = normalize(z, normalization)
        if plan.dtype != z.dtype:
            u = u.to(plan.dtype)
        S = basis.features(u)  # (m, *z.shape)
        w = weight if weight.dtype == plan.dtype else weight.to(plan.dtype)
        y, dz = _evaluate(z, u, w, S, plan, normalization, need_z)
        if dz is not None and dz.dtype != z.dtype:
            dz = dz.to(z.dtype)
        if y.dtype != z.dtype:
            y = y.to(z.dtype)
        ctx.basis, ctx.normalization, ctx.plan = basis, normalization, plan
        ctx.save_for_backward(z, weight, S if need_w else None, dz)
        return y

    @staticmethod
    def backward(ctx, g):
        z, weight, S, dz = ctx.saved_tensors
        need_z, need_w = ctx.needs_input_grad[:2]
        if torch.is_grad_enabled():  # create_graph=True: the gradient must be differentiable
            grads = _TAAFBackward.apply(g, z, weight, S, dz, ctx.basis, ctx.normalization,
                                        ctx.plan, need_z, need_w)
        else:  # a first-order backward (training on energies): no second Function
            grads = _first_order(g, S, dz, weight, ctx.plan, need_z, need_w)
        return grads[0], grads[1], None, None


def _slope_and_curvature(w: torch.Tensor, S: torch.Tensor, u: torch.Tensor, basis: Basis,
                         plan: FusedPlan) -> tuple[torch.Tensor, torch.Tensor]:
    """:math:`f'(u)` and :math:`f''(u)` for the weight ``w`` (working dtype)."""
    if plan.joint is not None:
        f1, f2 = _combine(w, plan.joint, S)
        return f1, f2
    f1 = _combine(w, plan.slope, S)[0]
    if plan.curvature is not None:
        return f1, _combine(w, plan.curvature, basis.curvature_features(u, S))[0]
    B2 = basis.second_derivatives(u)  # (*z.shape, K)
    c = w[..., :-1]
    return f1, (B2 @ c if w.dim() == 1 else (B2 * c).sum(-1))


def _add(total: torch.Tensor | None, term: torch.Tensor) -> torch.Tensor:
    return term if total is None else total + term


class _TAAFBackward(torch.autograd.Function):
    """``(g, z, weight) -> (dL/dz, dL/dweight)`` of :class:`_TAAFFunction`, differentiable."""

    @staticmethod
    def forward(ctx, g, z, weight, S, dz, basis, normalization, plan, need_z, need_w):
        grad_z, grad_w = _first_order(g, S, dz, weight, plan, need_z, need_w)
        ctx.set_materialize_grads(False)
        ctx.basis, ctx.normalization, ctx.plan = basis, normalization, plan
        ctx.save_for_backward(g, z, weight, S, dz)
        return grad_z, grad_w

    @staticmethod
    @once_differentiable
    def backward(ctx, a_z, a_w):
        g, z, weight, S, dz = ctx.saved_tensors
        need_g, need_z, need_w = ctx.needs_input_grad[:3]
        plan, basis = ctx.plan, ctx.basis
        wd = plan.dtype
        u = normalize(z, ctx.normalization).to(wd)
        if S is None:
            S = basis.features(u)
        n1, n2 = _chain(z, u, ctx.normalization, second=True)
        gg = g.to(wd)
        grad_g = grad_z = grad_w = None
        if a_w is not None and (need_g or need_z):  # grad_w = value (S g): linear in g
            fa = _combine(a_w.to(wd), plan.both, S)  # f_a(u), f_a'(u) with weight a_w
            grad_g = fa[0] if need_g else None
            grad_z = gg * fa[1] * n1 if need_z else None
        if a_z is not None:  # grad_z = g f_w'(u) norm'(z)
            az = a_z.to(wd)
            if need_g:
                grad_g = _add(grad_g, az * dz.to(wd))
            if need_z:
                f1, f2 = _slope_and_curvature(weight.to(wd), S, u, basis, plan)
                curv = f2 * n1 * n1 if n2 is None else f2 * n1 * n1 + f1 * n2
                grad_z = _add(grad_z, az * gg * curv)
            if need_w:
                grad_w = _project(S, az * gg * n1, plan.slope, weight.dim() == 1)
                grad_w = grad_w.to(weight.dtype)
        grad_g = None if grad_g is None else grad_g.to(g.dtype)
        grad_z = None if grad_z is None else grad_z.to(z.dtype)
        return grad_g, grad_z, grad_w, None, None, None, None, None, None, None


def fused_taaf(z: torch.Tensor, weight: torch.Tensor, basis: Basis,
               normalization: str) -> torch.Tensor:
    """Evaluate a TAAF with the fused kernels (twice differentiable): the compiled operator
    where it takes the call (see :mod:`taafs_sk.nn._ops`), else the Python Functions.

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
    y = compiled_taaf(z, weight, basis, normalization)
    return _TAAFFunction.apply(z, weight, basis, normalization) if y is None else y
