"""Element and property tables of the double perovskite featurizer: oxidation states, Shannon
radii, per-cation properties, Madelung potentials of the cubic ABO3 halves and the point-ion
band edges."""

from __future__ import annotations

import functools

import numpy as np
from pymatgen.core import Element

__all__ = ["CATION_PROPERTIES", "COMPOUND_PROPERTIES", "HALF_PROPERTIES", "MADELUNG",
           "O_SECOND_ELECTRON_AFFINITY", "R_OXYGEN", "assemble", "assign_charges", "cation",
           "element"]

R_OXYGEN = 1.40  # Shannon ionic radius of O2- (CN VI), Angstrom
#: Second electron affinity of oxygen (O- + e -> O2-), eV. The free O2- ion is unbound; Born-Haber
#: estimates of this energy range from -7.7 to -8.8 eV. Only its order of magnitude matters here:
#: it places the O 2p level against the occupied levels of lone-pair and d10 cations.
O_SECOND_ELECTRON_AFFINITY = -8.0
#: Madelung site potentials of the ideal cubic perovskite ABO3 with charges qA, qB = 6 - qA and
#: -2, as ``phi(site) * a = c0 + c1 * qA`` in V Angstrom (a: cubic lattice constant). Computed
#: with ``pymatgen.analysis.ewald.EwaldSummation`` (checked in the tests); e.g. SrTiO3
#: (a = 3.905 A) gives -19.9 V at Sr, -45.6 V at Ti and +23.8 V at O.
MADELUNG = {"A": (-18.95694, -29.30848), "B": (-236.84812, 29.30848), "O": (106.97622, -7.00671)}
_CN_ORDER = {"A": ("XII", "XI", "X", "IX", "VIII", "VII", "VI"),
             "B": ("VI", "V", "VII", "IV", "VIII")}

#: Per-cation properties: name -> (unit, meaning). Each enters as the mean and the absolute
#: difference over the two A cations and over the two B cations.
CATION_PROPERTIES = {
    "row": ("", "period"),
    "group": ("", "group (1-18; 3 for lanthanides)"),
    "electronegativity": ("", "Pauling electronegativity"),
    "oxidation_state": ("", "assigned oxidation state q (qA + qB = 6 in each ABO3 half)"),
    "ionic_radius": ("A", "Shannon ionic radius at q, CN XII for A, VI for B (or nearest CN)"),
    "ionic_potential": ("1/A", "q / ionic_radius (Cartledge's ionic potential)"),
    "acceptor_ionization_energy": ("eV", "ionisation energy q of the atom: the electron "
                                         "affinity of the bare cation, i.e. minus its lowest "
                                         "empty level (d for d0, s for s0 cations)"),
    "donor_ionization_energy": ("eV", "ionisation energy q + 1: minus the cation's highest "
                                      "occupied level (ns2 lone pair, d10 shell or core p)"),
    "d_electrons": ("", "d electrons left on the cation (0 for d0, 10 for d10)"),
    "lone_pair": ("", "ns2 lone-pair electrons left on a p-block cation"),
}
#: Per-half (ABO3) properties, entering as the mean and |difference| over the two halves.
HALF_PROPERTIES = {
    "tolerance_factor": ("", "Goldschmidt (rA + rO) / (sqrt(2) (rB + rO)) of one ABO3 half"),
    "octahedral_factor": ("", "rB / rO of one ABO3 half"),
    "lattice_constant": ("A", "cubic lattice constant 2 (rB + rO) of one ABO3 half"),
    "madelung_A": ("V", "point-ion (Madelung) potential at the A site of that cubic half"),
    "madelung_B": ("V", "Madelung potential at the B site"),
    "madelung_O": ("V", "Madelung potential at the O site"),
}
#: Compound properties: point-ion band edges and the site-averaged geometry factors.
COMPOUND_PROPERTIES = {
    "conduction_band_edge": ("eV", "lowest empty cation level in the crystal, min over the 4 "
                                   "cations of -acceptor_ionization_energy - phi(site)"),
    "valence_band_edge": ("eV", "highest occupied level: max over the 4 cations of "
                                "-donor_ionization_energy - phi(site) and over the two halves "
                                "of the O 2p level -EA2(O) - phi(O)"),
    "ionic_gap": ("eV", "conduction_band_edge - valence_band_edge"),
    "charge_transfer_gap_min": ("eV", "min over the halves of (lowest empty level of this half "
                                      "- highest occupied level of the other half)"),
    "charge_transfer_gap_max": ("eV", "the max of the same two"),
    "tolerance_factor": ("", "tolerance factor of the averaged sites (mean rA, mean rB)"),
    "octahedral_factor": ("", "octahedral factor mean(rB) / rO"),
}
_P = {name: i for i, name in enumerate(CATION_PROPERTIES)}


