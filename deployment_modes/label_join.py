"""Labels joined to their predictions on the server: a prediction id now, the label later.

A server that learns from late labels cannot keep its questions in a Python loop. As river's
chantilly and beaver servers do, each ``POST /predict`` gets a **prediction id**; the server logs
the event's features and the prediction it served (durably, in its write-ahead log), and a later
``POST /label {"prediction_id", "y"}`` joins the label to them: the served prediction is scored,
and the model learns the event. :class:`LabelJoin` is that table of predictions waiting for their
labels, kept in the durable state (snapshotted, rebuilt by replaying the log):

- an unknown id is refused (:class:`UnknownPrediction`, HTTP 404), a second label for one id too
  (:class:`AlreadyLabelled`, 409), and a label that comes after ``window`` seconds is refused and
  its prediction counted as expired (:class:`LabelTooLate`, 410);
- it counts pending, labelled and expired predictions and keeps the recent label delays (p50, p90).

:class:`ShadowCandidate` holds a batch candidate in shadow on the server: it predicts every
labelled event beside the served model, and after ``n`` of them it is swapped in only if its error
is not larger (see :mod:`deployment_modes.release` for the same idea as a deployment wrapper).

Defined in the Late labels and safe releases chapter (``book/late_labels.ipynb``).
"""

from __future__ import annotations

import collections
import math
import threading
import uuid

import numpy as np

__all__ = ["AlreadyLabelled", "LabelJoin", "LabelTooLate", "ShadowCandidate", "UnknownPrediction"]


class UnknownPrediction(LookupError):
    """No prediction was served with this id (HTTP 404).

    Parameters
    ----------
    *args, **kwargs
        The message, as for any exception.

    Examples
    --------
    >>> str(UnknownPrediction("no prediction has the id 'x'"))
    "no prediction has the id 'x'"
    """


class AlreadyLabelled(RuntimeError):
    """This prediction has a label already (HTTP 409).

    Parameters
    ----------
    *args, **kwargs
        The message, as for any exception.

    Examples
    --------
    >>> isinstance(AlreadyLabelled("twice"), RuntimeError)
    True
    """


class LabelTooLate(RuntimeError):
    """The label came after the wait window; the prediction is expired (HTTP 410).

    Parameters
    ----------
    *args, **kwargs
        The message, as for any exception.

    Examples
    --------
    >>> isinstance(LabelTooLate("late"), RuntimeError)
    True
    """


class LabelJoin:
    """The predictions that wait for their labels, and what became of the others.

    Parameters
    ----------
    window
        Seconds a prediction waits for its label; a later label is refused and the prediction expires.
    remember
        How many labelled or expired ids are remembered (to answer 409 or 410; older ones get 404).

    Examples
    --------
    >>> join = LabelJoin(window=60)
    >>> pid = join.new_id()
    >>> join.add(pid, [0.5], 1, at=100.0)
    >>> join.claim(pid, now=130.0); join.take(pid, at=130.0)
    ([0.5], 1)
    >>> join.claim(pid, now=131.0)
    Traceback (most recent call last):
    ...
    deployment_modes.label_join.AlreadyLabelled: the prediction ... has a label already
    """

    def __init__(self, window: float, *, remember: int = 1_000_000):
        self.window = check_window(window)
        self.pending: dict = {}  # id -> (feature values, served prediction, time served), oldest first
        self.resolved = collections.OrderedDict()  # id -> "labelled" | "expired"
        self.remember = int(remember)
        self.labelled = self.expired = 0
        self.delays = collections.deque(
            maxlen=10_000
        )  # seconds from prediction to label, recent ones
        self._claimed: set = set()
        self._lock = threading.Lock()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_lock")
        state["_claimed"] = set()
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        """A fresh, unguessable prediction id."""
        return uuid.uuid4().hex

    # -- applied from the log (the same on replay) --------------------------------------------------
    def add(self, pid: str, values: list, y_pred, at: float) -> None:
        """A prediction served at time ``at`` now waits for its label."""
        self.pending[pid] = (values, y_pred, at)

    def take(self, pid: str, at: float) -> tuple[list, object]:
        """The label of ``pid`` arrived at ``at``: return its ``(values, served prediction)``."""
        values, y_pred, served_at = self.pending.pop(pid)
        self._claimed.discard(pid)
        self._resolve(pid, "labelled")
        self.labelled += 1
        self.delays.append(at - served_at)
        return values, y_pred

    def expire(self, ids) -> None:
        """These predictions waited too long: forget them, count them."""
        for pid in ids:
            if self.pending.pop(pid, None) is not None:
                self._claimed.discard(pid)
                self._resolve(pid, "expired")
                self.expired += 1

    def _resolve(self, pid: str, how: str) -> None:
        self.resolved[pid] = how
        while len(self.resolved) > self.remember:
            self.resolved.popitem(last=False)

    # -- checks before a label is logged ----------------------------------------------------------
    def claim(self, pid, now: float) -> None:
        """Check that a label for ``pid`` may be logged now, and reserve it (see :meth:`release`)."""
        if not isinstance(pid, str):
            raise TypeError(f"prediction_id must be a string, got {type(pid).__name__}")
        with self._lock:
            if pid in self._claimed or self.resolved.get(pid) == "labelled":
                raise AlreadyLabelled(f"the prediction {pid} has a label already")
            if self.resolved.get(pid) == "expired":
                raise LabelTooLate(
                    f"the prediction {pid} expired: its label came more than {self.window:g} s late"
                )
            if pid not in self.pending:
                raise UnknownPrediction(f"no prediction has the id {pid!r}")
            if now - self.pending[pid][2] > self.window:
                raise LabelTooLate(
                    f"the label of {pid} came {now - self.pending[pid][2]:.3g} s after the "
                    f"prediction, more than the window of {self.window:g} s"
                )
            self._claimed.add(pid)

    def release(self, pid) -> None:
        """Undo :meth:`claim` (the label could not be logged)."""
        with self._lock:
            self._claimed.discard(pid)

    def stale(self, now: float) -> list:
        """The pending ids older than the window, not claimed by a label being logged."""
        old = []
        with self._lock:
            for pid, (_, _, at) in self.pending.items():  # oldest first
                if now - at <= self.window:
                    break
                if pid not in self._claimed:
                    old.append(pid)
        return old

    def stats(self) -> dict:
        """Pending, labelled and expired predictions, and the label delay's p50 and p90 (seconds)."""
        delays = np.asarray(self.delays, dtype=float)
        p50, p90 = (
            (float(v) for v in np.percentile(delays, [50, 90])) if len(delays) else (None, None)
        )
        return {
            "pending": len(self.pending),
            "labelled": self.labelled,
            "expired": self.expired,
            "window_seconds": self.window,
            "label_delay_seconds": {"p50": p50, "p90": p90},
        }


