"""Retraining strategies: stateless or stateful retraining, four triggers, and what copes with each kind of drift.

Chip Huyen (*Designing Machine Learning Systems*, ch. 9) separates **stateless retraining** (a
new model from scratch on the data kept) from **stateful training** (the served model continues
on the fresh data only), and names four **triggers** for a retrain: time, volume, performance
and drift. In the package each trigger is a schedule of :class:`~deployment_modes.BatchDeployment`:
``period`` (time), ``retrain_every`` (volume), ``trigger=PerformanceTrigger(...)`` (performance,
:mod:`~deployment_modes.triggers`)
and ``trigger=<a drift detector>`` (drift). The experiments here run them over seeds on the
streams of :mod:`~deployment_modes.drift_kinds` and return one row per seed and line.

Defined in the Retraining chapter (``book/retraining.ipynb``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import get_tags

from ._checks import has_method, plain, positive_int
from .baselines import NaiveBaseline
from .batch import BatchDeployment
from .compute import cumulative_compute
from .drift_kinds import ModelPool, drift_stream
from .lean import LeanSGDClassifier
from .online import OnlineDeployment, sgd_model
from .segments import simulate_by_segments
from .timeline import events_to_recover
from .triggers import AlarmThenCollect, PerformanceTrigger

__all__ = [
    "IgnoreColumns",
    "compare_drift_kinds",
    "compare_refit",
    "compare_triggers",
    "drift_modes",
    "forgetting",
    "run_drift_kinds",
    "run_forgetting",
    "run_seeds",
    "spread",
    "summarize_runs",
]


class IgnoreColumns(BaseEstimator):
    """An estimator that does not see some columns (say, the arrival time a time schedule needs).

    Parameters
    ----------
    estimator
        A scikit-learn estimator, fitted and asked on the other columns.
    columns
        Positions of the columns it does not see.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> m = IgnoreColumns(LinearRegression(), [0]).fit(np.array([[100.0, 1.0], [200.0, 2.0]]), [1.0, 2.0])
    >>> m.predict(np.array([[900.0, 3.0]])).round(6).tolist()
    [3.0]
    """

    def __init__(self, estimator, columns=(0,)):
        has_method(estimator, "fit", "estimator")
        self.estimator, self.columns = estimator, tuple(columns)
        self._kept = None

    def _kept_columns(self, n: int) -> list:
        if self._kept is None or self._kept[0] != n:
            self._kept = (n, [i for i in range(n) if i not in self.columns])
        return self._kept[1]

    def _keep(self, X):
        X = np.asarray(X, dtype=float)
        return X[:, self._kept_columns(X.shape[1])]

    def fit(self, X, y):
        """Fit the wrapped estimator on the other columns."""
        self.estimator.fit(self._keep(X), y)
        return self

    def predict(self, X):
        """Predict with the wrapped estimator from the other columns."""
        return self.estimator.predict(self._keep(X))

    def predict_row(self, row):
        """The prediction for one row (a list of feature values), as a plain Python value."""
        row = [row[i] for i in self._kept_columns(len(row))]
        inner = getattr(self.estimator, "predict_row", None)
        if inner is not None:  # a lean model: one row, one product
            return inner(row)
        return plain(self.estimator.predict(np.array([row], dtype=float))[0])

    def __sklearn_tags__(self):
        """The wrapped estimator's kind (classifier or regressor), so scikit-learn sees it as one."""
        tags, inner = super().__sklearn_tags__(), get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags, tags.regressor_tags = inner.classifier_tags, inner.regressor_tags
        return tags


def run_seeds(make_scenario, deployments: dict, seeds, metric=None, *, window: int = 100) -> dict:
    """Simulate each deployment on the scenario of each seed: ``{name: [Timeline per seed]}``.

    Parameters
    ----------
    make_scenario
        ``make_scenario(seed)`` builds the stream of a seed.
    deployments
        Name -> a function of no argument that builds a fresh deployment (each seed gets its own).
    seeds
        The seeds, in order (the ``run`` column of the summaries is the position in it).
    metric
        A river metric (default: accuracy).
    window
        The rolling metric's window.

    Examples
    --------
    >>> runs = run_seeds(lambda s: drift_stream(seed=s, n_initial=50, n_stream=100, drift_at=50),
    ...                  {"last class": lambda: NaiveBaseline("last")}, seeds=[0, 1])
    >>> [len(tl) for tl in runs["last class"]]
    [100, 100]
    """
    from river import metrics

    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if (
        not isinstance(deployments, dict)
        or not deployments
        or not all(map(callable, deployments.values()))
    ):
        raise TypeError(
            "deployments must be a non-empty dict of name -> function building a deployment"
        )
    runs = {name: [] for name in deployments}
    for seed in seeds:
        scenario = make_scenario(seed)
        for name, make in deployments.items():
            runs[name].append(  # simulate's timeline (a batch line a served segment at a time)
                simulate_by_segments(
                    scenario, make(), metric or metrics.Accuracy(), window=window, name=name
                )
            )
    return runs


