"""When a batch deployment retrains: on a count of events, on the calendar, or after a drift alarm.

:class:`~deployment_modes.BatchDeployment` builds :class:`EveryEvents` from its
``retrain_every`` and :class:`EveryPeriod` from its ``period`` and ``time_feature``; its
``trigger`` is any river drift detector fed the served model's errors, or
:class:`AlarmThenCollect`, which waits after an alarm for fresh labels to retrain on.

Defined in the Batch learning chapter (``book/batch.ipynb``); :class:`AlarmThenCollect` in
the Comparison chapter (``book/comparison.ipynb``).
"""

from __future__ import annotations

import math
import numbers

from ._checks import has_method, positive_int

__all__ = ["AlarmThenCollect", "EveryEvents", "EveryPeriod"]


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
        if isinstance(period, bool) or not isinstance(period, numbers.Real) or not 0 < period < math.inf:
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
