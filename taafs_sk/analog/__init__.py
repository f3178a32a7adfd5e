"""Analog-hardware effects on trained regressors: circuit noise and hardware activation shapes.

- :class:`NoiseModel`, :class:`NoiseInjectedRegressor`, :func:`noise_sweep`: calibrated
  Gaussian noise at any site of the network, all draws in one vectorised pass;
- :class:`NAFDispersion`, :class:`MeasuredNAF`: realised per-neuron activation shapes;
- :class:`HardwareNAFRegressor`: ideal, degraded, retrained and control models side by side;
- :class:`DispersionAwareRegressor`, :func:`evaluate_on_chips`: one set of weights trained on
  random shapes, scored on unseen chips against per-chip retraining;
- :func:`export_hardware`, :func:`load_hardware`: weights and activation lookup tables for a
  circuit, and the model rebuilt from them;
- :func:`as_torch_model`: the adapter that reaches every supported estimator.
"""

from ._adapters import TorchModel, as_torch_model
from .aware import DispersionAwareRegressor, train_dispersion_aware
from .chips import evaluate_on_chips, summarize_chips
from .export import export_hardware, load_hardware
from .hardware import HardwareNAFRegressor, realize_network, retrain_weights
from .injected import NoiseInjectedRegressor
from .naf import DispersedActivation, MeasuredNAF, NAFDispersion
from .noise import NoiseModel
from .shapes import DispersedModule, activation_spans, disperse_network
from .sweep import noise_sweep

__all__ = [
    "DispersedActivation",
    "DispersedModule",
    "DispersionAwareRegressor",
    "HardwareNAFRegressor",
    "MeasuredNAF",
    "NAFDispersion",
    "NoiseInjectedRegressor",
    "NoiseModel",
    "TorchModel",
    "activation_spans",
    "as_torch_model",
    "disperse_network",
    "evaluate_on_chips",
    "export_hardware",
    "load_hardware",
    "noise_sweep",
    "realize_network",
    "retrain_weights",
    "summarize_chips",
    "train_dispersion_aware",
]
