"""Opening a durable state dir: its first snapshot, the snapshots after it, and replaying the log.

:class:`SnapshotsAndReplay` is the part of :class:`~deployment_modes.durable.DurableDeployment`
that makes its state survive a restart. An empty state dir gets the deployment's first snapshot
at once. A state dir with a snapshot is restored from it, and the write-ahead log after it is
replayed record by record, so the model equals the one an uninterrupted run would have; a state
dir that cannot be trusted (log segments without a snapshot, records missing after it) is
refused with :class:`~deployment_modes.storage.StateError`. A snapshot is then written every
``snapshot_every`` events (one that fails is retried later, never raised) and the log segments
it covers are deleted. The files themselves are :mod:`deployment_modes.storage`.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from . import storage
from ._checks import has_method
from .event_schema import default_deployment
from .label_join import LabelJoin
from .monitor import Monitor
from .storage import SNAPSHOT, LogWriter, StateError, load_snapshot, read_log

__all__ = ["SnapshotsAndReplay"]


class SnapshotsAndReplay:
    """Snapshots and replay of the state dir: a mixin of :class:`~deployment_modes.durable.DurableDeployment`.

    It works on the durable state's own parts: its state dir, its lock file, its log writer and
    the deployment, schema, monitor and counters it snapshots (``_state_keys``).

    Examples
    --------
    >>> import tempfile
    >>> from deployment_modes.durable import DurableDeployment
    >>> folder = tempfile.mkdtemp()
    >>> state = DurableDeployment(folder, "online")
    >>> state.learn_one({"x0": 0.1, "x1": 0.9, "x2": 0.5, "x3": 0.2}, 1)["seq"]
    1
    >>> state.close(snapshot=False)  # no last snapshot: the restart replays the log
    >>> again = DurableDeployment(folder)
    >>> again.n_seen, again.metrics()["records_replayed_at_start"]
    (1, 1)
    >>> again.close()
    """

    snapshot_retry_seconds = 1.0

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
                f"the state dir holds the {state['mode']} deployment, not {mode}: "
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
