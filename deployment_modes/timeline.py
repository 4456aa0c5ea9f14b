"""The shared timeline: ``simulate`` walks a stream test-then-train and records what happened.

Prequential evaluation: for each event the deployment first predicts, then the label is
revealed to it with ``learn_one``. The returned :class:`Timeline` holds, per event, the truth,
the prediction, the model version and a rolling metric; and the deployment's own log
(retrains with their rows and compute seconds, drift alarms, rollbacks...).

Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from river import metrics

from ._checks import has_method, positive_int
from .label_delay import arrival_order, check_timing
from .monitor import rolling_metric
from .scenarios import Scenario

__all__ = [
    "Deployment",
    "LogEntry",
    "Timeline",
    "compare",
    "events_to_recover",
    "simulate",
]


@runtime_checkable
class Deployment(Protocol):
    """How a deployed model treats new data. The first training is always offline.

    A protocol: any object with these methods and attributes is a deployment.

    Attributes
    ----------
    model_version
        Version of the served model (1 after the first training).
    log
        The :class:`LogEntry` records of what the deployment did.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from sklearn.linear_model import Ridge
    >>> isinstance(dm.BatchDeployment(Ridge()), dm.Deployment)
    True
    """

    model_version: int
    log: list

    def fit_initial(self, X, y) -> None: ...

    def predict_one(self, x: dict) -> Any: ...

    def learn_one(self, x: dict, y) -> None: ...


@dataclass
class LogEntry:
    """Something a deployment did at stream position ``at`` (a retrain, an alarm, a rollback...).

    Parameters
    ----------
    at
        Events of the stream revealed when it happened (0: the first training).
    kind
        What happened: ``"train"``, ``"retrain"``, ``"swap"``, ``"alarm"``, ``"rollback"``,
        ``"pause"``, ``"resume"``, ``"reject"``...
    rows
        The data it used, where that applies.
    seconds
        The compute it took, where that applies.
    detail
        Words for a reader of the log.

    Examples
    --------
    >>> LogEntry(at=500, kind="retrain", rows=1500, seconds=0.01)
    LogEntry(at=500, kind='retrain', rows=1500, seconds=0.01, detail='')
    """

    at: int
    kind: str
    rows: int = 0
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Timeline:
    """What happened to one deployment on one stream. Built by :func:`simulate`.

    Parameters
    ----------
    name
        The run's name.
    y_true, y_pred
        Per event, the label and the prediction made before it was revealed.
    model_version
        Per event, the version of the served model after the event.
    rolling
        Per event, the rolling metric.
    times
        Per event, its time (the scenario's, or the event's position).
    metric
        The metric over the whole stream.
    log
        The deployment's :class:`LogEntry` records.
    drift_at
        Positions where the scenario's concept changes.
    predict_seconds, learn_seconds
        Time spent predicting and learning over the stream.
    label_at
        Per event, the position of the last event predicted before its label came back (see
        :attr:`label_delay`); ``None``: at once.
    learn_seconds_each
        Per event, the seconds ``learn_one`` took while it was the latest event (``None``: not
        measured); :func:`~deployment_modes.cumulative_compute` reads it.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> sc = dm.scenarios.house_prices(n_initial=50, n_stream=100)
    >>> tl = dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=50), metrics.MAE())
    >>> len(tl), int(tl.model_version[-1]), list(tl.retrains["at"])
    (100, 3, [50, 100])
    """

    name: str
    y_true: list
    y_pred: list
    model_version: np.ndarray
    rolling: np.ndarray
    times: np.ndarray
    metric: Any
    log: list = field(default_factory=list)
    drift_at: tuple = ()
    predict_seconds: float = 0.0
    learn_seconds: float = 0.0
    label_at: np.ndarray | None = None
    learn_seconds_each: np.ndarray | None = None

    @property
    def label_delay(self) -> np.ndarray:
        """How many later events were predicted before each event's label came back (0 if at once)."""
        n = len(self)
        label_at = np.arange(n) if self.label_at is None else self.label_at
        return label_at - np.arange(n)

    @property
    def score(self) -> float:
        """The metric over the whole stream."""
        return self.metric.get()

    def __len__(self) -> int:
        return len(self.y_true)

    def to_frame(self) -> pd.DataFrame:
        """One row per event: time, y_true, y_pred, model_version, the rolling metric, label_delay."""
        return pd.DataFrame(
            {
                "time": self.times,
                "y_true": self.y_true,
                "y_pred": self.y_pred,
                "model_version": self.model_version,
                "rolling": self.rolling,
                "label_delay": self.label_delay,
            }
        )

    def entries(self, kind: str | None = None) -> pd.DataFrame:
        """The deployment's log as a table, optionally only the entries of one ``kind``."""
        rows = [vars(e) for e in self.log if kind is None or e.kind == kind]
        return pd.DataFrame(rows, columns=["at", "kind", "rows", "seconds", "detail"])

    @property
    def retrains(self) -> pd.DataFrame:
        """One row per retrain, with at which event, on how many rows and how many compute seconds."""
        return self.entries("retrain")

    def window_score(self, start: int, stop: int | None = None, *, y_true=None) -> float:
        """The metric recomputed on the events ``start:stop`` only.

        ``y_true``: other labels to score the predictions against, one per event (for instance
        the clean labels of a poisoned stream, whose received labels were wrong).
        """
        truth = self.y_true if y_true is None else list(y_true)
        if len(truth) != len(self):
            raise ValueError(
                f"y_true must have one label per event ({len(self)}), got {len(truth)}"
            )
        if type(self.metric) is metrics.Accuracy:  # whole counts, divided as river's accuracy does
            scored = [
                y == p for y, p in zip(truth[start:stop], self.y_pred[start:stop]) if p is not None
            ]
            return sum(scored) / len(scored) if scored else 0.0
        metric = self.metric.clone()
        for y, p in zip(truth[start:stop], self.y_pred[start:stop]):
            if p is not None:
                metric.update(y, p)
        return metric.get()


