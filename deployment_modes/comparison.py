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
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.preprocessing import StandardScaler

from ._checks import positive_int

from .online import events_to_recover
from .timeline import Timeline

__all__ = ["AlarmThenCollect", "Comparison", "LINES", "LeanLogisticRegression", "LeanSGDClassifier", "MOVING_PARTS",
           "cumulative_compute", "measure_downtime", "out_of_core_then_online", "real_world_examples",
           "run_comparison", "simulate_deployed", "value_of_freshness"]

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


class _LeanPredict:
    """``predict`` of a linear classifier as one matrix product, without scikit-learn's per-call checks.

    A deployment predicting one event at a time has checked the event already, and the checks
    cost far more than the product. The predictions are the same; fitting is unchanged.
    """

    def predict(self, X):
        scores = np.asarray(X, dtype=float) @ self.coef_.T + self.intercept_
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


class LeanLogisticRegression(_LeanPredict, LogisticRegression):
    """scikit-learn's ``LogisticRegression`` whose ``predict`` is one matrix product (same predictions).

    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> lean = LeanLogisticRegression().fit(X, y)
    >>> lean.predict(X).tolist() == LogisticRegression().fit(X, y).predict(X).tolist()
    True
    """


class LeanSGDClassifier(_LeanPredict, SGDClassifier):
    """scikit-learn's ``SGDClassifier`` whose ``predict`` is one matrix product (same predictions).

    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> lean = LeanSGDClassifier(random_state=0).fit(X, y)
    >>> lean.predict(X).tolist() == SGDClassifier(random_state=0).fit(X, y).predict(X).tolist()
    True
    """


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


def cumulative_compute(timeline) -> np.ndarray:
    """Rows processed by training up to each event: every (re)fit's rows, plus each in-place update's.

    A batch retrain from scratch counts all the rows it fits. An online update counts the events
    it learned: one per event, or a mini-batch's worth when it learns in mini-batches (an in-place
    version change covers the events since the previous one). The first, offline training counts
    at the first event.

    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> sc = dm.scenarios.house_prices(n_initial=100, n_stream=300)
    >>> cumulative_compute(dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=100), metrics.MAE()))[[0, 99, -1]]
    array([ 100,  300, 1000])
    """
    timeline = _check_timeline(timeline)
    n = len(timeline)
    rows = np.zeros(n, dtype=np.int64)
    refit = np.zeros(n, dtype=bool)
    for entry in timeline.log:
        if entry.kind in ("train", "retrain"):
            at = min(max(entry.at, 1), n) - 1
            rows[at] += entry.rows
            refit[at] |= entry.kind == "retrain"
    version = np.asarray(timeline.model_version, dtype=np.int64)
    before = np.concatenate([[1], version[:-1]])
    last = -1
    for i in np.flatnonzero((version > before) & ~refit):
        rows[i] += i - last
        last = i
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
        truth, stop = self.scenario.y, stop + 500
        return {name: 100 * (self.runs[name].window_score(start, stop, y_true=truth)
                             - tl.window_score(start, stop, y_true=truth))
                for name, tl in self.poisoned.items()}

    def true_rolling(self, name: str, *, window: int = 200) -> np.ndarray:
        """Rolling accuracy of the poisoned run ``name`` against the true (unpoisoned) labels."""
        if name not in self.poisoned:
            raise ValueError(f"name must be one of the poisoned runs {sorted(self.poisoned)}, got {name!r}")
        window = positive_int(window, "window")
        correct = np.array([p == y for p, y in zip(self.poisoned[name].y_pred, self.scenario.y)], dtype=float)
        return pd.Series(correct).rolling(window, min_periods=1).mean().to_numpy()

    def compute(self) -> pd.DataFrame:
        """Cumulative training compute (rows processed) per event, one column per line."""
        return pd.DataFrame({name: cumulative_compute(tl) for name, tl in self.runs.items()})

    def measures(self) -> pd.DataFrame:
        """The measured values behind the table: one row per measure, one column per line."""
        compute, recovery = self.compute(), self.recovery()
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
                "model updates per event": (int(tl.model_version.max()) - 1) / len(tl),
                "memory held at the end (MB)": self.memory.loc["held at the end (MB)", name],
                "memory growth with the data": self.memory.loc["growth with the data", name],
                "events to recover after the drift": recovery[name],
                "accuracy after the drift (%)": 100 * tl.window_score(tl.drift_at[0]),
                "training compute, 2nd half / 1st half": _halves(compute[name].to_numpy()),
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
            return f"{words}: {'pending' if 'nan' in value.split() or 'xnan' in value else value}"

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
                                                  ("updated in place, every few events" if "core" in name else
                                                   "updated in place with every event")),
                                                 f"{int(c['retrains'])} retrains, {int(c['model versions']):,} versions, "
                                                 + _per_event(c["model updates per event"])),
                "downtime": self._downtime_cell(name),
                "memory usage": cell(name, "grows with the data" if batchy else "bounded",
                                     f"x{c['memory growth with the data']:.1f} as the data grows x{self.memory.attrs['data growth']:.0f}"),
                "adaptability": cell(name, "waits for a retrain" if batchy else "adapts with every event",
                                     f"{recover} to recover; {c['accuracy after the drift (%)']:.1f}% after the drift"),
                "risk": cell(name, "bad data is diluted in the whole set" if name == "batch" else
                             ("retrains on whatever follows an alarm" if batchy else
                              "can learn bad patterns: needs monitoring"), _risk(c)),
                "complexity": cell(name, "low" if batchy else "higher", f"{int(c['moving parts'])} moving parts"),
            }
        frame = pd.DataFrame(table)
        frame.columns.name = "measured on the same stream" + pending
        return frame

    def _downtime_cell(self, name: str) -> str:
        if self.downtime is None:
            words = "a redeploy per retrain" if name.startswith("batch") else "none: updated in place"
            return f"{words}: pending (not measured)"
        d = self.downtime
        if name.startswith("batch"):
            naive, swap = d["naive"], d["swap"]
            return (f"a redeploy per retrain: naive restart {naive['seconds']:.1f} s down "
                    f"({naive['failed']:,} of {naive['requests']:,} requests failed); "
                    f"atomic swap {swap['seconds']:.1f} s ({swap['failed']} failed)")
        online = d["online"]
        return (f"none, updated in place: {online['seconds']:.1f} s down, {online['failed']} of "
                f"{online['requests']:,} requests failed while it learned")


