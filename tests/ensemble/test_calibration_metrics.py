"""The recalibrations against their closed forms and on known distributions, and the
scores of a predictive distribution (values worked out by hand, bad input named)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from taafs_sk.ensemble.calibration import IsotonicCalibration, ScaleCalibration, make_calibration
from taafs_sk.ensemble.metrics import gaussian_nll, interval_coverage, reliability_curve


def test_scale_is_the_root_mean_square_of_z():
    z = np.array([[1.0, 2.0], [-3.0, 0.0]])
    np.testing.assert_allclose(ScaleCalibration().fit(z).scale_, [np.sqrt(5), np.sqrt(2)])
    w = np.array([3.0, 1.0])  # weights count as repeated rows
    np.testing.assert_allclose(ScaleCalibration().fit(z, w).scale_,
                               ScaleCalibration().fit(z[[0, 0, 0, 1]]).scale_)


def test_scale_minimises_the_gaussian_nll():
    z = np.random.RandomState(0).standard_normal((200, 1)) * 3
    s = ScaleCalibration().fit(z).scale_[0]
    nll = [gaussian_nll(z[:, 0], np.zeros(200), np.full(200, f * s)) for f in (0.9, 1, 1.1)]
    assert nll[1] < nll[0] and nll[1] < nll[2]


@pytest.mark.parametrize("draw", [
    lambda rng, n: 30 * rng.standard_normal(n),  # raw spread 30x too narrow
    lambda rng, n: rng.standard_t(3, n),  # heavy tails
    lambda rng, n: rng.exponential(1.0, n) - 1.0,  # skewed
])
def test_isotonic_intervals_cover_fresh_draws(draw):
    rng = np.random.RandomState(0)
    z = draw(rng, 2000)[:, None]
    cal = IsotonicCalibration().fit(z)
    lo, hi = cal.quantile([0.05, 0.95])[:, 0]
    fresh = draw(rng, 20000)
    assert abs(np.mean((fresh >= lo) & (fresh <= hi)) - 0.9) < 0.02
    # the Gaussian-equivalent std: the root mean square of the calibrated distribution,
    # close to that of the held-out z it follows
    assert cal.std_factor_[0] == pytest.approx(np.sqrt(np.mean(z**2)), rel=0.05)


def test_isotonic_cdf_and_quantile_are_inverse():
    cal = IsotonicCalibration().fit(np.random.RandomState(1).standard_normal((500, 2)))
    p = np.array([0.1, 0.5, 0.9])
    q = cal.quantile(p)  # (3, 2)
    np.testing.assert_allclose(cal.cdf(q), np.column_stack([p, p]), atol=1e-9)


def test_make_calibration_refuses_unknown_names():
    with pytest.raises(ValueError, match="calibrate must be one of.*got 'platt'"):
        make_calibration("platt")
    with pytest.raises(ValueError, match="p must be probabilities in"):
        ScaleCalibration().fit(np.ones((2, 1))).quantile([0.0])


def test_gaussian_nll_by_hand():
    # 0.5 log(2 pi 4) + 0.5 (2/2)^2
    assert gaussian_nll([2.0], [0.0], [2.0]) == pytest.approx(0.5 * np.log(8 * np.pi) + 0.5)


def test_interval_coverage_and_reliability_by_hand():
    assert interval_coverage([0, 1, 2, 3], [0, 0, 0, 0], [1, 1, 1, 1]) == 0.5
    y = np.array([0.5, 1.5, 3.0])
    expected, observed = reliability_curve(y, np.zeros(3), np.ones(3), [2 * norm.cdf(1) - 1])
    np.testing.assert_allclose(observed, [1 / 3])  # only |z| = 0.5 is within 1 std


@pytest.mark.parametrize("call, match", [
    (lambda: gaussian_nll([1.0, 2.0], [0.0], [1.0]), "y_mean must have the shape of y_true"),
    (lambda: gaussian_nll([1.0], [0.0], [0.0]), "y_std must be > 0, got 0.0 at flat index 0"),
    (lambda: gaussian_nll([np.nan], [0.0], [1.0]), "y_true must be finite"),
    (lambda: interval_coverage([1.0], [2.0], [0.0]), "lower must be <= upper"),
    (lambda: reliability_curve([1.0], [0.0], [1.0], [1.5]), "levels must lie in"),
    (lambda: gaussian_nll("abc", [0.0], [1.0]), "y_true must be an array of numbers"),
])
def test_bad_scores_input_is_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
