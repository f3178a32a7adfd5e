"""MACE trained from scratch on PWMLFF DFT frames with MACE's own training: original against
TAAF-swapped.

:func:`run_mace` runs ``mace_run_train`` (through :func:`taafs_sk.integrations.mace.run_train`
for the TAAF variants, MACE's own ``mace.cli.run_train.run`` for the original) with the issue's
recipe::

    --model=MACE --num_channels=32 --max_L=0 --r_max=5.0 --correlation=3
    --num_interactions=2 --E0s=average --loss=weighted --forces_weight=100 --swa
    --start_swa=28 --ema --lr=0.01 --batch_size=5 --max_num_epochs=40

with ``--max_num_epochs`` set to ``epochs`` and ``--start_swa`` scaled with it (28/40 of the
epochs, rounded; 7 of 10), float64, CPU. Training frames: ``load_pwmlff(system, 'train')``
less its last 10 % (a contiguous block: MD frames are correlated), which is MACE's
``--valid_file``; test: the ``'test'`` split (for Cu: trained at 300 K, tested at 500 K),
predicted by ``mace.calculators.MACECalculator`` from the stage-two (SWA) ``.model`` file that
MACE saves. The seconds per epoch are MACE's own ``train_one_epoch`` (validation excluded),
timed from outside. Every variant of one seed gets the same ``--seed``, so the same initial
weights of the shared parts and the same batches.

Run (one comparison on Cu, one thread, 10 epochs each)::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/_third_party_mace.py \\
        --system cu --epochs 10 --seed 0 --variants original,bspline/layer
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _third_party_common import VAL_FRACTION, parse_variant

from taafs_sk.datasets import load_pwmlff
from taafs_sk.integrations.mace import run_train

RECIPE = ("--model=MACE", "--num_channels=32", "--max_L=0", "--r_max=5.0", "--correlation=3",
          "--num_interactions=2", "--E0s=average", "--loss=weighted", "--forces_weight=100",
          "--swa", "--ema", "--lr=0.01", "--batch_size=5")
START_SWA = 28 / 40  # the recipe's --start_swa=28 of --max_num_epochs=40


def _write(frames, path: Path) -> None:
    """Frames as extended XYZ with MACE's default keys (REF_energy, REF_forces)."""
    import ase.io

    out = []
    for atoms in frames:
        copy = atoms.copy()
        copy.calc = None
        copy.info["REF_energy"] = atoms.get_potential_energy()
        copy.arrays["REF_forces"] = atoms.get_forces()
        out.append(copy)
    ase.io.write(path, out, format="extxyz")


@contextlib.contextmanager
def _timed_epochs(seconds: list, cpu_seconds: list):
    """Time each call of MACE's ``train_one_epoch`` (the training pass of one epoch), in wall
    and process CPU seconds (the second is less sensitive to other jobs on a shared machine)."""
    mace_train = importlib.import_module("mace.tools.train")  # the module, not the function
    inner = mace_train.train_one_epoch

    def timed(*args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu)

    mace_train.train_one_epoch = timed
    try:
        yield
    finally:
        mace_train.train_one_epoch = inner


def _evaluate(model_path: Path, frames) -> dict:
    """Test energy (meV/atom) and force (eV/A) RMSE with MACE's ASE calculator."""
    from mace.calculators import MACECalculator

    calc = MACECalculator(model_paths=str(model_path), device="cpu", default_dtype="float64")
    e_err, f_err = [], []
    for atoms in frames:
        copy = atoms.copy()
        copy.calc = calc
        e_err.append((copy.get_potential_energy() - atoms.get_potential_energy()) / len(atoms))
        f_err.append((copy.get_forces() - atoms.get_forces()).ravel())
    f_err = np.concatenate(f_err)
    return {"energy_rmse": 1000 * float(np.sqrt(np.mean(np.square(e_err)))),
            "energy_bias": 1000 * float(np.mean(e_err)),
            "force_rmse": float(np.sqrt(np.mean(f_err ** 2)))}


def _argv(name: str, folder: Path, seed: int, epochs: int) -> list[str]:
    start_swa = max(1, round(START_SWA * epochs))
    return [f"--name={name}", f"--seed={seed}", f"--max_num_epochs={epochs}",
            f"--start_swa={start_swa}", f"--train_file={folder / 'train.xyz'}",
            f"--valid_file={folder / 'valid.xyz'}", "--device=cpu", "--default_dtype=float64",
            f"--work_dir={folder}", *RECIPE]


