"""Drift detectors measured: detection delay, false alarms and missed drifts on streams with known drifts.

A drift detector watches a signal (here the served model's errors, 0 or 1 per event) and raises
an alarm when its distribution changes. It is scored on streams whose drift positions are known
(Bifet et al., "Learning from time-changing data with adaptive windowing", 2007; CapyMOA's
``EvaluateDetector``):

- **detection delay**: events from the start of the drift to the first alarm at or after it;
- **false alarm**: an alarm before the drift started, counted per 10,000 events without drift;
- **missed drift**: no alarm between the drift and the end of the stream (at most ``max_delay``).

The error streams are those of a static model trained before the drift (:func:`error_streams`), on
the sudden and gradual streams of :mod:`~deployment_modes.drift_kinds`. :data:`TUNED` holds the
settings that :func:`tune` picks on separate seeds; a test checks that it still picks them.

Defined in the Retraining chapter (``book/retraining.ipynb``).
"""

from __future__ import annotations

import contextlib
import math
import numbers

import numpy as np
import pandas as pd

from ._checks import positive_int
from .drift_kinds import drift_stream
from .threads import one_thread

__all__ = [
    "GRIDS",
    "TUNED",
    "default_detectors",
    "detect",
    "error_streams",
    "measure_detectors",
    "summarize_detectors",
    "tune",
    "tuned_detectors",
]

#: Settings tried by :func:`tune` for each detector: one parameter, its values (the default first).
GRIDS = {
    "ADWIN": ("delta", [0.002, 0.02, 0.1, 0.3]),
    "PageHinkley": ("threshold", [50.0, 25.0, 10.0, 5.0]),
    "KSWIN": ("window_size", [100, 300, 500]),
    "DDM": ("drift_threshold", [3.0, 2.5, 2.0]),
    "EDDM": ("beta", [0.9, 0.8, 0.7]),
}

#: The settings :func:`tune` picks on the tuning seeds (checked by the tests).
TUNED = {"ADWIN": 0.1, "PageHinkley": 10.0, "KSWIN": 500, "DDM": 3.0, "EDDM": 0.7}

#: Seeds on which the detectors are tuned, apart from the seeds they are measured on.
TUNING_SEEDS = (100, 101, 102)


def _make(name: str, value=None):
    from river import drift
    from river.drift import binary

    classes = {
        "ADWIN": drift.ADWIN,
        "PageHinkley": drift.PageHinkley,
        "KSWIN": drift.KSWIN,
        "DDM": binary.DDM,
        "EDDM": binary.EDDM,
    }
    if name not in classes:
        raise ValueError(f"name must be one of {sorted(classes)}, got {name!r}")
    kwargs = {} if value is None else {GRIDS[name][0]: value}
    if name == "KSWIN":
        kwargs["stat_size"] = (
            kwargs.get("window_size", 100) * 3 // 10
        )  # its default share of the window
        kwargs["seed"] = (
            0  # KSWIN samples its reference window at random: seeded, as everything here
        )
    if name == "PageHinkley":
        kwargs["mode"] = "up"  # an error rate that rises is the drift that matters
    if name == "EDDM" and value is not None:
        kwargs["alpha"] = max(0.95, value + 0.05)  # its warning level stays above the drift level
    return classes[name](**kwargs)


def default_detectors() -> dict:
    """river's detectors at their default settings (KSWIN seeded, PageHinkley watching rises).

    Examples
    --------
    >>> sorted(default_detectors())
    ['ADWIN', 'DDM', 'EDDM', 'KSWIN', 'PageHinkley']
    """
    return {name: _make(name) for name in GRIDS}


def tuned_detectors(settings: dict | None = None) -> dict:
    """The detectors at the ``settings`` of their :data:`GRIDS` parameter.

    Parameters
    ----------
    settings
        Detector name -> value of its :data:`GRIDS` parameter (default: :data:`TUNED`).

    Examples
    --------
    >>> tuned_detectors()["ADWIN"].delta
    0.1
    """
    settings = TUNED if settings is None else settings
    return {name: _make(name, value) for name, value in settings.items()}


