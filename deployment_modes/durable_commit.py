"""Group commit to the write-ahead log: a record is on disk before it is applied and acknowledged.

:class:`GroupCommit` is the part of :class:`~deployment_modes.durable.DurableDeployment` that
writes: one writer at a time, and the thread holding the writer lock writes every waiting
request with one ``fsync``. Each request of a group gets its own outcome: its result once its
record is on disk and applied, or the error that kept it out of the log (a full disk:
:class:`~deployment_modes.storage.LogWriteError`, and nothing of the group is applied). None is
left without one.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

from .storage import LogWriteError, StateError, encode

__all__ = ["GroupCommit"]


class _Pending:
    """One request waiting for the log: its record and, once ``done``, its own result or error."""

    def __init__(self, record, live=None):
        self.record, self.live = record, live
        self.result = self.error = None
        self.done = False


class GroupCommit:
    """Group commit to the log: a mixin of :class:`~deployment_modes.durable.DurableDeployment`.

    It works on the durable state's own parts: its writer and queue locks, its request queue, its
    log writer and record counter ``seq``; a record is applied by ``_apply``.

    Examples
    --------
    >>> import tempfile, threading
    >>> from deployment_modes.durable import DurableDeployment
    >>> state = DurableDeployment(tempfile.mkdtemp(), "online")
    >>> x = {"x0": 0.1, "x1": 0.9, "x2": 0.5, "x3": 0.2}
    >>> threads = [threading.Thread(target=state.learn_one, args=(x, 1)) for _ in range(4)]
    >>> for t in threads: t.start()
    >>> for t in threads: t.join()
    >>> state.seq, state.n_seen
    (4, 4)
    >>> state.close()
    """

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
            p.record = {"seq": seq, **p.record}  # first: a torn tail is told by its start (storage)
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
