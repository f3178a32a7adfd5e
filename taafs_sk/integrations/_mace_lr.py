"""The TAAF coefficients of a MACE in their own optimiser group, at a fraction of MACE's rate.

MACE's training builds its parameter groups in ``get_params_options`` (embedding,
interactions with and without weight decay, products, readouts) and, for its second stage,
an ``SWALR`` that sets every group to ``--swa_lr``. While :func:`taaf_lr_group` is open, the
TAAF parameters are taken out of the groups MACE made and put in one group ``"taaf"`` at
``factor`` times the rate (no weight decay), and the second stage's ``SWALR`` gives that group
``factor * swa_lr``; MACE's schedulers scale every group alike, so the ratio holds throughout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..nn import TAAF

__all__ = ["taaf_lr_group"]


def _taaf_parameters(model) -> list:
    seen, params = set(), []
    for module in model.modules():
        if isinstance(module, TAAF):
            for p in module.parameters():
                if id(p) not in seen:  # a TAAF shared by several sites counts once
                    seen.add(id(p))
                    params.append(p)
    return params


@contextlib.contextmanager
def taaf_lr_group(factor: float) -> Iterator[None]:
    """While open, ``mace_run_train`` trains the TAAFs at ``factor`` times its rates."""
    from mace.cli import run_train as cli
    from mace.tools import scripts_utils

    get_params_options, swalr = cli.get_params_options, scripts_utils.SWALR

    def params_with_taaf_group(args, model):
        options = get_params_options(args, model)
        taaf = _taaf_parameters(model)
        ids = {id(p) for p in taaf}
        groups = [{**g, "params": [p for p in g["params"] if id(p) not in ids]}
                  for g in options["params"]]
        groups.append({"name": "taaf", "params": taaf, "weight_decay": 0.0,
                       "lr": factor * args.lr})
        return {**options, "params": groups}

    def swalr_with_taaf_group(optimizer, swa_lr, **kwargs):
        rates = [swa_lr * (factor if g.get("name") == "taaf" else 1.0)
                 for g in optimizer.param_groups]
        return swalr(optimizer, swa_lr=rates, **kwargs)

    cli.get_params_options, scripts_utils.SWALR = params_with_taaf_group, swalr_with_taaf_group
    try:
        yield
    finally:
        cli.get_params_options, scripts_utils.SWALR = get_params_options, swalr
