"""Plot of a basis comparison: one bar per basis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_table
from ._common import _axes, _first_present, _hue_columns, _label, _require, _unit, _with_unit

_BASELINE_MODELS = ("mlp", "gpr")  # drawn grey with the fixed activations


def plot_basis_comparison(df: pd.DataFrame, ax=None, *, metric: str | None = None,
                          unit: str | None = None):
    """Draw one horizontal bar per basis (mean over repeats, error bar: standard deviation).

    Parameters
    ----------
    df : DataFrame
        From :func:`taafs_sk.studies.basis_comparison`: a ``basis`` column and a metric.
    ax : Axes, default=None
        Where to draw; ``None`` creates a new figure.
    metric : str, default=None
        Column to draw; by default the first of ``test_rmse``, ``rmse``, ``rmse_test``,
        ``rmse_mean``. Bars are sorted, best (smallest) on top.
    unit : str, default=None
        Unit of an error metric; by default the table's ``target_unit`` column, else
        "target units". Times are in seconds, ratios and epoch counts have none.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import pandas as pd
    >>> from taafs_sk.plotting import plot_basis_comparison
    >>> df = pd.DataFrame({"basis": ["tanh", "tanh", "hermite", "hermite"],
    ...                    "test_rmse": [0.40, 0.42, 0.35, 0.33]})
    >>> ax = plot_basis_comparison(df)
    >>> [t.get_text() for t in ax.get_yticklabels()]  # bottom to top: best on top
    ['tanh', 'hermite']
    """
    check_table("df", df, "plot_basis_comparison")
    metric = metric or _first_present(df, ("test_rmse", "rmse", "rmse_test", "rmse_mean"),
                                      "plot_basis_comparison")
    _require(df, ["basis", metric], "plot_basis_comparison")
    ax = _axes(ax, figsize=(6.0, max(3.0, 0.35 * df["basis"].nunique() + 1.5)))
    cols = ["basis", *_hue_columns(df, None, exclude=("basis", "dataset"))]
    stats = df.groupby(cols, sort=False)[metric].agg(["mean", "std", "count"])
    stats = stats.sort_values("mean", ascending=False)
    labels = [_label(key, cols) for key in stats.index]
    pos = np.arange(len(stats))
    from ..nn.fixed import FIXED_ACTIVATIONS

    grey = {*FIXED_ACTIVATIONS, *_BASELINE_MODELS}
    fixed = np.array([str(k[0] if isinstance(k, tuple) else k) in grey
                      for k in stats.index])
    ax.barh(pos, stats["mean"], xerr=stats["std"].fillna(0.0), capsize=3,
            color=np.where(fixed, _FIXED_COLOUR, _TRAINABLE_COLOUR))
    ax.set_yticks(pos, labels)
    ax.set_xlabel(_metric_label(metric, _unit(df, unit), df))
    n = int(stats["count"].max())
    ax.set_title(f"mean over {n} repeat{'s' if n > 1 else ''}"
                 + ("; error bar: std" if n > 1 else ""), fontsize="medium")
    if fixed.any() and not fixed.all():
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=_TRAINABLE_COLOUR, label="trainable basis"),
                           Patch(color=_FIXED_COLOUR, label="fixed activation")],
                  fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


_FIXED_COLOUR, _TRAINABLE_COLOUR = "tab:gray", "tab:blue"


def _metric_label(metric: str, unit: str, df: pd.DataFrame) -> str:
    """Axis label of a metric column, with its unit."""
    if metric in ("fit_time_s", "fit_time", "train_time"):
        return "fit time (s)"
    if metric == "noise_ratio":
        level = df["noise_level"].unique() if "noise_level" in df.columns else []
        at = f" at {level[0]:.0%} noise" if len(level) == 1 else ""
        return f"noisy / noiseless test RMSE{at} (ratio)"
    if metric in ("n_epochs", "n_iter"):
        return "epochs run (count)"
    if metric == "n_params":
        return "trainable parameters (count)"
    label = metric.replace("_", " ").replace("rmse", "RMSE").replace("mae", "MAE")
    if "RMSE" in label or "MAE" in label:
        return _with_unit(label, unit)
    return label
