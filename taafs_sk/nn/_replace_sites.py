"""Where :func:`~taafs_sk.nn.replace_activations` finds activations: the sites of a module.

A site is one attribute ``parent.<name>`` that holds an activation, in one of three forms:

``'module'``
    an activation module of the given ``types`` (``nn.SiLU()``);
``'function'``
    a plain callable of the given ``functions`` stored in an attribute (``self.act =
    F.silu``, a :func:`functools.partial` of one); it is wrapped in a module for the TAAF;
``'normalized'``
    a module that multiplies one of those by a constant, found by its attributes ``f`` (the
    function) and ``cst`` (a float): e3nn's ``normalize2mom`` wrappers in ``FullyConnectedNet``
    layers and ``Activation.acts`` (Geiger & Smidt, e3nn, arXiv:2207.09453, section on
    normalisation). The module itself becomes :math:`\\varphi_0`, so ``cst * f(z)`` is kept
    to the bit.

Sites that are found but must not be swapped are returned with the reason: gates (unless
asked for) and activations of odd scalars (a TAAF correction is neither odd nor even, and
e3nn's ``Activation`` relies on the parity of the function to keep the output equivariant).
Everything here is duck-typed: :mod:`taafs_sk.nn` never imports e3nn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from ._taaf import TAAF, _Function

__all__ = ["Site", "Skipped", "find_sites", "describe"]

ROOT = "<root>"
# The attribute names of a site that make it a gate: a sigmoid (or other function) whose output
# multiplies equivariant features (e3nn Gate's act_gates, MACE's GatedEquivariantBlock._act_gate).
_GATE = re.compile(r"(^|_)gates?$")
_ODD = ("an activation of odd scalars (parity -1) must be odd or even for the output to stay "
        "equivariant, and a TAAF correction is neither; kept the original")


@dataclass
class Site:
    """One place ``parent.<name>`` holding an activation to replace."""

    parent: nn.Module
    name: str
    path: str
    act: nn.Module  # the activation as a module (a plain function is wrapped)
    network: str
    kind: str = "module"
    width: int | None = None  # width of the last axis, where the owner tells it
    gate: bool = False


@dataclass
class Skipped:
    """A site seen but not swapped, and why."""

    path: str
    old: str
    reason: str


@dataclass
class _Search:
    types: tuple[type[nn.Module], ...]
    functions: tuple[Callable, ...]
    gates: bool
    sites: list[Site] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    visited: set[int] = field(default_factory=set)


def _matches(fn: object, functions: tuple[Callable, ...]) -> bool:
    """Whether ``fn`` is one of ``functions`` (or a functools.partial of one)."""
    while isinstance(fn, functools.partial):
        if any(fn is f for f in functions):
            return True
        fn = fn.func
    return any(fn is f for f in functions)


def _normalized(module: nn.Module, search: _Search) -> bool:
    """A parameter-free module computing ``cst * f(z)`` with ``f`` a matching activation."""
    f, cst = getattr(module, "f", None), getattr(module, "cst", None)
    if not callable(f) or not isinstance(cst, float) or any(True for _ in module.parameters()):
        return False
    return isinstance(f, search.types) or _matches(f, search.functions)


def describe(act: nn.Module) -> str:
    """A short name of the activation a site holds (for the report and error messages)."""
    if isinstance(act, _Function):
        return _function_name(act.fn)
    f, cst = getattr(act, "f", None), getattr(act, "cst", None)
    if callable(f) and isinstance(cst, float):
        inner = repr(f) if isinstance(f, nn.Module) else _function_name(f)
        return f"{cst:.6g} * {inner} ({type(act).__name__})"
    return repr(act)


def _function_name(fn: Callable) -> str:
    if isinstance(fn, functools.partial):
        args = [repr(a) for a in fn.args] + [f"{k}={v!r}" for k, v in fn.keywords.items()]
        return f"partial({_function_name(fn.func)}, {', '.join(args)})"
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__name__", None) or repr(fn)
    return f"{module}.{name}" if module else name


def _label(path: str) -> str:
    """The attribute name that holds a site: list indices and e3nn's ``acts`` list skipped."""
    parts = [p for p in path.split(".") if not p.isdigit()]
    if len(parts) > 1 and parts[-1] == "acts":
        parts.pop()
    return parts[-1] if parts else path