def _check_metric(metric) -> None:
    if isinstance(metric, type):
        raise TypeError(
            f"metric must be a river metric instance, e.g. {metric.__name__}(), got the class {metric.__name__}"
        )
    for method in ("update", "get", "clone"):
        if not callable(getattr(metric, method, None)):
            raise TypeError(
                f"metric must be a river metric (with update/get/clone), got {type(metric).__name__}"
            )


def simulate(
    source: Scenario | Iterable,
    deployment,
    metric,
    *,
    moment=None,
    delay=None,
    window: int = 200,
    name: str | None = None,
    fit_initial: bool = True,
) -> Timeline:
    """Walk ``source`` test-then-train through ``deployment`` and return its :class:`Timeline`.

    If ``source`` is a :class:`~deployment_modes.scenarios.Scenario`, the deployment is first
    trained offline on ``source.initial`` (unless ``fit_initial=False``: a deployment trained
    already, for instance out-of-core, then meets the scenario's stream, times and drifts as
    they are); any other iterable of ``(x, y)`` pairs is streamed to the deployment as it is.
    ``metric`` is a river metric (it is cloned, never changed); ``window`` is the size of the
    rolling metric; ``name`` names the run (default: the deployment's class).

    Parameters
    ----------
    source
        A :class:`~deployment_modes.scenarios.Scenario`, or an iterable of ``(x, y)`` pairs.
    deployment
        A :class:`Deployment`.
    metric
        A river metric.
    moment
        When an event happens: ``None`` (its position), a feature name or a callable ``moment(x)``.
    delay
        When its label comes back (see :func:`~deployment_modes.label_delay.arrival_order`):
        ``None`` (at once), an int of events, a number or ``timedelta`` added to the moment, or a
        callable ``delay(x, y)``. Each event is predicted when it arrives; the deployment learns it,
        and the metric scores it, when its label arrives, in arrival order, as river's
        ``evaluate.progressive_val_score`` does. ``Timeline.label_at`` says when each label came back.
    window
        Events the rolling metric covers.
    name
        The run's name.
    fit_initial
        Train the deployment on the scenario's initial data first.

    Examples
    --------
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> from deployment_modes import BatchDeployment, scenarios
    >>> sc = scenarios.house_prices(seed=0, n_initial=200, n_stream=300)
    >>> tl = simulate(sc, BatchDeployment(Ridge(), retrain_every=100), metrics.MAE())
    >>> len(tl), int(tl.model_version[-1])
    (300, 4)
    >>> late = simulate(sc, BatchDeployment(Ridge(), retrain_every=100), metrics.MAE(), delay=150)
    >>> int(tl.model_version[150]), int(late.model_version[150]), int(late.label_delay.max())
    (2, 1, 149)
    """
    for method in ("fit_initial", "predict_one", "learn_one"):
        has_method(deployment, method, "deployment")
    _check_metric(metric)
    window = positive_int(window, "window")
    check_timing(moment, delay)
    metric, rolling = metric.clone(), rolling_metric(metric, window)
    if not isinstance(fit_initial, bool):
        raise TypeError(f"fit_initial must be True or False, got {fit_initial!r}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str naming the run, got {type(name).__name__}")
    if isinstance(source, (str, bytes, dict)):
        raise TypeError(
            f"source must be a Scenario or an iterable of (x, y) pairs, got {type(source).__name__} {source!r:.40}"
        )
    if isinstance(source, Scenario):
        if fit_initial:
            deployment.fit_initial(*source.initial)
        times, drift_at = source.times, source.drift_at
    elif isinstance(source, Iterable):
        times, drift_at = None, ()
    else:
        raise TypeError(
            f"source must be a Scenario or an iterable of (x, y), got {type(source).__name__}"
        )
    use_proba = getattr(metric, "requires_labels", True) is False
    predict = deployment.predict_proba_one if use_proba else deployment.predict_one
    run = _Run(deployment, predict, metric, rolling)
    if moment is None and (delay is None or (type(delay) is int and delay == 0)):
        run.walk_at_once(source, hits=type(metric) is metrics.Accuracy and not use_proba)
    else:
        for i, x, y in arrival_order(source, moment=moment, delay=delay):
            if y is None:
                run.predict(i, x)
            else:
                run.learn(i, x, y)
    if not run.y_pred:
        raise ValueError("source is empty: the stream must have at least one event")
    run.close_step()
    n = len(run.y_pred)
    y_pred = [max(p, key=p.get) if use_proba and p else p for p in run.y_pred]
    return Timeline(
        name or type(deployment).__name__,
        run.y_true,
        y_pred,
        np.array(run.versions),
        np.array(run.rolled, dtype=float),
        np.arange(n, dtype=float) if times is None else np.asarray(times),
        metric,
        list(getattr(deployment, "log", [])),
        tuple(drift_at),
        run.seconds[0],
        run.seconds[1],
        np.array(run.label_at, dtype=int),
        np.array(run.learn_each),
    )


