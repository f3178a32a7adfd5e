"""Plot of a noise sweep: test RMSE against noise level."""

from __future__ import annotations

import pandas as pd

from .._validation import check_table
from ._common import _axes, _groups, _hue_columns, _line_with_band, _require, _unit, _with_unit


def plot_noise_sweep(df: pd.DataFrame, ax=None, *, hue=None, relative: bool = False,
                     unit: str | None = None):
    """Draw test RMSE against noise level, with the 5-95 % band over noise draws.

    Parameters
    ----------
    df : DataFrame
        From :func:`taafs_sk.analog.noise_sweep` or
        :func:`taafs_sk.studies.noise_tolerance`: columns ``level``, ``rmse_mean`` and,
        when present, ``rmse_p5`` and ``rmse_p95``.
    ax : Axes, default=None
        Where to draw; ``None`` creates a new figure.
    hue : str or list of str, default=None
        Columns whose values get one line each; by default those of ``architecture``,
        ``basis``, ``size``, ``kind``, ... that vary in the table.
    relative : bool, default=False
        Divide each line (and its band) by its noiseless RMSE: the column
        ``rmse_noiseless`` when present, else the value at the lowest level.
    unit : str, default=None
        Unit of the RMSE axis; by default the table's ``target_unit`` column (written by the
        studies), else "target units".

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import pandas as pd
    >>> from taafs_sk.plotting import plot_noise_sweep
    >>> df = pd.DataFrame({"architecture": ["a"] * 3 + ["b"] * 3,
    ...                    "level": [0.0, 0.05, 0.1] * 2,
    ...                    "rmse_mean": [0.3, 0.4, 0.6, 0.3, 0.35, 0.45]})
    >>> df["rmse_p5"], df["rmse_p95"] = 0.9 * df["rmse_mean"], 1.1 * df["rmse_mean"]
    >>> ax = plot_noise_sweep(df)
    >>> [line.get_label() for line in ax.lines]
    ['a', 'b']
    """
    from matplotlib.ticker import PercentFormatter

    check_table("df", df, "plot_noise_sweep")
    _require(df, ["level", "rmse_mean"], "plot_noise_sweep")
    ax = _axes(ax)
    cols = _hue_columns(df, hue)
    has_band = {"rmse_p5", "rmse_p95"} <= set(df.columns)
    styles = _styles(df, cols)
    for label, part in _groups(df, cols):
        style = styles(part)
        part = part.groupby("level", sort=True).mean(numeric_only=True).reset_index()
        scale = 1.0
        if relative:
            base = part["rmse_noiseless"] if "rmse_noiseless" in part else part["rmse_mean"]
            scale = float(base.iloc[0])
        mean = part["rmse_mean"] / scale
        low, high = ((part["rmse_p5"] / scale, part["rmse_p95"] / scale) if has_band
                     else (mean, mean))
        _line_with_band(ax, part["level"], mean, low, high, alpha=0.2, marker="o",
                        markersize=3, label=label or None, **style)
    if "scale" not in df.columns or set(df["scale"]) != {"absolute"}:
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel(_noise_label(df))
    ax.set_ylabel("test RMSE / noiseless RMSE (ratio)" if relative
                  else _with_unit("test RMSE", _unit(df, unit)))
    if has_band:
        ax.set_title("mean over noise draws, band: 5-95 %", fontsize="medium")
    if cols:
        outside = len(ax.lines) > 4  # many lines: keep the legend off the curves
        ax.legend(title=", ".join(cols), fontsize="small",
                  **({"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)} if outside else {}))
    return ax


def _styles(df: pd.DataFrame, cols):
    """With two or more hue columns: colour by the first, line style by the others."""
    if len(cols) < 2:
        return lambda part: {}
    import matplotlib as mpl

    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    first = {v: colours[i % len(colours)] for i, v in enumerate(df[cols[0]].unique())}
    rest = {v: ls for v, ls in zip(df[cols[1:]].drop_duplicates().itertuples(index=False,
                                                                            name=None),
                                     ["-", "--", ":", "-."] * 8, strict=False)}

    def style(part):
        row = part.iloc[0]
        return {"color": first[row[cols[0]]],
                "linestyle": rest[tuple(row[c] for c in cols[1:])]}

    return style


def _noise_label(df: pd.DataFrame) -> str:
    """Axis label naming the noise kind, site and reference when the table has one of each."""
    def single(col):
        values = df[col].unique() if col in df.columns else []
        return str(values[0]).replace("_", "-") if len(values) == 1 else None

    kind, where, scale = single("kind"), single("where"), single("scale")
    what = " ".join(w for w in (kind, "noise", f"at {where}" if where else None) if w)
    if scale is None and "scale" in df.columns:
        return f"{what} level (% of each model's reference scale)"
    ref = {"range": "% of signal range", "std": "% of signal std",
           "absolute": "network units"}.get(scale or "range", scale)
    return f"{what} level ({ref})"
