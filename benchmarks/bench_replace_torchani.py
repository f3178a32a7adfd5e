"""replace_activations on torchani's per-element ANI networks, trained on DFT energies and forces.

For each fixed activation (ANI-1x's own CELU with alpha = 0.1, ``torchani.nn.TightCELU``, and
tanh) an ANI-1x network (``torchani.nn.ANINetworks.like_1x``, random init, no pretrained
weights) is built on ANI-1x descriptors (``AEVComputer.like_1x(neighborlist="cell_list")``,
periodic cell). ``taafs_sk.nn.replace_activations`` swaps its activations for B-spline TAAFs
under the TAAFS paper's scheme 2 (``sharing='network'``: one TAAF per element network) and
scheme 1 (``'global'``). Printed per model:

- the step-0 check: max |E_swapped - E_original| and max |F_swapped - F_original| (eV, eV/A);
- parameters: original, added by the TAAFs, and the share;
- a short full-batch Adam run on energy + forces (forces = -dE/dR by autograd through the AEV,
  so every step differentiates twice): the loss at a few steps, the final train and validation
  energy RMSE (meV/atom) and force RMSE (eV/A), and the time per step relative to the original.

Every model of one activation starts from the same weights (the swap copies the original) and
sees the same data, so the columns compare like with like. Split: contiguous blocks of MD frames
(EC: train = first ``--n-train`` frames, validation = last ``--n-val``; HfO2: validation = the
last MD run, train = the first ``--n-train`` frames of the other runs), never at random.

Run (about 3 minutes of CPU time on one core; 15 minutes wall on a loaded 2-core machine)::

    TAAFS_SK_DATA=../shared/data .venv/bin/python benchmarks/bench_replace_torchani.py [--schnet]

``--system hfo2`` uses the Hf32O64 frames (slower: 96 atoms per frame); ``--schnet`` adds
torch-geometric's SchNet (shifted-softplus activations) on the same periodic pairs.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

os.environ.setdefault("TORCHANI_NO_WARN_EXTENSIONS", "1")

import ase.io  # noqa: E402
from torchani.aev import AEVComputer  # noqa: E402
from torchani.neighbors import Neighbors, reconstruct_shifts  # noqa: E402
from torchani.nn import ANINetworks, SpeciesConverter, TightCELU  # noqa: E402

from taafs_sk.nn import TAAF, replace_activations  # noqa: E402

DTYPE = torch.float32


class PeriodicGraph(nn.Module):
    """SchNet's ``interaction_graph``: both directions of the fixed periodic pairs."""

    def __init__(self, pairs: torch.Tensor, shifts: torch.Tensor) -> None:
        super().__init__()
        self.pairs, self.shifts = pairs, shifts

    def forward(self, pos: torch.Tensor, batch: torch.Tensor):
        dist = (pos[self.pairs[0]] - pos[self.pairs[1]] + self.shifts).norm(dim=-1)
        return torch.cat([self.pairs, self.pairs.flip(0)], 1), torch.cat([dist, dist])


class Batch:
    """Frames as one system with a fixed neighbour list, so one AEV call covers them all.

    torchani's cell list handles one frame at a time; the pairs and periodic shifts of each frame
    are found once (positions are data, they do not move) and the difference vectors are rebuilt
    from the positions at every step, so gradients with respect to positions are exact.
    """

    def __init__(self, frames, aev: AEVComputer, convert: SpeciesConverter) -> None:
        pbc = torch.tensor([True, True, True])
        elems, coords, pairs, shifts, offset = [], [], [], [], 0
        for f in frames:
            e = convert(torch.tensor(f.numbers)[None])
            c = torch.tensor(f.positions, dtype=DTYPE)[None]
            nb = aev.neighborlist(aev.radial.cutoff, e, c,
                                  torch.tensor(f.cell.array, dtype=DTYPE), pbc)
            elems.append(e[0])
            coords.append(c[0])
            pairs.append(nb.indices + offset)
            shifts.append(reconstruct_shifts(c, nb))
            offset += len(f)
        self.aev, self.n_frames, self.n_atoms = aev, len(frames), len(frames[0])
        self.elem = torch.cat(elems)[None]  # (1, frames * atoms)
        self.pos = torch.cat(coords)[None]  # (1, frames * atoms, 3)
        self.pairs, self.shifts = torch.cat(pairs, 1), torch.cat(shifts)  # (2, P), (P, 3)
        self.energy = torch.tensor([f.get_potential_energy() for f in frames], dtype=DTYPE)
        self.forces = torch.tensor(np.concatenate([f.get_forces() for f in frames]),
                                   dtype=DTYPE)  # (frames * atoms, 3)
        self.numbers = torch.tensor(np.concatenate([f.numbers for f in frames]))
        self.frame_of_atom = torch.arange(len(frames)).repeat_interleave(len(frames[0]))
        self.graph = PeriodicGraph(self.pairs, self.shifts)
        first = frames[0]
        self.direct = aev(convert(torch.tensor(first.numbers)[None]),
                          torch.tensor(first.positions, dtype=DTYPE)[None],
                          torch.tensor(first.cell.array, dtype=DTYPE), pbc)

    def descriptors(self, pos: torch.Tensor) -> torch.Tensor:
        diff = pos.view(-1, 3)[self.pairs[0]] - pos.view(-1, 3)[self.pairs[1]] + self.shifts
        nb = Neighbors(self.pairs, diff.norm(dim=-1), diff)
        return self.aev.compute_from_neighbors(self.elem, pos, nb)  # (1, frames * atoms, D)

    def energies(self, model: nn.Module, pos: torch.Tensor) -> torch.Tensor:
        if isinstance(model, ANINetworks):
            atomic = model(self.elem, self.descriptors(pos), atomic=True)  # (1, frames * atoms)
            return atomic.view(self.n_frames, -1).sum(1)
        model.interaction_graph = self.graph  # a graph network (SchNet) on this batch's pairs
        return model(self.numbers, pos.view(-1, 3), self.frame_of_atom).view(-1)

    def energy_forces(self, model: nn.Module, create_graph: bool):
        pos = self.pos.clone().requires_grad_(True)
        energy = self.energies(model, pos)
        (grad,) = torch.autograd.grad(energy.sum(), pos, create_graph=create_graph)
        return energy, -grad.view(-1, 3)


