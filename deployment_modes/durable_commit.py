"""Group commit to the write-ahead log: a record is on disk before it is acknowledged.

:class:`GroupCommit` is the part of :class:`~deployment_modes.durable.DurableDeployment` that
writes: one writer at a time, and the thread holding the writer lock writes every waiting
request with one ``fsync``. Each request of a group gets its own outcome: its result once its
record is on disk and applied, or the error that kept it out of the log (a full disk:
:class:`~deployment_modes.storage.LogWriteError`, and nothing of the group is applied). None is
left without one.

A small group is flushed, then learned. A group of at least ``overlap_events`` events is
learned while a second thread flushes it (the disk and the CPU work at once), and answered once
both are done; a prediction or metrics read that sees some of its events waits for that flush
too, so that no client is shown an event a crash could erase. If that flush fails, the group
gets the error and the deployment, which has learned what the disk may not hold, refuses
everything until a restart recovers it from the log (as databases do: an ``fsync`` that failed
cannot be trusted if retried).

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import concurrent.futures

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

    overlap_events = 64  # a group of at least so many events is learned while the log flushes

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
        if self.flush_failed is not None:
            raise StateError(self.flush_failed)
        seq = self.seq
        for p in batch:
            seq += 1
            p.record = {"seq": seq, **p.record}  # first: a torn tail is told by its start (storage)
        try:
            start = self._wal.write(b"".join(encode(p.record) for p in batch))
            events = sum(len(p.record.get("events", ())) for p in batch)
            if events < self.overlap_events:  # little to learn: flush first, as simply as that
                self._wal.sync(start)
            else:  # flush while the group is learned; nothing is answered before it is durable
                self._flush = self._flusher().submit(self._wal.sync, start)
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
        if self._flush is not None:
            try:
                self._flush.result()
            except LogWriteError as error:  # learned, but not on disk: stop (see _wait_durable)
                self.flush_failed = (
                    f"the write-ahead log could not be flushed ({error}); the model has learned "
                    f"events the disk may not hold: restart the server to recover from the log"
                )
                for p in batch:
                    p.result, p.error, p.done = None, error, True
                return
            self._flush = None
        self.durable_n_seen = self.n_seen
        for p in batch:
            p.done = True
        self._snapshot_if_due()

    def _flusher(self):
        """The thread that flushes the log while the writer learns (made on first use)."""
        if self._flush_thread is None:
            self._flush_thread = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="wal-flush"
            )
        return self._flush_thread

    def _wait_durable(self, flush) -> None:
        """Return once what a reader saw of the model is on disk (``flush``: the flush it waited on).

        A prediction or a metrics read made while a group is being learned may see some of its
        events: its answer waits for that group's flush, so that no client is shown an event that
        a crash could still erase. If the flush failed, the deployment refuses everything until a
        restart recovers it from the log (an fsync that failed cannot be trusted if retried).
        """
        if flush is not None:
            try:
                flush.result()
            except LogWriteError:
                pass
        if self.flush_failed is not None:
            raise StateError(self.flush_failed)