def _per_event(rate: float) -> str:
    if rate <= 0:
        return "no update"
    every = round(1 / rate)
    return "an update per event" if every <= 1 else f"an update every {every:,} events"


def _halves(cumulative) -> float:
    """Training compute in the second half of the stream over the first half (the first training excluded).

    Linear growth (a constant cost per event) gives 1; a cost per retrain that grows with the data
    kept (quadratic in total) gives up to 3.
    """
    half = len(cumulative) // 2
    first = cumulative[half - 1] - cumulative[0]
    return float((cumulative[-1] - cumulative[half - 1]) / first) if first else float("nan")


def _risk(c) -> str:
    drop, guard = c["accuracy drop when poisoned (points)"], c["... with guardrails (points)"]
    if pd.isna(drop):
        return "as online (not rerun)"
    text = f"-{drop:.1f} points when poisoned"
    return text if pd.isna(guard) else f"{text}, -{guard:.1f} with guardrails"


def _held_mb(obj) -> float:
    """Memory an object holds, as the size of its pickle (MB): the model and whatever data it keeps."""
    import pickle

    return len(pickle.dumps(obj)) / 2**20


def _stream_through(deployment, events) -> None:
    for x, y in events:
        deployment.learn_one(x, y)


def _memory(scenario, make_batch, make_online, chunk_mb) -> pd.DataFrame:
    """Held memory after the initial data and after the whole stream, per line; and the growth ratio."""
    events = list(scenario)
    rows = {}
    for name, make in [("batch", make_batch), ("online", make_online)]:
        dep = make()
        dep.fit_initial(*scenario.initial)
        start = _held_mb(dep)
        _stream_through(dep, events)
        rows[name] = (_held_mb(dep), _held_mb(dep) / start)
    rows["batch, drift-triggered"] = rows["batch"]  # it keeps every row too; only its refits use a window
    first, last = chunk_mb
    rows["out-of-core, then online"] = (max(last, rows["online"][0]), last / first)
    frame = pd.DataFrame(rows, index=["held at the end (MB)", "growth with the data"])
    frame.attrs["data growth"] = (len(scenario.y_initial) + len(events)) / len(scenario.y_initial)
    return frame[list(LINES)]


