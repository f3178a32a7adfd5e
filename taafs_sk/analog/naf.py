"""Hardware neuron activation functions (NAFs): per-neuron shapes as a circuit realises them.

Two sources of realised shapes:

- :class:`NAFDispersion`: a nominal activation whose gain, shift, output scale and offset
  scatter from neuron to neuron (device-parameter dispersion), drawn at random;
- :class:`MeasuredNAF`: transfer curves measured on devices, interpolated monotonically.

Both have ``realize(n_neurons) -> nn.Module``: an elementwise module (last axis = neurons,
any leading dimensions) holding the per-neuron shapes in buffers, so that it replaces an
``MLP`` activation and is never trained.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from torch import nn

from .._validation import check_choice, check_count, check_real
from ..nn.fixed import FIXED, fixed_activation
from ..nn.tabulated import TabulatedActivation
from ._checks import check_neuron_input, check_shape_params

__all__ = ["NAFDispersion", "DispersedActivation", "MeasuredNAF", "pchip_slopes", "BASES"]

# Nominal activations that a hardware shape can be dispersed around, with their output span.
BASES: dict[str, float] = {name: f.span for name, f in FIXED.items() if f.span is not None}
_PARAMS = ("gain", "shift", "scale", "offset")


class DispersedActivation(nn.Module):
    r"""Per-neuron activation :math:`f_n(z) = a_n\, g(k_n (z - s_n)) + b_n`.

    Parameters
    ----------
    base : str
        Name of the nominal activation :math:`g` (a key of ``BASES``).
    gain, shift, scale, offset : array-like of shape (n_neurons,)
        :math:`k_n, s_n, a_n, b_n`, stored as buffers.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.analog.naf import DispersedActivation
    >>> act = DispersedActivation("tanh", [1.0, 2.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.5])
    >>> act(torch.zeros(3, 2))[0]
    tensor([0.0000, 0.5000])
    """

    def __init__(self, base: str, gain, shift, scale, offset) -> None:
        super().__init__()
        self.base = check_choice("DispersedActivation: base", base, sorted(FIXED))
        self._fn = fixed_activation(base)
        params = check_shape_params("DispersedActivation", gain=gain, shift=shift, scale=scale,
                                    offset=offset)
        for name, value in params.items():
            self.register_buffer(name, torch.as_tensor(value.astype(np.float32)))

    @property
    def n_neurons(self) -> int:
        return self.gain.shape[0]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # z: (..., n_neurons); parameters (n_neurons,) broadcast along the last axis
        check_neuron_input("DispersedActivation", z, self.gain.shape[0])
        return self.scale * self._fn(self.gain * (z - self.shift)) + self.offset

    def extra_repr(self) -> str:
        return f"base={self.base!r}, n_neurons={self.n_neurons}"


class NAFDispersion(BaseEstimator):
    r"""Random per-neuron dispersion of a nominal activation's shape.

    Neuron :math:`n` gets :math:`f_n(z) = a_n\, g(k_n (z - s_n)) + b_n` with

    .. math::

        k_n = 1 + \sigma \varepsilon_1, \quad s_n = \sigma \varepsilon_2, \quad
        a_n = 1 + \sigma \varepsilon_3, \quad b_n = \sigma\, \Delta_g\, \varepsilon_4,

    :math:`\varepsilon_i \sim \mathcal N(0, 1)`, :math:`\sigma` = ``spread`` and
    :math:`\Delta_g` the span of the nominal output (1 for ``sigmoid``, 2 for ``tanh``). Gain
    and scale are thus relative to their nominal 1, the shift relative to the unit input scale
    of :math:`g`, the offset relative to its output span. Parameters not listed in ``params``
    stay nominal; ``spread=0`` reproduces :math:`g` exactly.

    Parameters
    ----------
    base : {'sigmoid', 'tanh', 'relu', 'softplus', 'silu', 'gelu', 'elu'} or None, \
