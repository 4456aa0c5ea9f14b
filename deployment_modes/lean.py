"""Lean linear classifiers: scikit-learn's, with a ``predict`` that is one matrix product.

A deployment that predicts one event at a time has checked the event already, and
scikit-learn's per-call checks cost far more than the product itself. The predictions are
the same; fitting is unchanged. The batch lines of the Comparison chapter
(``book/comparison.ipynb``) and the decision guide serve these.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
)

from .sgd_partial import (
    STEPS_CHECKED,
    lean_features,
    lean_step,
    one_versus_rest,
    remember_settings,
    reseeded,
)

__all__ = [
    "LeanLogisticRegression",
    "LeanSGDClassifier",
]

# scikit-learn's regressors whose predict is its LinearModel's: X @ coef_ + intercept_, after checks
_LINEAR_REGRESSORS = (LinearRegression, Ridge, Lasso, ElasticNet)


def linear_row_predictor(model, n_features: int):
    """``model``'s prediction for one row as a plain float, for a plain linear regressor; else None.

    For a fitted single-target ``LinearRegression``, ``Ridge``, ``Lasso`` or ``ElasticNet``
    (exactly those classes) fitted on ``n_features`` unnamed columns, scikit-learn's ``predict``
    is ``X @ coef_ + intercept_`` after its checks: the function returned does that product on
    one row, bit for bit the same number. A deployment that has checked the row already calls it
    (:class:`~deployment_modes.BatchDeployment`). Any other model: None.

    Parameters
    ----------
    model
        Any model.
    n_features
        The number of values in the rows it will predict.

    Examples
    --------
    >>> X, y = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), np.array([1.0, 2.0, 4.0])
    >>> model = Ridge().fit(X, y)
    >>> linear_row_predictor(model, 2)([1.5, 0.5]) == model.predict(np.array([[1.5, 0.5]]))[0].item()
    True
    >>> linear_row_predictor(LogisticRegression(), 2) is None
    True
    """
    coef = getattr(model, "coef_", None)
    if (
        type(model) not in _LINEAR_REGRESSORS
        or type(coef) is not np.ndarray
        or coef.shape != (n_features,)
        or hasattr(model, "feature_names_in_")
    ):
        return None
    intercept = model.intercept_
    return lambda row: (np.array([row], dtype=np.float64) @ coef + intercept)[0].item()


class _LeanPredict:
    """``predict`` of a fitted linear classifier as one matrix product, without per-call checks."""

    #: ``predict`` reads no scikit-learn configuration (a deployment need not set one around it).
    predict_reads_config = False

    def predict(self, X):
        if hasattr(X, "tocsr"):  # a sparse matrix: scikit-learn's own product
            return super().predict(X)
        scores = np.asarray(X, dtype=float) @ self.coef_.T + self.intercept_
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_row(self, row):
        """``predict`` of one row (a list of feature values) as a plain Python label: the same product, fewer steps.

        A deployment that serves one event at a time calls it (:class:`~deployment_modes.BatchDeployment`).

        Examples
        --------
        >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
        >>> model = LeanLogisticRegression().fit(X, y)
        >>> model.predict_row([2.9]), model.predict(np.array([[2.9]]))[0] == model.predict_row([2.9])
        (1, np.True_)
        """
        scores = np.array([row], dtype=float) @ self.coef_.T + self.intercept_
        best = int(scores[0, 0] > 0) if scores.shape[1] == 1 else int(np.argmax(scores[0]))
        return self.classes_[best].item()


class LeanLogisticRegression(_LeanPredict, LogisticRegression):
    """scikit-learn's ``LogisticRegression`` whose ``predict`` is one matrix product.

    Parameters
    ----------
    **params
        Those of :class:`sklearn.linear_model.LogisticRegression`.

    Examples
    --------
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> LeanLogisticRegression().fit(X, y).predict(np.array([[0.2], [2.9]]))
    array([0, 1])
    """


class LeanSGDClassifier(_LeanPredict, SGDClassifier):
    """scikit-learn's ``SGDClassifier`` whose ``predict`` is one matrix product, and ``partial_fit`` lean.

    After the first ``partial_fit``, a model that learns a float array or CSR matrix (no
    ``classes``, or the same again; no sample weights, no class weights, no averaging) takes
    scikit-learn's own SGD steps directly (:mod:`~deployment_modes.sgd_partial`), without
    re-checking its settings and input on every mini-batch: the same coefficients, bit for bit,
    at a fraction of the cost of a small call. Anything else goes through scikit-learn's
    ``partial_fit``, checks included.

    Parameters
    ----------
    **params
        Those of :class:`sklearn.linear_model.SGDClassifier`.

    Examples
    --------
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> LeanSGDClassifier(random_state=0).fit(X, y).predict(np.array([[0.0], [3.0]]))
    array([0, 1])
    >>> lean, usual = LeanSGDClassifier(random_state=0), SGDClassifier(random_state=0)
    >>> for model in (lean, usual):
    ...     for _ in range(3):
    ...         _ = model.partial_fit(X, y, classes=[0, 1])
    >>> bool((lean.coef_ == usual.coef_).all() and lean.t_ == usual.t_)
    True
    >>> lean.partial_fit(X, np.array([0, 0, 1, 5]))
    Traceback (most recent call last):
    ...
    ValueError: classes should include all valid labels that can be in y
    """

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        features = lean_features(self, X, y, classes) if sample_weight is None else None
        if features is not None:
            return lean_step(self, features, y)
        super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)
        remember_settings(self)  # as scikit-learn has just checked them
        return self

    def _fit_binary(self, *args, **kwargs):
        """scikit-learn's binary fit, an int ``random_state`` made a generator by re-seeding a kept one
        (:func:`~deployment_modes.sgd_partial.reseeded`): the same draws, the same model."""
        seed = self.random_state
        if not isinstance(seed, numbers.Integral):
            return super()._fit_binary(*args, **kwargs)
        self.random_state = reseeded(seed)
        try:
            return super()._fit_binary(*args, **kwargs)
        finally:
            self.random_state = seed

    def _fit_multiclass(self, X, y, alpha, learning_rate, sample_weight, max_iter):
        """scikit-learn's one-versus-all fit, class after class in this thread
        (:func:`~deployment_modes.sgd_partial.one_versus_rest`), where scikit-learn goes through
        joblib and builds a ``RandomState`` per class: the same draws, the same model."""
        if (
            not STEPS_CHECKED
            or not isinstance(self.random_state, numbers.Integral)
            or self.n_jobs not in (None, 1)
            or self.verbose
        ):
            return super()._fit_multiclass(X, y, alpha, learning_rate, sample_weight, max_iter)
        validation_mask = self._make_validation_split(y, sample_mask=sample_weight > 0)
        n_iter_ = one_versus_rest(
            self,
            X,
            y,
            alpha,
            learning_rate,
            max_iter,
            self._expanded_class_weight,
            sample_weight,
            validation_mask,
        )
        self.t_ += n_iter_ * X.shape[0]
        self.n_iter_ = n_iter_
        if self.average > 0:  # as scikit-learn ends it
            if self.average <= self.t_ - 1.0:
                self.coef_ = self._average_coef
                self.intercept_ = self._average_intercept
            else:
                self.coef_ = self._standard_coef
                self._standard_intercept = np.atleast_1d(self.intercept_)
                self.intercept_ = self._standard_intercept