def _odd_scalars(irreps: object) -> bool:
    """Whether an e3nn-like irreps (items ``(mul, (l, p))``) holds scalars of parity -1."""
    try:
        return any(mul > 0 and l == 0 and p == -1 for mul, (l, p) in irreps)
    except (TypeError, ValueError):
        return False


def _irreps_item(owner: nn.Module, index: int) -> tuple[int, int] | None:
    """``(mul, parity)`` of entry ``index`` of ``owner.irreps_in`` (e3nn's Activation)."""
    try:
        mul, (_, p) = list(owner.irreps_in)[index]
        return int(mul), int(p)
    except (AttributeError, TypeError, ValueError, IndexError):
        return None


def _parity_and_width(parent: nn.Module, name: str, owner: nn.Module | None,
                      gate: bool) -> tuple[bool, int | None]:
    """Whether the site acts on odd scalars, and its width where the owner tells it."""
    if owner is not None and name.isdigit():  # an entry of Activation.acts
        item = _irreps_item(owner, int(name))
        if item is not None:
            return item[1] == -1, item[0]
    irreps = getattr(parent, "irreps_gates" if gate else "irreps_scalars", None)
    if irreps is not None:  # a gated block holding its functions as attributes
        return _odd_scalars(irreps), None
    h_out = getattr(parent, "h_out", None)  # e3nn FullyConnectedNet layer
    if isinstance(h_out, int) and isinstance(getattr(parent, "weight", None), nn.Parameter):
        return False, h_out
    if isinstance(parent, nn.Linear):  # a Dense layer applying its own activation
        return False, int(parent.out_features)
    return False, None


def _add(search: _Search, parent: nn.Module, name: str, path: str, act: nn.Module,
         network: str, kind: str, owner: nn.Module | None) -> None:
    gate = bool(_GATE.search(_label(path)))
    odd, width = _parity_and_width(parent, name, owner, gate)
    if odd:
        search.skipped.append(Skipped(path, describe(act), _ODD))
    elif gate and not search.gates:
        search.skipped.append(Skipped(path, describe(act), "a gate (it multiplies equivariant "
                                      "features); pass gates=True to swap it"))
    else:
        search.sites.append(Site(parent, name, path, act, network, kind, width, gate))


def _visit(search: _Search, module: nn.Module, prefix: str, network: str,
           owner: nn.Module | None) -> None:
    search.visited.add(id(module))
    for name, value in vars(module).items():  # callables held as plain attributes
        if (name.startswith("__") or isinstance(value, (nn.Module, type)) or not callable(value)
                or not _matches(value, search.functions)):
            continue
        path = f"{prefix}.{name}" if prefix else name
        _add(search, module, name, path, _Function(value), network, "function", None)
    container = isinstance(module, (nn.ModuleDict, nn.ModuleList))
    for name, child in module._modules.items():
        if child is None or isinstance(child, TAAF):  # a TAAF is never replaced
            continue
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(child, search.types):
            _add(search, module, name, path, child, network, "module", owner)
        elif _normalized(child, search):
            _add(search, module, name, path, child, network, "normalized", owner)
        elif id(child) not in search.visited:
            child_owner = module if name == "acts" and container is False else None
            _visit(search, child, path, path if container else network, child_owner)


def find_sites(root: nn.Module, types: tuple[type[nn.Module], ...],
               functions: tuple[Callable, ...], gates: bool) -> tuple[list[Site], list[Skipped]]:
    """Every site of ``root`` in registration order, and the sites seen but not swapped.

    A *sub-network* (``Site.network``) is the deepest enclosing entry of an ``nn.ModuleDict``
    or ``nn.ModuleList`` (see :mod:`taafs_sk.nn.replace`).
    """
    search = _Search(types, functions, gates)
    _visit(search, root, "", ROOT, None)
    return search.sites, search.skipped
