"""A fit with a checkpoint, run as a subprocess by test_checkpoint.py (killed, then resumed).

Usage: python _checkpoint_run.py CHECKPOINT_DIR OUT.npz
Prints ``epoch N`` after each epoch, and ``resumed-from N`` when a checkpoint was there.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from taafs_sk import TAAFSRegressor
from taafs_sk.taafs.checkpoint import CHECKPOINT_FILE


class SlowEpochs(Callback):
    """Makes each epoch last long enough for the test to kill the fit midway."""

    def on_epoch_end(self, net, **kwargs):
        print(f"epoch {len(net.history)}", flush=True)
        time.sleep(0.05)


def main(folder: str, out: str) -> None:
    torch.set_num_threads(1)
    saved = Path(folder) / CHECKPOINT_FILE
    if saved.exists():
        with open(saved, "rb") as f:
            print(f"resumed-from {pickle.load(f)['epoch']}", flush=True)
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (300, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    est = TAAFSRegressor((16, 16), basis="bspline", n_basis=6, max_epochs=30, patience=50,
                         lr=3e-3, lr_schedule="cosine", activation_alpha=1e-3,
                         random_state=0, callbacks=[("slow", SlowEpochs())],
                         checkpoint=folder).fit(X, y)
    weights = {name: p.detach().numpy() for name, p in est.module_.named_parameters()}
    np.savez(out, predictions=est.predict(X), train_loss=np.array(est.loss_curve_), **weights)


if __name__ == "__main__":
    main(*sys.argv[1:])
