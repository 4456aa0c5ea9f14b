"""The comparison: every mode on the same scenarios and seeds, and the notes' table rebuilt from the runs.

:func:`run_comparison` runs batch (periodic retrains on all the data), drift-triggered batch,
online (with and without guardrails) and out-of-core then online on one drifting stream, and
the online lines again on the same stream with a burst of poisoned labels. The returned
:class:`Comparison` measures each row of the notes' comparison table from those runs
(:meth:`Comparison.measures`) and writes the table (:meth:`Comparison.table`).

Defined in the Comparison chapter (``book/comparison.ipynb``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._checks import positive_int
from .timeline import Timeline

__all__ = ["AlarmThenCollect", "Comparison", "LINES", "MOVING_PARTS", "cumulative_compute", "events_to_recover",
           "online_classifier", "run_comparison"]

#: The lines of the comparison, in the order of the table's columns.
LINES = ("batch", "batch, drift-triggered", "online", "out-of-core, then online")

#: The parts each mode needs in production, as this course builds them (the complexity row counts them).
MOVING_PARTS = {
    "batch": ["store of every labelled event", "retraining job (from scratch)", "retrain schedule",
              "test before redeploy", "redeploy (model swap)"],
    "batch, drift-triggered": ["store of recent labelled events", "retraining job (from scratch)",
                               "drift detector on live errors", "test before redeploy", "redeploy (model swap)"],
    "online": ["model that learns on the server", "live feed of labels", "monitoring (rolling metric, drift alarms)",
               "checkpoints and rollback", "pause or validation gate"],
    "out-of-core, then online": ["data on disk, in chunks", "chunk reader", "incremental estimator (partial_fit)",
                                 "model that learns on the server", "live feed of labels",
                                 "monitoring (rolling metric, drift alarms)", "checkpoints and rollback",
                                 "pause or validation gate"],
}


def online_classifier():
    """The online classifier of the comparison and the decision guide: scaled features, logistic regression.

    >>> online_classifier().predict_one({"a": 1.0}) is None
    True
    """
    from river import linear_model, optim, preprocessing

    return preprocessing.StandardScaler() | linear_model.LogisticRegression(optim.SGD(0.05))


class AlarmThenCollect:
    """A drift trigger for :class:`~deployment_modes.BatchDeployment`: alarm, collect, then retrain.

    When ``detector`` (default: river's ADWIN) fires on the served model's errors, wait for
    ``collect`` new labelled events, then fire: the retrain (on a window of ``collect`` rows)
    then fits on data of the new concept only. This is how drift-triggered retraining runs in
    production: an alarm, fresh labels, a retrain.

    >>> t = AlarmThenCollect(collect=2)
    >>> fired = []
    >>> for error in [0.0] * 200 + [1.0] * 60:
    ...     t.update(error)
    ...     fired.append(t.drift_detected)
    >>> sum(fired)
    1
    """

    def __init__(self, detector=None, collect: int = 300):
        from river import drift

        self.detector = drift.ADWIN() if detector is None else detector
        if not callable(getattr(self.detector, "update", None)):
            raise TypeError(f"detector must be a river drift detector, got {type(self.detector).__name__}")
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


def _check_timeline(timeline) -> Timeline:
    if not isinstance(timeline, Timeline):
        raise TypeError(f"timeline must be a Timeline (from dm.simulate), got {type(timeline).__name__}")
    return timeline


def events_to_recover(timeline, *, truth=None, drift_at: int | None = None, window: int = 100,
                      tolerance: float = 0.03, baseline: int = 500) -> int | None:
    """Events after the drift until the accuracy over the last ``window`` events is back near its level.

    The level is the accuracy over the ``baseline`` events before ``drift_at`` (default: the
    timeline's first drift); recovered means within ``tolerance`` of it, over a window of
    post-drift events only. ``truth`` (default: the timeline's labels) lets a poisoned run be
    scored on the true labels. ``None`` if the stream ends first. For classification timelines.

    >>> tl = Timeline("t", [1] * 10, [1] * 4 + [0] * 3 + [1] * 3, np.ones(10), np.ones(10), np.arange(10.0), None)
    >>> events_to_recover(tl, drift_at=4, window=2, baseline=4)
    4
    """
    timeline = _check_timeline(timeline)
    window, baseline = positive_int(window, "window"), positive_int(baseline, "baseline")
    if drift_at is None:
        if not timeline.drift_at:
            raise ValueError("drift_at must be given: the timeline has no drift")
        drift_at = timeline.drift_at[0]
    drift_at = positive_int(drift_at, "drift_at")
    truth = timeline.y_true if truth is None else list(truth)
    if len(truth) != len(timeline):
        raise ValueError(f"truth must have one label per event ({len(timeline)}), got {len(truth)}")
    if not baseline <= drift_at < len(timeline):
        raise ValueError(f"drift_at must leave {baseline} baseline events before it and be inside the stream, "
                         f"got {drift_at}")
    correct = np.array([p is not None and p == y for y, p in zip(truth, timeline.y_pred)], dtype=float)
    level = correct[drift_at - baseline:drift_at].mean()
    sums = np.cumsum(np.concatenate([[0.0], correct]))
    ends = np.arange(drift_at + window, len(correct) + 1)
    recent = (sums[ends] - sums[ends - window]) / window
    back = np.flatnonzero(recent >= level - tolerance)
    return int(ends[back[0]] - drift_at) if len(back) else None


def cumulative_compute(timeline) -> np.ndarray:
    """Rows processed by training up to each event: every (re)fit's rows, plus one per in-place update.

    A batch retrain from scratch counts all the rows it fits; an online update counts one row.
    The first, offline training counts at the first event.

    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> sc = dm.scenarios.house_prices(n_initial=100, n_stream=300)
    >>> cumulative_compute(dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=100), metrics.MAE()))[[0, 99, -1]]
    array([100, 300, 900])
    """
    timeline = _check_timeline(timeline)
    n = len(timeline)
    rows = np.zeros(n, dtype=np.int64)
    fitted = np.zeros(n, dtype=bool)
    for entry in timeline.log:
        if entry.kind in ("train", "retrain"):
            at = min(max(entry.at, 1), n) - 1
            rows[at] += entry.rows
            fitted[at] |= entry.kind == "retrain"
    version = np.asarray(timeline.model_version, dtype=np.int64)
    steps = np.diff(np.concatenate([[version[0] - (1 if len(version) and version[0] > 1 else 0)], version]))
    rows += np.where(fitted, 0, np.clip(steps, 0, None))
    return np.cumsum(rows)


@dataclass
class Comparison:
    """The runs of :func:`run_comparison` and what they measure. Build it with :func:`run_comparison`."""

    scenario: object
    runs: dict
    poisoned: dict
    poison: tuple
    memory: pd.DataFrame
    downtime: dict | None = None
    pending: list = field(default_factory=list)

    def recovery(self) -> dict:
        """Events each line needs after the drift to be back near its accuracy before it."""
        return {name: events_to_recover(tl) for name, tl in self.runs.items()}

    def poison_drop(self) -> dict:
        """Accuracy points lost on the true labels, from the poisoning to 500 events after it."""
        start, stop = self.poison
        truth = self.scenario.y
        span = slice(start, stop + 500)
        drops = {}
        for name, tl in self.poisoned.items():
            drops[name] = 100 * (_accuracy(self.runs[name].y_pred, truth, span) - _accuracy(tl.y_pred, truth, span))
        return drops

    def compute(self) -> pd.DataFrame:
        """Cumulative training compute (rows processed) per event, one column per line."""
        return pd.DataFrame({name: cumulative_compute(tl) for name, tl in self.runs.items()})

    def measures(self) -> pd.DataFrame:
        """The measured values behind the table: one row per measure, one column per line."""
        compute = self.compute()
        half = len(compute) // 2
        rows = {}
        for name in LINES:
            tl = self.runs[name]
            retrains = tl.retrains
            offline = float(retrains["seconds"].sum()) + sum(e.seconds for e in tl.log if e.kind == "train")
            rows[name] = {
                "offline training seconds": offline,
                "learning seconds while serving": tl.learn_seconds - float(retrains["seconds"].sum()),
                "retrains": len(retrains),
                "model versions": int(tl.model_version.max()),
                "memory held at the end (MB)": self.memory.loc["held at the end (MB)", name],
                "memory growth, 4x the data": self.memory.loc["growth with 4x the data", name],
                "events to recover after the drift": self.recovery()[name],
                "accuracy after the drift (%)": 100 * tl.window_score(tl.drift_at[0]),
                "training compute, 2nd half / 1st half": compute[name].iloc[-1] / compute[name].iloc[half] - 1,
                "moving parts": len(MOVING_PARTS[name]),
            }
        frame = pd.DataFrame(rows)
        drops = self.poison_drop()
        frame.loc["accuracy drop when poisoned (points)"] = [drops.get(n, np.nan) for n in frame.columns]
        frame.loc["... with guardrails (points)"] = [drops.get(f"{n}, guardrails", np.nan) for n in frame.columns]
        return frame

    def table(self) -> pd.DataFrame:
        """The notes' comparison table, each cell the notes' words and the value measured here."""
        m = self.measures()
        pending = " (pending: {})".format(", ".join(self.pending)) if self.pending else ""

        def cell(name, words, value):
            return f"{words}: {value}"

        table = {}
        for name in m.columns:
            c = m[name]
            batchy = name.startswith("batch")
            recover = c["events to recover after the drift"]
            recover = "not within the stream" if recover is None or pd.isna(recover) else f"{int(recover):,} events"
            table[name] = {
                "where training happens": cell(name, "offline, away from the server" if batchy else
                                               ("offline from disk, then on the server" if "core" in name
                                                else "on the server, per event"),
                                               f"{c['offline training seconds']:.2f} s offline, "
                                               f"{c['learning seconds while serving']:.2f} s while serving"),
                "how data is handled": cell(name, "all data kept, all refitted" if name == "batch" else
                                            ("all data kept, a recent window refitted" if batchy else
                                             ("read in chunks from disk, then one event at a time" if "core" in name
                                              else "one event at a time, then discarded")),
                                            f"{c['memory held at the end (MB)']:.2f} MB held at the end"),
                "how the model is updated": cell(name, "retrained from scratch, periodically" if name == "batch" else
                                                 ("retrained when a drift alarm fires" if batchy else
                                                  "updated in place with every event"),
                                                 f"{int(c['retrains'])} retrains, {int(c['model versions']):,} versions"),
                "downtime": self._downtime_cell(name),
                "memory usage": cell(name, "grows with the data" if batchy else "bounded",
                                     f"x{c['memory growth, 4x the data']:.1f} with 4x the data"),
                "adaptability": cell(name, "waits for a retrain" if batchy else "adapts with every event",
                                     f"{recover} to recover; {c['accuracy after the drift (%)']:.1f}% after the drift"),
                "risk": cell(name, "bad data is diluted in the whole set" if batchy else
                             "can learn bad patterns: needs monitoring", _risk(c)),
                "complexity": cell(name, "low" if batchy else "higher", f"{int(c['moving parts'])} moving parts"),
            }
        frame = pd.DataFrame(table)
        frame.columns.name = "measured on the same stream" + pending
        return frame

    def _downtime_cell(self, name: str) -> str:
        if self.downtime is None:
            words = "a redeploy per retrain" if name.startswith("batch") else "none: updated in place"
            return f"{words}: pending (the server's measurement has not landed)"
        return self.downtime[name]


def _accuracy(pred, truth, span) -> float:
    pred, truth = list(pred)[span], list(truth)[span]
    return float(np.mean([p == y for p, y in zip(pred, truth)]))


def _risk(c) -> str:
    drop, guard = c["accuracy drop when poisoned (points)"], c["... with guardrails (points)"]
    if pd.isna(drop):
        return "as online (not rerun)"
    text = f"-{drop:.1f} points when poisoned"
    return text if pd.isna(guard) else f"{text}, -{guard:.1f} with guardrails"
