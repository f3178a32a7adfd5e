"""Per-neuron activation functions given as tables, evaluated by vectorised interpolation."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from .._validation import check_finite_array

__all__ = ["TabulatedActivation"]


def _check_tables(
    grid: ArrayLike, values: ArrayLike, derivatives: ArrayLike | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(grid, values, derivatives)`` as contiguous tensors of shape ``(N, G)`` (derivatives
    may be None), or a ValueError saying which table is wrong."""
    for name, table in (("grid", grid), ("values", values), ("derivatives", derivatives)):
        if table is not None:
            check_finite_array(name, table)
    values = torch.as_tensor(np.asarray(values))
    if values.dim() != 2 or values.shape[1] < 2:
        raise ValueError(
            "TabulatedActivation: values must have shape (n_neurons, n_grid) with "
            f"n_grid >= 2; got shape {tuple(values.shape)}."
        )
    grid = torch.as_tensor(np.asarray(grid), dtype=values.dtype)
    grid = grid.expand(values.shape).contiguous()  # (N, G)
    if grid.shape != values.shape or bool((grid.diff(dim=1) <= 0).any()):
        raise ValueError(
            "TabulatedActivation: grid must be strictly increasing with n_grid "
            f"= values.shape[1] = {values.shape[1]} points; got shape {tuple(grid.shape)}."
        )
    if derivatives is not None:
        derivatives = torch.as_tensor(np.asarray(derivatives), dtype=values.dtype)
        if derivatives.shape != values.shape:
            raise ValueError(
                "TabulatedActivation: derivatives must have the shape of values "
                f"{tuple(values.shape)}; got {tuple(derivatives.shape)}."
            )
        derivatives = derivatives.contiguous()
    return grid, values.contiguous(), derivatives


class TabulatedActivation(nn.Module):
    r"""Elementwise activation whose shape for each neuron is a table of values.

    Neuron ``n`` maps its input ``x`` through the curve through ``(grid[n, g], values[n, g])``.
    With ``derivatives`` the curve is the cubic Hermite interpolant

    .. math::
        \phi(x) = h_{00}(t)\, v_g + h_{10}(t)\, \Delta\, v'_g + h_{01}(t)\, v_{g+1}
                 + h_{11}(t)\, \Delta\, v'_{g+1}, \qquad t = \frac{x - x_g}{\Delta},

    (fourth-order accurate), without them the piecewise-linear one. Outside the grid the
    curve continues as a straight line with the end slope (``extrapolation="linear"``) or
    stays at the end value (``extrapolation="clamp"``). The table is held in buffers, so
    it follows ``.to(dtype)`` and is not trained.

    Parameters
    ----------
    grid : array-like of shape (n_grid,) or (n_neurons, n_grid)
        Increasing abscissae, shared by all neurons or one row per neuron.
    values : array-like of shape (n_neurons, n_grid)
        Function values at the grid points. ``n_neurons=1`` applies one curve to every input.
    derivatives : array-like of shape (n_neurons, n_grid), default=None
        Slopes at the grid points; selects cubic Hermite interpolation.
    extrapolation : {'linear', 'clamp'}, default='linear'
        Behaviour outside ``[grid[0], grid[-1]]``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from taafs_sk.nn.tabulated import TabulatedActivation
    >>> g = np.linspace(-1, 1, 5)
    >>> act = TabulatedActivation(g, np.stack([g**2, 2 * g]), np.stack([2 * g, 2 + 0 * g]))
    >>> act(torch.tensor([[0.5, 0.5], [3.0, -2.0]], dtype=torch.float64))
    tensor([[ 0.2500,  1.0000],
            [ 5.0000, -4.0000]], dtype=torch.float64)
    """

    def __init__(
        self,
        grid: np.ndarray | torch.Tensor,
        values: np.ndarray | torch.Tensor,
        derivatives: np.ndarray | torch.Tensor | None = None,
        *,
        extrapolation: str = "linear",
    ) -> None:
        super().__init__()
        grid, values, derivatives = _check_tables(grid, values, derivatives)
        if extrapolation not in ("linear", "clamp"):
            raise ValueError(
                "TabulatedActivation: extrapolation must be 'linear' or 'clamp'; "
                f"got {extrapolation!r}."
            )
        self.extrapolation = extrapolation
        self.register_buffer("grid", grid)  # (N, G)
        self.register_buffer("values", values)  # (N, G)
        self.register_buffer("derivatives", derivatives)  # (N, G) or None

    @property
    def n_neurons(self) -> int:
        return self.values.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"TabulatedActivation: x must be a torch.Tensor, got "
                            f"{type(x).__name__}.")
        n = self.n_neurons
        if n > 1 and x.shape[-1] != n:
            raise ValueError(
                f"TabulatedActivation holds {n} neurons but the input's last axis has "
                f"{x.shape[-1]} entries."
            )
        xt = x.reshape(-1, n).T  # (N, B)
        g0, g1 = self.grid[:, :1], self.grid[:, -1:]
        inside = xt.clamp(g0, g1)
        idx = torch.searchsorted(self.grid, inside.contiguous(), right=True) - 1
        idx = idx.clamp(0, self.grid.shape[1] - 2)  # (N, B)
        x0 = self.grid.gather(1, idx)
        h = self.grid.gather(1, idx + 1) - x0
        v0, v1 = self.values.gather(1, idx), self.values.gather(1, idx + 1)
        if self.derivatives is None:
            slope = (v1 - v0) / h
            src = inside if self.extrapolation == "clamp" else xt
            out = v0 + slope * (src - x0)
        else:
            t = (inside - x0) / h
            d0, d1 = self.derivatives.gather(1, idx), self.derivatives.gather(1, idx + 1)
            t2, t3 = t * t, t * t * t
            out = (
                (2 * t3 - 3 * t2 + 1) * v0
                + (t3 - 2 * t2 + t) * h * d0
                + (3 * t2 - 2 * t3) * v1
                + (t3 - t2) * h * d1
            )
            if self.extrapolation == "linear":
                below, above = xt < g0, xt > g1
                out = out + torch.where(below, self.derivatives[:, :1] * (xt - g0), 0.0)
                out = out + torch.where(above, self.derivatives[:, -1:] * (xt - g1), 0.0)
        return out.T.reshape(x.shape)

    def extra_repr(self) -> str:
        kind = "linear" if self.derivatives is None else "cubic Hermite"
        return (
            f"n_neurons={self.n_neurons}, n_grid={self.grid.shape[1]}, {kind}, "
            f"extrapolation={self.extrapolation!r}"
        )
