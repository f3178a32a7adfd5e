"""Checkpoint and resume of TAAFSRegressor fits (taafs_sk.taafs.checkpoint)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from taafs_sk import TAAFSRegressor
from taafs_sk.taafs.checkpoint import CHECKPOINT_FILE, TrainingCheckpoint

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RUNNER = Path(__file__).with_name("_checkpoint_run.py")


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, (n, 3))
    return X, np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]


#: The epoch at which CrashAt ends the fit (None: never). Read at each epoch, not stored in
#: the callback: a resumed run continues with the callbacks as they were saved.
CRASH: dict = {"at": None}


class CrashAt(Callback):
    """Ends the process's fit with an error at epoch ``CRASH['at']``, as a crash would."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == CRASH["at"]:
            raise RuntimeError("simulated crash")


@pytest.fixture(autouse=True)
def _no_crash():
    CRASH["at"] = None
    yield
    CRASH["at"] = None


def _weights(est):
    return [p.detach().clone() for p in est.module_.parameters()]


def _fit(folder, crash=None, **params):
    X, y = _data()
    CRASH["at"] = crash
    options = dict(hidden_layer_sizes=(8, 8), n_basis=5, max_epochs=12, patience=50,
                   random_state=0, checkpoint=folder, callbacks=[("crash", CrashAt())])
    options.update(params)
    return TAAFSRegressor(**options).fit(X, y)


@pytest.mark.parametrize("params", [
    {},
    {"lr_schedule": "cosine", "activation_alpha": 1e-2, "activation_warmup": 2},
    {"optimizer": "rlekf", "max_epochs": 4, "batch_size": 32},
    {"early_stopping": False, "sample_weight_kind": "float"},
], ids=["adam", "schedule-penalty-warmup", "rlekf", "weights-no-early-stop"])
def test_crashed_fit_resumes_to_the_uninterrupted_weights_bit_for_bit(tmp_path, params):
    params = {"hidden_layer_sizes": (8, 8), "n_basis": 5, "max_epochs": 12, "patience": 50,
              "random_state": 0, **params}
    weighted = params.pop("sample_weight_kind", None)
    X, y = _data()
    w = np.random.RandomState(1).uniform(0.5, 2.0, len(y)) if weighted else None
    whole = TAAFSRegressor(**params).fit(X, y, sample_weight=w)
    crash_at = max(2, whole.n_iter_ // 2)

    def fit(crash):
        CRASH["at"] = crash
        est = TAAFSRegressor(checkpoint=tmp_path, callbacks=[("crash", CrashAt())], **params)
        return est.fit(X, y, sample_weight=w)

    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(crash_at)
    with open(tmp_path / CHECKPOINT_FILE, "rb") as f:
        assert pickle.load(f)["epoch"] == crash_at - 1  # the crash came before its write
    resumed = fit(None)
    assert resumed.n_iter_ == whole.n_iter_
    assert resumed.loss_curve_ == whole.loss_curve_
    for a, b in zip(_weights(resumed), _weights(whole), strict=True):
        assert torch.equal(a, b)


class Spy(Callback):
    """Records the epoch of the checkpoint file at the end of each epoch."""

    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, net, **kwargs):
        if self.path.exists():
            with open(self.path, "rb") as f:
                SEEN.append(pickle.load(f)["epoch"])


SEEN: list = []


def test_checkpoint_is_written_every_n_epochs_and_at_the_end(tmp_path):
    SEEN.clear()
    X, y = _data()
    est = TAAFSRegressor((4,), max_epochs=7, early_stopping=False, random_state=0,
                         callbacks=[("spy", Spy(tmp_path / CHECKPOINT_FILE))],
                         checkpoint=TrainingCheckpoint(tmp_path, every=3)).fit(X, y)
    # the spy runs before the checkpoint callback, so it sees the previous epoch's file
    assert SEEN == [3, 3, 3, 6]
    with open(tmp_path / CHECKPOINT_FILE, "rb") as f:
        final = pickle.load(f)
    assert final["finished"] and final["epoch"] == est.n_iter_ == 7
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_FILE]  # no temporary left


