"""Torch multilayer perceptron built from layer sizes and an activation factory.

The network knows nothing of skorch or scikit-learn. It exposes one extension point for
analog-hardware effects: ``forward(x, hook=...)`` calls ``hook(site, layer, tensor)`` at
each place where a circuit would perturb the signal, and uses what the hook returns.

Sites (``layer`` is the 0-based index of the hidden layer, or ``-1`` for the output):

``"inputs"``           the input features, shape ``(..., in_features)``
``"weights"``          a weight matrix ``(out, in)``; the hook may return ``(n_draws, out, in)``
``"pre_activation"``   the weighted sums entering a hidden layer's activations
``"post_activation"``  the outputs of a hidden layer's activations
``"output"``           the network output, shape ``(..., out_features)``

Every site accepts leading batch dimensions, so ``x`` of shape ``(n_draws, n_samples, in)``
evaluates all noise draws of a batch in one vectorised pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._validation import check_count, check_finite_array, check_real
from .checks import check_torch_module

Hook = Callable[[str, int, torch.Tensor], torch.Tensor]
ActivationFactory = Callable[[int, int], nn.Module]

__all__ = ["MLP", "Hook", "ActivationFactory", "evaluate"]


def _layer_sizes(hidden_layer_sizes: object) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints, or a TypeError / ValueError naming it.

    Examples
    --------
    >>> from taafs_sk.nn.network import _layer_sizes
    >>> _layer_sizes((64, 32))
    [64, 32]
    >>> _layer_sizes(64)
    Traceback (most recent call last):
    ...
    TypeError: hidden_layer_sizes must be a sequence of integers such as (64, 64), got 64 (int).
    """
    if isinstance(hidden_layer_sizes, (str, bytes)) or not isinstance(hidden_layer_sizes,
                                                                      Iterable):
        raise TypeError("hidden_layer_sizes must be a sequence of integers such as (64, 64), "
                        f"got {hidden_layer_sizes!r} ({type(hidden_layer_sizes).__name__}).")
    return [check_count("hidden_layer_sizes", h) for h in hidden_layer_sizes]


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``x @ weight.T + bias`` where ``weight`` may carry a leading draws dimension."""
    if weight.dim() == 2:
        return F.linear(x, weight, bias)
    # weight: (n_draws, out, in); x: (n_draws, n, in) or (n, in) -> (n_draws, n, out)
    out = torch.matmul(x, weight.transpose(-1, -2))
    if bias is not None:
        out = out + (bias.unsqueeze(-2) if bias.dim() == 2 else bias)
    return out


def _activation(factory: ActivationFactory, layer: int, width: int) -> nn.Module:
    """The factory's activation of hidden layer ``layer``, or a TypeError saying what it gave."""
    act = factory(layer, width)
    if not isinstance(act, nn.Module):
        raise TypeError(f"activation_factory of MLP must return an nn.Module, got {act!r} "
                        f"({type(act).__name__}) for layer {layer} (width {width}); return a "
                        "module (nn.Tanh() rather than torch.tanh).")
    return act


