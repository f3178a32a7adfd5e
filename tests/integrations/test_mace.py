"""taafs_sk.integrations.mace: the swap (bit for bit at step 0), MACE's own training
(run_train, as the docs page runs it), save/load, MACE's ASE calculator, and the errors."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from taafs_sk.nn import TAAF

with contextlib.redirect_stdout(io.StringIO()):  # mace prints a note on cuequivariance
    mace = pytest.importorskip("mace")  # the 'mace' extra; before e3nn (see the module)
from e3nn import o3  # noqa: E402
from mace import data, modules, tools  # noqa: E402
from mace.tools import torch_geometric  # noqa: E402

from taafs_sk.integrations.mace import run_train, taaf_mace  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "taaf_in_mace.rst"
R_MAX = 3.0


def _model(interaction: str = "RealAgnosticResidualInteractionBlock",
           hidden: str = "8x0e") -> torch.nn.Module:
    torch.manual_seed(0)
    block = modules.interaction_classes[interaction]
    return modules.ScaleShiftMACE(
        r_max=R_MAX, num_bessel=4, num_polynomial_cutoff=5, max_ell=1, interaction_cls=block,
        interaction_cls_first=block, num_interactions=2, num_elements=1,
        hidden_irreps=o3.Irreps(hidden), MLP_irreps=o3.Irreps("4x0e"),
        atomic_energies=np.array([-3.0]), avg_num_neighbors=12.0, atomic_numbers=[29],
        correlation=2, gate=torch.nn.functional.silu, radial_MLP=[8, 8],
        atomic_inter_scale=0.5, atomic_inter_shift=0.1).double()


@pytest.fixture(scope="module")
def cu_frames(data_home):
    from taafs_sk.datasets import load_pwmlff

    return load_pwmlff("cu", "train")[:2]


@pytest.fixture(scope="module")
def batch(cu_frames):
    keys = data.KeySpecification(info_keys={"energy": "energy"},
                                 arrays_keys={"forces": "forces"})
    z_table = tools.AtomicNumberTable([29])
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # MACE's graphs take the default dtype
    try:
        graphs = [data.AtomicData.from_config(data.config_from_atoms(a, key_specification=keys),
                                              z_table=z_table, cutoff=R_MAX) for a in cu_frames]
    finally:
        torch.set_default_dtype(default)
    return next(iter(torch_geometric.dataloader.DataLoader(graphs, batch_size=2)))


def _predict(model, batch):
    out = model(batch.to_dict(), training=False, compute_force=True)
    return out["energy"].detach(), out["forces"].detach()


def test_swap_keeps_energies_and_forces_bit_for_bit(batch):
    model = _model()
    new, report = taaf_mace(model, "bspline", n_basis=6)
    assert [r["path"] for r in report.replaced] == [
        "interactions.0.conv_tp_weights.layer0.act", "interactions.0.conv_tp_weights.layer1.act",
        "interactions.1.conv_tp_weights.layer0.act", "interactions.1.conv_tp_weights.layer1.act",
        "readouts.1.non_linearity.acts.0"]
    assert report.n_params_added == 5 * 7 and not report.skipped
    (e0, f0), (e1, f1) = _predict(model, batch), _predict(new, batch)
    assert torch.equal(e0, e1) and torch.equal(f0, f1)
    assert (e0 - e1).abs().max() <= 1e-6 and (f0 - f1).abs().max() <= 1e-6


@pytest.mark.parametrize(("sharing", "n_taafs"), [("network", 3), ("neuron", 5)])
def test_sharing_schemes(batch, sharing, n_taafs):
    new, report = taaf_mace(_model(), "chebyshev1", n_basis=4, sharing=sharing)
    assert report.n_taafs == n_taafs
    assert torch.equal(_predict(new, batch)[1], _predict(_model(), batch)[1])
    if sharing == "neuron":
        assert new.readouts[1].non_linearity.acts[0].num_features == 4


def test_gates_of_the_gated_interaction_only_on_request(batch):
    model = _model("RealAgnosticResidualNonLinearInteractionBlock", "4x0e + 4x1o")
    _, report = taaf_mace(model)
    assert [r["path"] for r in report.skipped] == [
        "interactions.0.equivariant_nonlin._act_gate",
        "interactions.1.equivariant_nonlin._act_gate"]
    new, report = taaf_mace(model, gates=True)
    assert sum(r["gate"] for r in report.replaced) == 2 and not report.skipped
    assert isinstance(new.interactions[0].equivariant_nonlin._act_gate, TAAF)
    (e0, f0), (e1, f1) = _predict(model, batch), _predict(new, batch)
    assert torch.equal(e0, e1) and torch.equal(f0, f1)


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: taaf_mace(torch.nn.Linear(2, 2)), TypeError,
     r"model of taaf_mace must be a mace.modules.MACE.*got Linear"),
    (lambda: taaf_mace(_model(), sharing="global"), ValueError,
     r"sharing of taaf_mace cannot be 'global'.*parameter groups"),
    (lambda: taaf_mace(_model(), sharing="element"), ValueError,
     r"sharing of taaf_mace must be one of \['layer', 'neuron', 'network'\], got 'element'"),
    (lambda: taaf_mace(_model(), "wavelet"), ValueError, r"'wavelet'"),
    (lambda: run_train("--name=x"), TypeError, r"argv of run_train must be a list of strings"),
    (lambda: run_train(["--name=x"], taaf_lr_factor=-0.5), ValueError,
     r"taaf_lr_factor of run_train must be a finite number >= 0, got -0.5"),
    (lambda: run_train(["--name=x"], taaf_lr_factor=float("nan")), ValueError,
     r"taaf_lr_factor of run_train .* got nan"),
])
def test_bad_arguments_are_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --- MACE's own training, as the docs page runs it ----------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_home):
    """Run the docs page's code block in a fresh folder: mace_run_train with TAAFs."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", DOCS.read_text())
    assert len(blocks) == 1
    code = "\n".join(line[3:] for line in blocks[0].splitlines())
    folder = tmp_path_factory.mktemp("mace_run")
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(io.StringIO()) as out:
        mp.chdir(folder)
        namespace: dict = {}
        exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs page
    return folder, namespace, out.getvalue()


