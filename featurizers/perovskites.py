"""Double perovskite featurizer: A1 B1 A2 B2 O6 site elements (or formulas) -> symmetrised
elemental properties, tolerance and octahedral factors."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pymatgen.core import Element
from sklearn.utils._param_validation import StrOptions

from ._base import BaseFeaturizer

__all__ = ["DoublePerovskiteFeaturizer"]

HARTREE_IN_EV = 27.211386245988
R_OXYGEN = 1.40  # Shannon ionic radius of O2- (CN VI), Angstrom
_CN_ORDER = {"A": ("XII", "XI", "X", "IX", "VIII", "VII", "VI"),
             "B": ("VI", "V", "VII", "IV", "VIII")}
_FORMULA = re.compile(r"^([A-Z][a-z]?)([A-Z][a-z]?)([A-Z][a-z]?)([A-Z][a-z]?)O6$")

#: Per-cation properties: name -> (unit, meaning). Each enters as A/B site mean and |difference|.
CATION_PROPERTIES = {
    "Z": ("", "atomic number"),
    "row": ("", "period"),
    "group": ("", "group (1-18; 3 for lanthanides)"),
    "mendeleev_number": ("", "Pettifor's Mendeleev number"),
    "atomic_mass": ("amu", "atomic mass"),
    "electronegativity": ("", "Pauling electronegativity"),
    "ionization_energy": ("eV", "first ionisation energy"),
    "electron_affinity": ("eV", "electron affinity (0 if none tabulated)"),
    "atomic_radius": ("A", "empirical atomic radius"),
    "oxidation_state": ("", "assigned oxidation state (charge balance A + B = 6 per ABO3)"),
    "ionic_radius": ("A", "Shannon ionic radius at that state, CN XII for A, VI for B"),
    "last_ionization_energy": ("eV", "energy to remove the last electron of the cation"),
    "d_electrons": ("", "d electrons left on the cation"),
    "lone_pair": ("", "ns2 lone-pair electrons left on a p-block cation"),
    "s_orbital_energy": ("eV", "outermost s orbital energy of the atom (LDA)"),
    "d_orbital_energy": ("eV", "outermost d orbital energy of the atom (LDA; 0 if none)"),
    "homo_energy": ("eV", "highest occupied orbital energy of the atom (LDA)"),
    "acceptor_energy": ("eV", "energy of the cation's lowest empty valence orbital (LDA "
                              "d level for d0 transition metals, else the s level)"),
}
#: Per-half (ABO3) properties, entering as mean and |difference| over the two halves.
HALF_PROPERTIES = {
    "tolerance_factor": ("", "Goldschmidt (rA + rO) / (sqrt(2) (rB + rO)) of one ABO3 half"),
    "octahedral_factor": ("", "rB / rO of one ABO3 half"),
    "electronegativity_difference": ("", "chi(O) - chi(B) of one ABO3 half"),
    "acceptor_minus_homo": ("eV", "acceptor energy of B minus HOMO of A in one ABO3 half"),
}


def _n_valence(el: Element) -> int:
    group = 3 if el.block == "f" else el.group
    return group - 10 if group >= 13 else group


@functools.cache
def _element(symbol: str) -> Element:
    if not isinstance(symbol, str):
        raise ValueError(f"element symbol must be a string, got {symbol!r}")
    try:
        return Element(symbol.strip())
    except (ValueError, KeyError) as exc:
        raise ValueError(f"unknown element {symbol!r}") from exc


def _oxidation_score(el: Element, q: int) -> float:
    return (2.0 * (q in el.common_oxidation_states) + (q in el.icsd_oxidation_states)
            + 0.5 * (q in el.oxidation_states))


@functools.cache
def _assign_charges(a: str, b: str) -> tuple[int, int]:
    """Most plausible (qA, qB) with qA + qB = 6 and qA in 1..3 (B-site states weigh double)."""
    ea, eb = _element(a), _element(b)
    scores = {qa: _oxidation_score(ea, qa) + 2.0 * _oxidation_score(eb, 6 - qa)
              for qa in (1, 2, 3)}
    qa = max(scores, key=lambda q: (scores[q], -abs(q - _n_valence(ea))))
    return qa, 6 - qa


def _ionic_radius(el: Element, q: int, site: str) -> float:
    shannon = el.data.get("Shannon radii", {}).get(str(q), {})
    for cn in _CN_ORDER[site]:
        if cn in shannon:
            spins = shannon[cn]
            spin = "High Spin" if "High Spin" in spins else next(iter(spins))
            return float(spins[spin]["ionic_radius"])
    if shannon:  # any other coordination
        first = next(iter(shannon.values()))
        return float(next(iter(first.values()))["ionic_radius"])
    tabulated = el.data.get("Ionic radii", {}).get(str(q))
    if tabulated is not None:
        return float(tabulated)
    return float(el.average_ionic_radius or el.atomic_radius)


def _outer(orbitals: Mapping[str, float], kind: str) -> float:
    levels = [(int(name[:-1]), e) for name, e in orbitals.items() if name.endswith(kind)]
    return max(levels)[1] * HARTREE_IN_EV if levels else 0.0


@functools.cache
def _cation(symbol: str, q: int, site: str) -> tuple[float, ...]:
    el = _element(symbol)
    if el.X != el.X or el.X is None:
        raise ValueError(f"{symbol} has no tabulated electronegativity")
    n_val, row = _n_valence(el), el.row
    d_block = el.block in ("d", "f") and _n_valence(el) <= 12
    d_el = max(n_val - q, 0) if d_block else (10 if el.block == "p" and row >= 4 else 0)
    lone = max(n_val - q, 0) if el.block == "p" else 0
    orbitals = el.atomic_orbitals or {}
    e_s, e_d = _outer(orbitals, "s"), _outer(orbitals, "d")
    ies = el.ionization_energies
    values = {
        "Z": el.Z, "row": row, "group": 3 if el.block == "f" else el.group,
        "mendeleev_number": el.mendeleev_no, "atomic_mass": float(el.atomic_mass),
        "electronegativity": el.X, "ionization_energy": ies[0],
        "electron_affinity": el.electron_affinity or 0.0,
        "atomic_radius": float(el.atomic_radius or 0.0), "oxidation_state": q,
        "ionic_radius": _ionic_radius(el, q, site),
        "last_ionization_energy": ies[q - 1] if len(ies) >= q else np.nan,
        "d_electrons": d_el, "lone_pair": lone, "s_orbital_energy": e_s, "d_orbital_energy": e_d,
        "homo_energy": max(orbitals.values(), default=0.0) * HARTREE_IN_EV,
        "acceptor_energy": e_d if (d_block and d_el == 0 and e_d) else e_s,
    }
    return tuple(float(values[name]) for name in CATION_PROPERTIES)


_IDX = {name: i for i, name in enumerate(CATION_PROPERTIES)}


def _half(a_props: np.ndarray, b_props: np.ndarray) -> np.ndarray:
    """Per-half properties, vectorised over rows: inputs (n, n_cation_props)."""
    r_a, r_b = a_props[:, _IDX["ionic_radius"]], b_props[:, _IDX["ionic_radius"]]
    chi_o = 3.44
    return np.column_stack([
        (r_a + R_OXYGEN) / (np.sqrt(2.0) * (r_b + R_OXYGEN)),
        r_b / R_OXYGEN,
        chi_o - b_props[:, _IDX["electronegativity"]],
        b_props[:, _IDX["acceptor_energy"]] - a_props[:, _IDX["homo_energy"]],
    ])


class DoublePerovskiteFeaturizer(BaseFeaturizer):
    """Featurize double perovskites A1 B1 A2 B2 O6 from their site elements.

    Each ABO3 half gets oxidation states (qA + qB = 6, the most common states of the two
    elements), Shannon ionic radii (CN XII for A, VI for B, falling back to the nearest
    tabulated coordination, then to pymatgen's ionic radii) and the elemental properties of
    :data:`CATION_PROPERTIES` (pymatgen's shipped data: Pauling electronegativity,
    ionisation energies, LDA atomic orbital energies, ...). Features are symmetric under
    swapping A1 with A2 and B1 with B2: for each property, the mean and the absolute
    difference over the two A cations and over the two B cations (``A mean ionic_radius``,
    ``B absdiff electronegativity``, ...); then the same for the per-half properties of
    :data:`HALF_PROPERTIES` (``half mean tolerance_factor``, ...); then the tolerance and
    octahedral factors of the averaged sites:

    .. math::

        t = \\frac{\\bar r_A + r_O}{\\sqrt{2}\\,(\\bar r_B + r_O)}, \\qquad
        \\mu = \\bar r_B / r_O, \\qquad r_O = 1.40\\,\\text{\\AA}.

    Parameters
    ----------
    site_columns : sequence of 4 str, default=('a_1', 'b_1', 'a_2', 'b_2')
        Columns of a DataFrame input holding the A1, B1, A2, B2 elements (matminer's
        ``double_perovskites_gap`` names). A 2-D array with 4 columns is read in this order;
        a 1-D input, a Series or a one-column input holds formulas ``A1B1A2B2O6``.
    element_lumo : mapping of str to float, default=None
        Optional extra per-element property, e.g. Pilania's elemental LUMO table (eV); it then
        enters as ``A/B mean/absdiff lumo``. Elements missing from it are errors.
    on_error : {'raise', 'nan'}, default='raise'
        See :class:`~featurizers.BaseFeaturizer`.
    n_jobs : int, default=None
        Ignored in practice: featurization is a vectorised table lookup.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Output feature names.
    n_features_in_ : int
        Number of input columns (2-D input only).
    feature_names_in_ : ndarray of str
        Input column names (DataFrame input only).

    References
    ----------
    G. Pilania et al., "Machine learning bandgaps of double perovskites", Sci. Rep. 6, 19375
    (2016). R. D. Shannon, Acta Cryst. A32, 751 (1976).

    Examples
    --------
    >>> import pandas as pd
    >>> from featurizers import DoublePerovskiteFeaturizer
    >>> sites = pd.DataFrame({"a_1": ["Sr"], "b_1": ["Ti"], "a_2": ["Sr"], "b_2": ["Ti"]})
    >>> out = DoublePerovskiteFeaturizer().set_output(transform="pandas").fit_transform(sites)
    >>> round(float(out["tolerance_factor"].iloc[0]), 4)  # (1.44 + 1.4) / (sqrt(2) 2.005)
    1.0015
    >>> float(DoublePerovskiteFeaturizer().fit_transform(["SrTiSrTiO6"])[0, -2]) == float(
    ...     out["tolerance_factor"].iloc[0])
    True
    """

    _parameter_constraints: dict = {
        **BaseFeaturizer._parameter_constraints,
        "site_columns": [list, tuple],
        "element_lumo": [Mapping, pd.Series, None],
        "on_error": [StrOptions({"raise", "nan"})],
    }

    def __init__(self, *, site_columns: Sequence[str] = ("a_1", "b_1", "a_2", "b_2"),
                 element_lumo: Mapping[str, float] | None = None, on_error: str = "raise",
                 n_jobs: int | None = None) -> None:
        self.site_columns = site_columns
        self.element_lumo = element_lumo
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

    # ------------------------------------------------------------------ featurize
    def featurize(self, entry: Any) -> np.ndarray:
        """Features of one compound: a formula ``'A1B1A2B2O6'`` or 4 site symbols."""
        features, failures = self._featurize_many(self._rows_or_formula([entry]))
        if failures:
            raise failures[0]
        return features[0]

    @staticmethod
    def _rows_or_formula(entries: Sequence) -> np.ndarray:
        out = np.empty(len(entries), dtype=object)
        out[:] = [e if isinstance(e, str) else tuple(e) for e in entries]
        return out

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
                _element(symbol)
            except ValueError as exc:
                raise ValueError(f"{exc} at site {site}") from None
            if self.element_lumo is not None and symbol not in self.element_lumo:
                raise ValueError(f"element {symbol!r} (site {site}) is not in element_lumo")
        return tuple(s.strip() for s in entry)

    def _cation_block(self, a: str, b: str) -> np.ndarray:
        qa, qb = _assign_charges(a, b)
        rows = [list(_cation(a, qa, "A")), list(_cation(b, qb, "B"))]
        if self.element_lumo is not None:
            rows[0].append(float(self.element_lumo[a]))
            rows[1].append(float(self.element_lumo[b]))
        return np.array(rows)

    def _featurize_many(self, entries: Sequence) -> tuple[np.ndarray, dict[int, Exception]]:
        failures: dict[int, Exception] = {}
        sites = np.empty((len(entries), 4), dtype=object)
        for i, entry in enumerate(entries):
            try:
                sites[i] = self._parse(entry)
            except Exception as exc:  # noqa: BLE001 - reported per row by the base class
                failures[i] = exc
                sites[i] = ("H", "H", "H", "H")
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
        features = self._assemble(props)
        features[list(failures)] = np.nan
        return features, failures

    def _n_props(self) -> int:
        return len(CATION_PROPERTIES) + (self.element_lumo is not None)

    @staticmethod
    def _assemble(props: np.ndarray) -> np.ndarray:
        """props: (n, half, site A/B, property) -> (n, n_features)."""
        a, b = props[:, :, 0], props[:, :, 1]  # (n, 2, p)
        blocks = [a.mean(1), np.abs(a[:, 0] - a[:, 1]), b.mean(1), np.abs(b[:, 0] - b[:, 1])]
        half = np.stack([_half(a[:, h], b[:, h]) for h in (0, 1)], axis=1)  # (n, 2, k)
        blocks += [half.mean(1), np.abs(half[:, 0] - half[:, 1])]
        r_a = a[:, :, _IDX["ionic_radius"]].mean(1)
        r_b = b[:, :, _IDX["ionic_radius"]].mean(1)
        blocks.append(np.column_stack([(r_a + R_OXYGEN) / (np.sqrt(2.0) * (r_b + R_OXYGEN)),
                                       r_b / R_OXYGEN]))
        return np.hstack(blocks)

    # ------------------------------------------------------------------ metadata
    def feature_labels(self) -> list[str]:
        """Labels ``'{site} {stat} {property}'``, then the two averaged-site factors."""
        props = list(CATION_PROPERTIES) + (["lumo"] if self.element_lumo is not None else [])
        labels = [f"{site} {stat} {p}" for site in ("A", "B") for stat in ("mean", "absdiff")
                  for p in props]
        labels += [f"half {stat} {p}" for stat in ("mean", "absdiff") for p in HALF_PROPERTIES]
        return labels + ["tolerance_factor", "octahedral_factor"]

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

    def implementors(self) -> list[str]:
        return ["taafs-sk developers"]
