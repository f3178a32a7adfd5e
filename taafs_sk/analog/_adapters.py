"""Reach every supported regressor as one torch model: an ``MLP`` plus an output affine map.

The analog wrappers (noise, hardware activation shapes) only need three things from a model:
a torch :class:`~taafs_sk.nn.network.MLP` they can call with a ``hook`` or whose activations
they can replace, the map from its output to the target units, and the numpy preprocessing
that turns user ``X`` into the network's input. :func:`as_torch_model` extracts them from

- a fitted :class:`~taafs_sk.TAAFSRegressor` (its ``module_`` itself, not a copy, so that
  training the torch model also trains the estimator),
- a fitted :class:`~taafs_sk.additive.estimator.AdditiveKernelNN` (through ``to_module()``),
- a fitted :class:`sklearn.neural_network.MLPRegressor` (weights copied into an ``MLP``),
- a fitted :class:`sklearn.pipeline.Pipeline` whose last step is one of those (the
  preceding steps are applied in numpy first).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn

from .._validation import check_finite_array
from .._validation._text import short
from ..nn.fixed import SKLEARN_ACTIVATIONS, fixed_activation
from ..nn.network import MLP, Hook, evaluate
from ..taafs import TAAFSRegressor

__all__ = ["TorchModel", "as_torch_model", "check_supported", "final_estimator", "is_taafs",
           "torch_model_of", "SUPPORTED_ESTIMATORS"]

SUPPORTED_ESTIMATORS = (
    "TAAFSRegressor",
    "AdditiveKernelNN",
    "sklearn.neural_network.MLPRegressor",
    "Pipeline ending in one of these",
)
# Elements per intermediate tensor in one forward pass before predict chunks over samples.
_CHUNK_ELEMENTS = 2**25


class TorchModel(nn.Module):
    """A fitted regressor seen as a torch network: ``y = mlp(transform(X)) * y_scale + y_mean``.

    Parameters
    ----------
    mlp : taafs_sk.nn.network.MLP
        The network (shared with the estimator where the estimator owns one).
    y_mean, y_scale : array-like of shape (n_outputs,)
        Output affine map from network units to target units.
    dtype : torch.dtype
        Dtype of the network's parameters; inputs are cast to it.
    transform : callable or None, default=None
        Numpy preprocessing applied to ``X`` before the network (a pipeline's transformers).
    ravel : bool, default=True
        Return 1-D predictions when there is one output.
    write_back : callable or None, default=None
        Copies the network's weights back into the estimator it came from (for estimators,
        such as ``MLPRegressor``, that do not predict through the network).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import as_torch_model
    >>> X = np.random.RandomState(0).normal(size=(50, 3)); y = X.sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y)
    >>> model = as_torch_model(est)
    >>> bool(np.allclose(model.predict(X), est.predict(X)))
    True
    """

    def __init__(
        self,
        mlp: MLP,
        y_mean,
        y_scale,
        dtype: torch.dtype,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        ravel: bool = True,
        write_back: Callable[[MLP], None] | None = None,
    ) -> None:
        super().__init__()
        _check_parts(mlp, y_mean, y_scale, dtype, transform, write_back)
        self.mlp = mlp
        self.dtype = dtype
        self.transform = transform
        self.ravel = ravel
        self.write_back = write_back
        self.owner = "TorchModel"  # name of the estimator it came from, for messages
        self.y_mean_np = np.ravel(np.asarray(y_mean, dtype=np.float64))
        self.y_scale_np = np.ravel(np.asarray(y_scale, dtype=np.float64))
        self.register_buffer("y_mean", torch.as_tensor(np.ravel(y_mean), dtype=dtype))
        self.register_buffer("y_scale", torch.as_tensor(np.ravel(y_scale), dtype=dtype))

    @property
    def hidden_layer_sizes(self) -> tuple[int, ...]:
        return self.mlp.hidden_layer_sizes

    def forward(self, x: torch.Tensor, hook: Hook | None = None) -> torch.Tensor:
        """Network output in target units, ``(..., n_outputs)``, for a floating tensor ``x``
        of shape ``(..., n_features)`` already preprocessed (:meth:`network_input`)."""
        n_in = self.mlp.in_features
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            got = f"dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"TorchModel.forward: x must be a floating torch.Tensor of shape "
                            f"(..., {n_in}), got {got}; for arrays use predict(X).")
        if x.dim() == 0 or x.shape[-1] != n_in:
            raise ValueError(f"TorchModel.forward: x must have shape (..., {n_in}), got "
                             f"{tuple(x.shape)}.")
        if hook is not None and not callable(hook):
            raise TypeError(f"TorchModel.forward: hook must be callable(site, layer, tensor) "
                            f"or None, got {short(hook)} ({type(hook).__name__}).")
        return self.mlp(x, hook) * self.y_scale + self.y_mean

    def network_input(self, X) -> np.ndarray:
        """``X`` after the numpy preprocessing, as a 2-D finite float array.

        Raises ``ValueError`` (sklearn's messages) for 1-D, sparse, non-finite input or a
        wrong number of features.
        """
        if self.transform is not None:
            X = self.transform(X)
            X = X.toarray() if sp.issparse(X) else X
        _check_samples(X, self.owner)
        X = check_array(X, dtype=np.float64, accept_sparse=False, input_name="X")
        n_in = self.mlp.in_features
        if X.shape[1] != n_in:
            raise ValueError(
                f"X has {X.shape[1]} features, but {self.owner} is expecting {n_in} features "
                "as input."
            )
        return X

    def as_tensor(self, X: np.ndarray) -> torch.Tensor:
        """``X`` (numbers, e.g. from :meth:`network_input`) as a tensor of the network's dtype
        on its device."""
        device = next(self.mlp.parameters()).device
        try:
            return torch.as_tensor(X, dtype=self.dtype, device=device)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"TorchModel.as_tensor: X must be an array of numbers, got "
                            f"{short(X)} ({type(X).__name__}): {exc}") from None

    def predict(self, X) -> np.ndarray:
        """Noiseless predictions in target units, like the estimator's ``predict``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, as given to ``fit``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        Xn = self.network_input(X)
        width = max((self.mlp.in_features, *self.mlp.hidden_layer_sizes))
        out = evaluate(self.mlp, Xn, max(1, _CHUNK_ELEMENTS // width))
        return self.to_target(out)

    def to_target(self, out: torch.Tensor | np.ndarray) -> np.ndarray:
        """Network output ``(..., n_outputs)`` to target units in float64 numpy (the affine map
        is applied in float64, as the estimators do), single output axis dropped if needed."""
        if isinstance(out, torch.Tensor):
            out = out.detach().cpu().double().numpy()
        out = _as_floats("TorchModel.to_target: out", out)
        n_out = self.mlp.out_features
        if out.ndim == 0 or out.shape[-1] != n_out:
            raise ValueError(f"TorchModel.to_target: out must have shape (..., {n_out}) (one "
                             f"column per network output), got {out.shape}.")
        pred = out * self.y_scale_np + self.y_mean_np
        return pred[..., 0] if (self.ravel and pred.shape[-1] == 1) else pred

    def target_to_network(self, y) -> np.ndarray:
        """Targets in the network's training units, ``(y - y_mean) / y_scale``, 2-D.

        ``y`` has shape ``(n_samples,)`` (one output) or ``(n_samples, n_outputs)``; a
        non-finite entry is a ``ValueError`` naming its row."""
        y2 = check_finite_array("TorchModel.target_to_network: y", y, ndim=(1, 2))
        y2 = y2.reshape(len(y2), -1)
        if y2.shape[1] != self.mlp.out_features:
            raise ValueError(f"TorchModel.target_to_network: y has {y2.shape[1]} column(s) but "
                             f"the network has {self.mlp.out_features} output(s).")
        return (y2 - self.y_mean_np) / self.y_scale_np

    def copy(self) -> TorchModel:
        """An independent deep copy (network and buffers), without the write-back link."""
        clone = copy.deepcopy(self)
        clone.write_back = None
        return clone


def _as_floats(name: str, values) -> np.ndarray:
    """``values`` as a float64 array (NaN allowed: a noisy pass may produce it), or a
    ``TypeError`` naming ``name``."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {short(values)} "
                        f"({type(values).__name__}): {exc}") from None


def _check_samples(X, owner: str) -> None:
    """Refuse inputs that are not 2-D or have no row, naming ``X`` (scikit-learn's
    ``check_array`` messages for these do not); sparse inputs go to ``check_array``."""
    if sp.issparse(X) or isinstance(X, (str, bytes)):
        return
    try:
        shape = np.asarray(X).shape  # through __array__ for array-likes
    except (TypeError, ValueError):  # ragged rows or no array form: check_array says so
        return
    if len(shape) != 2 or shape[0] == 0:
        raise ValueError(f"X must be a 2-D array (n_samples, n_features) with at least one "
                         f"row for {owner}, got shape {shape}. Reshape your data with "
                         "X.reshape(1, -1) for a single sample or X.reshape(-1, 1) for a "
                         "single feature.")


def _check_parts(mlp, y_mean, y_scale, dtype, transform, write_back) -> None:
    """Refuse what a :class:`TorchModel` cannot be made of (``TypeError`` / ``ValueError``
    naming the parameter and the value)."""
    if not isinstance(mlp, MLP):
        raise TypeError(f"TorchModel: mlp must be a taafs_sk.nn.MLP, got {short(mlp)} "
                        f"({type(mlp).__name__}); for a fitted estimator use as_torch_model.")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"TorchModel: dtype must be a floating torch.dtype, got {short(dtype)} "
                        f"({type(dtype).__name__}).")
    n_out = mlp.out_features
    for name, value in (("y_mean", y_mean), ("y_scale", y_scale)):
        arr = check_finite_array(f"TorchModel: {name}", np.ravel(value))
        if arr.size not in (1, n_out):
            raise ValueError(f"TorchModel: {name} must have one value per output "
                             f"({n_out}) or one for all, got {short(value)}.")
    for name, fn in (("transform", transform), ("write_back", write_back)):
        if fn is not None and not callable(fn):
            raise TypeError(f"TorchModel: {name} must be callable or None, got {short(fn)} "
                            f"({type(fn).__name__}).")


def as_torch_model(estimator) -> TorchModel:
    """Return the fitted ``estimator`` as a :class:`TorchModel`.

    Parameters
    ----------
    estimator : fitted estimator
        A ``TAAFSRegressor``, ``AdditiveKernelNN``, ``MLPRegressor``, a ``Pipeline`` ending in
        one of them, or a ``TorchModel`` (returned as is).

    Returns
    -------
    model : TorchModel
        For a ``TAAFSRegressor`` the network is the estimator's own ``module_``.

    Raises
    ------
    TypeError
        For any other type; the message lists the supported ones.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import as_torch_model
    >>> X = np.random.RandomState(0).normal(size=(40, 2)); y = X[:, 0]
    >>> est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=20).fit(X, y)
    >>> as_torch_model(est).hidden_layer_sizes
    (4,)
    """
    return torch_model_of(estimator, "as_torch_model: estimator")


def torch_model_of(estimator, name: str) -> TorchModel:
    """:func:`as_torch_model` for a function whose own parameter is ``name`` (e.g.
    ``"noise_sweep: estimator"``): its refusals name that parameter."""
    if isinstance(estimator, TorchModel):
        return estimator
    check_supported(estimator, name)
    model = _convert(estimator, name)
    model.owner = type(estimator).__name__
    return model


def check_supported(estimator, name: str) -> None:
    """Refuse, before any fitting, an estimator (or a pipeline's last step) that
    :func:`as_torch_model` cannot convert, naming ``name``."""
    from ..additive import AdditiveKernelNN  # lazily: the kernel machinery is only needed here

    inner = final_estimator(estimator)
    if not isinstance(inner, (MLPRegressor, TAAFSRegressor, AdditiveKernelNN, TorchModel)):
        raise TypeError(
            f"{name} is a {type(estimator).__name__} ({short(estimator)}), which "
            f"as_torch_model does not support; supported: {', '.join(SUPPORTED_ESTIMATORS)}.")
    if isinstance(inner, MLPRegressor) and inner.activation not in SKLEARN_ACTIVATIONS:
        raise TypeError(
            f"{name}: MLPRegressor activation {inner.activation!r} is not supported; use one "
            f"of {sorted(SKLEARN_ACTIVATIONS)}.")


def _convert(estimator, name: str) -> TorchModel:
    if isinstance(estimator, Pipeline):
        model = torch_model_of(final_estimator(estimator), name)
        head = estimator[:-1]
        model.transform = _Compose(head.transform, model.transform)
        return model
    if isinstance(estimator, MLPRegressor):
        return _from_sklearn_mlp(estimator)
    if isinstance(estimator, TAAFSRegressor):
        check_is_fitted(estimator)
        return TorchModel(
            estimator.module_, estimator.y_mean_, estimator.y_scale_, estimator.dtype_,
            ravel=getattr(estimator, "_y_ndim", 1) == 1,
        )
    from ..additive import AdditiveKernelNN  # lazily: the kernel machinery is only needed here

    if isinstance(estimator, AdditiveKernelNN):
        check_is_fitted(estimator)
        mlp = estimator.to_module()
        return TorchModel(mlp, [0.0], [1.0], next(mlp.parameters()).dtype)
    raise TypeError(f"{name}: unsupported {type(estimator).__name__}")  # check_supported


def final_estimator(estimator):
    """The last step of a ``Pipeline``, or ``estimator`` itself."""
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def is_taafs(estimator) -> bool:
    """Whether ``estimator`` (or a pipeline's last step) is a ``TAAFSRegressor``: the one
    supported model whose torch network is the estimator's own (trained in place)."""
    return isinstance(final_estimator(estimator), TAAFSRegressor)


def _from_sklearn_mlp(est: MLPRegressor) -> TorchModel:
    check_is_fitted(est)
    name = SKLEARN_ACTIVATIONS[est.activation]
    hidden = tuple(c.shape[1] for c in est.coefs_[:-1])
    n_in, n_out = est.coefs_[0].shape[0], est.coefs_[-1].shape[1]
    mlp = MLP(n_in, hidden, n_out, lambda i, n: fixed_activation(name))
    mlp = mlp.to(torch.float64)
    layers = [*mlp.hidden, mlp.output]
    with torch.no_grad():
        for layer, W, b in zip(layers, est.coefs_, est.intercepts_, strict=True):
            layer.weight.copy_(torch.as_tensor(W.T))
            layer.bias.copy_(torch.as_tensor(b))

    n_out = est.coefs_[-1].shape[1]
    return TorchModel(
        mlp, np.zeros(n_out), np.ones(n_out), torch.float64,
        ravel=n_out == 1, write_back=_SklearnWriteBack(est),
    )


class _Compose:
    """Picklable ``X -> second(first(X))`` (``second`` may be None)."""

    def __init__(self, first, second) -> None:
        self.first, self.second = first, second

    def __call__(self, X):
        X = self.first(X)
        return X if self.second is None else self.second(X)


class _SklearnWriteBack:
    """Picklable copy of a network's weights back into an ``MLPRegressor``."""

    def __init__(self, estimator: MLPRegressor) -> None:
        self.estimator = estimator

    def __call__(self, net: MLP) -> None:
        for i, layer in enumerate([*net.hidden, net.output]):
            self.estimator.coefs_[i] = layer.weight.detach().cpu().double().numpy().T.copy()
            self.estimator.intercepts_[i] = layer.bias.detach().cpu().double().numpy().copy()