class _Standardize:
    """Standardize events (a list of dicts) or chunks (an array) with fixed means and spreads."""

    def __init__(self, columns, mean, scale):
        self.columns, self.mean, self.scale = columns, np.asarray(mean), np.asarray(scale)

    def __call__(self, X):
        if isinstance(X, list):
            X = [[x[c] for c in self.columns] for x in X]
        return (np.asarray(X, dtype=float) - self.mean) / self.scale


def out_of_core_then_online(scenario, directory, *, chunk_rows: int = 250, batch_size: int = 10, seed: int = 0,
                            memory: bool = False):
    """Out-of-core, then online: write ``scenario.initial`` to ``directory`` as CSV, train on it by chunks, deploy.

    The first training reads the file twice, ``chunk_rows`` rows at a time: once for the features'
    means and spreads (``StandardScaler.partial_fit``), once to learn (scikit-learn's SGD,
    ``partial_fit`` per chunk, on standardized features); the returned :class:`~deployment_modes.OnlineDeployment` continues from that model in
    mini-batches of ``batch_size`` events: replay the stream with :func:`simulate_deployed`. With
    ``memory=True`` the initial data plus the stream is trained on too, and the largest chunk in
    memory (MB) for both sizes is returned as well: ``(deployment, (mb_initial, mb_all))``.

    >>> import tempfile, deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=300, n_stream=200, drift_at=100)
    >>> dep = out_of_core_then_online(sc, tempfile.mkdtemp(), chunk_rows=100)
    >>> dep.model_version, dep.log[0].detail
    (1, 'out-of-core, 3 chunks')
    """
    from pathlib import Path

    from .chunks import read_chunks
    from .out_of_core import OutOfCoreTrainer

    chunk_rows, batch_size = positive_int(chunk_rows, "chunk_rows"), positive_int(batch_size, "batch_size")
    X0, y0 = scenario.initial
    classes = sorted(set(np.unique(y0).tolist()) | set(np.unique(scenario.y).tolist()))

    def train(frame, name):
        path = Path(directory) / name
        frame.to_csv(path, index=False)

        def chunks():  # the events reach the deployed model as plain values: train on plain arrays too
            return ((X.to_numpy(dtype=float), y) for X, y in read_chunks(path, "y", chunk_rows=chunk_rows))

        scaler = StandardScaler()
        for X, _ in chunks():  # a first pass for the features' means and spreads, a second to learn
            scaler.partial_fit(X)
        # the online line's learner: logistic loss, plain SGD at learning rate 0.05
        model = LeanSGDClassifier(loss="log_loss", learning_rate="constant", eta0=0.05, random_state=seed)
        transform = _Standardize(list(X0.columns), scaler.mean_, scaler.scale_)
        return OutOfCoreTrainer(model, classes=classes, transform=transform).fit(chunks())

    trainer = train(X0.assign(y=y0), "initial.csv")
    deployment = trainer.to_online(batch_size=batch_size)
    if not memory:
        return deployment
    bigger = train(pd.concat([X0.assign(y=y0), scenario.X.assign(y=scenario.y)]), "initial_and_stream.csv")
    return deployment, (float(trainer.history["chunk_mb"].max()), float(bigger.history["chunk_mb"].max()))


def run_comparison(seed: int = 0, *, n_initial: int = 1000, n_stream: int = 4000, drift_at: int = 2000,
                   retrain_every: int = 500, collect: int = 300, poison_start: int = 1000,
                   poison_length: int = 300, chunk_rows: int = 250, online_batch: int = 10,
                   downtime: dict | None = None, directory=None) -> Comparison:
    """Run every line on one drifting stream, and the online and batch lines on it poisoned.

    The stream is :func:`~deployment_modes.scenarios.drifting_classification` (``seed``, sizes,
    concept change at ``drift_at``). Lines: batch retrained from scratch every ``retrain_every``
    events on all the data; batch retrained on the last ``collect`` rows ``collect`` events after
    a drift alarm (:class:`AlarmThenCollect`); online (river logistic regression, one update per
    event), without and with guardrails (checkpoints every 200 events, rollback and a pause on an
    alarm); out-of-core then online (the initial data written to disk and learned ``chunk_rows``
    rows at a time by scikit-learn's SGD, then online in mini-batches of ``online_batch`` events,
    one ``partial_fit`` each). The poisoned stream has wrong labels for ``poison_length``
    events from ``poison_start``. ``directory`` holds the files (default: a temporary one).
    ``downtime`` is :func:`measure_downtime`'s result for the downtime row (it runs real servers,
    too slow for every build: ``benchmarks/comparison.py`` measures it); ``None`` marks the row pending.

    >>> c = run_comparison(n_initial=300, n_stream=1200, drift_at=800, retrain_every=300, poison_start=100,
    ...                    poison_length=100, chunk_rows=100)
    >>> c.table().shape
    (8, 4)
    """
    import sklearn
    import tempfile

    from river import metrics

    from .batch import BatchDeployment
    from .online import OnlineDeployment, sgd_model
    from .scenarios import drifting_classification, poison_labels
    from .timeline import compare

    poison_start, poison_length = positive_int(poison_start, "poison_start"), positive_int(poison_length, "poison_length")
    if downtime is not None and not (isinstance(downtime, dict) and {"naive", "swap", "online"} <= set(downtime)):
        raise TypeError("downtime must be the dict measure_downtime returns (naive, swap, online)")
    if isinstance(drift_at, int) and poison_start + poison_length + 500 > drift_at:
        raise ValueError("poison_start + poison_length must end 500 events before drift_at, so that the "
                         "poisoning and the drift are measured apart")
    scenario = drifting_classification(seed=seed, n_initial=n_initial, n_stream=n_stream, drift_at=drift_at)
    poisoned = poison_labels(scenario, poison_start, poison_length, seed=seed)

    def model():
        return sgd_model("classification", 0.05)

    def batch():
        return BatchDeployment(LeanLogisticRegression(), retrain_every=retrain_every)

    def triggered():
        return BatchDeployment(LeanLogisticRegression(), window=collect, trigger=AlarmThenCollect(collect=collect))

    def guarded():
        return OnlineDeployment(model(), checkpoint_every=200, pause=300)

    pending = []
    with tempfile.TemporaryDirectory() as scratch, \
            sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        try:
            ooc, chunk_mb = out_of_core_then_online(scenario, directory or scratch, chunk_rows=chunk_rows,
                                                    batch_size=online_batch, seed=seed, memory=True)
            ooc_line = simulate_deployed(scenario, ooc, metrics.Accuracy(), label="out-of-core, then online")
        except ImportError:
            pending.append("out-of-core trainer")
            ooc_line, chunk_mb = None, (np.nan, np.nan)
        runs = compare(scenario, {
            "batch": batch(),
            "batch, drift-triggered": triggered(),
            "online": OnlineDeployment(model()),
            "online, guardrails": guarded(),
        }, metrics.Accuracy())
        if ooc_line is None:
            ooc_line = dataclasses.replace(runs["online"], label="out-of-core, then online")
        runs["out-of-core, then online"] = ooc_line
        poisoned_runs = compare(poisoned, {"batch": batch(), "batch, drift-triggered": triggered(),
                                           "online": OnlineDeployment(model()), "online, guardrails": guarded()},
                                metrics.Accuracy())
        memory = _memory(scenario, lambda: BatchDeployment(LeanLogisticRegression()),
                         lambda: OnlineDeployment(model()), chunk_mb)
    return Comparison(scenario, runs, poisoned_runs, (poison_start, poison_start + poison_length), memory,
                      downtime, pending + ([] if downtime else ["model server downtime"]))