def summarize_runs(runs: dict, start: int = 0, stop: int | None = None) -> pd.DataFrame:
    """One row per line and seed: the score on events ``start:stop``, retrains, training compute.

    ``compute_rows`` and ``compute_seconds`` are the training compute
    (:func:`~deployment_modes.cumulative_compute`): every fit, the first one included, and every
    in-place update of an online model.

    Parameters
    ----------
    runs
        ``{line: [Timeline per seed]}`` (:func:`run_seeds`).
    start, stop
        The events the score is computed on.

    Examples
    --------
    >>> runs = run_seeds(lambda s: drift_stream(seed=s, n_initial=50, n_stream=100, drift_at=50),
    ...                  {"majority": lambda: NaiveBaseline("majority")}, seeds=[0])
    >>> summarize_runs(runs, 50)[["line", "run", "retrains", "compute_rows"]].values.tolist()
    [['majority', 0, 0, 50]]
    """
    rows = []
    for name, timelines in runs.items():
        for seed, tl in enumerate(timelines):
            retrains = tl.retrains
            rows.append(
                {
                    "line": name,
                    "run": seed,
                    "score": tl.window_score(start, stop),
                    "retrains": len(retrains),
                    "compute_rows": int(cumulative_compute(tl)[-1]),
                    "compute_seconds": float(cumulative_compute(tl, "seconds")[-1]),
                    "rows_per_retrain": float(retrains["rows"].mean()) if len(retrains) else 0.0,
                    "seconds_per_retrain": float(retrains["seconds"].mean())
                    if len(retrains)
                    else 0.0,
                }
            )
    return pd.DataFrame(rows)


def spread(table: pd.DataFrame, columns, by="line", digits: int | dict = 3) -> pd.DataFrame:
    """Each column's mean over the runs, with its min and max: ``"0.81 (0.78-0.84)"``, one row per ``by``.

    Parameters
    ----------
    table
        One row per run (:func:`summarize_runs`).
    columns
        The columns to show.
    by
        The column that names the rows.
    digits
        Decimals shown, for every column or per column (a dict; 3 for a column it omits).

    Examples
    --------
    >>> t = pd.DataFrame({"line": ["a", "a"], "score": [0.5, 0.75]})
    >>> spread(t, ["score"], digits=2).loc["a", "score"]
    '0.62 (0.50-0.75)'
    """
    groups = table.groupby(by, sort=False)[list(columns)]
    mean, low, high = groups.mean(), groups.min(), groups.max()

    def cells(col):
        d = digits.get(col.name, 3) if isinstance(digits, dict) else digits
        return [
            f"{m:.{d}f} ({lo:.{d}f}-{hi:.{d}f})"
            for m, lo, hi in zip(col, low[col.name], high[col.name])
        ]

    return mean.apply(cells)


def compare_refit(
    seeds=range(5),
    *,
    n_stream: int = 1000,
    drift_at: int = 400,
    every: int = 100,
    window: int = 300,
) -> pd.DataFrame:
    """Stateless against stateful retraining of one SGD classifier on the sudden stream, every ``every`` events.

    Lines: from scratch on all the data kept, from scratch on the last ``window`` rows, continued on
    the new events only, and the majority-class baseline. Columns of :func:`summarize_runs` (scored
    after the drift) plus ``data_kept``: the rows the last retrain used, which had to be kept for it.

    Parameters
    ----------
    seeds
        One sudden stream per seed.
    n_stream, drift_at
        Events of each stream, and where the concept changes.
    every
        Events between two retrains.
    window
        Rows of the stateless line on a window.

    Examples
    --------
    >>> t = compare_refit([0], n_stream=300, drift_at=100)
    >>> t.set_index("line")["rows_per_retrain"].tolist()
    [500.0, 300.0, 100.0, 0.0]
    """
    every = positive_int(every, "every")

    def sgd():
        return LeanSGDClassifier(random_state=0)

    lines = {
        "stateless, all data": lambda: BatchDeployment(sgd(), every),
        f"stateless, last {window}": lambda: BatchDeployment(sgd(), every, window=window),
        "stateful (continue)": lambda: BatchDeployment(sgd(), every, refit="continue"),
        "baseline: majority": lambda: NaiveBaseline("majority"),
    }
    runs = run_seeds(
        lambda s: drift_stream("sudden", s, n_stream=n_stream, drift_at=drift_at), lines, seeds
    )
    table = summarize_runs(runs, drift_at)
    table["data_kept"] = [
        int(tl.retrains["rows"].iloc[-1]) if len(tl.retrains) else 0
        for timelines in runs.values()
        for tl in timelines
    ]
    return table


