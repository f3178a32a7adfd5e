"""Hardware activation shapes: swap realised NAFs into a trained network, score, retrain.

An ideal network is trained with the nominal activation. A circuit realises each neuron's
activation slightly differently (:mod:`taafs_sk.analog.naf`), which degrades it. Retraining the
weights with the realised shapes held fixed wins most of that back. Extra epochs also improve
the ideal model itself, so the recovery is reported against a control: the ideal network
trained for the same extra epochs with the same optimiser and minibatch order.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.metrics import root_mean_squared_error
from sklearn.neural_network import MLPRegressor
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ..nn.fixed import SKLEARN_ACTIVATIONS
from ._adapters import TorchModel, as_torch_model, check_supported, final_estimator, is_taafs
from ._base import InnerEstimatorMixin
from ._checks import check_nafs, check_targets, check_torch_model, check_training
from ._training import train_model, weight_parameters
from .naf import NAFDispersion
from .shapes import disperse_network

__all__ = ["HardwareNAFRegressor", "realize_network", "retrain_weights", "recovery_table",
           "check_nominal", "MIN_LOSS"]

#: Smallest RMSE lost to dispersion, relative to the reference RMSE, for which a recovery
#: fraction is reported (below it the ratio of two small differences is noise: NaN).
MIN_LOSS = 0.05


def realize_network(model: TorchModel, nafs, random_state=None) -> TorchModel:
    """A copy of ``model`` whose hidden activations are realised hardware shapes.

    Parameters
    ----------
    model : TorchModel
        The ideal network (not modified).
    nafs : NAFDispersion or MeasuredNAF
        Anything with ``realize(n_neurons, random_state) -> nn.Module``.
    random_state : int, RandomState instance or None, default=None
        Source of the per-neuron draws (one stream for all layers).

    Returns
    -------
    degraded : TorchModel
    """
    check_torch_model(model, "model", "realize_network")
    check_nafs("realize_network", nafs)
    if getattr(nafs, "base", "") is None:
        raise ValueError("realize_network: NAFDispersion(base=None) disperses the model's own "
                         "activations; use disperse_network(model, nafs, X_train).")
    rng = check_random_state(random_state)
    degraded = model.copy()
    for i, width in enumerate(degraded.mlp.hidden_layer_sizes):
        degraded.mlp.activations[i] = nafs.realize(width, random_state=rng).to(model.dtype)
    return degraded


def retrain_weights(
    model: TorchModel, X, y, *, epochs: int = 100, lr: float = 1e-3, batch_size: int = 64,
    validation_fraction: float | None = 0.1, patience: int | None = None, random_state=None,
    verbose: int = 0, callbacks: list | None = None,
) -> list[float]:
    """Train ``model``'s affine weights in place, its activations held fixed.

    Trained through the skorch set-up of ``TAAFSRegressor``
    (:func:`taafs_sk.taafs.training.build_net`): Adam on the mean squared error.

    Parameters
    ----------
    model : TorchModel
        The network to retrain (e.g. from :func:`realize_network`); only the parameters of its
        affine layers change.
    X : array-like of shape (n_samples, n_features)
        Inputs in the estimator's units (the model applies its own preprocessing).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets in the estimator's units (the model applies its own target scaling).
    epochs : int, default=100
        Maximum passes over the data.
    lr : float, default=1e-3
        Adam learning rate.
    batch_size : int, default=64
        Minibatch size.
    validation_fraction : float or None, default=0.1
        Hold out this fraction of the rows and restore the weights of the epoch with the
        lowest validation loss; ``None`` trains on all rows and keeps the last epoch.
    patience : int or None, default=None
        With ``validation_fraction``, stop after this many epochs without improvement.
        ``None`` runs all ``epochs`` (a control run then trains exactly as long).
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and the minibatch order.
    verbose : int, default=0
        0 silent, 1 skorch's epoch table, 2 the table and a progress bar.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (e.g. ``skorch.callbacks.LRScheduler``).

    Returns
    -------
    loss_curve : list of float
        Mean training loss per epoch, in network units.

    Raises
    ------
    TrainingDivergedError
        If the loss or the weights become non-finite (the message suggests a lower ``lr``).
    """
    check_torch_model(model, "model", "retrain_weights")
    options = check_training("retrain_weights", epochs=epochs, lr=lr, batch_size=batch_size,
                             validation_fraction=validation_fraction, patience=patience)
    return train_model(
        model, X, y, params=weight_parameters(model.mlp), **options,
        random_state=random_state, verbose=verbose, callbacks=callbacks,
        divergence_hint="lower learning rate (`lr`, or `retrain_lr` of HardwareNAFRegressor)",
    )


def recovery_table(rmse_ideal, rmse_degraded, rmse_retrained=None, rmse_control=None,
                   min_loss: float = MIN_LOSS) -> dict:
    """Recovery fractions from RMSEs.

    ``recovery = (degraded - retrained) / (degraded - ideal)`` and ``recovery_vs_control`` the
    same with the control in place of the ideal model. NaN where undefined: no retrained
    model, or less than ``min_loss`` (relative) lost to dispersion,
    ``degraded - reference < min_loss * reference``; there the ratio of two small differences
    is dominated by training noise (values such as 7 or -0.8).

    Examples
    --------
    >>> from taafs_sk.analog.hardware import recovery_table
    >>> recovery_table(1.0, 1.5, 1.1)["recovery"]
    0.8
    >>> recovery_table(1.0, 1.001, 0.99)["recovery"]
    nan
    """

    def frac(target):
        if rmse_retrained is None or target is None:
            return float("nan")
        lost = rmse_degraded - target
        if not lost > min_loss * abs(target):
            return float("nan")
        return round(float((rmse_degraded - rmse_retrained) / lost), 12)

    return {
        "rmse_ideal": rmse_ideal, "rmse_degraded": rmse_degraded,
        "rmse_retrained": np.nan if rmse_retrained is None else rmse_retrained,
        "rmse_control": np.nan if rmse_control is None else rmse_control,
        "recovery": frac(rmse_ideal), "recovery_vs_control": frac(rmse_control),
    }


class HardwareNAFRegressor(InnerEstimatorMixin, RegressorMixin, BaseEstimator):
    """A regressor run on hardware activations: ideal, degraded, retrained and control models.

    Parameters
    ----------
    estimator : estimator
        The ideal model, trained with the nominal activation (for ``NAFDispersion(base='tanh')``
        e.g. ``TAAFSRegressor(basis='tanh')`` or ``MLPRegressor(activation='tanh')``); any
        estimator :func:`~taafs_sk.analog.as_torch_model` accepts. Cloned in :meth:`fit`.
    nafs : NAFDispersion or MeasuredNAF
        Source of the realised per-neuron shapes. A named ``NAFDispersion`` base must be the
        ideal model's activation (refused otherwise); ``base=None`` disperses the model's own
        fitted activations (a trainable TAAF, an ``AdditiveKernelNN``'s neurons), offsets
        relative to each neuron's output range on the training data.
    retrain : bool, default=True
        Retrain the weights on the realised shapes (``retrained_``); :meth:`predict` then uses
        the retrained model, otherwise the degraded one.
    retrain_epochs : int, default=100
        Retraining epochs (also used for the control).
    retrain_lr : float, default=1e-3
        Retraining learning rate (Adam).
    retrain_batch_size : int, default=64
        Retraining minibatch size.
    validation_fraction : float or None, default=0.1
        Fraction of the training rows held out during retraining (and the control run) to
        keep the weights of the best epoch; ``None`` keeps the last epoch.
    control : bool, default=True
        Also train a copy of the ideal network for the same epochs (``control_``), the fair
        reference for the recovery.
    random_state : int, RandomState instance or None, default=None
        Seeds the realised shapes and the retraining (the control sees the same minibatches).
    verbose : int, default=0
        Progress of the retraining and control runs: 0 silent, 1 skorch's epoch table, 2 the
        table and a progress bar.

    Attributes
    ----------
    ideal_ : estimator
        The fitted clone of ``estimator``.
    degraded_ : TorchModel
        The ideal network with the realised activations.
    retrained_ : TorchModel or None
        ``degraded_`` after retraining its weights.
    control_ : TorchModel or None
        The ideal network after the same extra training.
    retrain_loss_curve_, control_loss_curve_ : list of float or None
        Training loss per epoch of the two runs.
    n_features_in_ : int
        Number of features seen by ``ideal_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import HardwareNAFRegressor, NAFDispersion
    >>> X = np.random.RandomState(0).normal(size=(200, 3)); y = np.tanh(X).sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", max_iter=300,
    ...                    random_state=0)
    >>> hw = HardwareNAFRegressor(est, NAFDispersion("tanh", spread=0.1), retrain_epochs=20,
    ...                           random_state=0).fit(X, y)
    >>> sorted(hw.recovery_score(X, y))[:2]
    ['recovery', 'recovery_vs_control']
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "nafs": [HasMethods(["realize"])],
        "retrain": ["boolean"],
        "retrain_epochs": [Interval(Integral, 1, None, closed="left")],
        "retrain_lr": [Interval(Real, 0, None, closed="neither")],
        "retrain_batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "control": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _fitted_inner = "ideal_"

    def __init__(
        self, estimator, nafs, *, retrain=True, retrain_epochs=100, retrain_lr=1e-3,
        retrain_batch_size=64, validation_fraction=0.1, control=True, random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.nafs = nafs
        self.retrain = retrain
        self.retrain_epochs = retrain_epochs
        self.retrain_lr = retrain_lr
        self.retrain_batch_size = retrain_batch_size
        self.validation_fraction = validation_fraction
        self.control = control
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the ideal model, realise the NAFs, retrain, and train the control.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data of the ideal model, also used to retrain the weights and the control.
        y : array-like of shape (n_samples,)
            Target values.

        Returns
        -------
        self : HardwareNAFRegressor
        """
        check_supported(self.estimator, f"{type(self).__name__}: estimator")
        check_nafs(type(self).__name__, self.nafs)
        check_nominal(self.estimator, self.nafs, type(self).__name__)
        rng = check_random_state(self.random_state)
        naf_seed, train_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        self.ideal_ = clone(self.estimator).fit(X, y)
        base = as_torch_model(self.ideal_).copy()
        self.degraded_ = disperse_network(base, self.nafs, X, random_state=naf_seed)
        self.retrained_ = self.control_ = None
        self.retrain_loss_curve_ = self.control_loss_curve_ = None
        kwargs = dict(epochs=self.retrain_epochs, lr=self.retrain_lr,
                      batch_size=self.retrain_batch_size,
                      validation_fraction=self.validation_fraction, random_state=train_seed,
                      verbose=self.verbose)
        if self.retrain:
            self.retrained_ = self.degraded_.copy()
            self.retrain_loss_curve_ = retrain_weights(self.retrained_, X, y, **kwargs)
        if self.control:
            self.control_ = base.copy()
            self.control_loss_curve_ = retrain_weights(self.control_, X, y, **kwargs)
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions of the hardware model: retrained if ``retrain`` else degraded.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, as given to ``fit``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return (self.retrained_ if self.retrained_ is not None else self.degraded_).predict(X)

    def recovery_score(self, X, y) -> dict:
        """RMSEs of the four models on ``(X, y)`` and the recovery fractions.

        Returns
        -------
        scores : dict
            ``rmse_ideal``, ``rmse_degraded``, ``rmse_retrained``, ``rmse_control``,
            ``recovery = (degraded - retrained) / (degraded - ideal)`` and
            ``recovery_vs_control`` (the control in place of the ideal). NaN where a model
            was not trained or no RMSE was lost.
        """
        check_is_fitted(self)
        y = check_targets("HardwareNAFRegressor.recovery_score", "y", y,
                          len(self.degraded_.network_input(X)))
        models = (self.ideal_, self.degraded_, self.retrained_, self.control_)
        rmse = [None if m is None else float(root_mean_squared_error(y, m.predict(X)))
                for m in models]
        return recovery_table(*rmse)


def check_nominal(estimator, nafs, owner: str = "HardwareNAFRegressor") -> None:
    """Refuse an ideal model whose activation differs from the dispersed nominal one.

    A named ``NAFDispersion.base`` replaces every hidden activation by a dispersed copy of
    that base, which is only the hardware version of the model if the model was trained with
    it: a ``TAAFSRegressor`` with another (trainable) basis and an ``AdditiveKernelNN`` (whose
    neurons are fitted functions) are refused; ``base=None`` disperses the model's own shapes.
    """
    if not isinstance(nafs, NAFDispersion) or nafs.base is None:
        return
    inner = final_estimator(estimator)
    if isinstance(inner, MLPRegressor):
        nominal = SKLEARN_ACTIVATIONS.get(inner.activation, inner.activation)
    elif is_taafs(inner):
        nominal = inner.basis
    elif type(inner).__name__ == "AdditiveKernelNN":
        nominal = "the fitted AdditiveKernelNN neuron functions"
    else:
        return
    if nominal != nafs.base:
        raise ValueError(
            f"{owner}: the ideal model's activation {nominal!r} differs from the NAFs' "
            f"nominal base {nafs.base!r}; train the ideal model with base {nafs.base!r} (e.g. "
            f"TAAFSRegressor(basis={nafs.base!r})), or disperse the model's own activations "
            "with NAFDispersion(base=None, ...)."
        )
