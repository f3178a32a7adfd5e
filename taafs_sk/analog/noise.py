"""Circuit noise: a calibrated Gaussian noise model, its forward hook and the noisy pass.

Noise levels are relative to each neuron's signal, measured on the training data through the
network's forward hook, so that "5 % noise" means the same thing for every basis and
architecture. All noise draws of a batch run in one vectorised forward pass: the network is
called once with ``x`` of shape ``(n_samples, n_features)`` and the hook turns the perturbed
site into ``(n_draws, n_samples, width)``; layers after it broadcast over the draws.

The meta-estimator that predicts through this pass is
:class:`~taafs_sk.analog.NoiseInjectedRegressor` (:mod:`taafs_sk.analog.injected`); the
level sweep is :func:`~taafs_sk.analog.noise_sweep` (:mod:`taafs_sk.analog.sweep`).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._validation import check_count
from .._validation._text import short
from ..nn.network import MLP
from ._adapters import TorchModel, torch_model_of
from ._checks import check_torch_model

__all__ = ["NoiseModel", "SITES", "noisy_draws"]

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
        model = torch_model_of(model, "NoiseModel.fit: model")
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
        n_draws = check_count("NoiseModel.make_hook: n_draws", n_draws)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"NoiseModel.make_hook: generator must be a torch.Generator or "
                            f"None, got {short(generator)} ({type(generator).__name__}).")
        if network is not None and not isinstance(network, MLP):
            raise TypeError(f"NoiseModel.make_hook: network must be the taafs_sk.nn.MLP the "
                            f"hook runs in, or None; got {short(network)} "
                            f"({type(network).__name__}).")
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


def noisy_draws(model: TorchModel, noise: NoiseModel, X, n_draws: int, seed: int,
                noiseless=None) -> np.ndarray:
    """Predictions in target units, ``(n_draws, n_samples[, n_outputs])``, under the fitted
    ``noise`` seeded by ``seed``; at level 0, ``noiseless(X)`` (the estimator's own predict)
    repeated, when given."""
    check_torch_model(model, "model", "noisy_draws")
    n_draws = check_count("noisy_draws: n_draws", n_draws)
    if noise.level == 0 and noiseless is not None:
        base = np.asarray(noiseless(X))
        return np.broadcast_to(base, (n_draws, *base.shape)).copy()
    hook = noise.make_hook(n_draws, torch.Generator().manual_seed(int(seed)), model.mlp)
    return model.to_target(_noisy_network_draws(model, hook, model.network_input(X), n_draws))




def __getattr__(name: str):
    # the meta-estimator and the sweep lived here until 0.2: old imports and pickles still load
    if name == "NoiseInjectedRegressor":
        from .injected import NoiseInjectedRegressor

        return NoiseInjectedRegressor
    if name == "noise_sweep":
        from .sweep import noise_sweep

        return noise_sweep
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