def error_streams(
    kind: str = "sudden",
    seeds=range(5),
    *,
    n_stream: int = 1000,
    drift_at: int = 600,
    angle: float = 30.0,
    **kwargs,
) -> list[tuple[np.ndarray, int]]:
    """The errors (0/1) of a static logistic regression on :func:`~deployment_modes.drift_kinds.drift_stream`.

    One ``(errors, drift_at)`` per seed; the model is trained on the stream's initial data, so its
    error rate rises when the concept turns by ``angle`` degrees at ``drift_at``.

    Parameters
    ----------
    kind
        The kind of drift (see :data:`~deployment_modes.drift_kinds.KINDS`).
    seeds
        One stream per seed.
    n_stream, drift_at, angle, **kwargs
        Passed to :func:`~deployment_modes.drift_kinds.drift_stream`.

    Examples
    --------
    >>> [(len(e), at) for e, at in error_streams(seeds=[0, 1], n_stream=300, drift_at=200)]
    [(300, 200), (300, 200)]
    """
    from sklearn.linear_model import LogisticRegression

    streams = []
    for seed in seeds:
        sc = drift_stream(kind, seed, n_stream=n_stream, drift_at=drift_at, angle=angle, **kwargs)
        with one_thread():  # a small fit: BLAS threads only wait for each other
            model = LogisticRegression().fit(sc.X_initial.to_numpy(), sc.y_initial)
        streams.append(((model.predict(sc.X.to_numpy()) != sc.y).astype(float), drift_at))
    if not streams:
        raise ValueError("seeds must hold at least one seed")
    return streams


class _MemoStats:
    """Stands in for ``scipy.stats`` in river's KSWIN: the same ``ks_2samp``, computed once per pair of samples.

    The test depends on the two samples only as multisets; on a 0/1 error stream there are few of
    them, so remembering each result makes KSWIN fast without changing a single p-value. One memo
    serves every :func:`detect` of the process (the same pairs recur across streams and settings);
    it holds at most ``limit`` results and starts afresh when full.
    """

    def __init__(self, limit: int = 100_000):
        from scipy import stats

        self._ks, self._cache, self._limit = stats.ks_2samp, {}, limit
        # the test itself, without the wrapper that handles NaNs and axes (a sixth of the time):
        # KSWIN's samples are 1-D and hold no NaN, so the result is the same
        self._test = getattr(stats.ks_2samp, "__wrapped__", None)

    def ks_2samp(self, a, b, method="auto"):
        key = (tuple(sorted(a)), tuple(sorted(b)), method)
        result = self._cache.get(key)
        if result is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            if self._test is None or np.isnan(a).any() or np.isnan(b).any():
                result = self._ks(a, b, method=method)
            else:
                result = self._test(a, b, method=method)
            self._cache[key] = result
        return result


_SHARED_MEMO: list = []  # the one _MemoStats of the process, made at the first detect


@contextlib.contextmanager
def _memo_ks():
    from river.drift import kswin

    if not _SHARED_MEMO:
        _SHARED_MEMO.append(_MemoStats())
    saved, kswin.stats = kswin.stats, _SHARED_MEMO[0]
    try:
        yield
    finally:
        kswin.stats = saved


def detect(detector, errors) -> list[int]:
    """Feed ``errors`` to a fresh clone of ``detector``; return the positions of its alarms.

    Parameters
    ----------
    detector
        A river drift detector (it is cloned, never changed).
    errors
        The values to feed it, in order.

    Examples
    --------
    >>> from river import drift
    >>> detect(drift.ADWIN(), [0.0] * 500 + [1.0] * 100)
    [511]
    """
    if not callable(getattr(detector, "update", None)) or not callable(
        getattr(detector, "clone", None)
    ):
        raise TypeError(f"detector must be a river drift detector, got {type(detector).__name__}")
    detector = detector.clone()
    alarms = []
    with _memo_ks():
        for i, error in enumerate(errors):
            detector.update(float(error))
            if detector.drift_detected:
                alarms.append(i)
    return alarms


