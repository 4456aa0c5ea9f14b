"""The comparison: every mode on the same scenarios and seeds, and the notes' table rebuilt from the runs.

:func:`run_comparison` runs batch (periodic retrains on all the data), drift-triggered batch,
online (with and without guardrails) and out-of-core then online on one drifting stream, and
the online lines again on the same stream with a burst of poisoned labels. The returned
:class:`Comparison` measures each row of the notes' comparison table from those runs
(:meth:`Comparison.measures`) and writes the table (:meth:`Comparison.table`).

Defined in the Comparison chapter (``book/comparison.ipynb``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._checks import positive_int
from .compute import cumulative_compute, retrain_costs
from .lean import LeanLogisticRegression
from .online_experiments import LEARNING_RATE
from .timeline import events_to_recover

__all__ = [
    "CHAPTER_SIZES",
    "COMPUTE_PLACES",
    "Comparison",
    "LINES",
    "GUARDRAILS",
    "guarded_online",
    "production_parts",
    "chunked_training_risk",
    "run_comparison",
    "value_of_freshness",
]

#: The Comparison chapter's sizes: smaller than ``run_comparison``'s defaults (the other chapters'
#: stream: 1,000 + 4,000 events, drift at 2,000), so that five seeds fit the page's time.
CHAPTER_SIZES = dict(
    n_initial=500,
    n_stream=1500,
    drift_at=750,
    retrain_every=500,
    collect=200,
    poison_start=100,
    poison_length=150,
    chunk_rows=100,
    online_batch=10,
)

#: Where training compute runs (``where`` of :func:`~deployment_modes.cumulative_compute`), as
#: the measures name it: ``"training compute{label} (seconds)"``.
COMPUTE_PLACES = {"all": "", "offline": " offline", "serving": " on the serving machine"}

#: The lines of the comparison, in the order of the table's columns.
LINES = ("batch", "batch, drift-triggered", "online", "out-of-core, then online")

#: The guardrails of the "online, guardrails" line: checkpoints every 200 events, a pause of at most 300.
GUARDRAILS = dict(checkpoint_every=200, max_pause=300)


def guarded_online(model=None, **kwargs):
    """The comparison's guarded online deployment: monitored, with rollback and pause (:data:`GUARDRAILS`).

    Parameters
    ----------
    model
        A river model, or a scikit-learn one with ``partial_fit`` (default: the online line's
        logistic regression, learning rate ``LEARNING_RATE``).
    **kwargs
        Passed to :class:`~deployment_modes.OnlineDeployment` (``batch_size``...).

    Examples
    --------
    >>> list(guarded_online().moving_parts)[-3:]
    ['checkpoints of the model', 'rollback to a checkpoint', 'pause of learning, and its resume']
    """
    from .guardrails import Pause, Rollback
    from .online import OnlineDeployment, sgd_model

    model = sgd_model("classification", LEARNING_RATE) if model is None else model
    core = OnlineDeployment(model, monitor=True, **kwargs)
    rollback = Rollback(core, checkpoint_every=GUARDRAILS["checkpoint_every"])
    return Pause(rollback, max_pause=GUARDRAILS["max_pause"])


def production_parts(deployment) -> dict:
    """The moving parts a team runs for ``deployment`` in production, as ``{part: when}``.

    The deployment's own ``moving_parts``; for an online deployment without a monitor (the
    online and out-of-core lines of the comparison), those of :func:`guarded_online` are added:
    the notes say online learning "requires monitoring", and the risk row shows why. The
    complexity row counts them; so do the Online and Out-of-core chapters.

    Parameters
    ----------
    deployment
        A deployment with a ``moving_parts`` property.

    Examples
    --------
    >>> from deployment_modes import BatchDeployment, OnlineDeployment, sgd_model
    >>> len(production_parts(BatchDeployment(LeanLogisticRegression(), retrain_every=500)))
    5
    >>> len(production_parts(OnlineDeployment(sgd_model("classification", 0.05))))
    6
    """
    parts = getattr(deployment, "moving_parts", None)
    if not isinstance(parts, dict):
        raise TypeError(
            f"deployment must have a moving_parts dict, got {type(deployment).__name__}"
        )
    if getattr(deployment, "monitor", "n/a") is None:  # an online deployment nobody watches
        guards = guarded_online().moving_parts
        parts = {**parts, **{part: when for part, when in guards.items() if part not in parts}}
    return dict(parts)


@dataclass
class Comparison:
    """The runs of :func:`run_comparison` and what they measure. Build it with :func:`run_comparison`.

    Parameters
    ----------
    scenario
        The drifting stream every line ran on.
    runs
        ``{line: Timeline}`` on the stream.
    poisoned
        ``{line: Timeline}`` on the stream with wrong labels, replayed up to 500 events after
        the burst, where its cost is measured (:meth:`poison_drop`).
    poison
        The poisoned range ``(start, stop)``.
    memory
        Memory held per line, and its growth with the data.
    downtime
        :func:`~deployment_modes.downtime.measure_downtime`'s result, or ``None``.
    chunks
        How many chunks the out-of-core line learned its initial data in.
    chunk_rows
        Rows per chunk of the out-of-core line.
    chunk_risk
        What order and a poisoned chunk cost the chunked training
        (:func:`chunked_training_risk`).
    baseline
        The naive baseline's timeline on the stream (``NaiveBaseline("majority")``), the line every
        mode must beat; not one of the modes, so not in ``runs`` nor in the tables.
    moving_parts
        ``{line: {part: when}}``: :func:`production_parts` of each line's deployment.

    Examples
    --------
    >>> c = run_comparison(n_initial=300, n_stream=1200, drift_at=800, retrain_every=300, poison_start=100,
    ...                    poison_length=100, chunk_rows=100)  # doctest: +SKIP
    >>> c.measures().loc["retrains"]  # doctest: +SKIP
    """

    scenario: object
    runs: dict
    poisoned: dict
    poison: tuple
    memory: pd.DataFrame
    downtime: dict | None = None
    chunks: int = 0
    chunk_rows: int = 0
    chunk_risk: dict = field(default_factory=dict)
    baseline: object = None
    moving_parts: dict = field(default_factory=dict)
    _measured: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)
    _drops: dict | None = field(default=None, init=False, repr=False, compare=False)

    def recovery(self) -> dict:
        """Events each line needs after the drift to be back near its accuracy before it."""
        return {name: events_to_recover(tl) for name, tl in self.runs.items()}

    def poison_drop(self) -> dict:
        """Accuracy points lost on the true labels, from the poisoning to 500 events after it.

        Measured once (the runs do not change), then a copy at every call.
        """
        if self._drops is None:
            start, stop = self.poison
            truth, stop = self.scenario.y, stop + 500
            self._drops = {
                name: 100
                * (
                    self.runs[name].window_score(start, stop, y_true=truth)
                    - tl.window_score(start, stop, y_true=truth[: len(tl)])
                )
                for name, tl in self.poisoned.items()
            }
        return dict(self._drops)

    def true_rolling(self, name: str, *, window: int = 200) -> np.ndarray:
        """Rolling accuracy of the poisoned run ``name`` against the true (unpoisoned) labels, per event replayed."""
        if name not in self.poisoned:
            raise ValueError(
                f"name must be one of the poisoned runs {sorted(self.poisoned)}, got {name!r}"
            )
        window = positive_int(window, "window")
        correct = np.array(
            [p == y for p, y in zip(self.poisoned[name].y_pred, self.scenario.y)], dtype=float
        )
        return pd.Series(correct).rolling(window, min_periods=1).mean().to_numpy()

    def compute(self, unit: str = "rows", where: str = "all") -> pd.DataFrame:
        """Training compute up to each event (:func:`~deployment_modes.cumulative_compute`), a column per line."""
        return pd.DataFrame(
            {name: cumulative_compute(tl, unit, where) for name, tl in self.runs.items()}
        )

    def measures(self) -> pd.DataFrame:
        """The measured values behind the table: one row per measure, one column per line.

        Measured once (the runs do not change), then a copy of that frame at every call.
        """
        if self._measured is None:
            self._measured = self._measure()
        return self._measured.copy()

    def _measure(self) -> pd.DataFrame:
        compute, recovery = self.compute(), self.recovery()
        rows = {}
        for name in LINES:
            tl = self.runs[name]
            rows[name] = {
                "retrains": len(tl.retrains),
                "model versions": int(tl.model_version.max()),
                "model updates per event": (int(tl.model_version.max()) - 1) / len(tl),
                "memory held at the end (MB)": self.memory.loc["held at the end (MB)", name],
                "memory growth with the data": self.memory.loc["growth with the data", name],
                "events to recover after the drift": recovery[name],
                "accuracy after the drift (%)": 100 * tl.window_score(tl.drift_at[0]),
                "training compute, 2nd half / 1st half": _halves(compute[name].to_numpy()),
                "training compute (rows)": int(compute[name].iloc[-1]),
                **{
                    f"training compute{label} (seconds)": float(
                        cumulative_compute(tl, "seconds", where)[-1]
                    )
                    for where, label in COMPUTE_PLACES.items()
                },
                "moving parts": len(self.moving_parts[name]),
            }
        frame = pd.DataFrame(rows)
        drops = self.poison_drop()
        frame.loc["accuracy drop when poisoned (points)"] = [
            drops.get(n, np.nan) for n in frame.columns
        ]
        frame.loc["... with guardrails (points)"] = [
            drops.get(f"{n}, guardrails", np.nan) for n in frame.columns
        ]
        return frame

    def table(self, notes: dict):
        """The notes' comparison table rated on this run: see :func:`deployment_modes.rating.rate`."""
        from .rating import rate

        return rate([self], notes, self.downtime)


