"""A trending-titles recommender and its hit-rate metric, for the movie catalogue scenario.

Defined in the Batch learning chapter (``book/batch.ipynb``); the Online learning chapter
updates the same model event by event.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict

import numpy as np
import pandas as pd
from river import metrics
from sklearn.base import BaseEstimator

from ._checks import positive_int

__all__ = ["TrendingRecommender", "HitRate", "events_until_recommended", "new_title_share"]


class TrendingRecommender(BaseEstimator):
    """Recommend, for a user's favourite genre, the ``k`` titles most watched lately.

    Every view counts ``2 ** (-(now - day) / half_life)``: recent views weigh more, so new
    releases can rise fast. ``X`` has the columns ``day`` and ``genre`` (a DataFrame, or an
    array with them in that order); ``y`` is the title id.
    A title never seen in training is never recommended: it does not exist for the model.

    Parameters
    ----------
    k
        Titles recommended per request.
    half_life
        Days after which a view counts half as much.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"day": [0, 1, 2], "genre": [0, 0, 0]})
    >>> TrendingRecommender(k=2).fit(X, [7, 8, 8]).predict(X.iloc[:1])[0]
    (8, 7)
    """

    #: ``predict`` reads no scikit-learn configuration (a deployment need not set one around it).
    predict_reads_config = False

    def __init__(self, k: int = 10, half_life: float = 7.0):
        self.k = k
        self.half_life = half_life

    def fit(self, X, y):
        positive_int(self.k, "k")
        if not self.half_life > 0:
            raise ValueError(f"half_life must be positive, got {self.half_life!r}")
        self.scores_ = defaultdict(lambda: defaultdict(float))
        days, genres = _columns(X)
        self.now_ = self.anchor_ = float(np.max(days))
        for day, genre, title in zip(days, genres, y):
            self.scores_[int(genre)][int(title)] += 2.0 ** ((day - self.now_) / self.half_life)
        self._cache = {}
        return self

    def learn_one(self, x: dict, y) -> None:
        """Count one view, with ``x["day"]`` as the new present (for online updates).

        Scores are kept relative to the day ``anchor_``: moving the present forward shrinks every
        score by the same factor, which changes no ranking, so it is applied lazily (a rebase
        only when the factor grows large): one view costs the same however many titles exist.
        """
        day = float(x["day"])
        if day > self.now_:
            self.now_ = day
            if (day - self.anchor_) / self.half_life > 500:  # rebase before 2 ** exponent overflows
                factor = 2.0 ** ((self.anchor_ - day) / self.half_life)
                for table in self.scores_.values():
                    for title in table:
                        table[title] *= factor
                self.anchor_ = day
                self._cache.clear()
        genre, title = int(x["genre"]), int(y)
        table = self.scores_[genre]
        table[title] += 2.0 ** ((day - self.anchor_) / self.half_life)
        top = self._cache.get(genre)
        if top is not None:  # only this title's score rose: the new top k are among the old and it
            self._cache[genre] = _smallest(self.k, table, {*top, title})

    def _top(self, genre: int) -> tuple:
        if genre not in self._cache:
            table = self.scores_.get(genre, {})
            self._cache[genre] = _smallest(self.k, table, table)
        return self._cache[genre]

    def predict_one(self, x: dict) -> tuple:
        """The ``k`` trending titles for one event's ``genre`` (for online use)."""
        return self._top(int(x["genre"]))

    def predict_row(self, row) -> tuple:
        """``predict`` of one row (``[day, genre]``), in one step: what a deployment serves per event.

        >>> import pandas as pd
        >>> X = pd.DataFrame({"day": [0, 1, 2], "genre": [0, 0, 0]})
        >>> TrendingRecommender(k=2).fit(X, [7, 8, 8]).predict_row([3.0, 0])
        (8, 7)
        """
        return self._top(int(row[1]))

    def predict(self, X) -> np.ndarray:
        out = np.empty(len(X), dtype=object)
        out[:] = [self._top(int(g)) for g in _columns(X)[1]]
        return out


def _smallest(k: int, table: dict, titles) -> tuple:
    """The ``k`` titles of ``titles`` with the highest scores in ``table``, ties to the lower title id."""
    ranked = [(-table[t], t) for t in titles]  # distinct pairs: one order, however it is found
    # heapq.nsmallest(k, ranked) is sorted(ranked)[:k]; for an update's k + 1 titles sorting is quicker
    best = sorted(ranked)[:k] if len(ranked) <= 2 * k else heapq.nsmallest(k, ranked)
    return tuple(t for _, t in best)


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

    Parameters
    ----------
    recommendations
        Per event, the recommended titles (a Timeline's ``y_pred``).
    new_titles
        The titles released after deployment.

    Examples
    --------
    >>> new_title_share([[1, 2, 3, 4], [5, 6], []], new_titles=[2, 5, 6])
    array([0.25, 1.  , 0.  ])
    """
    new = set(int(t) for t in new_titles)
    return np.array(
        [sum(t in new for t in rec) / len(rec) if rec else 0.0 for rec in recommendations]
    )


def events_until_recommended(recommendations, scenario) -> pd.DataFrame:
    """For each title released after deployment: how many events after its release it is first recommended.

    ``recommendations`` is the per-event list of recommended titles (a Timeline's ``y_pred``) on
    a :func:`~deployment_modes.scenarios.movie_catalogue` ``scenario``. One row per new title:
    ``release_day``, ``events`` (events from its release to its first recommendation, NaN if never)
    and ``views`` (how often it was watched in between). Defined in the Online learning chapter.

    Parameters
    ----------
    recommendations
        Per event, the recommended titles (a Timeline's ``y_pred``).
    scenario
        The :func:`~deployment_modes.scenarios.movie_catalogue` scenario they were made on.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.movie_catalogue(n_titles=50, n_new=5, n_initial=200, n_stream=300)
    >>> static = dm.simulate(sc, dm.BatchDeployment(TrendingRecommender()), HitRate())
    >>> bool(events_until_recommended(static.y_pred, sc)["events"].isna().all())
    True
    """
    new, release = scenario.info["new_titles"], scenario.info["release_day"]
    if len(recommendations) != len(scenario):
        raise ValueError(
            f"recommendations must have one entry per event: {len(recommendations)} for {len(scenario)}"
        )
    times, watched = np.asarray(scenario.times), np.asarray(scenario.y)
    shown = {int(title): [] for title in new}  # title -> the events it was recommended at, in order
    for i, recommended in enumerate(recommendations):
        for title in recommended:
            if title in shown:
                shown[title].append(i)
    rows = []
    for title in new:
        first = int(np.searchsorted(times, release[title]))
        at = shown[int(title)]
        after = bisect.bisect_left(at, first)
        hit = at[after] if after < len(at) else None
        rows.append(
            {
                "title": int(title),
                "release_day": float(release[title]),
                "events": np.nan if hit is None else hit - first,
                "views": int(
                    np.sum(watched[first : hit if hit is not None else len(times)] == title)
                ),
            }
        )
    return pd.DataFrame(rows)
