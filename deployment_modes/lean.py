"""Lean linear classifiers: scikit-learn's, with a ``predict`` that is one matrix product.

A deployment that predicts one event at a time has checked the event already, and
scikit-learn's per-call checks cost far more than the product itself. The predictions are
the same; fitting is unchanged. The batch lines of the Comparison chapter
(``book/comparison.ipynb``) and the decision guide serve these.
"""

from __future__ import annotations

import numbers
import threading

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neighbors import KNeighborsRegressor

__all__ = ["LeanKNeighborsRegressor", "LeanLogisticRegression", "LeanSGDClassifier"]


_GENERATORS = threading.local()  # one generator per thread, re-seeded for each fit


def _reseeded(seed: int) -> np.random.RandomState:
    """``numpy.random.RandomState(seed)``'s state, in this thread's kept generator."""
    generator = getattr(_GENERATORS, "generator", None)
    if generator is None:
        generator = _GENERATORS.generator = np.random.RandomState()
    generator.seed(seed)
    return generator


def _same_classes(classes, known) -> bool:
    """Whether ``classes`` are the classes ``known`` from the first ``partial_fit`` (then they change nothing)."""
    try:
        return known is not None and sorted(set(classes)) == known.tolist()
    except TypeError:  # labels that do not sort together: scikit-learn's check says what is wrong
        return False


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

    After the first ``partial_fit``, a binary model that learns a plain float array (no
    ``classes``, or the same again; no sample weights, no class weights, no averaging) takes
    scikit-learn's own SGD step directly, without re-checking its settings and input on every
    mini-batch: the same coefficients, bit for bit, at a fraction of the cost of a small call.
    Anything else goes through scikit-learn's ``partial_fit``, checks included.

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
        if not self._lean_step_fits(X, y, classes, sample_weight):
            super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)
            self._settings_checked = True  # by scikit-learn, until set_params changes them
            return self
        self._loss_function_ = self._get_loss_function(self.loss)
        self._fit_binary(
            X,
            np.asarray(y),
            alpha=self.alpha,
            learning_rate=self.learning_rate,
            sample_weight=np.ones(X.shape[0], dtype=np.float64),
            max_iter=1,
        )
        return self

    def set_params(self, **params):
        self._settings_checked = False  # the next partial_fit checks them again
        return super().set_params(**params)

    def _fit_binary(self, *args, **kwargs):
        """scikit-learn's binary fit, an int ``random_state`` made a generator by re-seeding a kept one.

        scikit-learn builds ``numpy.random.RandomState(random_state)`` at every fit and
        ``partial_fit``, which first seeds a throwaway generator from the system (0.2 ms, more
        than a small step); re-seeding a kept generator gives the same state in microseconds,
        so the same draws and the same model.
        """
        seed = self.random_state
        if not isinstance(seed, numbers.Integral):
            return super()._fit_binary(*args, **kwargs)
        self.random_state = _reseeded(seed)
        try:
            return super()._fit_binary(*args, **kwargs)
        finally:
            self.random_state = seed

    def _fit_multiclass(self, X, y, alpha, learning_rate, sample_weight, max_iter):
        """scikit-learn's one-versus-all fit, class after class in this thread, each class's
        generator made by re-seeding the kept one (see :meth:`_fit_binary`): the same draws.

        scikit-learn runs the classes through joblib (sequentially, for ``n_jobs=None``) and
        builds a ``RandomState`` for each; in a small ``partial_fit`` both cost more than the
        steps themselves.
        """
        from sklearn.linear_model._stochastic_gradient import MAX_INT, fit_binary

        seed = self.random_state
        if not isinstance(seed, numbers.Integral) or self.n_jobs not in (None, 1) or self.verbose:
            return super()._fit_multiclass(X, y, alpha, learning_rate, sample_weight, max_iter)
        validation_mask = self._make_validation_split(y, sample_mask=sample_weight > 0)
        seeds = _reseeded(seed).randint(MAX_INT, size=len(self.classes_))
        n_iter_ = 0.0
        for i, class_seed in enumerate(seeds):
            _, self.intercept_[i], n_iter_i = fit_binary(
                self,
                i,
                X,
                y,
                alpha,
                learning_rate,
                max_iter,
                self._expanded_class_weight[i],
                1.0,
                sample_weight,
                validation_mask=validation_mask,
                random_state=_reseeded(class_seed),
            )
            n_iter_ = max(n_iter_, n_iter_i)
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

    def _lean_step_fits(self, X, y, classes, sample_weight) -> bool:
        """Whether scikit-learn's checks would pass ``X`` and ``y`` through unchanged to a binary SGD step."""
        return (
            (classes is None or _same_classes(classes, getattr(self, "classes_", None)))
            and getattr(self, "_settings_checked", False)
            and sample_weight is None
            and getattr(self, "coef_", None) is not None
            and len(getattr(self, "classes_", ())) == 2
            and self.class_weight is None
            and not self.average
            and not hasattr(self, "feature_names_in_")
            and type(X) is np.ndarray
            and X.dtype == np.float64
            and X.ndim == 2
            and X.flags.c_contiguous
            and np.ndim(y) == 1
            and X.shape == (len(y), self.coef_.shape[-1])
            and X.shape[0] > 0
            and bool(np.isfinite(X).all())
            and bool(np.isin(y, self.classes_).all())  # else scikit-learn's error names the label
        )


class LeanKNeighborsRegressor(KNeighborsRegressor):
    """scikit-learn's ``KNeighborsRegressor`` whose ``predict`` is a brute-force numpy search.

    For uniform weights and Euclidean distance (the defaults) the prediction is the mean target
    of the ``n_neighbors`` nearest training rows, as scikit-learn's (up to ties in distance), at a
    fraction of the cost of a one-row call. The late-labels chapter's price experiment serves it.

    Parameters
    ----------
    **params
        Those of scikit-learn's ``KNeighborsRegressor``.

    Examples
    --------
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0.0, 1.0, 2.0, 3.0])
    >>> lean = LeanKNeighborsRegressor(n_neighbors=2).fit(X, y)
    >>> usual = KNeighborsRegressor(n_neighbors=2).fit(X, y)
    >>> lean.predict([[0.2], [2.9]]).tolist() == usual.predict([[0.2], [2.9]]).tolist()
    True
    """

    def fit(self, X, y):
        algorithm = self.algorithm
        if self._searches_itself():  # no tree to build for predict: scikit-learn's brute "fit"
            self.algorithm = "brute"
        try:
            super().fit(X, y)
        finally:
            self.algorithm = algorithm
        self._rows, self._targets = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        return self

    def _searches_itself(self) -> bool:
        return self.weights == "uniform" and self.metric == "minkowski" and self.p == 2

    def predict_row(self, row) -> float:
        """``predict`` of one row (a list of feature values) as a plain float, in one step.

        A deployment that serves one event at a time calls it (:class:`~deployment_modes.BatchDeployment`).

        >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 2.0])
        >>> LeanKNeighborsRegressor(n_neighbors=2).fit(X, y).predict_row([0.2])
        0.5
        """
        return self.predict(np.array([row], dtype=float))[0].item()

    def predict(self, X):
        if not self._searches_itself() or self._targets.ndim != 1:
            return super().predict(X)
        X = np.asarray(X, dtype=float)
        distances = ((X[:, None, :] - self._rows[None, :, :]) ** 2).sum(axis=2)
        k = self.n_neighbors
        nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
        return self._targets[nearest].mean(axis=1)
