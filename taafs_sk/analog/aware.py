"""Dispersion-aware training: one set of weights for every chip a process produces.

Per-chip retraining (:class:`~taafs_sk.analog.HardwareNAFRegressor`) needs each chip's
activation shapes measured and a fit per chip. Here the network is instead trained while every
minibatch (or every epoch) sees a fresh random realisation of every neuron's shape
(:class:`~taafs_sk.analog.shapes.RandomShapes`), optionally with circuit noise at the same
time, so that the weights work on average over the process's chips. The training runs through
the package's one skorch loop (:func:`taafs_sk.analog._training.train_model`).
"""

from __future__ import annotations

import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from .._validation import check_choice
from ..nn.fixed import FIXED
from ._adapters import TorchModel, as_torch_model, check_supported
from ._base import InnerEstimatorMixin
from ._checks import check_nafs, check_torch_model, check_training
from ._training import train_model
from .hardware import check_nominal
from .naf import DispersedActivation, MeasuredNAF, NAFDispersion
from .shapes import RandomShapes, _spans_for, activation_spans, disperse_network

__all__ = ["DispersionAwareRegressor", "train_dispersion_aware"]


class _ResampleEachEpoch(Callback):
    """Draw new shapes for every layer at the start of each epoch."""

    def __init__(self, layers) -> None:
        self.layers = layers

    def on_epoch_begin(self, net, **kwargs) -> None:
        for layer in self.layers:
            layer.resample()


def _check_fixed_nominal(model: TorchModel, nafs) -> None:
    if not isinstance(nafs, NAFDispersion) or nafs.base is None:
        return
    nominal = FIXED[nafs.base].module
    for i, act in enumerate(model.mlp.activations):
        if not isinstance(act, (nominal, DispersedActivation)):
            raise ValueError(
                f"train_dispersion_aware: hidden layer {i} has activation "
                f"{type(act).__name__}, not the NAFs' nominal base {nafs.base!r}; use "
                "NAFDispersion(base=None) to disperse the model's own activations."
            )


def _check_training_args(model: TorchModel, nafs, resample: str, epochs: int, lr: float,
                         batch_size: int) -> dict:
    """Refuse what :func:`train_dispersion_aware` cannot train on; return the training options
    (``epochs``, ``lr``, ``batch_size``) checked."""
    check_torch_model(model, "model", "train_dispersion_aware")
    check_choice("train_dispersion_aware: resample", resample, ["batch", "epoch"])
    check_nafs("train_dispersion_aware", nafs, measured_pool=True)
    if isinstance(nafs, MeasuredNAF) and nafs.assignment != "sample":
        raise ValueError(
            "train_dispersion_aware: a MeasuredNAF pool is drawn from with replacement at every "
            f"step; got assignment={nafs.assignment!r}, which fixes one curve per neuron (use "
            "assignment='sample', or HardwareNAFRegressor to retrain on that one chip)."
        )
    options = check_training("train_dispersion_aware", epochs=epochs, lr=lr,
                             batch_size=batch_size)
    _check_fixed_nominal(model, nafs)
    return options


