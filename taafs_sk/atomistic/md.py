"""Molecular-dynamics checks of a fitted potential: NVE runs with ASE and their diagnostics
(total-energy drift, closest pair distance, temperature), as in the TAAFS paper's
Experiment 4."""

from __future__ import annotations

import numpy as np

from ._deps import require

__all__ = ["energy_drift", "run_nve"]


def run_nve(atoms, calculator, *, n_steps: int = 1000, timestep_fs: float = 1.0,
            temperature_K: float = 300.0, random_state: int | None = 0,
            log_interval: int = 10) -> dict:
    """Velocity-Verlet NVE dynamics from Maxwell-Boltzmann velocities.

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure (copied; the original is left alone).
    calculator : ase Calculator
        E.g. ``TAAFSPotential.as_calculator()``.
    n_steps : int, default=1000
        Number of time steps.
    timestep_fs : float, default=1.0
        Time step in femtoseconds.
    temperature_K : float, default=300.0
        Temperature of the initial Maxwell-Boltzmann velocities (the centre-of-mass motion
        is removed).
    random_state : int or None, default=0
        Seed of the velocities.
    log_interval : int, default=10
        Record the diagnostics every this many steps (and at step 0).

    Returns
    -------
    trace : dict of ndarray
        ``time_ps``, ``potential``, ``kinetic``, ``total`` (eV), ``temperature`` (K) and
        ``min_distance`` (closest pair, Å) at each recorded step, plus ``n_atoms``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk.atomistic.md import run_nve
    >>> trace = run_nve(bulk("Cu", cubic=True).repeat(2), EMT(), n_steps=10, log_interval=5)
    >>> trace["total"].shape
    (3,)
    """
    ase_md = require("ase.md")
    units = require("ase.units")
    velocitydistribution = require("ase.md.velocitydistribution")
    neighbor_list = require("ase.neighborlist").neighbor_list
    atoms = atoms.copy()
    atoms.calc = calculator
    velocitydistribution.MaxwellBoltzmannDistribution(
        atoms, temperature_K=temperature_K, rng=np.random.RandomState(random_state))
    velocitydistribution.Stationary(atoms)
    dyn = ase_md.VelocityVerlet(atoms, timestep=timestep_fs * units.fs)
    rows: list[tuple[float, ...]] = []

    def record() -> None:
        epot = atoms.get_potential_energy()
        ekin = atoms.get_kinetic_energy()
        d = neighbor_list("d", atoms, 3.0)
        rows.append((dyn.nsteps * timestep_fs * 1e-3, epot, ekin, epot + ekin,
                     atoms.get_temperature(), float(d.min()) if d.size else np.inf))

    dyn.attach(record, interval=log_interval)
    dyn.run(n_steps)
    cols = np.array(rows).T
    names = ("time_ps", "potential", "kinetic", "total", "temperature", "min_distance")
    trace = dict(zip(names, cols, strict=True))
    trace["n_atoms"] = len(atoms)
    return trace


def energy_drift(trace: dict) -> float:
    """Slope of a least-squares line through the total energy, in meV/atom/ps.

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.atomistic.md import energy_drift
    >>> t = np.linspace(0, 1, 11)
    >>> round(energy_drift({"time_ps": t, "total": 0.072 * t, "n_atoms": 72}), 6)
    1.0
    """
    slope = np.polyfit(trace["time_ps"], trace["total"], 1)[0]
    return float(1e3 * slope / trace["n_atoms"])