default='sigmoid'
        Nominal activation (train the ideal model with the same one). ``None``: the nominal
        shape of each neuron is the model's own fitted activation (a TAAF, an
        ``AdditiveKernelNN`` neuron), dispersed in place by
        :func:`~taafs_sk.analog.disperse_network`; :math:`\Delta_g` is then each neuron's
        output range on the training data. :meth:`realize` needs a named base.
    spread : float, default=0.05
        Relative spread :math:`\sigma`.
    params : tuple of {'gain', 'shift', 'scale', 'offset'}, default=all four
        Which shape parameters disperse.
    random_state : int, RandomState instance or None, default=None
        Seeds :meth:`realize` when it is given no generator.

    Examples
    --------
    >>> from taafs_sk.analog import NAFDispersion
    >>> act = NAFDispersion("tanh", spread=0.1, random_state=0).realize(32)
    >>> tuple(act.gain.shape), act.base
    ((32,), 'tanh')
    """

    def __init__(
        self, base="sigmoid", spread=0.05, params=("gain", "shift", "scale", "offset"),
        random_state=None,
    ):
        self.base = base
        self.spread = spread
        self.params = params
        self.random_state = random_state

    def _validate(self) -> None:
        if self.base is not None and self.base not in BASES:
            raise ValueError(
                f"NAFDispersion: base must be one of {sorted(BASES)} or None; got "
                f"{self.base!r}."
            )
        check_real("NAFDispersion: spread", self.spread, minimum=0.0)
        if isinstance(self.params, str) or not all(isinstance(p, str) for p in self.params):
            raise TypeError(
                f"NAFDispersion: params must be a tuple of names from {_PARAMS}; got "
                f"{self.params!r}."
            )
        unknown = set(self.params) - set(_PARAMS)
        if unknown:
            raise ValueError(
                f"NAFDispersion: params must be a subset of {_PARAMS}; got unknown "
                f"{sorted(unknown)}."
            )

    def realize(self, n_neurons: int, random_state=None) -> DispersedActivation:
        """Draw the shapes of ``n_neurons`` neurons.

        Parameters
        ----------
        n_neurons : int
            Number of neurons (the layer width).
        random_state : int, RandomState instance or None, default=None
            Source of the draws; ``None`` uses ``self.random_state``.

        Returns
        -------
        activation : DispersedActivation
        """
        if self.base is None:
            raise ValueError(
                "NAFDispersion(base=None).realize: with base=None the nominal shapes are the "
                "model's own activations; use taafs_sk.analog.disperse_network(model, nafs, "
                "X_train) instead."
            )
        eps = self.draw(n_neurons, random_state)
        span = BASES[self.base]
        return DispersedActivation(self.base, 1 + eps[0], eps[1], 1 + eps[2], span * eps[3])

    def draw(self, n_neurons: int, random_state=None) -> np.ndarray:
        """Relative deviations of ``n_neurons`` neurons, ``(4, n_neurons)``.

        Rows: gain, shift, scale, offset deviations ``spread * eps_i`` (zero for a
        parameter not in ``params``; the offset row is still to be multiplied by the span).
        :meth:`realize` and :func:`~taafs_sk.analog.disperse_network` use this one stream.

        Parameters
        ----------
        n_neurons : int
            Number of neurons.
        random_state : int, RandomState instance or None, default=None
            Source of the draws; ``None`` uses ``self.random_state``.

        Returns
        -------
        eps : ndarray of shape (4, n_neurons)
        """
        self._validate()
        n = check_count("NAFDispersion.realize: n_neurons", n_neurons)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        eps = rng.standard_normal((4, n))  # rows: gain, shift, scale, offset
        return eps * self.mask() * float(self.spread)

    def mask(self) -> np.ndarray:
        """``(4, 1)`` indicator of the dispersed parameters (gain, shift, scale, offset)."""
        return np.array([[p in self.params] for p in _PARAMS], dtype=float)


def pchip_slopes(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fritsch-Carlson (PCHIP) slopes of monotone-preserving cubic interpolation.

    Parameters
    ----------
    x : torch.Tensor of shape (n_points,) or (n_curves, n_points)
        Strictly increasing abscissae.
    y : torch.Tensor of shape (n_curves, n_points)
        Values.

    Returns
    -------
    slopes : torch.Tensor of shape (n_curves, n_points)
        Interior slopes are the weighted harmonic mean of the neighbouring secants (zero where
        they differ in sign); end slopes use the shape-preserving three-point formula.
    """
    x = x.expand_as(y)
    h = x.diff(dim=-1)  # (C, P-1)
    delta = y.diff(dim=-1) / h
    d = torch.zeros_like(y)
    if y.shape[-1] == 2:
        return delta.expand_as(y).clone()
    h0, h1 = h[:, :-1], h[:, 1:]
    d0, d1 = delta[:, :-1], delta[:, 1:]
    w1, w2 = 2 * h1 + h0, h1 + 2 * h0
    same = (d0 * d1) > 0
    harmonic = (w1 + w2) / (w1 / torch.where(same, d0, 1.0) + w2 / torch.where(same, d1, 1.0))
    d[:, 1:-1] = torch.where(same, harmonic, 0.0)
    d[:, 0] = _end_slope(h[:, 0], h[:, 1], delta[:, 0], delta[:, 1])
    d[:, -1] = _end_slope(h[:, -1], h[:, -2], delta[:, -1], delta[:, -2])
    return d


