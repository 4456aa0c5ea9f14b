"""Late labels joined to logged predictions, and batch redeploys (hot swap, shadow), on the durable state.

:class:`LabelsAndRedeploys` is the part of :class:`~deployment_modes.durable.DurableDeployment`
that the Late labels and safe releases chapter adds to the server: :meth:`~LabelsAndRedeploys.predict_logged`
logs a prediction with an id, :meth:`~LabelsAndRedeploys.label_many` joins labels to it
(:class:`~deployment_modes.label_join.LabelJoin`), and :meth:`~LabelsAndRedeploys.redeploy`
retrains a batch deployment and swaps it in, at once or after scoring it in shadow
(:class:`~deployment_modes.label_join.ShadowCandidate`). Everything goes through the durable
state's write-ahead log, so a restart replays it.

Defined in the Late labels and safe releases chapter (``book/late_labels.ipynb``).
"""

from __future__ import annotations

import time

from ._checks import positive_int
from .label_join import LabelJoin, LabelTooLate, ShadowCandidate
from .storage import StateError

__all__ = ["Busy", "LabelsAndRedeploys"]


class Busy(RuntimeError):
    """A batch retrain is already running, or a redeploy was asked of an online deployment.

    Parameters
    ----------
    *args, **kwargs
        The message, as for any exception.

    Examples
    --------
    >>> isinstance(Busy("a retrain is already running"), RuntimeError)
    True
    """


