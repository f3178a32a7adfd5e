"""Checkpoint and resume for long fits: :class:`TrainingCheckpoint`.

A fit with a checkpoint writes the whole state of its training run to one file in a directory,
atomically (a temporary file, flushed to disk, then renamed over the last one), every
``every`` epochs and once more when training ends. Killed at any moment (``kill -9``
included), the run is resumed by calling ``fit`` again with the same directory, data and
parameters: training continues from the last checkpoint and ends with the same weights as a
run that was never interrupted, bit for bit (the loop is deterministic on one machine with the
same number of threads).

Why not skorch's ``Checkpoint`` and ``LoadInitState``: they save the module, optimizer,
criterion and history, each to its own file, written in place. Three things are missing for an
exact resume: the callbacks' state (early stopping's patience count and best weights, a
learning-rate schedule's position), torch's random generator (the next epoch's minibatch
order), and atomicity across the files (a kill between two writes leaves a mixed checkpoint).
Here the net is pickled whole, in one pickle stream, so the references between its parts
(a schedule's optimizer, a callback's list of parameters) still point at the same objects
after loading. skorch's own pickling writes the module and optimizer to a separate stream
and would cut those references.

The checkpoint records a fingerprint of the data and of the estimator's parameters; ``fit``
with a directory that holds another fit's checkpoint refuses (``ValueError``) instead of
resuming the wrong run or overwriting it. A checkpoint of a finished fit makes a repeated
``fit`` on the same data load the result without training.

Examples
--------
>>> import tempfile
>>> import numpy as np
>>> from taafs_sk import TAAFSRegressor
>>> rng = np.random.RandomState(0)
>>> X = rng.uniform(-1, 1, (60, 2)); y = X[:, 0] - X[:, 1] ** 2
>>> with tempfile.TemporaryDirectory() as folder:
...     est = TAAFSRegressor((8,), max_epochs=5, early_stopping=False, random_state=0,
...                          checkpoint=folder).fit(X, y)
...     again = TAAFSRegressor((8,), max_epochs=5, early_stopping=False, random_state=0,
...                            checkpoint=folder).fit(X, y)  # loads the finished fit
>>> bool(np.array_equal(est.predict(X), again.predict(X))), again.n_iter_
(True, 5)
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from .._validation import check_count

__all__ = ["CHECKPOINT_FILE", "TrainingCheckpoint", "as_checkpoint", "data_fingerprint"]

#: The file a checkpoint directory holds.
CHECKPOINT_FILE = "taafs-checkpoint.pkl"
_FORMAT = 1


class TrainingCheckpoint(Callback):
    """Write the training run to ``dirname`` every ``every`` epochs; resume it in ``fit``.

    Pass it (or just a directory, for ``every=1``) as the ``checkpoint`` parameter of
    :class:`~taafs_sk.TAAFSRegressor` or :class:`~taafs_sk.atomistic.TAAFSPotential`; see
    the module docstring for what is saved and why the resume is exact.

    Parameters
    ----------
    dirname : str or os.PathLike
        Directory of the checkpoint (created if missing); it holds one file,
        :data:`CHECKPOINT_FILE`.
    every : int, default=1
        Epochs between two checkpoints (the end of training is always written).

    Examples
    --------
    >>> from taafs_sk.taafs.checkpoint import TrainingCheckpoint
    >>> TrainingCheckpoint("runs/cu", every=10).every
    10
    """

    def __init__(self, dirname, every: int = 1) -> None:
        _check_dirname(dirname)
        self.dirname = dirname
        self.every = check_count("every", every)

    @property
    def path(self) -> Path:
        """The checkpoint file."""
        return Path(self.dirname) / CHECKPOINT_FILE

    def for_fit(self, fingerprint: str) -> TrainingCheckpoint:
        """A checked copy bound to one fit's ``fingerprint`` (the user's object is kept)."""
        bound = TrainingCheckpoint(self.dirname, self.every)
        if bound.path.parent.exists() and not bound.path.parent.is_dir():
            raise ValueError(f"checkpoint={str(self.dirname)!r} is a file, not a directory.")
        bound.fingerprint_ = fingerprint
        return bound

    def on_epoch_end(self, net, **kwargs) -> None:
        if len(net.history) % self.every == 0:
            self.save(net, finished=False)

    def on_train_end(self, net, **kwargs) -> None:
        self.save(net, finished=True)

    def save(self, net: NeuralNet, finished: bool) -> None:
        """Write ``net`` and torch's generator state atomically."""
        payload = {"format": _FORMAT, "fingerprint": self.fingerprint_, "finished": finished,
                   "epoch": len(net.history), "torch_rng": torch.get_rng_state(), "net": net}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{CHECKPOINT_FILE}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                _NetPickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
                f.flush()
                os.fsync(f.fileno())
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            tmp.unlink(missing_ok=True)
            raise TypeError(f"checkpoint: the training run cannot be pickled ({exc}); every "
                            "callback, loss and module must be picklable (defined at module "
                            "level, no lambdas).") from exc
        os.replace(tmp, self.path)

    def load(self) -> dict | None:
        """The saved payload of this fit, None without a checkpoint; ``ValueError`` when the
        file holds another fit or is not a checkpoint."""
        if not self.path.exists():
            return None
        try:
            with open(self.path, "rb") as f:
                payload = pickle.load(f)  # noqa: S301 - the user's own checkpoint directory
        except Exception as exc:
            raise ValueError(f"checkpoint file {str(self.path)!r} could not be read ({exc}); "
                             "delete it or use another directory.") from exc
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{str(self.path)!r} is not a taafs-sk checkpoint (format "
                             f"{_FORMAT}); delete it or use another directory.")
        if payload["fingerprint"] != self.fingerprint_:
            raise ValueError(
                f"checkpoint={str(self.dirname)!r} holds the checkpoint of another fit (other "
                "data or parameters); use another directory, or delete it to start over."
            )
        return payload


