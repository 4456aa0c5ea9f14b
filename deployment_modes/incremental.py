"""One interface for a model that learns incrementally: river's, or scikit-learn's ``partial_fit``.

:func:`is_river_model` is the package's one answer to "is this a river model?" (a model that
learns one event at a time with ``learn_one``, river's interface, whether it comes from river or
not). :class:`IncrementalModel` shows a scikit-learn estimator with ``partial_fit`` the river
way (``predict_one``, ``learn_one``, ``learn_many``), so the online deployment has one code path.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._checks import has_method, plain
from .threads import one_thread

__all__ = ["IncrementalModel", "is_river_model"]

_WIDE = 2**13  # features from which BLAS (OpenBLAS: vectors of 10,000) would use threads


def is_river_model(model) -> bool:
    """Whether ``model`` learns the river way, one event at a time (``learn_one``).

    Parameters
    ----------
    model
        A river model, a model with river's interface, or a scikit-learn estimator.

    Examples
    --------
    >>> from river import linear_model
    >>> from sklearn.linear_model import SGDClassifier
    >>> is_river_model(linear_model.LogisticRegression()), is_river_model(SGDClassifier())
    (True, False)
    """
    return callable(getattr(model, "learn_one", None))


def is_classifier(model) -> bool:
    """Whether ``model`` (river or scikit-learn) predicts classes.

    Parameters
    ----------
    model
        A river model (the last step of a pipeline decides) or a scikit-learn estimator.

    Examples
    --------
    >>> from river import linear_model, preprocessing
    >>> is_classifier(preprocessing.StandardScaler() | linear_model.LogisticRegression())
    True
    """
    if is_river_model(model):
        from river import base, compose

        last = model._last_step if isinstance(model, compose.Pipeline) else model
        return isinstance(last, (base.Classifier, base.MultiLabelClassifier))
    from sklearn.base import is_classifier as sklearn_is_classifier

    return sklearn_is_classifier(model)


def is_fitted(estimator) -> bool:
    """Whether the scikit-learn ``estimator`` has been fitted (river models always count as fitted)."""
    if is_river_model(estimator):
        return True
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


class IncrementalModel:
    """A river model, or a scikit-learn estimator with ``partial_fit`` seen the river way.

    Parameters
    ----------
    model
        A river model, or a scikit-learn estimator with ``partial_fit`` and ``predict``.
    classes
        Every class label (a scikit-learn classifier needs them on its first ``partial_fit``).
    transform
        scikit-learn only: maps events to the estimator's features. A transformer with
        ``transform`` (an event with one text feature gives it the text, e.g. a
        ``HashingVectorizer``; other events are given as dicts, e.g. a ``FeatureHasher``) or a
        callable ``f(list_of_events) -> matrix``. Without it, the features are the event's
        values in the order of the first event (or of :attr:`columns`, when set).

    Examples
    --------
    >>> from sklearn.linear_model import SGDRegressor
    >>> m = IncrementalModel(SGDRegressor(random_state=0))
    >>> m.predict_one({"a": 1.0}) is None  # nothing learned yet
    True
    >>> m.learn_many([{"a": 1.0}, {"a": 2.0}], [1.0, 2.0]); m.fitted
    True
    """

    def __init__(self, model, classes=None, transform=None):
        self.river = is_river_model(model)
        if not self.river:
            has_method(
                model, "partial_fit", "model (a river model or an estimator with partial_fit)"
            )
            has_method(model, "predict", "model")
        self.model, self.transform = model, transform
        self.classifier = is_classifier(model)
        if not self.river and self.classifier and classes is None and not is_fitted(model):
            raise ValueError(
                "classes must list every class label for a scikit-learn classifier "
                "(it is passed to the first partial_fit)"
            )
        if classes is not None:
            if isinstance(classes, (str, bytes, dict)) or not isinstance(classes, Iterable):
                raise TypeError(
                    f"classes must be a list of every class label, got {type(classes).__name__} {classes!r}"
                )
            classes = [plain(c) for c in classes]
            if len(classes) < 2 or len(set(classes)) != len(classes):
                raise ValueError(
                    f"classes must list at least two distinct class labels, got {classes!r}"
                )
        self.classes = classes
        self.fitted = is_fitted(model)
        self.columns = None
        self._weights = None  # (coef_, its transpose in C order): see _predict

    @property
    def model(self):
        """The river model or scikit-learn estimator."""
        return self._model

    @model.setter
    def model(self, model) -> None:
        self._model = model
        self.predict_step, self.learn_step = self._steps(model)

    def _steps(self, model) -> tuple:
        """``(predict_step, learn_step)``: how one event is predicted (``f(x)``) and learned (``f(x, y)``).

        A river model's own ``predict_one`` and ``learn_one``, or for the pipeline of
        :func:`~deployment_modes.sgd_model` those of :mod:`~deployment_modes.sgd_step`, which give
        the same numbers in fewer calls; this class's own methods for a scikit-learn estimator.
        Set with the model (a rollback or a recalled first training serves a new one).
        """
        if not is_river_model(model):
            return self.predict_one, self.learn_one
        from . import sgd_step

        if sgd_step.fits(model):
            return (
                functools.partial(sgd_step.predict_one, model),
                functools.partial(sgd_step.learn_one, model),
            )
        return model.predict_one, model.learn_one

    def __getstate__(self) -> dict:
        """The learner without its step functions, which the model gives again (see ``_steps``)."""
        state = dict(self.__dict__)
        del state["predict_step"], state["learn_step"]
        return state

    def __setstate__(self, state: dict) -> None:
        """Unpickle (or copy), also a learner pickled when ``model`` was a plain attribute."""
        state = dict(state)
        model = state.pop("model") if "model" in state else state.pop("_model")
        self.__dict__.update(state)
        self.model = model

    def matrix(self, xs):
        """The events ``xs`` (dicts) as the estimator's feature matrix."""
        if self.transform is not None:
            if callable(getattr(self.transform, "transform", None)):
                if all(len(x) == 1 and isinstance(next(iter(x.values())), str) for x in xs):
                    xs = [next(iter(x.values())) for x in xs]
                return self.transform.transform(xs)
            return self.transform(xs)
        if self.columns is None:
            self.columns = list(xs[0])
        return np.array([[x[c] for c in self.columns] for x in xs], dtype=float)

    def predict_one(self, x):
        """The prediction for one event (``None`` before a scikit-learn estimator has learned)."""
        if self.river:
            return self.predict_step(x)
        if not self.fitted:
            return None
        text = next(iter(x.values())) if isinstance(x, dict) and len(x) == 1 else None
        if isinstance(text, str) and callable(getattr(self.transform, "row", None)):
            weights = self._sgd_weights()
            if weights is not None:
                return plain(self._predict_text(text, weights))
        return plain(self._predict(self.matrix([x]))[0])

    def _sgd_weights(self):
        """``coef_.T`` in C order for scikit-learn's ``SGDClassifier`` (kept until it learns); else None."""
        model = self.model
        sgd = getattr(self, "_sgd", None)
        if sgd is None or sgd[0] is not model:  # once per model, not once per event
            from sklearn.linear_model import SGDClassifier

            sgd = self._sgd = (model, isinstance(model, SGDClassifier))
        if not sgd[1]:
            return None
        coef = model.coef_
        if self._weights is None or self._weights[0] is not coef:
            self._weights = (coef, np.ascontiguousarray(coef.T))
        return self._weights[1]

    def _predict_text(self, text: str, weights: np.ndarray):
        """One text's class from its features' stored entries (the transform's ``row``), no matrix built.

        The scores of :meth:`_predict`, bit for bit: scipy's sparse product adds each stored
        entry's value times its weights one after the other in column order, as a cumulative
        sum does (a plain sum may add in pairs; tests/ compare the two).
        """
        columns, values = self.transform.row(text)
        products = values[:, None] * weights[columns]
        scores = np.cumsum(products, axis=0)[-1] if len(columns) else np.zeros(weights.shape[1])
        return self._classes(scores[None, :] + self.model.intercept_)[0]

    def _predict(self, X):
        """The estimator's ``predict``; for scikit-learn's ``SGDClassifier``, the same numbers, faster.

        Its ``predict`` checks its input and multiplies it by ``coef_.T``, a transposed view that
        scipy copies for a sparse input on every call (0.5 MB per class of 65,536 hashed
        features). The transpose is kept in C order until the model learns again, and the
        scores are the same product plus ``intercept_`` (decision_function's, bit for bit). A dense
        row (one event at a time) is multiplied directly, as ``safe_sparse_dot`` does it.
        """
        model, weights = self.model, self._sgd_weights()
        if weights is None:
            return model.predict(X)
        if type(X) is np.ndarray and X.ndim == 2:
            scores = X @ weights + model.intercept_
        else:
            from sklearn.utils.extmath import safe_sparse_dot

            scores = safe_sparse_dot(X, weights, dense_output=True) + model.intercept_
        return self._classes(scores)

    def _classes(self, scores: np.ndarray) -> np.ndarray:
        """Each row's class from its decision scores, as ``SGDClassifier.predict`` picks it."""
        classes = self.model.classes_
        if scores.shape[1] == 1:
            return classes[(scores[:, 0] > 0).astype(int)]
        return classes[np.argmax(scores, axis=1)]

    def predict_proba_one(self, x) -> dict:
        """Class probabilities for one event (``{}`` before a scikit-learn estimator has learned)."""
        if self.river:
            if not callable(getattr(self.model, "predict_proba_one", None)):
                raise TypeError(f"model {type(self.model).__name__} has no predict_proba_one")
            return self.model.predict_proba_one(x)
        if not callable(getattr(self.model, "predict_proba", None)):
            raise TypeError(f"model {type(self.model).__name__} has no predict_proba")
        if not self.fitted:
            return {}
        proba = self.model.predict_proba(self.matrix([x]))[0]
        return {plain(c): float(p) for c, p in zip(self.model.classes_, proba)}

    def learn_one(self, x, y) -> None:
        """Learn one event."""
        if self.river:
            self.learn_step(x, y)
        else:
            self.learn_many([x], [y])

    def learn_many(self, xs, ys) -> None:
        """Learn a list of events: one step (river's ``learn_many``, one ``partial_fit``) or a loop of them."""
        if self.river:
            if len(xs) == 1:
                self.learn_step(xs[0], ys[0])
            elif callable(getattr(self.model, "learn_many", None)):
                self.model.learn_many(pd.DataFrame(xs), pd.Series(ys))
            else:
                learn = self.learn_step
                for x, y in zip(xs, ys):
                    learn(x, y)
            return
        kwargs = {"classes": self.classes} if self.classifier and not self.fitted else {}
        self._weights = None  # partial_fit changes coef_ in place
        X = self.matrix(xs)
        if X.shape[1] < _WIDE:
            self.model.partial_fit(X, np.asarray(ys), **kwargs)
        else:  # BLAS threads only wait for each other over wide weights (7x the CPU); same numbers
            with one_thread():
                self.model.partial_fit(X, np.asarray(ys), **kwargs)
        self.fitted = True
