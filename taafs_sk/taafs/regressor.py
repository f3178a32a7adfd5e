"""TAAFSRegressor: a scikit-learn MLP regressor with trainable adaptive activation functions.

The estimator keeps scikit-learn's parameters and owns a skorch ``NeuralNetRegressor`` in
``net_``, which provides the training loop, history, early stopping, LR schedules and the
progress output.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..nn.network import evaluate
from ._constraints import ADDED_PARAMS, PARAMETER_CONSTRAINTS
from ._fitting import check_fit_data, fit_checkpoint, train_network, warn_if_not_converged
from ._params import target_scaling
from ._ranges import layer_activations, pre_activation_ranges
from .architecture import (
    add_registrations,
    architecture,
    check_same_architecture,
    restore_registrations,
)
from .training import loss_curves

__all__ = ["TAAFSRegressor"]

_PREDICT_CHUNK = 16384
_WARM_SEED_STRIDE = 104729  # a prime: each warm start draws a new seed


class TAAFSRegressor(RegressorMixin, BaseEstimator):
    r"""Multilayer perceptron whose activations are trainable basis expansions (TAAFS).

    Each hidden activation is

    .. math::

        \sigma(z) = \sum_{k=1}^{K} c_k\, B_k(\mathrm{norm}(z)) + b,

    with :math:`B_k` a basis family (B-spline, Fourier, Gaussian RBF, Legendre, Hermite,
    Chebyshev I/II, Bessel, Jacobi) on :math:`[-1, 1]`, a normalisation (``tanh`` by default)
    and trainable coefficients :math:`c_k, b` shared globally, per layer or per neuron. A fixed
    activation name (``"tanh"``, ``"silu"``, ...) gives the ordinary MLP baseline.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer.
    basis : str or taafs_sk.nn.Basis, default='bspline'
        Basis family of the trainable activations: a name (see
        :func:`taafs_sk.nn.bases.available_bases`; names added with
        :func:`taafs_sk.nn.register_basis` count, as the registry is read at ``fit``), a
        :class:`taafs_sk.nn.Basis` instance (copied into every activation, with its own
        ``n_basis`` and options), or a fixed activation (``'tanh'``, ``'silu'``, ...).
    n_basis : int, default=8
        Number of basis functions per activation (for a basis given by name). With a fixed
        activation, setting ``n_basis``, ``sharing`` or ``basis_kwargs`` warns at ``fit``
        (not an error, so one grid can compare trainable bases with fixed activations).
    sharing : {'global', 'network', 'layer', 'neuron'}, default='layer'
        Which neurons share one set of coefficients. ``'global'`` and ``'network'`` coincide
        for this single-network model.
    normalization : str, default='tanh'
        Map from the weighted sum to the basis domain :math:`[-1, 1]`.
    basis_kwargs : dict, default=None
        Extra arguments of a basis given by name (e.g. ``{'alpha': 1, 'beta': 1}`` for
        Jacobi); must be None with a Basis instance.
    skip_connection : bool or 'ridge', default=False
        Add a trainable linear path from the inputs to the output (nearly additive targets,
        e.g. molecular energies from counts, need it). ``'ridge'``: the path is a frozen
        ridge fit of the training rows (penalty by generalised cross-validation) and the
        hidden layers learn the residual.
    max_epochs : int, default=300
        Maximum number of passes over the training data.
    batch_size : int, default=64
        Minibatch size.
    lr : float, default=1e-3
        Learning rate of the gradient optimizers (not used by ``'rlekf'``, whose step is the
        Kalman gain).
    loss : {'squared_error', 'absolute_error'}, default='squared_error'
        Training loss on the standardised targets, also monitored by early stopping.
        ``'absolute_error'`` fits the conditional median (try it for a mean absolute error
        score); ``optimizer='rlekf'`` takes ``'squared_error'`` only.
    optimizer : {'adam', 'adamw', 'sgd', 'rmsprop', 'rlekf'} or registered name, \
