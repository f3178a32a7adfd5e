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
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ..nn.fixed import SKLEARN_ACTIVATIONS
from ._adapters import TorchModel, as_torch_model
from ._training import train_module, weight_parameters
from .naf import NAFDispersion

__all__ = ["HardwareNAFRegressor", "realize_network", "retrain_weights", "recovery_table"]


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
    rng = check_random_state(random_state)
    degraded = model.copy()
    for i, width in enumerate(degraded.mlp.hidden_layer_sizes):
        degraded.mlp.activations[i] = nafs.realize(width, random_state=rng).to(model.dtype)
    return degraded


def retrain_weights(
    model: TorchModel, X, y, *, epochs: int = 100, lr: float = 1e-3, batch_size: int = 64,
    validation_fraction: float | None = 0.1, random_state=None,
) -> list[float]:
    """Train ``model``'s affine weights in place, its activations held fixed.

    ``X`` and ``y`` are in the estimator's units (the model applies its own preprocessing and
    target scaling). With ``validation_fraction`` the weights of the epoch with the lowest
    validation loss are kept. Returns the training loss per epoch (network units).
    """
    curve = train_module(
        model.mlp, model.network_input(X), model.target_to_network(y),
        params=weight_parameters(model.mlp), epochs=epochs, lr=lr, batch_size=batch_size,
        validation_fraction=validation_fraction, random_state=random_state,
    )
    model.mlp.eval()
    return curve


def _rmse(pred, y) -> float:
    y = np.asarray(y, dtype=np.float64)
    return float(np.sqrt(np.mean((np.asarray(pred).reshape(y.shape) - y) ** 2)))


def recovery_table(rmse_ideal, rmse_degraded, rmse_retrained=None, rmse_control=None) -> dict:
    """Recovery fractions from RMSEs.

    ``recovery = (degraded - retrained) / (degraded - ideal)`` and ``recovery_vs_control`` the
    same with the control in place of the ideal model (NaN where undefined).
    """

    def frac(target):
        if rmse_retrained is None or target is None:
            return float("nan")
        lost = rmse_degraded - target
        return float((rmse_degraded - rmse_retrained) / lost) if lost != 0 else float("nan")

    return {
        "rmse_ideal": rmse_ideal, "rmse_degraded": rmse_degraded,
        "rmse_retrained": np.nan if rmse_retrained is None else rmse_retrained,
        "rmse_control": np.nan if rmse_control is None else rmse_control,
        "recovery": frac(rmse_ideal), "recovery_vs_control": frac(rmse_control),
    }


class HardwareNAFRegressor(RegressorMixin, BaseEstimator):
    """A regressor run on hardware activations: ideal, degraded, retrained and control models.

    Parameters
    ----------
    estimator : estimator
        The ideal model, trained with the nominal activation (for ``NAFDispersion(base='tanh')``
        e.g. ``TAAFSRegressor(basis='tanh')`` or ``MLPRegressor(activation='tanh')``); any
        estimator :func:`~taafs_sk.analog.as_torch_model` accepts. Cloned in :meth:`fit`.
    nafs : NAFDispersion or MeasuredNAF
        Source of the realised per-neuron shapes.
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
    }

    def __init__(
        self, estimator, nafs, *, retrain=True, retrain_epochs=100, retrain_lr=1e-3,
        retrain_batch_size=64, validation_fraction=0.1, control=True, random_state=None,
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

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the ideal model, realise the NAFs, retrain, and train the control.

        Returns
        -------
        self : HardwareNAFRegressor
        """
        _check_nominal(self.estimator, self.nafs)
        rng = check_random_state(self.random_state)
        naf_seed, train_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        self.ideal_ = clone(self.estimator).fit(X, y)
        base = as_torch_model(self.ideal_).copy()
        self.degraded_ = realize_network(base, self.nafs, random_state=naf_seed)
        self.retrained_ = self.control_ = None
        self.retrain_loss_curve_ = self.control_loss_curve_ = None
        kwargs = dict(epochs=self.retrain_epochs, lr=self.retrain_lr,
                      batch_size=self.retrain_batch_size,
                      validation_fraction=self.validation_fraction, random_state=train_seed)
        if self.retrain:
            self.retrained_ = self.degraded_.copy()
            self.retrain_loss_curve_ = retrain_weights(self.retrained_, X, y, **kwargs)
        if self.control:
            self.control_ = base.copy()
            self.control_loss_curve_ = retrain_weights(self.control_, X, y, **kwargs)
        return self

    @property
    def n_features_in_(self) -> int:
        try:
            check_is_fitted(self)
        except Exception as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute."
            ) from exc
        return self.ideal_.n_features_in_

    def predict(self, X) -> np.ndarray:
        """Predictions of the hardware model: retrained if ``retrain`` else degraded."""
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
        r = {name: None if m is None else _rmse(m.predict(X), y) for name, m in (
            ("ideal", self.ideal_), ("degraded", self.degraded_),
            ("retrained", self.retrained_), ("control", self.control_))}
        return recovery_table(r["ideal"], r["degraded"], r["retrained"], r["control"])

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self.estimator).input_tags
        tags.input_tags.sparse = False  # the torch network takes dense input
        tags.regressor_tags.poor_score = True
        return tags


def _check_nominal(estimator, nafs) -> None:
    """Refuse an ideal model whose activation differs from the dispersed nominal one."""
    if not isinstance(nafs, NAFDispersion):
        return
    inner = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if isinstance(inner, MLPRegressor):
        nominal = SKLEARN_ACTIVATIONS.get(inner.activation, inner.activation)
    elif type(inner).__name__ == "TAAFSRegressor":
        nominal = inner.basis
    else:
        return
    if nominal != nafs.base:
        raise ValueError(
            f"HardwareNAFRegressor: the ideal model's activation {nominal!r} differs from the "
            f"NAFs' nominal base {nafs.base!r}; train the ideal model with base "
            f"{nafs.base!r} (e.g. TAAFSRegressor(basis={nafs.base!r}))."
        )
