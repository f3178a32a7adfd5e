"""AdditiveKernelNN: a one-hidden-layer network with additive-GPR neuron activations."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..nn.network import MLP
from . import _fit_steps as steps
from ._export import NeuronActivation, check_export_args, to_mlp  # noqa: F401 - 0.1 pickles
from ._fit_steps import AUTO_EXACT_MAX  # noqa: F401 - the constant's 0.1 home
from ._multi import fit_per_output, predict_per_output, to_mlp_per_output
from .kernels import KERNEL_REGISTRY, Kernel1D, kernel_names

__all__ = ["AdditiveKernelNN"]


class AdditiveKernelNN(RegressorMixin, BaseEstimator):
    r"""Neural network with optimal neuron activations from additive Gaussian-process regression.

    Each input feature is rescaled to [0, 1] on the training data. ``N`` hidden neurons see
    the coordinates :math:`y_n = w_n \cdot x`, each again rescaled to :math:`z_n \in [0, 1]`.
    A Gaussian process with the additive kernel

    .. math::
        K(x, x') = \sum_{n=1}^{N} s_n\, k(z_n, z_n'; l_n)

    is fitted to the (standardised) targets, :math:`c = (K + \sigma^2 I)^{-1}(t - \bar t)`.
    Its posterior mean splits into one function per neuron, which is that neuron's activation:

    .. math::
        \phi_n(z) = s_n \sum_{i=1}^{M} c_i\, k(z, z_{n,i}; l_n), \qquad
        f(x) = \sum_{n=1}^{N} \phi_n(z_n(x)) + \bar t .

    Parameters
    ----------
    n_neurons : int, default=None
        Number of hidden neurons ``N``. ``None`` gives, for ``"gradient"``, ``"sobol"`` and
        ``"random"`` weights, ``4 * n_features`` with the exact solver and
        ``2 * n_features`` with the inducing solver (whose cost grows with ``N^2``), and
        ``n_features`` for ``"identity"``.
    weights : {'gradient', 'sobol', 'random', 'identity'} or array-like of shape (N, D), \
            default='gradient'
        Hidden directions in the [0, 1]-rescaled input space. ``"sobol"``: the identity rows
        (one neuron per feature) followed by scrambled Sobol directions with components in
        [-1, 1], normalised; ``"gradient"``: the same, but each Sobol direction ``s`` is
        mapped to :math:`C^{1/2} s`, with :math:`C` the average outer product of the
        gradients of cheap isotropic-RBF GPs fitted to the data (an active subspace, see
        Notes), so that the mixed neurons point where the target changes and not along
        irrelevant features; ``"random"``: Gaussian random unit directions; an array is used
        as given (``n_neurons`` must then be ``None`` or its number of rows).
    kernel : {'matern52', 'rbf', 'polynomial'}, str or Kernel1D, default='matern52'
        The 1-D kernel ``k``: a built-in name (see :mod:`taafs_sk.additive.kernels`), a name
        added with :func:`~taafs_sk.additive.register_kernel`, or a
        :class:`~taafs_sk.additive.Kernel1D` instance (its docstring gives the contract a new
        kernel implements). Names are looked up when ``fit`` runs. ``"matern52"`` is rougher
        than ``"rbf"`` and its likelihood expansion needs more features; ``"polynomial"``
        gives quadratic activations, like a transistor's square-law transfer curve.
    length_scale : float or array-like of shape (N,), default=1.0
        Length scale(s) in rescaled units. Used as given with ``optimize=False``; with
        ``optimize=True`` a grid of shared length scales is searched instead (see Notes).
    alpha : float, default=1e-5
        Noise variance :math:`\sigma^2` (on the standardised targets if ``normalize_y``),
        the starting point when ``optimize=True``.
    optimize : bool, default=True
        Choose the length scale, prior variance and noise by maximising the log marginal
        likelihood (see Notes). With ``False`` they stay at ``length_scale``, ``s_n = 1/N``
        and ``alpha``.
    per_neuron : bool, default=False
        Also give each neuron its own length scale and prior variance (a last optimisation
        stage, started from the shared values). It raises the marginal likelihood but tends
        to overfit small data sets.
    ard : bool, default=False
        Also learn one scale :math:`\rho_d` per input feature, which stretches every hidden
        direction, :math:`y_n = \sum_d w_{nd} \rho_d \tilde x_d` (automatic relevance
        determination), so that irrelevant features stop blurring the mixed (Sobol) neurons.
        Often much more accurate, but the ``D`` extra hyperparameters cost many more
        likelihood evaluations and, fitted by maximum likelihood, make the predictive
        intervals too narrow for inputs unlike the training data. Ignored for
        non-stationary kernels (``Kernel1D.stationary`` false) such as ``"polynomial"``.
    n_restarts_optimizer : int, default=2
        Extra refinements of the shared-hyperparameter stage, from further local minima (if
        any) of the likelihood profile over the grid of length scales.
    solver : {'auto', 'exact', 'inducing'}, default='auto'
        ``"exact"``: full GPR, ``O(M^3)`` time and ``O(M^2)`` memory (hyperparameters from
        a random subset of 2000 samples if there are more). ``"inducing"``: each
        activation is a combination of ``n_inducing`` kernels centred on quantiles of the
        neuron's coordinate (subset of regressors), ``O(M (N m)^2)`` time, memory linear in
        ``M``; its hyperparameters come from the marginal likelihood on a random subset of
        1000 samples, then the noise is picked on a 20% hold-out. ``"auto"``: exact up to
        3000 samples.
    n_inducing : int, default=None
        Inducing points per neuron, at evenly spaced quantiles of its training coordinates.
        ``None`` gives ``clip(ceil(2.5 / min(l_n / w_n)) + 1, 16, 64)``, ``w_n`` the width of
        the central 90% of neuron ``n``'s coordinates divided by 0.9.
    optimize_weights : int, default=30
        Rounds of Monte-Carlo refinement of the hidden directions (in the spirit of
        opt-GPRNN, Manzhos & Ihara 2025): each round replaces the least important quarter
        (by the spread of their activations) of the mixed, non-axis neurons by fresh Sobol
        directions (mapped as for ``weights="gradient"`` when that is chosen) and keeps the
        change if the log marginal likelihood, at the current hyperparameters, improves.
        The hyperparameters are not re-optimised afterwards, because that shrinks the noise
        to the chosen directions and makes the predictive intervals too narrow (see the user
        guide). Needs ``optimize=True``: with ``optimize=False`` the directions stay as
        ``weights`` gives them, and a positive ``optimize_weights`` is ignored with a
        ``UserWarning`` (set ``optimize_weights=0`` to silence it).
    warm_start : bool, default=False
        When True, refitting a fitted model keeps its hidden directions (``directions_``,
        per output) instead of searching again (no gradient metric, no ``optimize_weights``
        rounds); rescaling, hyperparameters and activations are fitted anew to the new data.
    normalize_y : bool, default=True
        Divide the centred targets by their standard deviation before fitting.
    random_state : int, RandomState instance or None, default=None
        Seeds the Sobol scrambling, random directions, optimiser restarts and subsets.

    Attributes
    ----------
    hidden_weights_ : ndarray of shape (N, n_features_in_)
        Weights mapping raw inputs to the rescaled neuron coordinates
        ``z = hidden_weights_ @ x + hidden_bias_`` (``z`` spans [0, 1] on the training data).
    hidden_bias_ : ndarray of shape (N,)
    directions_ : ndarray of shape (N, n_features_in_)
        The unit directions ``w_n`` in the [0, 1]-rescaled input space.
    activation_functions_ : list of callable
        ``activation_functions_[n](z)`` is :math:`\phi_n` in target units, on the rescaled
        coordinate ``z``; ``predict(X) = sum_n phi_n(z_n) + intercept_``.
    neuron_importance_ : ndarray of shape (N,)
        Standard deviation of each :math:`\phi_n` over the training data, target units.
    length_scale_ : ndarray of shape (N,)
        Length scales on the rescaled coordinates ``z``.
    feature_scale_ : ndarray of shape (n_features_in_,)
        The ARD scales :math:`\rho_d` (ones without ``ard``).
    amplitude_ : ndarray of shape (N,)
        Prior variances :math:`s_n` (standardised target units).
    alpha_ : float
        Noise variance :math:`\sigma^2` (standardised target units).
    log_marginal_likelihood_value_ : float
        Of the standardised training targets (DTC approximation for the inducing solver).
    solver_ : str
        ``"exact"`` or ``"inducing"``.
    kernel_ : Kernel1D
        The 1-D kernel used: a copy of ``kernel`` or the registered class's instance.
    model_ : object
        The fitted solver, which holds the representation of the activations.
    n_inducing_ : int or None
    intercept_ : float
        Mean of the training targets.
    y_scale_ : float
        Standard deviation of the training targets (1 without ``normalize_y``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string feature names.
    n_outputs_ : int
    estimators_ : list of AdditiveKernelNN
        Only for a 2-D ``y``: one model per output, whose attributes the above stack (every
        output's neurons; ``intercept_``, ``y_scale_``, ``alpha_``, ``model_`` per output).
    output_of_neuron_ : ndarray of shape (N,)
        Only for a 2-D ``y``: the output each neuron feeds.

    See Also
    --------
    sklearn.gaussian_process.GaussianProcessRegressor : GPR with a full (non-additive) kernel.

    Notes
    -----
    The hidden weights follow a rule, so the fit is closed-form apart from a handful of
    kernel hyperparameters. ``to_module`` turns the model into a :class:`~taafs_sk.nn.network.MLP`
    with tabulated activations for the analog-hardware studies.

    *Hyperparameters.* For the marginal likelihood every 1-D kernel is replaced by ``m``
    features (:meth:`Kernel1D.expansion <taafs_sk.additive.Kernel1D.expansion>`: exact for
    ``"polynomial"``, the Hilbert-space expansion of Solin & Sarkka for stationary kernels),
    so that ``K`` is one matrix product ``Psi Psi^T`` and the gradient with respect to all
    hyperparameters costs two more. A grid of shared length scales, each with the exact
    optimum over prior variance and noise from one eigendecomposition, starts the search;
    then come the ``ard`` and ``per_neuron`` stages (:mod:`taafs_sk.additive._likelihood`).
    Length scales on ``z`` are kept smoothly above 0.05, where the expansion is accurate.
    The final solve, ``predict`` and ``log_marginal_likelihood_value_`` use the exact kernel.

    *Gradient directions.* ``weights="gradient"`` fits cheap GPs with one isotropic RBF kernel
    over all rescaled features to (at most 512 rows of) the data and maps the quasi-random
    mixed directions by :math:`C^{1/2}`, :math:`C` the average outer product of their
    posterior-mean gradients (:func:`taafs_sk.additive._directions.gradient_metric`), much as
    ARD scales would, without ``D`` more likelihood hyperparameters. The Monte-Carlo steps of
    ``optimize_weights`` draw their fresh directions the same way.

    References
    ----------
    S. Manzhos and M. Ihara, "Neural network with optimal neuron activation functions based
    on additive Gaussian process regression", J. Phys. Chem. A 127, 7823 (2023).

    S. Manzhos and M. Ihara, "Gaussian process regression -- neural network hybrid with
    optimized redundant coordinates", arXiv:2509.08457 (2025).

    A. Solin and S. Sarkka, "Hilbert space methods for reduced-rank Gaussian process
    regression", Stat. Comput. 30, 419 (2020).

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk.additive import AdditiveKernelNN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, (200, 3))
    >>> y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    >>> model = AdditiveKernelNN(random_state=0).fit(X, y)
    >>> len(model.activation_functions_)
    12
    >>> bool(model.score(X, y) > 0.99)
    True
    """

    _parameter_constraints: dict = {
        "n_neurons": [Interval(Integral, 1, None, closed="left"), None],
        "weights": [StrOptions({"sobol", "gradient", "random", "identity"}), "array-like"],
        "kernel": [kernel_names(), Kernel1D],
        "length_scale": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "optimize": ["boolean"],
        "per_neuron": ["boolean"],
        "ard": ["boolean"],
        "n_restarts_optimizer": [Interval(Integral, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "exact", "inducing"})],
        "n_inducing": [Interval(Integral, 2, None, closed="left"), None],
        "optimize_weights": [Interval(Integral, 0, None, closed="left")],
        "normalize_y": ["boolean"],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_neurons: int | None = None,
        *,
        weights="gradient",
        kernel: str | Kernel1D = "matern52",
        length_scale=1.0,
        alpha: float = 1e-5,
        optimize: bool = True,
        per_neuron: bool = False,
        ard: bool = False,
        n_restarts_optimizer: int = 2,
        solver: str = "auto",
        n_inducing: int | None = None,
        optimize_weights: int = 30,
        normalize_y: bool = True,
        warm_start: bool = False,
        random_state=None,
    ) -> None:
        self.n_neurons = n_neurons
        self.weights = weights
        self.kernel = kernel
        self.length_scale = length_scale
        self.alpha = alpha
        self.optimize = optimize
        self.per_neuron = per_neuron
        self.ard = ard
        self.n_restarts_optimizer = n_restarts_optimizer
        self.solver = solver
        self.n_inducing = n_inducing
        self.optimize_weights = optimize_weights
        self.normalize_y = normalize_y
        self.warm_start = warm_start
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> AdditiveKernelNN:
        """Fit the hidden coordinates, hyperparameters and activations to ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs; each feature is rescaled to [0, 1] on them.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets. With several outputs, each gets its own additive GP (its own
            directions, hyperparameters and activations; see ``estimators_``).
        sample_weight : array-like of shape (n_samples,) of int, default=None
            Non-negative integers: a row of weight ``k`` is used as ``k`` copies (the fit is
            exactly the fit on the repeated rows). Fractional weights are refused: for a GP
            they have no single meaning (noise / weight is not what repetition does).

        Returns
        -------
        self : AdditiveKernelNN
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, multi_output=True)
        previous = steps.previous_directions(self, X.shape[1], y.ndim)
        self.__dict__.pop("estimators_", None), self.__dict__.pop("output_of_neuron_", None)
        if y.ndim == 2:
            fit_per_output(self, X, y, sample_weight, previous)
            return self
        steps.fit_single_output(self, X, y, sample_weight, previous)
        return self

    def _coordinates(self, X: np.ndarray) -> np.ndarray:
        return (X @ self.hidden_weights_.T + self.hidden_bias_).T

    def predict(self, X, return_std: bool = False):
        """Predict targets; with ``return_std`` also the predictive standard deviation of a
        noisy observation (posterior of the latent function plus the noise ``alpha_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Inputs.
        return_std : bool, default=False
            Also return the predictive standard deviation.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        y_std : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Only with ``return_std``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if hasattr(self, "estimators_"):
            return predict_per_output(self, X, return_std)
        phi, var = self.model_.predict(self._coordinates(X), return_var=return_std)
        mean = phi.sum(0) * self.y_scale_ + self.intercept_
        if not return_std:
            return mean
        return mean, np.sqrt(var) * self.y_scale_

    def to_module(
        self, dtype: torch.dtype = torch.float64, n_grid: int = 1025, margin: float = 0.5
    ) -> MLP:
        """The fitted model as an :class:`~taafs_sk.nn.network.MLP` with tabulated activations.

        The hidden layer holds ``hidden_weights_`` and ``hidden_bias_``; neuron ``n`` applies a
        :class:`~taafs_sk.nn.tabulated.TabulatedActivation` of :math:`\\phi_n` (standardised units,
        cubic Hermite on ``n_grid`` points over ``[-margin, 1 + margin]``, linear beyond); the
        output layer has weights ``y_scale_`` and bias ``intercept_``. The module maps raw
        ``X`` of shape ``(..., n_features_in_)`` to ``(..., 1)``.

        .. warning::
           It agrees with :meth:`predict` only while every neuron coordinate
           ``z = hidden_weights_ @ x + hidden_bias_`` lies in ``[-margin, 1 + margin]`` (the
           training data span ``[0, 1]``); beyond, each activation continues along its end
           slope, whereas ``predict`` evaluates the kernel expansion (which decays to the
           mean for stationary kernels). Widen ``margin`` and ``n_grid`` to cover such inputs.

        Parameters
        ----------
        dtype : torch.dtype, default=torch.float64
            Dtype of the module's parameters and tables.
        n_grid : int, default=1025
            Points of each activation's table.
        margin : float, default=0.5
            The table covers ``[-margin, 1 + margin]`` in neuron coordinates.

        Returns
        -------
        taafs_sk.nn.network.MLP
        """
        check_is_fitted(self)
        check_export_args(dtype, n_grid, margin)
        if hasattr(self, "estimators_"):
            return to_mlp_per_output(self, dtype, n_grid, margin)
        return to_mlp(self, dtype, n_grid, margin)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def __getstate__(self) -> dict:
        # the user-registered kernels travel with the estimator, so that a name can be fitted
        # where the registration did not run (e.g. in GridSearchCV's worker processes)
        return KERNEL_REGISTRY.add_to_state(super().__getstate__(), "_registered_kernels")

    def __setstate__(self, state: dict) -> None:
        state.setdefault("warm_start", False)  # pickled before the parameter existed
        super().__setstate__(
            KERNEL_REGISTRY.restore_from_state(state, "_registered_kernels", "AdditiveKernelNN"))
