"""TAAFs in the pretrained CHGNet: swap, step 0, one Trainer step, save/load, ASE, the docs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("chgnet")

from chgnet.data.dataset import collate_graphs  # noqa: E402
from chgnet.model import CHGNet  # noqa: E402
from chgnet.model.dynamics import CHGNetCalculator  # noqa: E402
from chgnet.trainer import Trainer  # noqa: E402

from taafs_sk.datasets import load_pwmlff  # noqa: E402
from taafs_sk.integrations.chgnet import (  # noqa: E402
    fit_atom_ref,
    load_taaf_chgnet,
    save_taaf_chgnet,
    structure_data,
    taaf_chgnet,
)
from taafs_sk.nn import TAAF  # noqa: E402

DOCS = Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "taaf_in_chgnet.rst"


@pytest.fixture(scope="module")
def pretrained():
    return CHGNet.load(verbose=False)


@pytest.fixture(scope="module")
def swapped(pretrained):
    return taaf_chgnet(pretrained, "bspline", n_basis=8, report=True)


@pytest.fixture(scope="module")
def frames(data_home):
    return load_pwmlff("ec", "train", data_home=data_home)[:2]  # 10 atoms each


def _taafs(model):
    return {name: m for name, m in model.named_modules() if isinstance(m, TAAF)}


def test_swap_replaces_effective_silus_and_reports_every_site(pretrained, swapped):
    model, report = swapped
    kept = {row["path"]: row["reason"] for row in report.skipped}
    assert len(report.replaced) + len(kept) == 47  # 37 SiLU + 10 Sigmoid modules shipped
    assert len(report.replaced) == 26
    assert all(row["old"].startswith("SiLU") and not row["gate"] for row in report.replaced)
    assert sum("gate" in reason for reason in kept.values()) == 9
    # the 10 never-called conv activations, and the last angle update's gated MLP
    assert sum("never train" in reason for reason in kept.values()) == 12
    for path in ("angle_layers.2.twoBody_bond.activation",
                 "angle_layers.2.twoBody_bond.sigmoid", "atom_conv_layers.0.activation"):
        assert "never train" in kept[path]
    assert sorted(_taafs(model)) == sorted(row["path"] for row in report.replaced)
    assert model.n_params - pretrained.n_params == report.n_params_added == 26 * 9
    assert all(isinstance(model.get_submodule(p), (nn.SiLU, nn.Sigmoid)) for p in kept)
    assert model.model_args["taaf"] == {"basis": "bspline", "n_basis": 8, "sharing": "layer",
                                        "gates": False}
    assert not _taafs(pretrained) and "taaf" not in pretrained.model_args  # a copy was swapped
    assert "26 activation sites" in str(report)


def test_gates_are_swapped_only_when_asked(pretrained):
    model, report = taaf_chgnet(pretrained, "chebyshev1", n_basis=4, gates=True, report=True)
    gates = [row for row in report.replaced if row["gate"]]
    assert len(gates) == 9 and len(report.replaced) == 35
    gate = model.get_submodule(gates[0]["path"])
    assert isinstance(gate, TAAF) and isinstance(gate.base, nn.Sigmoid)


def test_network_sharing_gives_one_taaf_per_block(pretrained):
    model, report = taaf_chgnet(pretrained, sharing="network", report=True)
    # 4 atom convolutions, 3 bond convolutions, 2 angle updates (the last has no effect), readout
    assert len({id(m) for m in _taafs(model).values()}) == report.n_taafs == 10
    assert report.n_params_added == model.n_params - pretrained.n_params == 10 * 9


def test_step0_outputs_unchanged(pretrained, frames):
    model = taaf_chgnet(pretrained, gates=True)
    structures = structure_data(frames).structures
    before = pretrained.predict_structure(structures, task="efsm")
    after = model.predict_structure(structures, task="efsm")
    for b, a in zip(before, after, strict=True):
        for key in "efsm":  # float32 (CHGNet's graphs are float32): an exact zero is added
            assert np.max(np.abs(a[key] - b[key])) <= 1e-6, key


def test_fit_atom_ref_moves_energies_to_the_dft_scale(pretrained, frames):
    model = taaf_chgnet(pretrained)
    shifts = fit_atom_ref(model, frames)
    assert set(shifts) == {"H", "C", "O"}
    pred = model.predict_structure(structure_data(frames).structures, task="e")
    dft = [a.get_potential_energy() / len(a) for a in frames]
    assert abs(np.mean([float(p["e"]) for p in pred]) - np.mean(dft)) < 1e-3  # eV/atom
    assert abs(dft[0]) > 100  # PWmat's scale, far from MPtrj's


@pytest.fixture(scope="module")
def trained(pretrained, frames, tmp_path_factory):
    model = taaf_chgnet(pretrained)
    fit_atom_ref(model, frames)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    loader = torch.utils.data.DataLoader(structure_data(frames), batch_size=2,
                                         collate_fn=collate_graphs)
    trainer = Trainer(model=model, targets="ef", epochs=1, learning_rate=1e-3, torch_seed=0,
                      use_device="cpu", print_freq=100)
    save_dir = tmp_path_factory.mktemp("chgnet_trainer")
    trainer.train(loader, loader, save_dir=str(save_dir))  # one step on two frames
    return trainer.model, start, save_dir


def test_one_trainer_step_changes_the_taaf_coefficients(trained):
    model, start, _ = trained
    for name, taaf in _taafs(model).items():
        assert not torch.equal(taaf.weight.detach(), start[f"{name}.weight"]), name
    weight = "composition_model.fc.weight"  # the AtomRef stays frozen (Trainer's default)
    assert torch.equal(model.state_dict()[weight], start[weight])


def _predictions(model, frames):
    return model.predict_structure(structure_data(frames).structures, task="ef")


def test_save_load_round_trip(trained, frames, tmp_path):
    model, _, save_dir = trained
    path = tmp_path / "model.pth.tar"
    save_taaf_chgnet(model, path)
    expected = _predictions(model, frames)
    checkpoint = next(save_dir.glob("bestE_*.pth.tar"))
    for source in (path, checkpoint):  # ours and Trainer's own checkpoint
        loaded = load_taaf_chgnet(source)
        assert sorted(_taafs(loaded)) == sorted(_taafs(model))
        for e, got in zip(expected, _predictions(loaded, frames), strict=True):
            np.testing.assert_array_equal(got["e"], e["e"])
            np.testing.assert_array_equal(got["f"], e["f"])
    with pytest.raises(RuntimeError, match="Unexpected key"):
        CHGNet.from_file(str(path))  # rebuilds SiLUs, so the TAAF weights do not fit


def test_calculator_runs_the_swapped_model(trained, frames):
    model, _, _ = trained
    atoms = frames[0].copy()
    atoms.calc = CHGNetCalculator(model, use_device="cpu")
    expected = _predictions(model, frames)[0]
    assert atoms.get_potential_energy() == pytest.approx(float(expected["e"]) * len(atoms),
                                                         rel=1e-6)
    np.testing.assert_allclose(atoms.get_forces(), expected["f"], atol=1e-5)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"basis": nn.Tanh()}, TypeError, "basis"),
    ({"basis": "nope"}, ValueError, "nope"),
    ({"n_basis": 0}, ValueError, "n_basis"),
    ({"n_basis": 2.5}, TypeError, "n_basis"),
    ({"sharing": "neuron"}, ValueError, "sharing"),
    ({"sharing": "network", "gates": True}, ValueError, "sharing"),
    ({"gates": "yes"}, TypeError, "gates"),
    ({"inplace": 1}, TypeError, "inplace"),
])
def test_bad_arguments(pretrained, kwargs, error, match):
    with pytest.raises(error, match=match):
        taaf_chgnet(pretrained, **kwargs)


def test_bad_inputs(pretrained, swapped, frames, tmp_path):
    with pytest.raises(TypeError, match="model"):
        taaf_chgnet(nn.Sequential(nn.Linear(2, 2), nn.SiLU()))
    with pytest.raises(ValueError, match="already holds TAAFs"):
        taaf_chgnet(swapped[0])
    with pytest.raises(ValueError, match="frames"):
        structure_data([])
    with pytest.raises(TypeError, match=re.escape("frames[1]")):
        structure_data([frames[0], "Cu"])
    with pytest.raises(TypeError, match="batch_size"):
        fit_atom_ref(pretrained, frames, batch_size=None)
    plain = tmp_path / "plain.pth.tar"
    torch.save({"model": pretrained.as_dict()}, plain)
    with pytest.raises(ValueError, match="without TAAFs"):
        load_taaf_chgnet(plain)


def test_docs_page_runs(tmp_path, monkeypatch, data_home):
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", DOCS.read_text())
    assert len(blocks) == 1
    code = "\n".join(line[3:] for line in blocks[0].splitlines())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAAFS_SK_DATA", str(data_home))
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs page
    assert (tmp_path / "chgnet_taaf.pth.tar").is_file()
    assert namespace["atoms"].get_forces().shape == (10, 3)
    assert any(isinstance(m, TAAF) for m in namespace["model"].modules())
