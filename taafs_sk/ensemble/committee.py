r"""Committee energies and forces of an ensemble of potentials.

For members :math:`m = 1..M` with energies :math:`E_m` and forces :math:`\mathbf F_{m,i}`:
the committee energy is :math:`\bar E`, its std :math:`\sqrt{\frac1M\sum_m (E_m-\bar E)^2}`;
the per-atom force std is the root mean square deviation of the force *vectors*,
:math:`\sigma_{F,i} = \sqrt{\frac1M\sum_m \lVert \mathbf F_{m,i} - \bar{\mathbf F}_i\rVert^2}`,
the quantity whose maximum over atoms is DeePMD-kit's ``max_devi_f`` (the model deviation
that DP-GEN's active learning thresholds).
"""

from __future__ import annotations

import numpy as np

__all__ = ["committee_energies_and_forces", "committee_forces", "force_std", "spread"]


def spread(values: np.ndarray) -> np.ndarray:
    """Std over the members (axis 0, ddof=0), exactly zero where all members agree.

    Computed on the deviations from the first member (the mean of identical floats need
    not equal them, so ``np.std`` alone can leave a spread of a few ulps).

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.ensemble.committee import spread
    >>> spread(np.array([[0.1, 1.0], [0.1, 3.0], [0.1, 2.0]]))
    array([0.        , 0.81649658])
    """
    return np.std(values - values[0], axis=0)


def force_std(forces: np.ndarray) -> np.ndarray:
    """Per-atom force std of member forces of shape ``(n_members, n_atoms, 3)``.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.ensemble.committee import force_std
    >>> f = np.zeros((2, 1, 3)); f[0, 0, 0], f[1, 0, 0] = 1.0, -1.0
    >>> force_std(f)
    array([1.])
    """
    shifted = forces - forces[0]  # (M, N, 3); exactly zero where the members agree
    deviation = shifted - shifted.mean(axis=0)
    return np.sqrt(np.mean(np.sum(deviation**2, axis=-1), axis=0))  # (N,)


def _split(values: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    return np.split(values, np.cumsum(sizes)[:-1])


def _stack(force_lists: list[list[np.ndarray]]) -> tuple[np.ndarray, list[int]]:
    """Members' force lists as one ``(n_members, n_atoms_total, 3)`` array, and the sizes."""
    sizes = [len(f) for f in force_lists[0]]
    return np.stack([np.concatenate(f) for f in force_lists]), sizes


def committee_forces(members, X, return_std: bool):
    """Mean forces (and per-atom force std) of ``members`` on the structures ``X``."""
    stacked, sizes = _stack([m.predict_forces(X) for m in members])
    mean = _split(stacked.mean(axis=0), sizes)
    return (mean, _split(force_std(stacked), sizes)) if return_std else mean


def committee_energies_and_forces(members, X, return_std: bool):
    """Mean energies and forces (and the raw energy std and per-atom force std)."""
    outputs = [m.predict_energies_and_forces(X) for m in members]
    energies = np.stack([np.asarray(e, dtype=np.float64) for e, _ in outputs])  # (M, S)
    stacked, sizes = _stack([f for _, f in outputs])
    forces = _split(stacked.mean(axis=0), sizes)
    if not return_std:
        return energies.mean(axis=0), forces
    return (energies.mean(axis=0), forces, spread(energies),
            _split(force_std(stacked), sizes))
