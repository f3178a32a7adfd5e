"""The argument checks of :func:`~taafs_sk.nn.replace_activations` and its probe of each found
activation (elementwise or refused)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ._replace_sites import Site, Skipped, describe
from ._taaf import TAAF, _Function

OWNER = "replace_activations"
_PROBE_WIDTH = 3  # width of the probe input where the width before a site cannot be inferred
# Modules that keep the width of the last axis, skipped when looking for the Linear before an
# activation.
_WIDTH_KEEPING = (nn.Dropout, nn.AlphaDropout, nn.FeatureAlphaDropout, nn.Identity,
                  nn.LayerNorm)

#: The activation functions :func:`replace_activations` swaps by default where a module holds
#: one in an attribute (``self.act = F.silu``) or wraps one (e3nn's ``normalize2mom``).
DEFAULT_FUNCTIONS: tuple[Callable, ...] = (
    torch.tanh, F.tanh, torch.sigmoid, F.sigmoid, F.silu, F.gelu, F.celu, F.elu, F.selu,
    F.softplus, F.mish, F.softsign, F.logsigmoid, torch.relu, F.relu, F.leaky_relu,
    F.hardtanh, F.hardsigmoid, F.hardswish,
)

# Torch classes that are never elementwise activations, refused in ``types`` before any module
# is looked at: containers, layers with weights, normalisations, reductions over an axis and
# random masks. Anything else found is probed once (_not_elementwise).
_NOT_ACTIVATIONS: tuple[tuple[tuple[type[nn.Module], ...], str], ...] = (
    ((nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict),
     "a container of modules"),
    ((nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd, nn.Embedding, nn.EmbeddingBag,
      nn.RNNBase, nn.RNNCellBase, nn.MultiheadAttention, nn.Transformer,
      nn.TransformerEncoder, nn.TransformerDecoder, nn.TransformerEncoderLayer,
      nn.TransformerDecoderLayer), "a layer with weights that mixes its inputs"),
    ((nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm,
      nn.LocalResponseNorm), "a normalisation over several entries"),
    ((nn.Softmax, nn.Softmin, nn.LogSoftmax, nn.Softmax2d), "a normalisation over an axis"),
    ((nn.modules.dropout._DropoutNd,), "a random mask, not an activation"),
)
_NOT_FUNCTIONS = (torch.softmax, F.softmax, F.log_softmax, F.softmin, F.normalize,
                  F.layer_norm, F.dropout, F.linear)


def check_types(types: object) -> tuple[type[nn.Module], ...]:
    if isinstance(types, type):
        types = (types,)
    if not isinstance(types, Sequence) or isinstance(types, str):
        raise TypeError(f"types of {OWNER} must be a tuple of torch.nn.Module subclasses, "
                        f"got {types!r}.")
    types = tuple(types)
    if not types:
        raise ValueError(f"types of {OWNER} must name at least one activation class, got ().")
    for t in types:
        if not (isinstance(t, type) and issubclass(t, nn.Module)):
            raise TypeError(f"types of {OWNER} must hold torch.nn.Module subclasses (e.g. "
                            f"nn.Tanh), got {t!r}; pass functions such as torch.tanh in "
                            "functions=.")
        if issubclass(t, TAAF):
            raise ValueError(f"types of {OWNER} must hold fixed activations, got {t.__name__}"
                             " (a TAAF is never replaced).")
        for family, why in _NOT_ACTIVATIONS:
            if issubclass(t, family):
                raise ValueError(f"types of {OWNER} must hold elementwise activation classes "
                                 f"(e.g. nn.Tanh), got {t.__name__}: {why}, which a TAAF "
                                 "cannot replace.")
    return types


def check_functions(functions: object) -> tuple[Callable, ...]:
    """``functions`` of replace_activations: a sequence (possibly empty) of plain callables."""
    if callable(functions) and not isinstance(functions, type):
        functions = (functions,)
    if not isinstance(functions, Sequence) or isinstance(functions, str):
        raise TypeError(f"functions of {OWNER} must be a tuple of activation functions (e.g. "
                        f"(torch.tanh, F.silu)), got {functions!r}.")
    functions = tuple(functions)
    for f in functions:
        if isinstance(f, (type, nn.Module)) or not callable(f):
            raise TypeError(f"functions of {OWNER} must hold plain callables (e.g. F.silu), "
                            f"got {f!r}; pass activation module classes in types=.")
        inner = f.func if isinstance(f, functools.partial) else f
        if any(inner is g for g in _NOT_FUNCTIONS):
            raise ValueError(f"functions of {OWNER} must hold elementwise activations, got "
                             f"{describe_function(f)}, which a TAAF cannot replace.")
    return functions


def describe_function(fn: Callable) -> str:
    return describe(_Function(fn))


def no_match_message(root: nn.Module, types: tuple[type[nn.Module], ...],
                     skipped: list[Skipped]) -> str:
    if skipped:
        seen = "; ".join(f"{s.path!r} ({s.old}): {s.reason}" for s in skipped[:6])
        return (f"module of {OWNER} ({type(root).__name__}) holds no activation that can be "
                f"replaced: every one found is kept, {seen}.")
    leaves = [f"{name!r} ({type(m).__module__}.{type(m).__qualname__})"
              for name, m in root.named_modules()
              if name and not m._modules and not any(True for _ in m.parameters())]
    hint = ""
    if leaves:
        hint = (f" Parameter-free leaf modules it holds: {', '.join(leaves[:5])}"
                f"{', ...' if len(leaves) > 5 else ''}; pass their classes in types= to "
                "replace them (e.g. types=(torchani.nn.TightCELU,)).")
    return (f"module of {OWNER} ({type(root).__name__}) holds no activation module of types "
            f"{[t.__name__ for t in types]} and no attribute holding one of its functions.{hint}"
            " Activations called as functions inside forward (torch.tanh(x), F.celu(x)) are "
            "neither modules nor attributes and cannot be replaced.")


def infer_width(site: Site) -> int:
    """Width of the last axis entering ``site``: told by its owner, or from the
    ``nn.Linear`` just before it."""
    if site.width is not None:
        return site.width
    parent = site.parent
    if isinstance(parent, nn.Sequential):
        names = list(parent._modules)
        for prev in reversed(names[: names.index(site.name)]):
            before = parent._modules[prev]
            if isinstance(before, _WIDTH_KEEPING):
                continue
            if isinstance(before, nn.Linear):
                return int(before.out_features)
            break
    raise ValueError(
        f"sharing='neuron' of {OWNER} needs the width of every replaced activation, and that "
        f"of {site.path!r} ({describe(site.act)} inside {type(parent).__name__}) cannot be "
        "inferred: it must follow an nn.Linear inside an nn.Sequential (Dropout, Identity or "
        "LayerNorm may sit between), be held by an nn.Linear subclass or an e3nn layer or "
        "Activation. A module that calls one activation after several layers (torchani's "
        "AtomicNetwork does) cannot have per-neuron coefficients; use sharing='layer' or "
        "'network'.")


def reference(site: Site, root: nn.Module) -> torch.Tensor | None:
    """A floating tensor of the network near ``site``: the TAAF takes its dtype and device."""
    for owner in (site.parent, root):
        for t in (*owner.parameters(), *owner.buffers()):
            if t.is_floating_point():
                return t
    return None


def _not_elementwise(site: Site, root: nn.Module) -> str | None:
    """Why the activation of ``site`` is not elementwise, from one probe in eval mode on a
    ``(2, width)`` input: another shape out, or other outputs moving when one input entry
    does. None when it passes, or when it cannot run on the probe (then nothing is known)."""
    try:
        width = infer_width(site)
    except ValueError:
        width = _PROBE_WIDTH
    ref = reference(site, root)
    x = torch.linspace(-2.0, 2.0, 2 * width, dtype=None if ref is None else ref.dtype,
                       device=None if ref is None else ref.device).view(2, width)
    moved = x.clone()
    moved[0, 0] = 0.75  # one entry changed
    act, training = site.act, site.act.training
    try:
        with torch.no_grad():
            act.eval()
            y, y_moved = act(x.clone()), act(moved.clone())  # clones: inplace activations
    except Exception:  # noqa: BLE001 - any failure on the probe: the probe says nothing
        return None
    finally:
        act.train(training)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        return f"it maps an input of shape {tuple(x.shape)} to {shape}"
    others = torch.ones_like(x, dtype=torch.bool)
    others[0, 0] = False
    if not torch.allclose(y[others], y_moved[others], rtol=0.0, atol=0.0, equal_nan=True):
        return "changing one entry of its input changes other entries of its output"
    return None


def check_elementwise(sites: list[Site], root: nn.Module) -> None:
    """Refuse a found activation that is not elementwise, naming its option and class."""
    probed: set[int] = set()
    for site in sites:
        if id(site.act) in probed:
            continue
        probed.add(id(site.act))
        why = _not_elementwise(site, root)
        if why is None:
            continue
        if site.kind == "module":
            name = type(site.act).__name__
            raise ValueError(
                f"types of {OWNER} holds {name}, but the module found at {site.path!r} "
                f"({site.act!r}) is not an elementwise activation: {why}. A TAAF acts on "
                f"each entry alone; remove {name} from types.")
        raise ValueError(
            f"functions of {OWNER} holds {describe(site.act)}, found at {site.path!r}, but it "
            f"is not an elementwise activation: {why}. A TAAF acts on each entry alone; "
            "remove it from functions.")
