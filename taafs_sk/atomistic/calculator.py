"""An ASE calculator backed by a fitted :class:`~taafs_sk.atomistic.TAAFSPotential`."""

from __future__ import annotations

from .._validation._text import short
from ._deps import require

_calculator = require("ase.calculators.calculator")
_Atoms = require("ase").Atoms

__all__ = ["TAAFSCalculator"]


class TAAFSCalculator(_calculator.Calculator):
    """ASE calculator giving the energy, forces and stress of a fitted potential.

    The stress (eV/Å³, ASE's sign and Voigt order) is computed when asked for
    (``atoms.get_stress()``, NPT dynamics such as ``ase.md.nptberendsen.NPTBerendsen``, cell
    relaxation with ``ase.filters.FrechetCellFilter``), for structures periodic along all
    three directions; asking for the stress of any other structure raises ``ValueError``.

    Parameters
    ----------
    potential : TAAFSPotential
        A fitted potential (``potential.as_calculator()`` builds this).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk.atomistic import TAAFSPotential
    >>> frames = []
    >>> for k in range(3):
    ...     atoms = bulk("Cu", cubic=True).repeat(2)
    ...     atoms.rattle(0.05, seed=k)
    ...     atoms.calc = EMT()
    ...     frames.append(atoms)
    >>> pot = TAAFSPotential((8,), basis="tanh", max_epochs=2, early_stopping=False,
    ...                      random_state=0).fit(frames)
    >>> atoms = frames[0].copy()
    >>> atoms.calc = pot.as_calculator()
    >>> atoms.get_forces().shape, atoms.get_stress().shape
    ((32, 3), (6,))
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, potential, **kwargs) -> None:
        from sklearn.utils.validation import check_is_fitted

        from .potential import TAAFSPotential  # it imports this module when asked

        if not isinstance(potential, TAAFSPotential):
            raise TypeError(f"potential of TAAFSCalculator must be a fitted TAAFSPotential, got "
                            f"{short(potential)} ({type(potential).__name__}).")
        check_is_fitted(potential, "module_")
        super().__init__(**kwargs)
        self.potential = potential

    def calculate(self, atoms=None, properties=("energy",),
                  system_changes=_calculator.all_changes) -> None:
        if atoms is not None and not isinstance(atoms, _Atoms):
            raise TypeError(f"atoms of TAAFSCalculator.calculate must be an ase.Atoms, got "
                            f"{short(atoms)} ({type(atoms).__name__}).")
        super().calculate(atoms, properties, system_changes)
        energies, forces = self.potential.predict_energies_and_forces([self.atoms])
        energy = float(energies[0])
        self.results = {"energy": energy, "free_energy": energy, "forces": forces[0]}
        if "stress" in properties:
            self.results["stress"] = self.potential.predict_stress([self.atoms])[0]