def run_mace(system: str, variant, seed: int, *, epochs: int, threads: int = 1,
             workdir: str | os.PathLike | None = None) -> dict:
    """Train MACE (swapped or not) from scratch on ``system`` with mace_run_train; test it.

    Parameters
    ----------
    system : {'cu', 'hfo2', 'ec'}
    variant : 'original' or (basis, sharing)
        basis ``'bspline'`` or ``'chebyshev1'`` (8 functions); sharing as in ``taaf_mace``.
    seed : int
        MACE's ``--seed``.
    epochs : int
        ``--max_num_epochs``; ``--start_swa`` is 28/40 of it.
    threads : int, default=1
    workdir : path, default=None
        Where MACE writes its files (a temporary folder when None).

    Returns
    -------
    dict
        ``energy_rmse`` (meV/atom), ``energy_bias`` (meV/atom), ``force_rmse`` (eV/A),
        ``n_params``, ``params_added``, ``params_added_pct``, ``seconds_per_epoch`` (mean of
        MACE's ``train_one_epoch``, wall clock), ``epoch_seconds``, ``cpu_seconds_per_epoch``
        and ``cpu_epoch_seconds`` (process CPU time), ``report`` (the swap, as text).
    """
    with contextlib.redirect_stdout(io.StringIO()):  # its note on cuequivariance
        import mace  # noqa: F401  (first: e3nn needs the torch.load setting it makes)
    from mace.cli import run_train as cli
    from mace.tools import build_default_arg_parser

    spec = parse_variant(variant)
    torch.set_num_threads(threads)
    frames = load_pwmlff(system, "train")
    n_val = max(1, round(VAL_FRACTION * len(frames)))
    test = load_pwmlff(system, "test")
    name = f"{system}_{'original' if spec is None else '-'.join(spec)}_{seed}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(workdir or tmp) / name
        folder.mkdir(parents=True, exist_ok=True)
        _write(frames[:-n_val], folder / "train.xyz")
        _write(frames[-n_val:], folder / "valid.xyz")
        argv, seconds, cpu_seconds, report = _argv(name, folder, seed, epochs), [], [], None
        dtype = torch.get_default_dtype()
        with _timed_epochs(seconds, cpu_seconds), contextlib.redirect_stdout(io.StringIO()):
            if spec is None:
                try:
                    cli.run(build_default_arg_parser().parse_args(argv))
                finally:
                    torch.set_default_dtype(dtype)
            else:
                factor = float(spec[2]) if len(spec) == 3 else 1.0
                report = run_train(argv, spec[0], n_basis=8, sharing=spec[1],
                                   taaf_lr_factor=factor)
        for handler in list(logging.getLogger().handlers):  # MACE's log handlers
            logging.getLogger().removeHandler(handler)
        stage_two = folder / f"{name}_stagetwo.model"
        model_path = stage_two if stage_two.exists() else folder / f"{name}.model"
        model = torch.load(model_path, weights_only=False)
        n_params = sum(p.numel() for p in model.parameters())
        added = 0 if report is None else report.n_params_added
        out = {"system": system, "variant": "original" if spec is None else "/".join(spec),
               "seed": seed, "epochs": epochs, "n_train": len(frames) - n_val,
               "n_val": n_val, "n_test": len(test), "n_params": n_params,
               "params_added": added, "params_added_pct": 100 * added / (n_params - added),
               "model_file": model_path.name}
        out.update(_evaluate(model_path, test))
    out["epoch_seconds"] = seconds
    out["seconds_per_epoch"] = float(np.mean(seconds))
    out["cpu_epoch_seconds"] = cpu_seconds
    out["cpu_seconds_per_epoch"] = float(np.mean(cpu_seconds))
    out["report"] = None if report is None else str(report)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", default="cu", choices=["cu", "hfo2", "ec"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default="original,bspline/layer",
                        help="comma-separated: original, bspline/layer, chebyshev1/network, ...")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    for name in args.variants.split(","):
        variant = "original" if name == "original" else tuple(name.split("/"))
        row = run_mace(args.system, variant, args.seed, epochs=args.epochs,
                       workdir=args.workdir)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "report"}), flush=True)
        if row["report"]:
            print(row["report"], flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps(rows, indent=1))
    if len(rows) > 1:
        base = rows[0]
        for row in rows[1:]:
            print(f"{row['variant']} / {base['variant']}: force RMSE "
                  f"{row['force_rmse'] / base['force_rmse']:.3f}x, energy RMSE "
                  f"{row['energy_rmse'] / base['energy_rmse']:.3f}x, epoch time "
                  f"{row['seconds_per_epoch'] / base['seconds_per_epoch']:.3f}x (CPU time "
                  f"{row['cpu_seconds_per_epoch'] / base['cpu_seconds_per_epoch']:.3f}x)")


if __name__ == "__main__":
    main()