def split(system: str, frames, n_train: int, n_val: int):
    sources = sorted({f.info["source"] for f in frames})
    if len(sources) == 1:
        return frames[:n_train], frames[-n_val:], "contiguous blocks"
    val = [f for f in frames if f.info["source"] == sources[-1]][:n_val]
    train = [f for f in frames if f.info["source"] != sources[-1]][:n_train]
    return train, val, f"validation = MD run {sources[-1]!r}"


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def rmse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean().sqrt())


def train(model, batch: Batch, val: Batch, e_ref: float, steps: int, lr: float):
    """Full-batch Adam on sum_frames (dE/atom / sd)^2 + sum (dF / rms F)^2; returns a report."""
    target_e = (batch.energy - e_ref) / batch.n_atoms
    # floors: 1 meV/atom, 0.01 eV/A (a block of identical frames, e.g. the 10 relaxed frames
    # that open each HfO2 run, would otherwise divide by zero)
    scale_e = max(float(target_e.std()), 1e-3)
    scale_f = max(float(batch.forces.pow(2).mean().sqrt()), 1e-2)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses, start = [], time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        energy, forces = batch.energy_forces(model, create_graph=True)
        loss = (((energy / batch.n_atoms - target_e) / scale_e) ** 2).mean() + (
            ((forces - batch.forces) / scale_f) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    per_step = (time.perf_counter() - start) / steps
    coef = [m.coefficients.detach().abs().max() for m in model.modules() if isinstance(m, TAAF)]
    out = {"losses": losses, "s/step": per_step, "max|c|": max(coef, default=0.0)}
    for name, b in (("train", batch), ("val", val)):
        energy, forces = b.energy_forces(model, create_graph=False)
        out[f"{name} E meV/atom"] = 1e3 * rmse(energy.detach() / b.n_atoms,
                                               (b.energy - e_ref) / b.n_atoms)
        out[f"{name} F eV/A"] = rmse(forces.detach(), b.forces)
    return out


def step_times(models: dict, batch: Batch, rounds: int, steps: int) -> dict:
    """Seconds per training step of each model, timed in alternating rounds (best round)."""
    best = dict.fromkeys(models, float("inf"))
    for _ in range(rounds):
        for label, model in models.items():
            model.zero_grad()
            start = time.perf_counter()
            for _ in range(steps):
                energy, forces = batch.energy_forces(model, create_graph=True)
                ((energy ** 2).mean() + (forces ** 2).mean()).backward()
            best[label] = min(best[label], (time.perf_counter() - start) / steps)
    return best


def step0_check(original, swapped, batches) -> tuple[float, float]:
    de = df = 0.0
    for b in batches:
        e0, f0 = b.energy_forces(original, create_graph=False)
        e1, f1 = b.energy_forces(swapped, create_graph=False)
        de = max(de, float((e1 - e0).detach().abs().max()))
        df = max(df, float((f1 - f0).abs().max()))
    return de, df


def schnet_group():
    """torch-geometric's SchNet (shifted-softplus activations), if torch-geometric is installed."""
    from torch_geometric.nn.models import SchNet
    from torch_geometric.nn.models.schnet import ShiftedSoftplus

    def build():
        return SchNet(hidden_channels=64, num_filters=64, num_interactions=3, num_gaussians=25,
                      cutoff=5.2)

    return "schnet", build, (ShiftedSoftplus,)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", choices=["ec", "hfo2"], default="ec")
    parser.add_argument("--n-train", type=int, default=100)
    parser.add_argument("--n-val", type=int, default=50)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--basis", default="bspline")
    parser.add_argument("--n-basis", type=int, default=8)
    parser.add_argument("--sharing", nargs="+", default=["network", "global"])
    parser.add_argument("--eager", action="store_true", help="TAAF fused=False")
    parser.add_argument("--schnet", action="store_true",
                        help="also torch-geometric's SchNet (needs torch-geometric)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-rounds", type=int, default=5,
                        help="alternating timing rounds of 3 steps per model (best kept)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    data = Path(os.environ.get("TAAFS_SK_DATA", "../shared/data")) / "pwmlff_md"
    frames = ase.io.read(data / f"{args.system}.extxyz.gz", ":")
    symbols = list(dict.fromkeys(frames[0].get_chemical_symbols()))
    train_frames, val_frames, how = split(args.system, frames, args.n_train, args.n_val)
    aev = AEVComputer.like_1x(num_species=len(symbols), neighborlist="cell_list")
    convert = SpeciesConverter(symbols)
    batch, val = Batch(train_frames, aev, convert), Batch(val_frames, aev, convert)
    e_ref = float(batch.energy.mean())  # one composition: the per-element reference is a constant
    check = float((batch.descriptors(batch.pos)[0, :batch.n_atoms] - batch.direct[0]).abs().max())
    print(f"{args.system}: {frames[0].get_chemical_formula()}, elements {symbols}, "
          f"{len(train_frames)} train / {len(val_frames)} validation frames ({how}); AEV dim "
          f"{aev.out_dim}; batched vs direct AEV max diff {check:.1e}")
    print(f"TAAF: basis={args.basis!r}, n_basis={args.n_basis}, fused={not args.eager}; "
          f"Adam lr={args.lr}, {args.steps} full-batch steps, seed {args.seed}; torch threads 1")

    groups = [("ani celu", lambda: ANINetworks.like_1x(symbols=symbols, in_dim=aev.out_dim),
               (TightCELU,)),
              ("ani tanh", lambda: ANINetworks.like_1x(symbols=symbols, in_dim=aev.out_dim,
                                                       activation=nn.Tanh()), (nn.Tanh,))]
    if args.schnet:
        groups.append(schnet_group())
    rows = []
    for group, build, types in groups:
        torch.manual_seed(args.seed)
        original = build()
        models = {"original": original}
        for sharing in args.sharing:
            models[sharing] = replace_activations(
                original, args.basis, n_basis=args.n_basis, sharing=sharing, types=types,
                fused=not args.eager)
        times = step_times(models, batch, args.time_rounds, 3)
        for label, model in models.items():
            de, df = step0_check(original, model, (batch, val))
            n_taafs = len({id(m) for m in model.modules() if isinstance(m, TAAF)})
            extra = n_params(model) - n_params(original)
            report = train(copy.deepcopy(model), batch, val, e_ref, args.steps, args.lr)
            rows.append((group, label, n_params(original), n_taafs, extra,
                         100 * extra / n_params(original), de, df, report,
                         times[label] / times["original"]))
            print(f"  {group:8s} {label:8s} trained ({report['s/step']:.3f} s/step)", flush=True)

    marks = [0, args.steps // 4, args.steps // 2, args.steps - 1]
    print(f"\n{'network':8s} {'model':8s} {'params':>6s} {'TAAFs':>5s} {'+params':>7s} "
          f"{'%':>6s} {'max|dE|':>8s} {'max|dF|':>8s}  loss at steps {marks}{'':8s} "
          f"{'E tr':>6s} {'E val':>6s} {'F tr':>6s} {'F val':>6s} {'max|c|':>6s} {'time':>5s}")
    for group, label, params, n_taafs, extra, pct, de, df, rep, ratio in rows:
        losses = " ".join(f"{rep['losses'][i]:7.3f}" for i in marks)
        print(f"{group:8s} {label:8s} {params:6d} {n_taafs:5d} {extra:7d} {pct:6.3f} {de:8.1e} "
              f"{df:8.1e}  {losses}  {rep['train E meV/atom']:6.2f} "
              f"{rep['val E meV/atom']:6.2f} {rep['train F eV/A']:6.3f} "
              f"{rep['val F eV/A']:6.3f} {rep['max|c|']:6.3f} {ratio:5.2f}x")
    print("E in meV/atom, F in eV/A (RMSE); max|c| = largest TAAF coefficient after training "
          "(0 at the start); time = seconds per energy + force training step / the original's, "
          "best of alternating rounds in this process.")


if __name__ == "__main__":
    main()