def _end_slope(h0, h1, d0, d1) -> torch.Tensor:
    """One-sided three-point end slope, limited so that it keeps the data's monotonicity."""
    d = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    d = torch.where(torch.sign(d) != torch.sign(d0), 0.0, d)
    flip = (torch.sign(d0) != torch.sign(d1)) & (d.abs() > 3 * d0.abs())
    return torch.where(flip, 3 * d0, d)


class MeasuredNAF(BaseEstimator):
    """Hardware activations from measured transfer curves, interpolated monotonically.

    Each curve is interpolated by piecewise-cubic Hermite interpolation with Fritsch-Carlson
    (PCHIP) slopes, which keeps monotone data monotone and passes through every measured
    point; outside the measured range the curve continues linearly with its end slope.

    Parameters
    ----------
    x : array-like of shape (n_points,) or (n_curves, n_points)
        Increasing input values at which the curves were measured.
    curves : array-like of shape (n_curves, n_points)
        Measured outputs, one row per device.
    assignment : {'per_neuron', 'sample'}, default='per_neuron'
        ``'per_neuron'``: neuron ``n`` gets curve ``n`` (needs at least as many curves as
        neurons); ``'sample'``: each neuron gets a curve drawn at random with replacement.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws of ``assignment='sample'``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from taafs_sk.analog import MeasuredNAF
    >>> x = np.linspace(-3, 3, 13)
    >>> curves = np.stack([np.tanh(x), np.tanh(1.2 * x)])
    >>> act = MeasuredNAF(x, curves).realize(2)
    >>> act(torch.tensor([[0.5, 0.5]], dtype=torch.float64)).shape
    torch.Size([1, 2])
    """

    def __init__(self, x, curves, assignment="per_neuron", random_state=None):
        self.x = x
        self.curves = curves
        self.assignment = assignment
        self.random_state = random_state

    def _tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        # copies: a reversed or strided numpy view cannot become a tensor
        curves = torch.as_tensor(np.array(np.atleast_2d(self.curves), dtype=np.float64))
        x = torch.as_tensor(np.array(self.x, dtype=np.float64))
        if x.shape[-1] != curves.shape[-1] or x.dim() > 2 or curves.shape[-1] < 2:
            raise ValueError(
                "MeasuredNAF: x must have shape (n_points,) or (n_curves, n_points) matching "
                f"curves (n_curves, n_points) with n_points >= 2; got x {tuple(x.shape)}, "
                f"curves {tuple(curves.shape)}."
            )
        for name, values in (("x", x), ("curves", curves)):
            if not bool(torch.isfinite(values).all()):
                bad = tuple(int(i) for i in torch.nonzero(~torch.isfinite(values))[0])
                at = "(curve, point) = " if name == "curves" else "at index "
                raise ValueError(f"MeasuredNAF: {name} contain{'s' if name == 'x' else ''} "
                                 f"non-finite values, got {float(values[bad])} {at}{bad}.")
        steps = x.diff(dim=-1)
        if bool((steps <= 0).any()):
            bad = tuple(int(i) for i in torch.nonzero(steps <= 0)[0])
            after = (*bad[:-1], bad[-1] + 1)
            raise ValueError(
                f"MeasuredNAF: x must be strictly increasing along each curve, got "
                f"{float(x[after])} after {float(x[bad])}: it does not increase after index "
                f"{bad} (sort the points, or reverse a decreasing x together with its curves)."
            )
        return x, curves

    def realize(self, n_neurons: int, random_state=None) -> TabulatedActivation:
        """Per-neuron activation module for ``n_neurons`` neurons.

        Parameters
        ----------
        n_neurons : int
            Number of neurons.
        random_state : int, RandomState instance or None, default=None
            Source of the draws (``assignment='sample'``); ``None`` uses ``self.random_state``.

        Returns
        -------
        activation : TabulatedActivation
            Cubic Hermite tables (values and PCHIP slopes) in float64 buffers.
        """
        x, curves = self._tables()
        n_neurons = check_count("MeasuredNAF.realize: n_neurons", n_neurons)
        n_curves = curves.shape[0]
        if self.assignment == "per_neuron":
            if n_curves < n_neurons:
                raise ValueError(
                    f"MeasuredNAF: assignment='per_neuron' needs one curve per neuron; got "
                    f"{n_curves} curves for {n_neurons} neurons. Use assignment='sample'."
                )
            idx = np.arange(n_neurons)
        elif self.assignment == "sample":
            rng = check_random_state(
                self.random_state if random_state is None else random_state)
            idx = rng.randint(n_curves, size=n_neurons)
        else:
            raise ValueError(
                "MeasuredNAF: assignment must be 'per_neuron' or 'sample'; got "
                f"{self.assignment!r}."
            )
        idx_t = torch.as_tensor(idx)
        values = curves[idx_t]
        grid = x[idx_t] if x.dim() == 2 else x
        return TabulatedActivation(grid, values, pchip_slopes(grid, values))