def simulate_deployed(scenario, deployment, metric, *, label: str):
    """:func:`~deployment_modes.simulate` for a deployment already trained (no ``fit_initial``).

    The stream of ``scenario`` is replayed as it is; the timeline keeps the scenario's times and drifts.

    >>> import tempfile, deployment_modes as dm
    >>> from river import metrics
    >>> sc = dm.scenarios.drifting_classification(n_initial=300, n_stream=200, drift_at=100)
    >>> tl = simulate_deployed(sc, out_of_core_then_online(sc, tempfile.mkdtemp()), metrics.Accuracy(), label="ooc")
    >>> len(tl), tl.drift_at
    (200, (100,))
    """
    from .timeline import simulate

    tl = simulate(iter(scenario), deployment, metric, label=label)
    return dataclasses.replace(tl, times=np.asarray(scenario.times), drift_at=tuple(scenario.drift_at))


def real_world_examples(seed: int = 0, *, retrain_every: int = 250, directory=None) -> tuple[pd.DataFrame, dict]:
    """The notes' real-world examples, each backed by its scenario: ``(table, {example: runs})``.

    House prices (stable: online gains little over a batch retrain), stock trading (prices leave
    the range seen in training: the static model goes stale, online keeps up), and the text
    corpus (out-of-core trains where loading everything would not fit, then continues online).
    The two regressions' runs are ``{line: Timeline}`` dicts scored with the MAE; the corpus's is
    ``{"history": the trainer's per-chunk history, "online": the Timeline on new documents}``.
    ``directory`` holds the corpus files (default: a temporary folder, removed after).
    """
    import sklearn
    from river import metrics, neighbors
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor

    from .batch import BatchDeployment
    from .online import OnlineDeployment, sgd_model
    from .scenarios import house_prices, stock_prices
    from .timeline import compare

    retrain_every = positive_int(retrain_every, "retrain_every")
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        houses = compare(house_prices(seed=seed), {
            "batch, static": BatchDeployment(Ridge()),
            f"batch, every {retrain_every}": BatchDeployment(Ridge(), retrain_every=retrain_every),
            "online": OnlineDeployment(sgd_model("regression", 0.003)),
        }, metrics.MAE())
        stocks = compare(stock_prices("apple", lags=5, n_initial=450), {
            "batch, static": BatchDeployment(KNeighborsRegressor(n_neighbors=10)),
            f"batch, every {retrain_every}": BatchDeployment(KNeighborsRegressor(n_neighbors=10),
                                                             retrain_every=retrain_every),
            "online": OnlineDeployment(neighbors.KNNRegressor(n_neighbors=10,
                                                              engine=neighbors.LazySearch(window_size=100))),
        }, metrics.MAE())
    periodic = f"batch, every {retrain_every}"
    rows = [
        {"example": "house prices", "notes' advice": "batch is enough",
         "measured": f"MAE {houses[periodic].score:.1f} k EUR retrained every {retrain_every} sales, "
                     f"{houses['online'].score:.1f} online, {houses['batch, static'].score:.1f} static"},
        {"example": "stock trading", "notes' advice": "online: prices move fast",
         "measured": f"MAE {stocks['online'].score:.2f} USD online, {stocks[periodic].score:.2f} retrained every "
                     f"{retrain_every} days, {stocks['batch, static'].score:.2f} static"},
    ]
    corpus = _text_corpus(seed, directory)
    history, online = corpus["history"], corpus["online"]
    rows.append({"example": "text corpus", "notes' advice": "out-of-core, then online",
                 "measured": f"{history['chunk_mb'].max():.2f} MB in memory per chunk, "
                             f"{history['chunk_mb'].sum():.2f} MB to load it all ({len(history)} chunks); "
                             f"holdout accuracy {100 * history['score'].iloc[-1]:.1f}%, "
                             f"{100 * online.score:.1f}% online on {len(online)} new documents"})
    return (pd.DataFrame(rows).set_index("example"),
            {"house prices": houses, "stock trading": stocks, "text corpus": corpus})