def _halves(cumulative) -> float:
    """Training compute in the second half of the stream over the first half (the first training excluded).

    Linear growth (a constant cost per event) gives 1; a cost per retrain that grows with the data
    kept (quadratic in total) gives up to 3.
    """
    half = len(cumulative) // 2
    first = cumulative[half - 1] - cumulative[0]
    return float((cumulative[-1] - cumulative[half - 1]) / first) if first else float("nan")


def _held_mb(obj) -> float:
    """Memory an object holds, as the size of its pickle (MB): the model and whatever data it keeps."""
    import pickle

    return len(pickle.dumps(obj)) / 2**20


def _stream_through(deployment, events) -> None:
    for x, y in events:
        deployment.learn_one(x, y)


def _memory(scenario, make_batch, online_mb, chunk_mb) -> pd.DataFrame:
    """Held memory after the initial data and after the whole stream, per line; and the growth ratio.

    ``online_mb``: the online line's deployment measured after its first training and after the
    stream (:func:`run_comparison` measures the very deployment it ran).
    """
    events = list(scenario)
    dep = make_batch()
    dep.fit_initial(*scenario.initial)
    start = _held_mb(dep)
    _stream_through(dep, events)
    end = _held_mb(dep)
    rows = {"batch": (end, end / start), "online": (online_mb[1], online_mb[1] / online_mb[0])}
    rows["batch, drift-triggered"] = rows[
        "batch"
    ]  # it keeps every row too; only its refits use a window
    first, last = chunk_mb
    rows["out-of-core, then online"] = (max(last, rows["online"][0]), last / first)
    frame = pd.DataFrame(rows, index=["held at the end (MB)", "growth with the data"])
    frame.attrs["data growth"] = (len(scenario.y_initial) + len(events)) / len(scenario.y_initial)
    return frame[list(LINES)]


