"""Circuit noise: a calibrated Gaussian noise model, a noisy meta-estimator and a level sweep.

Noise levels are relative to each neuron's signal, measured on the training data through the
network's forward hook, so that "5 % noise" means the same thing for every basis and
architecture. All noise draws of a batch run in one vectorised forward pass: the network is
called once with ``x`` of shape ``(n_samples, n_features)`` and the hook turns the perturbed
site into ``(n_draws, n_samples, width)``; layers after it broadcast over the draws.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._adapters import TorchModel, as_torch_model

__all__ = ["NoiseModel", "NoiseInjectedRegressor", "noise_sweep", "SITES"]

SITES = ("inputs", "weights", "pre_activation", "post_activation", "output")
# Elements of the largest (n_draws, chunk, width) tensor before draws chunk over samples.
_DRAW_ELEMENTS = 2**20  # ~4 MiB in float32: chunks stay in cache
_CALIB_ROWS = 8192


class NoiseModel(BaseEstimator):
    r"""Gaussian circuit noise at one place in the network, relative to the signal it hits.

    With :math:`\varepsilon \sim \mathcal N(0, 1)` drawn independently per draw, sample and
    neuron, a signal :math:`s` of neuron :math:`j` becomes

    .. math::

        s + \ell\, r_j\, \varepsilon \quad (\text{additive}), \qquad
        s\,(1 + \ell\, \varepsilon) \quad (\text{multiplicative}),

    where :math:`\ell` is ``level`` and :math:`r_j` the reference scale of neuron :math:`j`
    (``scale``) measured by :meth:`fit` on training data. Weight noise is drawn once per draw
    (one circuit realisation) and shared by all samples of that draw; its reference scale is
    the range (or std) of each output neuron's incoming weights.

    Parameters
    ----------
    level : float, default=0.05
        Noise level (0.05 = 5 % of the reference scale).
    kind : {'additive', 'multiplicative'}, default='additive'
        Multiplicative noise is relative to the signal itself; ``scale`` is then unused.
    where : {'post_activation', 'pre_activation', 'weights', 'inputs', 'output'}, \
            default='post_activation'
        The perturbed site (every hidden layer for the activation sites, every weight matrix
        for ``'weights'``).
    scale : {'range', 'std', 'absolute'}, default='range'
        Reference scale per neuron: its max - min or standard deviation over the calibration
        data, or 1 (``level`` in absolute network units).
    random_state : int, RandomState instance or None, default=None
        Seeds :meth:`make_hook` when it is given no generator.

    Attributes
    ----------
    scales_ : dict of int to torch.Tensor
        Reference scale of every perturbed layer, keyed by the hook's layer index; each
        broadcasts against the signal (``(width,)``, or ``(out, 1)`` for weights).
    n_calibration_samples_ : int
        Number of rows used to measure the scales.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import NoiseModel
    >>> X = np.random.RandomState(0).normal(size=(100, 3)); y = X.sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y)
    >>> noise = NoiseModel(0.05).fit(est, X)
    >>> noise.scales_[0].shape
    torch.Size([8])
    """

    _parameter_constraints: dict = {
        "level": [Interval(Real, 0, None, closed="left")],
        "kind": [StrOptions({"additive", "multiplicative"})],
        "where": [StrOptions(set(SITES))],
        "scale": [StrOptions({"range", "std", "absolute"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self, level=0.05, *, kind="additive", where="post_activation", scale="range",
        random_state=None,
    ):
        self.level = level
        self.kind = kind
        self.where = where
        self.scale = scale
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, model, X, y=None):
        """Measure the reference scale of every perturbed signal on ``X``.

        Parameters
        ----------
        model : fitted estimator or TorchModel
            Anything :func:`~taafs_sk.analog.as_torch_model` accepts.
        X : array-like of shape (n_samples, n_features)
            Calibration data (the training inputs), as the estimator takes them.
        y : None
            Ignored.

        Returns
        -------
        self : NoiseModel
        """
        model = as_torch_model(model)
        Xn = model.network_input(X)
        stats: dict[int, list[torch.Tensor]] = {}

        def record(site, layer, t):
            if site == self.where:
                flat = t.detach().reshape(-1, t.shape[-1]).double()
                if site == "weights":  # statistics over each output neuron's inputs
                    flat = t.detach().double().T
                new = [flat.amin(0), flat.amax(0), flat.sum(0), (flat**2).sum(0),
                       torch.tensor(float(flat.shape[0]), dtype=torch.float64)]
                old = stats.get(layer)
                stats[layer] = new if old is None or site == "weights" else [
                    torch.minimum(old[0], new[0]), torch.maximum(old[1], new[1]),
                    old[2] + new[2], old[3] + new[3], old[4] + new[4]]
            return t

        with torch.no_grad():
            for i in range(0, len(Xn), _CALIB_ROWS):
                model.mlp(model.as_tensor(Xn[i : i + _CALIB_ROWS]), record)
        self.scales_ = {
            layer: self._reference(s).to(model.dtype).reshape(
                (-1, 1) if self.where == "weights" else (-1,))
            for layer, s in stats.items()
        }
        self.n_calibration_samples_ = len(Xn)
        return self

    def _reference(self, s: list[torch.Tensor]) -> torch.Tensor:
        lo, hi, total, total_sq, count = s
        if self.scale == "range":
            return hi - lo
        if self.scale == "std":
            mean = total / count
            return torch.sqrt(torch.clamp(total_sq / count - mean**2, min=0.0))
        return torch.ones_like(lo)

    def make_hook(self, n_draws: int, generator: torch.Generator | None = None,
                  network: torch.nn.Module | None = None):
        r"""A network hook that adds ``n_draws`` independent noise draws at ``where``.

        Parameters
        ----------
        n_draws : int
            Number of draws; the perturbed signal gains a leading axis of this length.
        generator : torch.Generator, default=None
            Source of the noise; by default one seeded from ``random_state``.
        network : MLP, default=None
            The network the hook will run in. When given, post-activation noise of the last
            hidden layer is carried through the linear output layer exactly: it reaches the
            output as one Gaussian per output (covariance :math:`W \operatorname{diag}(
            \ell^2 r^2) W^\top`, or per sample :math:`\ell^2 W \operatorname{diag}(h^2)
            W^\top` for multiplicative noise on one output) instead of one per neuron. The
            predictions have the same distribution; only the random stream differs.

        Returns
        -------
        hook : callable ``(site, layer, tensor) -> tensor``
        """
        check_is_fitted(self)
        if generator is None:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            generator = torch.Generator().manual_seed(int(seed))
        return _NoiseHook(self, int(n_draws), generator, network)


class _NoiseHook:
    """Callable hook for one batch of draws; caches weight noise so that every sample chunk
    of one call sees the same circuit realisation."""

    def __init__(self, noise: NoiseModel, n_draws: int, generator: torch.Generator,
                 network: torch.nn.Module | None = None) -> None:
        self.noise, self.n_draws, self.generator = noise, n_draws, generator
        self._weight_eps: dict[int, torch.Tensor] = {}
        self._last, self._w_out, self._h_last = None, None, None
        n_hidden = len(getattr(network, "hidden_layer_sizes", ()))
        w_out = None if network is None else network.output.weight.detach()
        if (noise.where == "post_activation" and noise.level > 0 and n_hidden > 0
                and (noise.kind == "additive" or w_out.shape[0] == 1)):
            self._last, self._w_out = n_hidden - 1, w_out
            if noise.kind == "additive":  # output noise = L @ xi with L L^T = W diag(s^2) W^T
                w = w_out.double() * (noise.level * noise.scales_[n_hidden - 1].double())
                vals, vecs = torch.linalg.eigh(w @ w.T)
                self._out_factor = (vecs * vals.clamp(min=0).sqrt()).to(w_out.dtype)

    def _eps(self, shape, like: torch.Tensor) -> torch.Tensor:
        eps = torch.empty(shape, dtype=like.dtype).normal_(generator=self.generator)
        return eps.to(like.device)

    def _draws_shape(self, t: torch.Tensor) -> tuple[int, ...]:
        # a 2-D signal has no draws axis yet: the noise adds it
        return (self.n_draws, *t.shape) if t.dim() == 2 else tuple(t.shape)

    def _collapsed_output_noise(self, out: torch.Tensor) -> torch.Tensor:
        xi = self._eps(self._draws_shape(out), out)
        if self.noise.kind == "additive":
            return torch.matmul(xi, self._out_factor.to(out.device).T).add_(out)
        # multiplicative, one output: std_i = level * sqrt(sum_j w_j^2 h_ij^2)
        std = torch.sqrt((self._h_last**2) @ (self._w_out.T.to(out.device) ** 2))
        return xi.mul_(std.mul_(self.noise.level)).add_(out)

    def __call__(self, site: str, layer: int, t: torch.Tensor) -> torch.Tensor:
        nm = self.noise
        if self._last is not None:
            if site == "post_activation" and layer == self._last:
                self._h_last = t if nm.kind == "multiplicative" else None
                return t
            if site == "output":
                return self._collapsed_output_noise(t)
        if site != nm.where or nm.level == 0:
            return t
        if site == "weights":
            if layer not in self._weight_eps:
                self._weight_eps[layer] = self._eps((self.n_draws, *t.shape), t)
            eps = self._weight_eps[layer].clone()
        else:
            eps = self._eps(self._draws_shape(t), t)
        # eps is a fresh buffer: scale it in place (one large allocation per site)
        if nm.kind == "multiplicative":
            return eps.mul_(nm.level).add_(1.0).mul_(t)
        return eps.mul_(nm.level * nm.scales_[layer]).add_(t)


def _noisy_network_draws(
    model: TorchModel, hook, Xn: np.ndarray, n_draws: int
) -> torch.Tensor:
    """Network outputs ``(n_draws, n_samples, n_outputs)`` under ``hook``, chunked over
    samples only when one pass would exceed the memory budget."""
    width = max((model.mlp.in_features, *model.mlp.hidden_layer_sizes, 1))
    step = max(1, _DRAW_ELEMENTS // (n_draws * width))
    parts = []
    with torch.no_grad():
        for i in range(0, max(len(Xn), 1), step):
            out = model.mlp(model.as_tensor(Xn[i : i + step]), hook)
            parts.append(out.expand(n_draws, *out.shape[-2:]))
    return torch.cat(parts, dim=1)


def _draws(model: TorchModel, noise: NoiseModel, X, n_draws: int, seed: int,
           noiseless=None) -> np.ndarray:
    """Predictions in target units, ``(n_draws, n_samples[, n_outputs])``."""
    if noise.level == 0 and noiseless is not None:
        base = np.asarray(noiseless(X))
        return np.broadcast_to(base, (n_draws, *base.shape)).copy()
    hook = noise.make_hook(n_draws, torch.Generator().manual_seed(int(seed)), model.mlp)
    return model.to_target(_noisy_network_draws(model, hook, model.network_input(X), n_draws))


def _rmse_per_draw(draws: np.ndarray, y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64).reshape(draws.shape[1:])
    err = (draws - y).reshape(len(draws), -1)
    return np.sqrt(np.mean(err**2, axis=1))


class NoiseInjectedRegressor(RegressorMixin, BaseEstimator):
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
        This path trains the torch network directly (not through skorch), so it works for every
        estimator whose network can be updated: ``TAAFSRegressor`` and ``MLPRegressor``.
    train_epochs : int, default=50
        Fine-tuning epochs for noise-aware training.
    train_lr : float, default=1e-3
        Fine-tuning learning rate (Adam).
    train_batch_size : int, default=64
        Fine-tuning minibatch size.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise draws and the fine-tuning.

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
    }

    def __init__(
        self, estimator, noise=None, *, n_draws=32, predict_mode="single", train_noise=None,
        train_epochs=50, train_lr=1e-3, train_batch_size=64, random_state=None,
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

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the estimator (noise-aware if ``train_noise``) and calibrate the noise.

        Returns
        -------
        self : NoiseInjectedRegressor
        """
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
        from ._training import train_module

        shared = _is_taafs(self.estimator_)
        if not shared and self.model_.write_back is None:
            raise ValueError(
                "NoiseInjectedRegressor: train_noise needs an estimator whose network can be "
                f"updated (TAAFSRegressor or MLPRegressor), got {type(self.estimator_).__name__}"
                "; set train_noise=None."
            )
        train_noise = clone(self.train_noise).fit(self.model_, X)
        self.train_loss_curve_ = train_module(
            self.model_.mlp, self.model_.network_input(X), self.model_.target_to_network(y),
            epochs=self.train_epochs, lr=self.train_lr, batch_size=self.train_batch_size,
            random_state=rng, hook_factory=lambda gen: train_noise.make_hook(1, gen),
        )
        self.model_.mlp.eval()
        if not shared:
            self.model_.write_back(self.model_.mlp)

    @property
    def n_features_in_(self) -> int:
        try:
            check_is_fitted(self)
        except Exception as exc:  # NotFittedError -> AttributeError, as sklearn does
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute."
            ) from exc
        return self.estimator_.n_features_in_

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
        n = self.n_draws if n_draws is None else int(n_draws)
        seed = (self._rng.randint(np.iinfo(np.int32).max) if random_state is None
                else check_random_state(random_state).randint(np.iinfo(np.int32).max))
        return _draws(self.model_, self.noise_, X, n, seed, self.estimator_.predict)

    def predict(self, X) -> np.ndarray:
        """One noisy pass (``predict_mode='single'``) or the mean over ``n_draws`` passes."""
        if self.predict_mode == "mean":
            return self.predict_draws(X).mean(axis=0)
        return self.predict_draws(X, n_draws=1)[0]

    @available_if(lambda self: hasattr(self.estimator, "activation_functions"))
    def activation_functions(self, *args, **kwargs):
        """The fitted estimator's ``activation_functions`` (when it has them)."""
        check_is_fitted(self)
        return self.estimator_.activation_functions(*args, **kwargs)

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.input_tags.sparse = False  # the torch network takes dense input
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.regressor_tags.poor_score = True
        tags.non_deterministic = True
        return tags