default='adam'
        Optimizer (names added with :func:`taafs_sk.nn.register_optimizer` count).
        ``'rlekf'`` is the reorganised-layer extended Kalman filter
        (:class:`taafs_sk.nn.rlekf.RLEKF`): one Kalman update per minibatch, usually far
        fewer epochs, memory :math:`\sum_b N_b^2` (see the user guide).
    optimizer_kwargs : dict, default=None
        Options of the optimizer, passed as skorch's ``optimizer__<name>`` (e.g.
        ``{'block_size': 2048, 'lambda1': 0.98, 'nu': 0.9987}`` for ``'rlekf'``,
        ``{'betas': (0.9, 0.99)}`` for ``'adam'``); names are checked at ``fit``.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    activation_lr : float or None, default=None
        Learning rate of the activation coefficients, in an optimizer parameter group of
        their own (None: ``lr``). Not used with a fixed activation.
    activation_alpha : float, default=0.0
        Strength of the penalty :math:`\alpha \lVert c - c_0 \rVert^2` on the activation
        coefficients' distance from their initial values (0: none); unlike
        ``weight_decay`` it pulls the shapes towards the starting shape, not towards zero.
    activation_warmup : int, default=0
        Epochs (``partial_fit`` calls) at the start with frozen activation shapes.
    dropout : float, default=0.0
        Probability of zeroing each hidden unit's output during training (inverted dropout
        after every hidden activation); predictions use the whole network.
    lr_schedule : {'constant', 'cosine', 'plateau'}, default='constant'
        Constant, cosine annealing to zero over ``max_epochs``, or halving when the monitored
        loss has not improved for ``patience // 3`` epochs.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (fewer than 5 rows: monitor the
        training loss) and stop when its loss has not improved for ``patience`` epochs; the
        best weights are restored. A ``fit`` that runs all ``max_epochs`` warns
        (:class:`~sklearn.exceptions.ConvergenceWarning`, as ``MLPRegressor`` at
        ``max_iter``); ``early_stopping=False`` and ``partial_fit`` never warn.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    patience : int, default=30
        Epochs without improvement before stopping.
    scale_target : bool, default=True
        Standardise ``y`` for training; predictions are returned in the original units.
    warm_start : bool, default=False
        ``fit`` on a fitted estimator continues from its trained weights and target scaling
        (the architecture parameters must be unchanged), as in ``MLPRegressor``.
    device : str, default='cpu'
        Torch device (``'cuda'`` for a GPU); one this torch build or machine does not have
        raises ``ValueError`` at ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split and minibatch shuffling.
    verbose : int, default=0
        0: silent; 1: one line per epoch (skorch's epoch table: losses and duration);
        2: one progress bar over the epochs on stderr, losses in its postfix, nothing else.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (e.g. ``skorch.callbacks.LRScheduler``).
    checkpoint : str, os.PathLike or TrainingCheckpoint, default=None
        A directory where ``fit`` saves its training run every epoch (or a
        :class:`~taafs_sk.taafs.checkpoint.TrainingCheckpoint` for every N epochs); a
        ``fit`` killed midway and called again with the same directory, data and parameters
        resumes and ends with the same weights as an uninterrupted fit. A directory holding
        another fit is refused. Not with ``warm_start``; ``partial_fit`` writes none.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The trained skorch net.
    module_ : taafs_sk.nn.network.MLP
        The trained torch network (``net_.module_``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` has string column names.
    n_outputs_ : int
        Number of targets.
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Target scaling: predictions are ``module_(X) * y_scale_ + y_mean_``.
    dtype_ : torch.dtype
        Dtype of the network's parameters.
    history_ : skorch.History
        Per-epoch training record.
    loss_curve_ : list of float
        Training loss (scaled units) per epoch.
    validation_loss_curve_ : list of float or None
        Validation loss per epoch, when early stopping held out data.
    n_iter_ : int
        Number of epochs run.
    n_params_ : int
        Number of trainable parameters (shared parameters counted once).
    pre_activation_ranges_ : list of ndarray of shape (width, 2)
        Per hidden layer, the smallest and largest pre-activation of each neuron over the
        training rows (after training; ``partial_fit`` widens them batch by batch): the range
        :func:`~taafs_sk.plotting.plot_activations` draws the learned shapes on.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The fixed-activation MLP.
    taafs_sk.AdditiveKernelNN : One-hidden-layer network with closed-form optimal activations.

    References
    ----------
    .. [1] L. Zhang et al., "Trainable Adaptive Activation Function Structure (TAAFS) Enhances
       Neural Network Force Field Performance with Only Dozens of Additional Parameters",
       arXiv:2412.14655 (2024).

    Examples
    --------
    >>> import numpy as np
    >>> from taafs_sk import TAAFSRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 3))
    >>> y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    >>> model = TAAFSRegressor((16,), basis="chebyshev1", max_epochs=50, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes=(64, 64),
        *,
        basis="bspline",
        n_basis=8,
        sharing="layer",
        normalization="tanh",
        basis_kwargs=None,
        skip_connection=False,
        max_epochs=300,
        batch_size=64,
        lr=1e-3,
        loss="squared_error",
        optimizer="adam",
        optimizer_kwargs=None,
        weight_decay=0.0,
        activation_lr=None,
        activation_alpha=0.0,
        activation_warmup=0,
        dropout=0.0,
        lr_schedule="constant",
        early_stopping=True,
        validation_fraction=0.1,
        patience=30,
        scale_target=True,
        warm_start=False,
        device="cpu",
        random_state=None,
        verbose=0,
        callbacks=None,
        checkpoint=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.basis = basis
        self.n_basis = n_basis
        self.sharing = sharing
        self.normalization = normalization
        self.basis_kwargs = basis_kwargs
        self.skip_connection = skip_connection
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.loss = loss
        self.optimizer = optimizer
        self.optimizer_kwargs = optimizer_kwargs
        self.weight_decay = weight_decay
        self.activation_lr = activation_lr
        self.activation_alpha = activation_alpha
        self.activation_warmup = activation_warmup
        self.dropout = dropout
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.scale_target = scale_target
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint = checkpoint

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network (early stopping, if set, holds out some rows).

        From scratch, or from the current weights when ``warm_start=True`` and the estimator
        is fitted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (converted to float32 for training).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights. Integer weights are trained as repeated rows (exactly
            the fit on the repeated data) while that at most multiplies the rows by 16; other
            weights scale each row's loss (training, validation) and target-scaling weight.
            ``optimizer='rlekf'`` takes the repeated-row weights only.

        Returns
        -------
        self : TAAFSRegressor
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one more epoch on every row of ``(X, y)``, from the current weights.

        The first call builds the network and fixes the target scaling; nothing is held out
        and nothing stops early.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets, with as many outputs as at the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights of the loss (see ``fit``).

        Returns
        -------
        self : TAAFSRegressor
            The updated estimator.
        """
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def _fit(self, X, y, incremental: bool, sample_weight=None):
        warm = (incremental or self.warm_start) and hasattr(self, "net_")
        X, y, sample_weight, hidden = check_fit_data(self, X, y, sample_weight, reset=not warm)
        y2 = y.reshape(len(y), -1)
        if warm:
            check_same_architecture(self, self._architecture, self._architecture_of(hidden))
            if y2.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {y2.shape[1]} outputs, but {type(self).__name__} was "
                                 f"fitted with {self.n_outputs_}.")
            self._n_warm += not incremental
        else:
            self._initialize(y, sample_weight, hidden)
        seed = (self._seed + (self._n_partial if incremental else 0)
                + _WARM_SEED_STRIDE * self._n_warm)
        targets = ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32)
        checkpoint = None if incremental else fit_checkpoint(self, X, y, sample_weight, warm)
        self.net_ = train_network(self, hidden, X, targets, sample_weight, incremental=incremental,
                                  warm=warm, seed=seed, checkpoint=checkpoint)
        self._n_partial += int(incremental)
        self._set_fitted_state(X)
        return self

    def _architecture_of(self, hidden: tuple[int, ...]) -> dict:
        return architecture(self, hidden, skip_connection=self.skip_connection)

    def _initialize(self, y, sample_weight, hidden: tuple[int, ...]) -> None:
        """The state a new network starts from: target scaling, seed, run counters."""
        y2 = y.reshape(len(y), -1)
        self._y_ndim, self.n_outputs_ = y.ndim, y2.shape[1]
        self.y_mean_, self.y_scale_ = target_scaling(y2, sample_weight, self.scale_target)
        rng = check_random_state(self.random_state)
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        self._n_partial, self._n_warm = 0, 0
        self._architecture = self._architecture_of(hidden)

    def _set_fitted_state(self, X) -> None:
        """The fitted attributes read from the trained net (ranges widened by partial_fit)."""
        self.module_ = self.net_.module_
        self.dtype_ = next(self.module_.parameters()).dtype
        previous = (getattr(self, "pre_activation_ranges_", None)
                    if self._n_partial > 0 else None)
        self.pre_activation_ranges_ = pre_activation_ranges(self.module_, X, previous)
        self.history_ = self.net_.history
        self.loss_curve_, self.validation_loss_curve_ = loss_curves(self.net_)
        self.n_iter_ = len(self.history_)
        self.n_params_ = sum(p.numel() for p in self.module_.parameters() if p.requires_grad)
        if self._n_partial == 0:
            warn_if_not_converged(self)

    # --------------------------------------------------------------- prediction
    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, as given to ``fit``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions in the units of the training target.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        out = evaluate(self.module_, X, _PREDICT_CHUNK)
        pred = out * self.y_scale_ + self.y_mean_
        return pred.ravel() if self._y_ndim == 1 else pred

    def activation_functions(self, layer: int = 0, z=None):
        """Learned activation shapes of one hidden layer, evaluated on a grid.

        Parameters
        ----------
        layer : int, default=0
            Index of the hidden layer.
        z : array-like of shape (n_points,), default=None
            Pre-activation values; by default 201 points on ``[-3, 3]``.

        Returns
        -------
        z : ndarray of shape (n_points,)
            The grid.
        values : ndarray of shape (n_points, n_shapes)
            Activation values: one column per distinct shape (1 when the layer's neurons share
            their coefficients, the layer width for ``sharing='neuron'``).
        """
        check_is_fitted(self)
        return layer_activations(self.module_, layer, z)

    def __getstate__(self):
        # registered bases and optimisers travel with the estimator (to GridSearchCV workers)
        return add_registrations(super().__getstate__())

    def __setstate__(self, state):
        for name, default in ADDED_PARAMS.items():  # pickled before these parameters existed
            state.setdefault(name, default)
        super().__setstate__(restore_registrations(state, "TAAFSRegressor"))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
