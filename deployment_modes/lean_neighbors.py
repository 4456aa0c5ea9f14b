"""A lean nearest-neighbours regressor: scikit-learn's, with a ``predict`` that is one numpy search.

The nearest-neighbours sibling of :mod:`~deployment_modes.lean` (in a module of its own, so that
the linear ones do not import ``sklearn.neighbors``). The late-labels chapter's price experiment
(``book/late_labels.ipynb``) serves it.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import KNeighborsRegressor

__all__ = ["LeanKNeighborsRegressor"]


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