def _is_taafs(estimator) -> bool:
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return type(estimator).__name__ == "TAAFSRegressor" and hasattr(estimator, "module_")


def noise_sweep(
    estimator, X, y, levels, noise=None, n_draws=32, X_calib=None, random_state=0
) -> pd.DataFrame:
    """Test error of a fitted regressor under noise, level by level.

    Parameters
    ----------
    estimator : fitted estimator
        Anything :func:`~taafs_sk.analog.as_torch_model` accepts, or a fitted
        :class:`NoiseInjectedRegressor` (its ``estimator_`` and, if ``noise`` is None, its
        ``noise``).
    X, y : array-like
        Evaluation data.
    levels : sequence of float
        Noise levels (0 gives the noiseless estimator exactly).
    noise : NoiseModel, default=None
        Kind, site and scale of the noise (its ``level`` is overridden); ``NoiseModel()``
        by default.
    n_draws : int, default=32
        Draws per level.
    X_calib : array-like, default=None
        Data the noise scales are measured on (pass the training inputs); ``X`` if None.
    random_state : int, default=0
        Seeds the draws; the same value reproduces the table.

    Returns
    -------
    table : pandas.DataFrame
        One row per level: ``level, kind, where, scale, n_draws, rmse_noiseless, rmse_mean,
        rmse_std, rmse_p5, rmse_p50, rmse_p95, rmse_ratio`` (``rmse_mean / rmse_noiseless``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import noise_sweep
    >>> X = np.random.RandomState(0).normal(size=(200, 3)); y = X.sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y)
    >>> table = noise_sweep(est, X, y, levels=[0, 0.05, 0.2], n_draws=8)
    >>> bool(table["rmse_mean"].is_monotonic_increasing)
    True
    """
    if isinstance(estimator, NoiseInjectedRegressor):
        check_is_fitted(estimator)
        noise = estimator.noise if noise is None else noise
        estimator = estimator.estimator_
    model = as_torch_model(estimator)
    nm = clone(noise if noise is not None else NoiseModel())
    nm.fit(model, X if X_calib is None else X_calib)
    seeds = np.random.SeedSequence(random_state).generate_state(len(levels))
    base = np.asarray(estimator.predict(X))
    rmse0 = float(_rmse_per_draw(base[None], y)[0])
    rows = []
    for level, seed in zip(levels, seeds, strict=True):
        nm.set_params(level=float(level))
        rmse = _rmse_per_draw(_draws(model, nm, X, n_draws, seed, estimator.predict), y)
        p5, p50, p95 = np.percentile(rmse, [5, 50, 95])
        rows.append({
            "level": float(level), "kind": nm.kind, "where": nm.where, "scale": nm.scale,
            "n_draws": int(n_draws), "rmse_noiseless": rmse0, "rmse_mean": rmse.mean(),
            "rmse_std": rmse.std(ddof=1) if len(rmse) > 1 else 0.0, "rmse_p5": p5,
            "rmse_p50": p50, "rmse_p95": p95, "rmse_ratio": rmse.mean() / rmse0,
        })
    return pd.DataFrame(rows)
