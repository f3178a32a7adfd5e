"""NoiseInjectedRegressor: a fitted regressor evaluated as a noisy analog circuit would.

The noise model, its hook and the vectorised noisy pass are in :mod:`taafs_sk.analog.noise`;
noise-aware training runs through the package's skorch set-up (:mod:`._training`).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._validation import check_count
from ._adapters import as_torch_model, check_supported, is_taafs
from ._base import InnerEstimatorMixin
from ._training import train_model
from .noise import NoiseModel, noisy_draws

__all__ = ["NoiseInjectedRegressor"]


class NoiseInjectedRegressor(InnerEstimatorMixin, RegressorMixin, BaseEstimator):
    """A regressor evaluated as a noisy analog circuit would evaluate it.

    Fits a clone of ``estimator`` (optionally fine-tuned with noise in the forward pass),
    calibrates ``noise`` on the training inputs, and predicts with noise injected.

    Parameters
    ----------
    estimator : estimator
        A ``TAAFSRegressor``, ``AdditiveKernelNN``, ``MLPRegressor`` or a ``Pipeline`` ending in
        one (see :func:`~taafs_sk.analog.as_torch_model`). Cloned in :meth:`fit`.
    noise : NoiseModel, default=None
        The evaluation noise; ``None`` means ``NoiseModel()`` (5 % additive post-activation
        noise relative to each neuron's range). Cloned and calibrated in :meth:`fit`.
    n_draws : int, default=32
        Draws per :meth:`predict_draws` call and for ``predict_mode='mean'``.
    predict_mode : {'single', 'mean'}, default='single'
        ``'single'``: each :meth:`predict` call is one noisy pass (as a circuit evaluates);
        ``'mean'``: the mean over ``n_draws`` passes.
    train_noise : NoiseModel, default=None
        When set, noise-aware training: after the ordinary fit, all network parameters are
        fine-tuned for ``train_epochs`` epochs with this noise injected in every forward pass
        (one draw per step), then the evaluation noise is calibrated on the fine-tuned network.
        The fine-tuning trains the torch network through the same skorch set-up as
        ``TAAFSRegressor`` (divergence raises :class:`~taafs_sk.exceptions.TrainingDivergedError`),
        so it works for every estimator whose network can be updated: ``TAAFSRegressor`` and
        ``MLPRegressor``.
    train_epochs : int, default=50
        Fine-tuning epochs for noise-aware training.
    train_lr : float, default=1e-3
        Fine-tuning learning rate (Adam).
    train_batch_size : int, default=64
        Fine-tuning minibatch size.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise draws and the fine-tuning.
    verbose : int, default=0
        Progress of the noise-aware fine-tuning: 0 silent, 1 skorch's epoch table, 2 the table
        and a progress bar.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    model_ : TorchModel
        ``estimator_`` as a torch network.
    noise_ : NoiseModel
        The calibrated evaluation noise.
    train_loss_curve_ : list of float or None
        Noise-aware fine-tuning loss per epoch.
    n_features_in_ : int
        Number of features seen by ``estimator_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import NoiseInjectedRegressor, NoiseModel
    >>> X = np.random.RandomState(0).normal(size=(100, 3)); y = X.sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=100, random_state=0)
    >>> noisy = NoiseInjectedRegressor(est, NoiseModel(0.05), n_draws=16, random_state=0)
    >>> noisy.fit(X, y).predict_draws(X[:5]).shape
    (16, 5)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "noise": [HasMethods(["fit", "make_hook"]), None],
        "n_draws": [Interval(Integral, 1, None, closed="left")],
        "predict_mode": [StrOptions({"single", "mean"})],
        "train_noise": [HasMethods(["fit", "make_hook"]), None],
        "train_epochs": [Interval(Integral, 1, None, closed="left")],
        "train_lr": [Interval(Real, 0, None, closed="neither")],
        "train_batch_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self, estimator, noise=None, *, n_draws=32, predict_mode="single", train_noise=None,
        train_epochs=50, train_lr=1e-3, train_batch_size=64, random_state=None, verbose=0,
    ):
        self.estimator = estimator
        self.noise = noise
        self.n_draws = n_draws
        self.predict_mode = predict_mode
        self.train_noise = train_noise
        self.train_epochs = train_epochs
        self.train_lr = train_lr
        self.train_batch_size = train_batch_size
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the estimator (noise-aware if ``train_noise``) and calibrate the noise.

        With ``train_noise``, the fitted network is then fine-tuned with that noise in every
        training step, before the evaluation noise is calibrated on it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            What ``estimator`` is fitted on; the noise scales are calibrated on it too.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        Returns
        -------
        self : NoiseInjectedRegressor
        """
        check_supported(self.estimator, "NoiseInjectedRegressor: estimator")
        rng = check_random_state(self.random_state)
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.model_ = as_torch_model(self.estimator_)
        self.train_loss_curve_ = None
        if self.train_noise is not None:
            self._fit_noise_aware(X, y, rng)
        self.noise_ = clone(self.noise if self.noise is not None else NoiseModel())
        self.noise_.fit(self.model_, X)
        self._rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        return self

    def _fit_noise_aware(self, X, y, rng) -> None:
        shared = is_taafs(self.estimator_)
        if not shared and self.model_.write_back is None:
            raise ValueError(
                "NoiseInjectedRegressor: train_noise needs an estimator whose network can be "
                f"updated (TAAFSRegressor or MLPRegressor), got {type(self.estimator_).__name__}"
                "; set train_noise=None."
            )
        train_noise = clone(self.train_noise).fit(self.model_, X)
        self.train_loss_curve_ = train_model(
            self.model_, X, y, epochs=self.train_epochs, lr=self.train_lr,
            batch_size=self.train_batch_size, random_state=rng, verbose=self.verbose,
            hook_factory=lambda gen: train_noise.make_hook(1, gen),
            divergence_hint="lower `train_lr`",
        )
        if not shared:
            self.model_.write_back(self.model_.mlp)

    def predict_draws(self, X, n_draws: int | None = None, random_state=None) -> np.ndarray:
        """Noisy predictions, all draws in one vectorised forward pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_draws : int, default=None
            Number of draws; ``None`` uses ``self.n_draws``.
        random_state : int or None, default=None
            Seed for these draws; ``None`` continues the estimator's own noise stream.

        Returns
        -------
        draws : ndarray of shape (n_draws, n_samples) or (n_draws, n_samples, n_outputs)
            At ``level=0`` every draw equals ``estimator_.predict(X)`` exactly.
        """
        check_is_fitted(self)
        n = self.n_draws if n_draws is None else check_count(
            "NoiseInjectedRegressor.predict_draws: n_draws", n_draws)
        seed = (self._rng.randint(np.iinfo(np.int32).max) if random_state is None
                else check_random_state(random_state).randint(np.iinfo(np.int32).max))
        return noisy_draws(self.model_, self.noise_, X, n, seed, self.estimator_.predict)

    def predict(self, X) -> np.ndarray:
        """One noisy pass (``predict_mode='single'``) or the mean over ``n_draws`` passes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, as given to ``fit``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        if self.predict_mode == "mean":
            return self.predict_draws(X).mean(axis=0)
        return self.predict_draws(X, n_draws=1)[0]

    @available_if(lambda self: hasattr(self.estimator, "activation_functions"))
    def activation_functions(self, *args, **kwargs):
        """The fitted estimator's ``activation_functions`` (when it has them)."""
        check_is_fitted(self)
        return self.estimator_.activation_functions(*args, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags
