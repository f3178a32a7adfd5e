"""The ``taafs-sk study chips`` subcommand: dispersion-aware weights on unseen chips."""

from __future__ import annotations

from . import _options as opt
from ._studies import Option, Study, _absolute_and_relative, _architecture, _base

__all__ = ["CHIPS"]


CHIPS = Study(
    name="chips", function="chip_study", stem="chip_study",
    help="one network for every chip: dispersion-aware training against per-chip retraining",
    example="taafs-sk study chips --dataset perovskites --quick --spread 0.1 --chips 8 "
            "--retrain 1 --architecture 64 --train-epochs 20 --resample batch",
    options=(
        Option(("--spread",), "spread", dict(
            type=opt.non_negative_float, metavar="S",
            help="relative spread of the activation shapes between neurons (default: 0.1)")),
        Option(("--chips",), "n_chips", dict(
            type=opt.positive_int, metavar="K",
            help="unseen chips the networks are scored on (default: 32, 8 with --quick)")),
        Option(("--retrain",), "n_retrain", dict(
            type=int, metavar="N",
            help="chips on which the ideal weights are also retrained, one fit each "
                 "(default: 4, 1 with --quick)")),
        _architecture("128", example=""),
        Option(("--train-epochs",), "train_epochs", dict(
            type=opt.positive_int, metavar="N",
            help="epochs of dispersion-aware training, of the control and of each per-chip "
                 "retraining (default: about 6000 Adam steps, 5 with --quick)")),
        Option(("--resample",), "resample", dict(
            choices=("batch", "epoch"),
            help="draw new activation shapes every minibatch or every epoch "
                 "(default: batch)")),
        _base(),
    ),
    plot_kind="chips", plots=_absolute_and_relative,
    shown=("dataset", "model", "chip", "test_rmse"),
)
