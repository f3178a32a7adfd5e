"""Featurizers: scikit-learn transformers that turn chemistry into numeric features.

Each follows matminer's featurizer habits (``featurize``, ``feature_labels``, ``citations``,
``implementors``) and scikit-learn's transformer API (``fit``/``transform``,
``get_feature_names_out``, ``set_output``). See :class:`BaseFeaturizer` for the contract.
No module here imports torch.
"""

from ._base import BaseFeaturizer, FeaturizationWarning
from .hydrocarbons import HydrocarbonFeaturizer
from .molecules import MoleculeFeaturizer
from .perovskites import DoublePerovskiteFeaturizer

__all__ = [
    "BaseFeaturizer",
    "DoublePerovskiteFeaturizer",
    "FeaturizationWarning",
    "HydrocarbonFeaturizer",
    "MoleculeFeaturizer",
]
