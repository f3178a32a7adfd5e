"""An ASE calculator backed by a fitted committee of potentials
(:class:`~taafs_sk.ensemble.EnsembleRegressor` of :class:`~taafs_sk.atomistic.TAAFSPotential`).

Needs ase (the ``atomistic`` extra); imported by ``EnsembleRegressor.as_calculator``.
"""

from __future__ import annotations

try:
    from ase.calculators.calculator import Calculator, all_changes
except ImportError as exc:  # pragma: no cover - the atomistic extra is missing
    raise ImportError("taafs_sk.ensemble.calculator needs ase: "
                      "pip install taafs-sk[atomistic]") from exc

__all__ = ["CommitteeCalculator"]


class CommitteeCalculator(Calculator):
    """ASE calculator of a committee: mean energy and forces, and their spread.

    ``results`` carry the standard ``energy``, ``free_energy`` and ``forces`` (the members'
    means) and two committee properties, listed in ``implemented_properties`` so that
    ``calc.get_property("forces_std", atoms)`` works (as MACE's committee calculator lists
    its ``energy_var``):

    - ``energy_std`` (float, eV): the std of the members' energies (calibrated when the
      ensemble has ``calibrate``);
    - ``forces_std`` (ndarray of shape ``(n_atoms,)``, eV/Å): the per-atom force std, the
      RMS deviation of the members' force vectors (see :mod:`taafs_sk.ensemble.committee`);
      its maximum is DeePMD-kit's ``max_devi_f``.

    Parameters
    ----------
    ensemble : EnsembleRegressor
        A fitted ensemble of potentials (``ensemble.as_calculator()`` builds this).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk import EnsembleRegressor
    >>> from taafs_sk.atomistic import TAAFSPotential
    >>> frames = []
    >>> for k in range(3):
    ...     atoms = bulk("Cu", cubic=True).repeat(2)
    ...     atoms.rattle(0.05, seed=k)
    ...     atoms.calc = EMT()
    ...     frames.append(atoms)
    >>> pot = TAAFSPotential((8,), basis="tanh", max_epochs=2, early_stopping=False)
    >>> committee = EnsembleRegressor(pot, n_members=2, random_state=0).fit(frames)
    >>> atoms = frames[0].copy()
    >>> atoms.calc = committee.as_calculator()
    >>> atoms.get_forces().shape, atoms.calc.results["forces_std"].shape
    ((32, 3), (32,))
    """

    implemented_properties = ["energy", "free_energy", "forces", "energy_std", "forces_std"]

    def __init__(self, ensemble, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ensemble = ensemble

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        energies, forces, energy_std, forces_std = self.ensemble.predict_energies_and_forces(
            [self.atoms], return_std=True)
        energy = float(energies[0])
        self.results = {"energy": energy, "free_energy": energy, "forces": forces[0],
                        "energy_std": float(energy_std[0]), "forces_std": forces_std[0]}
