"""Analog-hardware effects on trained regressors: circuit noise and hardware activation shapes.

- :class:`NoiseModel`, :class:`NoiseInjectedRegressor`, :func:`noise_sweep`: calibrated
  Gaussian noise at any site of the network, all draws in one vectorised pass;
- :class:`NAFDispersion`, :class:`MeasuredNAF`: realised per-neuron activation shapes;
- :class:`HardwareNAFRegressor`: ideal, degraded, retrained and control models side by side;
- :func:`as_torch_model`: the adapter that reaches every supported estimator.
"""

from ._adapters import TorchModel, as_torch_model
from .hardware import HardwareNAFRegressor, realize_network, retrain_weights
from .injected import NoiseInjectedRegressor
from .naf import DispersedActivation, MeasuredNAF, NAFDispersion
from .noise import NoiseModel
from .sweep import noise_sweep

__all__ = [
    "DispersedActivation",
    "HardwareNAFRegressor",
    "MeasuredNAF",
    "NAFDispersion",
    "NoiseInjectedRegressor",
    "NoiseModel",
    "TorchModel",
    "as_torch_model",
    "noise_sweep",
    "realize_network",
    "retrain_weights",
]
