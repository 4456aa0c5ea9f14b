"""Training compute: the one measure of what training cost, in rows and in seconds.

Every chapter that shows a cost of training shows :func:`cumulative_compute` of a
:class:`~deployment_modes.Timeline` (its last value for a total), under the names
**training compute (rows)** and **training compute (seconds)**, defined in the glossary:

- a *fit* (the first, offline training; a batch retrain from scratch) counts the rows it fitted
  and the seconds the deployment logged for it;
- an *in-place update* of the served model (online learning, one event or one mini-batch at a
  time) counts the events it learned and the seconds ``learn_one`` took on them.

``where`` splits the two: ``"offline"`` is the fits (a retraining job can run away from the
server), ``"serving"`` the in-place updates (they run where the model serves).

Defined in the Comparison chapter (``book/comparison.ipynb``); the Batch, Online and Retraining
chapters glue it too.
"""

from __future__ import annotations

import numpy as np

from .timeline import Timeline

__all__ = ["FITS", "cumulative_compute", "retrain_costs"]

#: The log entries that are fits (counted with their own rows and seconds).
FITS = ("train", "retrain")


def cumulative_compute(timeline: Timeline, unit: str = "rows", where: str = "all") -> np.ndarray:
    """Training compute up to each event: every fit's rows (or seconds), plus each in-place update's.

    A fit (the first training, counted at the first event; a retrain) counts the rows it fitted,
    or the seconds logged for it. An in-place update (the served model's version changes without
    a fit) counts the events since the previous one, or the seconds ``learn_one`` took on them.

    Parameters
    ----------
    timeline
        A run of :func:`~deployment_modes.simulate`.
    unit
        ``"rows"`` (int, the same on every machine) or ``"seconds"`` (float, this machine's).
    where
        ``"all"``; ``"offline"``: the fits only; ``"serving"``: the in-place updates only.

    Returns
    -------
    numpy.ndarray
        One value per event, non-decreasing; the last is the run's total.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> sc = dm.scenarios.house_prices(n_initial=100, n_stream=300)
    >>> tl = dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=100), metrics.MAE())
    >>> cumulative_compute(tl)[[0, 99, -1]]  # 100 initial rows; a refit on 200 at event 100; ...
    array([ 100,  300, 1000])
    >>> int(cumulative_compute(tl, where="serving")[-1]), float(cumulative_compute(tl, "seconds")[-1]) > 0
    (0, True)
    """
    if not isinstance(timeline, Timeline):
        raise TypeError(
            f"timeline must be a Timeline (from dm.simulate), got {type(timeline).__name__}"
        )
    if unit not in ("rows", "seconds"):
        raise ValueError(f"unit must be 'rows' or 'seconds', got {unit!r}")
    if where not in ("all", "offline", "serving"):
        raise ValueError(f"where must be 'all', 'offline' or 'serving', got {where!r}")
    fits, refit = _fits(timeline, unit)
    updates = _updates(timeline, unit, refit)
    per_event = {"all": fits + updates, "offline": fits, "serving": updates}[where]
    return np.cumsum(per_event)


def retrain_costs(timeline: Timeline, drift_at=()) -> dict:
    """What a run's retraining cost and bought: one row of a retrain-interval sweep.

    Parameters
    ----------
    timeline
        A run of :func:`~deployment_modes.simulate` (or the same run written out).
    drift_at
        The scenario's drifts: with one, ``score_after_drift`` scores from the first on.

    Returns
    -------
    dict
        ``retrains``, ``compute_rows``, ``compute_seconds`` (:func:`cumulative_compute`'s totals),
        ``score`` and, with a drift, ``score_after_drift``.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> sc = dm.scenarios.house_prices(n_initial=100, n_stream=300)
    >>> tl = dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=100), metrics.MAE())
    >>> row = retrain_costs(tl)
    >>> row["retrains"], row["compute_rows"]  # at events 100, 200 and 300
    (3, 1000)
    """
    row = {
        "retrains": len(timeline.retrains),
        "compute_rows": int(cumulative_compute(timeline)[-1]),
        "compute_seconds": float(cumulative_compute(timeline, "seconds")[-1]),
        "score": timeline.score,
    }
    if drift_at:
        row["score_after_drift"] = timeline.window_score(drift_at[0])
    return row


def _fits(timeline: Timeline, unit: str):
    """Per event, the fits' rows or seconds; and where a retrain happened."""
    n = len(timeline)
    values = np.zeros(n, dtype=np.int64 if unit == "rows" else float)
    refit = np.zeros(n, dtype=bool)
    for entry in timeline.log:
        if entry.kind in FITS:
            at = min(max(entry.at, 1), n) - 1
            values[at] += entry.rows if unit == "rows" else entry.seconds
            refit[at] |= entry.kind == "retrain"
    return values, refit


def _updates(timeline: Timeline, unit: str, refit) -> np.ndarray:
    """Per event, the in-place updates' rows (events covered) or seconds (their learn_one time)."""
    n = len(timeline)
    values = np.zeros(n, dtype=np.int64 if unit == "rows" else float)
    version = np.asarray(timeline.model_version, dtype=np.int64)
    before = np.concatenate([[1], version[:-1]])
    updates = np.flatnonzero((version > before) & ~refit)
    if unit == "seconds" and len(updates) and timeline.learn_seconds_each is None:
        raise ValueError(
            "timeline has in-place updates but no per-event learning times: run it with dm.simulate"
        )
    if not len(updates):
        return values
    firsts = np.concatenate([[0], updates[:-1] + 1])  # each update covers the events since the last
    if unit == "rows":
        values[updates] = updates - firsts + 1
    else:
        seconds = np.asarray(timeline.learn_seconds_each, dtype=float)[: updates[-1] + 1]
        values[updates] = np.add.reduceat(seconds, firsts)
    return values
