"""TAAFs inside third-party force fields: MACE from scratch and CHGNet fine-tuned, original
against TAAF-swapped, on the PWMLFF DFT splits (issue 26).

Each run is one ``(model, system, variant, seed)``: :func:`_third_party_mace.run_mace`
(``mace_run_train`` with the issue's recipe, the TAAFs put in by
:func:`taafs_sk.integrations.mace.run_train`) or :func:`_third_party_chgnet.run_chgnet`
(the pretrained CHGNet, its AtomRef refitted on the training frames, fine-tuned with
``chgnet.trainer.Trainer``). Every variant of one ``(model, system, seed)`` gets the same
hyperparameters, epochs and seed. Rows are appended as JSON lines to ``--out`` (so a long
grid can be run in pieces, and a killed run loses one row), and ``--report`` prints, per
model, system and variant: the median over seeds and the per-seed values of the test
energy RMSE (meV/atom), force RMSE (eV/Å), parameters added, and each as a ratio to the
original of the same seed; the epoch-time ratio uses the process CPU time where the runner
records it (MACE), else the wall time of the library's own epoch (CHGNet; for a ratio
free of other jobs' load use ``_third_party_chgnet.py --timing``, which interleaves the two
models on one batch).

The full grid of the issue (2 models x 3 systems x 3 variants x 3 seeds, MACE at 40
epochs: about 17 CPU minutes per MACE run on Cu) does not fit a 2-core session; run it in
pieces::

    export TAAFS_SK_DATA=../shared/data
    B=".venv/bin/python benchmarks/bench_third_party.py --out results/third_party.jsonl"
    $B --models mace --systems cu --seeds 0 --epochs 40
    $B --models chgnet --systems cu --seeds 0 --epochs 3 --n-train 24 --test-every 5
    .venv/bin/python benchmarks/bench_third_party.py --report results/third_party.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = ("original", "bspline/layer", "chebyshev1/layer")
MEASURES = (("energy_rmse", "E meV/atom"), ("force_rmse", "F eV/A"))


def run(model: str, system: str, variant: str, seed: int, args) -> dict:
    spec = "original" if variant == "original" else tuple(variant.split("/"))
    if model == "mace":
        from _third_party_mace import run_mace

        row = run_mace(system, spec, seed, epochs=args.epochs, threads=args.threads)
    else:
        from _third_party_chgnet import run_chgnet

        row = run_chgnet(system, spec, seed, epochs=args.epochs, threads=args.threads,
                         n_train=args.n_train, test_every=args.test_every)
        row.pop("history", None)
    return {"model": model, **{k: v for k, v in row.items() if k != "report"}}


def _epoch_seconds(row: dict) -> float:
    return row.get("cpu_seconds_per_epoch", row["seconds_per_epoch"])


def report(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    base = {(r["model"], r["system"], r["seed"], r["epochs"]): r for r in rows
            if r["variant"] == "original"}
    groups = defaultdict(list)
    for r in rows:
        groups[(r["model"], r["system"], r["variant"], r["epochs"])].append(r)
    print("model | system | variant | epochs | seeds | " + " | ".join(
        f"{label} (median; per seed) | x original" for _, label in MEASURES)
        + " | params added | epoch time x original")
    for (model, system, variant, epochs), members in sorted(groups.items()):
        members.sort(key=lambda r: r["seed"])
        cells = []
        for key, _ in MEASURES:
            values = [r[key] for r in members]
            ratios = [r[key] / base[k][key] for r in members
                      if (k := (model, system, r["seed"], epochs)) in base]
            cells.append(f"{statistics.median(values):.4g} ("
                         + ", ".join(f"{v:.4g}" for v in values) + ") | "
                         + (f"{statistics.median(ratios):.2f}" if ratios else "-"))
        times = [_epoch_seconds(r) / _epoch_seconds(base[k]) for r in members
                 if (k := (model, system, r["seed"], epochs)) in base]
        added = members[0]["params_added"]
        pct = members[0]["params_added_pct"]
        print(f"{model} | {system} | {variant} | {epochs} | {len(members)} | "
              + " | ".join(cells) + f" | {added} ({pct:.3f} %) | "
              + (f"{statistics.median(times):.2f}" if times else "-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=["mace", "chgnet"],
                        default=["mace", "chgnet"])
    parser.add_argument("--systems", nargs="+", choices=["cu", "hfo2", "ec"], default=["cu"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        help="original, or basis/sharing (e.g. chebyshev1/network)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=None,
                        help="CHGNet: only the first N training frames (all by default)")
    parser.add_argument("--test-every", type=int, default=1,
                        help="CHGNet: every k-th test frame (all by default)")
    parser.add_argument("--out", default="results/third_party.jsonl")
    parser.add_argument("--report", default=None, help="print the tables of this file")
    args = parser.parse_args()
    if args.report:
        report(args.report)
        return
    if "original" not in args.variants:
        parser.error("--variants must include 'original': every ratio is to it")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    for model in args.models:
        for system in args.systems:
            for seed in args.seeds:
                for variant in args.variants:
                    row = run(model, system, variant, seed, args)
                    print(json.dumps(row), flush=True)
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
    report(args.out)


if __name__ == "__main__":
    main()