def train_dispersion_aware(
    model: TorchModel, X, y, nafs, *, noise=None, resample: str = "batch", epochs: int = 100,
    lr: float = 1e-3, batch_size: int = 64, spans=None, random_state=None, verbose: int = 0,
) -> list[float]:
    """Train all of ``model``'s parameters in place on random realisations of its shapes.

    Parameters
    ----------
    model : TorchModel
        The nominal network (e.g. ``as_torch_model(fitted).copy()``); trained in place, its
        activations are the nominal ones again afterwards.
    X, y : array-like
        Training data in the estimator's units.
    nafs : NAFDispersion or MeasuredNAF
        Source of the shapes: a dispersion of the nominal activation (``base=None``: of the
        model's own activations), or a pool of measured curves drawn with replacement
        (``MeasuredNAF(assignment='sample')``; ``'per_neuron'`` is refused).
    noise : NoiseModel, default=None
        Circuit noise injected in the same training steps (one draw per step), calibrated on
        the nominal network on ``X`` first.
    resample : {'batch', 'epoch'}, default='batch'
        Draw new shapes for every minibatch, or once per epoch.
    epochs : int, default=100
        Epochs; all are run and the last weights kept (a validation loss on random shapes
        would only be noise).
    lr : float, default=1e-3
        Adam learning rate.
    batch_size : int, default=64
        Minibatch size.
    spans : list of array-like, default=None
        Offset scales for ``NAFDispersion(base=None)`` (:func:`activation_spans` on ``X`` by
        default).
    random_state : int, RandomState instance or None, default=None
        Seeds the shapes (a ``torch.Generator`` stream) and the minibatch order.
    verbose : int, default=0
        0 silent, 1 skorch's epoch table, 2 the table and a progress bar.

    Returns
    -------
    loss_curve : list of float
        Training loss per epoch (network units, on the random shapes).
    """
    options = _check_training_args(model, nafs, resample, epochs, lr, batch_size)
    rng = check_random_state(random_state)
    shape_seed, train_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
    hook_factory = None
    if noise is not None:
        fitted_noise = clone(noise).fit(model, X)
        hook_factory = lambda gen: fitted_noise.make_hook(1, gen)  # noqa: E731
    mlp = model.mlp
    widths = mlp.hidden_layer_sizes
    layer_spans = (_spans_for(nafs, model, X, spans, "train_dispersion_aware")
                   if isinstance(nafs, NAFDispersion) else [None] * len(widths))
    generator = torch.Generator().manual_seed(shape_seed)
    originals = list(mlp.activations)
    wrappers = [RandomShapes(act, nafs, w, s, generator, per_batch=resample == "batch",
                             dtype=model.dtype)
                for act, w, s in zip(originals, widths, layer_spans, strict=True)]
    callbacks = [("resample_shapes", _ResampleEachEpoch(wrappers))] if resample == "epoch" \
        else None
    try:
        for i, wrapper in enumerate(wrappers):
            mlp.activations[i] = wrapper
        return train_model(
            model, X, y, **options, validation_fraction=None,
            hook_factory=hook_factory, random_state=train_seed, verbose=verbose,
            callbacks=callbacks, divergence_hint="lower `train_lr`",
        )
    finally:
        for i, act in enumerate(originals):
            mlp.activations[i] = act


