"""Studies on real data: noise tolerance, activation-shape dispersion, and basis comparison.

Each study is one function call that returns a tidy :class:`pandas.DataFrame` (one row per
configuration, with the target's unit in ``target_unit``), ready for
:func:`taafs_sk.plotting.plot_study` and the ``taafs-sk study`` command. A study takes a
dataset name (loaded, featurised and split by :func:`load_study_data`) or a ready
``(X_train, X_test, y_train, y_test)`` tuple, and ``n_jobs`` / ``data_home`` like every other
study.

``quick=True`` subsamples the data and trains for few epochs, so that each study finishes in
seconds; use it for demos and tests, not for conclusions.

One module per study (``noise``, ``naf``, ``bases``); what they share is in ``_common``.
"""

from __future__ import annotations

from ._common import TARGET_UNITS, activation_names, load_study_data
from .bases import basis_comparison
from .chips import chip_study
from .naf import naf_inhomogeneity
from .noise import noise_tolerance

__all__ = ["load_study_data", "noise_tolerance", "naf_inhomogeneity", "basis_comparison",
           "chip_study", "TARGET_UNITS", "activation_names"]
