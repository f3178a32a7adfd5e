"""Benzenoid hydrocarbon featurizer: SMILES -> carbon environments, ring fusion topology,
perimeter regions (bay, cove, fjord), steric contacts, Hueckel, Kekule and Clar descriptors,
and counts of local environments learned as a vocabulary in ``fit``.

The chemistry is vectorised over a batch: each SMILES is read into a list of C-C bonds
(:mod:`._smiles`: a small reader for SMILES of aromatic carbons only, RDKit for anything
else), the molecules are stacked into one block-diagonal graph (:mod:`._graph`: atoms, bonds
and rings with global indices) and every descriptor is computed for the whole batch at once
with numpy: ring topology and perimeter (:mod:`._topology`), pi electrons (:mod:`._pi`) and
steric contacts (:mod:`._steric`). :mod:`._columns` lists the fixed columns.
"""

from ._columns import FIXED_FEATURES
from ._featurizer import HydrocarbonFeaturizer

__all__ = ["FIXED_FEATURES", "HydrocarbonFeaturizer"]

# Pickles and docs name the public path, as before the module became a package.
HydrocarbonFeaturizer.__module__ = __name__
