r"""The compiled TAAF operator: one C++ call per activation and per derivative.

``torch.ops.taafs_sk.taaf(z, weight, spec, family, normalization)`` evaluates
:math:`y = \sum_k c_k B_k(\mathrm{norm}(z)) + b` for the built-in basis families, with a C++
autograd formula whose backward is itself differentiable once (the second derivatives of
force training); see ``taaf_op.cpp``. It replaces the two Python
:class:`torch.autograd.Function` of :mod:`taafs_sk.nn._fused`, whose Python overhead alone
cost 1.35x a tanh network's training step, and it evaluates in double precision (float32
inputs are rounded once, at the end).

:func:`compiled_taaf` is what :func:`~taafs_sk.nn._fused.fused_taaf` calls first; it returns
None (and the Python kernels run) when the operator cannot take the call: a device other than
the CPU, a dtype other than float32 and float64, a basis that is not exactly a built-in
family, functorch transforms or :func:`torch.compile` tracing, the operator switched off
(:func:`use_compiled`, ``TAAFS_SK_COMPILED_OP=0``) or unavailable (no compiler: a warning,
once per process). Nothing about the path is stored in a model: a network trained with one
predicts the same with the other.

The library is built on first use and cached (see :mod:`taafs_sk.nn._ops._build`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from ._build import STATE
from ._spec import NORMALIZATION_CODES, basis_spec

__all__ = ["compiled_taaf", "use_compiled", "is_available", "STATE"]

_DTYPES = (torch.float32, torch.float64)


def is_available() -> bool:
    """Whether the compiled operator is loaded (building it on the first call).

    Examples
    --------
    >>> from taafs_sk.nn._ops import is_available
    >>> isinstance(is_available(), bool)
    True
    """
    return STATE.get() is not None


@contextmanager
def use_compiled(enabled: bool) -> Iterator[None]:
    """Switch the compiled operator on or off inside a ``with`` block (for comparisons).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn import TAAF
    >>> from taafs_sk.nn._ops import use_compiled
    >>> act, z = TAAF(4, "legendre"), torch.randn(3, 4)
    >>> with use_compiled(False):
    ...     python = act(z)
    >>> bool(torch.allclose(act(z), python, rtol=1e-5, atol=1e-6))
    True
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled of use_compiled must be True or False, got {enabled!r}.")
    previous, STATE.enabled = STATE.enabled, enabled
    try:
        yield
    finally:
        STATE.enabled = previous


def _traced() -> bool:
    """Whether torch.compile or a functorch transform is tracing (the Python path then)."""
    return torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active()


def compiled_taaf(z: torch.Tensor, weight: torch.Tensor, basis, normalization: str):
    """The TAAF evaluated by the compiled operator, or None when it cannot take the call.

    Parameters
    ----------
    z : Tensor of shape (..., n_features)
    weight : Tensor of shape (n_basis + 1,) or (n_features, n_basis + 1)
    basis : Basis
    normalization : {'tanh', 'softsign', 'clamp', 'none'}

    Returns
    -------
    y : Tensor of the shape of ``z``, or None

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import make_basis
    >>> from taafs_sk.nn._ops import compiled_taaf
    >>> weight = torch.tensor([0.0, 1.0, 0.0, 0.5])  # u + 0.5 in the Legendre basis
    >>> y = compiled_taaf(torch.zeros(2, 4), weight, make_basis("legendre", 3), "tanh")
    >>> y is None or bool((y == 0.5).all())
    True
    """
    if not (STATE.enabled and z.is_cpu and weight.is_cpu and z.dtype in _DTYPES) or _traced():
        return None
    op = STATE.op if STATE.tried else STATE.get()
    if op is None:
        return None
    family, spec = basis_spec(basis)
    if family is None:
        return None
    return op(z, weight, spec, family, NORMALIZATION_CODES[normalization])
