"""Plots of a NAF-dispersion study: ideal, degraded, retrained and control models."""

from __future__ import annotations

import re

import pandas as pd

from .._validation import check_table
from ._common import (
    _axes,
    _first_present,
    _groups,
    _hue_columns,
    _line_with_band,
    _percent_axis,
    _unit,
    _with_unit,
)

_NAF_STAGES = ("ideal", "degraded", "retrained", "control")
_NAF_STYLE = {
    "ideal": dict(color="black", linestyle="-", marker="o"),
    "degraded": dict(color="tab:red", linestyle="-", marker="v"),
    "retrained": dict(color="tab:blue", linestyle="-", marker="^"),
    "control": dict(color="tab:gray", linestyle="--", marker="s"),
}


def _naf_long(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Stack a NAF-study table to columns ``stage`` and ``rmse``; return it and the x column."""
    x = _first_present(df, ("spread", "level", "dispersion"), "plot_naf_study")
    stage_col = next((c for c in ("stage", "model", "variant") if c in df.columns
                      and set(df[c].astype(str)) & set(_NAF_STAGES)), None)
    if stage_col is not None:
        value = _first_present(df, ("rmse", "rmse_mean", "test_rmse", "rmse_test"),
                               "plot_naf_study")
        long = df.rename(columns={stage_col: "stage", value: "rmse"})
        return long, x
    wide = {}
    for col in df.columns:
        for stage in _NAF_STAGES:
            if re.fullmatch(rf"(test_)?(rmse_{stage}|{stage}_rmse)(_mean)?", str(col)):
                wide[col] = stage
    if not wide:
        raise ValueError(
            "plot_naf_study needs a 'stage' column (ideal, degraded, retrained, control) "
            f"with an 'rmse' column, or columns such as 'rmse_ideal'; got {list(df.columns)}."
        )
    keep = [c for c in df.columns if c not in wide]
    long = df.melt(id_vars=keep, value_vars=list(wide), var_name="stage", value_name="rmse")
    long["stage"] = long["stage"].map(wide)
    return long, x


def plot_naf_study(df: pd.DataFrame, ax=None, *, recovery: bool = False,
                   unit: str | None = None):
    """Draw test RMSE of the ideal, degraded, retrained and control models against NAF spread.

    Rows that share a spread and stage (repeats, seeds) are averaged; the band is their
    standard deviation. Several architectures get one line style each. With
    ``recovery=True``, draw instead the fraction of the degradation that retraining wins back.

    Parameters
    ----------
    df : DataFrame
        From :func:`taafs_sk.studies.naf_inhomogeneity`: a ``spread`` column and either a
        ``stage`` column with an ``rmse`` column, or one column per stage (``rmse_ideal``,
        ``rmse_degraded``, ``rmse_retrained``, ``rmse_control``).
    ax : Axes, default=None
        Where to draw; ``None`` creates a new figure.
    recovery : bool, default=False
        Draw the columns ``recovery`` (against the ideal model) and ``recovery_vs_control``
        (against the ideal model trained for the same extra epochs) instead of the RMSEs.
    unit : str, default=None
        Unit of the RMSE axis; by default the table's ``target_unit`` column, else "target
        units".

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import pandas as pd
    >>> from taafs_sk.plotting import plot_naf_study
    >>> df = pd.DataFrame({"spread": [0.05, 0.1, 0.2], "rmse_ideal": [0.3, 0.3, 0.3],
    ...                    "rmse_degraded": [0.5, 0.8, 1.2], "rmse_retrained": [0.32, 0.35, 0.4],
    ...                    "rmse_control": [0.29, 0.29, 0.29]})
    >>> ax = plot_naf_study(df)
    >>> len(ax.lines)
    4
    """
    check_table("df", df, "plot_naf_study")
    if recovery:
        return _plot_naf_recovery(df, ax)
    long, x = _naf_long(df)
    ax = _axes(ax)
    cols = _hue_columns(long, None, exclude=("model",))
    styles = ["-", "--", "-.", ":"]
    for i, (label, part) in enumerate(_groups(long, cols)):
        for stage in [s for s in _NAF_STAGES if s in set(part["stage"])]:
            rows = part[part["stage"] == stage].groupby(x, sort=True)["rmse"]
            mean, std = rows.mean(), rows.std().fillna(0.0)
            style = dict(_NAF_STYLE[stage])
            if cols:
                style["linestyle"] = styles[i % len(styles)]
            name = f"{stage} ({label})" if label else stage
            _line_with_band(ax, mean.index, mean.to_numpy(), mean - std, mean + std,
                            label=name, markersize=4, **style)
    averaged = bool(long.groupby([x, "stage"]).size().max() > 1)
    return _finish_spread_axes(ax, long[x], _with_unit("test RMSE", _unit(df, unit)), averaged)


def _finish_spread_axes(ax, spreads, ylabel: str, averaged: bool = False):
    if averaged:  # several rows per spread were averaged
        ax.set_title("mean over shape draws, band: ±1 std", fontsize="medium")
    _percent_axis(ax.xaxis, spreads)
    ax.set_xlabel("activation-shape spread between neurons (% relative std)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def _plot_naf_recovery(df: pd.DataFrame, ax):
    from matplotlib.ticker import PercentFormatter

    x = _first_present(df, ("spread", "level", "dispersion"), "plot_naf_study")
    cols = [c for c in ("recovery", "recovery_vs_control") if c in df.columns]
    if not cols:
        raise ValueError("plot_naf_study(recovery=True) needs the column 'recovery' or "
                         f"'recovery_vs_control'; the table has {list(df.columns)}.")
    ax = _axes(ax)
    rows = df[df[x] > 0] if (df[x] > 0).any() else df  # no degradation to recover at 0
    styles = {"recovery": ("tab:blue", "-", "against the ideal model"),
              "recovery_vs_control": ("tab:purple", "--", "against the control")}
    for col in cols:
        stats = rows.groupby(x, sort=True)[col].agg(["mean", "std"]).fillna(0.0)
        color, linestyle, label = styles[col]
        _line_with_band(ax, stats.index, stats["mean"], stats["mean"] - stats["std"],
                        stats["mean"] + stats["std"], color=color, linestyle=linestyle,
                        marker="o", markersize=4, label=label)
    ax.axhline(1.0, color="0.6", linewidth=0.8, linestyle=":", label="full recovery")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    return _finish_spread_axes(ax, rows[x], "degradation recovered by retraining (%)",
                               bool(rows.groupby(x).size().max() > 1))
