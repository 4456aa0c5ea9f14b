"""Lean linear classifiers: scikit-learn's, with a ``predict`` that is one matrix product.

A deployment that predicts one event at a time has checked the event already, and
scikit-learn's per-call checks cost far more than the product itself. The predictions are
the same; fitting is unchanged. The batch lines of the Comparison chapter
(``book/comparison.ipynb``) and the decision guide serve these.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier

__all__ = ["LeanLogisticRegression", "LeanSGDClassifier"]


class _LeanPredict:
    """``predict`` of a fitted linear classifier as one matrix product, without per-call checks."""

    def predict(self, X):
        scores = np.asarray(X, dtype=float) @ self.coef_.T + self.intercept_
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


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
    """scikit-learn's ``SGDClassifier`` whose ``predict`` is one matrix product.

    Parameters
    ----------
    **params
        Those of :class:`sklearn.linear_model.SGDClassifier`.

    Examples
    --------
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> LeanSGDClassifier(random_state=0).fit(X, y).predict(np.array([[0.0], [3.0]]))
    array([0, 1])
    """
