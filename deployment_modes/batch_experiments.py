"""The experiments of the Batch learning chapter, as functions of a seed.

The chapter runs each one over ``deployment_modes.seeds.SEEDS`` and shows the spread; its tests
(``tests/test_batch_claims.py``) assert the chapter's claims on the very same runs.
:func:`batch_timeline` is the batch retraining loop written out (fit, serve a segment, refit on
old + new data): it gives the same timeline as ``simulate(scenario, BatchDeployment(...))``, in a
fraction of the time, because between two retrains the static model predicts a whole segment at once.

Defined in the Batch learning chapter (``book/batch.ipynb``).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pandas as pd
from river import metrics, utils
from sklearn import config_context
from sklearn.base import clone

from ._checks import positive_int
from .baselines import NaiveBaseline
from .batch import BatchDeployment
from .compute import cumulative_compute, retrain_costs
from .scenarios import Scenario, drifting_classification, house_prices
from .segments import simulate_by_segments
from .threads import one_thread
from .timeline import LogEntry, Timeline, events_to_recover, simulate

__all__ = [
    "BASELINE",
    "baseline_timeline",
    "batch_timeline",
    "drift_runs",
    "house_runs",
    "interval_timelines",
    "retrain_sweep",
    "sweep_retrain_interval",
    "sweep_summary",
]

#: The name of the naive baseline's line, by task: the last label (regression), the majority class (classification)
BASELINE = {"regression": "naive baseline: last", "classification": "naive baseline: majority"}


def baseline_timeline(sc: Scenario, task: str, metric) -> Timeline:
    """The naive baseline's timeline on ``sc``: the last label (regression) or the majority class.

    Parameters
    ----------
    sc
        The :class:`~deployment_modes.scenarios.Scenario` to run.
    task
        ``"regression"`` (the last label seen) or ``"classification"`` (the majority class seen so far).
    metric
        A river metric, scored on every event.

    Returns
    -------
    Timeline
        The run, named ``BASELINE[task]``.

    Examples
    --------
    >>> from river import metrics
    >>> from deployment_modes.scenarios import house_prices
    >>> baseline_timeline(house_prices(n_initial=50, n_stream=100), "regression", metrics.MAE()).name
    'naive baseline: last'
    """
    if task not in BASELINE:
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    strategy = "last" if task == "regression" else "majority"
    return simulate_by_segments(sc, NaiveBaseline(strategy), metric, name=BASELINE[task])


def batch_timeline(
    scenario: Scenario,
    estimator,
    metric,
    *,
    retrain_every: int | None = None,
    window: int | None = None,
    name: str = "batch",
    rolling: int = 200,
    delay: int = 0,
) -> Timeline:
    """The timeline of ``BatchDeployment(estimator, retrain_every, window=window)`` on ``scenario``, fast.

    The batch retraining loop itself: fit a clone on the initial data, let it predict the next
    ``retrain_every`` events, then refit a clone on the initial data plus every event seen (the last
    ``window`` rows if given), and so on. The predictions, versions and retrain rows equal those of
    :func:`~deployment_modes.simulate`; the retrains' compute ``seconds`` are timed the same way (the
    fit only), the per-event serving times are not measured (``predict_seconds`` is 0).
    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    scenario
        The :class:`~deployment_modes.scenarios.Scenario` to run: its initial data and its stream.
    estimator
        A scikit-learn estimator, cloned at every fit (never changed itself).
    metric
        A river metric, scored on every event and rolled over the last ``rolling`` events.
    retrain_every
        Retrain after every ``retrain_every`` events (default ``None``: never, a static model).
    window
        Fit on the last ``window`` rows only (default ``None``: all the rows kept).
    name
        The timeline's name.
    rolling
        The window of the rolling metric, in events, as in ``simulate``.
    delay
        Events between an event and its label (default 0: at once): the ``k``-th retrain fits
        on the first ``k * retrain_every`` labels when the last of them arrives, ``delay``
        events later, as ``simulate`` of the Decision guide's
        :class:`~deployment_modes.decision_sim.DelayedLabels` around the deployment does.

    Returns
    -------
    Timeline
        The run, as :func:`~deployment_modes.simulate` records it: per event the prediction, the
        model version and the rolling metric; the first training and every retrain in its ``log``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=400, drift_at=200)
    >>> fast = batch_timeline(sc, LogisticRegression(), metrics.Accuracy(), retrain_every=200)
    >>> slow = dm.simulate(sc, dm.BatchDeployment(LogisticRegression(), retrain_every=200), metrics.Accuracy())
    >>> fast.y_pred == slow.y_pred, list(fast.retrains["rows"]) == list(slow.retrains["rows"])
    (True, True)
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    retrain_every = positive_int(retrain_every, "retrain_every", allow_none=True)
    window = positive_int(window, "window", allow_none=True)
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        raise ValueError(f"delay must be a whole number of events >= 0, got {delay!r}")
    fit_rows = _row_fitter(scenario, estimator)
    return _batch_run(scenario, fit_rows, metric, retrain_every, window, name, rolling, delay)