class DispersionAwareRegressor(InnerEstimatorMixin, RegressorMixin, BaseEstimator):
    """One network for every chip: weights trained on random hardware activation shapes.

    Fits a clone of ``estimator`` (the ideal model), then trains a copy of its network for
    ``train_epochs`` epochs with a fresh realisation of every neuron's activation shape in each
    minibatch (``resample='batch'``) or epoch, optionally with circuit ``noise`` in the same
    steps. The control is the ideal network trained for the same epochs on the same minibatches
    with its nominal shapes, so that the gain of dispersion-aware training is not confused with
    the gain of training longer. Evaluate on unseen chips with
    :func:`~taafs_sk.analog.evaluate_on_chips`.

    Parameters
    ----------
    estimator : estimator
        The ideal model: ``TAAFSRegressor`` (a fixed basis such as ``'tanh'``, or a trainable
        one with ``NAFDispersion(base=None)``), ``MLPRegressor``, ``AdditiveKernelNN`` (with
        ``base=None``), or a ``Pipeline`` ending in one. Cloned in :meth:`fit`.
    nafs : NAFDispersion or MeasuredNAF
        The process: a named base must be the ideal model's activation (refused otherwise);
        ``base=None`` disperses the model's own fitted activations (TAAFs included).
    noise : NoiseModel, default=None
        Circuit noise injected during the dispersion-aware training as well.
    resample : {'batch', 'epoch'}, default='batch'
        How often new shapes are drawn.
    train_epochs : int, default=100
        Dispersion-aware epochs (and the control's).
    train_lr : float, default=1e-3
        Adam learning rate.
    train_batch_size : int, default=64
        Minibatch size.
    control : bool, default=True
        Also train the equal-epochs control (``control_``).
    random_state : int, RandomState instance or None, default=None
        Seeds the training shapes (a torch generator stream, never a chip seed of
        :func:`~taafs_sk.analog.evaluate_on_chips`) and the minibatch order.
    verbose : int, default=0
        0 silent, 1 skorch's epoch table, 2 the table and a progress bar.

    Attributes
    ----------
    ideal_ : estimator
        The fitted clone of ``estimator``.
    ideal_model_ : TorchModel
        A copy of its network.
    model_ : TorchModel
        The dispersion-aware network (nominal activations; :meth:`chip` realises one chip).
    control_ : TorchModel or None
        The equal-epochs control.
    spans_ : list of torch.Tensor or None
        Per-neuron output ranges on the training data (``base=None``).
    train_loss_curve_, control_loss_curve_ : list of float or None
        Training loss per epoch.
    train_time_, control_time_ : float or None
        Wall time of the two runs (seconds).
    n_features_in_ : int
        Number of features seen by ``ideal_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import DispersionAwareRegressor, NAFDispersion
    >>> X = np.random.RandomState(0).normal(size=(200, 3)); y = np.tanh(X).sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", max_iter=300,
    ...                    random_state=0)
    >>> aware = DispersionAwareRegressor(est, NAFDispersion("tanh", spread=0.1),
    ...                                  train_epochs=5, random_state=0).fit(X, y)
    >>> aware.chip(random_state=1).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "nafs": [HasMethods(["realize"])],
        "noise": [HasMethods(["fit", "make_hook"]), None],
        "resample": [StrOptions({"batch", "epoch"})],
        "train_epochs": [Interval(Integral, 1, None, closed="left")],
        "train_lr": [Interval(Real, 0, None, closed="neither")],
        "train_batch_size": [Interval(Integral, 1, None, closed="left")],
        "control": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _fitted_inner = "ideal_"

    def __init__(
        self, estimator, nafs, *, noise=None, resample="batch", train_epochs=100,
        train_lr=1e-3, train_batch_size=64, control=True, random_state=None, verbose=0,
    ):
        self.estimator = estimator
        self.nafs = nafs
        self.noise = noise
        self.resample = resample
        self.train_epochs = train_epochs
        self.train_lr = train_lr
        self.train_batch_size = train_batch_size
        self.control = control
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the ideal model, train the dispersion-aware copy and the control.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        Returns
        -------
        self : DispersionAwareRegressor
        """
        check_supported(self.estimator, f"{type(self).__name__}: estimator")
        check_nafs(type(self).__name__, self.nafs)
        check_nominal(self.estimator, self.nafs, type(self).__name__)
        rng = check_random_state(self.random_state)
        train_seed = int(rng.randint(np.iinfo(np.int32).max))
        self.ideal_ = clone(self.estimator).fit(X, y)
        self.ideal_model_ = as_torch_model(self.ideal_).copy()
        self.spans_ = None
        if isinstance(self.nafs, NAFDispersion) and self.nafs.base is None:
            self.spans_ = activation_spans(self.ideal_model_, X)
        kwargs = dict(epochs=self.train_epochs, lr=self.train_lr,
                      batch_size=self.train_batch_size, random_state=train_seed,
                      verbose=self.verbose)
        self.model_ = self.ideal_model_.copy()
        start = time.perf_counter()
        self.train_loss_curve_ = train_dispersion_aware(
            self.model_, X, y, self.nafs, noise=self.noise, resample=self.resample,
            spans=self.spans_, **kwargs)
        self.train_time_ = time.perf_counter() - start
        self.control_ = self.control_loss_curve_ = self.control_time_ = None
        if self.control:
            self.control_ = self.ideal_model_.copy()
            start = time.perf_counter()
            # same minibatch order: train_model draws its seed first from the same stream
            self.control_loss_curve_ = train_model(
                self.control_, X, y, epochs=self.train_epochs, lr=self.train_lr,
                batch_size=self.train_batch_size, validation_fraction=None,
                random_state=_train_seed_of(train_seed), verbose=self.verbose,
                divergence_hint="lower `train_lr`")
            self.control_time_ = time.perf_counter() - start
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions of the dispersion-aware weights on the nominal activation shapes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self.model_.predict(X)

    def chip(self, random_state=None, model: str = "aware") -> TorchModel:
        """One chip of the process running ``model``'s weights.

        Parameters
        ----------
        random_state : int, RandomState instance or None, default=None
            The chip's seed.
        model : {'aware', 'ideal', 'control'}, default='aware'
            Whose weights the chip runs.

        Returns
        -------
        chip : TorchModel
        """
        check_is_fitted(self)
        nets = {"aware": self.model_, "ideal": self.ideal_model_, "control": self.control_}
        if nets.get(model) is None:
            raise ValueError(f"DispersionAwareRegressor.chip: model must be one of "
                             f"{[k for k, v in nets.items() if v is not None]}; got {model!r}.")
        return disperse_network(nets[model], self.nafs, spans=self.spans_,
                                random_state=random_state)


def _train_seed_of(seed: int) -> int:
    """The minibatch seed ``train_dispersion_aware`` derives from ``random_state=seed``."""
    return int(check_random_state(seed).randint(np.iinfo(np.int32).max, size=2)[1])
