r"""Scores of a predictive distribution: Gaussian negative log-likelihood, interval coverage
and the reliability curve (expected against observed coverage of central intervals)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from .._validation import check_finite_array

__all__ = ["gaussian_nll", "interval_coverage", "reliability_curve"]


def _same_shape(**arrays: Any) -> list[np.ndarray]:
    """The arrays as float64, checked finite and all of the first one's shape."""
    out = [check_finite_array(name, a) for name, a in arrays.items()]
    (first, shape), names = (next(iter(arrays)), out[0].shape), list(arrays)
    for name, arr in zip(names[1:], out[1:], strict=True):
        if arr.shape != shape:
            raise ValueError(f"{name} must have the shape of {first} {shape}, got {arr.shape}.")
    return out


def _positive_std(y_std: np.ndarray) -> None:
    if not np.all(y_std > 0):
        i = int(np.argmax(~(y_std > 0)))
        raise ValueError(f"y_std must be > 0, got {y_std.ravel()[i]} at flat index {i}.")


def gaussian_nll(y_true: Any, y_mean: Any, y_std: Any) -> float:
    r"""Mean Gaussian negative log-likelihood (nats) of ``y_true`` under
    :math:`\mathcal N(\mu, \sigma^2)`:
    :math:`\frac12 \log(2\pi\sigma^2) + (y - \mu)^2 / (2\sigma^2)`, averaged over all entries.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of the same shape
        Targets, predictive means and predictive stds (> 0).

    Returns
    -------
    float

    Examples
    --------
    >>> from taafs_sk.ensemble.metrics import gaussian_nll
    >>> round(gaussian_nll([0.0], [0.0], [1.0]), 4)
    0.9189
    """
    y, mu, sd = _same_shape(y_true=y_true, y_mean=y_mean, y_std=y_std)
    _positive_std(sd)
    return float(np.mean(0.5 * np.log(2 * np.pi * sd**2) + 0.5 * ((y - mu) / sd) ** 2))


def interval_coverage(y_true: Any, lower: Any, upper: Any) -> float:
    """Fraction of ``y_true`` inside ``[lower, upper]``.

    Examples
    --------
    >>> from taafs_sk.ensemble.metrics import interval_coverage
    >>> interval_coverage([0.0, 2.0], [-1.0, -1.0], [1.0, 1.0])
    0.5
    """
    y, lo, hi = _same_shape(y_true=y_true, lower=lower, upper=upper)
    if np.any(lo > hi):
        i = int(np.argmax(lo > hi))
        raise ValueError(f"lower must be <= upper, got {lo.ravel()[i]} > {hi.ravel()[i]} "
                         f"at flat index {i}.")
    return float(np.mean((y >= lo) & (y <= hi)))


def reliability_curve(y_true: Any, y_mean: Any, y_std: Any,
                      levels: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Expected against observed coverage of central Gaussian intervals (a reliability
    diagram): a calibrated model lies on the diagonal.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of the same shape
        Targets, predictive means and predictive stds (> 0).
    levels : array-like of float in (0, 1), default=None
        Nominal coverages; None: 0.05, 0.10, ..., 0.95.

    Returns
    -------
    expected, observed : ndarray of shape (n_levels,)

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.ensemble.metrics import reliability_curve
    >>> y = np.random.RandomState(0).standard_normal(20000)
    >>> expected, observed = reliability_curve(y, np.zeros_like(y), np.ones_like(y), [0.9])
    >>> bool(abs(observed[0] - 0.9) < 0.01)
    True
    """
    y, mu, sd = _same_shape(y_true=y_true, y_mean=y_mean, y_std=y_std)
    _positive_std(sd)
    expected = (np.arange(1, 20) / 20 if levels is None
                else check_finite_array("levels", levels, ndim=1))
    if not np.all((expected > 0) & (expected < 1)):
        raise ValueError(f"levels must lie in (0, 1), got {expected.tolist()}.")
    half_width = norm.ppf(0.5 + expected / 2)  # (n_levels,)
    z = np.abs(y - mu).ravel() / sd.ravel()  # (n,)
    observed = np.mean(z[None, :] <= half_width[:, None], axis=1)
    return expected, observed
