"""Structures for the library's skorch loop: the dataset, its minibatch iterator, the split.

skorch batches rows of tensors; a structure is a ragged sample (its atoms, its neighbour pairs
and their pair Jacobians). So :class:`~taafs_sk.atomistic.TAAFSPotential` hands skorch a
:class:`StructureDataset`, and :class:`StructureBatchIterator` (skorch's ``iterator_train`` and
``iterator_valid``) cuts each minibatch out of the flat graph with
:meth:`~taafs_sk.atomistic._frames.Frames.subset`: index arithmetic, no per-structure
collation. A batch is ``(frames, (energy, forces, n_atoms))``: the
:class:`~taafs_sk.atomistic._frames.Frames` goes to the module as it is, the targets are plain
tensors. :class:`LastBlockSplit` is skorch's ``train_split``: it holds out the *last* structures
as one block, because consecutive MD frames are correlated and a random split would leak.

Examples
--------
>>> import torch
>>> from taafs_sk.atomistic._batches import LastBlockSplit, StructureBatchIterator
>>> from taafs_sk.atomistic._batches import StructureDataset
>>> from taafs_sk.atomistic._frames import Frames
>>> n = torch.tensor([2, 1, 3, 2])  # atoms per structure
>>> struct = torch.repeat_interleave(torch.arange(4), n)
>>> frames = Frames(species=torch.zeros(8, dtype=torch.long), struct=struct, n_atoms=n,
...                 pair_i=torch.arange(8), pair_j=torch.arange(8), pair_struct=struct,
...                 G=torch.zeros(8, 1), J=torch.zeros(8, 1, 3), energy=torch.arange(4.0),
...                 forces=torch.zeros(8, 3))
>>> train, valid = LastBlockSplit(0.5)(StructureDataset(frames))
>>> [batch.n_atoms.tolist() for batch, _ in StructureBatchIterator(train, batch_size=1)]
[[2], [1]]
>>> [energy.tolist() for _, (energy, _, _) in StructureBatchIterator(valid, batch_size=8)]
[[2.0, 3.0]]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from ._frames import Frames
from .learned import learned_features

__all__ = ["LastBlockSplit", "StructureBatchIterator", "StructureDataset", "targets_of",
           "training_dataset"]


def targets_of(frames: Frames) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(energy (B,), forces (N, 3), n_atoms (B,))`` of a minibatch: skorch's ``y``."""
    return frames.energy, frames.forces, frames.n_atoms


class StructureDataset(Dataset):
    """The training structures as a torch ``Dataset`` (one item per structure).

    Parameters
    ----------
    frames : Frames
        All structures, with ``energy`` (reference energies removed) and ``forces`` set.
    """

    def __init__(self, frames: Frames) -> None:
        if frames.energy is None or frames.forces is None:
            raise ValueError("the frames of a StructureDataset need energies and forces.")
        self.frames = frames

    def __len__(self) -> int:
        return self.frames.n_structures

    def __getitem__(self, i) -> tuple[Frames, tuple]:
        batch = self.frames.subset([int(i)])
        return batch, targets_of(batch)


def training_dataset(frames: Frames, energies: np.ndarray, forces: list[np.ndarray],
                     networks, n_train: int) -> StructureDataset:
    """``frames`` with their targets (residual energies ``(B,)``, forces ``(n_atoms, 3)``
    each) as a dataset; sets the feature and energy scaling of ``networks`` (an
    :class:`~taafs_sk.atomistic.network.ElementNetworks`) from the first ``n_train``
    structures, the training block (the held-out ones come last). With a learned descriptor
    (``networks.descriptor``) its fit-time statistics (``set_statistics``, if it has one) come
    from the training block first, then the feature scaling from its untrained ``G``."""
    dtype, device = networks.feature_mean.dtype, frames.species.device
    frames.energy = torch.as_tensor(energies, dtype=dtype, device=device)
    frames.forces = torch.as_tensor(np.concatenate(forces), dtype=dtype, device=device)
    k = int(frames.n_atoms[:n_train].sum())  # atoms of the training block come first
    scale = float(frames.forces[:k].pow(2).mean().sqrt()) or 1.0
    if frames.G is None:
        train = frames.subset(range(n_train))
        set_statistics = getattr(networks.descriptor, "set_statistics", None)
        if set_statistics is not None:
            with torch.no_grad():
                set_statistics(train.species, train.pair_i, train.pair_j,
                               train.vectors.to(dtype))
        G = learned_features(networks.descriptor, train, dtype)
    else:
        G = frames.G[:k]
    networks.set_scaling(G, frames.species[:k], scale)
    return StructureDataset(frames)


def _frames_and_indices(dataset) -> tuple[Frames, torch.Tensor]:
    """The underlying Frames and the structures ``dataset`` (or a Subset of it) covers."""
    if isinstance(dataset, Subset):
        frames, idx = _frames_and_indices(dataset.dataset)
        return frames, idx[torch.as_tensor(np.asarray(dataset.indices), dtype=torch.long)]
    if isinstance(dataset, StructureDataset):
        return dataset.frames, torch.arange(len(dataset))
    raise TypeError(f"StructureBatchIterator needs a StructureDataset or a Subset of one, got "
                    f"{type(dataset).__name__}.")


class StructureBatchIterator:
    """Minibatches ``(frames, (energy, forces, n_atoms))`` of whole structures.

    Parameters
    ----------
    dataset : StructureDataset or torch.utils.data.Subset of one
        What skorch hands to ``iterator_train`` / ``iterator_valid``.
    batch_size : int, default=8
        Structures per minibatch; the last one may be smaller.
    shuffle : bool, default=False
        Draw a new order at each pass from torch's global generator (seeded by
        :func:`~taafs_sk.taafs.training.fit_net`).
    **kwargs
        Ignored DataLoader options, accepted for compatibility.
    """

    def __init__(self, dataset, batch_size: int = 8, shuffle: bool = False, **kwargs) -> None:
        self.frames, self.indices = _frames_and_indices(dataset)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def __len__(self) -> int:
        return -(-len(self.indices) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Frames, tuple]]:
        n = len(self.indices)
        order = self.indices[torch.randperm(n)] if self.shuffle else self.indices
        for start in range(0, n, self.batch_size):
            batch = self.frames.subset(order[start:start + self.batch_size])
            yield batch, targets_of(batch)


class LastBlockSplit:
    """skorch ``train_split``: the last ``floor(validation_fraction * n)`` structures (at least
    one, never all) are the validation block, the others in order the training ones.

    Parameters
    ----------
    validation_fraction : float
        Fraction of the structures held out, in (0, 1).
    """

    def __init__(self, validation_fraction: float) -> None:
        self.validation_fraction = validation_fraction

    def n_valid(self, n: int) -> int:
        """Structures held out of ``n``."""
        return min(max(int(np.floor(self.validation_fraction * n)), 1), n - 1)

    def __call__(self, dataset, y=None, **fit_params) -> tuple[Subset, Subset]:
        n = len(dataset)
        n_train = n - self.n_valid(n)
        return Subset(dataset, range(n_train)), Subset(dataset, range(n_train, n))