def _check_dirname(dirname) -> None:
    if not isinstance(dirname, (str, os.PathLike)):
        raise TypeError(f"dirname of TrainingCheckpoint must be a str or os.PathLike, got "
                        f"{dirname!r} ({type(dirname).__name__}).")


class _NetPickler(pickle.Pickler):
    """Pickles skorch nets by their ``__dict__`` in the same stream, so that references
    between the module, optimizer and callbacks survive (skorch's ``__getstate__`` writes the
    module and optimizer to a separate stream)."""

    def reducer_override(self, obj):
        if isinstance(obj, NeuralNet):
            return (_new_instance, (type(obj),), dict(obj.__dict__), None, None, _set_dict)
        return NotImplemented


def _new_instance(cls):
    return cls.__new__(cls)


def _set_dict(obj, state: dict):
    obj.__dict__.update(state)
    return obj


def as_checkpoint(value, fingerprint: str) -> TrainingCheckpoint | None:
    """``checkpoint`` parameter (None, a directory or a :class:`TrainingCheckpoint`) bound to
    one fit."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        value = TrainingCheckpoint(value)
    if not isinstance(value, TrainingCheckpoint):
        raise TypeError(f"checkpoint must be None, a directory (str or os.PathLike) or a "
                        f"TrainingCheckpoint, got {value!r:.80} ({type(value).__name__}).")
    return value.for_fit(fingerprint)


def data_fingerprint(params: dict, *data) -> str:
    """SHA-256 of an estimator's parameters and its training data (arrays, tensors, and
    nested lists/tuples/dicts of them); parameters that are objects count by type only."""
    digest = hashlib.sha256()
    simple = (str, int, float, bool, type(None), tuple)
    for name in sorted(params):
        value = params[name]
        shown = repr(value) if isinstance(value, simple) else type(value).__qualname__
        digest.update(f"{name}={shown};".encode())
    for item in data:
        _update(digest, item)
    return digest.hexdigest()


def _update(digest, item) -> None:
    if isinstance(item, torch.Tensor):
        item = item.detach().cpu().numpy()
    if isinstance(item, np.ndarray):
        digest.update(f"{item.dtype}{item.shape}".encode())
        digest.update(np.ascontiguousarray(item).tobytes())
    elif isinstance(item, dict):
        for key in sorted(item):
            digest.update(str(key).encode())
            _update(digest, item[key])
    elif isinstance(item, (list, tuple)):
        digest.update(f"[{len(item)}]".encode())
        for part in item:
            _update(digest, part)
    else:
        digest.update(repr(item).encode())


def resume(checkpoint: TrainingCheckpoint | None, X, y) -> NeuralNet | None:
    """The net of ``checkpoint``'s fit, trained to the end from where it stopped (torch's
    generator restored to the saved state, callbacks as saved); None without a checkpoint.
    Call inside the caller's ``torch.random.fork_rng``."""
    payload = None if checkpoint is None else checkpoint.load()
    if payload is None:
        return None
    net = payload["net"]
    for _, callback in net.callbacks_:
        if isinstance(callback, TrainingCheckpoint):
            callback.dirname = checkpoint.dirname  # the directory may have moved
    if not payload["finished"]:
        torch.set_rng_state(payload["torch_rng"])
        remaining = net.max_epochs - len(net.history)
        try:
            if remaining > 0:
                net.fit_loop(X, y, epochs=remaining)
        except KeyboardInterrupt:  # skorch's early stopping ends the loop this way
            pass
        net.notify("on_train_end", X=X, y=y)
    return net
