"""The pre-activation range of every hidden neuron over the training rows, and the learned
activation shapes of a layer on a grid (for plots)."""

from __future__ import annotations

import numpy as np
import torch

from ..nn.activations import activation_grid

__all__ = ["layer_activations", "pre_activation_ranges"]

_CHUNK = 16384  # rows per forward pass


def pre_activation_ranges(module, X, previous=None) -> list[np.ndarray]:
    """Per hidden layer, ``(width, 2)`` min and max pre-activation of each neuron over ``X``."""
    param = next(module.parameters())
    lows, highs = None, None
    with torch.no_grad():
        for start in range(0, len(X), _CHUNK):
            xt = torch.as_tensor(np.asarray(X[start:start + _CHUNK]), dtype=param.dtype,
                                 device=param.device)
            zs = module.hidden_pre_activations(xt)
            lo, hi = [z.amin(0) for z in zs], [z.amax(0) for z in zs]
            lows = lo if lows is None else [torch.minimum(a, b) for a, b in zip(lows, lo,
                                                                                   strict=True)]
            highs = hi if highs is None else [torch.maximum(a, b) for a, b in zip(highs, hi,
                                                                                     strict=True)]
    ranges = [torch.stack([lo, hi], 1).cpu().double().numpy()
              for lo, hi in zip(lows, highs, strict=True)]
    if previous is not None and len(previous) == len(ranges):
        ranges = [np.stack([np.minimum(p[:, 0], r[:, 0]), np.maximum(p[:, 1], r[:, 1])], 1)
                  for p, r in zip(previous, ranges, strict=True)]
    return ranges


def layer_activations(module, layer: int, z=None) -> tuple[np.ndarray, np.ndarray]:
    """``(z, values)``: the activations of hidden ``layer`` of ``module`` on the grid ``z``
    (default: 201 points on ``[-3, 3]``), one column per distinct shape."""
    n_layers = len(module.activations)
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer must be in [0, {n_layers}), got {layer!r}.")
    z = np.linspace(-3.0, 3.0, 201) if z is None else np.asarray(z, dtype=float).ravel()
    return z, activation_grid(module.activations[layer], z)
