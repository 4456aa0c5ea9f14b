"""The quick decision guide: which deployment mode fits a situation, and why.

:func:`recommend` turns a few answers about the situation (how fast the data changes, data size
against memory, whether real-time adaptation is needed, whether stability matters more than
adaptability, how soon labels arrive) into a :class:`Recommendation`: the mode, the reasons in
words and the caveats. :func:`situation_scenario` turns the same answers into a small scenario
to simulate, so that the advice can be checked on a timeline.

Defined in the Decision guide chapter (``book/decision_guide.ipynb``).
"""

from __future__ import annotations

import functools
import html
import numbers
from dataclasses import dataclass, field

from .scenarios import Scenario, drifting_classification

__all__ = ["CHANGE", "DELAY_EVENTS", "FITS_FRACTION", "LABEL_DELAY", "MODES", "DelayedLabels", "Recommendation",
           "line_of", "recommend", "simulate_modes", "simulation_verdict", "situation_scenario"]

MODES = ("batch", "online", "out-of-core", "out-of-core, then online")
#: How fast the data changes, that is the relation between features and labels...
CHANGE = {"stable": "barely changes", "slow": "drifts slowly (months)", "fast": "changes within days or hours"}
#: How soon the true label of an event is known, from fastest to slowest.
LABEL_DELAY = ("seconds", "hours", "days", "weeks")
#: The simulation's stream has 30 events a day: a label that takes this long arrives this many events later.
DELAY_EVENTS = {"seconds": 0, "hours": 2, "days": 30, "weeks": 210}
#: The data must take at most this fraction of the memory to be trained on in memory (training copies it).
FITS_FRACTION = 0.5


@dataclass
class Recommendation:
    """The mode :func:`recommend` chose, the reasons for it and what to watch out for.

    Parameters
    ----------
    mode
        One of ``MODES``.
    reasons
        Why this mode, one sentence each.
    caveats
        What to watch out for, one sentence each.

    Examples
    --------
    >>> advice = recommend(change="fast", realtime=True, label_delay="seconds")
    >>> advice.mode, len(advice.reasons) > 0, str(advice).splitlines()[0]
    ('online', True, 'Recommended: online')
    """

    mode: str
    reasons: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"Recommended: {self.mode}"] + [f"  because {r}" for r in self.reasons]
        return "\n".join(lines + [f"  caveat: {c}" for c in self.caveats])

    def _repr_html_(self) -> str:
        items = [f"<li>because {html.escape(r)}</li>" for r in self.reasons]
        items += [f"<li><i>caveat:</i> {html.escape(c)}</li>" for c in self.caveats]
        return f"<p><b>Recommended: {html.escape(self.mode)}</b></p><ul>{''.join(items)}</ul>"