def compare_triggers(
    seeds=range(5),
    *,
    n_stream: int = 1000,
    drift_at: int = 400,
    events_per_day: float = 100.0,
    days: float = 2.0,
    every: int = 200,
    max_error: float = 0.2,
    window: int = 300,
) -> pd.DataFrame:
    """The four retraining triggers on the sudden stream (with arrival times), each retraining from scratch.

    Time: every ``days`` days; volume: every ``every`` events; performance: when the error over the
    last 100 events exceeds ``max_error``; drift: 100 events after ADWIN's alarm on the errors.
    Each retrain fits the last ``window`` rows. Plus the majority baseline.

    Parameters
    ----------
    seeds
        One sudden stream per seed.
    n_stream, drift_at, events_per_day
        Events of each stream, where the concept changes, and the traffic.
    days, every, max_error
        The time, volume and performance triggers' settings.
    window
        Rows each retrain fits.

    Examples
    --------
    >>> compare_triggers([0], n_stream=300, drift_at=100)["line"].tolist()
    ['time', 'volume', 'performance', 'drift', 'baseline: majority']
    """

    def model():
        return IgnoreColumns(LeanSGDClassifier(random_state=0), [0])  # column 0 is the arrival day

    lines = {
        "time": lambda: BatchDeployment(model(), period=days, time_feature="day", window=window),
        "volume": lambda: BatchDeployment(model(), every, window=window),
        "performance": lambda: BatchDeployment(
            model(), window=window, trigger=PerformanceTrigger(max_error, window=100)
        ),
        "drift": lambda: BatchDeployment(
            model(), window=window, trigger=AlarmThenCollect(collect=100)
        ),
        "baseline: majority": lambda: NaiveBaseline("majority"),
    }
    runs = run_seeds(
        lambda s: drift_stream(
            "sudden", s, n_stream=n_stream, drift_at=drift_at, events_per_day=events_per_day
        ),
        lines,
        seeds,
    )
    return summarize_runs(runs, drift_at)


def drift_modes(every: int = 200, window: int = 300) -> dict:
    """The lines of the drift-kinds comparison: name -> function building a fresh deployment.

    Parameters
    ----------
    every
        Events between two retrains of the periodic batch line.
    window
        Rows each batch retrain fits.

    Examples
    --------
    >>> list(drift_modes())
    ['batch, static', 'batch, every 200', 'batch, drift-triggered', 'online', 'baseline: majority']
    """
    every, window = positive_int(every, "every"), positive_int(window, "window")
    return {
        "batch, static": lambda: BatchDeployment(LeanSGDClassifier(random_state=0)),
        f"batch, every {every}": lambda: BatchDeployment(
            LeanSGDClassifier(random_state=0), every, window=window
        ),
        "batch, drift-triggered": lambda: BatchDeployment(
            LeanSGDClassifier(random_state=0), window=window, trigger=AlarmThenCollect(collect=100)
        ),
        "online": lambda: OnlineDeployment(sgd_model("classification", 0.1)),
        "baseline: majority": lambda: NaiveBaseline("majority"),
    }


def run_drift_kinds(
    kinds=("sudden", "gradual", "incremental", "recurring"),
    seeds=range(5),
    *,
    n_stream: int = 1000,
    drift_at: int = 300,
    width: int = 300,
    every: int = 200,
    window: int = 300,
) -> dict:
    """Every line of :func:`drift_modes` on every kind of drift: ``{kind: {line: [Timeline per seed]}}``.

    Recurring drift returns to concept A halfway between ``drift_at`` and the end.

    Parameters
    ----------
    kinds
        Kinds of drift (:data:`~deployment_modes.drift_kinds.KINDS`).
    seeds
        One stream of each kind per seed.
    n_stream, drift_at, width
        Passed to :func:`~deployment_modes.drift_kinds.drift_stream`.
    every, window
        Passed to :func:`drift_modes`.

    Examples
    --------
    >>> runs = run_drift_kinds(["gradual"], [0], n_stream=300, drift_at=100, width=100)
    >>> list(runs), len(runs["gradual"]["online"])
    (['gradual'], 1)
    """
    runs = {}
    for kind in kinds:
        extra = {"width": width} if kind in ("gradual", "incremental") else {}
        runs[kind] = run_seeds(
            lambda s, kind=kind, extra=extra: drift_stream(
                kind, s, n_stream=n_stream, drift_at=drift_at, **extra
            ),
            drift_modes(every, window),
            seeds,
        )
    return runs


