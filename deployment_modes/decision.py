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

__all__ = ["CHANGE", "LABEL_DELAY", "MODES", "Recommendation", "line_of", "recommend", "simulate_modes",
           "situation_scenario"]

MODES = ("batch", "online", "out-of-core", "out-of-core, then online")
#: How fast the data changes: the relation between features and labels...
CHANGE = {"stable": "barely changes", "slow": "drifts slowly (months)", "fast": "changes within days or hours"}
#: How soon the true label of an event is known, from fastest to slowest.
LABEL_DELAY = ("seconds", "hours", "days", "weeks")


@dataclass
class Recommendation:
    """The mode :func:`recommend` chose, the reasons for it and what to watch out for.

    Parameters
    ----------
    mode
        One of :data:`MODES`.
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
        How soon an event's true label is known: one of :data:`LABEL_DELAY`.

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
    too_big = data_gb > memory_gb
    labels_fast = LABEL_DELAY.index(label_delay) <= LABEL_DELAY.index("days")
    evolve = (realtime or change == "fast") and not prefer_stability and labels_fast
    if too_big:
        reasons.append(f"the data ({data_gb:g} GB) does not fit in memory ({memory_gb:g} GB): "
                       "train chunk by chunk from disk")
        caveats.append("chunk order matters: shuffle the chunks, or the model is biased towards the last ones")
    elif data_gb > memory_gb / 2:
        caveats.append(f"the data ({data_gb:g} GB) fills more than half the memory ({memory_gb:g} GB): "
                       "copies made while training may not fit; out-of-core training is the safe option")
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
        One of :data:`MODES`.

    Examples
    --------
    >>> line_of("out-of-core")
    'batch'
    """
    _choice(mode, MODES, "mode")
    return {"batch": "batch", "out-of-core": "batch", "online": "online",
            "out-of-core, then online": "out-of-core, then online"}[mode]


def simulate_modes(change: str = "slow", *, data_gb: float = 1.0, memory_gb: float = 16.0,
                   n_stream: int = 3000, seed: int = 0, retrain_every: int = 500) -> dict:
    """Run every mode on :func:`situation_scenario` of the answers: ``{line: Timeline}``.

    The lines are ``"batch"`` (a logistic regression retrained every ``retrain_every`` events on
    the last 1,000 rows), ``"online"`` (river, one update per event) and ``"out-of-core, then
    online"`` (:func:`~deployment_modes.out_of_core.out_of_core_then_online`: a first training
    from disk by chunks, then updates in mini-batches of 10 events). An out-of-core deployment that stays static between
    retrains serves like batch: it shares its line (see :func:`line_of`). The runs are
    deterministic and cached: the same answers give back the same timelines.

    Parameters
    ----------
    change, data_gb, memory_gb
        The answers, as in :func:`situation_scenario`.
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
    n_stream, retrain_every = positive_int(n_stream, "n_stream"), positive_int(retrain_every, "retrain_every")
    n_initial = _n_initial(data_gb / memory_gb)
    return dict(_simulate_modes(change, n_initial, n_stream, seed, retrain_every))


@functools.lru_cache(maxsize=8)
def _simulate_modes(change, n_initial, n_stream, seed, retrain_every):
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
            "batch": BatchDeployment(LeanLogisticRegression(), retrain_every=retrain_every, window=1000),
            "online": OnlineDeployment(sgd_model("classification", 0.05)),
        }, metrics.Accuracy())
        runs["out-of-core, then online"] = simulate(
            scenario, out_of_core_then_online(scenario, folder, seed=seed), metrics.Accuracy(),
            name="out-of-core, then online", fit_initial=False)
    return runs