def measure_detectors(detectors: dict, streams, *, max_delay: int | None = None) -> pd.DataFrame:
    """One row per detector and stream: delay to the first alarm at or after the drift, false alarms.

    ``delay`` is NaN for a missed drift; ``false_alarms`` counts the alarms before the drift, among
    ``stable_events`` events.

    Parameters
    ----------
    detectors
        Name -> river drift detector.
    streams
        ``(errors, drift_at)`` pairs (:func:`error_streams`).
    max_delay
        A drift with no alarm within that many events is missed (default: the rest of the stream).

    Examples
    --------
    >>> from river import drift
    >>> measure_detectors({"ADWIN": drift.ADWIN()}, [([0.0] * 500 + [1.0] * 100, 500)])["delay"].tolist()
    [11.0]
    """
    if not isinstance(detectors, dict) or not detectors:
        raise TypeError("detectors must be a non-empty dict of name -> river drift detector")
    max_delay = positive_int(max_delay, "max_delay", allow_none=True)
    streams = list(streams)
    if not streams:
        raise ValueError("streams must hold at least one (errors, drift_at) pair")
    rows = []
    for name, detector in detectors.items():
        for index, (errors, at) in enumerate(streams):
            if (
                isinstance(at, bool)
                or not isinstance(at, numbers.Integral)
                or not 0 < at < len(errors)
            ):
                raise ValueError(
                    f"each stream's drift_at must be inside it, got {at!r} for {len(errors)} events"
                )
            alarms = detect(detector, errors)
            limit = len(errors) if max_delay is None else min(len(errors), at + max_delay)
            found = [a for a in alarms if at <= a < limit]
            rows.append(
                {
                    "detector": name,
                    "stream": index,
                    "delay": float(found[0] - at) if found else math.nan,
                    "false_alarms": sum(a < at for a in alarms),
                    "stable_events": at,
                }
            )
    return pd.DataFrame(rows)


def summarize_detectors(measured: pd.DataFrame) -> pd.DataFrame:
    """Per detector: mean, min and max delay over the detected drifts, false alarms per 10,000, missed.

    Parameters
    ----------
    measured
        The table of :func:`measure_detectors`.

    Examples
    --------
    >>> from river import drift
    >>> m = measure_detectors({"ADWIN": drift.ADWIN()}, [([0.0] * 500 + [1.0] * 100, 500)] * 2)
    >>> row = summarize_detectors(m).loc["ADWIN"]
    >>> float(row["mean_delay"]), int(row["missed"]), int(row["streams"])
    (11.0, 0, 2)
    """
    groups = measured.groupby("detector", sort=False)
    table = pd.DataFrame(
        {
            "mean_delay": groups["delay"].mean(),
            "min_delay": groups["delay"].min(),
            "max_delay": groups["delay"].max(),
            "false_alarms_per_10k": 1e4
            * groups["false_alarms"].sum()
            / groups["stable_events"].sum(),
            "missed": groups["delay"].apply(lambda d: int(d.isna().sum())),
            "streams": groups.size(),
        }
    )
    return table


def tune(name: str, streams, *, max_false_alarms: float = 10.0, grid=None):
    """The value of ``name``'s :data:`GRIDS` parameter with the shortest mean delay on ``streams``.

    A missed drift counts as a delay of all the events after the drift. Only settings with at most
    ``max_false_alarms`` per 10,000 stable events count; if none does, the default (first value) is kept.

    Parameters
    ----------
    name
        A detector of :data:`GRIDS`.
    streams
        ``(errors, drift_at)`` pairs to tune on (not those it is measured on).
    max_false_alarms
        The false-alarm budget, per 10,000 events without drift.
    grid
        The values to try (default: the detector's :data:`GRIDS` values).

    Examples
    --------
    >>> tune("DDM", error_streams(seeds=[100], n_stream=400, drift_at=250), grid=[3.0, 2.0])
    2.0
    """
    if name not in GRIDS:
        raise ValueError(f"name must be one of {sorted(GRIDS)}, got {name!r}")
    values = GRIDS[name][1] if grid is None else list(grid)
    if not values:
        raise ValueError("grid must hold at least one value")
    streams = list(streams)
    best, best_delay = values[0], math.inf
    longest = [len(errors) - at for errors, at in streams]
    for value in values:
        measured = measure_detectors({name: _make(name, value)}, streams)
        delay = float(np.mean(measured["delay"].fillna(pd.Series(longest)).to_numpy()))
        false_alarms = summarize_detectors(measured).iloc[0]["false_alarms_per_10k"]
        if false_alarms <= max_false_alarms and delay < best_delay:
            best, best_delay = value, delay
    return best
