"""Monitoring a deployed model: a rolling metric, a drift detector on its errors, and its alarms.

A :class:`Monitor` is given, for each labelled event, the served model's prediction and the
label. It keeps the last ``window`` pairs (the rolling metric is computed from them when asked,
so an event costs an append, not a metric update), the error stream
(``prediction_error``: 0/1 for a classifier, the absolute error in regression) with its
running level, and a river drift detector on that stream. A detection is an :class:`Alarm`,
*upward* when the error went up. The online deployment, the batch drift trigger and the
model server's state all watch their model with it.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import itertools
import warnings
from collections import deque
from dataclasses import dataclass

from river import drift

from ._checks import has_method, positive_int

__all__ = ["Alarm", "Monitor", "prediction_error", "rolling_metric"]


def prediction_error(y, y_pred, classification: bool) -> float:
    """The error of one prediction: 0 or 1 for a classifier, the absolute error in regression.

    Parameters
    ----------
    y
        The label.
    y_pred
        The served model's prediction.
    classification
        Whether the model is a classifier.

    Examples
    --------
    >>> prediction_error("spam", "ham", classification=True), prediction_error(3.0, 2.5, classification=False)
    (1.0, 0.5)
    """
    return float(y_pred != y) if classification else abs(y - y_pred)


def rolling_metric(metric, window: int):
    """river's ``utils.Rolling`` of ``metric`` over the last ``window`` updates.

    Parameters
    ----------
    metric
        A river metric (its class is rolled; a metric whose constructor needs arguments is cloned).
    window
        Updates the rolling metric remembers.

    Examples
    --------
    >>> from river import metrics
    >>> rolling = rolling_metric(metrics.Accuracy(), window=2)
    >>> for y, p in [(1, 0), (1, 1), (0, 0)]:
    ...     rolling.update(y, p)
    >>> rolling.get()
    1.0
    """
    from river import utils

    window = positive_int(window, "window")
    try:
        return utils.Rolling(type(metric), window_size=window)
    except TypeError:  # a metric whose constructor needs arguments: roll a fresh copy of it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return utils.Rolling(metric.clone(), window_size=window)


def _plain_adwin():
    """river's ADWIN class if it keeps its window in ``_helper`` as river 0.26 does, else None.

    :meth:`Monitor.update` steps that detector the way its ``update`` does (a detection restarts
    the window at the next event; the window's update says whether it detects) and reads its
    level before each event straight from the window: the properties and the wrapper cost more
    than the update itself. The test suite checks, on streams with drifts, that the detector
    ends in the state river's own ``update`` gives and that the levels equal ``estimation``.
    """
    detector = drift.ADWIN()
    helper = getattr(detector, "_helper", None)
    methods = ("get_width", "get_total", "update")
    if not callable(getattr(detector, "_reset", None)) or not all(
        callable(getattr(helper, m, None)) for m in methods
    ):
        return None  # another river: its update and estimation as they are
    return drift.ADWIN


_ADWIN = _plain_adwin()


@dataclass(frozen=True)
class Alarm:
    """A drift detection at event ``at``: the detector's error level ``before`` and ``after`` it.

    Parameters
    ----------
    at
        The event (its number in the stream) whose error raised the alarm.
    before, after
        The detector's ``estimation`` of the error level before and after that event
        (``None`` for a detector without one).

    Examples
    --------
    >>> alarm = Alarm(at=812, before=0.08, after=0.31)
    >>> alarm.up, alarm.describe()
    (True, 'error up: 0.08 -> 0.31')
    """

    at: int
    before: float | None
    after: float | None

    @property
    def up(self) -> bool:
        """Whether the error level rose (the alarms a guardrail reacts to)."""
        return self.before is None or self.after is None or self.after > self.before

    def describe(self) -> str:
        """The alarm as the deployment's log writes it."""
        before = self.before if self.before is None else round(self.before, 4)
        after = self.after if self.after is None else round(self.after, 4)
        return f"error {'up' if self.up else 'down'}: {before} -> {after}"


class Monitor:
    """Watch a served model: rolling ``metric``, error level, and a drift ``detector`` on its errors.

    Parameters
    ----------
    metric
        A river metric, computed over the last ``window`` events by :attr:`rolling` (default:
        accuracy for a classifier, the mean absolute error otherwise).
    classification
        Whether the model is a classifier (how ``prediction_error`` measures an error).
    window
        Events the rolling metric and the error level cover.
    detector
        A river drift detector (default: ADWIN), fed every error; it is used as given (not copied).

    Examples
    --------
    >>> monitor = Monitor(classification=True, window=100)
    >>> alarms = [monitor.update(1, 1 if i < 300 else 0, at=i) for i in range(400)]
    >>> first = next(a for a in alarms if a)
    >>> 300 < first.at < 350, first.up, monitor.rolling.get()
    (True, True, 0.0)
    """

    def __init__(self, metric=None, *, classification: bool, window: int = 200, detector=None):
        if not isinstance(classification, bool):
            raise TypeError(f"classification must be True or False, got {classification!r}")
        if metric is None:
            from river import metrics

            metric = metrics.Accuracy() if classification else metrics.MAE()
        for method in ("update", "get", "clone"):
            has_method(metric, method, "metric")
        if detector is None:
            detector = drift.ADWIN()
        has_method(detector, "update", "detector")
        if not hasattr(detector, "drift_detected"):
            raise TypeError(
                f"detector must be a river drift detector (update() and drift_detected), "
                f"got {type(detector).__name__}"
            )
        self.metric, self.classification = metric, classification
        self.window = positive_int(window, "window")
        self.detector = detector
        self._fresh_detector = (
            detector.clone() if callable(getattr(detector, "clone", None)) else None
        )
        self._forget()

    def _forget(self) -> None:
        self._pairs = deque(
            maxlen=self.window
        )  # (y, prediction): the rolling metric and error level, when asked
        self.alarms: list[Alarm] = []

    def reset(self) -> None:
        """Forget every event and alarm; the detector starts afresh."""
        self._forget()
        self.restart_detector()

    def restart_detector(self) -> None:
        """A fresh detector (after a rollback or a pause, the old error stream no longer applies)."""
        if self._fresh_detector is not None:
            self.detector = self._fresh_detector.clone()

    def update(self, y, y_pred, at: int) -> Alarm | None:
        """Score the prediction ``y_pred`` of event number ``at``; return the alarm it raises, if any.

        A missing prediction (``None``: the model has learned nothing yet) is not scored. The
        per-event cost is an append and the detector's update; the rest is computed when asked.
        """
        if y_pred is None:
            return None
        self._pairs.append((y, y_pred))
        error = (1.0 if y_pred != y else 0.0) if self.classification else abs(y - y_pred)
        detector = (
            self.detector
        )  # before: its error level before this event; error: prediction_error's
        if (
            type(detector) is _ADWIN
        ):  # river's ADWIN stepped as its update() does (see _plain_adwin)
            window = detector._helper  # noqa: SLF001 (replaced when ADWIN resets: read it each time)
            width = window.get_width()
            before = window.get_total() / width if width else 0.0
            if detector._drift_detected:  # noqa: SLF001 (a detection restarts the window)
                detector._reset()  # noqa: SLF001
                window = detector._helper  # noqa: SLF001
            detector._drift_detected = flag = window.update(error)  # noqa: SLF001
            if not flag:
                return None
        else:
            before = getattr(detector, "estimation", None)
            detector.update(error)
            if not detector.drift_detected:
                return None
        alarm = Alarm(at, before, getattr(detector, "estimation", None))
        self.alarms.append(alarm)
        return alarm

    @property
    def last_error(self) -> float | None:
        """The error of the last scored event."""
        if not self._pairs:
            return None
        y, y_pred = self._pairs[-1]
        return prediction_error(y, y_pred, self.classification)

    def error_level(self, last: int | None = None) -> float:
        """Mean error over the window, or over its ``last`` events; 0 before any event."""
        pairs = self._pairs
        start = (
            max(len(pairs) - last, 0) if last else 0
        )  # the last ones, without copying the window
        if start == len(pairs):
            return 0.0
        recent = itertools.islice(pairs, start, None)
        if self.classification:  # prediction_error's numbers, summed in the same order
            total = sum(float(p != y) for y, p in recent)
        else:
            total = sum(abs(y - p) for y, p in recent)
        return total / (len(pairs) - start)

    @property
    def rolling(self):
        """The metric over the last ``window`` scored events (a fresh river metric)."""
        metric = self.metric.clone()
        for y, p in self._pairs:
            metric.update(y, p)
        return metric
