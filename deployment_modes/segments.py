"""A batch deployment simulated a segment at a time: the timeline of ``simulate``, in far fewer calls.

Between two retrains a :class:`~deployment_modes.BatchDeployment` serves one static model, so
its answers to the events of that stretch (a *segment*) can be asked in one vectorised call
(:meth:`~deployment_modes.BatchDeployment.predict_many`); the labelled events are then handed
over with :meth:`~deployment_modes.BatchDeployment.learn_segment`, which stops at the first one
that retrains. Labels that come back a fixed number of events late are handled as ``simulate``
does (river's semantics), and the drift trigger scores the model that serves when a label comes
back. A :class:`~deployment_modes.NaiveBaseline` never looks at the events: its answers come in
one call too (:meth:`~deployment_modes.NaiveBaseline.predict_learn_many`).
:func:`simulate_by_segments` returns the :class:`~deployment_modes.Timeline` that
:func:`~deployment_modes.simulate` returns, timings aside; for any other deployment, metric or
timing it is ``simulate``.

Defined in the Retraining chapter (``book/retraining.ipynb``), whose experiments run on it; the
Batch, Comparison and Late labels chapters run their batch lines and baselines on it too.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Iterable

import numpy as np
from river import metrics

from ._checks import positive_int
from .baselines import NaiveBaseline
from .batch import BatchDeployment
from .monitor import rolling_metric
from .scenarios import Scenario
from .threads import one_thread
from .timeline import Timeline, rolling_share, simulate

__all__ = ["simulate_by_segments"]

_BLOCK = 256  # labels handed over per call: a segment is predicted in blocks, not to the end


def simulate_by_segments(
    source,
    deployment,
    metric,
    *,
    delay=None,
    window: int = 200,
    name: str | None = None,
    fit_initial: bool = True,
) -> Timeline:
    """:func:`~deployment_modes.simulate`, a served segment at a time for a batch deployment.

    The same :class:`~deployment_modes.Timeline` (predictions, versions, rolling metric, log),
    timings aside: ``predict_seconds`` and ``learn_seconds`` time the vectorised calls. The
    fast path takes a :class:`~deployment_modes.BatchDeployment` on numeric features that is
    not scored as a regression (labels at once, or ``delay`` events late when scored with
    river's ``Accuracy``) and a :class:`~deployment_modes.NaiveBaseline` (labels at once);
    anything else runs through ``simulate`` itself.

    Parameters
    ----------
    source, deployment, metric, delay, window, name, fit_initial
        As in :func:`~deployment_modes.simulate`.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from deployment_modes.lean import LeanLogisticRegression
    >>> sc = dm.scenarios.drifting_classification(n_initial=200, n_stream=600, drift_at=300)
    >>> def batch():
    ...     return dm.BatchDeployment(LeanLogisticRegression(), window=100, trigger=dm.AlarmThenCollect(collect=100))
    >>> fast = simulate_by_segments(sc, batch(), metrics.Accuracy(), delay=20)
    >>> slow = dm.simulate(sc, batch(), metrics.Accuracy(), delay=20)
    >>> fast.y_pred == slow.y_pred, list(fast.retrains["at"]) == list(slow.retrains["at"])
    (True, True)
    """
    lag = _lag(delay)
    baseline = type(deployment) is NaiveBaseline
    hits = type(metric) is metrics.Accuracy  # else river's own rolling metric, labels at once
    if (
        not (baseline or type(deployment) is BatchDeployment)
        or lag is None
        or not (hits or (lag == 1 and _plain_metric(metric)))
        or (baseline and lag != 1)
        # a product of many rows may round a regression's last digit unlike one row's
        or (not baseline and isinstance(metric, metrics.base.RegressionMetric))
        or not isinstance(fit_initial, bool)
        or not (name is None or isinstance(name, str))
        or isinstance(source, (str, bytes, dict))
        or not isinstance(source, (Scenario, Iterable))
    ):
        return simulate(
            source,
            deployment,
            metric,
            delay=delay,
            window=window,
            name=name,
            fit_initial=fit_initial,
        )
    window = positive_int(window, "window")
    if isinstance(source, Scenario) and fit_initial:
        deployment.fit_initial(*source.initial)
    pairs = source if isinstance(source, Scenario) else list(source)  # a generator is read once
    events = _events(pairs, None if baseline else deployment)
    if events is None:  # not finite floats, or no label: simulate walks it (and says what is wrong)
        return simulate(
            pairs, deployment, metric, delay=delay, window=window, name=name, fit_initial=False
        )
    X, xs, ys = events
    walk = _baseline_walk(deployment, ys) if baseline else _walk(deployment, X, xs, ys, lag)
    n = len(ys)
    predictions = walk["predictions"]
    whole = metric.clone()
    for y, p in zip(ys, predictions):
        if p is not None:
            whole.update(y, p)
    # labels scored before each event's step closed: the next prediction's, all at the end
    scored = np.minimum(np.maximum(np.arange(n) + 2 - lag, 0), n)
    scored[-1] = n
    after = np.asarray(walk["versions"])  # the model version after each label
    versions = np.where(scored > 0, after[np.maximum(scored - 1, 0)], walk["first_version"])
    return Timeline(
        name or type(deployment).__name__,
        list(ys),
        predictions,
        versions,
        _rolling(metric, ys, predictions, scored, window, hits),
        np.asarray(source.times) if isinstance(source, Scenario) else np.arange(n, dtype=float),
        whole,
        list(deployment.log),
        tuple(source.drift_at) if isinstance(source, Scenario) else (),
        walk["seconds"][0],
        walk["seconds"][1],
        np.minimum(np.arange(n) + lag, n) - 1,  # the last event predicted before each label
        walk["learn_each"],
    )


def _plain_metric(metric) -> bool:
    """A river metric scored on predicted labels (not probabilities), as simulate scores it."""
    return isinstance(metric, metrics.base.Metric) and getattr(metric, "requires_labels", True)


def _lag(delay) -> int | None:
    """Events from a prediction to the first one that follows its label (1: at once); None: not a fixed delay."""
    if delay is None:
        return 1
    if isinstance(delay, bool) or not isinstance(delay, numbers.Integral) or delay < 0:
        return None
    return max(int(delay), 1)  # 0 and 1 both mean: before the next prediction


def _events(source, deployment: BatchDeployment | None):
    """``(X, xs, ys)``: the rows in the deployment's feature order, the events, the labels.

    None where ``simulate`` has something to say (no event, a pair that is not one, an event
    that is not a dict, a missing label) or the features are not all finite numbers. Without a
    deployment (a baseline, which never looks at the events) ``X`` is None.
    """
    pairs = list(source)
    if not pairs or any(
        type(e) is not tuple or len(e) != 2 or type(e[0]) is not dict or e[1] is None for e in pairs
    ):
        return None
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    if deployment is None:
        return None, xs, ys
    names = deployment.feature_names
    if isinstance(source, Scenario) and list(source.X.columns) == names:
        if not all(dtype.kind in "fiu" for dtype in source.X.dtypes):
            return None
        X = source.X.to_numpy(dtype=float)
    else:
        try:
            rows = [[x[f] for f in names] for x in xs]
        except (KeyError, TypeError):
            return None
        if any(type(v) not in (float, int) for row in rows for v in row):
            return None
        X = np.array(rows, dtype=float)
    return (X, xs, ys) if np.isfinite(X).all() else None


def _walk(deployment: BatchDeployment, X, xs, ys, lag: int) -> dict:
    """Predict and learn in river's order: event ``e`` is predicted once the labels before ``e - lag + 1`` are learned.

    Each round, the served model answers a block of labels (which the drift trigger scores)
    and the events it serves until the last of them is learned; the labels are learned up to
    the first that retrains, and only the events the model really served keep its answers.
    """
    n = len(ys)
    walk = {
        "predictions": [None] * n,
        "versions": [0] * n,  # after each label
        "first_version": deployment.model_version,
        "seconds": [0.0, 0.0],
        "learn_each": np.zeros(n),
    }
    predictions, versions, seconds = walk["predictions"], walk["versions"], walk["seconds"]
    done, learned = 0, 0  # events predicted, labels learned
    with one_thread():  # small products and fits: BLAS threads would only wait for each other
        while learned < n:
            stop = min(n, learned + _BLOCK)
            start = time.perf_counter()
            answers = deployment.predict_many(X[learned : min(n, stop + lag - 1)])
            seconds[0] += time.perf_counter() - start
            version = deployment.model_version
            start = time.perf_counter()
            k = deployment.learn_segment(
                xs[learned:stop], ys[learned:stop], answers[: stop - learned]
            )
            took = time.perf_counter() - start
            seconds[1] += took
            last = learned + k - 1  # the last label learned: with it, a retrain may have come
            served = min(n, last + lag)  # the events this model answered
            predictions[done:served] = answers[done - learned : served - learned]
            versions[learned : last + 1] = [version] * k
            versions[last] = deployment.model_version
            walk["learn_each"][served - 1] += took
            done, learned = served, last + 1
    return walk


def _baseline_walk(baseline: NaiveBaseline, ys) -> dict:
    """The baseline's answers, each before its label is learned (labels at once), in one call."""
    start = time.perf_counter()
    predictions = baseline.predict_learn_many(ys)
    took = time.perf_counter() - start
    version = baseline.model_version  # a baseline has one version: it never retrains
    return {
        "predictions": predictions,
        "versions": [version] * len(ys),
        "first_version": version,
        "seconds": [took / 2, took / 2],
        "learn_each": np.full(len(ys), took / 2 / len(ys)),
    }


def _rolling(metric, ys, predictions, scored, window: int, hits: bool) -> np.ndarray:
    """Per event, the rolling metric over the last ``window`` labels scored by then (NaN before any).

    ``scored``: per event, the labels learned before its step closed.

    Accuracy as whole counts over a whole count, as river's rolled accuracy divides them (and
    ``simulate``); any other metric rolled by river itself, labels at once.
    """
    if hits:  # only answered events are scored (a baseline has no answer before any label)
        answered = [p is not None for p in predictions]
        scored = np.concatenate([[0], np.cumsum(answered)])[scored]
        right = [y == p for y, p, a in zip(ys, predictions, answered) if a]
        return np.asarray(rolling_share(right, scored, window))
    rolling, rolled, count = rolling_metric(metric, window), [], 0
    for y, p in zip(ys, predictions):
        if p is not None:
            rolling.update(y, p)
            count += 1
        rolled.append(rolling.get() if count else np.nan)
    return np.array(rolled, dtype=float)
