"""The case tables of ``tests/test_api_battery.py``, one module per part of the package.

``common`` holds the :class:`~tests.battery.common.Case` record and the tiny fitted models,
``discovery`` what must be covered; each ``cases_*`` module returns its list of cases.
"""

from __future__ import annotations

from .cases_analog import analog_cases, shapes_cases
from .cases_analog_methods import (
    analog_function_cases,
    export_cases,
    shape_method_cases,
    torch_model_method_cases,
    wrapper_method_cases,
)
from .cases_atomistic import atomistic_cases
from .cases_atomistic_methods import (
    descriptor_cases,
    md_cases,
    network_and_training_cases,
    potential_method_cases,
)
from .cases_ensemble import ensemble_cases
from .cases_estimators import additive_cases, featurizer_cases, taafs_cases, taafs_glue_cases
from .cases_learned import learned_cases
from .cases_nn import nn_cases
from .cases_nn_methods import method_cases as nn_method_cases
from .cases_nn_methods import module_function_cases as nn_module_cases
from .cases_painn import painn_cases
from .cases_replace import replace_cases
from .cases_studies import dataset_cases, plotting_cases, study_cases
from .common import Case

__all__ = ["Case", "all_cases"]


def all_cases() -> list[Case]:
    return [*taafs_cases(), *additive_cases(), *nn_cases(), *nn_module_cases(), *nn_method_cases(),
            *taafs_glue_cases(),
            *featurizer_cases(), *plotting_cases(), *dataset_cases(""), *study_cases(),
            *analog_cases(), *shapes_cases(),
            *wrapper_method_cases(), *shape_method_cases(), *torch_model_method_cases(),
            *export_cases(), *analog_function_cases(), *atomistic_cases(),
            *potential_method_cases(), *descriptor_cases(), *network_and_training_cases(),
            *md_cases(), *ensemble_cases(), *painn_cases(), *learned_cases(),
            *replace_cases()]
