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

__all__ = ["TorchModel", "as_torch_model", "final_estimator", "is_taafs", "SUPPORTED_ESTIMATORS"]

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
        """Network output in target units, ``(..., n_outputs)``."""
        return self.mlp(x, hook) * self.y_scale + self.y_mean

    def network_input(self, X) -> np.ndarray:
        """``X`` after the numpy preprocessing, as a 2-D finite float array.

        Raises ``ValueError`` (sklearn's messages) for 1-D, sparse, non-finite input or a
        wrong number of features.
        """
        if self.transform is not None:
            X = self.transform(X)
            X = X.toarray() if sp.issparse(X) else X
        X = check_array(X, dtype=np.float64, accept_sparse=False, input_name="X")
        n_in = self.mlp.in_features
        if X.shape[1] != n_in:
            raise ValueError(
                f"X has {X.shape[1]} features, but {self.owner} is expecting {n_in} features "
                "as input."
            )
        return X

    def as_tensor(self, X: np.ndarray) -> torch.Tensor:
        device = next(self.mlp.parameters()).device
        return torch.as_tensor(X, dtype=self.dtype, device=device)

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
        pred = out * self.y_scale_np + self.y_mean_np
        return pred[..., 0] if (self.ravel and pred.shape[-1] == 1) else pred

    def target_to_network(self, y) -> np.ndarray:
        """Targets in the network's training units, ``(y - y_mean) / y_scale``, 2-D."""
        y2 = np.asarray(y, dtype=np.float64)
        y2 = y2.reshape(len(y2), -1)
        return (y2 - self.y_mean_np) / self.y_scale_np

    def copy(self) -> TorchModel:
        """An independent deep copy (network and buffers), without the write-back link."""
        clone = copy.deepcopy(self)
        clone.write_back = None
        return clone


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
    if isinstance(estimator, TorchModel):
        return estimator
    model = _convert(estimator)
    model.owner = type(estimator).__name__
    return model


def _convert(estimator) -> TorchModel:
    if isinstance(estimator, Pipeline):
        model = as_torch_model(final_estimator(estimator))
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
    raise TypeError(
        f"as_torch_model: estimator must be one of {', '.join(SUPPORTED_ESTIMATORS)} (fitted); "
        f"got {short(estimator)} ({type(estimator).__name__}), which it does not support."
    )


def final_estimator(estimator):
    """The last step of a ``Pipeline``, or ``estimator`` itself."""
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def is_taafs(estimator) -> bool:
    """Whether ``estimator`` (or a pipeline's last step) is a ``TAAFSRegressor``: the one
    supported model whose torch network is the estimator's own (trained in place)."""
    return isinstance(final_estimator(estimator), TAAFSRegressor)


def _from_sklearn_mlp(est: MLPRegressor) -> TorchModel:
    check_is_fitted(est)
    if est.activation not in SKLEARN_ACTIVATIONS:
        raise TypeError(
            f"as_torch_model: MLPRegressor activation {est.activation!r} is not supported; "
            f"use one of {sorted(SKLEARN_ACTIVATIONS)}."
        )
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
