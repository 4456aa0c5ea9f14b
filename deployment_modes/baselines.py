"""Naive baselines: the deployments a model must beat to earn its keep.

:class:`NaiveBaseline` answers without a model: the **last** label seen (river's
``dummy.NoChangeClassifier``; "tomorrow's price is today's" in regression), the **majority**
class seen so far (river's ``dummy.PriorClassifier``), or the **mean** of the labels seen so far
(regression). It follows the :class:`~deployment_modes.Deployment` protocol, so it runs on the
shared timeline beside the real deployments. On a stream whose labels come in runs (electricity
prices, stock prices) "the last label" is hard to beat; on a stream of independent events it is
no better than chance, which a real model must then clearly beat.

Defined in the Retraining chapter (``book/retraining.ipynb``).
"""

from __future__ import annotations

import collections
import math
import numbers

import numpy as np

from ._checks import plain
from .timeline import LogEntry

__all__ = ["NaiveBaseline", "STRATEGIES"]

#: The strategies, and the task each is for.
STRATEGIES = {
    "last": ("classification", "regression"),
    "majority": ("classification",),
    "mean": ("regression",),
}


class NaiveBaseline:
    """A deployment that predicts the last label, the majority class or the mean label seen so far.

    ``fit_initial`` counts the initial labels (the last one in time order is the last label);
    every ``learn_one`` updates the count, so the baseline also "learns online", at no cost.

    Parameters
    ----------
    strategy
        ``"last"``, ``"majority"`` (classification) or ``"mean"`` (regression).

    Examples
    --------
    >>> base = NaiveBaseline("last")
    >>> base.fit_initial([[0.0], [1.0]], [3.0, 5.0])
    >>> base.predict_one({"x0": 9.0})
    5.0
    >>> base.learn_one({"x0": 9.0}, 7.0); base.predict_one({"x0": 1.0})
    7.0
    >>> major = NaiveBaseline("majority"); major.fit_initial([[0], [1], [2]], ["a", "b", "b"])
    >>> major.predict_one({"x0": 0}), major.model_version
    ('b', 1)
    """

    def __init__(self, strategy: str = "last"):
        if not isinstance(strategy, str) or strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {sorted(STRATEGIES)}, got {strategy!r}")
        self.strategy = strategy
        self.model_version = 0
        self.log: list[LogEntry] = []
        self.n_seen = 0
        self._last = None
        self._counts: collections.Counter = collections.Counter()
        self._sum = 0.0
        self._n = 0  # labels counted, initial ones included

    def _check(self, y):
        y = plain(y)
        if self.strategy == "majority":
            if type(y) is not int and not isinstance(y, (str, numbers.Integral)):
                raise TypeError(
                    f"y must be a class label (str, int or bool) for 'majority', got {type(y).__name__} {y!r}"
                )
        elif self.strategy == "mean" and (
            isinstance(y, bool) or not isinstance(y, numbers.Real) or not math.isfinite(y)
        ):
            raise TypeError(f"y must be a finite number for 'mean', got {type(y).__name__} {y!r}")
        return y

    def fit_initial(self, X, y) -> None:
        """Count the initial labels; the last one in order is the first prediction of ``"last"``."""
        labels = [self._check(v) for v in np.asarray(y).tolist()]
        if not labels:
            raise ValueError("y must hold at least one label")
        if len(labels) != len(X):
            raise ValueError(
                f"y must have one label per row of X: {len(labels)} labels for {len(X)} rows"
            )
        self._counts = (
            collections.Counter(labels) if self.strategy == "majority" else collections.Counter()
        )
        self._sum = float(sum(labels)) if self.strategy == "mean" else 0.0
        self._last, self._n, self.n_seen, self.model_version = labels[-1], len(labels), 0, 1
        self.log = [LogEntry(0, "train", rows=len(labels))]

    def predict_one(self, x: dict):
        """The naive answer; ``x`` is not looked at (it must still be a dict, as for any deployment)."""
        if not isinstance(x, dict):
            raise TypeError(f"x must be a dict of feature -> value, got {type(x).__name__}")
        if self._last is None:
            return None
        if self.strategy == "majority":  # most_common(1): the first counted of the most frequent
            return max(self._counts, key=self._counts.get)
        if self.strategy == "mean":
            return self._sum / self._n
        return self._last

    def learn_one(self, x: dict, y) -> None:
        """Count one more label."""
        if not isinstance(x, dict):
            raise TypeError(f"x must be a dict of feature -> value, got {type(x).__name__}")
        y = self._check(y)
        self._last = y
        self.n_seen += 1
        self._n += 1
        if self.strategy == "majority":
            self._counts[y] += 1
        elif self.strategy == "mean":
            self._sum += y

    def predict_learn_many(self, ys) -> list:
        """:meth:`predict_one`, then :meth:`learn_one`, for each label in turn: the answers, in one call.

        What a simulation gets from the baseline, whose answers never look at the event (every
        label is checked before any is learned).

        Examples
        --------
        >>> base = NaiveBaseline("majority")
        >>> base.fit_initial([[0], [1]], ["a", "b"])
        >>> base.predict_learn_many(["b", "a", "a"]), base.predict_one({})
        (['a', 'b', 'a'], 'a')
        """
        ys = [self._check(y) for y in ys]
        answers, majority, mean = [], self.strategy == "majority", self.strategy == "mean"
        counts = self._counts
        for y in ys:  # predict_one's answer, then learn_one's updates
            if self._last is None:
                answers.append(None)
            elif majority:
                answers.append(counts.most_common(1)[0][0])
            elif mean:
                answers.append(self._sum / self._n)
            else:
                answers.append(self._last)
            self._last = y
            self._n += 1
            if majority:
                counts[y] += 1
            elif mean:
                self._sum += y
        self.n_seen += len(ys)
        return answers

    def __repr__(self) -> str:
        return f"NaiveBaseline({self.strategy!r}, n_seen={self.n_seen})"
