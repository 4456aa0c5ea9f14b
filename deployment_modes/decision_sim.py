"""The decision guide's simulation: every mode on a small scenario made from the answers.

:func:`situation_scenario` turns the answers of :func:`~deployment_modes.decision.recommend` into a
small drifting scenario; :func:`simulate_modes` runs every mode on it, with labels as late as the
answer says (:class:`DelayedLabels`); :func:`simulation_verdict` reads the runs by the rule the
chapter states, so that the advice can be checked on a timeline. The answers' vocabulary
(:data:`CHANGE`, :data:`LABEL_DELAY`, ...) is defined here: the guide and the simulation share it.

Defined in the Decision guide chapter (``book/decision_guide.ipynb``).
"""

from __future__ import annotations

import functools

from ._checks import boolean, gigabytes, has_method, one_of, positive_int
from .scenarios import Scenario, drifting_classification

__all__ = [
    "AFTER_CHANGE",
    "CHANGE",
    "DELAY_EVENTS",
    "FITS_FRACTION",
    "LABEL_DELAY",
    "LINES",
    "MARGIN_POINTS",
    "MODES",
    "DelayedLabels",
    "line_of",
    "simulate_modes",
    "simulation_verdict",
    "situation_scenario",
]

MODES = ("batch", "online", "out-of-core", "out-of-core, then online")
#: The lines :func:`simulate_modes` runs (a static out-of-core model serves like batch: :func:`line_of`).
LINES = ("batch", "online", "out-of-core, then online")
#: How fast the data changes, that is the relation between features and labels...
CHANGE = {
    "stable": "barely changes",
    "slow": "drifts slowly (months)",
    "fast": "changes within days or hours",
}
#: How soon the true label of an event is known, from fastest to slowest.
LABEL_DELAY = ("seconds", "hours", "days", "weeks")
#: The simulation's stream has 30 events a day: a label that takes this long arrives this many events later.
DELAY_EVENTS = {"seconds": 0, "hours": 2, "days": 30, "weeks": 210}
#: The data must take at most this fraction of the memory to be trained on in memory (training copies it).
FITS_FRACTION = 0.5


def _initial_size(ratio: float) -> int:
    """Events in the first training for a data-to-memory ``ratio``: 1,000, scaled up to 4,000 at most."""
    return int(1000 * min(max(ratio, 1.0), 4.0))