class _Run:
    """The state of one :func:`simulate` walk: predictions waiting for their labels, and the records."""

    def __init__(self, deployment, predict, metric, rolling):
        self.deployment, self._predict, self.metric, self.rolling = (
            deployment,
            predict,
            metric,
            rolling,
        )
        self.y_true, self.y_pred, self.label_at, self.versions, self.rolled = [], [], [], [], []
        self.seconds = [0.0, 0.0]  # predict, learn
        self.learn_each = []  # learn seconds per event, at the latest event when learn_one ran
        self.scored = 0
        self.rolled_whole = False

    def walk_at_once(self, stream, hits: bool) -> None:
        """Each event predicted, then its label revealed: :func:`arrival_order` without a delay, in one loop.

        The same calls in the same order as ``predict`` then ``learn`` per event, without the
        ordering machinery. With ``hits`` (the metric is river's accuracy), the rolling accuracy is
        computed after the walk from each scored event's ``y == prediction``: the hits among the
        last ``window`` scored events over their number, which is what river's rolled accuracy
        returns, number for number.
        """
        deployment, predict, metric = self.deployment, self._predict, self.metric
        learn, update = deployment.learn_one, metric.update
        rolling = None if hits else self.rolling
        y_true, y_pred, versions, learn_each = (
            self.y_true,
            self.y_pred,
            self.versions,
            self.learn_each,
        )
        rolled, right, unscored = self.rolled, [], []  # unscored: the events without a prediction
        clock, nan, predict_seconds, learn_seconds, i = time.perf_counter, np.nan, 0.0, 0.0, -1
        for i, event in enumerate(stream):
            if type(event) is not tuple or len(event) != 2:
                if not isinstance(event, (tuple, list)) or len(event) != 2:
                    raise TypeError(
                        f"source must yield (x, y) pairs, got {type(event).__name__} {event!r:.60}"
                    )
            x, y = event
            if y is None:
                raise ValueError(f"source yielded no label (None) for event {i}")
            if i:  # the step of the event before closes: as close_step records it
                versions.append(getattr(deployment, "model_version", 0))
                if rolling is not None:
                    rolled.append(rolling.get() if i > len(unscored) else nan)
            start = clock()
            p = predict(x)
            middle = clock()
            learn(x, y)
            took = clock() - middle
            predict_seconds += middle - start
            learn_seconds += took
            learn_each.append(took)
            y_pred.append(p)
            y_true.append(y)
            if p is not None and p != {}:
                update(y, p)
                if rolling is None:
                    right.append(y == p)
                else:
                    rolling.update(y, p)
            else:
                unscored.append(i)
        n = i + 1
        self.seconds[0] += predict_seconds
        self.seconds[1] += learn_seconds
        self.label_at.extend(range(n))
        self.scored = n - len(unscored)
        if rolling is None:
            scored = np.ones(n, dtype=np.int64)
            scored[unscored] = 0
            scored_upto = np.cumsum(scored)  # per event, how many were scored by then
            self.rolled = rolling_share(right, scored_upto, self.rolling.window_size)
            self.rolled_whole = True

    def close_step(self) -> None:
        """Record the state after the last prediction and the labels that came back after it."""
        self.versions.append(getattr(self.deployment, "model_version", 0))
        if not self.rolled_whole:  # else computed for every event already (walk_at_once)
            self.rolled.append(
                self.rolling.get() if self.scored else np.nan
            )  # nothing scored yet: no value

    def predict(self, i: int, x) -> None:
        if i:
            self.close_step()
        start = time.perf_counter()
        p = self._predict(x)
        self.seconds[0] += time.perf_counter() - start
        self.y_pred.append(p)
        self.y_true.append(None)
        self.label_at.append(-1)
        self.learn_each.append(0.0)

    def learn(self, i: int, x, y) -> None:
        start = time.perf_counter()
        self.deployment.learn_one(x, y)
        took = time.perf_counter() - start
        self.seconds[1] += took
        self.learn_each[-1] += took
        p = self.y_pred[i]
        if p is not None and p != {}:
            self.metric.update(y, p)
            self.rolling.update(y, p)
            self.scored += 1
        self.y_true[i] = y
        self.label_at[i] = len(self.y_pred) - 1


