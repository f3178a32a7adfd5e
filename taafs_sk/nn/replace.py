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

Where a library holds its activation matters: besides modules of the given ``types``, an
activation *function* of the given ``functions`` stored in an attribute (``self.act = F.silu``,
a :func:`functools.partial` of one) and a module computing ``cst * f(z)`` (found by its
attributes ``f`` and ``cst``: e3nn's ``normalize2mom``, inside ``FullyConnectedNet`` layers and
``Activation``, as MACE uses them) are replaced; :math:`\varphi_0` is then the function, or the
wrapper itself with its constant. Gates (sites whose attribute is named ``gate``, ``gates``,
``*_gate`` or ``*_gates``: e3nn ``Gate.act_gates``, MACE's ``GatedEquivariantBlock._act_gate``)
are replaced only with ``gates=True``. An activation of odd scalars (an e3nn ``Activation``
entry or gated block whose input irreps have parity -1) is kept: e3nn derived the output parity
from the function being odd or even, which a TAAF correction is not. Every site kept is listed
in the report with its reason.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._replace_checks import (
    DEFAULT_FUNCTIONS,
    OWNER,
    check_elementwise,
    check_functions,
    check_types,
    infer_width,
    no_match_message,
    reference,
)
from ._replace_report import ReplacementReport
from ._replace_sites import ROOT, Site, describe, find_sites
from ._taaf import TAAF, _check_choice
from .bases import Basis, resolve_basis
from .checks import check_torch_module

__all__ = ["DEFAULT_FUNCTIONS", "DEFAULT_TYPES", "REPLACE_SHARING", "ReplacementReport",
           "replace_activations"]

#: The fixed activations :func:`replace_activations` swaps by default (subclasses included).
DEFAULT_TYPES: tuple[type[nn.Module], ...] = (
    nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU, nn.CELU, nn.ELU, nn.SELU, nn.Softplus, nn.Mish,
    nn.Softsign, nn.LogSigmoid, nn.ReLU, nn.LeakyReLU, nn.Hardtanh, nn.Hardsigmoid,
    nn.Hardswish,
)
REPLACE_SHARING = ("layer", "neuron", "network", "global")
# Set by replace_activations itself, so not accepted in **taaf_kwargs.
_RESERVED = ("num_features", "basis", "n_basis", "sharing", "init")


def _check_arguments(module: nn.Module, basis: str | Basis, n_basis: int, sharing: str,
                     types: object, functions: object, flags: dict,
                     taaf_kwargs: dict) -> tuple[tuple, tuple]:
    check_torch_module("module", module, OWNER)  # names what to pass for an estimator
    if isinstance(module, torch.jit.ScriptModule):
        raise TypeError(f"module of {OWNER} must be a plain (eager) torch.nn.Module, got a "
                        f"scripted {type(module).__name__}; replace before scripting.")
    _check_choice(OWNER, "sharing", sharing, REPLACE_SHARING)
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} of {OWNER} must be True or False, got {value!r}.")
    reserved = sorted(set(taaf_kwargs) & set(_RESERVED))
    if reserved:
        raise TypeError(f"{OWNER} sets {reserved} of each TAAF itself; they cannot be passed "
                        "as keyword arguments.")
    accepted = set(inspect.signature(TAAF).parameters) - set(_RESERVED)
    unknown = sorted(set(taaf_kwargs) - accepted)
    if unknown:
        raise TypeError(f"{OWNER} got unknown keyword arguments {unknown}; the TAAF options "
                        f"it passes on are {sorted(accepted)}.")
    resolve_basis(basis, n_basis, taaf_kwargs.get("basis_kwargs"), owner=OWNER)
    return check_types(types), check_functions(functions)


def _settings(act: nn.Module) -> dict:
    return {k: v for k, v in vars(act).items() if not k.startswith("_")
            and k not in ("training", "inplace")}


def _same_function(a: nn.Module, b: nn.Module) -> bool:
    """Whether two activation modules compute the same function (so one TAAF can serve both)."""
    if a is b:
        return True
    has_params = any(True for _ in a.parameters()) or any(True for _ in b.parameters())
    return type(a) is type(b) and not has_params and _settings(a) == _settings(b)


def _new_taaf(site: Site, root: nn.Module, width: int | None, basis: str | Basis, n_basis: int,
              taaf_kwargs: dict) -> TAAF:
    """A residual TAAF copying the activation of ``site``: per neuron when ``width`` is
    given, else one set of coefficients shared by every neuron."""
    base = copy.deepcopy(site.act)
    if hasattr(base, "inplace"):  # phi0(z) must not overwrite z, the basis reads it too
        base.inplace = False
    act = TAAF(width, basis, n_basis=n_basis, sharing="shared" if width is None else "neuron",
               init=base, **taaf_kwargs)
    ref = reference(site, root)
    if ref is not None:
        act = act.to(device=ref.device, dtype=ref.dtype)
    return act.train(site.act.training)


