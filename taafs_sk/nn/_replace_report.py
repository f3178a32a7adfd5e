"""The report of :func:`~taafs_sk.nn.replace_activations`: every site replaced, and every
site seen but kept with the reason (public home: :mod:`taafs_sk.nn.replace`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ._replace_sites import Site, Skipped, describe
from ._taaf import TAAF

__all__ = ["ReplacementReport"]


@dataclass
class ReplacementReport:
    """What :func:`~taafs_sk.nn.replace_activations` did, site by site.

    Attributes
    ----------
    replaced : list of dict
        One row per site replaced: ``path`` (the attribute, dotted from the root), ``kind``
        (``'module'``, ``'function'`` held in an attribute, or ``'normalized'``: a constant
        times a function, e3nn's ``normalize2mom``), ``old`` (the activation, as text),
        ``taaf`` (basis, ``n_basis``, the TAAF's own sharing), ``group`` (the path of the
        first site sharing the same TAAF object), ``gate`` and ``params`` (parameters the
        TAAF adds; a TAAF shared by several sites is counted at its first site only).
    skipped : list of dict
        One row per site seen but kept: ``path``, ``old`` and ``reason``.
    sharing : str
        The ``sharing`` scheme used.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from torch.nn import functional as F
    >>> from taafs_sk.nn import replace_activations
    >>> class Dense(nn.Linear):
    ...     def __init__(self, n_in, n_out):
    ...         super().__init__(n_in, n_out)
    ...         self.activation = F.silu  # a function held in an attribute
    ...     def forward(self, x):
    ...         return self.activation(super().forward(x))
    >>> net = nn.Sequential(Dense(3, 4), nn.Tanh(), nn.Linear(4, 1))
    >>> new, report = replace_activations(net, "chebyshev1", n_basis=4, report=True)
    >>> [(row["path"], row["kind"], row["params"]) for row in report.replaced]
    [('0.activation', 'function', 5), ('1', 'module', 5)]
    >>> report.n_params_added
    10
    """

    sharing: str
    replaced: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        from .replace import REPLACE_SHARING  # the public home imports this module

        if not (isinstance(self.sharing, str) and self.sharing in REPLACE_SHARING):
            raise ValueError(f"sharing of ReplacementReport must be one of "
                             f"{list(REPLACE_SHARING)}, got {self.sharing!r}.")
        for name in ("replaced", "skipped"):
            rows = getattr(self, name)
            if not (isinstance(rows, list) and all(isinstance(row, dict) for row in rows)):
                raise TypeError(f"{name} of ReplacementReport must be a list of dict rows, got "
                                f"{type(rows).__name__}.")

    @classmethod
    def build(cls, sharing: str, sites: list[Site], taafs: list[TAAF],
              skipped: list[Skipped]) -> ReplacementReport:
        """The report of ``sites`` given ``taafs`` (one per site) and the kept ``skipped``."""
        report = cls(sharing)
        first: dict[int, str] = {}
        for site, act in zip(sites, taafs, strict=True):
            new = id(act) not in first
            first.setdefault(id(act), site.path)
            report.replaced.append({
                "path": site.path, "kind": site.kind, "old": describe(site.act),
                "taaf": _describe_taaf(act), "group": first[id(act)], "gate": site.gate,
                "params": _n_params(act) if new else 0,
            })
        report.skipped = [{"path": s.path, "old": s.old, "reason": s.reason} for s in skipped]
        return report

    @property
    def n_params_added(self) -> int:
        """Parameters added by the TAAFs (each shared TAAF counted once)."""
        return sum(row["params"] for row in self.replaced)

    @property
    def n_taafs(self) -> int:
        """Distinct TAAF objects put in the module."""
        return len({row["group"] for row in self.replaced})

    def __str__(self) -> str:
        lines = [f"replaced {len(self.replaced)} activation sites with {self.n_taafs} TAAFs "
                 f"(sharing={self.sharing!r}), {self.n_params_added} parameters added:"]
        for row in self.replaced:
            shared = "" if row["group"] == row["path"] else f", shared with {row['group']}"
            gate = ", gate" if row["gate"] else ""
            lines.append(f"  {row['path']}: {row['old']} -> {row['taaf']}{shared}{gate}, "
                         f"+{row['params']} parameters")
        if self.skipped:
            lines.append(f"kept {len(self.skipped)} sites:")
            lines += [f"  {row['path']}: {row['old']}: {row['reason']}" for row in self.skipped]
        return "\n".join(lines)


def _describe_taaf(act: TAAF) -> str:
    basis = type(act.basis).__name__
    width = "" if act.num_features is None else f", num_features={act.num_features}"
    return f"TAAF({basis}, n_basis={act.n_basis}, sharing={act.sharing!r}{width})"


def _n_params(act: nn.Module) -> int:
    """Parameters of the TAAF besides those of its base (a copy of the original's)."""
    return sum(p.numel() for name, p in act.named_parameters() if not name.startswith("base."))
