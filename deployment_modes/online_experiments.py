"""The experiments of the Online learning chapter, as functions of a seed.

The chapter runs each one over ``deployment_modes.seeds.SEEDS`` and shows the spread; its tests
(``tests/test_online_claims.py``) assert the chapter's claims on the very same runs.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import functools

import pandas as pd
from river import metrics

from .batch_experiments import BASELINE, baseline_timeline, batch_timeline
from .guardrails import Pause, Rollback, ValidationGate
from .online import OnlineDeployment, sgd_model
from .rate_walk import rate_timelines
from .scenarios import Scenario, drifting_classification, poison_labels
from .timeline import Timeline, events_to_recover, simulate

__all__ = [
    "GUARDRAILS",
    "LEARNING_RATE",
    "POISON",
    "cold_start",
    "guardrail_runs",
    "learning_rate_runs",
    "learning_rate_sweep",
    "online_runs",
    "online_timeline",
]

LEARNING_RATE = 0.05  # the online learner's SGD step size, here and in the Comparison chapter
POISON = (
    1000,
    300,
)  # (first event, length) of the burst of wrong labels, here and in the Comparison chapter


@functools.lru_cache(maxsize=64)
def online_timeline(seed: int, lr: float) -> Timeline:
    """The online SGD learner at learning rate ``lr`` on the seed's drifting stream, run once per process.

    The first experiment (:func:`online_runs`), the learning-rate sweep and the chapter's
    learning-rate explorer draw the same runs: the same :class:`~deployment_modes.Timeline`.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (an int).
    lr
        The SGD learning rate.

    Examples
    --------
    >>> online_timeline(0, 0.05) is online_timeline(0, 0.05), online_timeline(0, 0.05).name
    (True, 'online')
    """
    sc = drifting_classification(seed=seed)
    return simulate(
        sc, OnlineDeployment(sgd_model("classification", lr)), metrics.Accuracy(), name="online"
    )


def online_runs(
    seed: int, *, lr: float = LEARNING_RATE, baseline: bool = False
) -> tuple[Scenario, dict]:
    """The Online chapter's first experiment: static batch, batch on a window every 500 events, online.

    On the seed's drifting stream: a static logistic regression, one refitted every 500 events on
    the last 1,000 rows, and an online SGD learner that learns from every event.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (an int).
    lr
        The online learner's SGD learning rate (default ``LEARNING_RATE``, 0.05).
    baseline
        Add the naive baseline ``"naive baseline: majority"`` (the majority class seen so far).

    Returns
    -------
    scenario : Scenario
        The seed's drifting stream.
    runs : dict
        ``{name: Timeline}``: ``"batch, static"``, ``"batch, retrain every 500"`` and ``"online"``
        (then the baseline).

    Examples
    --------
    >>> sc, runs = online_runs(0)
    >>> list(runs), len(runs["online"]) == len(sc)
    (['batch, static', 'batch, retrain every 500', 'online'], True)
    """
    from sklearn.linear_model import LogisticRegression

    sc = drifting_classification(seed=seed)
    runs = {
        "batch, static": batch_timeline(
            sc, LogisticRegression(), metrics.Accuracy(), name="batch, static"
        ),
        "batch, retrain every 500": batch_timeline(
            sc,
            LogisticRegression(),
            metrics.Accuracy(),
            retrain_every=500,
            window=1000,
            name="batch, retrain",
        ),
        "online": online_timeline(seed, lr),
    }
    if baseline:
        runs[BASELINE["classification"]] = baseline_timeline(
            sc, "classification", metrics.Accuracy()
        )
    return sc, runs


def cold_start(
    seed: int, *, lr: float = LEARNING_RATE, n_stream: int = 1000
) -> tuple[Scenario, dict]:
    """The same online model on one stream: started cold (no first training) or first trained offline.

    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (an int).
    lr
        The SGD learning rate.
    n_stream
        The first events of the stream to run on.

    Returns
    -------
    scenario : Scenario
        The first ``n_stream`` events of the seed's drifting stream.
    runs : dict
        ``{name: Timeline}``: the cold start first, then the model trained offline first.

    Examples
    --------
    >>> _, runs = cold_start(0, n_stream=100)
    >>> cold, warm = runs.values()
    >>> warm.window_score(0, 100) > cold.window_score(0, 100)
    True
    """
    sc = drifting_classification(seed=seed).head(n_stream)
    cold = simulate(
        sc,
        OnlineDeployment(sgd_model("classification", lr)),
        metrics.Accuracy(),
        fit_initial=False,
        name="online from the first event (cold)",
    )
    warm = simulate(
        sc,
        OnlineDeployment(sgd_model("classification", lr)),
        metrics.Accuracy(),
        name="trained offline first, then online",
    )
    return sc, {cold.name: cold, warm.name: warm}


def _monitored(model):
    return OnlineDeployment(model, monitor=True)


# each guardrail as a wrapper around a monitored deployment of ``model``; checkpoints every 200 events and a
# pause of at most 300 events are the Comparison chapter's guarded line
GUARDRAILS = {
    "plain online": OnlineDeployment,
    "rollback": lambda model: Rollback(_monitored(model), checkpoint_every=200),
    "pause": lambda model: Pause(_monitored(model), max_pause=300),
    "gate": lambda model: ValidationGate(_monitored(model), every=100),
    "rollback + pause": lambda model: Pause(
        Rollback(_monitored(model), checkpoint_every=200), max_pause=300
    ),
}


def guardrail_runs(
    seed: int, *, lr: float = LEARNING_RATE, guardrails: dict | None = None, poison: tuple = POISON
) -> tuple[Scenario, Scenario, dict]:
    """The poisoned stream (``poison`` = first event, length) through each guardrail (``{name: make(model)}``).

    Each guardrail wraps the same online SGD learner; every run sees the same burst of wrong labels.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (and the poisoning's), an int.
    lr
        The SGD learning rate.
    guardrails
        ``{name: make(model) -> deployment}`` (default ``None``: the module's ``GUARDRAILS``, plain
        online, rollback, pause, validation gate, rollback + pause).
    poison
        ``(first event, length)`` of the burst of wrong labels (default ``POISON``).

    Returns
    -------
    clean : Scenario
        The seed's drifting stream with its true labels.
    poisoned : Scenario
        The same stream with the burst of wrong labels.
    runs : dict
        ``{name: Timeline}``, one run per guardrail on the poisoned stream.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> clean, poisoned, runs = guardrail_runs(0, guardrails={"plain online": dm.OnlineDeployment})
    >>> list(runs), int((clean.y != poisoned.y).sum()) > 0
    (['plain online'], True)
    """
    clean = drifting_classification(seed=seed)
    poisoned = poison_labels(clean, *poison, seed=seed)
    runs = {
        name: simulate(
            poisoned, make(sgd_model("classification", lr)), metrics.Accuracy(), name=name
        )
        for name, make in (guardrails or GUARDRAILS).items()
    }
    return clean, poisoned, runs


def learning_rate_runs(seed: int, rates) -> dict:
    """``{lr: Timeline}``: the online SGD learner at each rate on the seed's drifting stream, run once per process.

    The default rate's run is the first experiment's (:func:`online_timeline`); the other rates
    share one walk (:func:`~deployment_modes.rate_walk.rate_timelines`: one scaler for all, the
    same timelines as ``simulate``). The sweep and the chapter's learning-rate explorer draw them.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (an int).
    rates
        SGD learning rates, a sequence of float.

    Examples
    --------
    >>> runs = learning_rate_runs(0, [0.05, 0.3])
    >>> runs[0.05] is online_timeline(0, 0.05), runs[0.3].y_pred == online_timeline(0, 0.3).y_pred
    (True, True)
    """
    return dict(_rate_runs(seed, tuple(rates)))


@functools.lru_cache(maxsize=16)
def _rate_runs(seed: int, rates: tuple) -> tuple:
    others = [lr for lr in dict.fromkeys(rates) if lr != LEARNING_RATE]
    walked = rate_timelines(drifting_classification(seed=seed), others) if others else {}
    return tuple(
        (lr, online_timeline(seed, lr) if lr == LEARNING_RATE else walked[lr]) for lr in rates
    )


def learning_rate_sweep(seed: int, rates) -> pd.DataFrame:
    """Per SGD learning rate: accuracy on the 1,000 events before the drift, after it, events to recover.

    The columns of :func:`~deployment_modes.sweep_learning_rate`, on the seed's drifting stream.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (an int).
    rates
        SGD learning rates, a sequence of float.

    Returns
    -------
    pandas.DataFrame
        One row per rate: ``learning_rate``, ``score_before_drift``, ``score_after_drift``,
        ``events_to_recover`` and ``seed``.

    Examples
    --------
    >>> learning_rate_sweep(0, [0.05]).columns.tolist()
    ['learning_rate', 'score_before_drift', 'score_after_drift', 'events_to_recover', 'seed']
    """
    rows = []
    for lr, tl in _rate_runs(seed, tuple(rates)):
        d = tl.drift_at[0]
        rows.append(
            {
                "learning_rate": lr,
                "score_before_drift": tl.window_score(max(d - 1000, 0), d),
                "score_after_drift": tl.window_score(d),
                "events_to_recover": events_to_recover(tl),
                "seed": seed,
            }
        )
    return pd.DataFrame(rows)