def situation_scenario(
    change: str = "slow",
    *,
    data_gb: float = 1.0,
    memory_gb: float = 16.0,
    n_stream: int = 3000,
    seed: int = 0,
) -> Scenario:
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
    change = one_of(change, CHANGE, "change")
    ratio = gigabytes(data_gb, "data_gb") / gigabytes(memory_gb, "memory_gb")
    n_stream = positive_int(n_stream, "n_stream")
    if n_stream < 100:
        raise ValueError(f"n_stream must be at least 100 events, got {n_stream}")
    n_initial = _initial_size(ratio)
    drift_at = n_stream // 3 if change == "slow" else n_stream // 2
    width = {"stable": 50, "slow": n_stream // 3, "fast": 50}[change]
    if change == "stable":
        whole = drifting_classification(
            seed=seed,
            n_initial=n_initial,
            n_stream=2 * n_stream,
            drift_at=2 * n_stream - 1,
            width=width,
        )
        return whole.head(n_stream)
    return drifting_classification(
        seed=seed, n_initial=n_initial, n_stream=n_stream, drift_at=drift_at, width=width
    )


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
    one_of(mode, MODES, "mode")
    return {
        "batch": "batch",
        "out-of-core": "batch",
        "online": "online",
        "out-of-core, then online": "out-of-core, then online",
    }[mode]


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


def simulate_modes(
    change: str = "slow",
    *,
    data_gb: float = 1.0,
    memory_gb: float = 16.0,
    label_delay: str = "seconds",
    n_stream: int = 3000,
    seed: int = 0,
    retrain_every: int = 500,
    lines=LINES,
) -> dict:
    """Run every mode on :func:`situation_scenario` of the answers: ``{line: Timeline}``.

    The lines are ``"batch"`` (a logistic regression retrained every ``retrain_every`` labels on
    the last 1,000 rows), ``"online"`` (river, one update per label) and ``"out-of-core, then
    online"`` (:func:`~deployment_modes.out_of_core.out_of_core_then_online`: a first training
    from disk by chunks, then updates in mini-batches of 10 events). Each label reaches its line
    :data:`DELAY_EVENTS` ``[label_delay]`` events after its event (:class:`DelayedLabels`). An
    out-of-core deployment that stays static between retrains serves like batch: it shares its
    line (see :func:`line_of`). The runs are deterministic and cached line by line: the same
    answers give back the same timelines, whichever ``lines`` asked for them.
    :func:`simulation_verdict` reads them with the other answers.

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
    lines
        The lines to run (default: all of :data:`LINES`), e.g. ``("batch", "online")``.

    Examples
    --------
    >>> runs = simulate_modes("fast", n_stream=300, retrain_every=100)
    >>> sorted(runs), len(runs["online"])
    (['batch', 'online', 'out-of-core, then online'], 300)
    >>> simulate_modes("fast", n_stream=300, retrain_every=100, lines=["online"])["online"] is runs["online"]
    True
    """
    change = one_of(change, CHANGE, "change")
    data_gb, memory_gb = gigabytes(data_gb, "data_gb"), gigabytes(memory_gb, "memory_gb")
    label_delay = one_of(label_delay, LABEL_DELAY, "label_delay")
    n_stream, retrain_every = (
        positive_int(n_stream, "n_stream"),
        positive_int(retrain_every, "retrain_every"),
    )
    if isinstance(lines, str) or not set(lines) <= set(LINES) or not lines:
        raise ValueError(f"lines must be a non-empty list of {list(LINES)}, got {lines!r:.80}")
    n_initial = _initial_size(data_gb / memory_gb)
    key = (change, n_initial, DELAY_EVENTS[label_delay], n_stream, seed, retrain_every)
    return {line: _simulate_line(line, *key) for line in LINES if line in lines}


@functools.lru_cache(maxsize=64)
def _scenario(change, n_initial, n_stream, seed) -> Scenario:
    return situation_scenario(
        change, data_gb=n_initial / 1000, memory_gb=1.0, n_stream=n_stream, seed=seed
    )


@functools.lru_cache(maxsize=64)
def _out_of_core(change, n_initial, n_stream, seed):
    """The out-of-core line's deployment, trained from disk by chunks: never served, only copied."""
    import tempfile

    import sklearn

    from .out_of_core import out_of_core_then_online

    scenario = _scenario(change, n_initial, n_stream, seed)
    with (
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
        tempfile.TemporaryDirectory() as folder,
    ):
        return out_of_core_then_online(scenario, folder, seed=seed)


@functools.lru_cache(maxsize=64)
def _online(change, n_initial, n_stream, seed):
    """The online line's deployment after its first, offline training: never served, only copied."""
    from .online import OnlineDeployment, sgd_model

    deployed = OnlineDeployment(sgd_model("classification", 0.05))
    deployed.fit_initial(*_scenario(change, n_initial, n_stream, seed).initial)
    return deployed


@functools.lru_cache(maxsize=128)
def _simulate_line(line, change, n_initial, delay, n_stream, seed, retrain_every):
    import copy

    import sklearn
    from river import metrics

    from .batch_experiments import batch_timeline
    from .lean import LeanLogisticRegression
    from .timeline import simulate

    scenario = _scenario(change, n_initial, n_stream, seed)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        if (
            line == "batch"
        ):  # simulate(scenario, DelayedLabels(BatchDeployment(...), delay)), vectorised
            return batch_timeline(
                scenario,
                LeanLogisticRegression(),
                metrics.Accuracy(),
                retrain_every=retrain_every,
                window=1000,
                name=line,
                delay=delay,
            )
        # the first training does not depend on the label delay: a copy of the one trained
        first = _out_of_core if line == "out-of-core, then online" else _online
        deployed = copy.deepcopy(first(change, n_initial, n_stream, seed))
        return simulate(
            scenario,
            DelayedLabels(deployed, delay),
            metrics.Accuracy(),
            name=line,
            fit_initial=False,
        )


#: Events after the change over which "accuracy after the change" is measured.
AFTER_CHANGE = 500
#: Points by which a line must beat the others for the simulation to call it better.
MARGIN_POINTS = 1.0


def simulation_verdict(
    runs: dict,
    *,
    realtime: bool = False,
    prefer_stability: bool = False,
    data_gb: float = 1.0,
    memory_gb: float = 16.0,
):
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

    boolean(realtime, "realtime"), boolean(prefer_stability, "prefer_stability")
    too_big = gigabytes(data_gb, "data_gb") > FITS_FRACTION * gigabytes(memory_gb, "memory_gb")
    if not isinstance(runs, dict) or not {"batch", "online"} <= set(runs):
        raise TypeError("runs must be the dict simulate_modes returns")
    rows = {}
    for name, tl in runs.items():
        after = (
            100 * tl.window_score(tl.drift_at[0], tl.drift_at[0] + AFTER_CHANGE)
            if tl.drift_at
            else np.nan
        )
        rows[name] = {
            "accuracy over the stream (%)": 100 * tl.score,
            "accuracy after the change (%)": after,
            "model versions served": int(np.max(tl.model_version)),
            "eligible": name == "batch" or not (prefer_stability or (too_big and name == "online")),
        }
    table = pd.DataFrame(rows).T
    column = (
        "accuracy after the change (%)"
        if realtime and runs["batch"].drift_at
        else "accuracy over the stream (%)"
    )
    best = "batch"
    for (
        name
    ) in table.index:  # in order of simplicity: a line must beat the simpler choice by the margin
        if (
            table.loc[name, "eligible"]
            and table.loc[name, column] > table.loc[best, column] + MARGIN_POINTS
        ):
            best = name
    table["score used"] = column
    return best, table
