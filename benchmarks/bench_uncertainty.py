"""Predictive std of EnsembleRegressor and of the potential's committee, on held-out data.

Part ``tabular`` (``--sets halide pilania qm9``, ``--seeds`` seeds): the splits of
``bench_accuracy.py`` (halide band gap: 540 rows split by composition,
``GroupShuffleSplit(test_size=0.2, random_state=0)``; Pilania gap:
``DoublePerovskiteFeaturizer``, 80/20; QM9 ZPVE in meV: ``MoleculeFeaturizer`` fitted on
``--qm9-train`` training molecules drawn from the 80/20 split, ``--qm9-test`` test
molecules), a ``StandardScaler`` fitted on the training rows. Per seed ``s``:

* ``single``: one ``TAAFSRegressor(random_state=s)`` on all training rows (its RMSE only);
* ``ensemble``: ``EnsembleRegressor(TAAFSRegressor(), n_members=5, calibrate='scale',
  random_state=s)``: the members train on 80 % of the training rows, the other 20 % fit the
  calibration. Rows ``raw`` (the members' spread), ``scale`` and ``isotonic`` (the isotonic
  calibration fitted on the same held-out rows);
* ``GPR``: ``GaussianProcessRegressor(Constant * Matern(nu=2.5) + WhiteKernel,
  normalize_y=True)``, one length scale per feature with ``--gpr-ard`` (the halides), at
  most ``--gpr-max-train`` training rows; its fit is deterministic, so it runs once;
* ``ensemble all rows`` (``--models TAAFS-all``): the ensemble with ``calibrate=None``, its
  members on all training rows (raw spread only);
* ``ensemble refit`` (``--models TAAFS-refit``): ``EnsembleRegressor(...,
  calibrate='scale' or 'isotonic', refit=True, random_state=s)``: the calibration of
  ``ensemble``, then the members refitted on all training rows;
* ``AKNN``: ``AdditiveKernelNN(random_state=s)`` (QM9: on ``--aknn-components``
  partial-least-squares components fitted on the training rows).

Scored on the test rows: RMSE, mean Gaussian negative log-likelihood (nats; isotonic: of its
Gaussian-equivalent std), coverage of the central 90 % interval (isotonic: its calibrated
quantiles), Spearman correlation of |error| and std, and the reliability curve (saved for
``--plot``).

Part ``cu``: a committee of 5 ``TAAFSPotential`` on the Cu 300 K run (every ``--stride``-th
frame, ``calibrate='scale'`` on the last block), scored on the 500 K run: force RMSE, the
Spearman correlation of per-atom force std and per-atom force error (norm of the error
vector), the same per structure for the energy. Then NVE MD from frame ``--md-start`` of the
500 K run (300 K velocities, as ``bench_md.py``) driven by member 0 (the production model;
the committee mean is smoother and need not fail where one model does), the committee force
std recorded every step: the step where its maximum first passes the threshold (the largest
per-atom force std on the held-out 300 K block, times ``--threshold-factor``) against the
step where the closest pair first drops under 1.5 Å.

Part ``al`` (active learning): pool = frames 0-74 of both Cu runs (300 K, 500 K), test =
every ``--stride``-th of frames 80-99 of both (a gap of 5 frames from the pool); start from
``--al-start`` frames of the 300 K run, add ``--al-step`` frames per round up to ``--al-max``,
either the frames of the largest maximum per-atom committee force std or random ones;
committees of ``--members`` ``TAAFSPotential((32, 32))``, ``--al-epochs`` epochs, no early
stopping. Printed: the test force RMSE of the committee after each round.

Part ``cost``: fit time of one ``TAAFSRegressor`` (halide gap, fixed epochs) against
``EnsembleRegressor`` of 5 with ``n_jobs=1`` and ``n_jobs=2``, interleaved, median wall time
(and, robust to other jobs, the CPU time of this process: meaningful for the serial rows).

Each result is appended as JSON to ``--out``; ``--report`` prints the tables, ``--plot``
draws the reliability diagram. Run from the project root (one torch thread per process)::

    TAAFS_SK_DATA=../shared/data nice -n 10 .venv/bin/python benchmarks/bench_uncertainty.py \\
        --parts tabular --sets halide pilania [--seeds 3] [--out results/uncertainty.jsonl]
    ... --parts cu [--stride 2 --epochs 150]     ... --parts cost [--repeats 3]
    ... --report results/uncertainty.jsonl --plot docs/images/uncertainty

``--quick``: one seed, 3 members, few epochs, small QM9: a smoke test, not a result.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm, spearmanr

from taafs_sk import AdditiveKernelNN, EnsembleRegressor, TAAFSRegressor
from taafs_sk.ensemble import IsotonicCalibration
from taafs_sk.ensemble.metrics import gaussian_nll, interval_coverage, reliability_curve

LEVELS = np.arange(1, 20) / 20
SETS = {"halide": "halide_gap", "pilania": "pilania", "qm9": "qm9"}
MEMBER = {"halide": {}, "pilania": {},
          "qm9": {"skip_connection": "ridge", "batch_size": 256, "max_epochs": 150,
                  "patience": 15}}


def load(args, name: str):
    """``(Xtr, Xte, ytr, yte, note)`` of a set, cached in ``--cache-dir``."""
    from bench_accuracy import load_target  # the same splits as the accuracy tables

    cache = Path(args.cache_dir) / f"{name}_{args.qm9_train}_{args.qm9_test}.npz"
    if cache.exists():
        d = np.load(cache)
        return d["Xtr"], d["Xte"], d["ytr"], d["yte"], str(d["note"])
    Xtr, Xte, ytr, yte, _, note = load_target(SETS[name], args.qm9_train, args.qm9_test)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, Xtr=Xtr, Xte=Xte, ytr=ytr, yte=yte, note=note)
    return Xtr, Xte, ytr, yte, note


def scores(y, mean, std, lower, upper, coverage_at) -> dict:
    err = np.abs(y - mean)
    return {"rmse": float(np.sqrt(np.mean(err**2))), "nll": gaussian_nll(y, mean, std),
            "cov90": interval_coverage(y, lower, upper),
            "spearman": float(spearmanr(err, std)[0]), "mean_std": float(np.mean(std)),
            "reliability": coverage_at.tolist()}


def gaussian_scores(y, mean, std) -> dict:
    half = norm.ppf(0.95) * std
    return scores(y, mean, std, mean - half, mean + half,
                  reliability_curve(y, mean, std, LEVELS)[1])


def calibrated_scores(ens, Xte, yte) -> dict:
    """Scores of a calibrated ensemble through its own API: the (Gaussian-equivalent) std,
    the calibrated 90 % interval and the reliability curve of its intervals."""
    mean, std = ens.predict(Xte, return_std=True)
    lo, hi = ens.predict_interval(Xte, coverage=LEVELS)
    observed = np.mean((yte >= lo) & (yte <= hi), axis=1)
    k90 = int(np.argmin(np.abs(LEVELS - 0.9)))
    return scores(yte, mean, std, lo[k90], hi[k90], observed)


def ensemble_rows(ens, Xte, yte, Xcal, ycal) -> dict:
    """raw, scale and isotonic rows of an ensemble fitted with calibrate='scale'; the
    isotonic calibration is fitted on its held-out rows ``(Xcal, ycal)``."""
    members = ens.predict_members(Xte)
    mean, sd = members.mean(0), members.std(0)
    cal = ens.predict_members(Xcal)
    iso = IsotonicCalibration().fit(((ycal - cal.mean(0)) / cal.std(0))[:, None])
    q = iso.quantile(np.r_[(1 - LEVELS) / 2, (1 + LEVELS) / 2])[:, 0]  # (2 L,)
    lo, hi = mean + sd * q[:len(LEVELS), None], mean + sd * q[len(LEVELS):, None]
    observed = np.mean((yte >= lo) & (yte <= hi), axis=1)
    k90 = int(np.argmin(np.abs(LEVELS - 0.9)))
    return {"raw": gaussian_scores(yte, mean, sd),
            "scale": gaussian_scores(yte, mean, sd * ens.calibrator_.std_factor_[0]),
            "isotonic": scores(yte, mean, sd * iso.std_factor_[0], lo[k90], hi[k90], observed),
            "scale_factor": float(ens.calibrator_.std_factor_[0]),
            "isotonic_factor": float(iso.std_factor_[0])}


def gpr(args, name: str, Xtr, ytr):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    ard = name in args.gpr_ard
    scale = np.ones(Xtr.shape[1]) if ard else 1.0
    kernel = (ConstantKernel() * Matern(scale, (1e-2, 1e3), nu=2.5)
              + WhiteKernel(1e-2, (1e-8, 1e1)))
    keep = np.random.RandomState(0).permutation(len(ytr))[:args.gpr_max_train]
    model = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=1,
                                     random_state=0)
    return model.fit(Xtr[keep], ytr[keep]), f"GPR Matern{'-ARD' if ard else ''}" + (
        f" ({len(keep)} rows)" if len(keep) < len(ytr) else "")


def aknn(args, name: str, seed: int, Xtr, ytr, Xte):
    if name == "qm9":
        from sklearn.cross_decomposition import PLSRegression

        pls = PLSRegression(args.aknn_components, scale=False).fit(Xtr, ytr)
        Xtr, Xte = pls.transform(Xtr), pls.transform(Xte)
    return AdditiveKernelNN(random_state=seed).fit(Xtr, ytr), Xte


def emit(args, row: dict) -> None:
    print(json.dumps({k: v for k, v in row.items() if k != "reliability"}), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def timed(fit):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fit()
    return out, time.perf_counter() - start


def run_tabular(args, name: str) -> None:
    Xtr, Xte, ytr, yte, note = load(args, name)
    print(f"{name}: {note}", flush=True)
    options = {**MEMBER[name], **({"max_epochs": 20} if args.quick else {})}
    base = {"set": name, "n_train": len(ytr), "n_test": len(yte)}
    if "GPR" in args.models:
        (model, label), t = timed(lambda: gpr(args, name, Xtr, ytr))
        emit(args, {**base, "model": label, "seed": 0, "fit_s": t,
                    **gaussian_scores(yte, *model.predict(Xte, return_std=True))})
    for seed in range(args.seeds):
        if "AKNN" in args.models:
            (model, Xa), t = timed(lambda s=seed: aknn(args, name, s, Xtr, ytr, Xte))
            emit(args, {**base, "model": "AKNN", "seed": seed, "fit_s": t,
                        **gaussian_scores(yte, *model.predict(Xa, return_std=True))})
        if "TAAFS-all" in args.models:  # members on all rows, raw spread only
            ens = EnsembleRegressor(TAAFSRegressor(**options), n_members=args.members,
                                    random_state=seed)
            ens, t = timed(lambda e=ens: e.fit(Xtr, ytr))
            emit(args, {**base, "model": "ensemble all rows, raw", "seed": seed, "fit_s": t,
                        **gaussian_scores(yte, *ens.predict(Xte, return_std=True))})
        if "TAAFS-refit" in args.models:
            for kind in ("scale", "isotonic"):
                ens = EnsembleRegressor(TAAFSRegressor(**options), n_members=args.members,
                                        calibrate=kind, refit=True, random_state=seed)
                ens, t = timed(lambda e=ens: e.fit(Xtr, ytr))
                emit(args, {**base, "model": f"ensemble refit {kind}", "seed": seed,
                            "fit_s": t, "factor": float(ens.calibrator_.std_factor_[0]),
                            **calibrated_scores(ens, Xte, yte)})
        if "TAAFS" not in args.models:
            continue
        single, t = timed(lambda s=seed: TAAFSRegressor(random_state=s, **options).fit(Xtr, ytr))
        rmse = float(np.sqrt(np.mean((single.predict(Xte) - yte) ** 2)))
        emit(args, {**base, "model": "single", "seed": seed, "fit_s": t, "rmse": rmse})
        ens = EnsembleRegressor(TAAFSRegressor(**options), n_members=args.members,
                                calibrate="scale", random_state=seed)
        ens, t = timed(lambda e=ens: e.fit(Xtr, ytr))
        held_out = ens.calibration_indices_
        rows = ensemble_rows(ens, Xte, yte, Xtr[held_out], ytr[held_out])
        for kind in ("raw", "scale", "isotonic"):
            emit(args, {**base, "model": f"ensemble {kind}", "seed": seed, "fit_s": t,
                        "factor": rows.get(f"{kind}_factor"), **rows[kind]})


# ---------------------------------------------------------------------------- Cu committee
def share_descriptors() -> None:
    """Compute each structure list's descriptors once for all members (the members of a
    committee see the same structures); keyed on the positions, cell and species."""
    from taafs_sk.atomistic import _setup as potential_module  # where fit builds its frames

    original, cache = potential_module.build_frames, {}

    def cached(atoms_list, elements, descriptor, dtype, device="cpu", **kwargs):
        key = (tuple((a.positions.tobytes(), a.cell.array.tobytes(), a.numbers.tobytes())
                     for a in atoms_list), tuple(elements), repr(descriptor), dtype,
               tuple(sorted(kwargs.items())))
        if key not in cache:
            if len(cache) > 4:  # the descriptors of a list of frames are large
                cache.clear()
            cache[key] = original(atoms_list, elements, descriptor, dtype, device, **kwargs)
        return copy.copy(cache[key])  # fit sets the targets on its own copy

    potential_module.build_frames = cached


def committee_scores(committee, test) -> dict:
    from taafs_sk.ensemble.committee import force_std

    energies, forces, energy_std, forces_std = committee.predict_energies_and_forces(
        test, return_std=True)
    n = np.array([len(a) for a in test])
    e_err = np.abs(energies - np.array([a.get_potential_energy() for a in test])) / n
    f_ref = np.concatenate([a.get_forces() for a in test])
    f_err = np.linalg.norm(np.concatenate(forces) - f_ref, axis=1)
    members = [np.concatenate(m.predict_forces(test)) for m in committee.estimators_]
    member_rmse = [float(np.sqrt(np.mean((f - f_ref) ** 2))) for f in members]
    assert np.allclose(force_std(np.stack(members)), np.concatenate(forces_std))
    return {"force_rmse": float(np.sqrt(np.mean((np.concatenate(forces) - f_ref) ** 2))),
            "member_force_rmse": float(np.mean(member_rmse)),
            "energy_rmse_meV_atom": float(1e3 * np.sqrt(np.mean(e_err**2))),
            "spearman_force": float(spearmanr(f_err, np.concatenate(forces_std))[0]),
            "spearman_energy": float(spearmanr(e_err, energy_std)[0]),
            "max_forces_std_test": float(np.concatenate(forces_std).max())}


def member_driven_calculator(committee):
    """An ASE calculator whose dynamics follow member 0 and whose results carry the
    committee's ``forces_std`` (the production model watched by its committee)."""
    from ase.calculators.calculator import Calculator, all_changes

    from taafs_sk.ensemble.committee import force_std

    class MemberDriven(Calculator):
        implemented_properties = ["energy", "free_energy", "forces", "forces_std"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            out = [m.predict_energies_and_forces([self.atoms])
                   for m in committee.estimators_]
            forces = np.stack([f[0] for _, f in out])
            energy = float(out[0][0][0])
            self.results = {"energy": energy, "free_energy": energy, "forces": forces[0],
                            "forces_std": force_std(forces)}

    return MemberDriven()


def run_md(args, committee, threshold: float, seed: int) -> None:
    from taafs_sk.atomistic.md import run_nve
    from taafs_sk.datasets import load_pwmlff

    start = load_pwmlff("cu", "test")[args.md_start]
    for driver in args.md_drivers:
        calc = (member_driven_calculator(committee) if driver == "member 0"
                else committee.as_calculator())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trace, t = timed(lambda c=calc: run_nve(
                start, c, n_steps=args.md_steps, temperature_K=300.0, random_state=0,
                log_interval=1, uncertainty_threshold=threshold, on_uncertainty="warn"))
        close = np.flatnonzero(trace["min_distance"] < 1.5)
        emit(args, {"part": "md", "seed": seed, "epochs": args.epochs, "driver": driver,
                    "threshold": threshold,
                    "flagged_ps": trace["flagged_ps"],
                    "below_1.5A_ps": float(trace["time_ps"][close[0]]) if len(close) else None,
                    "min_distance": float(trace["min_distance"].min()), "wall_s": t,
                    "max_forces_std_trace": trace["max_forces_std"].round(4).tolist(),
                    "min_distance_trace": trace["min_distance"].round(3).tolist()})


def run_cu(args) -> None:
    from taafs_sk.atomistic import TAAFSPotential
    from taafs_sk.datasets import load_pwmlff

    share_descriptors()
    train = load_pwmlff("cu", "train")[::args.stride]
    test = load_pwmlff("cu", "test")[::args.stride]
    energies = [a.get_potential_energy() for a in train]
    for seed in range(args.seeds):
        pot = TAAFSPotential((32, 32), max_epochs=args.epochs, patience=args.patience)
        committee = EnsembleRegressor(pot, n_members=args.members, calibrate="scale",
                                      random_state=seed)
        committee, t = timed(lambda c=committee: c.fit(train, energies))
        held_out = [train[i] for i in committee.calibration_indices_]
        threshold = args.threshold_factor * float(np.concatenate(
            committee.predict_forces(held_out, return_std=True)[1]).max())
        emit(args, {"part": "cu", "seed": seed, "epochs": args.epochs,
                    "n_train": len(train), "n_test": len(test),
                    "fit_s": t, "threshold": threshold, **committee_scores(committee, test)})
        if seed == 0:
            run_md(args, committee, threshold, seed)


# ---------------------------------------------------------------------------- active learning
def al_curve(args, strategy: str, seed: int, pool, test) -> list:
    """Test force RMSE of the committee after each round of adding ``--al-step`` frames."""
    from taafs_sk.atomistic import TAAFSPotential

    f_test = np.concatenate([a.get_forces() for a in test])
    chosen = list(range(0, 75, 75 // args.al_start))[:args.al_start]  # 300 K frames
    rng, curve = np.random.RandomState(seed), []
    member = TAAFSPotential((32, 32), max_epochs=args.al_epochs, early_stopping=False)
    while True:
        committee = EnsembleRegressor(member, n_members=args.members, random_state=seed)
        committee.fit([pool[i] for i in chosen])
        forces = np.concatenate(committee.predict_forces(test))
        curve.append((len(chosen), float(np.sqrt(np.mean((forces - f_test) ** 2))),
                      sum(i >= 75 for i in chosen)))
        print(f"  {strategy} seed {seed}: {curve[-1]}", flush=True)
        if len(chosen) >= args.al_max:
            return curve
        rest = [i for i in range(len(pool)) if i not in chosen]
        if strategy == "committee std":
            stds = committee.predict_forces([pool[i] for i in rest], return_std=True)[1]
            order = np.argsort([-s.max() for s in stds], kind="stable")
            chosen += [rest[k] for k in order[:args.al_step]]
        else:
            chosen += [int(i) for i in rng.choice(rest, args.al_step, replace=False)]


def run_al(args) -> None:
    from taafs_sk.datasets import load_pwmlff

    share_descriptors()
    runs = [load_pwmlff("cu", "train"), load_pwmlff("cu", "test")]
    pool = [a for frames in runs for a in frames[:75]]  # indices 0-74: 300 K, 75-149: 500 K
    test = [a for frames in runs for a in frames[80::args.stride]]
    for seed in range(args.al_first_seed, args.al_first_seed + args.al_seeds):
        for strategy in ("committee std", "random"):
            curve = al_curve(args, strategy, seed, pool, test)
            emit(args, {"part": "al", "strategy": strategy, "seed": seed,
                        "n_test": len(test), "curve": curve})


# ---------------------------------------------------------------------------- cost
def run_cost(args) -> None:
    Xtr, _, ytr, _, _ = load(args, "halide")
    member = TAAFSRegressor(max_epochs=args.cost_epochs, early_stopping=False)
    makers = {
        "one member": lambda: TAAFSRegressor(max_epochs=args.cost_epochs,
                                             early_stopping=False, random_state=0),
        "ensemble of 5, n_jobs=1": lambda: EnsembleRegressor(member, n_members=5, n_jobs=1,
                                                             random_state=0),
        "ensemble of 5, n_jobs=2": lambda: EnsembleRegressor(member, n_members=5, n_jobs=2,
                                                             random_state=0),
    }
    times, cpu = {k: [] for k in makers}, {k: [] for k in makers}
    for _ in range(args.repeats):
        for key, make in makers.items():
            start = time.process_time()  # this process only: the workers' time is not in it
            times[key].append(timed(lambda m=make: m().fit(Xtr, ytr))[1])
            cpu[key].append(time.process_time() - start)
    base, base_cpu = float(np.median(times["one member"])), float(np.median(cpu["one member"]))
    for key, ts in times.items():
        emit(args, {"part": "cost", "model": key, "epochs": args.cost_epochs,
                    "median_s": float(np.median(ts)), "times": ts,
                    "ratio": float(np.median(ts)) / base,
                    "cpu_ratio": float(np.median(cpu[key])) / base_cpu})


# ---------------------------------------------------------------------------- report
def _mean_sd(values) -> str:
    values = [v for v in values if v is not None]
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if len(values) > 1 else (
        f"{values[0]:.3f}" if values else "-")


def report(path: str, plot: str | None) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    tab = [r for r in rows if "set" in r]
    print("set, model, seeds, RMSE, x single, NLL, 90 % coverage, Spearman |err| vs std, "
          "mean std")
    for name in dict.fromkeys(r["set"] for r in tab):
        single = np.mean([r["rmse"] for r in tab if r["set"] == name and r["model"] == "single"])
        for model in dict.fromkeys(r["model"] for r in tab if r["set"] == name):
            sel = [r for r in tab if r["set"] == name and r["model"] == model]
            rmse = np.mean([r["rmse"] for r in sel])
            cols = [_mean_sd([r.get(k) for r in sel]) for k in ("nll", "cov90", "spearman",
                                                                 "mean_std")]
            print(f"{name}, {model}, {len(sel)}, {_mean_sd([r['rmse'] for r in sel])}, "
                  f"{rmse / single:.2f}, {', '.join(cols)}")
    for r in rows:
        if r.get("part") in ("cu", "md", "cost"):
            print(json.dumps({k: v for k, v in r.items() if not k.endswith("trace")}))
        if r.get("part") == "md":
            md_flags(r)
    if plot and tab:
        plot_reliability(tab, f"{plot}_reliability.png")
    md = [r for r in rows if r.get("part") == "md" and r.get("epochs")]
    if plot and md:
        plot_md(md, f"{plot}_md.png")
    al = [r for r in rows if r.get("part") == "al"]
    if plot and al:
        plot_al(al, f"{plot}_al.png")


def plot_md(rows: list, path: str) -> None:
    """Largest per-atom committee force std and closest pair along each MD run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.0), sharex=True)
    for r in rows:
        t = np.arange(len(r["min_distance_trace"]))
        top.semilogy(t, r["max_forces_std_trace"], label=f"driven by {r['driver']}")
        bottom.plot(t, r["min_distance_trace"], label=f"driven by {r['driver']}")
    top.axhline(rows[0]["threshold"], color="grey", ls="--", lw=0.8,
                label="largest on held-out 300 K frames")
    top.set_ylabel("max per-atom force std (eV/Å)")
    bottom.axhline(1.5, color="grey", ls=":", lw=0.8)
    bottom.set(xlabel="time (fs)", ylabel="closest pair (Å)")
    top.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_al(rows: list, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for r in rows:
        curve = np.array(r["curve"])
        ax.plot(curve[:, 0], curve[:, 1], marker="o", label=f"{r['strategy']} (seed {r['seed']})")
    ax.set(xlabel="training frames", ylabel="test force RMSE (eV/Å)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def md_flags(r: dict) -> None:
    """When the largest per-atom force std first passes some thresholds, against the first
    step with a pair closer than 1.5 Å (``log_interval=1``: one entry per fs)."""
    std, dist = np.array(r["max_forces_std_trace"]), np.array(r["min_distance_trace"])
    close = np.flatnonzero(dist < 1.5)
    print(f"  MD driven by {r['driver']} ({r.get('epochs')} epochs): closest pair < 1.5 Å at "
          f"{close[0] if len(close) else 'never'} fs of {len(dist) - 1}; "
          f"max force std at 0 fs {std[0]:.3f} eV/Å")
    for t in (r["threshold"], 0.1, 0.2, 0.3, 0.5, 1.0):
        above = np.flatnonzero(std > t)
        print(f"    threshold {t:.3f} eV/Å first passed at "
              f"{above[0] if len(above) else 'never'} fs")


def plot_reliability(tab: list, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["set"] for r in tab))
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4.0), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for model in dict.fromkeys(r["model"] for r in tab if r["set"] == name):
            curves = [r["reliability"] for r in tab
                      if r["set"] == name and r["model"] == model and "reliability" in r]
            if curves:
                ax.plot(LEVELS, np.mean(curves, axis=0), marker=".", label=model)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.set(title=name, xlabel="expected coverage", ylabel="observed coverage",
               xlim=(0, 1), ylim=(0, 1))
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["tabular"],
                        choices=["tabular", "cu", "cost", "al"])
    parser.add_argument("--sets", nargs="+", default=["halide", "pilania"], choices=list(SETS))
    parser.add_argument("--models", nargs="+", default=["GPR", "AKNN", "TAAFS"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--qm9-train", type=int, default=10000)
    parser.add_argument("--qm9-test", type=int, default=2000)
    parser.add_argument("--gpr-ard", nargs="*", default=["halide"])
    parser.add_argument("--gpr-max-train", type=int, default=3000)
    parser.add_argument("--aknn-components", type=int, default=20)
    parser.add_argument("--cache-dir", default="/tmp/taafs_uncertainty_cache")
    parser.add_argument("--stride", type=int, default=2, help="Cu: every k-th frame")
    parser.add_argument("--epochs", type=int, default=150, help="Cu: max epochs")
    parser.add_argument("--patience", type=int, default=30, help="Cu: early stopping")
    parser.add_argument("--md-start", type=int, default=50)
    parser.add_argument("--md-steps", type=int, default=500)
    parser.add_argument("--threshold-factor", type=float, default=1.0)
    parser.add_argument("--md-drivers", nargs="+", default=["member 0", "committee"],
                        choices=["member 0", "committee"])
    parser.add_argument("--repeats", type=int, default=3, help="cost: interleaved rounds")
    parser.add_argument("--cost-epochs", type=int, default=100)
    parser.add_argument("--al-start", type=int, default=10)
    parser.add_argument("--al-step", type=int, default=5)
    parser.add_argument("--al-max", type=int, default=60)
    parser.add_argument("--al-epochs", type=int, default=60)
    parser.add_argument("--al-seeds", type=int, default=1)
    parser.add_argument("--al-first-seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="results/uncertainty.jsonl")
    parser.add_argument("--report", default=None, help="print the tables of this file")
    parser.add_argument("--plot", default=None,
                        help="with --report: PREFIX of the figures PREFIX_reliability.png, "
                             "PREFIX_md.png, PREFIX_al.png (those the file has data for)")
    args = parser.parse_args()
    if args.report:
        report(args.report, args.plot)
        return
    torch.set_num_threads(1)
    if args.quick:
        args.seeds, args.members, args.qm9_train, args.qm9_test = 1, 3, 1000, 300
        args.epochs, args.md_steps, args.repeats, args.cost_epochs = 5, 20, 1, 5
        args.al_max, args.al_epochs = 20, 5
    for part in args.parts:
        if part == "tabular":
            for name in args.sets:
                run_tabular(args, name)
        else:
            {"cu": run_cu, "cost": run_cost, "al": run_al}[part](args)


if __name__ == "__main__":
    main()
