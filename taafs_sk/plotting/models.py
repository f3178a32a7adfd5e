"""Plots of fitted models' learned activation shapes."""

from __future__ import annotations

import numpy as np

from ._common import _axes


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