def test_docs_page_trains_with_run_train_and_prints_the_report(trained):
    folder, namespace, printed = trained
    report = namespace["report"]
    assert [r["path"] for r in report.replaced] == [
        "interactions.0.conv_tp_weights.layer0.act", "interactions.1.conv_tp_weights.layer0.act",
        "readouts.1.non_linearity.acts.0"]
    assert "replaced 3 activation sites with 3 TAAFs" in printed
    assert (folder / "cu_taaf.model").is_file()
    assert not (folder / "cu_taaf_compiled.model").exists()  # TorchScript: see the docs page


def test_taaf_lr_factor_zero_keeps_the_taafs_through_both_stages(tmp_path, monkeypatch):
    """The TAAF group at 0 x MACE's rate: two epochs, SWA (stage two) from the second, and
    the TAAFs are still the original activations (at factor 1 they train: the test below)."""
    block = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", DOCS.read_text())[0]
    code = "\n".join(line[3:] for line in block.splitlines())
    code = code.replace('"--max_num_epochs=1"', '"--max_num_epochs=2", "--swa", "--start_swa=1"')
    code = code.replace('sharing="layer")', 'sharing="layer", taaf_lr_factor=0.0)')
    assert "taaf_lr_factor=0.0" in code and "--start_swa=1" in code
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, str(DOCS), "exec"), {})  # noqa: S102 - our own docs page
    for name in ("cu_taaf.model", "cu_taaf_stagetwo.model"):
        model = torch.load(tmp_path / name, weights_only=False)
        taafs = [m for m in model.modules() if isinstance(m, TAAF)]
        assert len(taafs) == 3 and all(not t.weight.any() and not t.bias.any() for t in taafs)


def test_training_changed_the_taaf_coefficients(trained):
    folder, _, _ = trained
    model = torch.load(folder / "cu_taaf.model", weights_only=False)
    taafs = [m for m in model.modules() if isinstance(m, TAAF)]
    assert len(taafs) == 3
    assert all(t.weight.abs().sum() > 0 for t in taafs)  # zero at step 0


def test_save_load_round_trip_and_mace_checkpoint(trained, batch, tmp_path):
    folder, _, _ = trained
    model = torch.load(folder / "cu_taaf.model", weights_only=False)
    torch.save(model, tmp_path / "again.model")
    back = torch.load(tmp_path / "again.model", weights_only=False)
    (e0, f0), (e1, f1) = _predict(model, batch), _predict(back, batch)
    assert torch.equal(e0, e1) and torch.equal(f0, f1)
    handler = tools.CheckpointHandler(directory=str(tmp_path), tag="t", keep=False)

    def state(m):
        optimizer = torch.optim.Adam(m.parameters())
        return tools.CheckpointState(m, optimizer,
                                     torch.optim.lr_scheduler.ExponentialLR(optimizer, 0.9))

    handler.save(state(model), epochs=0, keep_last=False)
    for t in (m for m in back.modules() if isinstance(m, TAAF)):
        t.weight.data.zero_()
    assert not torch.equal(_predict(back, batch)[1], f0)
    handler.load_latest(state(back), device="cpu")  # MACE's checkpoint: state dicts
    assert torch.equal(_predict(back, batch)[1], f0)


def test_mace_calculator_runs_the_trained_model(trained):
    namespace = trained[1]
    atoms = namespace["atoms"]
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    model = torch.load(trained[0] / "cu_taaf.model", weights_only=False)
    assert np.isfinite(energy) and forces.shape == (72, 3) and np.isfinite(forces).all()
    assert any(isinstance(m, TAAF) for m in atoms.calc.models[0].modules())
    assert sum(p.numel() for p in atoms.calc.models[0].parameters()) == sum(
        p.numel() for p in model.parameters())
