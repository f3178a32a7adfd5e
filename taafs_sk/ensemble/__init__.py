"""Ensembles with a (calibrated) predictive std, and committees of potentials.

- :class:`EnsembleRegressor`: clones of any regressor with their own seeds (and optionally
  bootstrap samples), fitted in parallel; ``predict(X, return_std=True)``, recalibrated on
  held-out rows with ``calibrate='scale'`` or ``'isotonic'``; for potentials, committee
  energies, per-atom force stds and an ASE calculator;
- :mod:`~taafs_sk.ensemble.calibration`: the recalibrations;
- :mod:`~taafs_sk.ensemble.metrics`: Gaussian negative log-likelihood, interval coverage,
  reliability curve;
- :mod:`~taafs_sk.ensemble.committee`: committee energies and per-atom force stds.
"""

from .calibration import IsotonicCalibration, ScaleCalibration
from .estimator import EnsembleRegressor
from .metrics import gaussian_nll, interval_coverage, reliability_curve

__all__ = ["EnsembleRegressor", "IsotonicCalibration", "ScaleCalibration", "gaussian_nll",
           "interval_coverage", "reliability_curve"]
