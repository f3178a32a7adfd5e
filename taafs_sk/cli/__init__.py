"""The ``taafs-sk`` command: run a study on a real dataset, or list the datasets.

::

    taafs-sk study noise --dataset perovskites --quick --out results/demo
    taafs-sk study noise --dataset perovskites --sizes 8,16 --levels 0,0.05,0.1 --n-jobs 2
    taafs-sk study naf   --dataset hydrocarbons --spreads 0,0.1,0.2 --realizations 5
    taafs-sk study bases --dataset qm9 --quick --bases tanh,bspline
    taafs-sk study noise --help
    taafs-sk datasets

``study`` prints the study's table, writes it as CSV, draws its plots as PNG files and says
where they are. Every option of a study maps to an argument of its function in
:mod:`taafs_sk.studies`; options left out keep the function's defaults. Errors (missing data,
bad values) are one line on stderr and exit status 2; ``--debug`` shows the traceback
instead.

The subcommands of ``study`` come from the table ``taafs_sk.cli._studies.STUDIES`` (one
``Study`` entry per study: function, options, plots).
"""

from __future__ import annotations

from ._app import PROG, UsageError, main

__all__ = ["main", "UsageError", "PROG"]