def interval_timelines(
    scenario: Scenario, estimator, metric, intervals, *, window: int | None = None
) -> list[Timeline]:
    """:func:`batch_timeline` for each retrain interval in ``intervals``, a fit on the same rows made once.

    The runs share their fits: the first training (the same initial rows for every interval),
    and a retrain that another interval makes on the same rows (every 500 and every 1,000
    events both refit at event 1,000). The fit's logged seconds are those of the one fit.

    Parameters
    ----------
    scenario, estimator, metric, window
        As in :func:`batch_timeline`.
    intervals
        Retrain intervals in events (``None``: never retrain).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=400, drift_at=200)
    >>> runs = interval_timelines(sc, LogisticRegression(), metrics.Accuracy(), [100, 200])
    >>> runs[1].y_pred == batch_timeline(sc, LogisticRegression(), metrics.Accuracy(), retrain_every=200).y_pred
    True
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    window = positive_int(window, "window", allow_none=True)
    intervals = [positive_int(k, "intervals (each one)", allow_none=True) for k in intervals]
    fit_rows = _row_fitter(scenario, estimator, shared={})
    return [_batch_run(scenario, fit_rows, metric, k, window, "batch", 200) for k in intervals]


def _row_fitter(scenario: Scenario, estimator, shared: dict | None = None):
    """``fit_rows(first, stop) -> (model, seconds)``: a clone of ``estimator`` fitted on rows
    ``first:stop`` of the initial rows followed by the stream's (with ``shared``, each once)."""
    X0, y0 = scenario.X_initial.to_numpy(), np.asarray(scenario.y_initial)
    X, y = scenario.X.to_numpy(), np.asarray(scenario.y)
    rows_X, rows_y = np.concatenate([X0, X]), np.concatenate([y0, y])
    # rows checked finite here, parameters by the first fit: the fits need not check them again
    # (as a deployment's retrains; the same models)
    finite = rows_X.dtype.kind == "f" and bool(np.isfinite(rows_X).all())
    fitted = []

    def fit_rows(first: int, stop: int):
        if shared is not None and (first, stop) in shared:
            return shared[(first, stop)]
        start = time.perf_counter()
        with config_context(assume_finite=finite, skip_parameter_validation=bool(fitted)):
            model = clone(estimator).fit(rows_X[first:stop], rows_y[first:stop])
        fitted.append(stop)
        result = model, time.perf_counter() - start
        if shared is not None:
            shared[(first, stop)] = result
        return result

    return fit_rows


def _batch_run(
    scenario, fit_rows, metric, retrain_every, window, name, rolling, delay: int = 0
) -> Timeline:
    """:func:`batch_timeline` with its fits by ``fit_rows(first, stop) -> (model, seconds)``.

    ``first:stop`` are the training rows among the initial rows followed by the stream's;
    ``delay``: events between an event and its label, as in :func:`batch_timeline`.
    """
    n0, X, y = len(scenario.y_initial), scenario.X.to_numpy(), np.asarray(scenario.y)
    n = len(y)
    log = []

    def fit(upto: int, kind: str):
        stop = n0 + upto
        first = 0 if window is None else max(0, stop - window)
        model, seconds = fit_rows(first, stop)
        log.append(
            LogEntry(
                upto, kind, rows=stop - first, seconds=seconds, detail=f"version {len(log) + 1}"
            )
        )
        return model

    with one_thread():  # a small fit: threads only fight over the cores
        predictions, versions = _segments(fit, X, n, retrain_every, delay)
    whole = metric.clone()
    for truth, p in zip(y.tolist(), predictions):
        whole.update(truth, p)
    return Timeline(
        name,
        y.tolist(),
        predictions,
        np.array(versions),
        _rolling(metric, y, predictions, rolling),
        np.asarray(scenario.times),
        whole,
        log,
        tuple(scenario.drift_at),
    )


