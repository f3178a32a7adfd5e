"""Bad-input cases of :class:`taafs_sk.nn.ReplacementReport` (what
``replace_activations(..., report=True)`` returns)."""

from __future__ import annotations

from .common import Case, lazy


def replace_cases() -> list[Case]:
    report = "taafs_sk.nn.ReplacementReport"
    return [
        Case("ReplacementReport", "unknown-sharing", lambda: lazy(report)("bogus"), "sharing",
             "bogus"),
        Case("ReplacementReport", "replaced-a-string",
             lambda: lazy(report)("layer", replaced="x"), "replaced", "str"),
        Case("ReplacementReport.build", "unknown-sharing",
             lambda: lazy(report).build("bogus", [], [], []), "sharing", "bogus"),
    ]
