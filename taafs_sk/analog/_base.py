"""What the analog meta-estimators share: they wrap one inner estimator, cloned in ``fit``.

Following scikit-learn's ``TransformedTargetRegressor``, ``n_features_in_`` is read from the
fitted inner estimator and the input and multi-output tags come from the unfitted one given by
the user.
"""

from __future__ import annotations

from sklearn.utils import get_tags

__all__ = ["InnerEstimatorMixin"]


class InnerEstimatorMixin:
    """``n_features_in_`` and ``__sklearn_tags__`` of a wrapper around ``estimator``.

    The subclass names its fitted clone of ``estimator`` in ``_fitted_inner`` (an attribute
    name such as ``'estimator_'``). Put the mixin before ``BaseEstimator`` in the bases.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator, RegressorMixin
    >>> from taafs_sk.analog._base import InnerEstimatorMixin
    >>> class Wrapper(InnerEstimatorMixin, RegressorMixin, BaseEstimator):
    ...     _fitted_inner = "inner_"
    ...     def __init__(self, estimator=None):
    ...         self.estimator = estimator
    >>> hasattr(Wrapper(), "n_features_in_")
    False
    """

    _fitted_inner = "estimator_"

    @property
    def n_features_in_(self) -> int:
        inner = getattr(self, self._fitted_inner, None)
        if inner is None:  # AttributeError, as sklearn's fitted attributes raise before fit
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute; call fit first."
            )
        return inner.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self.estimator).input_tags
        tags.input_tags.sparse = False  # the torch network takes dense input
        tags.target_tags.multi_output = get_tags(self.estimator).target_tags.multi_output
        tags.regressor_tags.poor_score = True
        return tags
