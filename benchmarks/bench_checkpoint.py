"""What a checkpoint costs: fit time with ``checkpoint=`` against without, side by side.

Two fits, each timed with and without a checkpoint written every epoch, alternated in one
process (the order flips every round), best of ``--repeats`` rounds:

- ``TAAFSRegressor((64, 64))`` on 5,000 x 30 random rows, 10 epochs, early stopping on;
- ``TAAFSPotential`` with its defaults on ``--frames`` Cu frames (``load_pwmlff``), 3 epochs,
  Adam; and once with ``optimizer='rlekf'`` (its covariance blocks are part of the state).

Prints the seconds per fit, the ratio, and the checkpoint file's size.

Run from the project root (data in ``TAAFS_SK_DATA``)::

    .venv/bin/python benchmarks/bench_checkpoint.py [--repeats 3] [--frames 40]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from taafs_sk import TAAFSRegressor
from taafs_sk.taafs.checkpoint import CHECKPOINT_FILE


def _time_fit(make, data, folder) -> tuple[float, int]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(folder).fit(*data)
    seconds = time.perf_counter() - start
    size = (Path(folder) / CHECKPOINT_FILE).stat().st_size if folder else 0
    return seconds, size


def compare(name: str, make, data, repeats: int) -> None:
    plain, with_checkpoint, size = [], [], 0
    for round_ in range(repeats):
        for use in ((False, True) if round_ % 2 == 0 else (True, False)):
            with tempfile.TemporaryDirectory() as folder:
                seconds, n_bytes = _time_fit(make, data, folder if use else None)
            (with_checkpoint if use else plain).append(seconds)
            size = max(size, n_bytes)
    best_plain, best_ckpt = min(plain), min(with_checkpoint)
    print(f"{name:38s} {best_plain:8.2f} s {best_ckpt:8.2f} s {best_ckpt / best_plain:6.3f}x"
          f" {size / 1e6:8.2f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'fit':38s} {'plain':>10s} {'checkpoint':>10s} {'ratio':>7s} {'file':>11s}")
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (5000, 30))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    compare("TAAFSRegressor((64, 64)), 10 epochs",
            lambda folder: TAAFSRegressor((64, 64), max_epochs=10, random_state=0,
                                          checkpoint=folder), (X, y), args.repeats)
    from taafs_sk.atomistic import TAAFSPotential
    from taafs_sk.datasets import load_pwmlff

    frames = load_pwmlff("cu")[: args.frames]
    for optimizer in ("adam", "rlekf"):
        compare(f"TAAFSPotential({optimizer}), {args.frames} Cu, 3 ep",
                lambda folder, o=optimizer: TAAFSPotential(max_epochs=3, optimizer=o,
                                                           random_state=0, checkpoint=folder),
                (frames,), args.repeats)


if __name__ == "__main__":
    main()
