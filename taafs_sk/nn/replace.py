r"""Swap the fixed activations of any torch network for TAAFs that reproduce them.

:func:`replace_activations` walks a :class:`torch.nn.Module`'s tree of submodules and puts a
:class:`~taafs_sk.nn.TAAF` in the place of every activation module of the given types. Each
TAAF is built in the residual form

.. math::

    \sigma(z) = \varphi_0(z) + \sum_{k=1}^{K} c_k\, B_k(\mathrm{norm}(z)) + b,
    \qquad c_k = b = 0 \text{ at the start},

with :math:`\varphi_0` a copy of the activation it replaces (with its own settings: CELU's
``alpha``, Softplus's ``beta`` and ``threshold``, GELU's ``approximate``), so the network
computes exactly what it computed before until it is trained.

Sharing schemes (the TAAFS paper, section 5.1, schemes 1 to 4):

``'global'``
    one TAAF for the whole module (scheme 1);
``'network'``
    one TAAF per sub-network (scheme 2, "one activation function per network"), with
    *sub-network* defined below;
``'layer'``
    one TAAF per place where an activation module is registered (scheme 3);
``'neuron'``
    per-neuron coefficients at each such place (scheme 4); the width is read from the
    ``nn.Linear`` before the activation.

Each TAAF itself has ``sharing='shared'`` (one set of coefficients for every neuron it sees)
except under ``'neuron'``.

A *sub-network* of an activation is its deepest enclosing module that is an entry of an
``nn.ModuleDict`` or ``nn.ModuleList`` (``nn.Sequential`` does not count, nor an entry that is
itself an activation); an activation with no such ancestor belongs to the whole module. For
torchani's per-element ``ANINetworks`` (``atomics`` is a ``ModuleDict``) this gives one TAAF per
element network, for an ensemble of them one per member and element, and for a plain
``nn.Sequential`` one for the whole network.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._taaf import TAAF, _check_choice
from .bases import Basis, resolve_basis
from .checks import check_torch_module

__all__ = ["DEFAULT_TYPES", "REPLACE_SHARING", "replace_activations"]

#: The fixed activations :func:`replace_activations` swaps by default (subclasses included).
DEFAULT_TYPES: tuple[type[nn.Module], ...] = (
    nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU, nn.CELU, nn.ELU, nn.SELU, nn.Softplus, nn.Mish,
    nn.Softsign, nn.LogSigmoid, nn.ReLU, nn.LeakyReLU, nn.Hardtanh, nn.Hardsigmoid,
    nn.Hardswish,
)
REPLACE_SHARING = ("layer", "neuron", "network", "global")
_OWNER = "replace_activations"
_ROOT = "<root>"
# Set by replace_activations itself, so not accepted in **taaf_kwargs.
_RESERVED = ("num_features", "basis", "n_basis", "sharing", "init")
# Modules that keep the width of the last axis, skipped when looking for the Linear before an
# activation.
_WIDTH_KEEPING = (nn.Dropout, nn.AlphaDropout, nn.FeatureAlphaDropout, nn.Identity,
                  nn.LayerNorm)


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
_PROBE_WIDTH = 3  # width of the probe input where the width before a site cannot be inferred


@dataclass
class _Site:
    """One place where a matching activation is registered: ``parent.<name>``."""

    parent: nn.Module
    name: str
    path: str
    act: nn.Module
    network: str


def _check_types(types: object) -> tuple[type[nn.Module], ...]:
    if isinstance(types, type):
        types = (types,)
    if not isinstance(types, Sequence) or isinstance(types, str):
        raise TypeError(f"types of {_OWNER} must be a tuple of torch.nn.Module subclasses, "
                        f"got {types!r}.")
    types = tuple(types)
    if not types:
        raise ValueError(f"types of {_OWNER} must name at least one activation class, got ().")
    for t in types:
        if not (isinstance(t, type) and issubclass(t, nn.Module)):
            raise TypeError(f"types of {_OWNER} must hold torch.nn.Module subclasses (e.g. "
                            f"nn.Tanh), got {t!r}.")
        if issubclass(t, TAAF):
            raise ValueError(f"types of {_OWNER} must hold fixed activations, got {t.__name__}"
                             " (a TAAF is never replaced).")
        for family, why in _NOT_ACTIVATIONS:
            if issubclass(t, family):
                raise ValueError(f"types of {_OWNER} must hold elementwise activation classes "
                                 f"(e.g. nn.Tanh), got {t.__name__}: {why}, which a TAAF "
                                 "cannot replace.")
    return types


def _check_arguments(module: nn.Module, basis: str | Basis, n_basis: int, sharing: str,
                     types: object, inplace: bool,
                     taaf_kwargs: dict) -> tuple[type[nn.Module], ...]:
    check_torch_module("module", module, _OWNER)  # names what to pass for an estimator
    if isinstance(module, torch.jit.ScriptModule):
        raise TypeError(f"module of {_OWNER} must be a plain (eager) torch.nn.Module, got a "
                        f"scripted {type(module).__name__}; replace before scripting.")
    _check_choice(_OWNER, "sharing", sharing, REPLACE_SHARING)
    if not isinstance(inplace, bool):
        raise TypeError(f"inplace of {_OWNER} must be True or False, got {inplace!r}.")
    reserved = sorted(set(taaf_kwargs) & set(_RESERVED))
    if reserved:
        raise TypeError(f"{_OWNER} sets {reserved} of each TAAF itself; they cannot be passed "
                        "as keyword arguments.")
    accepted = set(inspect.signature(TAAF).parameters) - set(_RESERVED)
    unknown = sorted(set(taaf_kwargs) - accepted)
    if unknown:
        raise TypeError(f"{_OWNER} got unknown keyword arguments {unknown}; the TAAF options "
                        f"it passes on are {sorted(accepted)}.")
    resolve_basis(basis, n_basis, taaf_kwargs.get("basis_kwargs"), owner=_OWNER)
    return _check_types(types)


def _find_sites(root: nn.Module, types: tuple[type[nn.Module], ...]) -> list[_Site]:
    """Every ``(parent, name)`` holding a matching activation, in registration order."""
    sites: list[_Site] = []
    visited: set[int] = set()

    def visit(module: nn.Module, prefix: str, network: str) -> None:
        visited.add(id(module))
        container = isinstance(module, (nn.ModuleDict, nn.ModuleList))
        for name, child in module._modules.items():
            if child is None or isinstance(child, TAAF):
                continue
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(child, types):
                sites.append(_Site(module, name, path, child, network))
            elif id(child) not in visited:
                visit(child, path, path if container else network)

    visit(root, "", _ROOT)
    return sites


def _no_match_message(root: nn.Module, types: tuple[type[nn.Module], ...]) -> str:
    leaves = [f"{name!r} ({type(m).__module__}.{type(m).__qualname__})"
              for name, m in root.named_modules()
              if name and not m._modules and not any(True for _ in m.parameters())]
    hint = ""
    if leaves:
        hint = (f" Parameter-free leaf modules it holds: {', '.join(leaves[:5])}"
                f"{', ...' if len(leaves) > 5 else ''}; pass their classes in types= to "
                "replace them (e.g. types=(torchani.nn.TightCELU,)).")
    return (f"module of {_OWNER} ({type(root).__name__}) holds no activation module of types "
            f"{[t.__name__ for t in types]}.{hint} Activations called as functions inside "
            "forward (torch.tanh(x), F.celu(x)) are not modules and cannot be replaced.")


def _not_elementwise(site: _Site, root: nn.Module) -> str | None:
    """Why the activation of ``site`` is not elementwise, from one probe in eval mode on a
    ``(2, width)`` input: another shape out, or other outputs moving when one input entry
    does. None when it passes, or when it cannot run on the probe (then nothing is known)."""
    try:
        width = _infer_width(site)
    except ValueError:
        width = _PROBE_WIDTH
    ref = _reference(site, root)
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


def _check_elementwise(sites: list[_Site], root: nn.Module) -> None:
    """Refuse a found activation that is not elementwise, naming ``types`` and its class."""
    probed: set[int] = set()
    for site in sites:
        if id(site.act) in probed:
            continue
        probed.add(id(site.act))
        why = _not_elementwise(site, root)
        if why is not None:
            raise ValueError(
                f"types of {_OWNER} holds {type(site.act).__name__}, but the module found at "
                f"{site.path!r} ({site.act!r}) is not an elementwise activation: {why}. A TAAF "
                f"acts on each entry alone; remove {type(site.act).__name__} from types.")


def _infer_width(site: _Site) -> int:
    """Width of the last axis entering ``site``: from the ``nn.Linear`` just before it."""
    parent = site.parent
    if isinstance(parent, nn.Linear):  # e.g. a Dense layer that applies its own activation
        return int(parent.out_features)
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
        f"sharing='neuron' of {_OWNER} needs the width of every replaced activation, and that "
        f"of {site.path!r} ({type(site.act).__name__} inside {type(parent).__name__}) cannot be "
        "inferred: it must follow an nn.Linear inside an nn.Sequential (Dropout, Identity or "
        "LayerNorm may sit between) or be held by an nn.Linear subclass. A module that calls "
        "one activation after several layers (torchani's AtomicNetwork does) cannot have "
        "per-neuron coefficients; use sharing='layer' or 'network'.")


def _settings(act: nn.Module) -> dict:
    return {k: v for k, v in vars(act).items() if not k.startswith("_")
            and k not in ("training", "inplace")}


def _same_function(a: nn.Module, b: nn.Module) -> bool:
    """Whether two activation modules compute the same function (so one TAAF can serve both)."""
    if a is b:
        return True
    has_params = any(True for _ in a.parameters()) or any(True for _ in b.parameters())
    return type(a) is type(b) and not has_params and _settings(a) == _settings(b)


def _reference(site: _Site, root: nn.Module) -> torch.Tensor | None:
    """A floating tensor of the network near ``site``: the TAAF takes its dtype and device."""
    for owner in (site.parent, root):
        for t in (*owner.parameters(), *owner.buffers()):
            if t.is_floating_point():
                return t
    return None


def _new_taaf(site: _Site, root: nn.Module, width: int | None, basis: str | Basis, n_basis: int,
              taaf_kwargs: dict) -> TAAF:
    """A residual TAAF copying the activation of ``site``: per neuron when ``width`` is
    given, else one set of coefficients shared by every neuron."""
    base = copy.deepcopy(site.act)
    if hasattr(base, "inplace"):  # phi0(z) must not overwrite z, the basis reads it too
        base.inplace = False
    act = TAAF(width, basis, n_basis=n_basis, sharing="shared" if width is None else "neuron",
               init=base, **taaf_kwargs)
    ref = _reference(site, root)
    if ref is not None:
        act = act.to(device=ref.device, dtype=ref.dtype)
    return act.train(site.act.training)


def _assign_taafs(root: nn.Module, sites: list[_Site], basis: str | Basis, n_basis: int,
                  sharing: str, taaf_kwargs: dict) -> list[TAAF]:
    """The TAAF for each site (the same object for the sites of one shared group)."""
    if sharing in ("layer", "neuron"):
        return [_new_taaf(s, root, _infer_width(s) if sharing == "neuron" else None, basis,
                          n_basis, taaf_kwargs) for s in sites]
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(sites):
        groups.setdefault(_ROOT if sharing == "global" else s.network, []).append(i)
    taafs: list[TAAF | None] = [None] * len(sites)
    for network, members in groups.items():
        first = sites[members[0]]
        for i in members[1:]:
            if not _same_function(first.act, sites[i].act):
                raise ValueError(
                    f"sharing={sharing!r} of {_OWNER} gives one TAAF to sub-network "
                    f"{network!r}, but its activations {first.path!r} ({first.act!r}) and "
                    f"{sites[i].path!r} ({sites[i].act!r}) compute different functions, which "
                    "one TAAF cannot reproduce; use sharing='layer'.")
        shared = _new_taaf(first, root, None, basis, n_basis, taaf_kwargs)
        for i in members:
            taafs[i] = shared
    return taafs


def replace_activations(
    module: nn.Module,
    basis: str | Basis = "bspline",
    *,
    n_basis: int = 8,
    sharing: str = "layer",
    types: Sequence[type[nn.Module]] = DEFAULT_TYPES,
    inplace: bool = False,
    **taaf_kwargs,
) -> nn.Module:
    r"""Replace the fixed activation modules of a network by TAAFs that reproduce them.

    Each replaced activation :math:`\varphi_0` becomes
    :math:`\varphi_0(z) + \sum_k c_k B_k(\mathrm{norm}(z)) + b` with :math:`c = b = 0`, a
    :class:`~taafs_sk.nn.TAAF` whose ``base`` is a copy of :math:`\varphi_0` (its own
    settings kept), so the returned network gives the same outputs as ``module`` until it is
    trained. The TAAFs take the dtype, device and train/eval mode of the network.

    Parameters
    ----------
    module : torch.nn.Module
        Any eager (not scripted) torch network.
    basis : str or Basis, default='bspline'
        Basis family of the trainable part (see :class:`~taafs_sk.nn.TAAF`).
    n_basis : int, default=8
        Basis functions per TAAF.
    sharing : {'layer', 'neuron', 'network', 'global'}, default='layer'
        Which activations share one TAAF (see :mod:`taafs_sk.nn.replace`): one per place an
        activation module is registered, per-neuron coefficients at each place (the width
        comes from the ``nn.Linear`` before it; refused where it cannot be inferred), one
        per sub-network (the TAAFS paper's scheme 2; every activation of a sub-network must
        compute the same function), or one for everything.
    types : sequence of nn.Module subclasses, default=DEFAULT_TYPES
        Activation classes to replace (subclasses match). Add a library's own, e.g.
        ``torchani.nn.TightCELU``. They must be elementwise: containers, layers with weights
        (``nn.Linear``, convolutions, attention), normalisations (``nn.LayerNorm``,
        ``nn.Softmax``) and dropout are refused, and each module found is probed once (in
        eval mode, on a small tensor of the network's dtype): one that changes the shape or
        mixes entries is refused. A module that cannot run on the probe is not judged.
    inplace : bool, default=False
        By default ``module`` is deep-copied first and left unchanged (the scikit-learn
        ``clone`` habit); ``True`` modifies ``module`` itself and returns it. Nothing is
        changed when an error is raised.
    **taaf_kwargs
        Further options of :class:`~taafs_sk.nn.TAAF`: ``normalization``, ``basis_kwargs``,
        ``fused``.

    Returns
    -------
    module : torch.nn.Module
        The network with its activations replaced (a copy unless ``inplace=True``).

    Raises
    ------
    TypeError
        If ``module`` is not an eager ``nn.Module``, ``types`` holds a non-module class, or
        ``taaf_kwargs`` holds an unknown or reserved option.
    ValueError
        For an unknown ``sharing`` or basis, a ``types`` entry that is not an elementwise
        activation, no activation of ``types`` in ``module``, a
        width that ``sharing='neuron'`` cannot infer, or different activation functions
        within one shared group.

    Notes
    -----
    Only activation *modules* can be swapped. Activations called as functions inside a
    module's ``forward`` (``torch.tanh(x)``, ``F.silu(x)``) are invisible from outside and stay
    fixed. A module that registers one activation and calls it after several layers (torchani's
    ``AtomicNetwork`` does) gets one TAAF for all of them; per-layer TAAFs there need one
    activation module per layer, and ``sharing='neuron'`` is refused.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from taafs_sk.nn import replace_activations
    >>> net = nn.Sequential(nn.Linear(3, 8), nn.CELU(alpha=0.5), nn.Linear(8, 1))
    >>> new = replace_activations(net, "chebyshev1", n_basis=6, sharing="neuron")
    >>> type(new[1]).__name__, tuple(new[1].weight.shape)
    ('TAAF', (8, 7))
    >>> x = torch.randn(5, 3)
    >>> bool((new(x) - net(x)).abs().max() < 1e-6)
    True
    """
    types = _check_arguments(module, basis, n_basis, sharing, types, inplace, taaf_kwargs)
    if isinstance(module, types):
        raise ValueError(f"module of {_OWNER} is itself an activation ({module!r}), which has no "
                         f"parent to be replaced in; use TAAF(init={module!r}) instead.")
    root = module if inplace else copy.deepcopy(module)
    sites = _find_sites(root, types)
    if not sites:
        raise ValueError(_no_match_message(root, types))
    _check_elementwise(sites, root)
    taafs = _assign_taafs(root, sites, basis, n_basis, sharing, taaf_kwargs)
    for site, act in zip(sites, taafs, strict=True):
        setattr(site.parent, site.name, act)
    return root
