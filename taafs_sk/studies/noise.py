"""Noise tolerance: test RMSE under circuit noise, by architecture, noise level, kind and site."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sklearn.base import clone
from sklearn.metrics import root_mean_squared_error

from ..analog import NoiseModel, as_torch_model, noise_sweep
from ._common import (
    activation_names,
    arch_label,
    check_names,
    count_or,
    dataset_meta,
    fit,
    non_negative_floats,
    positive_int,
    regressor,
    resolve,
    run_parallel,
    say,
    with_columns,
)
from ._common import architectures as _archs

__all__ = ["noise_tolerance"]


def noise_tolerance(
    dataset, *, architectures: Sequence[Sequence[int]] = ((32,), (32, 32)),
    sizes: Sequence[int] | None = None, depths: Sequence[int] = (1, 2),
    levels: Sequence[float] = (0, 0.01, 0.02, 0.05, 0.1), basis: str = "tanh",
    noise: NoiseModel | dict | Sequence[NoiseModel | dict] | None = None,
    n_draws: int | None = None, max_epochs: int | None = None, quick: bool = False,
    random_state=0, estimator=None,
    n_jobs: int | None = None, data_home=None, verbose: int = 0,
) -> pd.DataFrame:
    """Test RMSE under circuit noise, by architecture and noise level.

    Parameters
    ----------
    dataset : {'hydrocarbons', 'perovskites', 'qm9'} or tuple of arrays
        A dataset name (see :func:`load_study_data`) or ``(X_train, X_test, y_train, y_test)``.
    architectures : sequence of tuple of int, default=((32,), (32, 32))
        Hidden layer sizes to compare.
    sizes : sequence of int, default=None
        When given, replaces ``architectures`` by networks of each width and each depth in
        ``depths`` (``(s,) * d``).
    depths : sequence of int, default=(1, 2)
        Numbers of hidden layers used with ``sizes``.
    levels : sequence of float, default=(0, 0.01, 0.02, 0.05, 0.1)
        Noise levels.
    basis : str, default='tanh'
        Activation of the trained ``TAAFSRegressor``.
    noise : NoiseModel, dict or sequence of them, default=None
        Kind, site and scale of the noise (default: additive, post-activation, relative to
        range), calibrated on the training inputs; a dict holds
        :class:`~taafs_sk.analog.NoiseModel` parameters (``{'kind': 'multiplicative',
        'where': 'weights'}``). With several, every model is swept on every trained network
        (the table's ``kind``, ``where`` and ``scale`` columns tell them apart).
    n_draws : int, default=None
        Noise draws per level: 32 (8 when ``quick``).
    max_epochs : int, default=None
        Epoch cap of the trained ``TAAFSRegressor`` (early stopping may end sooner): 2000
        (40 when ``quick``).
    quick : bool, default=False
        Small subsample and few epochs.
    random_state : int, default=0
        Seeds data split, training and noise.
    estimator : estimator, default=None
        Template replacing the ``TAAFSRegressor`` (its ``hidden_layer_sizes`` is set per
        architecture; ``basis`` and ``max_epochs`` are then unused).
    n_jobs : int, default=None
        Architectures trained in parallel through :mod:`joblib` (``None``: one, unless a
        :func:`joblib.parallel_config` context, e.g. Dask's, says otherwise). The table does
        not depend on it.
    data_home : str or path, default=None
        Data folder of a named dataset; by default ``TAAFS_SK_DATA``.
    verbose : int, default=0
        Print progress to stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per architecture, noise model and level: ``dataset, target_unit,
        architecture, n_hidden_layers, size, n_params, train_rmse, test_rmse,
        overfit_ratio`` (test/train RMSE) and the :func:`~taafs_sk.analog.noise_sweep`
        columns (``rmse_mean`` etc. are noisy test RMSEs in ``target_unit``, ``rmse_ratio``
        relative to the noiseless test RMSE).
    """
    levels = non_negative_floats("levels", levels)
    n_draws = count_or("n_draws", n_draws, 8 if quick else 32)
    max_epochs = positive_int("max_epochs", max_epochs)
    archs = _archs(architectures, sizes, depths)
    noises = _noise_models(noise)
    if estimator is None:
        check_names("basis", basis, sum(activation_names(), ()))
    name, data = resolve(dataset, quick, random_state, data_home)
    jobs = []
    for arch in archs:
        est = (regressor(arch, basis, quick, random_state, len(data[2]), max_epochs)
               if estimator is None else clone(estimator).set_params(hidden_layer_sizes=arch))
        jobs.append((est, arch, data, levels, noises, n_draws, random_state))
    def report(i, table):
        last = table.iloc[-1]
        say(verbose, f"{name} {archs[i]}: test RMSE {last['test_rmse']:.4g}, ratio at "
                     f"{last['level']:.0%} ({last['kind']}, {last['where']}): "
                     f"{last['rmse_ratio']:.3g}")

    frames = run_parallel(_one_architecture, jobs, n_jobs, on_result=report)
    return with_columns(pd.concat(frames, ignore_index=True), dataset_meta(name))


def _noise_models(noise) -> list[NoiseModel]:
    """NoiseModels from a model, a dict of its parameters, or a sequence of either; checked."""
    if noise is None:
        return [NoiseModel(kind="additive", where="post_activation")]
    items = [noise] if isinstance(noise, (NoiseModel, dict)) else list(noise)
    if not items or not all(isinstance(m, (NoiseModel, dict)) for m in items):
        raise ValueError("noise must be a NoiseModel, a dict of its parameters, or a "
                         f"non-empty sequence of them; got {noise!r}.")
    models = [m if isinstance(m, NoiseModel) else NoiseModel(**m) for m in items]
    for model in models:
        model._validate_params()  # bad kind / where / scale: fail before any training
    return models


def _one_architecture(est, arch, data, levels, noises, n_draws, random_state) -> pd.DataFrame:
    """Train one network and sweep every noise model over it (one joblib job)."""
    X_tr, X_te, y_tr, y_te = data
    seconds = fit(est, X_tr, y_tr)
    train_rmse = root_mean_squared_error(y_tr, est.predict(X_tr))
    test_rmse = root_mean_squared_error(y_te, est.predict(X_te))
    n_params = sum(p.numel() for p in as_torch_model(est).mlp.parameters())
    frames = []
    for noise in noises:
        table = noise_sweep(est, X_te, y_te, levels, noise=noise, n_draws=n_draws,
                            X_calib=X_tr, random_state=random_state)
        frames.append(table)
    table = with_columns(pd.concat(frames, ignore_index=True), {
        "architecture": arch_label(arch), "n_hidden_layers": len(arch), "size": arch[0],
        "n_params": n_params, "train_rmse": train_rmse, "test_rmse": test_rmse,
        "overfit_ratio": test_rmse / train_rmse})
    table["fit_time_s"] = seconds
    return table
