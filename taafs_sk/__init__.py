"""taafs-sk: scikit-learn estimators with trainable or data-optimal activation functions,
and tools to study them on noisy analog hardware.

The estimators are importable from the top level. The families live in subpackages:

- :mod:`taafs_sk.nn`: torch building blocks (bases, the TAAF activation, the MLP);
- :mod:`taafs_sk.taafs`: :class:`TAAFSRegressor` and its skorch glue;
- :mod:`taafs_sk.additive`: :class:`AdditiveKernelNN` and its 1-D kernels;
- :mod:`taafs_sk.analog`: circuit noise and hardware activation shapes;
- :mod:`taafs_sk.atomistic`: :class:`TAAFSPotential`, interatomic potentials for ASE;
- :mod:`taafs_sk.ensemble`: :class:`EnsembleRegressor`, a calibrated predictive std for any
  regressor and committees of potentials;
- :mod:`taafs_sk.featurizers`: chemistry to features (no torch);
- :mod:`taafs_sk.datasets`, :mod:`taafs_sk.studies`, :mod:`taafs_sk.plotting`.

Submodules load on first use, so ``import taafs_sk`` stays cheap.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from . import _legacy

if TYPE_CHECKING:  # static analysers and IDEs see the real names
    from .additive import AdditiveKernelNN
    from .atomistic import TAAFSPotential
    from .datasets import load_double_perovskites, load_hydrocarbons, load_pwmlff, load_qm9
    from .ensemble import EnsembleRegressor
    from .exceptions import TrainingDivergedError
    from .nn import available_bases
    from .taafs import TAAFSRegressor

__version__ = "0.2.0.dev0"

_LAZY = {
    "TAAFSRegressor": "taafs_sk.taafs",
    "AdditiveKernelNN": "taafs_sk.additive",
    "TAAFSPotential": "taafs_sk.atomistic",
    "EnsembleRegressor": "taafs_sk.ensemble",
    "TrainingDivergedError": "taafs_sk.exceptions",
    "available_bases": "taafs_sk.nn",
    "load_hydrocarbons": "taafs_sk.datasets",
    "load_double_perovskites": "taafs_sk.datasets",
    "load_qm9": "taafs_sk.datasets",
    "load_pwmlff": "taafs_sk.datasets",
}

__all__ = [
    "AdditiveKernelNN",
    "EnsembleRegressor",
    "TAAFSPotential",
    "TAAFSRegressor",
    "TrainingDivergedError",
    "__version__",
    "available_bases",
    "load_double_perovskites",
    "load_hydrocarbons",
    "load_pwmlff",
    "load_qm9",
]

_legacy.install()


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'taafs_sk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
