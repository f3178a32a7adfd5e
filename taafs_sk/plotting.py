"""Plots of learned activation shapes and of the studies' tables.

Every function draws with matplotlib and never calls ``plt.show``: it works under the
non-interactive ``Agg`` backend (scripts, CI, the ``taafs-sk`` command) as well as in a
notebook. Functions that draw one panel take ``ax=None`` and return the
:class:`~matplotlib.axes.Axes`; :func:`plot_activations` draws one panel per layer and
returns the :class:`~matplotlib.figure.Figure`.

The table plots read the tidy DataFrames of :mod:`taafs_sk.studies` and
:func:`taafs_sk.analog.noise_sweep`. They look columns up by name and say which one is
missing when a table does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "plot_activations",
    "plot_basis_comparison",
    "plot_naf_study",
    "plot_neuron_activations",
    "plot_noise_sweep",
    "plot_study",
]

# Columns that tell rows of one study apart (one line or bar per combination). Columns that
# follow from these (``size``, ``n_params``) or describe every row alike are left out.
_GROUP_COLUMNS = ("architecture", "model", "estimator", "basis", "base", "sharing", "kind",
                  "where", "noise_kind")
_NAF_STAGES = ("ideal", "degraded", "retrained", "control")
_NAF_STYLE = {
    "ideal": dict(color="black", linestyle="-", marker="o"),
    "degraded": dict(color="tab:red", linestyle="-", marker="v"),
    "retrained": dict(color="tab:blue", linestyle="-", marker="^"),
    "control": dict(color="tab:gray", linestyle="--", marker="s"),
}


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


# --------------------------------------------------------------------- models
def plot_activations(model, layers=None, *, z=None, ax=None, max_shapes: int = 16):
    """Draw the learned activation shapes of a fitted :class:`~taafs_sk.TAAFSRegressor`.

    One panel per hidden layer, as in the figures of the TAAFS paper. A layer whose neurons
    share their coefficients has one curve; with ``sharing='neuron'`` up to ``max_shapes``
    neuron shapes are drawn in thin lines. The identity is drawn dotted for reference.

    Parameters
    ----------
    model : TAAFSRegressor
        A fitted model (anything with ``activation_functions(layer, z)`` and ``module_``).
    layers : int or sequence of int, default=None
        Hidden layers to draw; ``None`` draws all.
    z : array-like of shape (n_points,), default=None
        Pre-activation grid; by default the model's own (``[-3, 3]``).
    ax : Axes or sequence of Axes, default=None
        One Axes per drawn layer; ``None`` creates a new figure.
    max_shapes : int, default=16
        Most neuron shapes drawn per layer.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure holding the panels.

    See Also
    --------
    plot_neuron_activations : The same for :class:`~taafs_sk.additive.estimator.AdditiveKernelNN`.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk import TAAFSRegressor
    >>> from taafs_sk.plotting import plot_activations
    >>> X = np.random.RandomState(0).uniform(-1, 1, size=(100, 2))
    >>> model = TAAFSRegressor((8, 8), basis="chebyshev1", max_epochs=5, random_state=0)
    >>> fig = plot_activations(model.fit(X, X[:, 0] ** 2))
    >>> len(fig.axes)
    2
    """
    n_layers = len(model.module_.activations)
    if layers is None:
        layers = list(range(n_layers))
    elif isinstance(layers, (int, np.integer)):
        layers = [int(layers)]
    if not layers:
        raise ValueError("plot_activations needs at least one layer to draw.")
    if ax is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(layers), figsize=(3.2 * len(layers) + 0.6, 3.2),
                                 squeeze=False, layout="constrained")
        axes = list(axes.ravel())
    else:
        axes = list(np.atleast_1d(np.asarray(ax, dtype=object)).ravel())
        if len(axes) != len(layers):
            raise ValueError(f"ax holds {len(axes)} Axes but {len(layers)} layers are drawn.")
        fig = axes[0].figure
    basis = getattr(model, "basis", "")
    for axis, layer in zip(axes, layers, strict=True):
        grid, values = model.activation_functions(layer, z)
        shown = values[:, :max_shapes]
        width = 1.8 if shown.shape[1] == 1 else 0.9
        axis.plot(grid, grid, color="0.6", linestyle=":", linewidth=1.0, label="identity")
        axis.plot(grid, shown, color="tab:blue", linewidth=width, alpha=1.0 if width > 1 else 0.7)
        note = "" if shown.shape[1] == 1 else f" ({shown.shape[1]} of {values.shape[1]} neurons)"
        axis.set_title(f"layer {layer}: {basis}{note}", fontsize="medium")
        axis.set_xlabel("pre-activation z")
        span = np.ptp(shown) or 1.0
        axis.set_ylim(shown.min() - 0.1 * span, shown.max() + 0.1 * span)
    axes[0].set_ylabel("activation")
    return fig


def plot_neuron_activations(model, ax=None, *, n_points: int = 200, cmap: str = "viridis"):
    """Draw each neuron activation of a fitted AdditiveKernelNN, coloured by importance.

    Neurons are drawn from the least to the most important, so the important ones lie on
    top; the colour bar gives each neuron's importance (the standard deviation of its
    activation over the training data, in target units).

    Parameters
    ----------
    model : AdditiveKernelNN
        A fitted model with ``activation_functions_`` and ``neuron_importance_``.
    ax : Axes, default=None
        Where to draw; ``None`` creates a new figure.
    n_points : int, default=200
        Grid points on the rescaled neuron coordinate ``z`` in [0, 1].
    cmap : str, default='viridis'
        Colour map of the importance.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.additive.estimator import AdditiveKernelNN
    >>> from taafs_sk.plotting import plot_neuron_activations
    >>> X = np.random.RandomState(0).rand(60, 2)
    >>> model = AdditiveKernelNN(random_state=0).fit(X, np.sin(3 * X[:, 0]) + X[:, 1])
    >>> ax = plot_neuron_activations(model)
    >>> len(ax.lines) == len(model.activation_functions_)
    True
    """
    import matplotlib as mpl

    importance = np.asarray(model.neuron_importance_, dtype=float)
    ax = _axes(ax)
    z = np.linspace(0.0, 1.0, n_points)
    norm = mpl.colors.Normalize(vmin=0.0, vmax=float(importance.max()) or 1.0)
    colours = mpl.colormaps[cmap]
    for n in np.argsort(importance):
        ax.plot(z, model.activation_functions_[n](z), color=colours(norm(importance[n])),
                linewidth=0.8 + 1.6 * norm(importance[n]))
    bar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=colours), ax=ax)
    bar.set_label("neuron importance (target units)")
    ax.set_xlabel("rescaled neuron coordinate z")
    ax.set_ylabel(r"activation $\phi_n(z)$")
    ax.set_title(f"{len(importance)} neuron activations", fontsize="medium")
    return ax


# --------------------------------------------------------------------- tables
def plot_noise_sweep(df: pd.DataFrame, ax=None, *, hue=None, relative: bool = False):
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

    _require(df, ["level", "rmse_mean"], "plot_noise_sweep")
    ax = _axes(ax)
    cols = _hue_columns(df, hue)
    has_band = {"rmse_p5", "rmse_p95"} <= set(df.columns)
    for label, part in _groups(df, cols):
        part = part.groupby("level", sort=True).mean(numeric_only=True).reset_index()
        scale = 1.0
        if relative:
            base = part["rmse_noiseless"] if "rmse_noiseless" in part else part["rmse_mean"]
            scale = float(base.iloc[0])
        (line,) = ax.plot(part["level"], part["rmse_mean"] / scale, marker="o", markersize=3,
                          label=label or None)
        if has_band:
            ax.fill_between(part["level"], part["rmse_p5"] / scale, part["rmse_p95"] / scale,
                            color=line.get_color(), alpha=0.2, linewidth=0)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel(_noise_label(df))
    ax.set_ylabel("test RMSE / noiseless RMSE" if relative else "test RMSE")
    if has_band:
        ax.set_title("mean over noise draws, band: 5-95 %", fontsize="medium")
    if cols:
        ax.legend(title=", ".join(cols), fontsize="small")
    return ax


def _noise_label(df: pd.DataFrame) -> str:
    """Axis label naming the noise kind, site and reference when the table has one of each."""
    def single(col):
        values = df[col].unique() if col in df.columns else []
        return str(values[0]).replace("_", "-") if len(values) == 1 else None

    kind, where, scale = single("kind"), single("where"), single("scale")
    what = " ".join(w for w in (kind, "noise", f"at {where}" if where else None) if w)
    ref = {"range": "signal range", "std": "signal std", "absolute": None}.get(
        scale or "range", scale)
    return f"{what} level" + (f" (relative to {ref})" if ref else "")


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


def plot_naf_study(df: pd.DataFrame, ax=None, *, recovery: bool = False):
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
    from matplotlib.ticker import PercentFormatter

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
            ax.plot(mean.index, mean.to_numpy(), label=name, markersize=4, **style)
            ax.fill_between(mean.index, mean - std, mean + std, color=style["color"],
                            alpha=0.15, linewidth=0)
    if long[x].max() <= 1.0:
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel("activation-shape spread between neurons")
    ax.set_ylabel("test RMSE")
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
        ax.plot(stats.index, stats["mean"], color=color, linestyle=linestyle, marker="o",
                markersize=4, label=label)
        ax.fill_between(stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"],
                        color=color, alpha=0.15, linewidth=0)
    ax.axhline(1.0, color="0.6", linewidth=0.8, linestyle=":")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    if rows[x].max() <= 1.0:
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel("activation-shape spread between neurons")
    ax.set_ylabel("degradation recovered by retraining")
    ax.legend(fontsize="small")
    return ax


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
    from .nn.fixed import FIXED_ACTIVATIONS

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


_BASELINE_MODELS = ("mlp", "gpr")  # drawn grey with the fixed activations

_STUDY_PLOTS = {
    "noise": plot_noise_sweep,
    "naf": plot_naf_study,
    "bases": plot_basis_comparison,
}
_ALIASES = {"noise_tolerance": "noise", "noise_sweep": "noise", "naf_inhomogeneity": "naf",
            "basis_comparison": "bases"}


def plot_study(kind: str, df: pd.DataFrame, ax=None, **kwargs):
    """Draw the table of a study with the plot made for it.

    Parameters
    ----------
    kind : {'noise', 'naf', 'bases'}
        The study: ``'noise'`` (:func:`plot_noise_sweep`), ``'naf'``
        (:func:`plot_naf_study`) or ``'bases'`` (:func:`plot_basis_comparison`). The names
        of the study functions (``'noise_tolerance'``, ...) work too.
    df : DataFrame
        The study's table.
    ax : Axes, default=None
        Where to draw; ``None`` creates a new figure.
    **kwargs
        Passed to the plot function.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import pandas as pd
    >>> from taafs_sk.plotting import plot_study
    >>> df = pd.DataFrame({"basis": ["tanh", "bspline"], "test_rmse": [0.4, 0.3]})
    >>> plot_study("bases", df).get_xlabel()
    'test RMSE'
    """
    key = _ALIASES.get(kind, kind)
    if key not in _STUDY_PLOTS:
        raise ValueError(
            f"plot_study got kind={kind!r}; expected one of {sorted(_STUDY_PLOTS)}."
        )
    return _STUDY_PLOTS[key](df, ax=ax, **kwargs)
