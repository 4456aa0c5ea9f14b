"""The online SGD learner at several learning rates on one stream, in one walk: one scaler for all.

:func:`~deployment_modes.sgd_model` is a standard scaler, then a logistic regression trained by
SGD. The scaler learns every event whatever the learning rate (its statistics depend on the
features alone), so at every rate it is in the same state at every event. :func:`rate_timelines`
steps one scaler per event and each rate's regression on what it gives
(:func:`~deployment_modes.sgd_step.predict_scaled`, :func:`~deployment_modes.sgd_step.learn_scaled`),
and returns per rate the :class:`~deployment_modes.Timeline` of
``simulate(scenario, OnlineDeployment(sgd_model("classification", lr)), metrics.Accuracy())``:
the same predictions, versions, rolling accuracy, score and log (``tests/test_online_claims.py``
compares them). Each rate's seconds are its own steps plus the scaler's, as one model alone
spends them.

Defined in the Online learning chapter (``book/online.ipynb``), whose learning-rate sweep runs on it.
"""

from __future__ import annotations

import time

import numpy as np
from river import compose, metrics

from . import sgd_step
from ._checks import fraction
from .frames import records
from .online import OnlineDeployment, sgd_model
from .scenarios import Scenario
from .timeline import LogEntry, Timeline, rolling_share, simulate

__all__ = ["rate_timelines"]


def rate_timelines(scenario: Scenario, rates, *, name: str = "online") -> dict:
    """``{lr: Timeline}``: the online SGD learner at each rate on ``scenario``, first trained offline.

    Parameters
    ----------
    scenario
        A classification :class:`~deployment_modes.scenarios.Scenario`.
    rates
        SGD learning rates (positive numbers).
    name
        The timelines' name.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=300, drift_at=150)
    >>> runs = rate_timelines(sc, [0.05, 0.5])
    >>> alone = dm.simulate(sc, dm.OnlineDeployment(dm.sgd_model("classification", 0.5)), metrics.Accuracy())
    >>> runs[0.5].y_pred == alone.y_pred, runs[0.5].score == alone.score
    (True, True)
    """
    if not isinstance(scenario, Scenario) or scenario.task != "classification":
        raise TypeError(f"scenario must be a classification Scenario, got {scenario!r:.60}")
    rates = [fraction(lr, "rates (each one)", low=1e-12, high=1e6) for lr in rates]
    if not rates:
        raise ValueError("rates must list at least one learning rate")
    models = [sgd_model("classification", lr) for lr in rates]
    if compose.Pipeline._LEARN_UNSUPERVISED_DURING_PREDICT or not all(  # noqa: SLF001
        sgd_step.fits(m) for m in models
    ):  # not the steps sgd_step takes: each rate simulated on its own
        return {
            lr: simulate(scenario, OnlineDeployment(m), metrics.Accuracy(), name=name)
            for lr, m in zip(rates, models)
        }
    scaler = models[0]["StandardScaler"]  # the one scaler; each rate's regression
    regressions = [m["LogisticRegression"] for m in models]
    rows, _ = records(scenario.X_initial)
    start = time.perf_counter()
    for x, y in zip(rows, scenario.y_initial.tolist()):  # the first training, offline
        scaled = sgd_step.scaler_learn_transform(scaler, x)
        for lr in regressions:
            sgd_step.learn_scaled(lr, scaled, y)
    train_seconds = time.perf_counter() - start  # each model alone would spend it all
    walks = [_Walk() for _ in rates]
    clock, learn, predict = time.perf_counter, sgd_step.learn_scaled, sgd_step.predict_scaled
    for x, y in scenario:  # each event predicted at every rate, then learned
        start = clock()
        scaled = scaler.transform_one(x)
        shared = clock() - start
        for lr, walk in zip(regressions, walks):
            start = clock()
            walk.y_pred.append(predict(lr, scaled))
            walk.predict_seconds += shared + clock() - start
        start = clock()
        scaled = sgd_step.scaler_learn_transform(scaler, x)
        shared = clock() - start
        for lr, walk in zip(regressions, walks):
            start = clock()
            learn(lr, scaled, y)
            walk.learn_each.append(shared + clock() - start)
        for walk in walks:
            walk.y_true.append(y)
    log = LogEntry(
        0, "train", rows=len(rows), seconds=train_seconds, detail="version 1, 1 epoch(s)"
    )
    return {lr: walk.timeline(scenario, name, log) for lr, walk in zip(rates, walks)}


class _Walk:
    """One rate's records along the walk, then its :class:`~deployment_modes.Timeline`."""

    def __init__(self):
        self.y_true, self.y_pred, self.learn_each, self.predict_seconds = [], [], [], 0.0

    def timeline(self, scenario: Scenario, name: str, log: LogEntry) -> Timeline:
        n = len(self.y_true)
        if not n:
            raise ValueError("scenario has no event: the stream must have at least one")
        metric = metrics.Accuracy()
        for y, p in zip(self.y_true, self.y_pred):
            metric.update(y, p)
        right = [y == p for y, p in zip(self.y_true, self.y_pred)]
        return Timeline(
            name,
            self.y_true,
            self.y_pred,
            np.arange(2, n + 2),  # version 1 after the first training, one more per event learned
            np.array(rolling_share(right, np.arange(1, n + 1), 200), dtype=float),
            np.asarray(scenario.times),
            metric,
            [LogEntry(**vars(log))],
            tuple(scenario.drift_at),
            self.predict_seconds,
            float(sum(self.learn_each)),
            np.arange(n),
            np.array(self.learn_each),
        )
