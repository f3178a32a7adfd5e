"""The analog-hardware study of the seed paper, on all three datasets, in one run.

For each dataset (hydrocarbons: COMPAS-3x; perovskites: the seed authors' halide table;
qm9: ZPVE; the molecule sets subsampled as :func:`taafs_sk.studies.load_study_data` does):

* :func:`~taafs_sk.studies.noise_tolerance` for one- and two-hidden-layer tanh networks of
  widths 8-512 (the docs' tables add 2048 for the molecule sets, whose test RMSE still falls
  at 512: run ``--sizes 2048`` into another folder and concatenate the CSVs), additive
  post-activation noise at 0-10 % of each neuron's signal range;
* :func:`~taafs_sk.studies.naf_inhomogeneity` for per-neuron activation spreads of 0-20 %,
  degraded and retrained, against the control (the ideal network trained for the same extra
  epochs).

Writes ``noise_<dataset>.csv`` and ``naf_<dataset>.csv`` to ``--out`` and prints summary
tables; ``--report docs/analog_results.rst`` then turns every CSV in ``--out`` into the
documentation page (no training).

Run from the project root::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/analog_study.py \
        [--datasets perovskites hydrocarbons qm9] [--sizes 8 32 128 512] [--out results/analog]
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


def _speed(ratio: float) -> str:
    return "fast" if ratio >= 1.5 else "moderately" if ratio >= 1.1 else "mildly"


def findings(noise: pd.DataFrame | None, naf: pd.DataFrame | None) -> list[str]:
    """The seed paper's claims, checked on one dataset's tables: one bullet each."""
    out = []
    if noise is not None:
        summary = noise_summary(noise)
        top = max(LEVELS)
        col = f"ratio@{top}"
        r = summary[col]
        out.append(f"Accuracy degrades {_speed(r.median())} with noise: at {top:.0%} the test "
                   f"RMSE is {r.min():.2f}-{r.max():.2f}x the noiseless one "
                   f"(median {r.median():.2f}x).")
        by = summary.set_index(["n_hidden_layers", "size"])[col]
        sizes = sorted(summary["size"].unique())
        one_better = [s for s in sizes if by.get((1, s), float("inf")) < by.get((2, s), 0)]
        verdict = ("holds" if len(one_better) == len(sizes) else
                   "mostly holds" if 2 * len(one_better) > len(sizes) else "does not hold")
        out.append(f"One hidden layer more tolerant than two at equal width: {verdict} "
                   f"({len(one_better)} of {len(sizes)} widths: "
                   + ", ".join(f"{s}: {by[(1, s)]:.2f} vs {by[(2, s)]:.2f}" for s in sizes)
                   + ").")
        monotone = [d for d in (1, 2)
                    if (by.xs(d, level="n_hidden_layers").diff().dropna() <= 0).all()]
        verdict = "holds" if len(monotone) == 2 else "partly" if monotone else "does not hold"
        out.append(f"Larger networks more tolerant: {verdict} "
                   f"(ratio@{top:.0%} falls with width at depth "
                   f"{', '.join(map(str, monotone)) or 'none'}).")
        beyond = []
        for depth, part in summary.groupby("n_hidden_layers"):
            best = part.loc[part["test_rmse"].idxmin()]
            larger = part[part["size"] > best["size"]]
            if len(larger):
                beyond.append((depth, int(best["size"]), best[col],
                               bool((larger[col] < best[col]).all()), larger[col].max()))
        if beyond:
            held = sum(b[3] for b in beyond)
            verdict = "holds" if held == len(beyond) else "partly" if held else "does not hold"
            out.append(
                f"Larger-than-optimal networks more tolerant: {verdict} ("
                + "; ".join(f"depth {d}: best width {w} has ratio@{top:.0%} {rb:.2f}, the wider "
                            f"ones at most {rl:.2f}" for d, w, rb, _, rl in beyond) + ").")
        else:
            out.append("Larger-than-optimal networks: the widest network tested is the best at "
                       "every depth, so this claim is not tested here.")
        rho = summary["overfit_ratio"].corr(r, method="spearman")
        out.append(f"Less overfitting => more tolerance: {'holds' if rho > 0.5 else 'not seen'} "
                   f"(Spearman correlation of test/train RMSE with ratio@{top:.0%} over the "
                   f"{len(summary)} networks: {rho:+.2f}; the claim needs it clearly positive).")
    if naf is not None:
        table = naf_summary(naf).set_index("spread")
        n_real = naf.groupby("spread")["realization"].nunique().max()
        for spread in (0.1, 0.2):
            if spread in table.index:
                row = table.loc[spread]
                out.append(
                    f"{spread:.0%} activation dispersion: test RMSE {row.test_rmse_ideal:.4g} "
                    f"(ideal) -> {row.test_rmse_degraded:.4g} (degraded) -> "
                    f"{row.test_rmse_retrained:.4g} (retrained; control "
                    f"{row.test_rmse_control:.4g}); retraining recovers "
                    f"{row.recovery_vs_control:.0%} of the loss against the control "
                    f"(mean of {n_real} realisations).")
    return out


def write_report(out: Path, target: Path) -> None:
    """The documentation page: every study table found in ``out``, summarised, and the seed
    paper's findings checked per dataset."""
    lines = [HEADER]
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    for kind, summary, title in (("noise", noise_summary, "Noise tolerance"),
                                 ("naf", naf_summary, "Activation-shape dispersion")):
        for csv in sorted(out.glob(f"{kind}_*.csv")):
            name = csv.stem.split("_", 1)[1]
            table = pd.read_csv(csv)
            tables.setdefault(name, {})[kind] = table
            heading = f"{title}: {name}"
            if kind == "naf":
                heading += f" ({table['realization'].nunique()} realisations per spread)"
            body = _fmt(summary(table)).splitlines()
            lines += [heading, "-" * len(heading), "", ".. code-block:: text", "",
                      *("   " + row for row in body), ""]
    lines += ["Do the seed paper's findings hold?", "-" * 34, "",
              "Generated from the tables above by ``analog_study.findings``.", ""]
    for name, found in sorted(tables.items()):
        lines += [f"**{name}**", ""]
        lines += [f"- {item}" for item in findings(found.get("noise"), found.get("naf"))]
        lines += [""]
    target.write_text("\n".join(lines))
    print(f"wrote {target}")


HEADER = """Analog-hardware results
=======================

Measured with ``benchmarks/analog_study.py`` (tanh ``TAAFSRegressor`` networks trained with
early stopping; additive post-activation Gaussian noise relative to each neuron's signal range
on the training data; 32 draws per level; per-neuron gain, shift, scale and offset spread for
the dispersion study, 200 retraining epochs; realisations per spread in each heading).
``ratio@L`` is the noisy test RMSE at level ``L`` over the noiseless test RMSE; ``recovery`` is
``(degraded - retrained) / (degraded - ideal)`` and ``recovery_vs_control`` the same against
the control, the ideal network trained for the same 200 extra epochs. RMSEs in the target's
units: eV for all three (band gap, relative energy, ZPVE).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["perovskites", "hydrocarbons", "qm9"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32, 128, 512])
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
