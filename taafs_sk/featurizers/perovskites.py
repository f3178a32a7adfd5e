"""Double perovskite featurizer: A1 B1 A2 B2 O6 site elements (or formulas) -> symmetrised
ionic and elemental properties, point-ion band-edge estimates and site occupancies."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._base import BaseFeaturizer
from ._perovskite_tables import (
    CATION_PROPERTIES,
    COMPOUND_PROPERTIES,
    HALF_PROPERTIES,
    MADELUNG,
    O_SECOND_ELECTRON_AFFINITY,
    R_OXYGEN,
    assemble,
    assign_charges,
    cation,
    element,
)

__all__ = ["CATION_PROPERTIES", "COMPOUND_PROPERTIES", "HALF_PROPERTIES", "MADELUNG",
           "O_SECOND_ELECTRON_AFFINITY", "R_OXYGEN", "DoublePerovskiteFeaturizer"]

_FORMULA = re.compile(r"^([A-Z][a-z]?)([A-Z][a-z]?)([A-Z][a-z]?)([A-Z][a-z]?)O6$")
_PLACEHOLDER = ("Sr", "Ti", "Sr", "Ti")  # stands in for unparsable rows (set to NaN after)


class DoublePerovskiteFeaturizer(BaseFeaturizer):
    r"""Featurize double perovskites A1 B1 A2 B2 O6 from their site elements.

    The compound is read as two ABO3 halves, A1B1O3 and A2B2O3. Each half gets oxidation states
    (qA + qB = 6, the most common states of the two elements, the B state weighing double) and
    Shannon ionic radii (CN XII for A, VI for B, else the nearest tabulated coordination, then
    pymatgen's ionic radii). The features follow from the physics of these d0 / s0 oxides: the
    gap opens between the O 2p valence band and the empty d (Ti4+, Nb5+, Ta5+, Zr4+, ...) or s
    (Sn4+, Sb5+, Ga3+, ...) states of the B cations (La 5d for LaAlO3-like halves), and is
    narrowed by occupied ns2 lone pairs (Pb2+, Sn2+, Tl+, In+, ...) or d10 shells (Ag+) of the
    A cations, which sit above the O 2p level. Which cation holds the lowest empty level sets
    the conduction band, so the features keep that information in four blocks:

    1. **Per cation** (:data:`CATION_PROPERTIES`), the mean and the absolute difference over
       the two A cations and over the two B cations (``A mean ionic_radius``,
       ``B absdiff acceptor_ionization_energy``, ...). Ionisation energies stand for the
       cation's levels: ionisation energy ``q`` is the electron affinity of the bare cation
       (minus its lowest empty level), ionisation energy ``q + 1`` minus its highest occupied
       level. With ``element_lumo``, Pilania's elemental LUMO energy is one more property
       (``lumo``).
    2. **Per half** (:data:`HALF_PROPERTIES`), mean and absolute difference over the halves
       (``half mean tolerance_factor``, ...): Goldschmidt tolerance and octahedral factors,
       the cubic lattice constant :math:`a = 2(r_B + r_O)` and the point-ion Madelung
       potentials of an ideal cubic ABO3 (:data:`MADELUNG`),

       .. math::

           t = \frac{r_A + r_O}{\sqrt{2}\,(r_B + r_O)}, \qquad \mu = r_B / r_O, \qquad
           \phi_s = (c_{0,s} + c_{1,s}\, q_A) / a, \qquad r_O = 1.40\,\text{\AA}.

    3. **Band edges** of the compound (:data:`COMPOUND_PROPERTIES`) in a point-ion model
       (bare-ion levels shifted by the Madelung potential, no polarisation or band width):
       a cation's empty level is :math:`-I_q - \phi_s`, its occupied level
       :math:`-I_{q+1} - \phi_s`, the O 2p level :math:`-E_{A2}(\mathrm{O}) - \phi_O`
       (:data:`O_SECOND_ELECTRON_AFFINITY`). ``conduction_band_edge`` is the lowest empty
       level over the four cations, ``valence_band_edge`` the highest occupied level over
       the cations and both halves' oxygens, ``ionic_gap`` their difference, and
       ``charge_transfer_gap_min`` / ``_max`` the gaps between one half's empty and the
       other half's occupied levels. These are far larger than real gaps (tens of eV: no
       screening) but order the compounds and the cations; a model rescales them. Then
       ``tolerance_factor`` and ``octahedral_factor`` of the averaged sites.
    4. **Site occupancies** (``element_fractions=True``): for each element seen on an A (B)
       site in ``fit``, the fraction of the two A (B) sites it holds, 0, 0.5 or 1
       (``A fraction Sr``, ``B fraction Ti``; elements unseen in ``fit`` count nowhere).
       They let a model learn what the elemental tables miss about each element.

    All features are unchanged when the two halves are swapped (A1 with A2 and B1 with B2).
    Swapping only the A (or only the B) cations makes a different compound: the pairing sets
    the oxidation states, radii and Madelung potentials of each half; only block 4 stays.

    Parameters
    ----------
    site_columns : sequence of 4 str, default=('a_1', 'b_1', 'a_2', 'b_2')
        Columns of a DataFrame input holding the A1, B1, A2, B2 elements (matminer's
        ``double_perovskites_gap`` names). A 2-D array with 4 columns is read in this order;
        a 1-D input, a Series or a one-column input holds formulas ``A1B1A2B2O6``.
    element_lumo : mapping of str to float, default=None
        Optional extra per-element property, e.g. Pilania's elemental LUMO table (eV,
        ``load_double_perovskites(source="pilania").element_lumo`` or
        :func:`taafs_sk.datasets.load_element_lumo`); it then enters as
        ``A/B mean/absdiff lumo``. Elements missing from it are errors.
    element_fractions : bool, default=True
        Append the site occupancies of block 4 (learned in ``fit``).
    on_error : {'raise', 'nan'}, default='raise'
        See :class:`~taafs_sk.featurizers.BaseFeaturizer`.
    n_jobs : int, default=None
        Ignored in practice: featurization is a vectorised table lookup.

    Attributes
    ----------
    a_site_elements_ : ndarray of str
        Elements seen on the A sites in ``fit`` (sorted), the ``A fraction`` columns.
    b_site_elements_ : ndarray of str
        Elements seen on the B sites in ``fit``, the ``B fraction`` columns.
    feature_names_out_ : ndarray of str
        Output feature names.
    n_features_in_ : int
        Number of input columns (2-D input only).
    feature_names_in_ : ndarray of str
        Input column names (DataFrame input only).

    References
    ----------
    G. Pilania et al., "Machine learning bandgaps of double perovskites", Sci. Rep. 6, 19375
    (2016). R. D. Shannon, Acta Cryst. A32, 751 (1976). V. M. Goldschmidt,
    Naturwissenschaften 14, 477 (1926).

    Examples
    --------
    >>> import pandas as pd
    >>> from taafs_sk.featurizers import DoublePerovskiteFeaturizer
    >>> sites = pd.DataFrame({"a_1": ["Sr"], "b_1": ["Ti"], "a_2": ["Sr"], "b_2": ["Ti"]})
    >>> out = DoublePerovskiteFeaturizer().set_output(transform="pandas").fit_transform(sites)
    >>> round(float(out["tolerance_factor"].iloc[0]), 4)  # (1.44 + 1.4) / (sqrt(2) 2.005)
    1.0016
    >>> round(float(out["conduction_band_edge"].iloc[0]), 2)  # Ti4+: -43.27 eV + 44.45 eV
    1.18
    >>> list(out.columns[-2:])
    ['A fraction Sr', 'B fraction Ti']
    >>> formula = DoublePerovskiteFeaturizer().fit_transform(["SrTiSrTiO6"])
    >>> bool((formula == out.to_numpy()).all())
    True
    """

    _parameter_constraints: dict = {
        **BaseFeaturizer._parameter_constraints,
        "site_columns": [list, tuple],
        "element_lumo": [Mapping, pd.Series, None],
        "element_fractions": ["boolean"],
    }

    def __init__(self, *, site_columns: Sequence[str] = ("a_1", "b_1", "a_2", "b_2"),
                 element_lumo: Mapping[str, float] | None = None,
                 element_fractions: bool = True, on_error: str = "raise",
                 n_jobs: int | None = None) -> None:
        self.site_columns = site_columns
        self.element_lumo = element_lumo
        self.element_fractions = element_fractions
        self.on_error = on_error
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ input
    def _as_entries(self, X: Any) -> np.ndarray:
        columns = list(self.site_columns)
        if len(columns) != 4:
            raise ValueError(f"site_columns must name 4 columns (A1, B1, A2, B2), got {columns}.")
        if isinstance(X, pd.DataFrame):
            if set(columns) <= set(X.columns):
                return self._rows(X[columns].to_numpy(dtype=object))
            if X.shape[1] != 1:
                raise ValueError(f"{type(self).__name__} needs the site columns {columns} "
                                 f"(see site_columns) or one column of formulas; got "
                                 f"columns {list(X.columns)}.")
        values = X.to_numpy(dtype=object) if isinstance(X, pd.DataFrame | pd.Series) else (
            np.asarray(X, dtype=object))
        if values.ndim == 2 and values.shape[1] == 4:
            return self._rows(values)
        return super()._as_entries(values)

    @staticmethod
    def _rows(values: np.ndarray) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = [tuple(row) for row in values]
        return out

    def _fit_entries(self, entries: Sequence) -> None:
        a_seen, b_seen = set(), set()
        for entry in entries:
            try:
                a1, b1, a2, b2 = self._parse(entry)
            except Exception:  # noqa: BLE001 - reported by transform, per on_error
                continue
            a_seen.update((a1, a2))
            b_seen.update((b1, b2))
        self.a_site_elements_ = np.array(sorted(a_seen), dtype=object)
        self.b_site_elements_ = np.array(sorted(b_seen), dtype=object)

    # ------------------------------------------------------------------ featurize
    def featurize(self, entry: Any) -> np.ndarray:
        """Features of one compound (with ``element_fractions=True``, after ``fit``).

        Parameters
        ----------
        entry : str or sequence of 4 str
            A formula ``'A1B1A2B2O6'`` or the A1, B1, A2, B2 site symbols.

        Returns
        -------
        features : ndarray of shape (n_features,)
            One row of :meth:`transform`; a bad entry raises its own error.
        """
        return self._featurize_one(entry if isinstance(entry, str) else tuple(entry))

    def _parse(self, entry: Any) -> tuple[str, str, str, str]:
        if isinstance(entry, str):
            match = _FORMULA.match(entry.strip())
            if match is None:
                raise ValueError(f"cannot parse formula {entry!r}: expected A1B1A2B2O6, "
                                 "e.g. 'AgNbLaAlO6'")
            entry = match.groups()
        if len(entry) != 4:
            raise ValueError(f"expected 4 site elements (A1, B1, A2, B2), got {entry!r}")
        for site, symbol in zip(("A1", "B1", "A2", "B2"), entry, strict=True):
            try:
                element(symbol)
            except ValueError as exc:
                raise ValueError(f"{exc} at site {site}") from None
        entry = tuple(s.strip() for s in entry)
        if self.element_lumo is not None:
            for site, symbol in zip(("A1", "B1", "A2", "B2"), entry, strict=True):
                if symbol not in self.element_lumo:
                    raise ValueError(f"element {symbol!r} (site {site}) is not in element_lumo")
        return entry

    def _cation_block(self, a: str, b: str) -> np.ndarray:
        """(2, n_props): the cation properties of A and B in the half A B O3."""
        qa, qb = assign_charges(a, b)
        rows = [list(cation(a, qa, "A")), list(cation(b, qb, "B"))]
        if self.element_lumo is not None:
            rows[0].append(float(self.element_lumo[a]))
            rows[1].append(float(self.element_lumo[b]))
        return np.array(rows)

    def _vocabulary(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.element_fractions:
            return np.array([], dtype=object), np.array([], dtype=object)
        check_is_fitted(self, ("a_site_elements_", "b_site_elements_"),
                        msg="element_fractions=True learns the site elements in fit: call "
                            "fit first (or pass element_fractions=False).")
        return self.a_site_elements_, self.b_site_elements_

    def _featurize_many(self, entries: Sequence) -> tuple[np.ndarray, dict[int, Exception]]:
        vocab_a, vocab_b = self._vocabulary()
        failures: dict[int, Exception] = {}
        sites = np.empty((len(entries), 4), dtype=object)
        for i, entry in enumerate(entries):
            try:
                sites[i] = self._parse(entry)
            except Exception as exc:  # noqa: BLE001 - reported per row by the base class
                failures[i] = exc
                sites[i] = _PLACEHOLDER
        # One lookup per distinct ABO3 half, then gather: (n, 2 halves, 2 sites, n_props).
        halves = np.concatenate([sites[:, :2], sites[:, 2:]])
        keys, inverse = np.unique(halves[:, 0] + "|" + halves[:, 1], return_inverse=True)
        table = []
        for k, key in enumerate(keys):
            a, b = key.split("|")
            try:
                table.append(self._cation_block(a, b))
            except Exception as exc:  # noqa: BLE001
                table.append(np.full((2, self._n_props()), np.nan))
                for i in np.flatnonzero(inverse == k) % len(entries):
                    failures.setdefault(int(i), exc)
        props = np.stack(table)[inverse].reshape(2, len(entries), 2, -1).transpose(1, 0, 2, 3)
        fractions = [(sites[:, cols, None] == vocab[None, None, :]).mean(1)
                     for cols, vocab in (([0, 2], vocab_a), ([1, 3], vocab_b))]
        features = np.hstack([assemble(props), *fractions])
        features[list(failures)] = np.nan
        return features, failures

    def _n_props(self) -> int:
        return len(CATION_PROPERTIES) + (self.element_lumo is not None)

    # ------------------------------------------------------------------ metadata
    def feature_labels(self) -> list[str]:
        """Labels: ``'{A|B} {mean|absdiff} {property}'``, ``'half {mean|absdiff} {property}'``,
        the :data:`COMPOUND_PROPERTIES`, then ``'{A|B} fraction {element}'``."""
        props = list(CATION_PROPERTIES) + (["lumo"] if self.element_lumo is not None else [])
        labels = [f"{site} {stat} {p}" for site in ("A", "B") for stat in ("mean", "absdiff")
                  for p in props]
        labels += [f"half {stat} {p}" for stat in ("mean", "absdiff") for p in HALF_PROPERTIES]
        labels += list(COMPOUND_PROPERTIES)
        vocab_a, vocab_b = self._vocabulary()
        return (labels + [f"A fraction {el}" for el in vocab_a]
                + [f"B fraction {el}" for el in vocab_b])

    def citations(self) -> list[str]:
        """BibTeX for Pilania et al. (the task) and Shannon's radii."""
        return [
            "@article{pilania2016,\n  author = {Pilania, G. and Mannodi-Kanakkithodi, A. and "
            "Uberuaga, B. P. and Ramprasad, R. and Gubernatis, J. E. and Lookman, T.},\n"
            "  title = {Machine learning bandgaps of double perovskites},\n"
            "  journal = {Scientific Reports}, volume = {6}, pages = {19375}, year = {2016},\n"
            "  doi = {10.1038/srep19375}\n}",
            "@article{shannon1976,\n  author = {Shannon, R. D.},\n  title = {Revised effective "
            "ionic radii and systematic studies of interatomic distances in halides and "
            "chalcogenides},\n  journal = {Acta Crystallographica A}, volume = {32},\n"
            "  pages = {751--767}, year = {1976}, doi = {10.1107/S0567739476001551}\n}",
        ]
