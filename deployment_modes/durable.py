"""A durable deployment: every labelled event is on disk before it is learned and acknowledged.

The model server (:mod:`deployment_modes.serve`) keeps its state in one folder, the *state dir*:

- ``snapshot.pkl``: the deployment pickled after log record ``seq``, behind a header with its
  SHA-256 checksum. It is written to a temporary file, flushed to disk, then renamed over the
  old one: a reader finds the old snapshot or the new one, never half of one. A snapshot whose
  checksum fails is refused, and snapshots are only ever read from the state dir.
- ``wal-<seq>.log``: the write-ahead log, one line per record (a learned event, or a batch
  model swapped in) after the snapshot, each with a CRC32. A record is acknowledged only once
  its line is flushed to disk (``fsync``).

Opening a state dir loads the snapshot and replays the log after it, so after a crash at any
moment (even ``kill -9``) every acknowledged event is learned again, and the model equals the
one an uninterrupted run would have after the same events (the deployments are deterministic).

Concurrency: one writer at a time, with *group commit* (the thread holding the writer lock
writes every waiting request with one ``fsync``), and a model lock that a prediction and the
learning of one event take in turn, so that a prediction never sees a half-updated model. A
batch retrain fits the candidate model outside both locks, while predictions and learning go on,
then swaps it in as one log record.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import numbers
import os
import pickle
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import features as check_features
from ._checks import has_method, plain, positive_int
from .batch import as_frame
from .monitor import Monitor

__all__ = ["Busy", "DurableDeployment", "Schema", "StateError", "default_deployment", "init_state"]

SNAPSHOT = "snapshot.pkl"
MAGIC = b"deployment_modes snapshot 1\n"
MODES = ("online", "batch")


class StateError(RuntimeError):
    """The state dir cannot be used: corrupt, in use by another server, or of another mode."""


class Busy(RuntimeError):
    """A batch retrain is already running."""


@dataclass(frozen=True)
class Schema:
    """What an event must look like: its ``features`` and, for a classifier, its ``classes``."""

    features: tuple
    task: str
    classes: tuple | None = None

    @classmethod
    def of(cls, X, y) -> Schema:
        """The schema of the initial training data: a classifier if ``y`` holds ints, strings or bools.

        >>> Schema.of([[0.0, 1.0], [1.0, 0.0]], [1, 0])
        Schema(features=('x0', 'x1'), task='classification', classes=(0, 1))
        """
        X, y = as_frame(X), np.asarray(y)
        if y.dtype.kind in "iubOU":
            return cls(tuple(X.columns), "classification", tuple(plain(v) for v in np.unique(y)))
        return cls(tuple(X.columns), "regression")

    def event(self, x, y=None, *, where: str = "", label: bool = True) -> tuple[dict, object]:
        """Check one event; return it with ``x`` in feature order and float values.

        >>> Schema(("a",), "regression").event({"a": 1}, 2.5)
        ({'a': 1.0}, 2.5)
        >>> Schema(("a",), "classification", (0, 1)).event({"a": 1}, 2)
        Traceback (most recent call last):
        ValueError: y must be one of the classes [0, 1], got 2
        """
        values = self.values(x, where)
        if not label:
            return dict(zip(self.features, values)), None
        return dict(zip(self.features, values)), self.label(y, where)

    def values(self, x, where: str = "") -> list[float]:
        """The values of ``x`` in feature order, as floats, after checking them."""
        if type(x) is dict and len(x) == len(self.features):
            try:
                values = [float(x[f]) if type(x[f]) in (float, int) else None for f in self.features]
            except (KeyError, OverflowError):
                values = [None]
            if None not in values and all(map(math.isfinite, values)):
                return values
        try:  # the slow path, which says what is wrong
            check_features(x, self.features, f"{where}x")
            return [float(x[f]) for f in self.features]
        except OverflowError:
            raise ValueError(f"{where}x holds a number too large to be finite") from None

    def label(self, y, where: str = ""):
        """``y`` checked against the task: a finite number, or one of the classes."""
        name = f"{where}y"
        if self.task == "regression":
            if isinstance(y, bool) or not isinstance(y, numbers.Real):
                raise TypeError(f"{name} must be a finite number, got {type(y).__name__} {y!r}")
            try:
                if math.isfinite(y):
                    return float(y)
            except OverflowError:
                pass
            raise ValueError(f"{name} must be a finite number, got {y!r}")
        if not any(y == c and type(y) is type(c) for c in self.classes):
            raise ValueError(f"{name} must be one of the classes {list(self.classes)}, got {y!r}")
        return y


def default_deployment(mode: str = "online"):
    """The deployment a server starts from when its state dir is empty, and its schema.

    Both modes are first trained offline on the initial data of
    ``scenarios.drifting_classification(seed=0)`` (1,000 events, features ``x0..x3``, classes 0
    and 1). Online: river's ``StandardScaler() | LogisticRegression()`` in an
    :class:`~deployment_modes.OnlineDeployment`. Batch: scikit-learn's ``LogisticRegression`` in a
    :class:`~deployment_modes.BatchDeployment` that retrains on the last 1,000 rows, only when
    asked (``POST /deploy``).

    >>> dep, schema = default_deployment("batch")
    >>> dep.model_version, schema.features, schema.classes
    (1, ('x0', 'x1', 'x2', 'x3'), (0, 1))
    """
    from sklearn.linear_model import LogisticRegression

    from . import scenarios
    from .batch import BatchDeployment

    _check_mode(mode)
    X, y = scenarios.drifting_classification(seed=0).initial
    if mode == "batch":
        deployment = BatchDeployment(LogisticRegression(), window=1000)
    else:
        from river import linear_model, preprocessing

        from .online import OnlineDeployment
        deployment = OnlineDeployment(preprocessing.StandardScaler() | linear_model.LogisticRegression())
    deployment.fit_initial(X, y)
    return deployment, Schema.of(X, y)


def _check_mode(mode) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    return mode


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _encode(record: dict) -> bytes:
    body = _ENCODER.encode(record).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _decode(line: bytes) -> dict | None:
    """A record from one log line, or None if the line is torn or corrupt."""
    if not line.endswith(b"\n") or len(line) < 10:
        return None
    crc, body = line[:8], line[9:-1]
    try:
        if int(crc, 16) != zlib.crc32(body):
            return None
        return json.loads(body)
    except ValueError:
        return None


def read_log(state_dir) -> list[dict]:
    """Every intact record of the write-ahead log, in order.

    A torn or corrupt tail of the last segment (a crash during a write: never acknowledged) is
    dropped; a bad line anywhere else is corruption and raises :class:`StateError`.
    """
    segments = sorted(Path(state_dir).glob("wal-*.log"))
    records = []
    for i, path in enumerate(segments):
        lines = path.read_bytes().splitlines(keepends=True)
        decoded = [_decode(line) for line in lines]
        bad = [j for j, r in enumerate(decoded) if r is None]
        if bad and (i < len(segments) - 1 or any(r is not None for r in decoded[bad[0]:])):
            raise StateError(f"{path.name} line {bad[0] + 1} is corrupt: the write-ahead log cannot be replayed")
        records.extend(decoded[:bad[0]] if bad else decoded)
    for previous, record in zip(records, records[1:]):
        if record["seq"] != previous["seq"] + 1:
            raise StateError(f"the write-ahead log skips from record {previous['seq']} to {record['seq']}")
    return records


def load_snapshot(state_dir) -> tuple[dict, dict]:
    """``(header, state)`` of the state dir's snapshot, after checking its SHA-256 checksum."""
    path = Path(state_dir) / SNAPSHOT
    data = path.read_bytes()
    end = data.find(b"\n", len(MAGIC))
    if not data.startswith(MAGIC) or end < 0:
        raise StateError(f"{path} is not a deployment_modes snapshot")
    header, payload = json.loads(data[len(MAGIC):end]), data[end + 1:]
    if len(payload) != header.get("bytes") or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise StateError(f"{path} fails its checksum: refusing to load it")
    return header, pickle.loads(payload)