def _text_corpus(seed: int, directory=None, *, n_docs: int = 6000, n_files: int = 6, n_new: int = 300) -> dict:
    """Out-of-core training on a text corpus written to disk, then online on ``n_new`` new documents."""
    import tempfile

    import sklearn
    from river import metrics
    from sklearn.linear_model import SGDClassifier

    from .chunks import read_chunks
    from .corpus import write_corpus
    from .out_of_core import HashedText, OutOfCoreTrainer
    from .timeline import simulate

    with tempfile.TemporaryDirectory() as scratch, \
            sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        corpus = write_corpus(directory or scratch, n_docs=n_docs, n_files=n_files, n_test=n_new, seed=seed)
        X, y = next(iter(read_chunks(corpus.test, corpus.target, chunk_rows=n_new, columns=[corpus.text])))
        trainer = OutOfCoreTrainer(SGDClassifier(random_state=seed), classes=list(corpus.topics),
                                   transform=HashedText(corpus.text, n_features=2**12), holdout=(X, y))
        trainer.fit(read_chunks(corpus.train, corpus.target, chunk_rows=n_docs // n_files, columns=[corpus.text]))
        online = simulate(list(zip(X.to_dict("records"), y.tolist())), trainer.to_online(), metrics.Accuracy(),
                          label="out-of-core, then online", window=50)
    return {"history": trainer.history, "online": online}


def value_of_freshness(scenario, intervals=(250, 500, 1000, 2000), *, window: int | None = 1000) -> pd.DataFrame:
    """Accuracy after the drift and compute, for batch retrained every ``k`` events, ``k`` in ``intervals``.

    :func:`~deployment_modes.sweep_retrain_interval` with :class:`LeanLogisticRegression` on the
    last ``window`` rows (``None``: all the data), one row per interval.

    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=200, n_stream=600, drift_at=300)
    >>> value_of_freshness(sc, [200, 400], window=300)["retrains"].tolist()
    [3, 1]
    """
    import sklearn
    from river import metrics

    from .batch import sweep_retrain_interval

    if not intervals or any(k is None for k in intervals):
        raise ValueError("intervals must be a non-empty list of retrain intervals (events)")
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return sweep_retrain_interval(scenario, LeanLogisticRegression(), list(intervals), metrics.Accuracy(),
                                      window=window)


def measure_downtime(scenario, *, n_events: int = 2000, interval: float = 0.005) -> dict:
    """Downtime of each mode on a real model server (``deployment_modes.serve``), with a client probing.

    A batch server stores ``n_events`` events of ``scenario`` and is redeployed twice while a
    :class:`~deployment_modes.serve.Probe` asks for a prediction every ``interval`` seconds:
    atomically (``POST /deploy``: retrain aside, swap in one assignment) and naively (stop,
    retrain, start). An online server learns the same events while the probe asks. Returns
    ``{"naive": ..., "swap": ..., "online": ...}``, each :func:`~deployment_modes.serve.downtime`'s
    summary plus ``"seconds_measured"``. Needs the ``serve`` extra; the servers are always stopped.
    """
    import tempfile
    import time

    import httpx

    from . import durable, serve
    from .batch import BatchDeployment
    from .online import OnlineDeployment, sgd_model

    n_events = positive_int(n_events, "n_events")
    events = [{"x": x, "y": y} for x, y in scenario.head(min(n_events, len(scenario)))]
    probe_x = events[-1]["x"]
    results = {}

    def probed(server, action) -> dict:
        probe = serve.Probe(server.url, probe_x, interval=interval).start()
        time.sleep(0.1)
        try:
            action()
            time.sleep(0.1)
        finally:
            table = probe.stop()
        return {**serve.downtime(table), "seconds_measured": float(table["sent"].iloc[-1])}

    with tempfile.TemporaryDirectory() as folder:
        durable.init_state(folder, BatchDeployment(LeanLogisticRegression()), *scenario.initial, mode="batch")
        server = serve.start(folder)
        try:
            httpx.post(server.url + "/learn_many", json={"events": events}, timeout=60).raise_for_status()
            results["swap"] = probed(server, lambda: httpx.post(server.url + "/deploy", timeout=60).raise_for_status())
            restarted = []
            results["naive"] = probed(server, lambda: restarted.append(serve.naive_redeploy(server, folder)))
            server = restarted[0] if restarted else server
        finally:
            server.stop()
    with tempfile.TemporaryDirectory() as folder:
        durable.init_state(folder, OnlineDeployment(sgd_model("classification", 0.05)), *scenario.initial,
                           mode="online")
        with serve.start(folder) as server:
            def learn():
                for i in range(0, len(events), 100):
                    httpx.post(server.url + "/learn_many", json={"events": events[i:i + 100]},
                               timeout=60).raise_for_status()
            results["online"] = probed(server, learn)
    return results