class MLP(nn.Module):
    """Fully connected network ``in -> hidden_layer_sizes -> out`` with pluggable activations.

    Parameters
    ----------
    in_features : int
        Number of input features.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; may be empty (a linear model).
    out_features : int
        Number of outputs.
    activation_factory : callable ``(layer_index, n_features) -> nn.Module``
        Builds the activation of each hidden layer. Returning the same module object for
        several layers shares its parameters between them.
    skip_connection : bool, default=False
        Add a linear path ``x -> out`` (no bias) to the network output. On nearly additive
        targets this gives the network the linear model for free, and the hidden layers fit
        the residual.
    dropout : float, default=0.0
        Probability of zeroing each hidden activation output during training (inverted
        dropout, :func:`torch.nn.functional.dropout`); nothing is dropped in ``eval()``
        mode, so predictions are deterministic.

    Attributes
    ----------
    hidden : nn.ModuleList of nn.Linear
        The hidden layers' affine maps.
    activations : nn.ModuleList
        One activation module per hidden layer (possibly the same object repeated).
    output : nn.Linear
        The output layer.
    skip : nn.Linear or None
        The linear skip path.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.network import MLP
    >>> net = MLP(3, (8, 8), 1, lambda i, n: torch.nn.Tanh())
    >>> net(torch.zeros(5, 3)).shape
    torch.Size([5, 1])
    """

    def __init__(
        self,
        in_features: int,
        hidden_layer_sizes: Sequence[int],
        out_features: int,
        activation_factory: ActivationFactory,
        *,
        skip_connection: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        dropout = check_real("dropout", dropout, minimum=0.0, maximum=1.0,
                             include_maximum=False)
        self.dropout = float(dropout)
        if not callable(activation_factory):
            raise TypeError("activation_factory must be callable(layer_index, width) -> "
                            f"nn.Module, got {activation_factory!r}.")
        sizes = [check_count("in_features", in_features), *_layer_sizes(hidden_layer_sizes)]
        self.in_features = sizes[0]
        self.out_features = check_count("out_features", out_features)
        self.hidden_layer_sizes = tuple(sizes[1:])
        self.hidden = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.activations = nn.ModuleList(
            _activation(activation_factory, i, width) for i, width in enumerate(sizes[1:])
        )
        self.output = nn.Linear(sizes[-1], self.out_features)
        self.skip = nn.Linear(sizes[0], self.out_features, bias=False) if skip_connection else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)

    def _check_x(self, x: object) -> None:
        """Refuse an input that is not a tensor of ``in_features`` columns (O(1): shape only)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x of MLP must be a torch.Tensor, got {type(x).__name__}.")
        if x.dim() == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"x of MLP has shape {tuple(x.shape)}, but its last axis must "
                             f"have in_features={self.in_features} entries.")

    def forward(self, x: torch.Tensor, hook: Hook | None = None) -> torch.Tensor:
        """Evaluate the network; ``hook`` (see the module docstring) perturbs each site.

        Raises ``TypeError`` for an ``x`` that is not a tensor or a ``hook`` that is not
        callable, ``ValueError`` for an ``x`` whose last axis is not ``in_features`` wide.
        """
        self._check_x(x)
        if hook is None:
            return self._forward_plain(x)
        if not callable(hook):
            raise TypeError("hook of MLP.forward must be callable(site, layer, tensor) or "
                            f"None, got {hook!r} ({type(hook).__name__}).")
        x = hook("inputs", 0, x)
        h = x
        for i, (layer, act) in enumerate(zip(self.hidden, self.activations, strict=True)):
            z = _linear(h, hook("weights", i, layer.weight), layer.bias)
            h = self._drop(hook("post_activation", i, act(hook("pre_activation", i, z))))
        out = _linear(h, hook("weights", -1, self.output.weight), self.output.bias)
        if self.skip is not None:
            out = out + _linear(x, hook("weights", -2, self.skip.weight), None)
        return hook("output", -1, out)

    def _forward_plain(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for layer, act in zip(self.hidden, self.activations, strict=True):
            h = self._drop(act(layer(h)))
        out = self.output(h)
        if self.skip is not None:
            out = out + self.skip(x)
        return out

    def _drop(self, h: torch.Tensor) -> torch.Tensor:
        if self.dropout == 0.0 or not self.training:
            return h
        return F.dropout(h, self.dropout, training=True)

    def __setstate__(self, state: dict) -> None:
        state.setdefault("dropout", 0.0)  # modules pickled before dropout existed
        super().__setstate__(state)

    def hidden_pre_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Weighted sums entering each hidden layer, for signal-range statistics and plots."""
        self._check_x(x)
        zs = []
        h = x
        for layer, act in zip(self.hidden, self.activations, strict=True):
            z = layer(h)
            zs.append(z)
            h = act(z)
        return zs


def _checked_rows(module: object, X: object) -> np.ndarray | torch.Tensor:
    """``X`` of :func:`evaluate` checked against ``module`` (a copy only to read a list)."""
    check_torch_module("module", module)
    if not torch.is_tensor(X) and (not isinstance(X, np.ndarray) or X.dtype.kind not in "biuf"):
        X = check_finite_array("X", X, ndim=2, min_rows=0)
    n_in = getattr(module, "in_features", None)
    if X.ndim != 2 or (isinstance(n_in, int) and X.shape[1] != n_in):
        raise ValueError(f"X of evaluate must have shape (n_samples, {n_in or 'n_features'}), "
                         f"got {tuple(X.shape)}.")
    finite = torch.isfinite(X).all() if isinstance(X, torch.Tensor) else np.isfinite(X).all()
    if not finite:  # the first bad entry is looked for only on the way to the error
        check_finite_array("X", X.detach().cpu().numpy() if torch.is_tensor(X) else X,
                           min_rows=0)
    return X


def evaluate(module: nn.Module, X: np.ndarray, chunk_rows: int = 16384) -> np.ndarray:
    """Noiseless output of ``module`` on the rows of ``X``, as a float64 numpy array.

    On the CPU the module is evaluated as a float64 copy, so that a row's output does not
    depend on the other rows of the call (float32 matrix kernels vary with the batch size);
    on other devices it runs in its own dtype. Rows go through in chunks of ``chunk_rows``.

    Raises ``TypeError`` for a ``module`` that is not a torch module, ``ValueError`` for an
    ``X`` that is not 2-D, has another width than the module's ``in_features`` or holds a
    non-finite value (named with its row), or a ``chunk_rows`` below 1.
    """
    X = _checked_rows(module, X)
    chunk_rows = check_count("chunk_rows", chunk_rows)
    device = next(module.parameters()).device
    if device.type == "cpu":
        module = copy.deepcopy(module).to(torch.float64)
    dtype = next(module.parameters()).dtype
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            parts = [
                module(torch.as_tensor(X[i : i + chunk_rows], dtype=dtype, device=device))
                .cpu().double().numpy()
                for i in range(0, max(len(X), 1), chunk_rows)
            ]
    finally:
        module.train(was_training)
    return np.concatenate(parts, axis=0)