def _n_valence(el: Element) -> int:
    group = 3 if el.block == "f" else el.group
    return group - 10 if group >= 13 else group


@functools.cache
def element(symbol: str) -> Element:
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
def assign_charges(a: str, b: str) -> tuple[int, int]:
    """Most plausible (qA, qB) with qA + qB = 6 and qA in 1..3 (B-site states weigh double)."""
    ea, eb = element(a), element(b)
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


@functools.cache
def cation(symbol: str, q: int, site: str) -> tuple[float, ...]:
    """The :data:`CATION_PROPERTIES` of ``symbol`` in oxidation state ``q`` on ``site``."""
    el = element(symbol)
    if el.X != el.X or el.X is None:
        raise ValueError(f"{symbol} has no tabulated electronegativity")
    ies = el.ionization_energies
    if len(ies) < q + 1 or any(e is None or e != e for e in ies[q - 1:q + 1]):
        raise ValueError(f"{symbol} has no tabulated ionisation energies {q} and {q + 1}")
    n_val, row = _n_valence(el), el.row
    d_block = el.block in ("d", "f") and n_val <= 12
    d_el = max(n_val - q, 0) if d_block else (10 if el.block == "p" and row >= 4 else 0)
    radius = _ionic_radius(el, q, site)
    values = {
        "row": row, "group": 3 if el.block == "f" else el.group, "electronegativity": el.X,
        "oxidation_state": q, "ionic_radius": radius, "ionic_potential": q / radius,
        "acceptor_ionization_energy": ies[q - 1], "donor_ionization_energy": ies[q],
        "d_electrons": d_el, "lone_pair": max(n_val - q, 0) if el.block == "p" else 0,
    }
    return tuple(float(values[name]) for name in CATION_PROPERTIES)


def _madelung(q_a: np.ndarray, lattice_constant: np.ndarray, site: str) -> np.ndarray:
    c0, c1 = MADELUNG[site]
    return (c0 + c1 * q_a) / lattice_constant



def assemble(props: np.ndarray) -> np.ndarray:
    """props: (n, half, site A/B, property) -> (n, n_features) of blocks 1-3."""
    a, b = props[:, :, 0], props[:, :, 1]  # (n, 2 halves, p)
    blocks = [a.mean(1), np.abs(a[:, 0] - a[:, 1]), b.mean(1), np.abs(b[:, 0] - b[:, 1])]
    r_a, r_b = a[..., _P["ionic_radius"]], b[..., _P["ionic_radius"]]  # (n, 2)
    q_a = a[..., _P["oxidation_state"]]
    lattice = 2.0 * (r_b + R_OXYGEN)
    phi = {site: _madelung(q_a, lattice, site) for site in MADELUNG}
    half = np.stack([(r_a + R_OXYGEN) / (np.sqrt(2.0) * (r_b + R_OXYGEN)), r_b / R_OXYGEN,
                     lattice, phi["A"], phi["B"], phi["O"]], axis=-1)  # (n, 2, k)
    blocks += [half.mean(1), np.abs(half[:, 0] - half[:, 1])]
    accept, donate = _P["acceptor_ionization_energy"], _P["donor_ionization_energy"]
    empty = np.minimum(-a[..., accept] - phi["A"], -b[..., accept] - phi["B"])  # (n, 2)
    occupied = np.maximum.reduce([-a[..., donate] - phi["A"], -b[..., donate] - phi["B"],
                                  -O_SECOND_ELECTRON_AFFINITY - phi["O"]])
    cbm, vbm = empty.min(1), occupied.max(1)
    transfer = np.stack([empty[:, 0] - occupied[:, 1], empty[:, 1] - occupied[:, 0]], 1)
    mean_ra, mean_rb = r_a.mean(1), r_b.mean(1)
    blocks.append(np.column_stack([
        cbm, vbm, cbm - vbm, transfer.min(1), transfer.max(1),
        (mean_ra + R_OXYGEN) / (np.sqrt(2.0) * (mean_rb + R_OXYGEN)), mean_rb / R_OXYGEN]))
    return np.hstack(blocks)