class _Pending:
    def __init__(self, record, live=None):
        self.record, self.live = record, live
        self.result = self.error = None
        self.done = False


class DurableDeployment:
    """A deployment whose state lives in ``state_dir``: logged, snapshotted, replayed; thread-safe.

    Opening a state dir that holds a snapshot restores it and replays the log after it. An empty
    state dir starts from ``deployment`` (already trained offline, with its ``schema``) or else
    from :func:`default_deployment`, and writes that first snapshot at once. A snapshot is written
    every ``snapshot_every`` events and on :meth:`close`; the log before it is then deleted. One
    process at a time may open a state dir (a lock file says so).

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

    def __init__(self, state_dir, mode: str | None = None, *, deployment=None, schema: Schema | None = None,
                 snapshot_every: int = 10_000):
        self.state_dir = Path(state_dir)
        if self.state_dir.exists() and not self.state_dir.is_dir():
            raise ValueError(f"state_dir must be a folder, got the file {self.state_dir}")
        if mode is not None:
            _check_mode(mode)
        self.snapshot_every = positive_int(snapshot_every, "snapshot_every")
        if (deployment is None) != (schema is None):
            raise ValueError("deployment and schema must be given together (see init_state)")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lockfile = open(self.state_dir / "lock", "w")
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lockfile.close()
            raise StateError(f"another server is using the state dir {self.state_dir}") from None
        self._lock = threading.Lock()       # the model: one prediction or one event's learning at a time
        self._writer = threading.Lock()     # the log: one writer at a time
        self._queue_lock = threading.Lock()
        self._deploying = threading.Lock()  # one batch retrain at a time
        self._queue: list[_Pending] = []
        self._wal = None
        self.started_at = time.time()
        try:
            self._open(mode, deployment, schema)
        except BaseException:
            self._lockfile.close()
            raise

    # -- opening, snapshots, the log ---------------------------------------------------------
    def _open(self, mode, deployment, schema) -> None:
        (self.state_dir / ".snapshot.tmp").unlink(missing_ok=True)
        if (self.state_dir / SNAPSHOT).exists():
            if deployment is not None:
                raise StateError(f"the state dir {self.state_dir} already holds a deployment")
            header, state = load_snapshot(self.state_dir)
            if mode is not None and state["mode"] != mode:
                raise StateError(f"the state dir holds a {state['mode']} deployment, not {mode}: "
                                 f"start with --mode {state['mode']} or another state dir")
            self.__dict__.update(state)
            self.last_snapshot = header
            replayed = 0
            for record in read_log(self.state_dir):
                if record["seq"] > self.seq:
                    self._apply(record)
                    self.seq = record["seq"]
                    replayed += 1
            self.replayed = replayed
            if replayed or any(self.state_dir.glob("wal-*.log")):
                self._snapshot()
            else:
                self._new_segment()
        else:
            mode = mode or "online"
            if deployment is None:
                deployment, schema = default_deployment(mode)
            if mode == "batch":
                for method in ("fit_candidate", "swap_in"):
                    has_method(deployment, method, "deployment (batch mode)")
            for method in ("predict_one", "learn_one"):
                has_method(deployment, method, "deployment")
            self.deployment, self.schema, self.mode = deployment, schema, mode
            self.monitor, self.seq, self.n_seen, self.failed = Monitor(classification=schema.task == "classification"), 0, 0, 0
            self.replayed = 0
            self._snapshot()

    def _state(self) -> dict:
        return {"deployment": self.deployment, "schema": self.schema, "mode": self.mode,
                "monitor": self.monitor, "seq": self.seq, "n_seen": self.n_seen, "failed": self.failed}

    def _snapshot(self) -> None:
        """Write the snapshot (temporary file, fsync, rename), then start a fresh log segment."""
        with self._lock:  # a consistent copy, even of a deployment whose predict_one remembers things
            payload = pickle.dumps(self._state(), protocol=pickle.HIGHEST_PROTOCOL)
        header = {"seq": self.seq, "n_seen": self.n_seen, "mode": self.mode, "bytes": len(payload),
                  "sha256": hashlib.sha256(payload).hexdigest(), "written_at": time.time()}
        tmp = self.state_dir / ".snapshot.tmp"
        with open(tmp, "wb") as f:
            f.write(MAGIC + json.dumps(header).encode() + b"\n" + payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_dir / SNAPSHOT)
        _fsync_dir(self.state_dir)
        self.last_snapshot = header
        self._new_segment()

    def _new_segment(self) -> None:
        old = sorted(self.state_dir.glob("wal-*.log"))
        if self._wal is not None:
            self._wal.close()
        self._wal = open(self.state_dir / f"wal-{self.seq + 1:012d}.log", "ab")
        for path in old:  # every record in them is in the snapshot now
            if path.name != Path(self._wal.name).name:
                path.unlink()
        _fsync_dir(self.state_dir)

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
            features, error = self.schema.features, None
            for values, y in record["events"]:
                x = dict(zip(features, values))
                try:
                    with self._lock:
                        self.monitor.update(y, self.deployment.predict_one(x), self.n_seen)
                        self.deployment.learn_one(x, y)
                except Exception as e:  # noqa: BLE001 (see _apply)
                    error = e
                self.n_seen += 1
            if error is not None:
                raise error
        elif record["kind"] == "deploy":
            model, rows, seconds = live or self.deployment.fit_candidate(record["upto"])
            with self._lock:
                self.deployment.swap_in(model, rows, seconds, kind="swap",
                                        detail=f"fitted on the first {record['upto']} events")
        else:
            raise ValueError(f"unknown log record kind {record['kind']!r}")

    def _commit(self, record: dict, live=None) -> dict:
        """Log ``record`` durably, then apply it; group commit with the other waiting writers."""
        pending = _Pending(record, live)
        with self._queue_lock:
            self._queue.append(pending)
        with self._writer:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _write(self, batch: list[_Pending]) -> None:
        if self._wal is None:
            error = StateError("the deployment is closed")
            for p in batch:
                p.error, p.done = error, True
            return
        start_seq, start_pos, lines = self.seq, self._wal.tell(), []
        for p in batch:
            start_seq += 1
            p.record["seq"] = start_seq
            lines.append(_encode(p.record))
        try:
            self._wal.write(b"".join(lines))
            self._wal.flush()
            os.fsync(self._wal.fileno())
        except OSError as error:  # nothing is acknowledged: undo the partial write
            self._wal.truncate(start_pos)
            for p in batch:
                p.error, p.done = error, True
            return
        for p in batch:
            error = self._apply(p.record, p.live)
            self.seq = p.record["seq"]
            if error is not None:
                p.error = RuntimeError(f"record {self.seq} is logged but the deployment refused it: {error}")
            p.result = {"learned": len(p.record.get("events", ())), "n_seen": self.n_seen,
                        "seq": self.seq, "model_version": self.deployment.model_version}
            p.done = True
        if self.n_seen - self.last_snapshot["n_seen"] >= self.snapshot_every:
            self._snapshot()

    # -- the public side -----------------------------------------------------------------------
    def predict_one(self, x) -> tuple[object, int]:
        """``(prediction, model_version)`` for one event, from a model never caught mid-update."""
        x, _ = self.schema.event(x, label=False)
        with self._lock:
            y_pred, version = self.deployment.predict_one(x), self.deployment.model_version
        return plain(y_pred), version

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
        checked = []
        for i, event in enumerate(events):
            if not isinstance(event, (tuple, list)) or len(event) != 2:
                raise TypeError(f"events[{i}] must be an (x, y) pair, got {type(event).__name__}")
            where = f"events[{i}]."
            checked.append([self.schema.values(event[0], where), self.schema.label(event[1], where)])
        return self._commit({"kind": "learn", "events": checked})

    def learn_one(self, x, y) -> dict:
        """Learn one labelled event, durably (see :meth:`learn_many`)."""
        return self._commit({"kind": "learn", "events": [[self.schema.values(x), self.schema.label(y)]]})

    def redeploy(self) -> dict:
        """Batch mode: retrain on every event learned so far and swap the new model in atomically.

        The candidate is fitted while predictions and learning go on; the swap is one log record,
        so a restart replays it. Raises :class:`Busy` if a retrain is already running.
        """
        if self.mode != "batch":
            raise Busy("a redeploy is for batch mode: an online deployment learns from every event")
        if not self._deploying.acquire(blocking=False):
            raise Busy("a retrain is already running: wait for it to finish")
        try:
            upto = self.n_seen
            # a BatchDeployment only appends to its stored events, so the first `upto` stay as they are
            model, rows, seconds = self.deployment.fit_candidate(upto)
            result = self._commit({"kind": "deploy", "upto": upto}, live=(model, rows, seconds))
            return {**result, "fitted_on_events": upto, "rows": rows, "seconds": seconds}
        finally:
            self._deploying.release()

    @property
    def model_version(self) -> int:
        return self.deployment.model_version

    @property
    def retraining(self) -> bool:
        """Whether a batch retrain is running now."""
        return self._deploying.locked()

    def metrics(self) -> dict:
        """What ``GET /metrics`` shows: events seen, model version, rolling metric, alarms, snapshot."""
        with self._lock:
            rolling, alarms = self.monitor.rolling.get(), list(self.monitor.alarms)
            version, n_seen, seq = self.deployment.model_version, self.n_seen, self.seq
        snap = self.last_snapshot
        return {"mode": self.mode, "events_seen": n_seen, "model_version": version, "log_seq": seq,
                "rolling_metric": {"name": "accuracy" if self.schema.task == "classification" else "MAE",
                                   "window": self.monitor.window, "value": rolling},
                "drift_alarms": len(alarms), "last_alarm_at": alarms[-1].at if alarms else None,
                "last_snapshot": {"seq": snap["seq"], "events_seen": snap["n_seen"], "bytes": snap["bytes"],
                                  "written_at": snap["written_at"]},
                "records_replayed_at_start": self.replayed, "refused_records": self.failed, "retraining": self.retraining,
                "uptime_seconds": time.time() - self.started_at}

    def close(self, snapshot: bool = True) -> None:
        """Write a last snapshot (unless ``snapshot=False``), close the log and release the state dir."""
        with self._writer:
            if self._wal is None:
                return
            if snapshot:
                self._snapshot()
            self._wal.close()
            self._wal = None
            self._lockfile.close()

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
    _check_mode(mode)
    has_method(deployment, "fit_initial", "deployment")
    schema = Schema.of(X, y)
    if (Path(state_dir) / SNAPSHOT).exists():
        raise StateError(f"the state dir {state_dir} already holds a deployment")
    deployment.fit_initial(X, y)
    DurableDeployment(state_dir, mode, deployment=deployment, schema=schema).close(snapshot=False)
    return schema