def compare_drift_kinds(runs: dict, drift_at: int = 300) -> pd.DataFrame:
    """:func:`summarize_runs` of each kind of :func:`run_drift_kinds`, scored from the drift on, with a ``kind`` column.

    Parameters
    ----------
    runs
        ``{kind: {line: [Timeline per seed]}}`` (:func:`run_drift_kinds`).
    drift_at
        The first event scored.

    Examples
    --------
    >>> table = compare_drift_kinds(run_drift_kinds(["sudden"], [0], n_stream=300, drift_at=100), drift_at=100)
    >>> table.groupby("line", sort=False)["score"].mean().idxmax()
    'online'
    """
    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be the dict of run_drift_kinds: kind -> line -> timelines")
    return pd.concat(
        [summarize_runs(by_line, drift_at).assign(kind=kind) for kind, by_line in runs.items()],
        ignore_index=True,
    )


def run_forgetting(
    seeds=range(5), *, n_stream: int = 1000, drift_at: int = 300, recur_at: int = 650
) -> dict:
    """Concept A, then B from ``drift_at``, then A again from ``recur_at``: ``{line: [Timeline per seed]}``.

    Lines: online at learning rates 0.5 (fast) and 0.05 (slow), the slow one in a pool that keeps a
    second model (:class:`~deployment_modes.drift_kinds.ModelPool`), a batch model retrained on a
    window, the majority baseline.

    Parameters
    ----------
    seeds
        One recurring stream per seed.
    n_stream, drift_at, recur_at
        Events of each stream, where concept B starts and where concept A returns.

    Examples
    --------
    >>> runs = run_forgetting([0], n_stream=400, drift_at=100, recur_at=250)
    >>> runs["online, fast (lr 0.5)"][0].drift_at
    (100, 250)
    """
    lines = {
        "online, fast (lr 0.5)": lambda: OnlineDeployment(sgd_model("classification", 0.5)),
        "online, slow (lr 0.05)": lambda: OnlineDeployment(sgd_model("classification", 0.05)),
        "slow + second model (pool)": lambda: ModelPool(sgd_model("classification", 0.05)),
        "batch, every 100 on last 200": lambda: BatchDeployment(
            LeanSGDClassifier(random_state=0), 100, window=200
        ),
        "baseline: majority": lambda: NaiveBaseline("majority"),
    }
    return run_seeds(
        lambda s: drift_stream(
            "recurring", s, n_stream=n_stream, drift_at=drift_at, recur_at=recur_at
        ),
        lines,
        seeds,
    )


def forgetting(runs: dict, *, after: int = 200) -> pd.DataFrame:
    """How each line of :func:`run_forgetting` does in the ``after`` events once concept A is back.

    Columns: ``before`` (score on the ``after`` events before the first drift), ``on_b`` (on the
    ``after`` events before A returns), ``back`` (on the ``after`` events from ``recur_at``), ``drop``
    (before - back) and ``to_recover`` (events after ``recur_at`` until the rolling accuracy is back,
    see :func:`~deployment_modes.events_to_recover`). The positions are the timelines' ``drift_at``.

    Parameters
    ----------
    runs
        ``{line: [Timeline per seed]}`` on recurring streams (:func:`run_forgetting`).
    after
        Events scored before the first drift, before A returns, and once A is back.

    Examples
    --------
    >>> table = forgetting(run_forgetting([0], n_stream=600, drift_at=200, recur_at=400), after=100)
    >>> list(table.columns)
    ['line', 'run', 'before', 'on_b', 'back', 'drop', 'to_recover']
    """
    after = positive_int(after, "after")
    rows = []
    for name, timelines in runs.items():
        for seed, tl in enumerate(timelines):
            if len(tl.drift_at) != 2:
                raise ValueError(
                    f"runs must be on a recurring stream (two drift positions), got {tl.drift_at}"
                )
            drift_at, recur_at = tl.drift_at
            before, back = (
                tl.window_score(drift_at - after, drift_at),
                tl.window_score(recur_at, recur_at + after),
            )
            rows.append(
                {
                    "line": name,
                    "run": seed,
                    "before": before,
                    "on_b": tl.window_score(recur_at - after, recur_at),
                    "back": back,
                    "drop": before - back,
                    "to_recover": events_to_recover(tl, recur_at),
                }
            )
    return pd.DataFrame(rows)
