"""The fixed output columns of the hydrocarbon featurizer and the ring fusion patterns."""

from __future__ import annotations

import numpy as np

__all__ = ["FIXED_FEATURES", "MAX_SEXTETS", "N_PATTERNS", "PATTERN_OF_BITS", "PATTERNS",
           "RUN_CODES"]

MAX_SEXTETS = 8  # resonant sets of up to this many sextets are counted


def _bracelets() -> tuple[np.ndarray, list[str]]:
    """Canonical class of each 6-bit fusion pattern under rotation and reflection."""
    canonical = {}
    for bits in range(64):
        word = format(bits, "06b")
        rotations = [word[i:] + word[:i] for i in range(6)]
        canonical[bits] = max(rotations + [r[::-1] for r in rotations])
    names = sorted(set(canonical.values()), key=lambda w: (w.count("1"), w[::-1]))
    return np.array([names.index(canonical[bits]) for bits in range(64)]), names


#: PATTERN_OF_BITS[bits]: the pattern class of a ring whose fused edges are ``bits``.
PATTERN_OF_BITS, PATTERNS = _bracelets()
N_PATTERNS = len(PATTERNS)  # 13 ring patterns
_RUNS_C = ("fissure", "bay", "cove", "fjord", "lagoon")  # 1, 2, 3, 4, 5+ fused C in a row
_RUNS_H = ("solo", "duo", "trio", "quartet")  # 1-4 CH in a row
RUN_CODES = [(3, 0b101), (4, 0b1001), (5, 0b10001), (6, 0b100001), (6, 0b100000),
              (3, 0b010), (4, 0b0110), (5, 0b01110), (6, 0b011110)]  # (length, h=1 c=0)

#: The fixed columns: name -> what it counts (the learned vocabulary columns follow them).
FIXED_FEATURES = {
    "n_C": "carbon atoms",
    "n_CH": "CH carbons (in one ring; equals the number of hydrogens)",
    "n_C_fused": "carbons shared by two rings (fusion carbons on the perimeter)",
    "n_C_internal": "internal carbons shared by three rings",
    "n_rings": "six-membered rings",
    "n_fused_bonds": "C-C bonds shared by two rings",
    **{f"n_rings_degree_{d}": f"rings fused to {d} other rings" for d in range(7)},
    **{f"n_rings_pattern_{p}": f"rings whose edges, read around the ring, are fused (1) or "
       f"free (0) as {p} (canonical under rotation and reflection)" for p in PATTERNS},
    "n_annelation_ortho": "pairs of adjacent fused edges of a ring (peri fusion)",
    "n_annelation_meta": "pairs of fused edges of a ring two apart (angular annelation)",
    "n_annelation_para": "pairs of opposite fused edges of a ring (linear annelation)",
    "n_perimeter_C": "carbons on the perimeter (all but the internal ones)",
    **{f"n_{r}": f"{r} regions: {k}{'+' if k == 5 else ''} fused carbons in a row on the "
       "perimeter between two CH" for k, r in enumerate(_RUNS_C, 1)},
    **{f"n_CH_{r}": f"{r} CH groups: {k} CH in a row on the perimeter between fused "
       "carbons" for k, r in enumerate(_RUNS_H, 1)},
    "steric_HH": "sum of (2.4 A - r)^2 over H...H pairs closer than 2.4 A in the idealised "
                 "planar geometry (hydrogens on carbons two or more bonds apart), A^2",
    "n_HH_clash": "H...H pairs closer than 1.0 A in the planar geometry (coves and worse)",
    "n_HH_close": "H...H pairs at 1.0-2.0 A in the planar geometry (bays, fjords)",
    "n_HH_contact": "H...H pairs at 2.0-2.4 A in the planar geometry",
    "steric_CH": "sum of (2.9 A - r)^2 over C...H pairs closer than 2.9 A in the planar "
                 "geometry (carbon two or more bonds from the H's carbon), A^2",
    "n_CH_contact": "C...H pairs closer than 2.9 A in the planar geometry",
    "steric_CC": "sum of (3.4 A - r)^2 over C...C pairs four or more bonds apart and closer "
                 "than 3.4 A in the planar geometry (overlapping helicene turns), A^2",
    "n_CC_contact": "C...C pairs four or more bonds apart closer than 3.4 A",
    "n_CC_overlap": "C...C pairs that coincide in the planar geometry (closer than 0.5 A)",
    "huckel_pi_energy": "Hueckel total pi energy, 2 x the sum of occupied eigenvalues, |beta|",
    "huckel_gap": "Hueckel HOMO-LUMO gap, |beta|",
    "log_kekule": "natural log of the number of Kekule structures",
    "pauling_ring_min": "smallest ring sum of Pauling bond orders (3 for a full Clar sextet, "
                        "1.5 for an empty ring)",
    "pauling_ring_mean": "mean ring sum of Pauling bond orders",
    "pauling_ring_max": "largest ring sum of Pauling bond orders",
    "pauling_ring_std": "standard deviation of the ring sums of Pauling bond orders",
    "pauling_bond_min": "smallest Pauling bond order",
    "pauling_bond_max": "largest Pauling bond order",
    "clar_number": "Clar number: the most disjoint sextets leaving a Kekule structure",
    "n_clar_structures": "number of sets of clar_number such sextets (Clar structures)",
    **{f"n_resonant_sets_{k}": f"resonant sets of {k} disjoint sextets (sextet polynomial "
       f"coefficient of x^{k}; k=1: rings that can hold a sextet)"
       for k in range(1, MAX_SEXTETS + 1)},
}

