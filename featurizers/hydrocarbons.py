"""Placeholder while being written."""
from ._base import BaseFeaturizer


class HydrocarbonFeaturizer(BaseFeaturizer):
    """Placeholder."""
