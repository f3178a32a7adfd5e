"""Helpers shared by the plots: axes creation, column look-up and grouping, bands."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

# Columns that tell rows of one study apart (one line or bar per combination). Columns that
# follow from these (``size``, ``n_params``) or describe every row alike are left out.
_GROUP_COLUMNS = ("architecture", "model", "estimator", "basis", "base", "sharing", "kind",
                  "where", "scale", "noise_kind")


def _axes(ax, figsize=(6.0, 4.0)):
    """Return ``ax``, or the axes of a new pyplot figure (so that galleries capture it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} needs the column(s) {missing}; the table has {list(df.columns)}."
        )


def _first_present(df: pd.DataFrame, candidates: Sequence[str], what: str) -> str:
    for name in candidates:
        if name in df.columns:
            return name
    raise ValueError(
        f"{what} needs one of the columns {list(candidates)}; the table has {list(df.columns)}."
    )


def _hue_columns(df: pd.DataFrame, hue, exclude: Sequence[str] = ()) -> list[str]:
    """Columns that split the table into lines: ``hue`` as given, or those that vary."""
    if hue is not None:
        cols = [hue] if isinstance(hue, str) else list(hue)
        _require(df, cols, "hue")
        return cols
    return [c for c in _GROUP_COLUMNS
            if c in df.columns and c not in exclude and df[c].nunique(dropna=False) > 1]


def _label(key, cols: Sequence[str]) -> str:
    key = key if isinstance(key, tuple) else (key,)
    return ", ".join(str(k) for k in key) if cols else ""


def _groups(df: pd.DataFrame, cols: Sequence[str]):
    if not cols:
        yield "", df
        return
    for key, part in df.groupby(list(cols), sort=False, dropna=False):
        yield _label(key, cols), part


def _line_with_band(ax, x, y, low, high, *, alpha: float = 0.15, **style):
    """Draw ``y`` against ``x`` with a filled band from ``low`` to ``high`` in the line's colour."""
    (line,) = ax.plot(x, y, **style)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=alpha, linewidth=0)
    return line


def _unit(df: pd.DataFrame, unit: str | None) -> str:
    """``unit``, else the table's single ``target_unit``, else 'target units'."""
    if unit:
        return unit
    if "target_unit" in df.columns:
        values = [v for v in df["target_unit"].dropna().unique() if str(v)]
        if len(values) == 1:
            return str(values[0])
    return "target units"


def _with_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})"


def _percent_axis(axis, values) -> None:
    """Format ``axis`` in per cent when every value is a fraction (<= 1)."""
    from matplotlib.ticker import PercentFormatter

    if pd.Series(values).max() <= 1.0:
        axis.set_major_formatter(PercentFormatter(xmax=1.0))
