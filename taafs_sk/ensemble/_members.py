"""The members of an ensemble: their seeds, the rows each trains on, and their fit.

Where rows are drawn at random (a calibration split, bootstrap samples), the training data is
first reduced to *units*: for tabular data the distinct rows ``(x, y)`` in sorted order, each
with its total weight (integer weights count as repeated rows, zero weights drop a row); for
structures (estimators whose tags say ``two_d_array=False``) each structure in its order.
So a weighted fit and a fit on the repeated rows draw the same split and the same bootstrap,
and copies of one row never land on both sides of the calibration split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.utils import _safe_indexing, check_array
from sklearn.utils.validation import has_fit_parameter

from .._validation import warn_user

__all__ = ["MemberPlan", "fit_member", "member_data", "n_rows", "plan_members",
           "seed_params"]

MAX_SEED = np.iinfo(np.int32).max
_FEW_CALIBRATION_SAMPLES = 10  # fewer held-out samples than this: a warning


def seed_params(estimator) -> list[str]:
    """Names of every ``random_state`` parameter of ``estimator``, nested ones included."""
    return sorted(k for k in estimator.get_params(deep=True)
                  if k == "random_state" or k.endswith("__random_state"))


def n_rows(X: Any) -> int:
    """Number of samples (rows of an array, structures of a list)."""
    return int(X.shape[0]) if hasattr(X, "shape") and len(X.shape) else len(X)


@dataclass
class MemberPlan:
    """What one member trains on: ``rows`` of ``X`` (None: all, as given) with ``weights``
    (None: the caller's ``sample_weight``), and its seeds."""

    rows: np.ndarray | None
    weights: np.ndarray | None
    seeds: dict


def member_data(X, y, accept_sparse: bool):
    """Tabular ``X`` and ``y`` as the members get them when rows are drawn: a DataFrame as
    given (its column names reach the members), anything else as a checked array."""
    Xa = check_array(X, accept_sparse=["csr"] if accept_sparse else False, dtype="numeric",
                     ensure_all_finite=False, ensure_min_samples=1)
    ya = y if y is None or hasattr(y, "iloc") else np.asarray(y)
    return (X if hasattr(X, "iloc") else Xa), ya, Xa


def _units(Xa, y, w: np.ndarray, tabular: bool):
    """(representative row of each unit, its weight, the unit of each row or -1), units in
    canonical order; ``Xa`` is the checked array of tabular data."""
    keep = np.flatnonzero(w > 0)
    unit_of_row = np.full(len(w), -1)
    if not tabular or sparse.issparse(Xa):
        unit_of_row[keep] = np.arange(len(keep))
        return keep, w[keep], unit_of_row
    keys = Xa[keep].reshape(len(keep), -1)
    if y is not None:
        y_rows = np.asarray(y, dtype=np.float64).reshape(len(w), -1)[keep]
        keys = np.column_stack([keys, y_rows])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    unit_of_row[keep] = inverse.ravel()
    return keep[first], np.bincount(inverse.ravel(), weights=w[keep]), unit_of_row


def _calibration_split(n_units: int, fraction: float, tabular: bool, rng, calibrate: str):
    """(member units, calibration units): a seeded random split of tabular units, the
    last contiguous block of structures (consecutive MD frames are correlated)."""
    n_cal = math.ceil(fraction * n_units)
    if n_units - n_cal < 1:
        raise ValueError(
            f"calibrate={calibrate!r} holds out calibration_fraction={fraction} of the "
            f"{n_units} distinct training samples (n_samples={n_units}), which leaves none "
            "for the members; give more samples, a smaller calibration_fraction, or "
            "calibrate=None.")
    if n_cal < _FEW_CALIBRATION_SAMPLES:
        warn_user(f"calibrate={calibrate!r} is fitted on {n_cal} held-out samples only "
                  f"(calibration_fraction={fraction} of {n_units}); its factor is noisy.")
    order = rng.permutation(n_units) if tabular else np.arange(n_units)
    return np.sort(order[:n_units - n_cal]), np.sort(order[n_units - n_cal:])


def _draw_plans(rows, weights, seeds: list[dict], boot_seeds, bootstrap: bool) -> list:
    """One plan per member on the units ``rows`` (weights ``weights``): all of them, or a
    bootstrap sample drawn with the member's ``boot_seeds`` entry."""
    if not bootstrap:
        return [MemberPlan(rows, weights, s) for s in seeds]
    plans = []
    integral = np.all(weights == np.round(weights))
    total = int(round(weights.sum())) if integral else len(weights)
    for s, b in zip(seeds, boot_seeds, strict=True):
        counts = np.random.RandomState(b).multinomial(total, weights / weights.sum())
        drawn = np.flatnonzero(counts)
        plans.append(MemberPlan(rows[drawn], counts[drawn].astype(np.float64), s))
    return plans


def plan_members(Xa, y, sample_weight, *, n_members: int, names: list[str],
                 bootstrap: bool, calibrate: str | None, fraction: float, tabular: bool, rng,
                 refit: bool = False):
    """One :class:`MemberPlan` per member, the calibration or None: (representative rows,
    their weights, every row of ``X`` held out), and with ``refit`` the plans of the members
    refitted on every unit after the calibration (same seeds; None without ``refit``)."""
    seeds = [{k: int(s) for k, s in zip(names, rng.randint(MAX_SEED, size=len(names)),
                                        strict=True)} for _ in range(n_members)]
    boot_seeds = rng.randint(MAX_SEED, size=n_members)
    if not bootstrap and calibrate is None:
        return [MemberPlan(None, None, s) for s in seeds], None, None
    w = np.ones(n_rows(Xa)) if sample_weight is None else sample_weight
    all_rows, all_weights, unit_of_row = _units(Xa, y, w, tabular)
    rows, weights, calibration, refit_plans = all_rows, all_weights, None, None
    if calibrate is not None:
        train, cal = _calibration_split(len(rows), fraction, tabular, rng, calibrate)
        calibration = (rows[cal], weights[cal], np.flatnonzero(np.isin(unit_of_row, cal)))
        rows, weights = rows[train], weights[train]
        if refit:
            refit_plans = (_draw_plans(all_rows, all_weights, seeds, boot_seeds, True)
                           if bootstrap else [MemberPlan(None, None, s) for s in seeds])
    return (_draw_plans(rows, weights, seeds, boot_seeds, bootstrap), calibration,
            refit_plans)


def _index_params(fit_params: dict, rows: np.ndarray, n: int) -> dict:
    """Per-sample fit parameters (length ``n``) indexed by ``rows``; others as given."""
    out = {}
    for key, value in fit_params.items():
        per_sample = (hasattr(value, "__len__") and not isinstance(value, (str, bytes, dict))
                      and n_rows(value) == n)
        out[key] = _safe_indexing(value, rows) if per_sample else value
    return out


def fit_member(estimator, X, y, sample_weight, fit_params: dict, plan: MemberPlan):
    """``estimator`` (an unfitted clone) with its seeds set, fitted on its plan's rows."""
    estimator.set_params(**plan.seeds)
    if plan.rows is None:
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        return estimator.fit(X, y, **weights, **fit_params)
    rows, weights = plan.rows, plan.weights
    unit_weights = np.all(weights == 1) and sample_weight is None
    if not unit_weights and not has_fit_parameter(estimator, "sample_weight"):
        if not np.all(weights == np.round(weights)):
            raise TypeError(
                f"sample_weight: {type(estimator).__name__}.fit takes no sample_weight and "
                "the weights are fractional (they cannot become repeated rows); give "
                "integer weights or an estimator whose fit takes sample_weight.")
        rows, unit_weights = np.repeat(rows, weights.astype(np.int64)), True
    params = _index_params(fit_params, rows, n_rows(X))
    if not unit_weights:
        params["sample_weight"] = weights
    y_rows = None if y is None else _safe_indexing(y, rows)
    return estimator.fit(_safe_indexing(X, rows), y_rows, **params)
