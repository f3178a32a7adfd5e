"""A minibatch iterator for skorch that slices whole tensors instead of collating rows.

torch's ``DataLoader`` fetches each row of a batch separately and stacks them, which on small
tabular problems costs more than the training step itself. This iterator indexes the stored
tensors once per batch. It accepts what skorch hands to ``iterator_train``/``iterator_valid``:
a ``skorch.dataset.Dataset`` or a ``torch.utils.data.Subset`` of one (after ``ValidSplit``),
whose ``X`` is a tensor or a dict of tensors (inputs and ``sample_weight``, sliced together).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import torch
from torch.utils.data import Subset

__all__ = ["TensorBatchIterator"]


def _as_tensor(data):
    if isinstance(data, Mapping):
        return {k: _as_tensor(v) for k, v in data.items()}
    if data is None or isinstance(data, torch.Tensor):
        return data
    return torch.from_numpy(np.array(data, copy=True))


def _take(data, idx):
    """Rows ``idx`` (a slice or an index tensor) of a tensor, a dict of tensors, or None."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {k: v[idx] for k, v in data.items()}
    return data[idx]


def _tensors(dataset):
    if isinstance(dataset, Subset):
        X, y = _tensors(dataset.dataset)
        idx = torch.as_tensor(np.asarray(dataset.indices), dtype=torch.long)
        return _take(X, idx), _take(y, idx)
    return _as_tensor(dataset.X), _as_tensor(dataset.y)


def _n_rows(X) -> int:
    return len(next(iter(X.values()))) if isinstance(X, Mapping) else len(X)


class TensorBatchIterator:
    """Iterate over ``(X_batch, y_batch)`` slices of a tensor dataset.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset
        Holds tensors (or arrays) ``X`` and ``y``.
    batch_size : int, default=64
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Draw a new permutation (from torch's global generator) at each pass.
    **kwargs
        Ignored DataLoader options (``num_workers``, ...), accepted for compatibility.

    Examples
    --------
    >>> import torch
    >>> from skorch.dataset import Dataset
    >>> from taafs_sk.taafs._iterators import TensorBatchIterator
    >>> it = TensorBatchIterator(Dataset(torch.zeros(10, 2), torch.zeros(10, 1)), batch_size=4)
    >>> [len(xb) for xb, yb in it]
    [4, 4, 2]
    """

    def __init__(self, dataset, batch_size: int = 64, shuffle: bool = False, **kwargs) -> None:
        self.X, self.y = _tensors(dataset)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def __len__(self) -> int:
        return -(-_n_rows(self.X) // self.batch_size)

    def __iter__(self) -> Iterator[tuple]:
        n = _n_rows(self.X)
        order = torch.randperm(n) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                idx = slice(start, start + self.batch_size)
            else:
                idx = order[start : start + self.batch_size]
            yield _take(self.X, idx), _take(self.y, idx)