def rolling_share(right: list, scored_upto: list, window: int) -> list:
    """Per event, the share of hits among the last ``window`` scored events (NaN before any).

    ``right``: per scored event, whether the prediction was right; ``scored_upto``: per event,
    how many events were scored by then. Whole counts over a whole count, as river's rolled
    accuracy divides them.
    """
    hits = np.concatenate([[0], np.cumsum(np.asarray(right, dtype=np.int64))])
    upto = np.asarray(scored_upto, dtype=np.int64)
    first = np.maximum(upto - window, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (hits[upto] - hits[first]) / (upto - first)
    return np.where(upto > 0, share, np.nan).tolist()


def compare(scenario: Scenario, deployments: dict, metric, **kwargs) -> dict[str, Timeline]:
    """Simulate several deployments on one scenario: ``{name: Timeline}`` with the same metric.

    Parameters
    ----------
    scenario
        The :class:`~deployment_modes.scenarios.Scenario` every deployment runs on.
    deployments
        ``{name: deployment}``.
    metric
        A river metric.
    **kwargs
        Passed to :func:`simulate` (``window``, ``fit_initial``).

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> sc = dm.scenarios.house_prices(n_initial=50, n_stream=100)
    >>> runs = compare(sc, {"static": dm.BatchDeployment(Ridge()),
    ...                     "retrained": dm.BatchDeployment(Ridge(), retrain_every=50)}, metrics.MAE())
    >>> {name: tl.name for name, tl in runs.items()}
    {'static': 'static', 'retrained': 'retrained'}
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    if not isinstance(deployments, dict) or not deployments:
        raise TypeError("deployments must be a non-empty dict of name -> deployment")
    for name, dep in deployments.items():
        for method in ("fit_initial", "predict_one", "learn_one"):
            has_method(dep, method, f"deployments[{name!r}]")
    return {
        name: simulate(scenario, dep, metric, name=name, **kwargs)
        for name, dep in deployments.items()
    }


def events_to_recover(timeline, at: int | None = None, *, tolerance: float = 0.02) -> int | None:
    """Events after position ``at`` (default: the first drift) until the rolling metric is back.

    "Back" is within ``tolerance`` of the rolling metric just before ``at``, searched from the
    worst point after ``at``; 0 if it never got worse than that, ``None`` if it never comes back.

    Parameters
    ----------
    timeline
        A run of :func:`simulate`.
    at
        The event to recover from (default: the scenario's first drift).
    tolerance
        How close to its earlier level the rolling metric must be to count as back.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import linear_model, metrics
    >>> sc = dm.scenarios.drifting_classification(n_initial=200, n_stream=1500, drift_at=500)
    >>> tl = simulate(sc, dm.OnlineDeployment(linear_model.LogisticRegression()), metrics.Accuracy(), window=100)
    >>> 0 < events_to_recover(tl) < 1000
    True
    """
    if not isinstance(timeline, Timeline):
        raise TypeError(
            f"timeline must be a Timeline (from simulate), got {type(timeline).__name__}"
        )
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, numbers.Real)
        or not 0 <= tolerance < math.inf
    ):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    if at is None:
        if not timeline.drift_at:
            raise ValueError("at must be given: the timeline has no drift position")
        at = timeline.drift_at[0]
    at = positive_int(at, "at")
    if at >= len(timeline):
        raise ValueError(f"at must be inside the timeline of {len(timeline)} events, got {at}")
    rolling = np.nan_to_num(timeline.rolling, nan=0.0)
    sign = 1.0 if getattr(timeline.metric, "bigger_is_better", True) else -1.0
    level, after = sign * rolling[at - 1] - tolerance, sign * rolling[at:]
    worst = int(np.argmin(after))
    if after[worst] >= level:
        return 0
    back = np.nonzero(after[worst:] >= level)[0]
    return int(worst + back[0]) if len(back) else None
