"""Kinds of drift: sudden, gradual, incremental and recurring concept changes, with known positions.

One generator, :func:`drift_stream`, gives a binary classification stream whose concept (a
hyperplane through the origin) changes in one of four ways (Gama et al. 2014, "A survey on concept
drift adaptation"; CapyMOA's drift tutorials):

- ``"sudden"``: concept A until ``drift_at``, concept B from it on;
- ``"gradual"``: over ``width`` events, each event comes from B with a probability that grows
  from 0 to 1 (the two concepts alternate, B more and more often);
- ``"incremental"``: over ``width`` events, the concept itself moves, step by step, from A to B;
- ``"recurring"``: A, then B from ``drift_at``, then A again from ``recur_at`` (a season).

Concept B is concept A turned by ``angle`` degrees, so the share of the feature space whose label
changes is ``angle / 180`` whatever the seed. Features are independent standard normals; ``noise``
flips that share of the labels. Everything is seeded and offline.

Defined in the Retraining chapter (``book/retraining.ipynb``).
"""

from __future__ import annotations

import copy
import numbers
from collections import deque

import numpy as np
import pandas as pd

from ._checks import fraction, positive_int
from .frames import as_frame
from .monitor import Monitor
from .scenarios import Scenario
from .timeline import LogEntry

__all__ = ["KINDS", "ModelPool", "drift_stream", "concept_weights"]

#: The four kinds of drift, in the order the chapter shows them.
KINDS = ("sudden", "gradual", "incremental", "recurring")


