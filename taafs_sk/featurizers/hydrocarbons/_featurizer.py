"""The hydrocarbon featurizer: batches of SMILES -> fixed columns and vocabulary counts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, RealNotInt

from .._base import BaseFeaturizer
from ._columns import FIXED_FEATURES
from ._graph import MoleculeBatch
from ._pi import pi_electrons
from ._smiles import read_smiles
from ._steric import steric
from ._topology import circular, perimeter, topology, vocabulary_key

__all__ = ["HydrocarbonFeaturizer"]

_CHUNK = 2048  # molecules per vectorised block (bounds the memory of the pair arrays)


def _parse_all(entries: Sequence) -> tuple[list, list, dict]:
    """Parsed molecules, the position of each in ``entries``, and the failures by position."""
    parsed, where, failures = [], [], {}
    for i, entry in enumerate(entries):
        try:
            parsed.append(read_smiles(entry))
            where.append(i)
        except Exception as exc:  # noqa: BLE001 - reported per row by the base class
            failures[i] = exc
    return parsed, where, failures


def _describe(parsed: list, window: int, radius: int, full: bool
              ) -> tuple[np.ndarray | None, list, dict]:
    """Fixed columns (None unless ``full``), environment codes and failed molecules."""
    batch = MoleculeBatch(parsed)
    if batch.not_benzenoid:
        return None, [], batch.not_benzenoid
    fixed, codes = topology(batch)
    perimeter_fixed, perimeter_codes, not_cycle = perimeter(batch, window)
    failed = {int(i): "its perimeter is not a simple cycle" for i in not_cycle}
    codes += perimeter_codes + circular(batch, radius)
    if not full or failed:
        return None, codes, failed
    pi, non_kekulean = pi_electrons(batch)
    failed.update({int(i): "it has no Kekule structure (non-Kekulean)" for i in non_kekulean})
    return np.hstack([fixed, perimeter_fixed, steric(batch), pi]), codes, failed


def _tally(molecule: np.ndarray, code: np.ndarray, n_molecules: int
           ) -> tuple[np.ndarray, ...]:
    """Distinct (molecule, code) pairs and how often each occurs."""
    uniq, dense = np.unique(code, return_inverse=True)
    keys, count = np.unique(dense * n_molecules + molecule, return_counts=True)
    return keys % n_molecules, uniq[keys // n_molecules], count


class HydrocarbonFeaturizer(BaseFeaturizer):
    """Featurize benzenoid (polybenzenoid) hydrocarbons from their SMILES.

    Every carbon is a CH in one six-membered ring, a fusion carbon shared by two rings or an
    internal carbon shared by three. The columns, in order (:data:`FIXED_FEATURES` says what
    each fixed column counts, and in which unit):

    - carbon environments: ``n_C``, ``n_CH`` (= hydrogens), ``n_C_fused``, ``n_C_internal``;
    - rings and fusion topology: ``n_rings``, ``n_fused_bonds``, ``n_rings_degree_d`` (rings
      fused to d others), ``n_rings_pattern_xxxxxx`` (each ring's fused (1) and free (0)
      edges read around it: ``100100`` is a linearly, ``101000`` an angularly annelated
      ring), ``n_annelation_ortho|meta|para`` (pairs of fused edges of one ring: peri,
      angular, linear annelation);
    - the perimeter, a cycle of CH and fused carbons: ``n_perimeter_C``; runs of 1, 2, 3, 4,
      5+ fused carbons between two CH: ``n_fissure``, ``n_bay``, ``n_cove``, ``n_fjord``,
      ``n_lagoon``; runs of CH: ``n_CH_solo``, ``n_CH_duo``, ``n_CH_trio``, ``n_CH_quartet``;
    - steric crowding in the idealised planar geometry (regular hexagons, C-C 1.40 A, C-H
      1.09 A; helicene turns overlap): ``steric_HH|CH|CC`` sums of :math:`(R - r)^2` over
      non-bonded pairs closer than the contact distance R, and counts of such contacts;
    - pi electrons: the Hueckel pi energy and HOMO-LUMO gap (units of :math:`|\\beta|`); the
      number of Kekule structures :math:`K = |\\det B|` (``log_kekule``; ``B`` is the
      adjacency between the two colour classes of carbons); Pauling bond orders
      :math:`p_{ij} = K(G - i - j) / K = |(B^{-1})_{ji}|`, their extremes and their sums
      around each ring (``pauling_ring_*``: 3 for a full sextet); Clar's aromatic sextets:
      the Clar number, the number of Clar structures and the counts of resonant sets of k
      disjoint sextets (removing them leaves a Kekule structure);
    - counts learned as a vocabulary in ``fit`` (keys unseen in ``fit`` are ignored):
      ``atom a:bcd`` (a carbon in a rings with neighbours in b, c, d rings), ``bond ab/e``
      (a bond between carbons in a and b rings, itself in e rings), ``ring p:q-r`` (a ring
      of pattern p fused to rings of patterns q, r, ...), ``perimeter w`` (runs of
      ``perimeter_window`` perimeter carbons, ``h`` for CH and ``c`` for fused) and
      ``envR hash`` (circular environments of radius R = 2 ... ``radius`` bonds, as in
      Morgan/ECFP fingerprints but unfolded: each carbon starts from its number of rings and
      is relabelled R times from its own and its neighbours' sorted labels, 64-bit hashes).

    Parameters
    ----------
    radius : int, default=4
        Radius of the circular environments counted (``env2`` ... ``env{radius}``; radius 1
        is the ``atom`` key); 0 or 1 leaves them out.
    perimeter_window : int, default=8
        Length of the perimeter windows counted.
    min_frequency : int or float, default=0.003
        Keep a vocabulary key only if it occurs in at least this many ``fit`` molecules; a
        float in (0, 1) is a fraction of them (as ``min_df`` of
        :class:`~sklearn.feature_extraction.text.CountVectorizer`).
    on_error : {'raise', 'nan'}, default='raise'
        See :class:`~taafs_sk.featurizers.BaseFeaturizer`. Invalid SMILES, atoms other than carbon
        and hydrogen, and molecules that are not Kekulean benzenoids are errors.
    n_jobs : int, default=None
        Number of joblib workers for ``transform``; see
        :class:`~taafs_sk.featurizers.BaseFeaturizer`.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Learned key -> column index among the vocabulary columns (after the fixed ones).
    feature_names_out_ : ndarray of str
        Output feature names.
    n_features_in_ : int
        Number of input columns (2-D input only).
    feature_names_in_ : ndarray of str
        Input column names (DataFrame input only).

    See Also
    --------
    taafs_sk.featurizers.MoleculeFeaturizer : Any molecule from SMILES.

    Notes
    -----
    The molecules of a batch are stacked into one graph and every descriptor is computed for
    all of them at once. Resonant sets use generic edge weights ``W`` (a fixed Weyl
    sequence): the rest of the molecule has a perfect matching exactly when its weighted
    determinant is nonzero, which comes from :math:`W^{-1}` by Jacobi's complementary-minor
    identity. Molecules of more than 24 rings get NaN in the Clar columns (the resonant sets,
    whose number grows like the number of Kekule structures, are not enumerated). The
    steric columns use the flat honeycomb geometry, where helicene turns overlap: they
    measure overcrowding, not the relaxed (twisted) structure.

    References
    ----------
    E. Clar, *The Aromatic Sextet* (Wiley, 1972). I. Gutman and S. J. Cyvin, *Introduction to
    the Theory of Benzenoid Hydrocarbons* (Springer, 1989). A. Wahab and R. Gershoni-Poranne,
    Phys. Chem. Chem. Phys. 26, 15344 (2024) (COMPAS-3).

    Examples
    --------
    >>> from taafs_sk.featurizers import HydrocarbonFeaturizer
    >>> smiles = ["c1ccc2cc3ccccc3cc2c1", "c1ccc2c(c1)ccc1ccccc12"]  # anthracene, phenanthrene
    >>> f = HydrocarbonFeaturizer().set_output(transform="pandas").fit(smiles)
    >>> out = f.transform(smiles)
    >>> out[["n_CH", "n_rings", "n_bay", "clar_number"]].to_numpy().tolist()
    [[10.0, 3.0, 0.0, 1.0], [10.0, 3.0, 1.0, 2.0]]
    >>> round(float(out["log_kekule"].iloc[1]), 4)  # phenanthrene has 5 Kekule structures
    1.6094
    """

    _parameter_constraints: dict = {
        **BaseFeaturizer._parameter_constraints,
        "radius": [Interval(Integral, 0, None, closed="left")],
        "perimeter_window": [Interval(Integral, 1, None, closed="left")],
        "min_frequency": [Interval(Integral, 1, None, closed="left"),
                          Interval(RealNotInt, 0, 1, closed="neither")],
    }

    def __init__(self, *, radius: int = 4, perimeter_window: int = 8,
                 min_frequency: float = 0.003, on_error: str = "raise",
                 n_jobs: int | None = None) -> None:
        self.radius = radius
        self.perimeter_window = perimeter_window
        self.min_frequency = min_frequency
        self.on_error = on_error
        self.n_jobs = n_jobs

    def _chunk(self, chunk: Sequence, full: bool) -> tuple[np.ndarray | None, list, list, dict]:
        """Fixed columns, environment codes, rows that succeeded and failures of a chunk."""
        parsed, where, failures = _parse_all(chunk)
        fixed, codes = None, []
        while parsed:
            fixed, codes, failed = _describe(parsed, self.perimeter_window, self.radius, full)
            if not failed:
                break
            for i in sorted(failed, reverse=True):
                failures[where[i]] = ValueError(f"{chunk[where[i]]!r}: {failed[i]}")
                del parsed[i], where[i]
        return fixed, codes, where, failures

    def _fit_entries(self, entries: Sequence) -> None:
        seen: Counter = Counter()  # vocabulary key -> molecules holding it
        n_valid = 0
        for lo in range(0, len(entries), _CHUNK):
            _, codes, where, _ = self._chunk(entries[lo:lo + _CHUNK], full=False)
            n_valid += len(where)
            for kind, molecule, code, _ in codes:
                _, found, _ = _tally(molecule, code, len(where))
                for value, n in zip(*np.unique(found, return_counts=True), strict=True):
                    seen[vocabulary_key(kind, int(value), self.perimeter_window)] += int(n)
        least = self.min_frequency
        if isinstance(least, float):
            least = max(1, math.ceil(least * n_valid))
        kept = sorted(key for key, n in seen.items() if n >= least)
        self.vocabulary_ = {key: i for i, key in enumerate(kept)}

    def _featurize_many(self, entries: Sequence) -> tuple[np.ndarray, dict[int, Exception]]:
        n_fixed = len(FIXED_FEATURES)
        out = np.full((len(entries), n_fixed + len(self.vocabulary_)), np.nan)
        failures: dict[int, Exception] = {}
        for lo in range(0, len(entries), _CHUNK):
            fixed, codes, where, failed = self._chunk(entries[lo:lo + _CHUNK], full=True)
            failures.update({lo + i: exc for i, exc in failed.items()})
            if not where:
                continue
            rows = lo + np.array(where)
            out[rows, :n_fixed] = fixed
            out[rows, n_fixed:] = self._vocabulary_counts(codes, len(where))
        return out, failures

    def _vocabulary_counts(self, codes: list, n_molecules: int) -> np.ndarray:
        """(n_molecules, len(vocabulary_)) counts of the learned keys (others are ignored)."""
        counts = np.zeros((n_molecules, len(self.vocabulary_)))
        for kind, molecule, code, weight in codes:
            molecules, found, total = _tally(molecule, code, n_molecules)
            uniq, inverse = np.unique(found, return_inverse=True)
            columns = np.array([
                self.vocabulary_.get(vocabulary_key(kind, int(value), self.perimeter_window), -1)
                for value in uniq], dtype=np.int64)[inverse]
            hit = columns >= 0
            counts[molecules[hit], columns[hit]] = total[hit] * weight
        return counts

    def featurize(self, entry: Any) -> np.ndarray:
        """Features of one SMILES (needs the vocabulary learned in ``fit``).

        Parameters
        ----------
        entry : str
            SMILES of one benzenoid hydrocarbon.

        Returns
        -------
        features : ndarray of shape (n_features,)
            One row of :meth:`transform`; a bad entry raises its own error.
        """
        return self._featurize_one(entry)

    def feature_labels(self) -> list[str]:
        """The labels of :data:`FIXED_FEATURES`, then the learned vocabulary."""
        return list(FIXED_FEATURES) + list(self.vocabulary_)

    def citations(self) -> list[str]:
        """BibTeX for COMPAS-3 (the benchmark data), Clar's sextets and benzenoid theory."""
        return [
            "@article{wahab2024compas3,\n  author = {Wahab, Alexandra and Gershoni-Poranne, "
            "Renana},\n  title = {{COMPAS-3}: a dataset of peri-condensed polybenzenoid "
            "hydrocarbons},\n  journal = {Physical Chemistry Chemical Physics}, volume = {26},"
            "\n  pages = {15344--15357}, year = {2024}, doi = {10.1039/D4CP01027B}\n}",
            "@book{clar1972,\n  author = {Clar, Erich},\n  title = {The Aromatic Sextet},\n"
            "  publisher = {Wiley}, address = {London}, year = {1972}\n}",
            "@book{gutman1989,\n  author = {Gutman, Ivan and Cyvin, Sven J.},\n  title = "
            "{Introduction to the Theory of Benzenoid Hydrocarbons},\n  publisher = "
            "{Springer}, address = {Berlin}, year = {1989}, doi = {10.1007/978-3-642-87143-6}\n}",
        ]