def check_window(window) -> float:
    """``window`` as a positive number of seconds, else ValueError naming it."""
    if (
        isinstance(window, bool)
        or not isinstance(window, (int, float))
        or not math.isfinite(window)
        or window <= 0
    ):
        raise ValueError(f"label_window must be a positive number of seconds, got {window!r}")
    return float(window)


class ShadowCandidate:
    """A batch candidate held in shadow: scored on ``n`` labelled events beside the served model.

    Parameters
    ----------
    model, rows, seconds, upto
        The fitted candidate, as ``BatchDeployment.fit_candidate`` returns it, and the events it saw.
    n
        Labelled events to score both on before deciding.
    classification
        0/1 errors (else absolute errors).

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> shadow = ShadowCandidate(DummyClassifier(strategy="constant", constant=0).fit([[0]], [0]), 1, 0.0, 1, n=2,
    ...                          classification=True)
    >>> shadow.score([1.0], 1, served=1); shadow.score([2.0], 1, served=1)
    >>> shadow.done.is_set(), shadow.verdict()
    (True, (False, 'the candidate made 2 errors on 2 labelled events, the served model 0'))
    """

    def __init__(
        self, model, rows: int, seconds: float, upto: int, *, n: int, classification: bool
    ):
        self.model, self.rows, self.seconds, self.upto = model, rows, seconds, upto
        self.n, self.classification = n, classification
        self.errors = [0.0, 0.0]  # served, candidate
        self.count = 0
        self.done = threading.Event()

    def _error(self, y, p) -> float:
        if p is None:
            return 1.0
        return float(p != y) if self.classification else abs(float(y) - float(p))

    def score(self, values: list, y, served) -> None:
        """One labelled event: the served model predicted ``served``; the candidate predicts now."""
        if self.done.is_set():
            return
        candidate = self.model.predict(np.array([values], dtype=float))[0]
        candidate = candidate.item() if isinstance(candidate, np.generic) else candidate
        self.errors[0] += self._error(y, served)
        self.errors[1] += self._error(y, candidate)
        self.count += 1
        if self.count >= self.n:
            self.done.set()

    def verdict(self) -> tuple[bool, str]:
        """``(swap, reason)``: swap only if the candidate's error is not larger than the served model's."""
        served, candidate = self.errors
        what = "errors" if self.classification else "total absolute error"
        reason = (
            f"the candidate made {candidate:.4g} {what} on {self.count} labelled events, "
            f"the served model {served:.4g}"
        )
        return candidate <= served, reason