def _concepts(rng, n_features: int, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector ``a`` and a unit vector ``u`` orthogonal to it: B at angle t is cos t a + sin t u."""
    a = rng.normal(size=n_features)
    a /= np.linalg.norm(a)
    u = rng.normal(size=n_features)
    u -= (u @ a) * a
    return a, u / np.linalg.norm(u)


def concept_weights(
    kind: str, n_events: int, drift_at: int, width: int, recur_at: int | None, angle: float, rng
) -> np.ndarray:
    """The angle (degrees, from concept A) of the concept that labels each of ``n_events`` stream events.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    n_events
        Events of the stream (the initial data, before it, is concept A).
    drift_at, width, recur_at
        Where the change starts, how many events it lasts (gradual, incremental), where concept A
        returns (recurring).
    angle
        The angle of concept B, in degrees.
    rng
        A numpy random generator (gradual drift draws which concept labels each event).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> concept_weights("incremental", 5, 1, 2, None, 90.0, rng).tolist()
    [0.0, 0.0, 45.0, 90.0, 90.0]
    """
    t = np.arange(n_events)
    theta = float(angle)
    ramp = np.clip((t - drift_at) / width, 0.0, 1.0)
    if kind == "sudden":
        return np.where(t >= drift_at, theta, 0.0)
    if kind == "incremental":
        return theta * ramp
    if kind == "gradual":
        return np.where(rng.random(n_events) < ramp, theta, 0.0)
    if kind == "recurring":
        return np.where((t >= drift_at) & (t < recur_at), theta, 0.0)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def drift_stream(
    kind: str = "sudden",
    seed: int = 0,
    *,
    n_initial: int = 300,
    n_stream: int = 1500,
    drift_at: int = 500,
    width: int = 300,
    recur_at: int | None = None,
    angle: float = 90.0,
    noise: float = 0.05,
    n_features: int = 4,
    events_per_day: float | None = None,
) -> Scenario:
    """A binary classification stream with one drift of the given ``kind`` at a known position.

    ``scenario.drift_at`` holds the start of each change (two for recurring drift); ``info`` holds
    the kind, the width, where the new concept is fully in place (``info["settled_at"]``) and the
    angle of the concept of each event (``info["concept_angle"]``, degrees).

    Parameters
    ----------
    kind
        ``"sudden"``, ``"gradual"``, ``"incremental"`` or ``"recurring"``.
    seed
        Seeds the concepts, the features, the noise and the arrival times.
    n_initial, n_stream
        Events of the initial (offline) training data and of the stream.
    drift_at
        Stream position where the change starts.
    width
        Events the change lasts (gradual and incremental drift).
    recur_at
        Where concept A returns (recurring drift; default halfway between ``drift_at`` and the end).
    angle
        Degrees between concept A and concept B: the share ``angle / 180`` of labels changes.
    noise
        Share of labels flipped at random.
    n_features
        Features, independent standard normals.
    events_per_day
        If given, events arrive as a Poisson process of that rate and the stream gets a ``day``
        feature (the arrival time, also ``scenario.times``), for time-based schedules.

    Examples
    --------
    >>> sc = drift_stream("gradual", seed=1, n_initial=50, n_stream=400, drift_at=100, width=200)
    >>> sc.drift_at, sc.info["settled_at"], sc.features
    ((100,), (300,), ['x0', 'x1', 'x2', 'x3'])
    >>> sc = drift_stream("recurring", n_initial=50, n_stream=400, drift_at=100)
    >>> sc.drift_at, sc.info["settled_at"]
    ((100, 250), (100, 250))
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    n_initial, n_stream = positive_int(n_initial, "n_initial"), positive_int(n_stream, "n_stream")
    drift_at, width = positive_int(drift_at, "drift_at"), positive_int(width, "width")
    n_features = positive_int(n_features, "n_features")
    if n_features < 2:
        raise ValueError(
            f"n_features must be at least 2 (a concept turns in a plane), got {n_features}"
        )
    if isinstance(angle, bool) or not isinstance(angle, numbers.Real) or not 0 < angle <= 180:
        raise ValueError(f"angle must be a number of degrees in (0, 180], got {angle!r}")
    noise = fraction(noise, "noise", high=0.5)
    if drift_at >= n_stream:
        raise ValueError(
            f"drift_at must be inside the stream (< n_stream={n_stream}), got {drift_at}"
        )
    if kind == "recurring":
        recur_at = (
            (drift_at + n_stream) // 2 if recur_at is None else positive_int(recur_at, "recur_at")
        )
        if not drift_at < recur_at < n_stream:
            raise ValueError(
                f"recur_at must be between drift_at={drift_at} and n_stream={n_stream}, got {recur_at}"
            )
    elif recur_at is not None:
        raise ValueError(f"recur_at is only for kind='recurring', got it for {kind!r}")
    if events_per_day is not None and (
        isinstance(events_per_day, bool)
        or not isinstance(events_per_day, numbers.Real)
        or not events_per_day > 0
    ):
        raise ValueError(f"events_per_day must be a positive number, got {events_per_day!r}")
    rng = np.random.default_rng(seed)
    a, u = _concepts(rng, n_features, angle)
    n = n_initial + n_stream
    X = rng.normal(size=(n, n_features))
    degrees = np.concatenate(
        [
            np.zeros(n_initial),
            concept_weights(kind, n_stream, drift_at, width, recur_at, angle, rng),
        ]
    )
    theta = np.radians(degrees)
    w = np.cos(theta)[:, None] * a + np.sin(theta)[:, None] * u
    y = (np.einsum("ij,ij->i", X, w) > 0).astype(int)
    flip = rng.random(n) < noise
    y[flip] = 1 - y[flip]
    frame = pd.DataFrame(X.round(4), columns=[f"x{i}" for i in range(n_features)])
    if events_per_day is None:
        times = np.arange(n, dtype=float) - n_initial
    else:
        gaps = rng.exponential(1.0 / events_per_day, n)
        times = np.cumsum(gaps) - gaps[:n_initial].sum()
        frame.insert(0, "day", times.round(4))
    starts = (drift_at,) if kind != "recurring" else (drift_at, recur_at)
    settled = (drift_at + width,) if kind in ("gradual", "incremental") else starts
    return Scenario(
        f"{kind} drift",
        "classification",
        frame.iloc[:n_initial].reset_index(drop=True),
        y[:n_initial],
        frame.iloc[n_initial:].reset_index(drop=True),
        y[n_initial:],
        times[n_initial:],
        starts,
        description=f"Rotating hyperplane, {kind} drift of {angle:g} degrees at event {drift_at}"
        + (f" over {width} events" if kind in ("gradual", "incremental") else "")
        + (f", concept A back at {recur_at}" if kind == "recurring" else "")
        + f", {100 * noise:g}% label noise.",
        info={
            "kind": kind,
            "width": width,
            "angle": angle,
            "noise": noise,
            "settled_at": settled,
            "concept_angle": degrees[n_initial:],
        },
    )


class ModelPool:
    """Online learning that keeps a second model: what it knew before the last drift, for when it recurs.

    A live river ``model`` learns every event. Every ``checkpoint_every`` events a copy of it is
    kept (the last two); when the ``detector`` (ADWIN by default, run by a
    :class:`~deployment_modes.monitor.Monitor`) raises an upward alarm on the live model's errors,
    the older copy, taken before the change, joins the pool (at most ``size`` old models, the
    oldest
    leaves first). Every model of the pool is scored on each event; the one with the fewest errors
    over the last ``window`` events answers (the live one on ties). Old models do not learn: they are
    the memory of their concept, which a single model that adapted to a new concept has lost.

    Parameters
    ----------
    model
        A river classifier (``learn_one``, ``predict_one``): the live model.
    detector
        A river drift detector on the live model's errors (default: ``river.drift.ADWIN()``).
    window
        Recent events on which the models are compared.
    size
        Old models kept at most.
    checkpoint_every
        Events between two copies of the live model.

    Examples
    --------
    >>> from river import linear_model
    >>> pool = ModelPool(linear_model.LogisticRegression())
    >>> pool.fit_initial([[0.0], [1.0]], [False, True])
    >>> pool.learn_one({"x0": 1.0}, True); pool.predict_one({"x0": 1.0}), len(pool.models)
    (True, 1)
    """

    def __init__(
        self, model, *, detector=None, window: int = 30, size: int = 3, checkpoint_every: int = 100
    ):
        if not callable(getattr(model, "learn_one", None)) or not callable(
            getattr(model, "predict_one", None)
        ):
            raise TypeError(
                f"model must be a river model (learn_one, predict_one), got {type(model).__name__}"
            )
        if detector is None:
            from river import drift

            detector = drift.ADWIN()
        if not callable(getattr(detector, "update", None)):
            raise TypeError(
                f"detector must be a river drift detector, got {type(detector).__name__}"
            )
        self.window, self.size = positive_int(window, "window"), positive_int(size, "size")
        self.checkpoint_every = positive_int(checkpoint_every, "checkpoint_every")
        self._model, self.detector = model, detector
        self.model_version, self.n_seen, self.log = 0, 0, []
        self.models: list = []

    def fit_initial(self, X, y) -> None:
        """Train the live model on ``(X, y)``, row by row, in order; the pool holds it alone."""
        X = as_frame(X)
        labels = [v.item() if isinstance(v, np.generic) else v for v in np.asarray(y)]
        if len(labels) != len(X):
            raise ValueError(
                f"y must have one label per row of X: {len(labels)} labels for {len(X)} rows"
            )
        live = copy.deepcopy(self._model)
        for x, label in zip(X.to_dict(orient="records"), labels):
            live.learn_one(x, label)
        self.models, self._errors = [live], [deque(maxlen=self.window)]
        self._checkpoints = deque(maxlen=2)
        self._monitor = Monitor(
            classification=True, window=self.window, detector=self.detector.clone()
        )
        self.model_version, self.n_seen, self.log = 1, 0, [LogEntry(0, "train", rows=len(labels))]

    def _best(self) -> int:
        return min(range(len(self.models)), key=lambda i: (sum(self._errors[i]), i != 0))

    def predict_one(self, x: dict):
        """The prediction of the model with the fewest recent errors."""
        if not self.models:
            raise RuntimeError("the pool has no model yet: call fit_initial(X, y) first")
        return self.models[self._best()].predict_one(x)

    def learn_one(self, x: dict, y) -> None:
        """Score every model on the event, let the live one learn, and keep an old model on an alarm."""
        if not isinstance(x, dict):
            raise TypeError(f"x must be a dict of feature -> value, got {type(x).__name__}")
        if not self.models:
            raise RuntimeError("the pool has no model yet: call fit_initial(X, y) first")
        predictions = [model.predict_one(x) for model in self.models]
        for p, errors in zip(predictions, self._errors):
            errors.append(float(p != y))
        alarm = self._monitor.update(y, predictions[0], self.n_seen + 1)
        self.models[0].learn_one(x, y)
        self.n_seen += 1
        self.model_version += 1
        if alarm is not None and alarm.up and self._checkpoints:
            self.models.insert(1, self._checkpoints[0])
            self._errors.insert(1, deque(maxlen=self.window))
            del self.models[self.size + 1 :], self._errors[self.size + 1 :]
            self._checkpoints.clear()
            self.log.append(
                LogEntry(self.n_seen, "alarm", detail=f"old model kept, pool of {len(self.models)}")
            )
        elif self.n_seen % self.checkpoint_every == 0:
            self._checkpoints.append(copy.deepcopy(self.models[0]))
