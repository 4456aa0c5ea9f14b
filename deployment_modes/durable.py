"""A durable deployment: every labelled event is on disk before it is learned and acknowledged.

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
writes every waiting request with one ``fsync``), and a model lock that a prediction and the
learning of one event take in turn, so that a prediction never sees a half-updated model. A
batch retrain fits the candidate model outside both locks, while predictions and learning go on,
then swaps it in as one log record.

What an event must look like (features, classes, input bounds) is
:mod:`deployment_modes.event_schema`; late labels and batch redeploys (hot swap, shadow) are
:mod:`deployment_modes.durable_labels`; the files, :mod:`deployment_modes.storage`. Their public
names are importable from here too.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

from . import storage
from ._checks import has_method, plain, positive_int
from .durable_labels import Busy, LabelsAndRedeploys
from .event_schema import MODES, InputOutOfBounds, Schema, check_mode, default_deployment
from .label_join import LabelJoin, check_window
from .monitor import Monitor
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
    "Schema",
    "StateError",
    "default_deployment",
    "init_state",
    "load_snapshot",
    "read_log",
]


class _Pending:
    """One request waiting for the log: its record and, once ``done``, its own result or error."""

    def __init__(self, record, live=None):
        self.record, self.live = record, live
        self.result = self.error = None
        self.done = False


class DurableDeployment(LabelsAndRedeploys):
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

    snapshot_retry_seconds = 1.0
    score_every = 256

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
        self._queue: list[_Pending] = []
        self._wal: LogWriter | None = None
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
        except OSError as error:
            self._release()
            raise StateError(f"cannot use the state dir {self.state_dir}: {error}") from None
        except BaseException:
            self._release()
            raise

    # -- opening, snapshots, the log ---------------------------------------------------------
    def _release(self) -> None:
        if self._wal is not None:
            self._wal.close()
            self._wal = None
        if self._lockfd is not None:
            os.close(self._lockfd)
            self._lockfd = None

    def _open(self, mode, deployment, schema) -> None:
        (self.state_dir / storage.TMP).unlink(missing_ok=True)
        found = storage.segments(self.state_dir)
        if (self.state_dir / SNAPSHOT).exists():
            if deployment is not None:
                raise StateError(f"the state dir {self.state_dir} already holds a deployment")
            self._restore(mode, found)
            return
        if found:
            raise StateError(
                f"{self.state_dir} holds write-ahead log segments ({', '.join(p.name for p in found)}) "
                f"but no {SNAPSHOT}: their events cannot be replayed without it. Restore the "
                f"snapshot, or move the wal-*.log files away to start afresh"
            )
        mode = mode or "online"
        if deployment is None:
            deployment, schema = default_deployment(mode)
        if mode == "batch":
            for method in ("fit_candidate", "swap_in"):
                has_method(deployment, method, "deployment (batch mode)")
        for method in ("predict_one", "learn_one"):
            has_method(deployment, method, "deployment")
        self.deployment, self.schema, self.mode = deployment, schema, mode
        self._classes = {c: c for c in schema.classes or ()}
        self.monitor, self.seq, self.n_seen, self.failed = (
            Monitor(classification=schema.task == "classification"),
            0,
            0,
            0,
        )
        self.replayed = 0
        self.join = LabelJoin(self._label_window) if self._label_window else None
        self._snapshot()

    def _restore(self, mode, found: list[Path]) -> None:
        header, state = load_snapshot(self.state_dir)
        if isinstance(state, dict):
            state.setdefault("join", None)  # a state dir from before labels were joined
        if not isinstance(state, dict) or set(state) != set(self._state_keys):
            raise StateError(
                f"{self.state_dir / SNAPSHOT} does not hold a durable deployment's state"
            )
        if mode is not None and state["mode"] != mode:
            raise StateError(
                f"the state dir holds a {state['mode']} deployment, not {mode}: "
                f"start with --mode {state['mode']} or another state dir"
            )
        self.__dict__.update(state)
        self.last_snapshot = header
        self._classes = {c: c for c in self.schema.classes or ()}
        if self._label_window is not None:  # the window given now applies from now on
            if self.join is None:
                self.join = LabelJoin(self._label_window)
            self.join.window = self._label_window
        records = [r for r in read_log(self.state_dir) if r["seq"] > self.seq]
        if records and records[0]["seq"] != self.seq + 1:
            raise StateError(
                f"the write-ahead log of {self.state_dir} misses records {self.seq + 1} to "
                f"{records[0]['seq'] - 1} after the snapshot: refusing to start"
            )
        self._replaying = True
        for record in records:
            self._apply(record)
            self.seq = record["seq"]
        self._replaying = False
        self._forget()
        self.replayed, self._segments = len(records), found
        if found:
            self._snapshot()
        else:
            self._new_segment()

    _state_keys = ("deployment", "schema", "mode", "monitor", "seq", "n_seen", "failed", "join")

    def _state(self) -> dict:
        return {key: getattr(self, key) for key in self._state_keys}

    def _snapshot(self) -> None:
        """Write the snapshot, then start a fresh log segment and delete the ones it covers.

        Called with the writer lock held (or before serving), so no event is being learned (the
        monitor's unscored events are scored first, so that the snapshot holds them); a
        prediction may run meanwhile, which is why a deployment's ``predict_one`` must not change
        it (replaying the log would not reproduce it either).
        """
        self._score()
        self.last_snapshot = storage.write_snapshot(
            self.state_dir, self._state(), self.seq, n_seen=self.n_seen, mode=self.mode
        )
        self._new_segment()

    def _new_segment(self) -> None:
        new = LogWriter(self.state_dir, self.seq + 1)
        if self._wal is not None:
            self._wal.close()
        self._wal = new
        for path in self._segments:  # every record in them is in the snapshot now
            if path != new.path:
                path.unlink(missing_ok=True)
        self._segments = [new.path]

    def _snapshot_if_due(self) -> None:
        """A snapshot every ``snapshot_every`` events; one that fails is retried later, never raised."""
        if (
            self.n_seen - self.last_snapshot["n_seen"] < self.snapshot_every
            or time.monotonic() - self._failed_at < self.snapshot_retry_seconds
        ):
            return
        try:
            self._snapshot()
            self.snapshot_error = None
        except Exception as error:  # noqa: BLE001 (the events are logged: a snapshot is only a shortcut)
            self.snapshot_error = f"{type(error).__name__}: {error}"
            self._failed_at = time.monotonic()

    def _apply(self, record: dict, live=None) -> Exception | None:
        """Apply one log record (``live``: the swap prepared by :meth:`redeploy`); return its error if any.

        Events are checked before they are logged, so a deployment that refuses one is a bug; it
        is then refused the same way on replay, and the server goes on.
        """
        try:
            self._apply_record(record, live)
        except Exception as error:  # noqa: BLE001 (reported to the caller, identical on replay)
            self.failed += 1
            return error
        return None

    def _apply_record(self, record: dict, live) -> None:
        if record["kind"] == "learn":
            features, error, later = self.schema.features, None, self._scored_later()
            deployment, monitor, lock = self.deployment, self.monitor, self._lock
            for values, y in record["events"]:
                x = dict(zip(features, values))
                try:
                    if later or (self._shadow is not None and not self._replaying):
                        self._learn_event(x, values, y, self._PREDICT, later)
                        continue
                    with lock:  # _learn_event's common case, inlined: predict, score, learn
                        try:
                            monitor.update(y, deployment.predict_one(x), self.n_seen)
                            deployment.learn_one(x, y)
                        finally:
                            self.n_seen += 1
                except Exception as e:  # noqa: BLE001 (see _apply)
                    error = e
            if len(self._unscored) >= self.score_every:
                self._score()
            if not self._replaying:
                self._forget()
            if error is not None:
                raise error
        elif record["kind"] in ("predict", "label", "expire"):
            self._apply_join(record)
        elif record["kind"] == "deploy":
            model, rows, seconds = live or self.deployment.fit_candidate(record["upto"])
            self._score()  # the events before the swap are scored by the model that served them
            with self._lock:
                self.deployment.swap_in(
                    model,
                    rows,
                    seconds,
                    kind="swap",
                    detail=f"fitted on the first {record['upto']} events",
                )
        else:
            raise ValueError(f"unknown log record kind {record['kind']!r}")

    _PREDICT = object()  # _learn_event: the served model predicts the event now

    def _learn_event(self, x: dict, values: list, y, served, deferred: bool = False) -> None:
        """Score the served prediction of one labelled event, show it to a shadow candidate, learn it.

        ``served`` is the prediction served for it (a joined label), or ``_PREDICT``: the served
        model predicts it now, or later with others (``deferred``, see :meth:`_scored_later`), unless
        a shadow candidate needs the prediction now.
        """
        shadow = self._shadow if not self._replaying else None
        if served is not self._PREDICT or shadow is not None:
            self._score()  # the monitor sees the events in order
        later = served is self._PREDICT and deferred and shadow is None  # scored many at once
        try:
            with self._lock:
                model = getattr(self.deployment, "model", None)  # the model serving this event
                if later:
                    self._unscored.append((values, y, self.n_seen))
                else:
                    served = self.deployment.predict_one(x) if served is self._PREDICT else served
                    self.monitor.update(y, served, self.n_seen)
                    if shadow is not None:
                        shadow.score(values, y, served)
                self.deployment.learn_one(x, y)
                if later and getattr(self.deployment, "model", None) is not model:
                    self._score_held(model)  # a retrain replaced it: it scores what it served
        finally:
            self.n_seen += 1

    def _scored_later(self) -> bool:
        """Whether the monitor scores the events later, many at once: a batch deployment with ``predict_many``.

        Its learning only stores an event, until a retrain serves a new model; the events are
        scored by the model that served them with one ``predict_many`` call per many events
        (before a swap, a snapshot, a metrics read, or at once when a retrain replaced the model),
        instead of one ``predict`` per event: the same predictions, so the same metric and alarms.
        """
        dep = self.deployment
        return (
            self.mode == "batch"
            and callable(getattr(dep, "predict_many", None))
            and hasattr(dep, "model")  # how a retrain that replaced it is seen
        )

    def _score(self) -> None:
        """Update the monitor with the events learned but not yet scored, in order."""
        with self._lock:
            self._score_held()

    def _score_held(self, model=None) -> None:
        """:meth:`_score`, with the model lock held; ``model`` (default: the served one) served them."""
        if not self._unscored:
            return
        unscored, self._unscored = self._unscored, []
        rows = [values for values, _, _ in unscored]
        if model is None:
            predictions = self.deployment.predict_many(rows)
        else:
            predictions = self.deployment.predict_many(rows, model=model)
        for (_, y, at), y_pred in zip(unscored, predictions):
            self.monitor.update(y, y_pred, at)

    def _forget(self) -> None:
        """Batch mode with a window: drop the stored events no retrain needs any more.

        Never while a retrain reads them (it logs which events it fitted on), nor during a
        replay (a swap later in the log may need events before the window of now). Without a
        window, a batch deployment keeps every event: ``stored_events`` in :meth:`metrics` shows it.
        """
        window = getattr(self.deployment, "window", None)
        if (
            window is None
            or not hasattr(self.deployment, "forget")
            or self._retraining_upto is not None
        ):
            return
        with self._lock:
            if (
                self._retraining_upto is None
                and self.n_seen - self.deployment.forgotten >= 2 * window
            ):
                self.deployment.forget(self.n_seen)

    def _commit(self, record: dict, live=None) -> dict:
        """Log ``record`` durably, then apply it; group commit with the other waiting writers.

        Every request of a group gets its own outcome: its result once its record is on disk and
        applied, or the error that kept it out of the log. None is left without one.
        """
        pending = _Pending(record, live)
        with self._queue_lock:
            self._queue.append(pending)
        with self._writer:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    self._write(batch)
                finally:
                    for p in batch:
                        if not p.done:
                            p.error = p.error or StateError(
                                "the write stopped before this record was logged"
                            )
                            p.done = True
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _write(self, batch: list[_Pending]) -> None:
        if self._wal is None:
            raise StateError("the deployment is closed")
        seq = self.seq
        for p in batch:
            seq += 1
            p.record["seq"] = seq
        try:
            self._wal.append(b"".join(encode(p.record) for p in batch))
        except LogWriteError as error:  # nothing of the batch is in the log: nothing is applied
            for p in batch:
                p.record.pop("seq")
                p.error, p.done = error, True
            return
        for p in batch:
            error = self._apply(p.record, p.live)
            self.seq = p.record["seq"]
            if error is not None:
                p.error = RuntimeError(
                    f"record {self.seq} is logged but the deployment refused it: {error}"
                )
            p.result = {
                "learned": len(p.record.get("events", ())),
                "n_seen": self.n_seen,
                "seq": self.seq,
                "model_version": self.deployment.model_version,
            }
            p.done = True
        self._snapshot_if_due()

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
                if snapshot:
                    self._snapshot()
            finally:
                self._release()

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
