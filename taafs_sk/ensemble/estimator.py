"""EnsembleRegressor: an ensemble of one regressor with a (calibrated) predictive std."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from .._validation import check_finite_array, check_real
from .._validation._weights import check_sample_weight
from . import committee
from ._members import fit_member, member_data, plan_members, seed_params
from .calibration import make_calibration

__all__ = ["EnsembleRegressor"]


def _members_have(method: str):
    """``available_if`` check: the (default) estimator has ``method``."""
    return lambda self: hasattr(self._estimator_or_default(), method)


class EnsembleRegressor(RegressorMixin, BaseEstimator):
    r"""Ensemble of clones of one regressor; the spread of their predictions is the
    predictive std, optionally recalibrated on held-out rows.

    Each member is a clone of ``estimator`` with its own seed (every ``random_state``
    parameter, nested ones of a ``Pipeline`` included, drawn from ``random_state``) and,
    with ``bootstrap=True``, its own bootstrap sample. Members are fitted in parallel with
    joblib. The prediction is the members' mean :math:`\mu`, the raw std their spread
    :math:`\sigma = \sqrt{\frac1M \sum_m (f_m(x) - \mu)^2}` (no Bessel correction, as in
    committee potentials; a calibration absorbs the factor).

    Parameters
    ----------
    estimator : regressor, default=None
        Cloned for each member; None means ``TAAFSRegressor()``. Anything with ``fit`` and
        ``predict`` works: ``MLPRegressor``, a ``Pipeline``, a
        :class:`~taafs_sk.atomistic.TAAFSPotential` (then :meth:`predict_forces` and
        :meth:`as_calculator` are available). With ``bootstrap=False`` it must have a
        ``random_state`` parameter: identical members would have zero spread.
    n_members : int, default=5
        Number of members (at least 2).
    bootstrap : bool, default=False
        Train each member on a bootstrap sample (drawn with probabilities proportional to
        ``sample_weight``; the member gets the draw counts as ``sample_weight``, or repeated
        rows when its ``fit`` takes none).
    calibrate : {'scale', 'isotonic'} or None, default=None
        Recalibrate the std on held-out rows no member trains on (see Notes):
        ``'scale'``, one factor per output
        (:class:`~taafs_sk.ensemble.calibration.ScaleCalibration`); ``'isotonic'``, the
        isotonic recalibration of the predicted CDF
        (:class:`~taafs_sk.ensemble.calibration.IsotonicCalibration`).
    calibration_fraction : float, default=0.2
        Fraction of the distinct training samples held out for the calibration.
    refit : bool, default=False
        With ``calibrate``: after the calibration is fitted on the members' held-out
        predictions, refit every member (same seeds) on all training rows and keep the
        calibration. The mean no longer loses the held-out rows, at about
        ``2 - calibration_fraction`` times the training cost; the calibration then describes
        members trained on fewer rows, so it is conservative where more data helps (see
        Notes). Refused without ``calibrate``.
    n_jobs : int, default=None
        Members fitted in parallel (joblib; None: 1 unless in a ``parallel_config``).
    random_state : int, RandomState instance or None, default=None
        Seeds the members, the bootstrap samples and the calibration split.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    calibrator_ : ScaleCalibration, IsotonicCalibration or None
        The fitted calibration.
    calibration_indices_ : ndarray of int or None
        Rows of ``X`` held out for the calibration (every copy of a held-out row; no member
        that fitted the calibration saw any of them; with ``refit=True`` the final members
        did).
    n_features_in_ : int
        Read from the first member.
    feature_names_in_ : ndarray of str
        Read from the first member, when it has it.

    See Also
    --------
    sklearn.gaussian_process.GaussianProcessRegressor : ``predict(X, return_std=True)``.
    sklearn.ensemble.BaggingRegressor : Bootstrap ensembles without a std.

    Notes
    -----
    The calibration set is a seeded random split of the distinct rows of tabular data, or
    the last contiguous block of structures (``estimator`` tags ``two_d_array=False``: MD
    frames are consecutive and correlated, as for the potential's early stopping). By
    default the members train on the rest only, so the calibration describes exactly the
    members that predict. ``refit=True`` trades that for accuracy: the calibration is fitted
    as before, then the members are refitted on every row (as ``GridSearchCV(refit=True)``
    refits the chosen model); the held-out rows then no longer measure them, and a member
    on more data errs less, so the calibrated std tends to be slightly too wide rather than
    too narrow. With ``bootstrap=True`` the out-of-bag rows
    are *not* used: with 5 members each row is out of bag for about 1.8 of them, too few
    to estimate a spread comparable to the ensemble's.

    Why a meta-estimator rather than an option of each estimator: it works for any
    regressor (scikit-learn's too), composes with ``Pipeline`` and ``GridSearchCV``
    (``estimator__<param>``), and keeps the training loop of each estimator unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk import EnsembleRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(120, 2)); y = X[:, 0] ** 2 + 0.05 * rng.randn(120)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
    >>> ens = EnsembleRegressor(mlp, n_members=3, calibrate="scale", random_state=0)
    >>> mean, std = ens.fit(X, y).predict(X[:4], return_std=True)
    >>> mean.shape, std.shape, bool((std > 0).all())
    ((4,), (4,), True)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_members": [Interval(Integral, 2, None, closed="left")],
        "bootstrap": ["boolean"],
        "calibrate": [StrOptions({"scale", "isotonic"}), None],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, n_members=5, bootstrap=False, calibrate=None,
                 calibration_fraction=0.2, refit=False, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.calibrate = calibrate
        self.calibration_fraction = calibration_fraction
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _estimator_or_default(self):
        if self.estimator is not None:
            return self.estimator
        from ..taafs import TAAFSRegressor

        return TAAFSRegressor()

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None, **fit_params):
        """Fit the members (in parallel) and the calibration.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or what ``estimator`` takes
            Training inputs (for a potential, a list of ``ase.Atoms``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets (for a potential, the energies; needed with ``calibrate``).
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to each member's ``fit`` (which must take it).
        **fit_params : dict
            Further arguments of each member's ``fit`` (e.g. ``forces`` of a potential);
            those of length ``n_samples`` follow the member's rows.

        Returns
        -------
        self : EnsembleRegressor
        """
        base = clone(self._estimator_or_default())
        names = seed_params(base)
        self._check_fit_args(base, names, y, sample_weight)
        sample_weight = check_sample_weight("EnsembleRegressor", sample_weight, X)
        tags = get_tags(base).input_tags
        Xa = X
        if (self.bootstrap or self.calibrate) and tags.two_d_array:
            X, y, Xa = member_data(X, y, tags.sparse)
        plans, calibration, refit_plans = plan_members(
            Xa, y, sample_weight, n_members=self.n_members, names=names,
            bootstrap=self.bootstrap, calibrate=self.calibrate,
            fraction=self.calibration_fraction, tabular=tags.two_d_array,
            rng=check_random_state(self.random_state), refit=self.refit)
        self.estimators_ = self._fit_members(base, X, y, sample_weight, fit_params, plans)
        self.calibrator_, self.calibration_indices_ = None, None
        if calibration is not None:
            self._fit_calibration(X, y, *calibration)
        if refit_plans is not None:
            self.estimators_ = self._fit_members(base, X, y, sample_weight, fit_params,
                                                 refit_plans)
        return self

    def _fit_members(self, base, X, y, sample_weight, fit_params, plans) -> list:
        return Parallel(n_jobs=self.n_jobs)(
            delayed(fit_member)(clone(base), X, y, sample_weight, fit_params, plan)
            for plan in plans)

    def _check_fit_args(self, base, names: list[str], y, sample_weight) -> None:
        who = type(base).__name__
        if not names and not self.bootstrap:
            raise ValueError(
                f"EnsembleRegressor: estimator {who} has no random_state parameter, so its "
                "members would be identical (zero spread) with bootstrap=False; use an "
                "estimator with random_state or set bootstrap=True.")
        if sample_weight is not None and not has_fit_parameter(base, "sample_weight"):
            raise TypeError(
                f"sample_weight: {who}.fit takes no sample_weight; pass the weights as a "
                "fit parameter the estimator takes (e.g. taafsregressor__sample_weight=w "
                "for a Pipeline) or drop them.")
        if self.refit and self.calibrate is None:
            raise ValueError("EnsembleRegressor: refit=True refits the members after the "
                             "calibration, but calibrate=None fits none (the members "
                             "already train on every row); set calibrate or refit=False.")
        if self.calibrate is not None and y is None:
            raise ValueError(f"EnsembleRegressor requires y to be passed, but the target y "
                             f"is None: calibrate={self.calibrate!r} is fitted on held-out "
                             "targets (for a potential, give the energies).")

    def _fit_calibration(self, X, y, rows, weights, held_out) -> None:
        """``calibrator_`` on the held-out units, ``calibration_indices_``."""
        members = self._predict_members(_safe_indexing(X, rows))
        mu, sd = members.mean(axis=0), committee.spread(members)
        y_cal = np.asarray(_safe_indexing(y, rows), dtype=np.float64).reshape(mu.shape)
        err, sd2 = (y_cal - mu).reshape(len(rows), -1), sd.reshape(len(rows), -1)
        flat = np.flatnonzero((sd2 == 0).any(axis=1))
        if len(flat):
            raise ValueError(
                f"calibrate={self.calibrate!r}: the members agree exactly (std 0) on "
                f"calibration sample {int(rows[flat[0]])} (row of X); members that do not "
                "differ cannot be calibrated: check that the estimator's random_state "
                "changes its fit, or set bootstrap=True.")
        self.calibrator_ = make_calibration(self.calibrate).fit(err / sd2, weights)
        self.calibration_indices_ = held_out

    def _predict_members(self, X) -> np.ndarray:
        return np.stack([np.asarray(m.predict(X)) for m in self.estimators_])

    def predict_members(self, X) -> np.ndarray:
        """Each member's prediction, shape ``(n_members, n_samples[, n_outputs])``."""
        check_is_fitted(self, "estimators_")
        return self._predict_members(X)

    def _std_factor(self, calibrated: bool):
        if not calibrated or self.calibrator_ is None:
            return 1.0
        factor = self.calibrator_.std_factor_
        return factor[0] if len(factor) == 1 else factor

    def predict(self, X, return_std: bool = False, calibrated: bool = True):
        """Mean prediction of the members, and optionally its std.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or what ``estimator`` takes
        return_std : bool, default=False
            Also return the predictive std.
        calibrated : bool, default=True
            With ``calibrate`` set, the calibrated std (Gaussian-equivalent for
            ``'isotonic'``); False: the raw spread of the members.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        y_std : ndarray of the same shape
            Only with ``return_std=True``.
        """
        for name, flag in (("return_std", return_std), ("calibrated", calibrated)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {flag!r} ({type(flag).__name__}).")
        members = self.predict_members(X)
        mean = members.mean(axis=0)
        if not return_std:
            return mean
        return mean, committee.spread(members) * self._std_factor(calibrated)

    def predict_interval(self, X, coverage: Any = 0.9, calibrated: bool = True):
        """Central predictive interval(s) with the given nominal coverage.

        Gaussian :math:`\\mu \\pm \\Phi^{-1}((1+c)/2)\\,\\sigma` (times the calibration
        factor) without calibration or with ``'scale'``; with ``'isotonic'`` the calibrated
        quantiles themselves.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or what ``estimator`` takes
        coverage : float or array-like of float in (0, 1), default=0.9
            Nominal coverage(s).
        calibrated : bool, default=True
            False: the Gaussian interval of the raw spread.

        Returns
        -------
        lower, upper : ndarray of shape (n_samples[, n_outputs]), or with a leading
            ``(n_levels,)`` axis when ``coverage`` is an array
        """
        levels = check_finite_array("coverage", coverage, ndim=(0, 1))
        for c in np.atleast_1d(levels):
            check_real("coverage", float(c), 0, 1, include_minimum=False, include_maximum=False)
        members = self.predict_members(X)
        mean, std = members.mean(axis=0), committee.spread(members)
        c = np.atleast_1d(levels)
        p = np.r_[(1 - c) / 2, (1 + c) / 2]
        if calibrated and self.calibrator_ is not None:
            q = self.calibrator_.quantile(p)  # (2 n_levels, n_outputs)
        else:
            q = norm.ppf(p)[:, None]
        q = q[:, 0, None] if mean.ndim == 1 else q[:, None, :]  # broadcast over samples
        lower = mean[None] + std[None] * q[:len(c)]
        upper = mean[None] + std[None] * q[len(c):]
        return (lower, upper) if levels.ndim else (lower[0], upper[0])

    # ------------------------------------------------------------- potentials
    @available_if(_members_have("predict_forces"))
    def predict_forces(self, X, return_std: bool = False):
        """Committee forces of structures (members with ``predict_forces``, e.g. a
        potential): the members' mean, and the per-atom force std
        :math:`\\sqrt{\\frac1M \\sum_m \\lVert \\mathbf F_{m,i} - \\bar{\\mathbf F}_i
        \\rVert^2}` (eV/Å; DeePMD's model deviation of forces, before its max over atoms).

        Returns
        -------
        forces : list of ndarray of shape (n_atoms, 3)
        forces_std : list of ndarray of shape (n_atoms,)
            Only with ``return_std=True``; never calibrated.
        """
        check_is_fitted(self, "estimators_")
        return committee.committee_forces(self.estimators_, X, return_std)

    @available_if(_members_have("predict_energies_and_forces"))
    def predict_energies_and_forces(self, X, return_std: bool = False):
        """Energies and forces in one pass of each member (see :meth:`predict`,
        :meth:`predict_forces`); with ``return_std``, also the (calibrated) energy std and
        the per-atom force std: ``energies, forces, energy_std, forces_std``."""
        check_is_fitted(self, "estimators_")
        out = committee.committee_energies_and_forces(self.estimators_, X, return_std)
        if return_std:
            out = (out[0], out[1], out[2] * self._std_factor(True), out[3])
        return out

    @available_if(_members_have("predict_energies_and_forces"))
    def as_calculator(self):
        """An ASE calculator of the committee: ``results`` carry ``energy``, ``forces``,
        ``energy_std`` (eV) and ``forces_std`` (per atom, eV/Å).

        Returns
        -------
        calc : taafs_sk.ensemble.calculator.CommitteeCalculator
        """
        check_is_fitted(self, "estimators_")
        from .calculator import CommitteeCalculator

        return CommitteeCalculator(self)

    # ------------------------------------------------------------- inner state
    @property
    def n_features_in_(self) -> int:
        if not hasattr(self, "estimators_"):
            raise AttributeError("EnsembleRegressor object has no n_features_in_ attribute; "
                                 "call fit first.")
        return self.estimators_[0].n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        if not hasattr(self, "estimators_"):
            raise AttributeError("EnsembleRegressor object has no feature_names_in_ "
                                 "attribute; call fit first.")
        return self.estimators_[0].feature_names_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._estimator_or_default())
        tags.input_tags = inner.input_tags
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.target_tags.single_output = inner.target_tags.single_output
        tags.target_tags.required = inner.target_tags.required
        tags.regressor_tags = inner.regressor_tags
        tags.non_deterministic = inner.non_deterministic
        return tags