class LabelsAndRedeploys:
    """Late labels and batch redeploys: a mixin of :class:`~deployment_modes.durable.DurableDeployment`.

    It works on the durable state's own parts: its write-ahead log (``_commit``), its model lock,
    its label table ``join`` and its retrain lock; it has no state of its own.

    Examples
    --------
    >>> import tempfile
    >>> from deployment_modes.durable import DurableDeployment
    >>> state = DurableDeployment(tempfile.mkdtemp(), "online", label_window=60)
    >>> served = state.predict_logged({"x0": 0.1, "x1": 0.9, "x2": 0.5, "x3": 0.2})
    >>> state.label_many([(served["prediction_id"], 1)])["n_seen"]
    1
    >>> state.close()
    """

    def _apply_join(self, record: dict) -> None:
        """A prediction logged with its id, labels joined to logged predictions, or expired ones."""
        if self.join is None:  # a log written with a label window, replayed without one
            self.join = LabelJoin(self._label_window or 86_400.0)
        if record["kind"] == "predict":
            self.join.add(record["id"], record["values"], record["y_pred"], record["at"])
        elif record["kind"] == "expire":
            self.join.expire(record["ids"])
        else:
            error = None
            for pid, y in record["labels"]:
                values, served = self.join.take(pid, record["at"])
                try:
                    self._learn_event(dict(zip(self.schema.features, values)), values, y, served)
                except Exception as e:  # noqa: BLE001 (see _apply)
                    error = e
            if not self._replaying:
                self._forget()
            if error is not None:
                raise error

    def predict_logged(self, x) -> dict:
        """A prediction with a ``prediction_id``, its features and prediction logged durably first.

        Needs ``label_window``. Predictions older than the window are expired (logged) on the way.
        Returns ``{"prediction_id", "y_pred", "model_version"}`` once the record is on disk.
        """
        if self.join is None:
            raise StateError(
                "predictions are logged with an id only when the server joins labels: "
                "start it with --label-window SECONDS"
            )
        now = time.time()
        stale = self.join.stale(now)
        if stale:
            self._commit({"kind": "expire", "ids": stale})
        values = self._guarded(self.schema.values, x)
        y_pred, version = self.predict_one(x)
        pid = self.join.new_id()
        self._commit({"kind": "predict", "id": pid, "values": values, "y_pred": y_pred, "at": now})
        return {"prediction_id": pid, "y_pred": y_pred, "model_version": version}

    def label_many(self, labels) -> dict:
        """Join labels ``[(prediction_id, y), ...]`` to their logged predictions, durably, and learn them.

        All are checked first: an unknown id raises :class:`~deployment_modes.label_join.UnknownPrediction`,
        an id labelled already :class:`~deployment_modes.label_join.AlreadyLabelled`, a label after the
        window :class:`~deployment_modes.label_join.LabelTooLate` (its prediction is expired, and
        counted); a bad label ValueError or TypeError. Then nothing is logged or learned.
        """
        if self.join is None:
            raise StateError(
                "this server does not join labels: start it with --label-window SECONDS"
            )
        if (
            isinstance(labels, (str, bytes, dict))
            or not hasattr(labels, "__len__")
            or len(labels) == 0
        ):
            raise TypeError("labels must be a non-empty list of (prediction_id, y) pairs")
        now, claimed, checked = time.time(), [], []
        try:
            for i, pair in enumerate(labels):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise TypeError(
                        f"labels[{i}] must be a (prediction_id, y) pair, got {type(pair).__name__}"
                    )
                pid, y = pair
                y = self.schema.label(y, f"labels[{i}].")
                try:
                    self.join.claim(pid, now)
                except LabelTooLate:
                    if pid in self.join.pending:
                        self._commit({"kind": "expire", "ids": [pid]})
                    raise
                claimed.append(pid)
                checked.append([pid, y])
            result = self._commit({"kind": "label", "labels": checked, "at": now})
        except BaseException:
            for pid in claimed:
                self.join.release(pid)
            raise
        return {**result, "learned": len(checked)}

    def redeploy(self, shadow: int | None = None, timeout: float = 3600.0) -> dict:
        """Batch mode: retrain on every event learned so far and swap the new model in atomically.

        The candidate is fitted while predictions and learning go on; the swap is one log record,
        so a restart replays it. Raises :class:`Busy` if a retrain is already running.

        ``shadow=n``: hold the candidate in shadow until ``n`` labelled events (learned or joined)
        have scored it beside the served model, and swap only if its error is not larger; the
        result (and ``metrics()["last_deploy"]``) says ``swapped`` and why. After ``timeout``
        seconds without enough labels the candidate is dropped. A shadow is not durable: a
        restart drops it.
        """
        if shadow is not None:
            return self._redeploy_in_shadow(positive_int(shadow, "shadow"), timeout)
        if self.mode != "batch":
            raise Busy("a redeploy is for batch mode: an online deployment learns from every event")
        if not self._deploying.acquire(blocking=False):
            raise Busy("a retrain is already running: wait for it to finish")
        try:
            with self._lock:  # from now on until the swap is logged, no stored event is forgotten
                upto = self._retraining_upto = self.n_seen
            model, rows, seconds = self.deployment.fit_candidate(upto)
            result = self._commit({"kind": "deploy", "upto": upto}, live=(model, rows, seconds))
            return {**result, "fitted_on_events": upto, "rows": rows, "seconds": seconds}
        finally:
            self._retraining_upto = None
            self._deploying.release()

    def _redeploy_in_shadow(self, n: int, timeout: float) -> dict:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if self.mode != "batch":
            raise Busy("a redeploy is for batch mode: an online deployment learns from every event")
        if not self._deploying.acquire(blocking=False):
            raise Busy("a retrain is already running: wait for it to finish")
        try:
            with self._lock:
                upto = self._retraining_upto = self.n_seen
            model, rows, seconds = self.deployment.fit_candidate(upto)
            candidate = ShadowCandidate(
                model, rows, seconds, upto, n=n, classification=self.schema.task == "classification"
            )
            self.last_deploy = {"state": "shadow", "shadow_events": n, "fitted_on_events": upto}
            self._shadow = candidate
            decided = candidate.done.wait(timeout)
            self._shadow = None
            if not decided:
                swap, reason = (
                    False,
                    f"only {candidate.count} of {n} labelled events came in {timeout:g} s",
                )
            else:
                swap, reason = candidate.verdict()
            result = {"model_version": self.deployment.model_version}
            if swap:
                result = self._commit({"kind": "deploy", "upto": upto}, live=(model, rows, seconds))
            self.last_deploy = {
                "state": "swapped" if swap else "refused",
                "swapped": swap,
                "reason": reason,
                "shadow_events": candidate.count,
                "errors": {"served": candidate.errors[0], "candidate": candidate.errors[1]},
                "fitted_on_events": upto,
            }
            return {**result, **self.last_deploy, "rows": rows, "seconds": seconds}
        finally:
            self._shadow = None
            self._retraining_upto = None
            self._deploying.release()
