"""The analog-hardware study of the seed paper, on all three datasets, in one run.

For each dataset (hydrocarbons: COMPAS-3x; perovskites: the seed authors' halide table;
qm9: ZPVE; the molecule sets subsampled as :func:`taafs_sk.studies.load_study_data` does):

* :func:`~taafs_sk.studies.noise_tolerance` for one- and two-hidden-layer tanh networks of
  three widths, additive post-activation noise at 0-10 % of each neuron's signal range;
* :func:`~taafs_sk.studies.naf_inhomogeneity` for per-neuron activation spreads of 0-20 %,
  degraded and retrained, against the control (the ideal network trained for the same extra
  epochs).

Writes ``noise_<dataset>.csv`` and ``naf_<dataset>.csv`` to ``--out`` and prints summary
tables; ``--report docs/analog_results.rst`` then turns every CSV in ``--out`` into the
documentation page (no training).

Run from the project root::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/analog_study.py \
        [--datasets perovskites hydrocarbons qm9] [--sizes 8 32 128] [--out results/analog]
    .venv/bin/python benchmarks/analog_study.py --out results/analog \
        --report docs/analog_results.rst
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from taafs_sk.studies import naf_inhomogeneity, noise_tolerance

LEVELS = (0.0, 0.01, 0.02, 0.05, 0.1)
SPREADS = (0.0, 0.05, 0.1, 0.2)


def noise_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per architecture: train/test RMSE, overfitting and RMSE ratio per level."""
    wide = table.pivot_table(index=["dataset", "architecture"], columns="level",
                             values="rmse_ratio").add_prefix("ratio@")
    first = table.groupby(["dataset", "architecture"]).first()
    cols = ["n_hidden_layers", "size", "n_params", "train_rmse", "test_rmse", "overfit_ratio"]
    out = first[cols].join(wide).reset_index()
    return out.sort_values(["dataset", "n_hidden_layers", "size"])


def naf_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over realisations per spread: test RMSE of each model and the recoveries."""
    cols = ["test_rmse_ideal", "test_rmse_degraded", "test_rmse_retrained",
            "test_rmse_control", "train_rmse_degraded", "train_rmse_retrained",
            "recovery", "recovery_vs_control"]
    return table.groupby(["dataset", "spread"])[cols].mean().reset_index()


def _fmt(table: pd.DataFrame) -> str:
    return table.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def write_report(out: Path, target: Path) -> None:
    """The documentation page: every study table found in ``out``, summarised."""
    lines = [HEADER]
    for kind, summary, title in (("noise", noise_summary, "Noise tolerance"),
                                 ("naf", naf_summary, "Activation-shape dispersion")):
        for csv in sorted(out.glob(f"{kind}_*.csv")):
            name = csv.stem.split("_", 1)[1]
            heading = f"{title}: {name}"
            body = _fmt(summary(pd.read_csv(csv))).splitlines()
            lines += [heading, "-" * len(heading), "", ".. code-block:: text", "",
                      *("   " + row for row in body), ""]
    target.write_text("\n".join(lines))
    print(f"wrote {target}")


HEADER = """Analog-hardware results
=======================

Measured with ``benchmarks/analog_study.py`` (tanh ``TAAFSRegressor`` networks trained with
early stopping; additive post-activation Gaussian noise relative to each neuron's signal range
on the training data; 32 draws per level; per-neuron gain, shift, scale and offset spread for
the dispersion study, 3 realisations per spread, 200 retraining epochs). ``ratio@L`` is the
noisy test RMSE at level ``L`` over the noiseless test RMSE; ``recovery`` is
``(degraded - retrained) / (degraded - ideal)`` and ``recovery_vs_control`` the same against
the control, the ideal network trained for the same 200 extra epochs. RMSEs in the target's
units: eV for all three (band gap, relative energy, ZPVE).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["perovskites", "hydrocarbons", "qm9"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--naf-architecture", type=int, nargs="+", default=[32])
    parser.add_argument("--realizations", type=int, default=3)
    parser.add_argument("--retrain-epochs", type=int, default=200)
    parser.add_argument("--skip-noise", action="store_true")
    parser.add_argument("--skip-naf", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("results/analog"))
    parser.add_argument("--report", type=Path, default=None,
                        help="write the tables found in --out as a reST page and stop")
    args = parser.parse_args()
    if args.report is not None:
        write_report(args.out, args.report)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 200)
    for name in args.datasets:
        if not args.skip_noise:
            start = time.perf_counter()
            noise = noise_tolerance(name, sizes=args.sizes, levels=LEVELS, verbose=1)
            noise.to_csv(args.out / f"noise_{name}.csv", index=False)
            print(f"\n## noise tolerance: {name} ({time.perf_counter() - start:.0f} s)\n")
            print(_fmt(noise_summary(noise)))
        if not args.skip_naf:
            start = time.perf_counter()
            naf = naf_inhomogeneity(name, spreads=SPREADS, architecture=args.naf_architecture,
                                    n_realizations=args.realizations,
                                    retrain_epochs=args.retrain_epochs, verbose=1)
            naf.to_csv(args.out / f"naf_{name}.csv", index=False)
            print(f"\n## NAF dispersion: {name} ({time.perf_counter() - start:.0f} s)\n")
            print(_fmt(naf_summary(naf)))


if __name__ == "__main__":
    main()
