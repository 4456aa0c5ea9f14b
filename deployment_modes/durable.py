"""A durable deployment: every labelled event is on disk before it is acknowledged.

The model server (:mod:`deployment_modes.serve`) keeps its state in one folder, the *state dir*:

- ``snapshot.pkl``: the deployment pickled after log record ``seq``, behind a header with its
  SHA-256 checksum. It is written to a temporary file, flushed to disk, then renamed over the
  old one: a reader finds the old snapshot or the new one, never half of one. A snapshot whose
  checksum fails is refused, and snapshots are only ever read from the state dir.
- ``wal-<seq>.log``: the write-ahead log, one line per record (a learned event, or a batch
  model swapped in) after the snapshot, each with a CRC32. A record is acknowledged only once
  its line is flushed to disk (``fsync``); a write that fails (a full disk) is cut off again and
  answered with :class:`LogWriteError`, and nothing of it is learned. The files and how they are
  read (a torn tail against corruption) are :mod:`deployment_modes.storage`.

Opening a state dir loads the snapshot and replays the log after it, so after a crash at any
moment (even ``kill -9``) every acknowledged event is learned again, and the model equals the
one an uninterrupted run would have after the same events (the deployments are deterministic).

Concurrency: one writer at a time, with *group commit* (the thread holding the writer lock
writes every waiting request with one ``fsync``; a large group is learned while it is flushed,
and nothing is answered before it is on disk), and a model lock that a prediction and the
learning of one event take in turn, so that a prediction never sees a half-updated model. A
batch retrain fits the candidate model outside both locks, while predictions and learning go on,
then swaps it in as one log record.

The parts of :class:`DurableDeployment`, one module each: opening the state dir, snapshots and
replay, :mod:`deployment_modes.durable_recovery`; group commit to the log,
:mod:`deployment_modes.durable_commit`; learning and scoring a logged record,
:mod:`deployment_modes.durable_apply`; late labels and batch redeploys (hot swap, shadow),
:mod:`deployment_modes.durable_labels`. What an event must look like (features, classes, input
bounds) is :mod:`deployment_modes.event_schema`; the files, :mod:`deployment_modes.storage`.
Their public names are importable from here too.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

from . import storage  # noqa: F401 (durable.storage, as before the split)
from ._checks import has_method, plain, positive_int
from .durable_apply import LearnAndScore
from .durable_commit import GroupCommit
from .durable_labels import Busy, LabelsAndRedeploys
from .durable_recovery import SnapshotsAndReplay
from .event_schema import MODES, InputOutOfBounds, Schema, check_mode, default_deployment
from .label_join import check_window
from .storage import (
    SNAPSHOT,
    LogWriteError,
    LogWriter,
    StateError,
    encode,
    load_snapshot,
    lock_state_dir,
    read_log,
)

__all__ = [
    "MODES",
    "Busy",
    "DurableDeployment",
    "InputOutOfBounds",
    "LogWriteError",
    "LogWriter",
    "Schema",
    "StateError",
    "default_deployment",
    "encode",
    "init_state",
    "load_snapshot",
    "read_log",
]


class DurableDeployment(SnapshotsAndReplay, GroupCommit, LearnAndScore, LabelsAndRedeploys):
    """A deployment whose state lives in ``state_dir``: logged, snapshotted, replayed; thread-safe.

    Opening a state dir that holds a snapshot restores it and replays the log after it. An empty
    state dir starts from ``deployment`` (already trained offline, with its ``schema``) or else
    from :func:`default_deployment`, and writes that first snapshot at once. A snapshot is written
    every ``snapshot_every`` events and on :meth:`close`; the log segments it covers are then
    deleted. One process at a time may open a state dir (a lock file says so).

    A state dir that cannot be trusted is refused with :class:`StateError` naming the file: log
    segments without a snapshot, a corrupt log line, a snapshot that fails its checksum, a state
    dir that cannot be written. An event is acknowledged only once it is on disk: when the log
    cannot be written (a full disk), the call raises :class:`LogWriteError` and nothing of it is
    logged or learned. A failed snapshot does not fail the events that triggered it (they are
    logged): it is retried later, and ``metrics()["snapshot_error"]`` says why it failed.

    Parameters
    ----------
    state_dir : str or Path
        The folder of the snapshot and the log (created if missing).
    mode : {"online", "batch"}, optional
        For an empty state dir (default online); else it must match the state dir's.
    deployment, schema : optional
        A deployment trained offline and its :class:`Schema`, for an empty state dir.
    snapshot_every : int
        Events between snapshots.
    label_window : float, optional
        Join late labels to logged predictions (:mod:`deployment_modes.label_join`): each
        :meth:`predict_logged` is logged with an id, and :meth:`label_many` joins labels to it
        within ``label_window`` seconds. Without it, predictions are not logged.
    input_guard : bool
        Refuse an event whose input is abnormal (a value outside the bounds the schema learned
        from the initial training data) with :class:`InputOutOfBounds`, before it is logged,
        learned or predicted; ``metrics()["inputs_rejected"]`` counts the calls refused.

    Examples
    --------
    >>> import tempfile
    >>> state = DurableDeployment(tempfile.mkdtemp(), "batch")
    >>> state.learn_many([({"x0": 0.1, "x1": 0.9, "x2": 0.5, "x3": 0.2}, 1)])["n_seen"]
    1
    >>> state.predict_one({"x0": 0.1, "x1": 0.9, "x2": 0.5, "x3": 0.2})
    (1, 1)
    >>> state.redeploy()["model_version"]
    2
    >>> state.close()
    """

    def __init__(
        self,
        state_dir,
        mode: str | None = None,
        *,
        deployment=None,
        schema: Schema | None = None,
        snapshot_every: int = 10_000,
        label_window: float | None = None,
        input_guard: bool = True,
    ):
        self.state_dir = Path(state_dir)
        if not isinstance(input_guard, bool):
            raise TypeError(f"input_guard must be True or False, got {input_guard!r}")
        self.input_guard, self.inputs_rejected = input_guard, 0
        self._label_window = None if label_window is None else check_window(label_window)
        self._shadow, self.last_deploy = None, None
        if mode is not None:
            check_mode(mode)
        self.snapshot_every = positive_int(snapshot_every, "snapshot_every")
        if (deployment is None) != (schema is None):
            raise ValueError("deployment and schema must be given together (see init_state)")
        self._lock = threading.Lock()  # the model: one prediction or one event's learning at a time
        self._writer = threading.Lock()  # the log and the snapshots: one writer at a time
        self._queue_lock = threading.Lock()
        self._deploying = threading.Lock()  # one batch retrain at a time
        self._queue: list = []  # the requests waiting for the log (see GroupCommit)
        self._wal: LogWriter | None = None
        self._flush = self._flush_thread = None  # the log's flush running beside the learning
        self.flush_failed: str | None = None  # why the deployment refuses everything, if so
        self._segments: list[Path] = []  # the segments read or written: the only ones ever deleted
        self._lockfd = None
        self.snapshot_error, self._failed_at = None, -math.inf
        self._retraining_upto, self._replaying = None, False
        self._unscored: list[
            tuple
        ] = []  # batch mode: events learned, not yet scored by the monitor
        self.started_at = time.time()
        try:
            self._lockfd = lock_state_dir(self.state_dir)
            self._open(mode, deployment, schema)
            self.durable_n_seen = self.n_seen  # the events on disk and learned, as acknowledged
        except OSError as error:
            self._release()
            raise StateError(f"cannot use the state dir {self.state_dir}: {error}") from None
        except BaseException:
            self._release()
            raise

    def _guarded(self, check, *args, **kwargs):
        """``check(*args, **kwargs)`` of the schema, with the input guard if on; count what it refuses."""
        try:
            return check(*args, **kwargs, guard=self.input_guard)
        except InputOutOfBounds:
            with self._queue_lock:
                self.inputs_rejected += 1
            raise

    # -- the public side -----------------------------------------------------------------------
    def predict_one(self, x) -> tuple[object, int]:
        """``(prediction, model_version)`` for one event, from a model never caught mid-update."""
        x, _ = self._guarded(self.schema.event, x, label=False)
        with self._lock:
            y_pred, version = self.deployment.predict_one(x), self.deployment.model_version
            flush = self._flush
        self._wait_durable(flush)  # the answer shows no event a crash could erase
        y_pred = plain(y_pred)
        if (
            self.schema.classes is not None
        ):  # the class as the training labels spell it (river says True for 1)
            y_pred = self._classes.get(y_pred, y_pred)
        return y_pred, version

    def learn_many(self, events) -> dict:
        """Learn labelled events ``[(x, y), ...]``: all checked first, logged durably, then learned.

        Returns ``{"learned", "n_seen", "seq", "model_version"}`` once the events are on disk and in
        the model. One bad event rejects the whole call (ValueError or TypeError naming it); nothing
        is logged or learned then.
        """
        if isinstance(events, (str, bytes, dict)) or not hasattr(events, "__len__"):
            raise TypeError(f"events must be a list of (x, y) pairs, got {type(events).__name__}")
        if len(events) == 0:
            raise ValueError("events must hold at least one (x, y) pair")
        label = self.schema.label
        try:  # the fast path: the features of all events checked at once, nothing counted
            for event in events:
                if (type(event) is not tuple and type(event) is not list) or len(event) != 2:
                    raise TypeError
            rows = self.schema.values_many([x for x, _ in events], guard=self.input_guard)
            checked = [[row, label(y)] for row, (_, y) in zip(rows, events)]
        except (TypeError, ValueError):  # again, one by one: the error names the event, and counts
            checked = self._checked(events)
        return self._commit({"kind": "learn", "events": checked})

    def _checked(self, events) -> list:
        """Each event of ``events`` checked, as ``[values, label]``; the first bad one raises, named."""
        checked = []
        for i, event in enumerate(events):
            if not isinstance(event, (tuple, list)) or len(event) != 2:
                raise TypeError(f"events[{i}] must be an (x, y) pair, got {type(event).__name__}")
            where = f"events[{i}]."
            checked.append(
                [
                    self._guarded(self.schema.values, event[0], where),
                    self.schema.label(event[1], where),
                ]
            )
        return checked

    def learn_one(self, x, y) -> dict:
        """Learn one labelled event, durably (see :meth:`learn_many`)."""
        return self._commit(
            {
                "kind": "learn",
                "events": [[self._guarded(self.schema.values, x), self.schema.label(y)]],
            }
        )

    @property
    def model_version(self) -> int:
        return self.deployment.model_version

    @property
    def retraining(self) -> bool:
        """Whether a batch retrain is running now."""
        return self._deploying.locked()

    def metrics(self) -> dict:
        """What ``GET /metrics`` shows: events seen, model version, rolling metric, alarms, snapshot."""
        self._score()
        with self._lock:
            scored = self.monitor.last_error is not None  # nothing scored yet: no rolling value
            rolling, alarms = (
                self.monitor.rolling.get() if scored else None,
                list(self.monitor.alarms),
            )
            version, n_seen, seq = self.deployment.model_version, self.n_seen, self.seq
            flush = self._flush
        self._wait_durable(flush)
        snap = self.last_snapshot
        return {
            "mode": self.mode,
            "events_seen": n_seen,
            "model_version": version,
            "log_seq": seq,
            "rolling_metric": {
                "name": "accuracy" if self.schema.task == "classification" else "MAE",
                "window": self.monitor.window,
                "value": rolling,
            },
            "drift_alarms": len(alarms),
            "last_alarm_at": alarms[-1].at if alarms else None,
            "last_snapshot": {
                "seq": snap["seq"],
                "events_seen": snap["n_seen"],
                "bytes": snap["bytes"],
                "written_at": snap["written_at"],
            },
            "snapshot_error": self.snapshot_error,
            "input_guard": self.input_guard and self.schema.bounds is not None,
            "inputs_rejected": self.inputs_rejected,
            "records_replayed_at_start": self.replayed,
            "refused_records": self.failed,
            "retraining": self.retraining,
            "stored_events": self.n_seen - getattr(self.deployment, "forgotten", 0)
            if self.mode == "batch"
            else None,
            "labels": self.join.stats() if self.join is not None else None,
            "shadow": None
            if self._shadow is None
            else {"scored": self._shadow.count, "of": self._shadow.n},
            "last_deploy": self.last_deploy,
            "uptime_seconds": time.time() - self.started_at,
        }

    def close(self, snapshot: bool = True) -> None:
        """Write a last snapshot (unless ``snapshot=False``), close the log and release the state dir."""
        with self._writer:
            if self._wal is None:
                return
            try:
                if snapshot and self.flush_failed is None:  # else the log decides, at the restart
                    self._snapshot()
            finally:
                self._release()
                if self._flush_thread is not None:
                    self._flush_thread.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def init_state(state_dir, deployment, X, y, *, mode: str = "online") -> Schema:
    """Train ``deployment`` offline on ``(X, y)`` and make it the first snapshot of an empty ``state_dir``.

    A server started on that state dir then serves this deployment instead of the default one.
    Returns the event schema (features and classes) read from ``(X, y)``.

    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from deployment_modes import BatchDeployment
    >>> init_state(tempfile.mkdtemp(), BatchDeployment(Ridge()), [[0.0], [1.0]], [0.0, 1.0], mode="batch")
    Schema(features=('x0',), task='regression', classes=None)
    """
    check_mode(mode)
    has_method(deployment, "fit_initial", "deployment")
    schema = Schema.of(X, y)
    if (Path(state_dir) / SNAPSHOT).exists():
        raise StateError(f"the state dir {state_dir} already holds a deployment")
    deployment.fit_initial(X, y)
    DurableDeployment(state_dir, mode, deployment=deployment, schema=schema).close(snapshot=False)
    return schema
