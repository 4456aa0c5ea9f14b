"""Applying a logged record to the durable deployment: learn each event, score what was served.

:class:`LearnAndScore` is the part of :class:`~deployment_modes.durable.DurableDeployment` that
applies a record once it is on disk (and again when the log is replayed): a learned event is
predicted by the served model, scored by the monitor, then learned, under the model lock, so that
a prediction never sees a half-updated model. A batch deployment's monitor scores its events
later, many at once (``predict_many``: the same predictions, so the same metric and alarms), and
a batch deployment with a window forgets the events no retrain needs any more.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

__all__ = ["LearnAndScore"]


class LearnAndScore:
    """Learning and scoring logged records: a mixin of :class:`~deployment_modes.durable.DurableDeployment`.

    It works on the durable state's own parts: the deployment, its schema and monitor, the model
    lock and the event counter.

    Examples
    --------
    >>> import tempfile
    >>> from deployment_modes.durable import DurableDeployment
    >>> state = DurableDeployment(tempfile.mkdtemp(), "online")
    >>> event = ({"x0": 0.1, "x1": 0.9, "x2": 0.5, "x3": 0.2}, 1)
    >>> state.learn_many([event, event])["n_seen"], state.deployment.model_version
    (2, 3)
    >>> state.close()
    """

    score_every = 256

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
