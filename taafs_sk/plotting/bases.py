"""Plot of a basis comparison: one bar per basis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import _axes, _first_present, _hue_columns, _label, _require

_BASELINE_MODELS = ("mlp", "gpr")  # drawn grey with the fixed activations


def plot_basis_comparison(df: pd.DataFrame, ax=None, *, metric: str | None = None):
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
            color=np.where(fixed, "tab:gray", "tab:blue"))
    ax.set_yticks(pos, labels)
    ax.set_xlabel(metric.replace("_", " ").replace("rmse", "RMSE").replace("mae", "MAE"))
    n = int(stats["count"].max())
    ax.set_title(f"mean over {n} repeat{'s' if n > 1 else ''}; grey: fixed activation",
                 fontsize="medium")
    return ax