def _segments(fit, X, n: int, retrain_every, delay: int = 0):
    """Serve each segment with the model of the last fit, then refit: (predictions, versions).

    The refit on the first ``upto`` labels comes with the event ``delay`` events after the
    ``upto``-th: that event is the last one the old model serves.
    """
    predictions, versions, version = [], [], 1
    model = fit(0, "train")
    start, upto = 0, retrain_every
    while start < n:
        stop = n if retrain_every is None else min(upto + delay, n)
        predictions.extend(model.predict(X[start:stop]).tolist())
        versions.extend([version] * (stop - start))
        if retrain_every is not None and stop == upto + delay:
            model, version = fit(upto, "retrain"), version + 1
            versions[-1] = (
                version  # as simulate records it: the version after the event's learn_one
            )
            upto += retrain_every
        start = stop
    return predictions, versions


def _rolling(metric, y, predictions, window: int) -> np.ndarray:
    """The rolling metric of simulate; accuracy and MAE as running means (the same values, faster)."""
    if type(metric) in (metrics.Accuracy, metrics.MAE):
        p = np.asarray(predictions)
        per_event = (p == y) if isinstance(metric, metrics.Accuracy) else np.abs(y - p)
        return pd.Series(per_event, dtype=float).rolling(window, min_periods=1).mean().to_numpy()
    rolled, curve = utils.Rolling(type(metric), window_size=window), []
    for truth, p in zip(y.tolist(), predictions):
        rolled.update(truth, p)
        curve.append(rolled.get())
    return np.array(curve)


