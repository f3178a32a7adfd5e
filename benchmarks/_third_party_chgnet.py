"""CHGNet fine-tuned on PWMLFF DFT frames with its own Trainer: original against TAAF-swapped.

:func:`run_chgnet` loads the shipped pretrained CHGNet (0.3.0 weights, 412,525 parameters),
optionally swaps its activations with :func:`taafs_sk.integrations.chgnet.taaf_chgnet`, moves
its per-element reference energies onto PWmat's scale (:func:`fit_atom_ref`, on the training
frames), and fine-tunes every weight except the AtomRef with ``chgnet.trainer.Trainer``
(Adam, learning rate 1e-3, cosine schedule, MSE on energy per atom and forces with weights
1 and 1, batch 4; CHGNet's defaults except the batch). Training frames: the
``load_pwmlff(system, 'train')`` split, less its last 10 % (a contiguous block) kept as
Trainer's validation set; test: the ``'test'`` split (for Cu, trained at 300 K, tested at
500 K). Every variant of one seed starts from the same pretrained weights and sees the frames
in the same order, so the columns compare like with like.

Energies are reported twice: as ``predict_structure`` returns them (float32: at PWmat's
-4967.8 eV/atom for Cu the float32 spacing is 0.49 meV/atom, so rounding alone gives about
0.14 meV/atom RMS) and with the AtomRef term added in float64 to the float32 GNN term.

Run (the one comparison measured on Cu, one thread; about 15 minutes on a loaded 2-core
machine: 22 training frames, 3 epochs, 20 test frames)::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/_third_party_chgnet.py \\
        --system cu --epochs 3 --seed 0 --n-train 24 --test-every 5

``--timing`` instead times Trainer's epoch on one batch of 2 frames for the original and the
swapped model in turn, 5 rounds (about 3 minutes), which a loaded machine biases less than two
runs one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _third_party_common import VAL_FRACTION, parse_variant

from taafs_sk.datasets import load_pwmlff
from taafs_sk.integrations.chgnet import fit_atom_ref, structure_data, taaf_chgnet

BATCH_SIZE = 4
LEARNING_RATE = 1e-3


def _loader(data, batch_size: int, seed: int | None):
    from chgnet.data.dataset import collate_graphs

    generator = None if seed is None else torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=seed is not None,
                                       collate_fn=collate_graphs, generator=generator)


def _evaluate(model, frames) -> dict:
    """Energy (meV/atom, float32 and float64 AtomRef) and force (eV/A) RMSE on ``frames``."""
    data = structure_data(frames)
    pred = model.predict_structure(data.structures, task="ef", batch_size=8)
    pred = [pred] if isinstance(pred, dict) else pred
    e_ref = np.array([a.get_potential_energy() / len(a) for a in frames])
    e32 = np.array([float(p["e"]) for p in pred])
    f_err = np.concatenate([(p["f"] - a.get_forces()).ravel()
                            for p, a in zip(pred, frames, strict=True)])
    ref, weight = model.composition_model, model.composition_model.fc.weight
    w64 = weight.detach().double().numpy().ravel()
    model.composition_model = None  # the GNN term alone (CHGNet adds 0 without it)
    try:
        gnn = model.predict_structure(data.structures, task="e", batch_size=8)
    finally:
        model.composition_model = ref
    gnn = [gnn] if isinstance(gnn, dict) else gnn
    atomref = np.array([np.mean(w64[a.numbers - 1]) for a in frames])
    e64 = np.array([float(p["e"]) for p in gnn]) + atomref
    return {"energy_rmse": 1000 * float(np.sqrt(np.mean((e32 - e_ref) ** 2))),
            "energy_rmse_f64": 1000 * float(np.sqrt(np.mean((e64 - e_ref) ** 2))),
            "force_rmse": float(np.sqrt(np.mean(f_err ** 2)))}


def run_chgnet(system: str, variant, seed: int, *, epochs: int, threads: int = 1,
               workdir: str | os.PathLike | None = None, n_train: int | None = None,
               test_every: int = 1, evaluate_start: bool = False) -> dict:
    """Fine-tune the pretrained CHGNet (swapped or not) on ``system`` and test it.

    Parameters
    ----------
    system : {'cu', 'hfo2', 'ec'}
    variant : 'original' or (basis, sharing)
        basis ``'bspline'`` or ``'chebyshev1'``; sharing as in ``taaf_chgnet``.
    seed : int
        Trainer's ``torch_seed`` and the shuffling of the training frames.
    epochs : int
    threads : int, default=1
    workdir : path, default=None
        Where Trainer writes its checkpoints (a temporary folder when None).
    n_train : int, default=None
        Use only the first ``n_train`` training frames (all when None).
    test_every : int, default=1
        Test on every ``test_every``-th frame of the test split (all by default).
    evaluate_start : bool, default=False
        Also test the model before training (after the AtomRef fit).

    Returns
    -------
    dict
        ``energy_rmse`` (meV/atom), ``energy_rmse_f64``, ``force_rmse`` (eV/A),
        ``n_params``, ``params_added`` and ``params_added_pct``, ``seconds_per_epoch`` (the
        mean of Trainer's own epochs, validation excluded), ``epoch_seconds``, and the
        training history.
    """
    from chgnet.model import CHGNet
    from chgnet.trainer import Trainer

    spec = parse_variant(variant)
    if spec is not None and len(spec) == 3:
        raise ValueError(f"variant {variant!r}: a TAAF learning-rate factor is MACE's only.")
    torch.set_num_threads(threads)
    frames = load_pwmlff(system, "train")[:n_train]
    n_val = max(1, round(VAL_FRACTION * len(frames)))
    train, val = frames[:-n_val], frames[-n_val:]
    test = load_pwmlff(system, "test")[::test_every]
    model = CHGNet.load(verbose=False)
    n_original = model.n_params
    if spec is not None:
        model = taaf_chgnet(model, spec[0], sharing=spec[1], inplace=True)
    shifts = fit_atom_ref(model, train)
    out = {"system": system, "variant": "original" if spec is None else "/".join(spec),
           "seed": seed, "epochs": epochs, "n_train": len(train), "n_val": len(val),
           "n_test": len(test), "n_params": model.n_params,
           "params_added": model.n_params - n_original,
           "params_added_pct": 100 * (model.n_params - n_original) / n_original,
           "atom_ref_shift": shifts}
    if evaluate_start:
        out["start"] = _evaluate(model, test)
    random.seed(seed)
    trainer = Trainer(model=model, targets="ef", optimizer="Adam", scheduler="CosLR",
                      criterion="MSE", epochs=epochs, learning_rate=LEARNING_RATE,
                      torch_seed=seed, use_device="cpu", print_freq=1000)
    epoch_seconds = []
    train_epoch = trainer._train

    def timed(*args, **kwargs):  # Trainer's own epoch, timed from outside
        start = time.perf_counter()
        result = train_epoch(*args, **kwargs)
        epoch_seconds.append(time.perf_counter() - start)
        return result

    trainer._train = timed
    with tempfile.TemporaryDirectory() as tmp:
        save_dir = Path(workdir or tmp) / f"{system}_{out['variant'].replace('/', '-')}_{seed}"
        trainer.train(_loader(structure_data(train), BATCH_SIZE, seed),
                      _loader(structure_data(val), BATCH_SIZE, None), save_dir=str(save_dir))
    out.update(_evaluate(trainer.model, test))
    out["epoch_seconds"] = epoch_seconds
    out["seconds_per_epoch"] = float(np.mean(epoch_seconds))
    out["history"] = trainer.training_history
    return out


def interleaved_epoch_times(system: str, variant, *, n_frames: int = 2, repeats: int = 5,
                            threads: int = 1) -> dict:
    """Trainer's own epoch on one batch of ``n_frames`` training frames, timed for the original
    and the swapped model in turn (``repeats`` rounds after one warm-up each), so that load
    from other processes hits both alike. Returns the times and the ratio of the medians."""
    from chgnet.model import CHGNet
    from chgnet.trainer import Trainer

    spec = parse_variant(variant)
    torch.set_num_threads(threads)
    frames = load_pwmlff(system, "train")[:n_frames]
    loader = _loader(structure_data(frames), n_frames, 0)
    trainers = {}
    for name in ("original", "taaf"):
        model = CHGNet.load(verbose=False)
        if name == "taaf":
            model = taaf_chgnet(model, spec[0], sharing=spec[1], inplace=True)
        fit_atom_ref(model, frames)
        trainers[name] = Trainer(model=model, targets="ef", epochs=repeats + 1, torch_seed=0,
                                 use_device="cpu", print_freq=1000)
        trainers[name]._train(loader, 0)  # warm-up: builds and caches the graphs
    times: dict[str, list[float]] = {name: [] for name in trainers}
    for epoch in range(1, repeats + 1):
        for name, trainer in trainers.items():
            start = time.perf_counter()
            trainer._train(loader, epoch)
            times[name].append(time.perf_counter() - start)
    ratio = float(np.median(times["taaf"]) / np.median(times["original"]))
    return {"variant": "/".join(spec), "times": times, "ratio_of_medians": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", default="cu", choices=["cu", "hfo2", "ec"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--test-every", type=int, default=1)
    parser.add_argument("--variants", default="original,bspline/layer",
                        help="comma-separated: original, bspline/layer, chebyshev1/network, ...")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--timing", action="store_true",
                        help="only the interleaved epoch timing on one batch of 2 frames")
    args = parser.parse_args()
    if args.timing:
        for name in args.variants.split(",")[1:]:
            print(json.dumps(interleaved_epoch_times(args.system, tuple(name.split("/")))))
        return
    rows = []
    for name in args.variants.split(","):
        variant = "original" if name == "original" else tuple(name.split("/"))
        row = run_chgnet(args.system, variant, args.seed, epochs=args.epochs,
                         n_train=args.n_train, test_every=args.test_every,
                         evaluate_start=True)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "history"}), flush=True)
    if len(rows) > 1:
        base = rows[0]
        for row in rows[1:]:
            print(f"{row['variant']} / {base['variant']}: force RMSE "
                  f"{row['force_rmse'] / base['force_rmse']:.3f}x, energy RMSE "
                  f"{row['energy_rmse_f64'] / base['energy_rmse_f64']:.3f}x, epoch time "
                  f"{row['seconds_per_epoch'] / base['seconds_per_epoch']:.3f}x")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
