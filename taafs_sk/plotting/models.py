"""Plots of fitted models' learned activation shapes."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_count, check_finite_array, check_model
from ._common import _axes

_LEARNED = dict(color="tab:blue", linewidth=1.8, zorder=3)
_INITIAL = dict(color="0.55", linewidth=3.0, alpha=0.45, zorder=2)
_NETWORK_UNITS = "network units"


def plot_activations(model, layers=None, *, z=None, ax=None, max_shapes: int = 16,
                     n_points: int = 201):
    """Draw the learned activation shapes of a fitted :class:`~taafs_sk.TAAFSRegressor`.

    One panel per hidden layer, as in the figures of the TAAFS paper, over the range of
    pre-activations the layer saw on the training data (``pre_activation_ranges_``); the
    shape the activation started from (the basis fit of ``tanh``) is drawn faded behind the
    learned one, with a legend. With ``sharing='neuron'`` every neuron (up to
    ``max_shapes`` per layer) gets a panel of its own, over its own range, one row of panels
    per layer. A fixed activation is drawn alone.

    Parameters
    ----------
    model : TAAFSRegressor
        A fitted model (anything with ``module_.activations``; ``pre_activation_ranges_``
        when present).
    layers : int or sequence of int, default=None
        Hidden layers to draw; ``None`` draws all.
    z : array-like of shape (n_points,), default=None
        Pre-activation grid for every panel; by default ``n_points`` points over the range
        each layer (or neuron) saw in training, ``[-3, 3]`` for a model without ranges.
    ax : Axes or sequence of Axes, default=None
        One Axes per panel (per layer, or per drawn neuron with ``sharing='neuron'``);
        ``None`` creates a new figure.
    max_shapes : int, default=16
        Most neuron panels drawn per layer with ``sharing='neuron'``.
    n_points : int, default=201
        Grid points per panel.

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
    >>> model = TAAFSRegressor((8, 8), basis="chebyshev1", max_epochs=5, early_stopping=False,
    ...                        random_state=0)
    >>> fig = plot_activations(model.fit(X, X[:, 0] ** 2))
    >>> len(fig.axes), [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    (2, ['learned', 'initial (tanh)'])
    """
    check_model("model", model, ["activation_functions"], ["module_"],
                "a fitted TAAFSRegressor (anything with activation_functions(layer, z) and "
                "module_; draw an AdditiveKernelNN with plot_neuron_activations)")
    max_shapes = check_count("max_shapes", max_shapes)
    n_points = check_count("n_points", n_points, minimum=2)
    if z is not None:
        z = check_finite_array("z", z, ndim=1, min_rows=2)
    acts = model.module_.activations
    layers = _layers(layers, len(acts))
    panels = [(layer, neuron) for layer in layers
              for neuron in _neurons(acts[layer], max_shapes)]
    axes, fig = _panel_axes(ax, panels, layers)
    basis = getattr(model, "basis", "")
    basis = basis if isinstance(basis, str) else type(basis).__name__
    ranges = getattr(model, "pre_activation_ranges_", None)
    for axis, (layer, neuron) in zip(axes, panels, strict=True):
        act = acts[layer]
        grid = _grid(z, ranges, layer, neuron, n_points)
        learned = _evaluate(act, grid, neuron)
        initial_act = _initial(act)
        fixed = initial_act is None
        axis.plot(grid, learned, label=f"{basis} (fixed)" if fixed else "learned", **_LEARNED)
        if not fixed:
            axis.plot(grid, _evaluate(initial_act, grid, neuron),
                      label=f"initial ({getattr(act, 'init', 'tanh')})", **_INITIAL)
        where = f"layer {layer}" + ("" if neuron is None else f", neuron {neuron}")
        axis.set_title(f"{where}: {basis}", fontsize="medium")
        axis.set_xlabel(f"pre-activation z ({_NETWORK_UNITS})")
        axis.set_ylabel(f"activation ({_NETWORK_UNITS})")
        axis.legend(fontsize="x-small", loc="best")
    if ranges is not None and z is None:
        fig.suptitle("over the pre-activations each layer saw in training",
                     fontsize="small")
    return fig


def _layers(layers, n_layers: int) -> list[int]:
    if layers is None:
        return list(range(n_layers))
    if isinstance(layers, (int, np.integer)):
        layers = [int(layers)]
    layers = [int(i) for i in layers]
    if not layers:
        raise ValueError("plot_activations needs at least one layer to draw.")
    bad = [i for i in layers if not -n_layers <= i < n_layers]
    if bad:
        raise ValueError(f"layers must be in [0, {n_layers}), got {bad[0]!r}.")
    return layers


def _neurons(act, max_shapes: int) -> list[int | None]:
    """Neuron indices with a panel each (``[None]``: one shape for the whole layer)."""
    if getattr(act, "sharing", None) == "neuron":
        return list(range(min(int(act.num_features), int(max_shapes))))
    return [None]


def _panel_axes(ax, panels, layers):
    if ax is not None:
        axes = list(np.atleast_1d(np.asarray(ax, dtype=object)).ravel())
        if len(axes) != len(panels):
            what = f"{len(layers)} layers" if len(panels) == len(layers) else \
                f"{len(panels)} panels"
            raise ValueError(f"ax holds {len(axes)} Axes but {what} are drawn.")
        return axes, axes[0].figure
    import matplotlib.pyplot as plt

    per_layer = [sum(1 for lay, _ in panels if lay == layer) for layer in layers]
    if max(per_layer) == 1:  # one panel per layer, side by side
        fig, grid = plt.subplots(1, len(panels), figsize=(3.4 * len(panels) + 0.6, 3.4),
                                 squeeze=False, layout="constrained")
        return list(grid.ravel()), fig
    ncols = min(4, max(per_layer))
    rows = [math.ceil(n / ncols) for n in per_layer]
    fig, grid = plt.subplots(sum(rows), ncols, figsize=(2.9 * ncols + 0.4, 2.7 * sum(rows)),
                             squeeze=False, layout="constrained")
    axes, row = [], 0
    for n, r in zip(per_layer, rows, strict=True):
        cells = list(grid[row:row + r].ravel())
        axes.extend(cells[:n])
        for extra in cells[n:]:
            extra.set_visible(False)
        row += r
    return axes, fig


def _grid(z, ranges, layer: int, neuron, n_points: int) -> np.ndarray:
    if z is not None:
        return np.asarray(z, dtype=float).ravel()
    if ranges is None:
        return np.linspace(-3.0, 3.0, n_points)
    r = np.asarray(ranges[layer], dtype=float)
    lo, hi = (r[neuron] if neuron is not None else (r[:, 0].min(), r[:, 1].max()))
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    return np.linspace(lo, hi, n_points)


def _initial(act):
    """A fresh copy of a TAAF as it was before training (``None`` for other modules)."""
    from ..nn.activations import TAAF

    if not isinstance(act, TAAF):
        return None
    import copy

    return TAAF(act.num_features, basis=copy.deepcopy(act.basis),
                normalization=act.normalization, sharing=act.sharing,
                init=act.base if act.residual else act.init, fused=False)


def _evaluate(act, grid: np.ndarray, neuron) -> np.ndarray:
    """``act`` on ``grid``, the column of ``neuron`` (or the layer's one shape)."""
    from ..nn.activations import activation_grid

    values = activation_grid(act, grid)
    return values[:, 0 if neuron is None else neuron]


def plot_neuron_activations(model, ax=None, *, n_points: int = 200, cmap: str = "viridis",
                            unit: str | None = None):
    """Draw each neuron activation of a fitted AdditiveKernelNN, coloured by importance.

    Neurons are drawn from the least to the most important, so the important ones lie on
    top; the colour bar (the legend of the lines) gives each neuron's importance (the
    standard deviation of its activation over the training data, in target units).

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
    unit : str, default=None
        Unit of the target (e.g. ``'eV'``) for the axis labels; ``None`` writes
        "target units".

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

    accepted = "a fitted AdditiveKernelNN (with activation_functions_ and neuron_importance_)"
    if hasattr(type(model), "activation_functions"):  # a TAAFSRegressor
        raise TypeError(f"model must be {accepted}, got a {type(model).__name__}; draw its "
                        "activations with plot_activations.")
    check_model("model", model, ["predict"], ["activation_functions_", "neuron_importance_"],
                accepted)
    n_points = check_count("n_points", n_points, minimum=2)
    if not isinstance(cmap, str) or cmap not in mpl.colormaps:
        raise ValueError(f"cmap must be a matplotlib colormap name such as 'viridis', "
                         f"got {cmap!r}.")
    unit = unit or "target units"
    importance = np.asarray(model.neuron_importance_, dtype=float)
    ax = _axes(ax)
    z = np.linspace(0.0, 1.0, n_points)
    norm = mpl.colors.Normalize(vmin=0.0, vmax=float(importance.max()) or 1.0)
    colours = mpl.colormaps[cmap]
    for n in np.argsort(importance):
        ax.plot(z, model.activation_functions_[n](z), color=colours(norm(importance[n])),
                linewidth=0.8 + 1.6 * norm(importance[n]))
    bar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=colours), ax=ax)
    bar.set_label(f"neuron importance ({unit})")
    ax.set_xlabel("rescaled neuron coordinate z (dimensionless, 0 to 1)")
    ax.set_ylabel(rf"activation $\phi_n(z)$ ({unit})")
    ax.set_title(f"{len(importance)} neuron activations", fontsize="medium")
    return ax
