"""load_pwmlff: the three PWMLFF DFT trajectories, their documented splits, checksums and the
missing-file message; the structures as minibatches of the training loop (Frames.subset, the
batch iterator, the last-block validation split)."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
import torch

from taafs_sk.datasets import FILES, load_pwmlff

SIZES = {"cu": (200, 72, 100, 100), "hfo2": (150, 96, 100, 50), "ec": (200, 10, 150, 50)}


@pytest.mark.parametrize("system", sorted(SIZES))
def test_frames_splits_and_targets(data_home, system):
    n, atoms, n_train, n_test = SIZES[system]
    frames = load_pwmlff(system, data_home=data_home)
    train = load_pwmlff(system, "train", data_home=data_home)
    test = load_pwmlff(system, "test", data_home=data_home)
    assert len(frames) == n and {len(a) for a in frames} == {atoms}
    assert (len(train), len(test)) == (n_train, n_test)
    assert all(a.pbc.all() for a in frames)
    assert np.isfinite(frames[0].get_potential_energy())
    assert frames[0].get_forces().shape == (atoms, 3)
    # the splits are disjoint blocks of whole runs or of consecutive frames
    key = [(a.info["source"], int(a.info["frame"])) for a in frames]
    got = [(a.info["source"], int(a.info["frame"])) for a in train + test]
    assert sorted(got) == sorted(key) and len(set(got)) == n


def test_cu_split_is_by_temperature(data_home):
    assert {a.info["source"] for a in load_pwmlff("cu", "train", data_home=data_home)} == {
        "0_300_MOVEMENT"}
    assert {a.info["source"] for a in load_pwmlff("cu", "test", data_home=data_home)} == {
        "1_500_MOVEMENT"}


def test_tampered_file_fails_the_checksum(data_home, tmp_path):
    target = tmp_path / FILES["pwmlff-ec"].path
    target.parent.mkdir(parents=True)
    shutil.copyfile(data_home / FILES["pwmlff-ec"].path, target)
    target.chmod(0o644)
    content = bytearray(gzip.decompress(target.read_bytes()))
    content[len(content) // 2] ^= 0x01
    target.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_pwmlff("ec", data_home=tmp_path)


def test_missing_file_names_the_file_and_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_pwmlff("hfo2", data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "pwmlff_md" / "hfo2.extxyz.gz") in message
    assert "TAAFS_SK_DATA" in message and "load_pwmlff" in message


@pytest.mark.parametrize("kwargs, name", [({"system": "si"}, "system"),
                                          ({"split": "valid"}, "split")])
def test_bad_options_name_the_parameter(data_home, kwargs, name):
    with pytest.raises(ValueError, match=name):
        load_pwmlff(**kwargs, data_home=data_home)


# ------------------------------------------------------------------ minibatches of structures
FIELDS = ("species", "struct", "n_atoms", "pair_i", "pair_j", "pair_struct", "G", "J", "energy",
          "forces")


@pytest.fixture(scope="module")
def ec_dataset(data_home):
    from taafs_sk.atomistic._batches import StructureDataset
    from taafs_sk.atomistic._frames import build_frames
    from taafs_sk.atomistic.descriptors import ANIDescriptor

    frames = load_pwmlff("ec", data_home=data_home)[:7]
    flat = build_frames(frames, ["C", "H", "O"], ANIDescriptor(), torch.float64)
    flat.energy = torch.tensor([a.get_potential_energy() for a in frames])
    flat.forces = torch.tensor(np.concatenate([a.get_forces() for a in frames]))
    return StructureDataset(flat)


def test_a_block_of_structures_is_a_view_equal_to_the_gathered_copy(ec_dataset):
    frames = ec_dataset.frames
    block = frames.subset([2, 3, 4])
    gathered = frames.subset([4, 2, 3]).subset([1, 2, 0])  # same structures, by gathering
    for name in FIELDS:
        assert torch.equal(getattr(block, name), getattr(gathered, name)), name
    assert block.J.untyped_storage().data_ptr() == frames.J.untyped_storage().data_ptr()
    assert gathered.J.untyped_storage().data_ptr() != frames.J.untyped_storage().data_ptr()


def test_the_validation_block_is_the_last_structures(ec_dataset):
    from taafs_sk.atomistic._batches import LastBlockSplit

    train, valid = LastBlockSplit(0.3)(ec_dataset)  # floor(0.3 * 7) = 2 held out
    assert list(train.indices) == [0, 1, 2, 3, 4] and list(valid.indices) == [5, 6]


def test_shuffled_batches_cover_the_training_block_once_and_follow_the_seed(ec_dataset):
    from taafs_sk.atomistic._batches import LastBlockSplit, StructureBatchIterator

    train, _ = LastBlockSplit(0.3)(ec_dataset)
    energy = ec_dataset.frames.energy

    def order(seed):
        torch.manual_seed(seed)
        batches = list(StructureBatchIterator(train, batch_size=2, shuffle=True))
        assert [len(frames) for frames, _ in batches] == [2, 2, 1]
        picked = torch.cat([targets[0] for _, targets in batches])
        return [int((energy == e).nonzero()) for e in picked]

    assert sorted(order(0)) == [0, 1, 2, 3, 4]
    assert order(0) == order(0)
    assert any(order(0) != order(seed) for seed in range(1, 4))