def _choice(value, options, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {list(options)}, got {type(value).__name__} {value!r}")
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return value


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def _size(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of gigabytes, got {type(value).__name__} {value!r}")
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive, finite number of gigabytes, got {value!r}")
    return float(value)


def recommend(*, change: str = "slow", data_gb: float = 1.0, memory_gb: float = 16.0,
              realtime: bool = False, prefer_stability: bool = False,
              label_delay: str = "days") -> Recommendation:
    """Recommend a deployment mode for a situation, with the reasons and the caveats.

    ``change`` is how fast the data changes (``"stable"``, ``"slow"`` or ``"fast"``);
    ``data_gb`` the training data's size and ``memory_gb`` the memory of the training machine;
    ``realtime`` whether the model must adapt to new events as they come; ``prefer_stability``
    whether stable, reproducible predictions matter more than adaptability; ``label_delay``
    how soon the true label of an event is known (``"seconds"``, ``"hours"``, ``"days"``,
    ``"weeks"``). Contradictory answers (real-time adaptation with stability first, or with
    labels that take weeks) raise ValueError.

    Parameters
    ----------
    change
        How fast the data changes: ``"stable"``, ``"slow"`` or ``"fast"``.
    data_gb
        The training data's size (GB).
    memory_gb
        The training machine's memory (GB).
    realtime
        Whether the model must adapt to new events as they come.
    prefer_stability
        Whether stable, reproducible predictions matter more than adaptability.
    label_delay
        How soon an event's true label is known: one of ``LABEL_DELAY``.

    Examples
    --------
    >>> recommend(change="stable").mode
    'batch'
    >>> recommend(change="fast", realtime=True, label_delay="seconds").mode
    'online'
    >>> recommend(change="fast", data_gb=500, memory_gb=32, label_delay="hours").mode
    'out-of-core, then online'
    >>> recommend(change="fast", realtime=True, prefer_stability=True)
    Traceback (most recent call last):
    ...
    ValueError: realtime=True and prefer_stability=True contradict each other: real-time adaptation changes the model with every event, stability keeps it fixed between releases
    """
    change = _choice(change, CHANGE, "change")
    data_gb, memory_gb = _size(data_gb, "data_gb"), _size(memory_gb, "memory_gb")
    realtime, prefer_stability = _flag(realtime, "realtime"), _flag(prefer_stability, "prefer_stability")
    label_delay = _choice(label_delay, LABEL_DELAY, "label_delay")
    if realtime and prefer_stability:
        raise ValueError("realtime=True and prefer_stability=True contradict each other: real-time adaptation "
                         "changes the model with every event, stability keeps it fixed between releases")
    if realtime and label_delay == "weeks":
        raise ValueError("realtime=True and label_delay='weeks' contradict each other: a model cannot adapt "
                         "in real time to labels that arrive weeks later")
    if realtime and change == "stable":
        raise ValueError("realtime=True and change='stable' contradict each other: there is nothing to adapt "
                         "to in real time when the data does not change")

    reasons, caveats = [], []
    too_big = data_gb > memory_gb * FITS_FRACTION
    labels_fast = LABEL_DELAY.index(label_delay) <= LABEL_DELAY.index("days")
    evolve = (realtime or change == "fast") and not prefer_stability and labels_fast
    if data_gb > memory_gb:
        reasons.append(f"the data ({data_gb:g} GB) does not fit in memory ({memory_gb:g} GB): "
                       "train chunk by chunk from disk")
    elif too_big:
        reasons.append(f"the data ({data_gb:g} GB) fills more than half the memory ({memory_gb:g} GB): "
                       "training makes copies of it (features, a converted or shuffled copy) that would not "
                       "fit; train chunk by chunk from disk")
    if too_big:
        caveats.append("chunk order matters: shuffle the chunks, or the model is biased towards the last ones")
    if evolve:
        reasons.append("real-time adaptation is needed" if realtime else
                       "the data changes fast: a model retrained now and then goes stale between retrains")
        reasons.append(f"labels arrive within {label_delay}, so every event can update the model soon after it")
        caveats.append("online learning needs monitoring: guardrails against bad data (poisoning, outliers), "
                       "drift alarms and a way to roll back")
        if label_delay == "days":
            caveats.append("labels take days: the model adapts no faster than its labels arrive")
    else:
        if change == "stable":
            reasons.append("the data barely changes: a static model stays accurate for long")
        elif prefer_stability:
            reasons.append("stable, reproducible predictions matter more than adaptability")
        elif not labels_fast:
            reasons.append("labels take weeks to arrive: updating every event gains little over a periodic retrain")
        else:
            reasons.append("the data drifts slowly and no real-time adaptation is needed: "
                           "a periodic retrain keeps up")
        if change == "fast":
            caveats.append("the data changes fast: retrain often, on a recent window, or when a drift "
                           "detector fires, or the model goes stale")
        if not too_big:
            caveats.append("each retrain fits on all the data kept: its cost grows with the data")
    if too_big:
        mode = "out-of-core, then online" if evolve else "out-of-core"
        if not evolve:
            reasons.append("the model does not need to evolve between releases: re-run the chunked training "
                           "now and then")
    else:
        mode = "online" if evolve else "batch"
    return Recommendation(mode, reasons, caveats)


def _n_initial(ratio: float) -> int:
    return int(1000 * min(max(ratio, 1.0), 4.0))


def situation_scenario(change: str = "slow", *, data_gb: float = 1.0, memory_gb: float = 16.0,
                       n_stream: int = 3000, seed: int = 0) -> Scenario:
    """A small drifting-classification scenario that mimics the situation's answers.

    ``change`` sets the drift: ``"stable"`` has none (the stream stops before it), ``"slow"``
    a gradual drift over half the stream, ``"fast"`` an abrupt one. The initial training set
    is 1,000 events, scaled up (to 4,000 at most) with ``data_gb / memory_gb``, so that a
    bigger dataset gives a bigger first training.

    Parameters
    ----------
    change
        ``"stable"``, ``"slow"`` or ``"fast"``.
    data_gb, memory_gb
        The data's size and the machine's memory (GB): their ratio sizes the first training.
    n_stream
        Events in the stream (at least 100).
    seed
        Seed of the stream.

    Examples
    --------
    >>> sc = situation_scenario("fast", n_stream=400)
    >>> sc.drift_at, len(sc), len(sc.initial[1])
    ((200,), 400, 1000)
    >>> situation_scenario("stable", n_stream=400).drift_at
    ()
    """
    from ._checks import positive_int

    change = _choice(change, CHANGE, "change")
    ratio = _size(data_gb, "data_gb") / _size(memory_gb, "memory_gb")
    n_stream = positive_int(n_stream, "n_stream")
    if n_stream < 100:
        raise ValueError(f"n_stream must be at least 100 events, got {n_stream}")
    n_initial = _n_initial(ratio)
    drift_at = n_stream // 3 if change == "slow" else n_stream // 2
    width = {"stable": 50, "slow": n_stream // 3, "fast": 50}[change]
    if change == "stable":
        whole = drifting_classification(seed=seed, n_initial=n_initial, n_stream=2 * n_stream,
                                        drift_at=2 * n_stream - 1, width=width)
        return whole.head(n_stream)
    return drifting_classification(seed=seed, n_initial=n_initial, n_stream=n_stream, drift_at=drift_at,
                                   width=width)


def line_of(mode: str) -> str:
    """The line of :func:`simulate_modes` that shows ``mode``: a static out-of-core model serves like batch.

    Parameters
    ----------
    mode
        One of ``MODES``.

    Examples
    --------
    >>> line_of("out-of-core")
    'batch'
    """
    _choice(mode, MODES, "mode")
    return {"batch": "batch", "out-of-core": "batch", "online": "online",
            "out-of-core, then online": "out-of-core, then online"}[mode]


class DelayedLabels:
    """A deployment whose labels arrive ``delay`` events late: ``learn_one`` learns the event ``delay`` events back.

    It predicts with the wrapped deployment at once; the labelled event waits in a queue until
    ``delay`` newer events have arrived, then reaches the wrapped ``learn_one``, as a label
    that takes that long to be known would.

    Parameters
    ----------
    deployment
        Any deployment (``fit_initial``, ``predict_one``, ``learn_one``).
    delay
        Events between an event and its label (0: at once).

    Examples
    --------
    >>> from river import linear_model
    >>> from deployment_modes import OnlineDeployment
    >>> dep = DelayedLabels(OnlineDeployment(linear_model.LogisticRegression()), delay=2)
    >>> scenario = situation_scenario("fast", n_stream=100)
    >>> dep.fit_initial(*scenario.initial)
    >>> for x, y in scenario.head(3):
    ...     dep.learn_one(x, y)
    >>> dep.model_version, len(dep.waiting)
    (2, 2)
    """

    def __init__(self, deployment, delay: int):
        from collections import deque

        from ._checks import has_method

        for method in ("fit_initial", "predict_one", "learn_one"):
            has_method(deployment, method, "deployment")
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            raise ValueError(f"delay must be a whole number of events >= 0, got {delay!r}")
        self.deployment, self.delay, self.waiting = deployment, delay, deque()

    def fit_initial(self, X, y) -> None:
        self.waiting.clear()
        self.deployment.fit_initial(X, y)

    def predict_one(self, x):
        return self.deployment.predict_one(x)

    def learn_one(self, x, y) -> None:
        self.waiting.append((x, y))
        if len(self.waiting) > self.delay:
            self.deployment.learn_one(*self.waiting.popleft())

    @property
    def model_version(self) -> int:
        return self.deployment.model_version

    @property
    def log(self) -> list:
        return self.deployment.log


def simulate_modes(change: str = "slow", *, data_gb: float = 1.0, memory_gb: float = 16.0,
                   label_delay: str = "seconds", n_stream: int = 3000, seed: int = 0,
                   retrain_every: int = 500) -> dict:
    """Run every mode on :func:`situation_scenario` of the answers: ``{line: Timeline}``.

    The lines are ``"batch"`` (a logistic regression retrained every ``retrain_every`` labels on
    the last 1,000 rows), ``"online"`` (river, one update per label) and ``"out-of-core, then
    online"`` (:func:`~deployment_modes.out_of_core.out_of_core_then_online`: a first training
    from disk by chunks, then updates in mini-batches of 10 events). Each label reaches its line
    :data:`DELAY_EVENTS` ``[label_delay]`` events after its event (:class:`DelayedLabels`). An
    out-of-core deployment that stays static between retrains serves like batch: it shares its
    line (see :func:`line_of`). The runs are deterministic and cached: the same answers give
    back the same timelines. :func:`simulation_verdict` reads them with the other answers.

    Parameters
    ----------
    change, data_gb, memory_gb
        The answers, as in :func:`situation_scenario`.
    label_delay
        How soon labels arrive (:data:`LABEL_DELAY`): the labels reach the lines this late
        (default ``"seconds"``: at once).
    n_stream
        Events in the stream.
    seed
        Seed of the stream and the models.
    retrain_every
        Events between two batch retrains.

    Examples
    --------
    >>> runs = simulate_modes("fast", n_stream=300, retrain_every=100)
    >>> sorted(runs), len(runs["online"])
    (['batch', 'online', 'out-of-core, then online'], 300)
    """
    from ._checks import positive_int

    change = _choice(change, CHANGE, "change")
    data_gb, memory_gb = _size(data_gb, "data_gb"), _size(memory_gb, "memory_gb")
    label_delay = _choice(label_delay, LABEL_DELAY, "label_delay")
    n_stream, retrain_every = positive_int(n_stream, "n_stream"), positive_int(retrain_every, "retrain_every")
    n_initial = _n_initial(data_gb / memory_gb)
    return dict(_simulate_modes(change, n_initial, DELAY_EVENTS[label_delay], n_stream, seed, retrain_every))


@functools.lru_cache(maxsize=64)
def _simulate_modes(change, n_initial, delay, n_stream, seed, retrain_every):
    import tempfile

    import sklearn
    from river import metrics

    from .batch import BatchDeployment
    from .lean import LeanLogisticRegression
    from .online import OnlineDeployment, sgd_model
    from .out_of_core import out_of_core_then_online
    from .timeline import compare, simulate

    scenario = situation_scenario(change, data_gb=n_initial / 1000, memory_gb=1.0, n_stream=n_stream, seed=seed)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), \
            tempfile.TemporaryDirectory() as folder:  # events are checked already
        runs = compare(scenario, {
            "batch": DelayedLabels(BatchDeployment(LeanLogisticRegression(), retrain_every=retrain_every,
                                                   window=1000), delay),
            "online": DelayedLabels(OnlineDeployment(sgd_model("classification", 0.05)), delay),
        }, metrics.Accuracy())
        deployed = DelayedLabels(out_of_core_then_online(scenario, folder, seed=seed), delay)
        runs["out-of-core, then online"] = simulate(scenario, deployed, metrics.Accuracy(),
                                                    name="out-of-core, then online", fit_initial=False)
    return runs


#: Events after the change over which "accuracy after the change" is measured.
AFTER_CHANGE = 500
#: Points by which a line must beat the others for the simulation to call it better.
MARGIN_POINTS = 1.0


def simulation_verdict(runs: dict, *, realtime: bool = False, prefer_stability: bool = False,
                       data_gb: float = 1.0, memory_gb: float = 16.0):
    """Which line the simulation favours, by the rule the Decision guide states: ``(line, table)``.

    The score is the accuracy after the change (its first :data:`AFTER_CHANGE` events) when
    ``realtime`` is asked, else the accuracy over the whole stream. With ``prefer_stability``
    only lines that keep the served model fixed between releases (batch) may be chosen; when
    the data takes more than :data:`FITS_FRACTION` of the memory, the online line (trained in
    memory) may not (the batch line then stands for a static out-of-core model). The
    best eligible line wins; a line within :data:`MARGIN_POINTS` points of a simpler one
    (batch before online before out-of-core then online) does not beat it: ``line`` is then
    the simpler one. ``table`` has one row per line: the accuracy over the stream and after
    the change (%), the model versions served, and whether it was eligible.

    Parameters
    ----------
    runs
        :func:`simulate_modes`'s result.
    realtime, prefer_stability, data_gb, memory_gb
        The answers, as in :func:`recommend`.

    Examples
    --------
    >>> runs = simulate_modes("fast", n_stream=300, retrain_every=100)
    >>> simulation_verdict(runs, prefer_stability=True)[0]
    'batch'
    """
    import numpy as np
    import pandas as pd

    _flag(realtime, "realtime"), _flag(prefer_stability, "prefer_stability")
    too_big = _size(data_gb, "data_gb") > FITS_FRACTION * _size(memory_gb, "memory_gb")
    if not isinstance(runs, dict) or not {"batch", "online"} <= set(runs):
        raise TypeError("runs must be the dict simulate_modes returns")
    rows = {}
    for name, tl in runs.items():
        after = 100 * tl.window_score(tl.drift_at[0], tl.drift_at[0] + AFTER_CHANGE) if tl.drift_at else np.nan
        rows[name] = {"accuracy over the stream (%)": 100 * tl.score, "accuracy after the change (%)": after,
                      "model versions served": int(np.max(tl.model_version)),
                      "eligible": name == "batch" or not (prefer_stability or (too_big and name == "online"))}
    table = pd.DataFrame(rows).T
    column = "accuracy after the change (%)" if realtime and runs["batch"].drift_at else "accuracy over the stream (%)"
    best = "batch"
    for name in table.index:  # in order of simplicity: a line must beat the simpler choice by the margin
        if table.loc[name, "eligible"] and table.loc[name, column] > table.loc[best, column] + MARGIN_POINTS:
            best = name
    table["score used"] = column
    return best, table
