r"""Recalibration of an ensemble's predictive std, fitted on held-out standardised errors.

Both calibrations take the standardised errors :math:`z = (y - \mu) / \sigma` of rows that
no member trained on (``z`` of shape ``(n_rows, n_outputs)``, one calibration per output)
and describe the calibrated predictive distribution as :math:`\mu + \sigma Z'`, with one
distribution of :math:`Z'` per output, the same for every row. What they expose:

- ``std_factor_`` (shape ``(n_outputs,)``): the calibrated std is ``std_factor_ * sigma``;
- ``quantile(p)``: the quantiles of :math:`Z'`, so the calibrated ``p``-quantile of a row is
  ``mu + sigma * quantile(p)`` (what :meth:`EnsembleRegressor.predict_interval` uses).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.isotonic import IsotonicRegression

from .._validation import check_finite_array

__all__ = ["CALIBRATIONS", "IsotonicCalibration", "ScaleCalibration", "make_calibration"]

_N_QUADRATURE = 4096  # midpoints in p of the quantile function, for the std of Z'
_EPS = 1e-12


def _levels(p: Any) -> np.ndarray:
    """``p`` as a 1-D float array of probabilities in (0, 1)."""
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    if p.ndim != 1 or not np.all((p > 0) & (p < 1)):
        raise ValueError(f"p must be probabilities in (0, 1), got {p!r}.")
    return p


class ScaleCalibration:
    r"""One scale factor per output: :math:`Z' \sim \mathcal N(0, s^2)`.

    :math:`s^2` is the (weighted) mean of :math:`z^2` on the calibration rows: the factor that
    minimises their Gaussian negative log-likelihood
    :math:`\sum_i \log(s\sigma_i) + z_i^2 / (2 s^2)`, and the one that gives the rescaled
    errors :math:`z / s` unit mean square.

    Attributes
    ----------
    scale_ : ndarray of shape (n_outputs,)
        The factor :math:`s`.
    std_factor_ : ndarray of shape (n_outputs,)
        Same as ``scale_``.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.ensemble.calibration import ScaleCalibration
    >>> cal = ScaleCalibration().fit(np.array([[2.0], [-2.0]]))
    >>> cal.std_factor_
    array([2.])
    >>> cal.quantile([0.5]).round(6)
    array([[0.]])
    """

    def fit(self, z: np.ndarray, sample_weight: np.ndarray | None = None) -> ScaleCalibration:
        """Fit on standardised errors ``z`` of shape ``(n_rows, n_outputs)``."""
        z = check_finite_array("z", z, ndim=2)
        self.scale_ = np.sqrt(np.average(np.square(z), axis=0, weights=sample_weight))
        self.std_factor_ = self.scale_
        return self

    def quantile(self, p: Any) -> np.ndarray:
        """Quantiles of :math:`Z'`, shape ``(len(p), n_outputs)``."""
        return norm.ppf(_levels(p))[:, None] * self.scale_


class IsotonicCalibration:
    r"""Isotonic recalibration of the predicted CDF (Kuleshov et al. 2018), per output.

    The base CDF is the scale-calibrated Gaussian :math:`\Phi(z / s)` (:math:`s` of
    :class:`ScaleCalibration`): the probability integral transforms
    :math:`u_i = \Phi(z_i / s)` of the calibration rows are mapped by an isotonic
    regression :math:`R` onto their (weighted) empirical CDF, so the calibrated CDF of a row
    is :math:`F(y) = R(\Phi((y - \mu) / (s\sigma)))` and its quantiles are
    :math:`\mu + s\sigma\, \Phi^{-1}(R^{-1}(p))`. Starting from the scaled Gaussian
    rather than the raw one keeps the :math:`u_i` away from 0 and 1 when the raw spread is
    far too narrow (a raw :math:`|z|` of 10 has :math:`\Phi(z)` within 1e-23 of 0 or 1, so
    the raw PIT values of such rows would all coincide). :math:`R` is piecewise linear
    through :math:`(0, 0)` and :math:`(1, 1)`, so the calibrated distribution is a fixed
    distribution :math:`Z'` per output, scaled by each row's :math:`\sigma`; it keeps the
    shape of the held-out errors (heavy tails, skew) where one scale factor cannot.

    The Gaussian-equivalent std (``std_factor_ * sigma``) is the root mean square of the
    calibrated distribution about the ensemble mean,
    :math:`\sigma \sqrt{\mathrm E[Z'^2]} = s\sigma \sqrt{\int_0^1
    (\Phi^{-1}(R^{-1}(p)))^2 dp}` (midpoint rule in :math:`p`), the std that a Gaussian
    negative log-likelihood or a ``return_std`` consumer should see. Intervals should use
    :meth:`quantile`, which is the calibrated distribution itself.

    Attributes
    ----------
    scale_ : ndarray of shape (n_outputs,)
        The factor :math:`s` of the base Gaussian.
    knots_ : list of (ndarray, ndarray)
        Per output, the knots ``(u, R(u))`` of the piecewise-linear map.
    std_factor_ : ndarray of shape (n_outputs,)
        :math:`\sqrt{\mathrm E[Z'^2]}`.

    References
    ----------
    .. [1] V. Kuleshov, N. Fenner and S. Ermon, "Accurate Uncertainties for Deep Learning
       Using Calibrated Regression", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.ensemble.calibration import IsotonicCalibration
    >>> z = np.random.RandomState(0).standard_normal((2000, 1))
    >>> cal = IsotonicCalibration().fit(3 * z)
    >>> bool(abs(cal.std_factor_[0] - 3) < 0.2)
    True
    """

    def fit(self, z: np.ndarray, sample_weight: np.ndarray | None = None) -> IsotonicCalibration:
        """Fit on standardised errors ``z`` of shape ``(n_rows, n_outputs)``."""
        z = check_finite_array("z", z, ndim=2)
        w = np.ones(len(z)) if sample_weight is None else np.asarray(sample_weight, float)
        self.scale_ = ScaleCalibration().fit(z, w).scale_
        u = norm.cdf(z / self.scale_)
        self.knots_ = [self._fit_output(u[:, j], w) for j in range(z.shape[1])]
        p = (np.arange(_N_QUADRATURE) + 0.5) / _N_QUADRATURE
        self.std_factor_ = np.sqrt(np.mean(np.square(self.quantile(p)), axis=0))
        return self

    @staticmethod
    def _fit_output(u: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Knots of the isotonic map from ``u`` to its weighted empirical CDF."""
        order = np.argsort(u, kind="stable")
        u_sorted, cum = u[order], np.cumsum(w[order]) / w.sum()
        # the empirical CDF at each u counts every row with u_j <= u (ties included)
        ecdf = cum[np.searchsorted(u_sorted, u_sorted, side="right") - 1]
        anchor = w.mean()
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            np.r_[0.0, u_sorted, 1.0], np.r_[0.0, ecdf, 1.0],
            sample_weight=np.r_[anchor, w[order], anchor])
        x, y = iso.X_thresholds_, iso.y_thresholds_
        return np.r_[0.0, x, 1.0], np.r_[0.0, y, 1.0]

    def cdf(self, z: Any) -> np.ndarray:
        """Calibrated CDF :math:`R(\\Phi(z / s))` of standardised values ``z``
        (n, n_outputs)."""
        z = np.asarray(z, dtype=np.float64)
        u = norm.cdf(z / self.scale_)
        return np.column_stack([np.interp(u[:, j], *knots)
                                for j, knots in enumerate(self.knots_)])

    def quantile(self, p: Any) -> np.ndarray:
        """Quantiles of :math:`Z'`, shape ``(len(p), n_outputs)``."""
        p = _levels(p)
        cols = []
        for x, y in self.knots_:
            # generalised inverse: the segment with y[i-1] < p <= y[i] (y[i] > y[i-1] there)
            i = np.clip(np.searchsorted(y, p, side="left"), 1, len(y) - 1)
            u = x[i - 1] + (p - y[i - 1]) / (y[i] - y[i - 1]) * (x[i] - x[i - 1])
            cols.append(norm.ppf(np.clip(u, _EPS, 1 - _EPS)))
        return np.column_stack(cols) * self.scale_


CALIBRATIONS = {"scale": ScaleCalibration, "isotonic": IsotonicCalibration}


def make_calibration(name: str) -> ScaleCalibration | IsotonicCalibration:
    """An unfitted calibration by name (``'scale'`` or ``'isotonic'``).

    Examples
    --------
    >>> from taafs_sk.ensemble.calibration import make_calibration
    >>> type(make_calibration("scale")).__name__
    'ScaleCalibration'
    """
    if name not in CALIBRATIONS:
        raise ValueError(f"calibrate must be one of {sorted(CALIBRATIONS)} or None, "
                         f"got {name!r}.")
    return CALIBRATIONS[name]()