def test_a_finished_checkpoint_loads_without_training(tmp_path):
    first = _fit(tmp_path)
    again = _fit(tmp_path, crash=1)  # would crash at epoch 1 if it trained
    np.testing.assert_array_equal(first.predict(_data()[0]), again.predict(_data()[0]))


@pytest.mark.parametrize("change", [{"lr": 2e-3}, {"data": 1}, {"basis": "legendre"}])
def test_a_directory_of_another_fit_is_refused_and_kept(tmp_path, change):
    _fit(tmp_path)
    before = (tmp_path / CHECKPOINT_FILE).read_bytes()
    change = dict(change)
    est = TAAFSRegressor((8, 8), n_basis=5, max_epochs=12, patience=50, random_state=0,
                         checkpoint=tmp_path, **{k: v for k, v in change.items() if k != "data"})
    X, y = _data(seed=change.get("data", 0))
    with pytest.raises(ValueError, match="another fit"):
        est.fit(X, y)
    assert (tmp_path / CHECKPOINT_FILE).read_bytes() == before


def test_bad_checkpoints_are_refused(tmp_path):
    X, y = _data()
    with pytest.raises(ValueError, match="checkpoint"):
        TAAFSRegressor(checkpoint=3.5).fit(X, y)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        TAAFSRegressor((4,), max_epochs=1, checkpoint=a_file).fit(X, y)
    with pytest.raises(ValueError, match="every"):
        TAAFSRegressor((4,), max_epochs=1, checkpoint=TrainingCheckpoint(tmp_path, 0)).fit(X, y)
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="could not be read"):
        TAAFSRegressor((4,), max_epochs=1, checkpoint=tmp_path).fit(X, y)
    fitted = TAAFSRegressor((4,), max_epochs=1, warm_start=True).fit(X, y)
    fitted.set_params(checkpoint=tmp_path / "new")
    with pytest.raises(ValueError, match="warm_start"):
        fitted.fit(X, y)


def test_an_unpicklable_callback_is_named_and_leaves_no_file(tmp_path):
    class Local(Callback):
        pass

    X, y = _data()
    with pytest.raises(TypeError, match="cannot be pickled"):
        TAAFSRegressor((4,), max_epochs=2, checkpoint=tmp_path,
                       callbacks=[("local", Local())]).fit(X, y)
    assert list(tmp_path.iterdir()) == []


def test_partial_fit_writes_no_checkpoint(tmp_path):
    X, y = _data()
    TAAFSRegressor((4,), checkpoint=tmp_path, random_state=0).partial_fit(X, y)
    assert not (tmp_path / CHECKPOINT_FILE).exists()


def test_kill_9_mid_fit_then_resume_gives_the_uninterrupted_fit(tmp_path):
    """The acceptance test of issue 29: SIGKILL a fitting process, fit again, compare."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    folder, whole_folder = tmp_path / "killed", tmp_path / "whole"
    proc = subprocess.Popen([sys.executable, str(RUNNER), str(folder), str(tmp_path / "a.npz")],
                            stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if line.strip() == "epoch 9":
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "a.npz").exists()
    resumed = subprocess.run([sys.executable, str(RUNNER), str(folder), str(tmp_path / "b.npz")],
                             capture_output=True, text=True, env=env, timeout=120, check=True)
    resumed_from = int(resumed.stdout.splitlines()[0].split()[1])
    assert 7 <= resumed_from <= 9, resumed.stdout[:200]
    assert resumed.stdout.splitlines()[1] == f"epoch {resumed_from + 1}"
    subprocess.run([sys.executable, str(RUNNER), str(whole_folder), str(tmp_path / "c.npz")],
                   capture_output=True, env=env, timeout=120, check=True)
    b, c = np.load(tmp_path / "b.npz"), np.load(tmp_path / "c.npz")
    assert sorted(b.files) == sorted(c.files)
    for name in c.files:
        np.testing.assert_array_equal(b[name], c[name], err_msg=name)
