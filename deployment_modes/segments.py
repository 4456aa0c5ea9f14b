"""A batch deployment simulated a segment at a time: the timeline of ``simulate``, in far fewer calls.

Between two retrains a :class:`~deployment_modes.BatchDeployment` serves one static model, so
its answers to the events of that stretch (a *segment*) can be asked in one vectorised call
(:meth:`~deployment_modes.BatchDeployment.predict_many`); the labelled events are then handed
over with :meth:`~deployment_modes.BatchDeployment.learn_segment`, which stops at the first one
that retrains. Labels that come back a fixed number of events late are handled as ``simulate``
does (river's semantics), and the drift trigger scores the model that serves when a label comes
back. :func:`simulate_by_segments` returns the :class:`~deployment_modes.Timeline` that
:func:`~deployment_modes.simulate` returns, timings aside; for any other deployment, metric or
timing it is ``simulate``.

Defined in the Retraining chapter (``book/retraining.ipynb``), whose experiments run on it; the
Comparison and Late labels chapters run their batch lines on it too.
"""

from __future__ import annotations

import numbers
import time

import numpy as np
from river import metrics

from ._checks import positive_int
from .batch import BatchDeployment
from .scenarios import Scenario
from .timeline import Timeline, simulate

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
    fast path takes a :class:`~deployment_modes.BatchDeployment` on numeric features scored
    with river's ``Accuracy``, labels at once or ``delay`` events late; anything else runs
    through ``simulate`` itself.

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
    if (
        type(deployment) is not BatchDeployment
        or type(metric) is not metrics.Accuracy
        or lag is None
        or not isinstance(fit_initial, bool)
        or not (name is None or isinstance(name, str))
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
    events = _events(pairs, deployment)
    if events is None:  # not finite floats, or no label: simulate walks it (and says what is wrong)
        return simulate(
            pairs, deployment, metric, delay=delay, window=window, name=name, fit_initial=False
        )
    X, xs, ys = events
    walk = _walk(deployment, X, xs, ys, lag)
    n = len(ys)
    whole = metric.clone()
    for y, p in zip(ys, walk["predictions"]):
        whole.update(y, p)
    # labels scored before each event's step closed: the next prediction's, all at the end
    scored = np.minimum(np.maximum(np.arange(n) + 2 - lag, 0), n)
    scored[-1] = n
    after = np.asarray(walk["versions"])  # the model version after each label
    versions = np.where(scored > 0, after[np.maximum(scored - 1, 0)], walk["first_version"])
    right = np.array([y == p for y, p in zip(ys, walk["predictions"])], dtype=np.int64)
    return Timeline(
        name or type(deployment).__name__,
        list(ys),
        walk["predictions"],
        versions,
        _rolling_share(right, scored, window),
        np.asarray(source.times) if isinstance(source, Scenario) else np.arange(n, dtype=float),
        whole,
        list(deployment.log),
        tuple(source.drift_at) if isinstance(source, Scenario) else (),
        walk["seconds"][0],
        walk["seconds"][1],
        np.minimum(np.arange(n) + lag, n) - 1,  # the last event predicted before each label
        walk["learn_each"],
    )


def _lag(delay) -> int | None:
    """Events from a prediction to the first one that follows its label (1: at once); None: not a fixed delay."""
    if delay is None:
        return 1
    if isinstance(delay, bool) or not isinstance(delay, numbers.Integral) or delay < 0:
        return None
    return max(int(delay), 1)  # 0 and 1 both mean: before the next prediction


def _events(source, deployment: BatchDeployment):
    """``(X, xs, ys)``: the rows in the deployment's feature order, the events, the labels.

    None where ``simulate`` has something to say (no event, a pair that is not one, a missing
    label) or the features are not all finite floats.
    """
    pairs = list(source)
    if not pairs or any(type(e) is not tuple or len(e) != 2 or e[1] is None for e in pairs):
        return None
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    names = deployment.feature_names
    if isinstance(source, Scenario) and list(source.X.columns) == names:
        if not all(dtype.kind == "f" for dtype in source.X.dtypes):
            return None
        X = source.X.to_numpy(dtype=float)
    else:
        try:
            rows = [[x[f] for f in names] for x in xs]
        except (KeyError, TypeError):
            return None
        if any(type(v) is not float for row in rows for v in row):
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
    predictions, versions = [None] * n, [0] * n
    learn_each, seconds = np.zeros(n), [0.0, 0.0]
    first_version = deployment.model_version
    done, learned = 0, 0  # events predicted, labels learned
    while learned < n:
        stop = min(n, learned + _BLOCK)
        start = time.perf_counter()
        answers = deployment.predict_many(X[learned : min(n, stop + lag - 1)])
        seconds[0] += time.perf_counter() - start
        version = deployment.model_version
        start = time.perf_counter()
        k = deployment.learn_segment(xs[learned:stop], ys[learned:stop], answers[: stop - learned])
        took = time.perf_counter() - start
        seconds[1] += took
        last = learned + k - 1  # the last label learned: with it, a retrain may have come
        served = min(n, last + lag)  # the events this model answered
        predictions[done:served] = answers[done - learned : served - learned]
        versions[learned : last + 1] = [version] * k
        versions[last] = deployment.model_version
        learn_each[served - 1] += took
        done, learned = served, last + 1
    return {
        "predictions": predictions,
        "versions": versions,
        "first_version": first_version,
        "seconds": seconds,
        "learn_each": learn_each,
    }


def _rolling_share(right: np.ndarray, scored: np.ndarray, window: int) -> np.ndarray:
    """Per event, the share of hits among the last ``window`` labels scored by then (NaN before any).

    Whole counts over a whole count, as river's rolled accuracy divides them (and ``simulate``).
    """
    hits = np.concatenate([[0], np.cumsum(right)])
    first = np.maximum(scored - window, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (hits[scored] - hits[first]) / (scored - first)
    return np.where(scored > 0, share, np.nan)
