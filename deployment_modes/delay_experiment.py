"""What label delay does to the choice of mode: online, batch and drift-triggered batch, labels late.

Online learning adapts from each label; if the labels come back late, it adapts late. A batch
retrain also uses only the labels that have come back. :func:`delay_sweep` runs the three modes on
the drifting stream (or on real prices) for several label delays and seeds; :func:`summarize`
gives the spread over seeds; :func:`advantage_vanishes` says from which delay online no longer beats
batch; :func:`optimism` says how much better plain (immediate-label) progressive validation scores a
deployment than the delayed truth.

Defined in the Late labels chapter (``book/late_labels.ipynb``).
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import pandas as pd

from ._checks import positive_int
from .threads import one_thread

__all__ = [
    "MODES",
    "advantage_vanishes",
    "delay_sweep",
    "deployments",
    "lead_table",
    "online_advantage",
    "optimism",
    "price_delay_sweep",
    "summarize",
]

MODES = ("online", "batch", "batch, drift-triggered")


def _check_delays(delays) -> list[int]:
    delays = list(delays)
    if not delays:
        raise ValueError("delays must list at least one label delay (in events)")
    for d in delays:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0:
            raise ValueError(f"delays must be ints >= 0 (events), got {d!r}")
    return [int(d) for d in delays]


def _check_seeds(seeds) -> list[int]:
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of ints, got {seeds!r}")
    return [int(s) for s in seeds]


def deployments(task: str, *, retrain_every: int = 500, collect: int = 300) -> dict:
    """Fresh deployments of the three modes, as the Comparison chapter configures them.

    Classification: online is standard scaling and a river logistic regression (plain SGD, one
    update per label); batch a logistic regression retrained from scratch every ``retrain_every``
    labels on all of them; drift-triggered batch, on a drift alarm, waits for ``collect`` more labels
    and retrains on those. Regression (prices): 10 nearest neighbours, online among the last 100
    labelled days, batch among all, refitted every ``retrain_every`` labels.

    Parameters
    ----------
    task
        ``"classification"`` or ``"regression"``.
    retrain_every
        Labels between two batch retrains.
    collect
        Labels the drift-triggered batch waits for after an alarm, and retrains on.

    Examples
    --------
    >>> sorted(deployments("classification"))
    ['batch', 'batch, drift-triggered', 'online']
    """
    from river import neighbors

    from .batch import BatchDeployment
    from .lean import LeanLogisticRegression
    from .lean_neighbors import LeanKNeighborsRegressor
    from .online import OnlineDeployment, sgd_model
    from .triggers import AlarmThenCollect

    if task == "classification":
        return {
            "online": OnlineDeployment(sgd_model(task, 0.05)),
            "batch": BatchDeployment(LeanLogisticRegression(), retrain_every=retrain_every),
            "batch, drift-triggered": BatchDeployment(
                LeanLogisticRegression(), window=collect, trigger=AlarmThenCollect(collect=collect)
            ),
        }
    if task == "regression":  # as the Online chapter predicts prices: 10 nearest neighbours
        return {
            "online": OnlineDeployment(
                neighbors.KNNRegressor(n_neighbors=10, engine=neighbors.LazySearch(window_size=100))
            ),
            "batch": BatchDeployment(
                LeanKNeighborsRegressor(n_neighbors=10), retrain_every=retrain_every
            ),
        }
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


def delay_sweep(
    delays=(0, 100, 300, 1000),
    seeds=(0, 1, 2, 3, 4),
    *,
    n_initial: int = 500,
    n_stream: int = 1500,
    drift_at: int = 500,
    retrain_every: int = 250,
    collect: int = 150,
) -> pd.DataFrame:
    """Accuracy after the drift of each mode, for each label delay (events) and seed.

    The stream is :func:`~deployment_modes.scenarios.drifting_classification` (``seed``, sizes).
    Each label comes back ``delay`` events after its prediction (river's semantics: 0 and 1 both
    mean "before the next prediction"); every mode learns only from labels that have come back.
    One row per (seed, delay, mode): ``after_drift`` (accuracy of the predictions made from the
    drift on), ``score`` (over the whole stream), ``retrains`` and ``label_delay`` (the mean, events).

    Parameters
    ----------
    delays
        Label delays to sweep, in events.
    seeds
        Seeds of the stream.
    n_initial, n_stream, drift_at
        Sizes of the stream and the position of the concept change.
    retrain_every, collect
        As in :func:`deployments`.

    Examples
    --------
    >>> t = delay_sweep([0, 300], [0], n_initial=200, n_stream=900, drift_at=300, retrain_every=200, collect=100)
    >>> t.shape, sorted(t["mode"].unique()) == sorted(MODES)
    ((6, 7), True)
    """
    delays, seeds = _check_delays(delays), _check_seeds(seeds)
    retrain_every, collect = (
        positive_int(retrain_every, "retrain_every"),
        positive_int(collect, "collect"),
    )
    rows = []
    with one_thread():  # small fits: BLAS threads only wait for each other (17x the CPU under load)
        for seed in seeds:
            rows += _sweep_seed(seed, delays, n_initial, n_stream, drift_at, retrain_every, collect)
    return pd.DataFrame(rows)


def _sweep_seed(seed, delays, n_initial, n_stream, drift_at, retrain_every, collect) -> list[dict]:
    from river import metrics

    from .scenarios import drifting_classification

    scenario = drifting_classification(
        seed=seed, n_initial=n_initial, n_stream=n_stream, drift_at=drift_at
    )
    runs = _delayed_runs(
        deployments("classification", retrain_every=retrain_every, collect=collect),
        scenario,
        metrics.Accuracy(),
        delays,
    )
    return [
        {
            "seed": seed,
            "delay": delay,
            "mode": mode,
            "after_drift": tl.window_score(drift_at),
            "score": tl.score,
            "retrains": len(tl.retrains),
            "label_delay": float(tl.label_delay.mean()),
        }
        for delay, mode, tl in runs
    ]


def price_delay_sweep(
    delays=(0, 20, 60), names=("apple",), *, retrain_every: int = 60
) -> pd.DataFrame:
    """Mean absolute error of online and batch on real prices, for each label delay (trading days).

    The price series (:func:`~deployment_modes.scenarios.stock_prices`) play the part of seeds:
    one row per (series, delay, mode) with ``mae`` over the stream and ``relative`` (the MAE
    divided by the one of the same mode with immediate labels, when delay 0 is swept).

    Parameters
    ----------
    delays
        Label delays to sweep, in trading days.
    names
        Price series (``"apple"``, ``"bitcoin"``, ``"brent"``).
    retrain_every
        Labels between two batch refits.

    Examples
    --------
    >>> t = price_delay_sweep([0, 20], ["apple"])
    >>> t.shape
    (4, 6)
    """
    delays = _check_delays(delays)
    names = list(names)
    if not names:
        raise ValueError("names must list at least one price series")
    rows = []
    with one_thread():
        rows += [row for name in names for row in _price_rows(name, delays, retrain_every)]
    table = pd.DataFrame(rows)
    base = table[table["delay"] == 0].set_index(["series", "mode"])["mae"]
    table["relative"] = [
        row.mae / base.get((row.series, row.mode), np.nan) for row in table.itertuples()
    ]
    return table


def _price_rows(name, delays, retrain_every) -> list[dict]:
    from river import metrics

    from .scenarios import stock_prices

    scenario = stock_prices(name)
    runs = _delayed_runs(
        deployments("regression", retrain_every=retrain_every), scenario, metrics.MAE(), delays
    )
    return [
        {
            "series": name,
            "delay": delay,
            "mode": mode,
            "mae": tl.score,
            "retrains": len(tl.retrains),
        }
        for delay, mode, tl in runs
    ]


def _delayed_runs(deployments: dict, scenario, metric, delays):
    """``(delay, mode, timeline)`` per delay and deployment, each trained on the initial data once.

    Every delay starts from a copy of the trained deployment (the same as a fresh fit).
    """
    from .segments import simulate_by_segments  # simulate; a batch mode a served segment at a time

    for deployment in deployments.values():
        deployment.fit_initial(*scenario.initial)
    for delay in delays:
        for mode, deployment in deployments.items():
            run = copy.deepcopy(deployment)
            tl = simulate_by_segments(
                scenario, run, metric.clone(), delay=delay, name=mode, fit_initial=False
            )
            yield delay, mode, tl


def _check_table(table, columns) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame) or not set(columns) <= set(table.columns):
        raise TypeError(
            f"table must be the DataFrame delay_sweep returns (columns {sorted(columns)})"
        )
    return table


def summarize(table: pd.DataFrame, column: str = "after_drift") -> pd.DataFrame:
    """Mean, min and max of ``column`` over the seeds: one row per delay, a column group per mode.

    Parameters
    ----------
    table
        What :func:`delay_sweep` returns.
    column
        The score to summarise.

    Examples
    --------
    >>> t = pd.DataFrame({"seed": [0, 1], "delay": [0, 0], "mode": ["online"] * 2, "after_drift": [0.8, 0.9]})
    >>> summarize(t).round(2).values.tolist()
    [[0.85, 0.8, 0.9]]
    """
    table = _check_table(table, {"delay", "mode", column})
    return table.pivot_table(
        index="delay", columns="mode", values=column, aggfunc=["mean", "min", "max"]
    )


def online_advantage(table: pd.DataFrame) -> pd.DataFrame:
    """Per seed and delay: online's accuracy after the drift minus the best batch mode's.

    Parameters
    ----------
    table
        What :func:`delay_sweep` returns.

    Examples
    --------
    >>> t = pd.DataFrame({"seed": [0, 0], "delay": [0, 0], "mode": ["online", "batch"], "after_drift": [0.9, 0.7]})
    >>> round(float(online_advantage(t).iloc[0, 0]), 2)
    0.2
    """
    table = _check_table(table, {"seed", "delay", "mode", "after_drift"})
    wide = table.pivot_table(index="delay", columns=["seed", "mode"], values="after_drift")
    online = wide.xs("online", axis=1, level="mode")
    others = wide.drop(columns="online", level="mode")
    best_batch = others.T.groupby(level="seed").max().T
    return online - best_batch


def lead_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per delay: online's lead over the best batch mode after the drift (mean, min, max over seeds)
    and on how many seeds online is ahead (``seeds_ahead``) of ``seeds``.

    Parameters
    ----------
    table
        What :func:`delay_sweep` returns.

    Examples
    --------
    >>> t = pd.DataFrame({"seed": [0, 0, 1, 1], "delay": [0] * 4, "mode": ["online", "batch"] * 2,
    ...                   "after_drift": [0.9, 0.7, 0.8, 0.86]})
    >>> lead_table(t).round(2).values.tolist()
    [[0.07, -0.06, 0.2, 1.0, 2.0]]
    """
    lead = online_advantage(table)
    return pd.DataFrame(
        {
            "mean": lead.mean(axis=1),
            "min": lead.min(axis=1),
            "max": lead.max(axis=1),
            "seeds_ahead": (lead > 0).sum(axis=1),
            "seeds": lead.notna().sum(axis=1),
        }
    )


