"""Realised activation shapes around any nominal one: a chip, and a fresh chip per step.

- :class:`DispersedModule`: :math:`f_n(z) = a_n\\, \\phi(k_n (z - s_n)) + b_n` around any
  elementwise module :math:`\\phi` (a fixed activation, a TAAF, an ``AdditiveKernelNN``
  neuron's lookup table), with per-neuron parameters in buffers;
- :func:`activation_spans`: each hidden neuron's output range on the training data (the offset
  scale of ``NAFDispersion(base=None)``);
- :func:`disperse_network`: one chip, a copy of a network with realised shapes;
- :class:`RandomShapes`: the training-time module that draws a new realisation of every
  neuron's shape at each minibatch (or each epoch), all neurons at once as tensors.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from .._validation import check_finite_array
from .._validation._text import short
from ..nn.checks import check_torch_module
from ._adapters import TorchModel
from ._checks import check_nafs, check_neuron_input, check_shape_params, check_torch_model
from .naf import BASES, MeasuredNAF, NAFDispersion, pchip_slopes

__all__ = ["DispersedModule", "RandomShapes", "activation_spans", "disperse_network"]


class DispersedModule(nn.Module):
    r"""Per-neuron dispersion around an elementwise module: :math:`a_n \phi(k_n(z-s_n)) + b_n`.

    Parameters
    ----------
    act : torch.nn.Module
        The nominal activation :math:`\phi` (acts elementwise on the last axis); kept as a
        submodule, so its own parameters (a TAAF's coefficients) stay trainable.
    gain, shift, scale, offset : array-like or tensor of shape (n_neurons,)
        :math:`k_n, s_n, a_n, b_n` (buffers, never trained); they broadcast along the last axis.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.analog import DispersedModule
    >>> act = DispersedModule(torch.nn.Tanh(), [1.0, 2.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.5])
    >>> act(torch.zeros(3, 2))[0]
    tensor([0.0000, 0.5000])
    """

    def __init__(self, act: nn.Module, gain, shift, scale, offset) -> None:
        super().__init__()
        self.act = check_torch_module("act", act, "DispersedModule")
        params = check_shape_params("DispersedModule", gain=gain, shift=shift, scale=scale,
                                    offset=offset)
        for name, value in params.items():
            self.register_buffer(name, torch.as_tensor(value.astype(np.float32)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_neuron_input("DispersedModule", z, self.gain.shape[0])
        return self.scale * self.act(self.gain * (z - self.shift)) + self.offset


def activation_spans(model: TorchModel, X) -> list[torch.Tensor]:
    """Each hidden neuron's output range (max - min) on ``X``, one tensor per hidden layer.

    Parameters
    ----------
    model : TorchModel
        The nominal network.
    X : array-like of shape (n_samples, n_features)
        Training inputs, in the estimator's units.

    Returns
    -------
    spans : list of torch.Tensor of shape (width,)
        A neuron that is constant on ``X`` gets span 1 (the unit scale), not 0.
    """
    check_torch_model(model, "model", "activation_spans")
    Xn = model.network_input(X)
    spans: dict[int, torch.Tensor] = {}

    def record(site, layer, t):
        if site == "post_activation":
            flat = t.reshape(-1, t.shape[-1])
            spans[layer] = flat.amax(0) - flat.amin(0)
        return t

    with torch.no_grad():
        model.mlp(model.as_tensor(Xn), record)
    out = [spans[i].double().cpu() for i in range(len(model.mlp.hidden_layer_sizes))]
    return [torch.where(s > 0, s, torch.ones_like(s)) for s in out]


def _spans_for(nafs: NAFDispersion, model: TorchModel, X, spans,
               where: str = "disperse_network") -> list[torch.Tensor]:
    if nafs.base is not None:
        return [torch.full((w,), BASES[nafs.base], dtype=torch.float64)
                for w in model.mlp.hidden_layer_sizes]
    if spans is None:
        if X is None:
            raise ValueError(
                f"{where}: NAFDispersion(base=None) scales each neuron's offset by its "
                "output range on the training data; pass X (the training inputs) or spans."
            )
        spans = activation_spans(model, X)
    widths = model.mlp.hidden_layer_sizes
    if (isinstance(spans, (str, bytes)) or not hasattr(spans, "__len__")
            or len(spans) != len(widths)):
        raise ValueError(f"{where}: spans must hold one array per hidden layer "
                         f"(widths {list(widths)}), got {short(spans)}.")
    out = []
    for i, (span, width) in enumerate(zip(spans, widths, strict=True)):
        arr = check_finite_array(f"{where}: spans[{i}]", span, ndim=1)
        if len(arr) != width:
            raise ValueError(f"{where}: spans[{i}] has {len(arr)} value(s) but hidden "
                             f"layer {i} has {width} neurons.")
        out.append(torch.as_tensor(arr))
    return out


def disperse_network(model: TorchModel, nafs, X=None, *, spans=None,
                     random_state=None) -> TorchModel:
    """One chip: a copy of ``model`` whose hidden activations are realised shapes.

    A named ``NAFDispersion`` base and a ``MeasuredNAF`` replace each activation (as
    :func:`~taafs_sk.analog.realize_network`, with the same draws for the same seed);
    ``NAFDispersion(base=None)`` disperses the model's own activations in place
    (:class:`DispersedModule`), with offsets relative to each neuron's output range.

    Parameters
    ----------
    model : TorchModel
        The nominal network (not modified).
    nafs : NAFDispersion or MeasuredNAF
        Source of the shapes.
    X : array-like of shape (n_samples, n_features), default=None
        Training inputs, for the spans of ``NAFDispersion(base=None)``.
    spans : list of array-like, default=None
        Precomputed spans (:func:`activation_spans`), in place of ``X``.
    random_state : int, RandomState instance or None, default=None
        The chip's seed (one stream for all layers).

    Returns
    -------
    chip : TorchModel

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import NAFDispersion, as_torch_model, disperse_network
    >>> X = np.random.RandomState(0).normal(size=(60, 2)); y = np.tanh(X).sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", max_iter=50,
    ...                    random_state=0).fit(X, y)
    >>> chip = disperse_network(as_torch_model(est), NAFDispersion(None, spread=0.0), X)
    >>> bool(np.allclose(chip.predict(X), est.predict(X)))
    True
    """
    check_torch_model(model, "model", "disperse_network")
    check_nafs("disperse_network", nafs)
    rng = check_random_state(random_state)
    chip = model.copy()
    if isinstance(nafs, MeasuredNAF) or getattr(nafs, "base", "") is not None:
        for i, width in enumerate(chip.mlp.hidden_layer_sizes):
            chip.mlp.activations[i] = nafs.realize(width, random_state=rng).to(model.dtype)
        return chip
    if not isinstance(nafs, NAFDispersion):
        raise TypeError(f"disperse_network: nafs must be a NAFDispersion or MeasuredNAF; got "
                        f"{type(nafs).__name__}.")
    layer_spans = _spans_for(nafs, model, X, spans)
    for i, width in enumerate(chip.mlp.hidden_layer_sizes):
        eps = nafs.draw(width, rng)
        span = layer_spans[i].numpy()
        chip.mlp.activations[i] = DispersedModule(
            chip.mlp.activations[i], 1 + eps[0], eps[1], 1 + eps[2], span * eps[3]
        ).to(model.dtype)
    return chip


class RandomShapes(nn.Module):
    """Training-time activation: a fresh realisation of every neuron's shape per draw.

    In training mode each call (``per_batch=True``) or each :meth:`resample` (once per epoch)
    draws new shapes for all ``width`` neurons at once from ``generator``; in evaluation mode
    it is the nominal ``act``. ``NAFDispersion``: the dispersion of ``act`` itself
    (:class:`DispersedModule` with fresh parameters; ``act``'s own parameters keep training).
    ``MeasuredNAF``: each neuron gets a curve drawn with replacement from the pool.

    Parameters
    ----------
    act : torch.nn.Module
        The nominal activation of the layer.
    nafs : NAFDispersion or MeasuredNAF
        Source of the shapes.
    width : int
        Number of neurons of the layer.
    span : tensor of shape (width,)
        Offset scale per neuron (``NAFDispersion`` only).
    generator : torch.Generator
        Source of the draws.
    per_batch : bool, default=True
        Draw in every training call; otherwise only in :meth:`resample`.
    dtype : torch.dtype, default=None
        The network's dtype (by default that of ``act``'s parameters, else float32).
    """

    def __init__(self, act: nn.Module, nafs, width: int, span: torch.Tensor | None,
                 generator: torch.Generator, per_batch: bool = True,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.act = act
        self.width = int(width)
        self.generator = generator
        self.per_batch = per_batch
        dtype = _module_dtype(act) if dtype is None else dtype
        if isinstance(nafs, MeasuredNAF):
            grid, values = nafs._tables()
            self.pool = (grid.to(dtype), values.to(dtype),
                         pchip_slopes(grid, values).to(dtype))
            self.dispersion = None
        else:
            self.pool = None
            self.dispersion = (torch.as_tensor(nafs.mask(), dtype=dtype) * float(nafs.spread),
                               span.to(dtype))
        self.current: nn.Module | None = None
        self.resample()

    def resample(self) -> None:
        """Draw a new realisation of all neurons' shapes (one tensor draw per parameter)."""
        from ..nn.tabulated import TabulatedActivation

        if self.pool is not None:
            grid, values, slopes = self.pool
            idx = torch.randint(values.shape[0], (self.width,), generator=self.generator)
            g = grid[idx] if grid.dim() == 2 else grid
            self.current = TabulatedActivation(g, values[idx], slopes[idx])
            return
        scale_eps, span = self.dispersion
        eps = torch.randn((4, self.width), generator=self.generator, dtype=scale_eps.dtype)
        eps = eps * scale_eps
        self.current = _Shaped(self.act, 1 + eps[0], eps[1], 1 + eps[2], span * eps[3])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.act(z)
        if self.per_batch:
            self.resample()
        return self.current(z)


class _Shaped:
    """``a * act(k (z - s)) + b`` with plain tensors (no module registration per draw)."""

    def __init__(self, act, gain, shift, scale, offset) -> None:
        self.act, self.gain, self.shift, self.scale, self.offset = act, gain, shift, scale, offset

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return self.scale * self.act(self.gain * (z - self.shift)) + self.offset


def _module_dtype(module: nn.Module) -> torch.dtype:
    for t in (*module.parameters(), *module.buffers()):
        return t.dtype
    return torch.get_default_dtype()
