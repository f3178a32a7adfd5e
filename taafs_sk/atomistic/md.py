"""Molecular-dynamics checks of a fitted potential: NVE runs with ASE and their diagnostics
(total-energy drift, closest pair distance, temperature), as in the TAAFS paper's
Experiment 4."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_count, check_real, warn_user
from ._deps import require

__all__ = ["energy_drift", "run_nve"]


def run_nve(atoms, calculator, *, n_steps: int = 1000, timestep_fs: float = 1.0,
            temperature_K: float = 300.0, random_state: int | None = 0,
            log_interval: int = 10, uncertainty_threshold: float | None = None,
            on_uncertainty: str = "stop") -> dict:
    """Velocity-Verlet NVE dynamics from Maxwell-Boltzmann velocities.

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure (copied; the original is left alone).
    calculator : ase Calculator
        E.g. ``TAAFSPotential.as_calculator()``, or a committee's
        (``EnsembleRegressor(TAAFSPotential(...)).as_calculator()``), whose ``results``
        carry the per-atom force std ``forces_std``.
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
    uncertainty_threshold : float or None, default=None
        Largest per-atom force std (eV/Å) tolerated: after every step the maximum over
        atoms of the calculator's ``forces_std`` is compared with it, and the first step
        above it is recorded (``flagged_ps``) and acted on as ``on_uncertainty`` says.
        Needs a calculator whose results carry ``forces_std`` (a committee's).
    on_uncertainty : {'stop', 'warn'}, default='stop'
        At the first step above ``uncertainty_threshold``: stop the run there (the flagged
        step is recorded), or warn once (``UserWarning``) and run on.

    Returns
    -------
    trace : dict
        ``time_ps``, ``potential``, ``kinetic``, ``total`` (eV), ``temperature`` (K) and
        ``min_distance`` (closest pair, Å) at each recorded step, plus ``n_atoms``. With a
        committee calculator also ``max_forces_std`` (eV/Å) at each recorded step; with
        ``uncertainty_threshold`` also ``flagged_ps`` (time of the first step above it, or
        None) and ``max_forces_std_per_step`` (every step's maximum).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk.atomistic.md import run_nve
    >>> trace = run_nve(bulk("Cu", cubic=True).repeat(2), EMT(), n_steps=10, log_interval=5)
    >>> trace["total"].shape
    (3,)
    """
    check_count("n_steps", n_steps, minimum=0)
    check_count("log_interval", log_interval)
    if uncertainty_threshold is not None:
        check_real("uncertainty_threshold", uncertainty_threshold, 0.0, include_minimum=False)
    check_choice("on_uncertainty", on_uncertainty, ["stop", "warn"])
    check_real("timestep_fs", timestep_fs, 0.0, include_minimum=False)
    check_real("temperature_K", temperature_K, 0.0)
    if not isinstance(atoms, require("ase").Atoms):
        raise TypeError(f"atoms must be an ase.Atoms, got {type(atoms).__name__}.")
    atoms, dyn = _start(atoms, calculator, timestep_fs, temperature_K, random_state)
    rows: list[tuple[float, ...]] = []
    watch = _UncertaintyWatch(atoms, uncertainty_threshold, on_uncertainty, timestep_fs)

    def record() -> None:
        time_ps = dyn.nsteps * timestep_fs * 1e-3
        if not rows or rows[-1][0] != time_ps:
            rows.append(_diagnostics(atoms, time_ps))

    dyn.attach(record, interval=log_interval)
    dyn.attach(lambda: watch.check(dyn.nsteps), interval=1)
    for _ in dyn.irun(n_steps):
        if watch.stop:
            record()  # the flagged step
            break
    names = ("time_ps", "potential", "kinetic", "total", "temperature", "min_distance",
             "max_forces_std")
    cols = np.array(rows).T
    trace = dict(zip(names, cols, strict=True))
    if np.isnan(trace["max_forces_std"]).all():
        del trace["max_forces_std"]
    trace["n_atoms"] = len(atoms)
    if uncertainty_threshold is not None:
        trace["flagged_ps"] = watch.flagged_ps
        trace["max_forces_std_per_step"] = np.array(watch.history)
    return trace


def _start(atoms, calculator, timestep_fs: float, temperature_K: float, random_state):
    """A copy of ``atoms`` on ``calculator`` with seeded velocities, and its dynamics."""
    ase_md = require("ase.md")
    units = require("ase.units")
    velocitydistribution = require("ase.md.velocitydistribution")
    atoms = atoms.copy()
    atoms.calc = calculator
    # ase >= 3.29 names it thermalize_momenta (same draws); MaxwellBoltzmannDistribution
    # before, deprecated since
    thermalize = getattr(velocitydistribution, "thermalize_momenta",
                         velocitydistribution.MaxwellBoltzmannDistribution)
    thermalize(atoms, temperature_K=temperature_K, rng=np.random.RandomState(random_state))
    velocitydistribution.Stationary(atoms)
    return atoms, ase_md.VelocityVerlet(atoms, timestep=timestep_fs * units.fs)


def _max_forces_std(atoms) -> float:
    """The largest per-atom force std of the calculator's last results (NaN if none)."""
    std = atoms.calc.results.get("forces_std")
    return float(np.max(std)) if std is not None else float("nan")


def _diagnostics(atoms, time_ps: float) -> tuple[float, ...]:
    neighbor_list = require("ase.neighborlist").neighbor_list
    epot = atoms.get_potential_energy()
    ekin = atoms.get_kinetic_energy()
    d = neighbor_list("d", atoms, 3.0)
    return (time_ps, epot, ekin, epot + ekin, atoms.get_temperature(),
            float(d.min()) if d.size else np.inf, _max_forces_std(atoms))


class _UncertaintyWatch:
    """After each step: the largest per-atom force std against the threshold."""

    def __init__(self, atoms, threshold: float | None, action: str, timestep_fs: float):
        self.atoms, self.threshold, self.action = atoms, threshold, action
        self.timestep_fs = timestep_fs
        self.flagged_ps: float | None = None
        self.stop = False
        self.history: list[float] = []

    def check(self, step: int) -> None:
        if self.threshold is None:
            return
        self.atoms.get_forces()  # the results of the current positions
        worst = _max_forces_std(self.atoms)
        if np.isnan(worst):
            raise ValueError(
                "uncertainty_threshold needs a calculator whose results carry 'forces_std' "
                "(a committee's: EnsembleRegressor(TAAFSPotential(...)).as_calculator()), "
                f"got {type(self.atoms.calc).__name__}; set uncertainty_threshold=None.")
        self.history.append(worst)
        if worst > self.threshold and self.flagged_ps is None:
            self.flagged_ps = step * self.timestep_fs * 1e-3
            self.stop = self.action == "stop"
            if not self.stop:
                warn_user(f"run_nve: the largest per-atom force std {worst:.3g} eV/Å passed "
                          f"uncertainty_threshold={self.threshold} at "
                          f"{self.flagged_ps:.4g} ps (step {step}); the run goes on.")


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
    missing = [k for k in ("time_ps", "total", "n_atoms") if k not in trace]
    if missing:
        raise ValueError(f"trace must be run_nve's dict, with 'time_ps', 'total' and "
                         f"'n_atoms'; missing {missing}.")
    if len(trace["time_ps"]) < 2:
        raise ValueError(f"trace must hold at least 2 recorded steps to fit a drift, got "
                         f"{len(trace['time_ps'])}.")
    slope = np.polyfit(trace["time_ps"], trace["total"], 1)[0]
    return float(1e3 * slope / trace["n_atoms"])
