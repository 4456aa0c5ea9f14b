"""When a batch deployment retrains: on a count of events, on the calendar, after a drift alarm, or on poor performance.

The four retraining triggers (Huyen, *Designing Machine Learning Systems*, ch. 9):
:class:`~deployment_modes.BatchDeployment` builds :class:`EveryEvents` (volume) from its
``retrain_every`` and :class:`EveryPeriod` (time) from its ``period`` and ``time_feature``; its
``trigger`` is any river drift detector fed the served model's errors, or
:class:`AlarmThenCollect`, which waits after an alarm for fresh labels to retrain on (drift), or
:class:`PerformanceTrigger`, which fires when the rolling error crosses a threshold (performance).

Defined in the Batch learning chapter (``book/batch.ipynb``); :class:`AlarmThenCollect` in
the Comparison chapter (``book/comparison.ipynb``), :class:`PerformanceTrigger` in the Retraining
chapter (``book/retraining.ipynb``).
"""

from __future__ import annotations

import math
import numbers
from collections import deque

from ._checks import has_method, positive_int

__all__ = ["AlarmThenCollect", "EveryEvents", "EveryPeriod", "PerformanceTrigger"]


class EveryEvents:
    """Retrain every ``n`` stored events.

    Parameters
    ----------
    n
        Events between two retrains.

    Examples
    --------
    >>> schedule = EveryEvents(3)
    >>> [schedule.due(n_seen, {}) for n_seen in range(6)]
    [False, False, True, False, False, True]
    """

    def __init__(self, n: int):
        self.n = positive_int(n, "retrain_every")

    def due(self, n_seen: int, x: dict) -> bool:
        """Whether the event ``x``, stored after ``n_seen`` others, completes a round of ``n``."""
        return (n_seen + 1) % self.n == 0


class EveryPeriod:
    """Retrain at the first event of each new ``period`` of the time feature ``time_feature``.

    Parameters
    ----------
    period
        Length of a period, in the unit of the time feature (for instance 7 days).
    time_feature
        The event's feature that holds its time.

    Examples
    --------
    >>> weekly = EveryPeriod(7, "day")
    >>> [weekly.due(0, {"day": day}) for day in [0, 3, 6, 7, 9, 15]]
    [False, False, False, True, False, True]
    """

    def __init__(self, period: float, time_feature: str):
        if (
            isinstance(period, bool)
            or not isinstance(period, numbers.Real)
            or not 0 < period < math.inf
        ):
            raise ValueError(f"period must be a positive finite number, got {period!r}")
        if not isinstance(time_feature, str):
            raise TypeError(f"time_feature must name a feature (str), got {time_feature!r}")
        self.period, self.time_feature = period, time_feature
        self._next_boundary = None

    def due(self, n_seen: int, x: dict) -> bool:
        """Whether the event ``x`` is the first one of a new period."""
        now = x[self.time_feature]
        boundary = (now // self.period) * self.period
        if self._next_boundary is None:
            self._next_boundary = boundary + self.period
            return False
        if now >= self._next_boundary:
            self._next_boundary = boundary + self.period
            return True
        return False


class AlarmThenCollect:
    """A drift trigger: after an alarm on the served model's errors, collect fresh labels, then fire.

    When ``detector`` fires on the served model's errors, wait for ``collect`` new labelled
    events, then fire: a retrain on a window of ``collect`` rows then fits on data of the new
    concept only. This is how drift-triggered retraining runs in production: an alarm, fresh
    labels, a retrain. It has a river detector's interface (``update``, ``drift_detected``).

    Parameters
    ----------
    detector
        A river drift detector fed each error (default: ``river.drift.ADWIN()``).
    collect
        Labelled events to wait for after an alarm.

    Examples
    --------
    >>> trigger = AlarmThenCollect(collect=2)
    >>> fired = []
    >>> for error in [0.0] * 200 + [1.0] * 60:
    ...     trigger.update(error)
    ...     fired.append(trigger.drift_detected)
    >>> sum(fired), trigger.alarms
    (1, 1)
    """

    def __init__(self, detector=None, collect: int = 300):
        from river import drift

        self.detector = drift.ADWIN() if detector is None else detector
        has_method(self.detector, "update", "detector (a river drift detector)")
        self.collect = positive_int(collect, "collect")
        self.drift_detected = False
        self._countdown = None
        self.alarms = 0

    def update(self, error) -> None:
        """Feed one error of the served model (0/1 for a classifier)."""
        self.detector.update(error)
        self.drift_detected = False
        if self._countdown is None:
            if self.detector.drift_detected:
                self._countdown, self.alarms = self.collect, self.alarms + 1
            return
        self._countdown -= 1
        if self._countdown == 0:
            self._countdown, self.drift_detected = None, True


class PerformanceTrigger:
    """A performance trigger: fire when the served model's mean error over the last ``window``
    events exceeds ``max_error``.

    Fed the served model's error on each labelled event (0/1 for a classifier, so the mean error
    is 1 - accuracy; the absolute error in regression). After firing it waits for a full new window
    of errors, those of the retrained model, before it can fire again. It has a river detector's
    interface (``update``, ``drift_detected``), so it is a ``trigger`` of ``BatchDeployment``.

    Parameters
    ----------
    max_error
        The threshold on the mean error over the window (0.2: accuracy below 80%).
    window
        Events the mean error covers.

    Examples
    --------
    >>> trigger = PerformanceTrigger(max_error=0.3, window=4)
    >>> fired = []
    >>> for error in [0, 0, 1, 0, 1, 1, 1, 0, 0, 0]:
    ...     trigger.update(error)
    ...     fired.append(trigger.drift_detected)
    >>> [i for i, f in enumerate(fired) if f]
    [4, 8]
    """

    def __init__(self, max_error: float = 0.2, window: int = 100):
        if (
            isinstance(max_error, bool)
            or not isinstance(max_error, numbers.Real)
            or not max_error >= 0
        ):
            raise ValueError(f"max_error must be a number >= 0, got {max_error!r}")
        self.max_error, self.window = float(max_error), positive_int(window, "window")
        self._errors: deque = deque(maxlen=self.window)
        self.drift_detected = False
        self.fired = 0

    def update(self, error) -> None:
        """Feed one error of the served model."""
        self._errors.append(float(error))
        full = len(self._errors) == self.window
        self.drift_detected = full and sum(self._errors) / self.window > self.max_error
        if self.drift_detected:
            self.fired += 1
            self._errors.clear()

    def clone(self) -> PerformanceTrigger:
        """A fresh trigger with the same settings."""
        return PerformanceTrigger(self.max_error, self.window)
