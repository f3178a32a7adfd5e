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

import pandas as pd

from .bases import plot_basis_comparison
from .chips import plot_chip_study
from .models import plot_activations, plot_neuron_activations
from .naf import plot_naf_study
from .noise import plot_noise_sweep

__all__ = [
    "plot_activations",
    "plot_basis_comparison",
    "plot_chip_study",
    "plot_naf_study",
    "plot_neuron_activations",
    "plot_noise_sweep",
    "plot_study",
]


_STUDY_PLOTS = {
    "noise": plot_noise_sweep,
    "naf": plot_naf_study,
    "bases": plot_basis_comparison,
    "chips": plot_chip_study,
}
_ALIASES = {"noise_tolerance": "noise", "noise_sweep": "noise", "naf_inhomogeneity": "naf",
            "basis_comparison": "bases", "chip_study": "chips"}


def plot_study(kind: str, df: pd.DataFrame, ax=None, **kwargs):
    """Draw the table of a study with the plot made for it.

    Parameters
    ----------
    kind : {'noise', 'naf', 'bases', 'chips'}
        The study: ``'noise'`` (:func:`plot_noise_sweep`), ``'naf'``
        (:func:`plot_naf_study`), ``'bases'`` (:func:`plot_basis_comparison`) or ``'chips'``
        (:func:`plot_chip_study`). The names
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
    'test RMSE (target units)'
    """
    if not isinstance(kind, str):
        raise TypeError(f"plot_study got kind={kind!r} ({type(kind).__name__}); expected one "
                        f"of {sorted(_STUDY_PLOTS)}.")
    key = _ALIASES.get(kind, kind)
    if key not in _STUDY_PLOTS:
        raise ValueError(
            f"plot_study got kind={kind!r}; expected one of {sorted(_STUDY_PLOTS)}."
        )
    return _STUDY_PLOTS[key](df, ax=ax, **kwargs)