def run_comparison(
    seed: int = 0,
    *,
    n_initial: int = 1000,
    n_stream: int = 4000,
    drift_at: int = 2000,
    retrain_every: int = 500,
    collect: int = 300,
    poison_start: int = 1000,
    poison_length: int = 300,
    chunk_rows: int = 250,
    online_batch: int = 10,
    downtime: dict | None = None,
    directory=None,
) -> Comparison:
    """Run every line on one drifting stream, and the online and batch lines on it poisoned.

    The stream is :func:`~deployment_modes.scenarios.drifting_classification` (``seed``, sizes,
    concept change at ``drift_at``). Lines: batch retrained from scratch every ``retrain_every``
    events on all the data; batch retrained on the last ``collect`` rows ``collect`` events after
    a drift alarm (:class:`~deployment_modes.triggers.AlarmThenCollect`); online (river logistic
    regression, one update per
    event), without and with guardrails (checkpoints every 200 events, rollback and a pause on an
    alarm); out-of-core then online (the initial data written to disk and learned ``chunk_rows``
    rows at a time by scikit-learn's SGD, then online in mini-batches of ``online_batch`` events,
    one ``partial_fit`` each). The poisoned stream has wrong labels for ``poison_length``
    events from ``poison_start``; it is replayed up to 500 events after the burst, where its
    cost is measured (every line predicts each event from the events before it only, so the
    events after that would change nothing measured). ``directory`` holds the files (default: a temporary one).
    ``downtime`` is :func:`~deployment_modes.downtime.measure_downtime`'s result for the downtime
    row (it runs real servers,
    too slow for every build: ``benchmarks/comparison.py`` measures it, :func:`~deployment_modes.downtime.load_downtime`
    reads it). The out-of-core line is replayed on the poisoned stream too, and its first training's
    own risks are measured by :func:`chunked_training_risk`.

    Parameters
    ----------
    seed
        Seed of the stream, the poisoning and the models.
    n_initial, n_stream, drift_at
        Sizes of the initial data and the stream; the drift's position.
    retrain_every
        Events between two periodic batch retrains.
    collect
        Fresh labels the drift-triggered batch waits for after an alarm (and its window).
    poison_start, poison_length
        The burst of wrong labels.
    chunk_rows
        Rows per chunk of the out-of-core training.
    online_batch
        Events per mini-batch of the out-of-core line once online.
    downtime
        :func:`~deployment_modes.downtime.measure_downtime`'s result, or ``None``.
    directory
        Folder for the out-of-core files (default: a temporary one).

    Examples
    --------

    >>> c = run_comparison(n_initial=300, n_stream=1200, drift_at=800, retrain_every=300, poison_start=100,
    ...                    poison_length=100, chunk_rows=100)
    >>> c.measures().shape[1], sorted(c.chunk_risk)
    (4, ['poisoned chunk', 'sorted by label'])
    """
    import tempfile

    import sklearn
    from river import metrics

    from .baselines import NaiveBaseline
    from .batch import BatchDeployment
    from .batch_experiments import batch_timeline
    from .online import OnlineDeployment, sgd_model
    from .out_of_core import out_of_core_then_online
    from .scenarios import drifting_classification, poison_labels
    from .segments import simulate_by_segments
    from .timeline import compare, simulate
    from .triggers import AlarmThenCollect

    poison_start, poison_length = (
        positive_int(poison_start, "poison_start"),
        positive_int(poison_length, "poison_length"),
    )
    if downtime is not None and not (
        isinstance(downtime, dict) and {"naive", "swap", "online"} <= set(downtime)
    ):
        raise TypeError("downtime must be the dict measure_downtime returns (naive, swap, online)")
    if isinstance(drift_at, int) and poison_start + poison_length + 500 > drift_at:
        raise ValueError(
            "poison_start + poison_length must end 500 events before drift_at, so that the "
            "poisoning and the drift are measured apart"
        )
    scenario = drifting_classification(
        seed=seed, n_initial=n_initial, n_stream=n_stream, drift_at=drift_at
    )
    poisoned = poison_labels(scenario, poison_start, poison_length, seed=seed)
    poisoned = poisoned.head(min(len(poisoned), poison_start + poison_length + 500))

    def model():
        return sgd_model("classification", LEARNING_RATE)

    def batch():
        return BatchDeployment(LeanLogisticRegression(), retrain_every=retrain_every)

    def batch_line(stream):  # simulate(stream, batch()), vectorised: the same timeline
        return batch_timeline(
            stream, LeanLogisticRegression(), metrics.Accuracy(), retrain_every=retrain_every
        )

    def triggered():
        return BatchDeployment(
            LeanLogisticRegression(), window=collect, trigger=AlarmThenCollect(collect=collect)
        )

    def triggered_line(stream):  # simulate(stream, triggered()), a served segment at a time
        return simulate_by_segments(
            stream, triggered(), metrics.Accuracy(), name="batch, drift-triggered"
        )

    def guarded():
        return guarded_online(model())

    with (
        tempfile.TemporaryDirectory() as scratch,
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        ooc, chunk_mb = out_of_core_then_online(
            scenario,
            directory or scratch,
            chunk_rows=chunk_rows,
            batch_size=online_batch,
            seed=seed,
            memory=True,
        )
        chunks = int(ooc.log[0].detail.split(", ")[1].split()[0])
        poisoned_ooc = copy.deepcopy(ooc)
        ooc_line = simulate(
            scenario, ooc, metrics.Accuracy(), name="out-of-core, then online", fit_initial=False
        )
        online = OnlineDeployment(model())
        online.fit_initial(*scenario.initial)
        online_mb = [_held_mb(online)]  # its memory after the first training, then after the run
        runs = {
            "batch": batch_line(scenario),
            "batch, drift-triggered": triggered_line(scenario),
            "online": simulate(
                scenario, online, metrics.Accuracy(), name="online", fit_initial=False
            ),
        } | compare(scenario, {"online, guardrails": guarded()}, metrics.Accuracy())
        online_mb.append(_held_mb(online))
        runs["out-of-core, then online"] = ooc_line
        baseline = simulate_by_segments(
            scenario, NaiveBaseline("majority"), metrics.Accuracy(), name="naive baseline: majority"
        )
        poisoned_runs = {
            "batch": batch_line(poisoned),
            "batch, drift-triggered": triggered_line(poisoned),
        } | compare(
            poisoned,
            {"online": OnlineDeployment(model()), "online, guardrails": guarded()},
            metrics.Accuracy(),
        )
        poisoned_runs["out-of-core, then online"] = simulate(
            poisoned,
            poisoned_ooc,
            metrics.Accuracy(),
            name="out-of-core, then online",
            fit_initial=False,
        )
        memory = _memory(
            scenario, lambda: BatchDeployment(LeanLogisticRegression()), online_mb, chunk_mb
        )
        chunk_risk = chunked_training_risk(scenario, chunk_rows=chunk_rows, seed=seed)
    parts = {
        "batch": production_parts(batch()),
        "batch, drift-triggered": production_parts(triggered()),
        "online": production_parts(OnlineDeployment(model())),
        "out-of-core, then online": production_parts(ooc),
    }
    return Comparison(
        scenario,
        runs,
        poisoned_runs,
        (poison_start, poison_start + poison_length),
        memory,
        downtime,
        chunks,
        chunk_rows,
        chunk_risk,
        baseline=baseline,
        moving_parts=parts,
    )


def chunked_training_risk(scenario, *, chunk_rows: int = 250, seed: int = 0) -> dict:
    """The two risks of out-of-core training, in accuracy points lost: a poisoned chunk, and data sorted by label.

    The first training of the out-of-core line (SGD, ``partial_fit`` per chunk of ``chunk_rows``
    rows of ``scenario.initial``, standardized) is run three times: as it is; with the labels of
    its last chunk wrong (a faulty file); and on the same rows sorted by label (data written in
    order). Each is scored on the first 500 events of the stream (the same concept); the result
    is the points each bad run loses against the clean one.

    Parameters
    ----------
    scenario
        A classification scenario (its initial data is trained on, its stream scores).
    chunk_rows
        Rows per chunk.
    seed
        Seed of the SGD and of the wrong labels.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> risk = chunked_training_risk(dm.scenarios.drifting_classification(n_initial=400, n_stream=600, drift_at=550))
    >>> sorted(risk)
    ['poisoned chunk', 'sorted by label']
    """
    from .lean import LeanSGDClassifier

    chunk_rows = positive_int(chunk_rows, "chunk_rows")
    X0, y0 = scenario.initial
    X0 = X0.to_numpy(dtype=float)
    mean, scale = X0.mean(axis=0), X0.std(axis=0) + 1e-12
    X0 = (X0 - mean) / scale
    n_test = min(500, len(scenario))
    X_test = (scenario.X.iloc[:n_test].to_numpy(dtype=float) - mean) / scale
    y_test = scenario.y[:n_test]
    classes = np.unique(np.concatenate([y0, scenario.y]))
    rng = np.random.default_rng(seed)

    def accuracy(X, y) -> float:
        model = LeanSGDClassifier(
            loss="log_loss", learning_rate="constant", eta0=LEARNING_RATE, random_state=seed
        )
        for i in range(0, len(y), chunk_rows):
            model.partial_fit(X[i : i + chunk_rows], y[i : i + chunk_rows], classes=classes)
        return 100 * float(np.mean(model.predict(X_test) == y_test))

    clean = accuracy(X0, y0)
    bad = y0.copy()
    last = slice(len(bad) - chunk_rows, len(bad))
    bad[last] = [rng.choice(classes[classes != label]) for label in bad[last]]
    order = np.argsort(y0, kind="stable")
    return {
        "poisoned chunk": clean - accuracy(X0, bad),
        "sorted by label": clean - accuracy(X0[order], y0[order]),
    }


def value_of_freshness(
    scenario, intervals=(250, 500, 1000, 2000), *, window: int | None = 1000
) -> pd.DataFrame:
    """Accuracy after the drift and compute, for batch retrained every ``k`` events, ``k`` in ``intervals``.

    :func:`~deployment_modes.sweep_retrain_interval` with :class:`LeanLogisticRegression` on the
    last ``window`` rows (``None``: all the data), one row per interval; each run is the batch
    loop written out (:func:`~deployment_modes.batch_experiments.interval_timelines`, the same
    timelines as ``simulate``'s, faster, a fit on the same rows made once for all intervals).

    Parameters
    ----------
    scenario
        A classification scenario with a drift.
    intervals
        Retrain intervals (events).
    window
        Fit on the last ``window`` rows (``None``: all the data).

    Examples
    --------
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=200, n_stream=600, drift_at=300)
    >>> value_of_freshness(sc, [200, 400], window=300)["retrains"].tolist()
    [3, 1]
    """
    import sklearn
    from river import metrics

    from .batch_experiments import interval_timelines

    if (
        isinstance(intervals, (str, bytes, dict))
        or not isinstance(intervals, (list, tuple, range))
        or not intervals
        or any(k is None for k in intervals)
    ):
        raise ValueError(
            f"intervals must be a non-empty list of retrain intervals (events), got {intervals!r:.60}"
        )
    for k in intervals:
        positive_int(k, "intervals (each one)")
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        runs = interval_timelines(  # the intervals share a fit on the same rows
            scenario, LeanLogisticRegression(), metrics.Accuracy(), intervals, window=window
        )
    rows = [
        {"retrain_every": k, **retrain_costs(tl, scenario.drift_at)}
        for k, tl in zip(intervals, runs)
    ]
    return pd.DataFrame(rows)
