"""Test-RMSE distribution over unseen chips, model by model (the ``chips`` study)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_table
from ._common import _axes, _require

__all__ = ["plot_chip_study"]

# Display order and labels of the models of taafs_sk.analog.evaluate_on_chips.
_MODELS = {
    "ideal": "ideal\n(ideal shapes)",
    "control": "control\n(ideal shapes)",
    "degraded": "ideal weights\non chip",
    "control_chip": "control\non chip",
    "retrained": "retrained\nper chip",
    "aware": "dispersion-aware\non chip",
}


def plot_chip_study(df: pd.DataFrame, ax=None, *, relative: bool = False):
    """Box plot of the test RMSE over chips for each model, one dataset.

    Parameters
    ----------
    df : DataFrame
        A table of :func:`taafs_sk.studies.chip_study` or
        :func:`taafs_sk.analog.evaluate_on_chips` (columns ``model, test_rmse``; one
        ``dataset`` if the column is there).
    ax : Axes, default=None
        Where to draw; ``None`` creates a new figure.
    relative : bool, default=False
        Divide by the ideal network's test RMSE (a dashed line marks 1.10).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from taafs_sk.plotting import plot_chip_study
    >>> df = pd.DataFrame({"model": ["ideal"] * 3 + ["degraded"] * 3 + ["aware"] * 3,
    ...                    "test_rmse": [1, 1, 1, 1.5, 1.8, 1.6, 1.05, 1.1, 1.2]})
    >>> plot_chip_study(df, relative=True).get_ylabel()
    'test RMSE / ideal'
    """
    check_table("df", df, "plot_chip_study")
    _require(df, ("model", "test_rmse"), "plot_chip_study")
    if "dataset" in df.columns and df["dataset"].nunique() > 1:
        raise ValueError("plot_chip_study draws one dataset; the table has "
                         f"{sorted(df['dataset'].unique())}: filter it first.")
    models = [m for m in _MODELS if m in set(df["model"])]
    if not models:
        raise ValueError(f"plot_chip_study: no known model in the table's 'model' column; "
                         f"expected some of {list(_MODELS)}.")
    values = [df.loc[df["model"] == m, "test_rmse"].to_numpy(dtype=float) for m in models]
    if relative:
        if "ideal" not in models:
            raise ValueError("plot_chip_study(relative=True) needs the 'ideal' rows.")
        ref = float(np.mean(values[models.index("ideal")]))
        values = [v / ref for v in values]
    ax = _axes(ax, figsize=(7.5, 4.0))
    ax.boxplot(values, whis=(5, 95), showmeans=True, tick_labels=[_MODELS[m] for m in models])
    if relative:
        ax.axhline(1.10, color="0.4", linestyle="--", linewidth=1, label="1.10 x ideal")
        ax.legend(loc="upper right", frameon=False)
    unit = df["target_unit"].iloc[0] if "target_unit" in df.columns else ""
    ax.set_ylabel("test RMSE / ideal" if relative else
                  f"test RMSE ({unit})" if unit else "test RMSE")
    parts = []
    if "spread" in df.columns:
        parts.append(f"{df['spread'].iloc[0]:.0%} dispersion")
    if "chip" in df.columns:
        parts.append(f"{df['chip'].nunique()} chips")
    parts.append("whiskers 5-95 %")
    ax.set_title(", ".join(parts), fontsize="medium")
    ax.tick_params(axis="x", labelsize=8)
    return ax
