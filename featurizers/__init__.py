"""Featurizers: scikit-learn transformers that turn chemistry into numeric features.

Each follows matminer's featurizer habits (``featurize``, ``feature_labels``, ``citations``,
``implementors``) and scikit-learn's transformer API (``fit``/``transform``,
``get_feature_names_out``, ``set_output``). See :class:`BaseFeaturizer` for the contract.
No module here imports torch.
"""

from ._base import BaseFeaturizer, FeaturizationWarning
from .hydrocarbons import HydrocarbonFeaturizer
from .perovskites import DoublePerovskiteFeaturizer

# TODO(lead): drop this guard once featurizers/molecules.py (MoleculeFeaturizer) is merged.
try:
    from .molecules import MoleculeFeaturizer
except ImportError:  # pragma: no cover - only while molecules.py is being written
    MoleculeFeaturizer = None  # type: ignore[assignment,misc]

__all__ = [
    "BaseFeaturizer",
    "DoublePerovskiteFeaturizer",
    "FeaturizationWarning",
    "HydrocarbonFeaturizer",
    "MoleculeFeaturizer",
]