def advantage_vanishes(table: pd.DataFrame) -> dict:
    """From which delay online's accuracy after the drift no longer beats batch.

    Returns ``{"all_seeds": d1, "any_seed": d2}``: ``d1`` the smallest swept delay from which online
    is no better than the best batch mode on every seed; ``d2`` the smallest from which that holds on
    at least one seed. ``None`` where online keeps its lead at every swept delay.

    Parameters
    ----------
    table
        What :func:`delay_sweep` returns.

    Examples
    --------
    >>> t = pd.DataFrame({"seed": [0, 0, 0, 0], "delay": [0, 0, 500, 500], "mode": ["online", "batch"] * 2,
    ...                   "after_drift": [0.9, 0.7, 0.7, 0.75]})
    >>> advantage_vanishes(t)
    {'all_seeds': 500, 'any_seed': 500}
    """
    lead = online_advantage(table) > 0
    result = {}
    for key, lost in (("all_seeds", ~lead.any(axis=1)), ("any_seed", ~lead.all(axis=1))):
        # the smallest delay from which the lead is lost for good (at this and every larger delay)
        delays = list(lead.index)
        found = None
        for k, d in enumerate(delays):
            if lost.iloc[k:].all():
                found = int(d)
                break
        result[key] = found
    return result


def optimism(table: pd.DataFrame, column: str = "after_drift") -> pd.DataFrame:
    """How much better immediate-label evaluation scores each mode than the delayed truth.

    Per seed, mode and delay: ``column`` at delay 0 minus ``column`` at that delay (positive:
    plain progressive validation is optimistic by that much). Needs delay 0 in the sweep.

    Parameters
    ----------
    table
        What :func:`delay_sweep` returns.
    column
        The score compared.

    Examples
    --------
    >>> t = pd.DataFrame({"seed": [0, 0], "delay": [0, 100], "mode": ["online"] * 2, "after_drift": [0.9, 0.8]})
    >>> optimism(t).round(2)["optimism"].tolist()
    [0.0, 0.1]
    """
    table = _check_table(table, {"seed", "delay", "mode", column})
    if 0 not in set(table["delay"]):
        raise ValueError(
            "table must include delay 0 (immediate labels) to measure the optimism against"
        )
    immediate = table[table["delay"] == 0].set_index(["seed", "mode"])[column]
    out = table[["seed", "delay", "mode"]].copy()
    out["optimism"] = [
        immediate[(s, m)] - v for s, m, v in zip(table["seed"], table["mode"], table[column])
    ]
    return out