def _assign_taafs(root: nn.Module, sites: list[Site], basis: str | Basis, n_basis: int,
                  sharing: str, taaf_kwargs: dict) -> list[TAAF]:
    """The TAAF for each site (the same object for the sites of one shared group)."""
    if sharing in ("layer", "neuron"):
        return [_new_taaf(s, root, infer_width(s) if sharing == "neuron" else None, basis,
                          n_basis, taaf_kwargs) for s in sites]
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(sites):
        groups.setdefault(ROOT if sharing == "global" else s.network, []).append(i)
    taafs: list[TAAF | None] = [None] * len(sites)
    for network, members in groups.items():
        first = sites[members[0]]
        for i in members[1:]:
            if not _same_function(first.act, sites[i].act):
                raise ValueError(
                    f"sharing={sharing!r} of {OWNER} gives one TAAF to sub-network "
                    f"{network!r}, but its activations {first.path!r} ({describe(first.act)}) "
                    f"and {sites[i].path!r} ({describe(sites[i].act)}) compute different "
                    "functions, which one TAAF cannot reproduce; use sharing='layer'.")
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
    functions: Sequence[Callable] = DEFAULT_FUNCTIONS,
    gates: bool = False,
    inplace: bool = False,
    report: bool = False,
    **taaf_kwargs,
) -> nn.Module | tuple[nn.Module, ReplacementReport]:
    r"""Replace the fixed activations of a network by TAAFs that reproduce them.

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
        activation is registered, per-neuron coefficients at each place (the width comes from
        the ``nn.Linear`` before it, or from the e3nn layer or ``Activation`` holding it;
        refused where it cannot be inferred), one per sub-network (the TAAFS paper's scheme 2;
        every activation of a sub-network must compute the same function), or one for
        everything.
    types : sequence of nn.Module subclasses, default=DEFAULT_TYPES
        Activation classes to replace (subclasses match). Add a library's own, e.g.
        ``torchani.nn.TightCELU``. They must be elementwise: containers, layers with weights
        (``nn.Linear``, convolutions, attention), normalisations (``nn.LayerNorm``,
        ``nn.Softmax``) and dropout are refused, and each module found is probed once (in
        eval mode, on a small tensor of the network's dtype): one that changes the shape or
        mixes entries is refused. A module that cannot run on the probe is not judged.
    functions : sequence of callables, default=DEFAULT_FUNCTIONS
        Activation functions to replace where a module holds one in an attribute
        (``self.act = F.silu``; a :func:`functools.partial` of one matches too) or wraps one as
        ``cst * f`` (e3nn's ``normalize2mom``). Add your own (a shifted softplus); they are
        probed like ``types``. A TAAF holding a function pickles where the function does.
    gates : bool, default=False
        Also replace gates (attributes named ``gate``/``gates`` or ending in ``_gate``/
        ``_gates``, whose output multiplies equivariant features). Kept by default, and
        listed in the report.
    inplace : bool, default=False
        By default ``module`` is deep-copied first and left unchanged (the scikit-learn
        ``clone`` habit); ``True`` modifies ``module`` itself and returns it. Nothing is
        changed when an error is raised.
    report : bool, default=False
        Also return a :class:`ReplacementReport`: every site replaced (path, old activation,
        TAAF, parameters added) and every site seen but kept, with the reason.
    **taaf_kwargs
        Further options of :class:`~taafs_sk.nn.TAAF`: ``normalization``, ``basis_kwargs``,
        ``fused``.

    Returns
    -------
    module : torch.nn.Module
        The network with its activations replaced (a copy unless ``inplace=True``).
    report : ReplacementReport
        Only with ``report=True``.

    Raises
    ------
    TypeError
        If ``module`` is not an eager ``nn.Module``, ``types`` holds a non-module class,
        ``functions`` a non-callable, a class or a module, a flag is not a bool, or
        ``taaf_kwargs`` holds an unknown or reserved option.
    ValueError
        For an unknown ``sharing`` or basis, a ``types`` or ``functions`` entry that is not an
        elementwise activation, nothing to replace in ``module`` (the message lists the sites
        kept and why), a width that ``sharing='neuron'`` cannot infer, or different activation
        functions within one shared group.

    Notes
    -----
    Activations called as functions inside a module's ``forward`` (``torch.tanh(x)``,
    ``F.silu(x)``) are invisible from outside and stay fixed. A module that registers one
    activation and calls it after several layers (torchani's ``AtomicNetwork`` does) gets one
    TAAF for all of them; per-layer TAAFs there need one activation per layer, and
    ``sharing='neuron'`` is refused.

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
    types, functions = _check_arguments(
        module, basis, n_basis, sharing, types, functions,
        {"gates": gates, "inplace": inplace, "report": report}, taaf_kwargs)
    if isinstance(module, types):
        raise ValueError(f"module of {OWNER} is itself an activation ({module!r}), which has no "
                         f"parent to be replaced in; use TAAF(init={module!r}) instead.")
    root = module if inplace else copy.deepcopy(module)
    sites, skipped = find_sites(root, types, functions, gates)
    if not sites:
        raise ValueError(no_match_message(root, types, skipped))
    check_elementwise(sites, root)
    taafs = _assign_taafs(root, sites, basis, n_basis, sharing, taaf_kwargs)
    for site, act in zip(sites, taafs, strict=True):
        setattr(site.parent, site.name, act)
    if report:
        return root, ReplacementReport.build(sharing, sites, taafs, skipped)
    return root
