"""A trending-titles recommender and its hit-rate metric, for the movie catalogue scenario.

Defined in the Batch learning chapter (``book/batch.ipynb``); the Online learning chapter
updates the same model event by event.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from river import metrics
from sklearn.base import BaseEstimator

from ._checks import positive_int

__all__ = ["TrendingRecommender", "HitRate", "new_title_share"]


class TrendingRecommender(BaseEstimator):
    """Recommend, for a user's favourite genre, the ``k`` titles most watched lately.

    Every view counts ``2 ** (-(now - day) / half_life)``: recent views weigh more, so new
    releases can rise fast. ``X`` has the columns ``day`` and ``genre`` (a DataFrame, or an
    array with them in that order); ``y`` is the title id.
    A title never seen in training is never recommended: it does not exist for the model.

    >>> import pandas as pd
    >>> X = pd.DataFrame({"day": [0, 1, 2], "genre": [0, 0, 0]})
    >>> TrendingRecommender(k=2).fit(X, [7, 8, 8]).predict(X.iloc[:1])[0]
    (8, 7)
    """

    def __init__(self, k: int = 10, half_life: float = 7.0):
        self.k = k
        self.half_life = half_life

    def fit(self, X, y):
        positive_int(self.k, "k")
        if not self.half_life > 0:
            raise ValueError(f"half_life must be positive, got {self.half_life!r}")
        self.scores_ = defaultdict(lambda: defaultdict(float))
        days, genres = _columns(X)
        self.now_ = float(np.max(days))
        for day, genre, title in zip(days, genres, y):
            self.scores_[int(genre)][int(title)] += 2.0 ** ((day - self.now_) / self.half_life)
        self._cache = {}
        return self

    def learn_one(self, x: dict, y) -> None:
        """Count one view, with ``x["day"]`` as the new present (for online updates)."""
        day = float(x["day"])
        if day > self.now_:  # move the present forward: old scores shrink together
            factor = 2.0 ** ((self.now_ - day) / self.half_life)
            for table in self.scores_.values():
                for title in table:
                    table[title] *= factor
            self.now_ = day
        self.scores_[int(x["genre"])][int(y)] += 2.0 ** ((day - self.now_) / self.half_life)
        self._cache.pop(int(x["genre"]), None)

    def _top(self, genre: int) -> tuple:
        if genre not in self._cache:
            table = self.scores_.get(genre, {})
            self._cache[genre] = tuple(sorted(table, key=lambda t: (-table[t], t))[: self.k])
        return self._cache[genre]

    def predict(self, X) -> np.ndarray:
        out = np.empty(len(X), dtype=object)
        out[:] = [self._top(int(g)) for g in _columns(X)[1]]
        return out


def _columns(X):
    """The ``day`` and ``genre`` columns of a DataFrame, or of an array in that order."""
    if hasattr(X, "columns"):
        return np.asarray(X["day"], dtype=float), np.asarray(X["genre"])
    X = np.asarray(X)
    return X[:, 0].astype(float), X[:, 1]


class HitRate(metrics.base.Metric):
    """Share of events whose true title is among the recommended ones (a river metric).

    >>> m = HitRate()
    >>> m.update(3, (1, 3)); m.update(4, (1, 3))
    >>> m.get()
    0.5
    """

    _fmt = ".2%"

    def __init__(self):
        self.hits = 0.0
        self.n = 0.0

    def update(self, y_true, y_pred, w=1.0) -> None:
        self.hits += w * (y_true in y_pred)
        self.n += w

    def revert(self, y_true, y_pred, w=1.0) -> None:
        self.hits -= w * (y_true in y_pred)
        self.n -= w

    def get(self) -> float:
        return self.hits / self.n if self.n else 0.0

    @property
    def bigger_is_better(self) -> bool:
        return True

    def works_with(self, model) -> bool:
        return True


def new_title_share(recommendations, new_titles) -> np.ndarray:
    """Per event, the share of recommended slots that go to titles in ``new_titles``.

    >>> new_title_share([[1, 2, 3, 4], [5, 6], []], new_titles=[2, 5, 6])
    array([0.25, 1.  , 0.  ])
    """
    new = set(int(t) for t in new_titles)
    return np.array([sum(t in new for t in rec) / len(rec) if rec else 0.0 for rec in recommendations])