@functools.lru_cache(maxsize=16)
def _drift_rows(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The seed's drifting stream as arrays, its initial rows first (read-only)."""
    sc = drifting_classification(seed=seed)
    X = np.concatenate([sc.X_initial.to_numpy(), sc.X.to_numpy()])
    y = np.concatenate([sc.y_initial, sc.y])
    X.flags.writeable = y.flags.writeable = False
    return X, y


@functools.lru_cache(maxsize=1024)
def _drift_fit(seed: int, first: int, stop: int) -> tuple:
    """A logistic regression fitted on rows ``first:stop`` of the seed's drifting stream (initial rows
    first), and the seconds the fit took. Cached: the runs of the sweep refit on the same rows
    (every retrain interval's fits are also the shorter interval's; every window's first fit is on
    the same initial rows), and a fit on the same rows is the same model.
    """
    from sklearn.linear_model import LogisticRegression

    X, y = _drift_rows(seed)
    X, y = X[first:stop], y[first:stop]
    start = time.perf_counter()
    # in one thread (_batch_run fits within one_thread()); the generated rows are finite and the
    # default parameters valid: scikit-learn need not check them (the same model)
    with config_context(assume_finite=True, skip_parameter_validation=True):
        model = LogisticRegression().fit(X, y)
    return model, time.perf_counter() - start


@functools.lru_cache(maxsize=64)
def _drift_timeline(seed: int, retrain_every: int | None, window: int | None) -> Timeline:
    """Batch logistic regression on the seed's drifting stream (cached: Experiment 2 and the sweep share runs).

    The timeline of ``batch_timeline(sc, LogisticRegression(), ...)``, its fits shared between runs.
    """
    name = (
        "static"
        if retrain_every is None
        else f"retrain every {retrain_every:,}, "
        + ("all data" if window is None else f"last {window:,} rows")
    )
    return _batch_run(
        drifting_classification(seed=seed),
        functools.partial(_drift_fit, seed),
        metrics.Accuracy(),
        positive_int(retrain_every, "retrain_every", allow_none=True),
        positive_int(window, "window", allow_none=True),
        name,
        200,
    )


def house_runs(
    seed: int, *, retrain_every: int = 500, baseline: bool = False
) -> tuple[Scenario, dict]:
    """Experiment 1 of the Batch chapter: house prices, a static Ridge against one retrained every 500 sales.

    Both deployments are scored with the mean absolute error (MAE) of the predicted price.
    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    seed
        The house-price scenario's seed (an int).
    retrain_every
        Sales between two retrains of the second deployment.
    baseline
        Add the naive baseline ``"naive baseline: last"`` (each sale priced as the one before).

    Returns
    -------
    scenario : Scenario
        The seed's house-price stream.
    runs : dict
        ``{name: Timeline}``: ``"static"`` and ``"retrain every 500 sales"`` (with the given interval).

    Examples
    --------
    >>> sc, runs = house_runs(0)
    >>> list(runs), len(runs["static"]) == len(sc)
    (['static', 'retrain every 500 sales'], True)
    """
    from sklearn.linear_model import Ridge

    sc = house_prices(seed=seed)
    runs = {
        "static": batch_timeline(sc, Ridge(), metrics.MAE(), name="static"),
        f"retrain every {retrain_every} sales": batch_timeline(
            sc,
            Ridge(),
            metrics.MAE(),
            retrain_every=retrain_every,
            name=f"retrain every {retrain_every}",
        ),
    }
    if baseline:
        runs[BASELINE["regression"]] = baseline_timeline(sc, "regression", metrics.MAE())
    return sc, runs


def drift_runs(
    seed: int, *, retrain_every: int = 500, window: int = 1000, baseline: bool = False
) -> tuple[Scenario, dict]:
    """Experiment 2 of the Batch chapter: concept drift, static against retrained on all data or a window.

    Three batch logistic regressions on the seed's drifting stream: never retrained, retrained every
    ``retrain_every`` events on all the data, and on the last ``window`` rows only.
    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (an int).
    retrain_every
        Events between two retrains.
    window
        Rows kept by the windowed deployment.
    baseline
        Add the naive baseline ``"naive baseline: majority"`` (the majority class seen so far).

    Returns
    -------
    scenario : Scenario
        The seed's drifting stream.
    runs : dict
        ``{name: Timeline}``, the three deployments in the order above (then the baseline).

    Examples
    --------
    >>> _, runs = drift_runs(0)
    >>> list(runs)
    ['static', 'retrain every 500, all data', 'retrain every 500, last 1,000 rows']
    """
    runs = [
        _drift_timeline(seed, None, None),
        _drift_timeline(seed, retrain_every, None),
        _drift_timeline(seed, retrain_every, window),
    ]
    sc = drifting_classification(seed=seed)
    if baseline:
        runs.append(baseline_timeline(sc, "classification", metrics.Accuracy()))
    return sc, {tl.name: tl for tl in runs}


def retrain_sweep(
    seed: int, intervals=(None, 250, 500, 1000, 2000), *, windows=(None, 1000)
) -> pd.DataFrame:
    """Per retrain interval (0 = never) and window (0 = all data): accuracy around the drift, cost.

    Each run is a batch logistic regression on the seed's drifting stream (the runs of
    :func:`drift_runs` are shared, not repeated). Defined in the Batch learning chapter
    (``book/batch.ipynb``).

    Parameters
    ----------
    seed
        The drifting stream's seed (an int).
    intervals
        Retrain intervals in events, a sequence of int (``None``: never retrain).
    windows
        Rows kept per retrain, a sequence of int (``None``: all the data).

    Returns
    -------
    pandas.DataFrame
        One row per interval and window: ``seed``, ``retrain_every``, ``window``,
        ``score_before_drift`` (accuracy on the 1,000 events before the drift),
        ``score_after_drift``, ``events_to_recover``, ``retrains``, ``compute_rows`` and
        ``compute_seconds`` (the training compute: the first training and every retrain,
        :func:`~deployment_modes.cumulative_compute`).

    Examples
    --------
    >>> retrain_sweep(0, [None, 2000], windows=(None,))[["retrain_every", "retrains", "compute_rows"]].values.tolist()
    [[0, 0, 1000], [2000, 2, 9000]]
    """
    rows = []
    for k in intervals:
        for window in windows:
            tl = _drift_timeline(seed, k, window)
            d = tl.drift_at[0]
            rows.append(
                {
                    "seed": seed,
                    "retrain_every": k or 0,
                    "window": window or 0,
                    "score_before_drift": tl.window_score(d - 1000, d),
                    "score_after_drift": tl.window_score(d),
                    "events_to_recover": events_to_recover(tl),
                    "retrains": len(tl.retrains),
                    "compute_rows": int(cumulative_compute(tl)[-1]),
                    "compute_seconds": float(cumulative_compute(tl, "seconds")[-1]),
                }
            )
    return pd.DataFrame(rows)


def sweep_summary(sweep: pd.DataFrame) -> pd.DataFrame:
    """Mean, min and max over the seeds of :func:`retrain_sweep`, one row per retrain interval.

    Columns ``"acc_window mean"`` ... (accuracy after the drift with the window of 1,000 rows),
    ``"acc_all ..."`` (all data kept) and ``"rows_all ..."`` (training compute in rows, all data kept), as
    :func:`~deployment_modes.sweep_figures.plot_retrain_sweep` draws them.
    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    sweep
        The rows of :func:`retrain_sweep` for several seeds (concatenated), with the windows
        1,000 and 0 (all data).

    Returns
    -------
    pandas.DataFrame
        ``retrain_every`` and, for ``acc_window``, ``acc_all`` and ``rows_all``, the columns
        ``"... mean"``, ``"... min"`` and ``"... max"``.

    Examples
    --------
    >>> import pandas as pd
    >>> sweep = pd.DataFrame({"seed": [0, 0, 1, 1], "retrain_every": [500] * 4, "window": [0, 1000] * 2,
    ...                       "score_after_drift": [0.5, 1.0, 0.25, 0.75], "compute_rows": [9000, 7000, 9000, 7000]})
    >>> sweep_summary(sweep)[["retrain_every", "acc_window mean", "acc_all min", "rows_all max"]].values.tolist()
    [[500.0, 0.875, 0.25, 9000.0]]
    """
    names = {
        ("score_after_drift", 1000): "acc_window",
        ("score_after_drift", 0): "acc_all",
        ("compute_rows", 0): "rows_all",
    }
    wide = sweep.pivot_table(
        index=["seed", "retrain_every"],
        columns="window",
        values=["score_after_drift", "compute_rows"],
    )
    wide = pd.DataFrame({name: wide[key] for key, name in names.items()}).reset_index()
    summary = wide.drop(columns="seed").groupby("retrain_every").agg(["mean", "min", "max"])
    summary.columns = [" ".join(c) for c in summary.columns]
    return summary.reset_index()


def sweep_retrain_interval(
    scenario, estimator, intervals, metric, *, window: int | None = None
) -> pd.DataFrame:
    """Run batch deployments that retrain every ``k`` events, for each ``k`` in ``intervals``.

    Returns one row per interval: retrains, the training compute in rows and in seconds
    (:func:`~deployment_modes.cumulative_compute`: the first training and every retrain), the
    score over the stream and, if the scenario drifts, after the first drift.
    ``None`` in ``intervals`` is the static model. Defined in the Batch learning chapter.

    Parameters
    ----------
    scenario
        The :class:`~deployment_modes.scenarios.Scenario` to run on.
    estimator
        A scikit-learn estimator.
    intervals
        Retrain intervals in events (``None``: never retrain).
    metric
        A river metric.
    window
        Fit on the last ``window`` rows only (default: all the data kept).

    Examples
    --------
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> from deployment_modes import scenarios
    >>> sc = scenarios.house_prices(n_initial=100, n_stream=200)
    >>> sweep_retrain_interval(sc, Ridge(), [None, 100], metrics.MAE())["retrains"].tolist()
    [0, 2]
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    if (
        isinstance(intervals, (str, bytes, dict))
        or not isinstance(intervals, (list, tuple, range))
        or not intervals
    ):
        raise ValueError(
            f"intervals must be a non-empty list of retrain intervals (None for static), got {intervals!r:.60}"
        )
    for k in intervals:
        positive_int(k, "intervals (each one)", allow_none=True)
    rows = []
    for k in intervals:
        tl = simulate(scenario, BatchDeployment(estimator, retrain_every=k, window=window), metric)
        rows.append({"retrain_every": k or 0, **retrain_costs(tl, scenario.drift_at)})
    return pd.DataFrame(rows)
