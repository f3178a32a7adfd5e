"""taafs-sk: scikit-learn estimators with trainable or data-optimal activation functions,
and tools to study them on noisy analog hardware.

The estimators are importable from the top level; the analog-hardware wrappers live in
:mod:`taafs_sk.analog`, the loaders in :mod:`taafs_sk.datasets`, the featurizers in the sibling
package :mod:`featurizers`. Submodules load on first use, so ``import taafs_sk`` stays cheap.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # static analysers and IDEs see the real names
    from .additive_kernel import AdditiveKernelNN
    from .bases import available_bases
    from .datasets import load_double_perovskites, load_hydrocarbons, load_qm9
    from .exceptions import TrainingDivergedError
    from .regressor import TAAFSRegressor

__version__ = "0.1.0"

_LAZY = {
    "TAAFSRegressor": "taafs_sk.regressor",
    "AdditiveKernelNN": "taafs_sk.additive_kernel",
    "TrainingDivergedError": "taafs_sk.exceptions",
    "available_bases": "taafs_sk.bases",
    "load_hydrocarbons": "taafs_sk.datasets",
    "load_double_perovskites": "taafs_sk.datasets",
    "load_qm9": "taafs_sk.datasets",
}

__all__ = [
    "AdditiveKernelNN",
    "TAAFSRegressor",
    "TrainingDivergedError",
    "__version__",
    "available_bases",
    "load_double_perovskites",
    "load_hydrocarbons",
    "load_qm9",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'taafs_sk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
