"""Online (incremental) learning: the deployed model learns from every labelled event while it serves.

After the first, offline training (``fit_initial``), each ``learn_one(x, y)`` updates the served
model in place, one event (or one mini-batch) at a time. The model is a river model
(``learn_one``/``predict_one``) or a scikit-learn estimator with ``partial_fit``: one small adapter
shows both the river way, so the deployment has one code path.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import copy
import math
import numbers
import time
from collections import deque

import numpy as np
import pandas as pd

from ._checks import has_method, plain, positive_int
from .batch import as_frame
from .timeline import LogEntry

__all__ = ["OnlineDeployment", "events_to_recover", "sgd_model", "sweep_learning_rate"]


def _is_classifier(model) -> bool:
    if callable(getattr(model, "learn_one", None)):
        from river import base, compose

        last = model._last_step if isinstance(model, compose.Pipeline) else model
        return isinstance(last, (base.Classifier, base.MultiLabelClassifier))
    from sklearn.base import is_classifier

    return is_classifier(model)


def _is_fitted(estimator) -> bool:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


class _Model:
    """A river model, or a scikit-learn estimator with ``partial_fit`` seen the river way.

    ``transform`` (scikit-learn only) maps events to the estimator's features: a transformer
    with ``transform`` (an event with one text feature gives it the text, e.g. a
    ``HashingVectorizer``; other events are given as dicts, e.g. a ``FeatureHasher``) or a
    callable ``f(list_of_events) -> matrix``. Without it, the features are the event's values in
    the order of the first event (or of the initial training columns).
    """

    def __init__(self, model, classes=None, transform=None):
        self.river = callable(getattr(model, "learn_one", None))
        if not self.river:
            has_method(model, "partial_fit", "model (a river model or an estimator with partial_fit)")
            has_method(model, "predict", "model")
        self.model, self.transform = model, transform
        self.classifier = _is_classifier(model)
        if not self.river and self.classifier and classes is None and not _is_fitted(model):
            raise ValueError("classes must list every class label for a scikit-learn classifier "
                             "(it is passed to the first partial_fit)")
        self.classes = None if classes is None else [plain(c) for c in classes]
        self.fitted = self.river or _is_fitted(model)
        self.columns = None

    # scikit-learn side: events -> matrix
    def _matrix(self, xs):
        if self.transform is not None:
            if callable(getattr(self.transform, "transform", None)):
                if all(len(x) == 1 and isinstance(next(iter(x.values())), str) for x in xs):
                    xs = [next(iter(x.values())) for x in xs]
                return self.transform.transform(xs)
            return self.transform(xs)
        if self.columns is None:
            self.columns = list(xs[0])
        return np.array([[x[c] for c in self.columns] for x in xs], dtype=float)

    def predict_one(self, x):
        if self.river:
            return self.model.predict_one(x)
        if not self.fitted:
            return None
        return plain(self.model.predict(self._matrix([x]))[0])

    def predict_proba_one(self, x):
        if self.river:
            if not callable(getattr(self.model, "predict_proba_one", None)):
                raise TypeError(f"model {type(self.model).__name__} has no predict_proba_one")
            return self.model.predict_proba_one(x)
        if not callable(getattr(self.model, "predict_proba", None)):
            raise TypeError(f"model {type(self.model).__name__} has no predict_proba")
        if not self.fitted:
            return {}
        proba = self.model.predict_proba(self._matrix([x]))[0]
        return {plain(c): float(p) for c, p in zip(self.model.classes_, proba)}

    def learn_one(self, x, y):
        if self.river:
            self.model.learn_one(x, y)
        else:
            self.learn_many([x], [y])

    def learn_many(self, xs, ys):
        """Learn a list of events: one step per event (``learn_one``) or one batch step."""
        if self.river:
            if len(xs) == 1:
                self.model.learn_one(xs[0], ys[0])
            elif callable(getattr(self.model, "learn_many", None)):
                self.model.learn_many(pd.DataFrame(xs), pd.Series(ys))
            else:
                for x, y in zip(xs, ys):
                    self.model.learn_one(x, y)
            return
        kwargs = {"classes": self.classes} if self.classifier and not self.fitted else {}
        self.model.partial_fit(self._matrix(xs), np.asarray(ys), **kwargs)
        self.fitted = True


class OnlineDeployment:
    """Deploy a model that learns from every labelled event while it keeps serving predictions.

    ``model`` is a river model or a scikit-learn estimator with ``partial_fit`` (``classes``:
    every class label, required by a scikit-learn classifier; ``transform``: an optional stateless
    feature map for it, see ``_Model``). The deployment works on its own copy of ``model``, which may
    already be trained: ``predict_one`` and ``learn_one`` then work without ``fit_initial``.

    ``batch_size``: learn in mini-batches of that many events (river's ``learn_many``, or one
    ``partial_fit`` per batch) instead of one event at a time. A batch step is not a loop of single
    steps: a linear model takes one averaged gradient step per batch, and the served model waits
    for the batch to fill before it changes.

    **Monitoring** (``monitor=True``, implied by any guardrail): the served model's prediction for
    each revealed event is scored with a rolling ``metric`` over the last ``window`` events
    (:attr:`rolling`), and its error (0/1, or the absolute error in regression) feeds a river drift
    ``detector`` (ADWIN by default). A detection is logged as an ``"alarm"``; it is an *upward*
    alarm when the error went up (the detector's ``estimation`` of the error, ADWIN's mean over its
    window, is higher after the change than before it; a detector without one counts as upward). The guardrails react to upward alarms only, and are off by default:

    - ``checkpoint_every=k``: every ``k`` events with no alarm standing, a copy of the model is kept
      (the last two); on an upward alarm the served model is restored from the older one, taken
      ``k`` to ``2k`` events before the alarm, before the bad events began if the detector is quick
      (``"rollback"``); the event that raised the alarm is not learned.
    - ``max_pause=m``: on an upward alarm learning stops (``"pause"``); the model keeps serving and being
      scored, and learning resumes (``"resume"``) when the error of the last ``window // 4`` events is
      back within ``tolerance`` (relative) of its level before the alarm, or after ``m`` events.
    - ``gate=g``: a candidate copy learns every event while the served model stays as it is; every
      ``g`` events the candidate replaces the served model (``"swap"``) only if its prequential error
      on those events is not larger than the served model's, else it is discarded (``"reject"``)
      and restarts from the served model.

    >>> from river import linear_model
    >>> dep = OnlineDeployment(linear_model.LinearRegression())
    >>> dep.fit_initial([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    >>> dep.learn_one({"x0": 3.0}, 3.0)
    >>> dep.model_version, dep.n_seen, [e.kind for e in dep.log]
    (2, 1, ['train'])
    """

    def __init__(self, model, *, classes=None, transform=None, batch_size: int | None = None,
                 monitor: bool = False, metric=None, window: int = 200, detector=None,
                 checkpoint_every: int | None = None, max_pause: int | None = None, gate: int | None = None,
                 tolerance: float = 0.25):
        if model is None:
            raise TypeError("model must be a river model or a scikit-learn estimator with partial_fit, got None")
        self._initial = copy.deepcopy(model)
        self._model = _Model(copy.deepcopy(model), classes, transform)
        self.batch_size = positive_int(batch_size, "batch_size", allow_none=True)
        self.window = positive_int(window, "window")
        self.checkpoint_every = positive_int(checkpoint_every, "checkpoint_every", allow_none=True)
        self.max_pause = positive_int(max_pause, "max_pause", allow_none=True)
        self.gate = positive_int(gate, "gate", allow_none=True)
        if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not tolerance >= 0:
            raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
        self.tolerance = float(tolerance)
        if not isinstance(monitor, bool):
            raise TypeError(f"monitor must be True or False, got {monitor!r}")
        self.monitor = monitor or any(v is not None for v in (checkpoint_every, max_pause, gate))
        if metric is None:
            from river import metrics

            metric = metrics.Accuracy() if self._model.classifier else metrics.MAE()
        for method in ("update", "get", "clone"):
            has_method(metric, method, "metric")
        if detector is None:
            from river import drift

            detector = drift.ADWIN()
        has_method(detector, "update", "detector")
        self.metric, self.detector = metric, detector
        self.model_version = 0
        self.log: list[LogEntry] = []
        self.n_seen = 0
        self._features = None
        self._label_kind = self._label_type = None
        self._reset_state()

    def _reset_state(self) -> None:
        self._buffer: list = []
        self._last = None  # (x, prediction) of the last predict, reused by learn_one's monitoring
        self._pairs = deque(maxlen=self.window)  # (y, prediction) of the last events, for `rolling`
        self._detector = self.detector.clone()
        self._errors = deque(maxlen=self.window)
        self._error_sum = 0.0
        self._levels = deque(maxlen=2)  # the error level at the last two checkpoints
        self._checkpoints = deque(maxlen=2)
        self.paused_since = None
        self._baseline = None
        self._candidate = copy.deepcopy(self._model) if self.gate else None
        self._gate_errors = [0.0, 0.0]  # served, candidate, since the last gate decision
        self._gate_n = 0

    @property
    def rolling(self):
        """The ``metric`` over the last ``window`` monitored events (computed when asked, not per event)."""
        metric = self.metric.clone()
        for y, p in self._pairs:
            metric.update(y, p)
        return metric

    @property
    def model(self):
        """The served model (river model or scikit-learn estimator)."""
        return self._model.model

    @property
    def paused(self) -> bool:
        """Whether learning is paused because an alarm stands."""
        return self.paused_since is not None

    # -- input checks: raise before anything changes -------------------------------------------
    def _check_x(self, x, name: str = "x") -> None:
        if not isinstance(x, dict):
            raise TypeError(f"{name} must be a dict of feature -> value, got {type(x).__name__}")
        if self._features is not None and x.keys() != self._features:
            missing = sorted(self._features - x.keys(), key=str)
            extra = sorted(x.keys() - self._features, key=str)
            raise ValueError(f"{name} has features that differ from training: missing {missing}, extra {extra}")
        for key, value in x.items():
            kind = type(value)
            if kind is float:
                if not math.isfinite(value):
                    raise ValueError(f"{name}[{key!r}] must be finite, got {value!r}")
            elif kind is not int and kind is not str and kind is not bool:  # the fast path ends here
                if isinstance(value, str):
                    continue
                if not isinstance(value, numbers.Real):
                    raise TypeError(f"{name}[{key!r}] must be a number or a string, "
                                    f"got {type(value).__name__} {value!r}")
                if not math.isfinite(value):
                    raise ValueError(f"{name}[{key!r}] must be finite, got {value!r}")

    def _check_y(self, y, name: str = "y"):
        y = plain(y)
        if type(y) is self._label_type and self._model.classes is None and (type(y) is not float or math.isfinite(y)):
            return y  # the fast path: a label of the very type of the earlier ones
        if not self._model.classifier:
            if isinstance(y, bool) or not isinstance(y, numbers.Real):
                raise TypeError(f"{name} must be a number (a regression target), got {type(y).__name__} {y!r}")
            if not math.isfinite(y):
                raise ValueError(f"{name} must be finite, got {y!r}")
            return y
        if not isinstance(y, (str, numbers.Integral)):
            raise TypeError(f"{name} must be a class label (str, int or bool), got {type(y).__name__} {y!r}")
        kind = self._label_kind
        if kind is not None and not isinstance(y, kind):
            raise TypeError(f"{name} must be a class label like the earlier ones ({kind.__name__}), "
                            f"got {type(y).__name__} {y!r}")
        if self._model.classes is not None and y not in self._model.classes:
            raise ValueError(f"{name} must be one of the classes {self._model.classes}, got {y!r}")
        return y

    def _remember(self, x, y) -> None:
        if self._features is None:
            self._features = frozenset(x)
        if self._label_type is None:
            self._label_type = type(y)
        if self._model.classifier and self._label_kind is None:
            self._label_kind = str if isinstance(y, str) else numbers.Integral

    # -- the deployment interface -----------------------------------------------------------------
    def fit_initial(self, X, y, *, epochs: int = 1) -> None:
        """The first, offline training on ``(X, y)`` (``epochs`` passes): version 1 of the model.

        Starts from a fresh copy of the model given to the constructor and forgets the log.
        """
        epochs = positive_int(epochs, "epochs")
        X = as_frame(X)
        y = [plain(v) for v in np.asarray(y).tolist()]
        if len(y) != len(X):
            raise ValueError(f"y must have one label per row of X: {len(y)} labels for {len(X)} rows")
        rows = X.to_dict(orient="records")
        fresh = copy.copy(self)
        fresh._model = _Model(copy.deepcopy(self._initial), self._model.classes, self._model.transform)
        fresh.model_version, fresh.log, fresh.n_seen, fresh._features = 0, [], 0, None
        fresh._label_kind = fresh._label_type = None
        for i, (x, target) in enumerate(zip(rows, y)):
            fresh._check_x(x, f"X row {i}")
            target = fresh._check_y(target, f"y[{i}]")
            fresh._remember(x, target)
        fresh._model.columns = list(X.columns)
        start = time.perf_counter()
        for _ in range(epochs):
            if fresh._model.river and fresh.batch_size is None:
                for x, target in zip(rows, y):
                    fresh._model.model.learn_one(x, target)
            else:
                step = fresh.batch_size or len(rows)
                for i in range(0, len(rows), step):
                    fresh._model.learn_many(rows[i:i + step], y[i:i + step])
        fresh._reset_state()
        fresh.model_version = 1
        fresh.log.append(LogEntry(0, "train", rows=len(rows), seconds=time.perf_counter() - start,
                                  detail=f"version 1, {epochs} epoch(s)"))
        self.__dict__.update(fresh.__dict__)  # all or nothing: a failure above leaves self as it was

    def predict_one(self, x: dict):
        """The served model's prediction for one event (``None`` before it has learned anything)."""
        self._check_x(x)
        p = self._model.predict_one(x)
        self._last = (x, p)
        return p

    def predict_proba_one(self, x: dict) -> dict:
        """Class probabilities of the served model for one event, where the model has them."""
        self._check_x(x)
        proba = self._model.predict_proba_one(x)
        self._last = (x, max(proba, key=proba.get) if proba else None)
        return proba

    def learn_one(self, x: dict, y) -> None:
        """Reveal one labelled event: the model learns it (or its mini-batch, when full).

        With monitoring on, the served model's prediction for ``x`` is scored first (the one the
        last ``predict_one(x)`` returned, if it was for this very dict, which was checked then);
        then the guardrails act.
        """
        last, self._last = self._last, None
        same = last is not None and last[0] is x
        if not same:
            self._check_x(x)
        y = self._check_y(y)
        self._remember(x, y)
        self.n_seen += 1
        if self.monitor and self._score_served(x, y, last[1] if same else self._model.predict_one(x)):
            return  # a rollback: the event that raised the alarm is not learned
        if self.paused:
            return
        learner = self._candidate if self.gate else self._model
        if self.batch_size is None:
            learner.learn_one(x, y)
        else:
            self._buffer.append((x, y))
            if len(self._buffer) < self.batch_size:
                return
            xs, ys = zip(*self._buffer)
            self._buffer = []
            learner.learn_many(list(xs), list(ys))
        if not self.gate:
            self.model_version += 1
        if self.monitor and self.n_seen % (self.checkpoint_every or self.window) == 0:
            self._levels.append(self._error_level())
            if self.checkpoint_every:
                self._checkpoints.append((self.model_version, copy.deepcopy(self._model)))
        if self.gate and self._gate_n >= self.gate:
            self._swap_or_reject_candidate()

    # -- monitoring and guardrails ----------------------------------------------------------------
    def _error(self, y, p) -> float:
        if self._model.classifier:
            return float(p != y)
        return abs(y - p)

    def _error_level(self, last: int | None = None) -> float:
        if not last:
            return self._error_sum / len(self._errors) if self._errors else 0.0
        errors = list(self._errors)[-last:]
        return sum(errors) / len(errors) if errors else 0.0

    def _score_served(self, x, y, p) -> bool:
        """Score the served model's prediction; return whether it rolled back."""
        if p is None:
            return False
        self._pairs.append((y, p))
        error = float(p != y) if self._model.classifier else abs(y - p)
        errors = self._errors
        before = getattr(self._detector, "estimation", None)  # the detector's error level before this event
        if len(errors) == errors.maxlen:
            self._error_sum -= errors[0]
        errors.append(error)
        self._error_sum += error
        if self.gate:
            c = self._candidate.predict_one(x)
            self._gate_errors[0] += error
            self._gate_errors[1] += self._error(y, c) if c is not None else 1.0 if self._model.classifier else error
            self._gate_n += 1
        self._detector.update(error)
        if self.paused:
            self._maybe_resume()
        elif self._detector.drift_detected:
            after = getattr(self._detector, "estimation", None)
            up = before is None or after is None or after > before
            self.log.append(LogEntry(self.n_seen, "alarm", detail=f"error {'up' if up else 'down'}: "
                                     f"{before if before is None else round(before, 4)} -> "
                                     f"{after if after is None else round(after, 4)}"))
            if up:
                return self._on_alarm()
        return False

    def _on_alarm(self) -> bool:
        baseline = self._levels[0] if self._levels else self._error_level()
        rolled = bool(self.checkpoint_every and self._checkpoints)
        if rolled:
            version, saved = self._checkpoints[0]
            self._model = copy.deepcopy(saved)
            self._checkpoints.clear()
            self._checkpoints.append((version, saved))
            self._buffer = []
            if self.gate:
                self._candidate = copy.deepcopy(saved)
                self._gate_errors, self._gate_n = [0.0, 0.0], 0
            self._detector = self.detector.clone()
            self.model_version += 1
            self.log.append(LogEntry(self.n_seen, "rollback", detail=f"to the checkpoint of version {version}"))
        if self.max_pause:
            self.paused_since, self._baseline = self.n_seen, baseline
            self._buffer = []
            self.log.append(LogEntry(self.n_seen, "pause", detail=f"error level before the alarm {baseline:.4g}"))
        return rolled

    def _maybe_resume(self) -> None:
        recent = max(self.window // 4, 1)
        waited = self.n_seen - self.paused_since
        back = waited >= recent and self._error_level(recent) <= self._baseline * (1 + self.tolerance) + 1e-12
        if back or waited >= self.max_pause:
            self.paused_since = None
            self._detector = self.detector.clone()
            reason = "error back to its level" if back else f"paused for {waited} events"
            self.log.append(LogEntry(self.n_seen, "resume", detail=reason))

    def _swap_or_reject_candidate(self) -> None:
        served, candidate = self._gate_errors
        if candidate <= served:
            self._model, self._candidate = self._candidate, copy.deepcopy(self._candidate)
            self.model_version += 1
            kind = "swap"
        else:
            self._candidate = copy.deepcopy(self._model)
            kind = "reject"
        self.log.append(LogEntry(self.n_seen, kind, rows=self._gate_n,
                                 detail=f"errors on the last {self._gate_n} events: served {served:.4g}, "
                                        f"candidate {candidate:.4g}"))
        self._gate_errors, self._gate_n = [0.0, 0.0], 0

    def __repr__(self) -> str:
        return (f"OnlineDeployment({type(self.model).__name__}, version={self.model_version}, "
                f"n_seen={self.n_seen})")


def events_to_recover(timeline, at: int | None = None, *, tolerance: float = 0.02) -> int | None:
    """Events after position ``at`` (default: the first drift) until the rolling metric is back.

    "Back" is within ``tolerance`` of the rolling metric just before ``at``, searched from the
    worst point after ``at``; 0 if it never got worse than that, ``None`` if it never comes back.

    >>> from river import metrics
    >>> from deployment_modes import scenarios, simulate
    >>> from river import linear_model
    >>> sc = scenarios.drifting_classification(n_initial=200, n_stream=1500, drift_at=500)
    >>> tl = simulate(sc, OnlineDeployment(linear_model.LogisticRegression()), metrics.Accuracy(), window=100)
    >>> 0 < events_to_recover(tl) < 1000
    True
    """
    if at is None:
        if not timeline.drift_at:
            raise ValueError("at must be given: the timeline has no drift position")
        at = timeline.drift_at[0]
    at = positive_int(at, "at")
    if at >= len(timeline):
        raise ValueError(f"at must be inside the timeline of {len(timeline)} events, got {at}")
    rolling = np.nan_to_num(timeline.rolling, nan=0.0)
    sign = 1.0 if getattr(timeline.metric, "bigger_is_better", True) else -1.0
    level, after = sign * rolling[at - 1] - tolerance, sign * rolling[at:]
    worst = int(np.argmin(after))
    if after[worst] >= level:
        return 0
    back = np.nonzero(after[worst:] >= level)[0]
    return int(worst + back[0]) if len(back) else None


def sweep_learning_rate(scenario, rates, *, metric=None, window: int = 200) -> pd.DataFrame:
    """Online logistic (or linear) regression with plain SGD at each learning rate in ``rates``.

    The trade-off between adapting and forgetting: one row per rate with the score on the
    1,000 events before the first drift (how well it keeps what it learned), after the drift,
    and the :func:`events_to_recover` (``window`` is the rolling metric's). Defined in the Online
    learning chapter.

    >>> from deployment_modes import scenarios
    >>> sc = scenarios.drifting_classification(n_initial=200, n_stream=1000, drift_at=500)
    >>> list(sweep_learning_rate(sc, [0.01, 0.5]).columns)
    ['learning_rate', 'score_before_drift', 'score_after_drift', 'events_to_recover']
    """
    from river import metrics

    from .timeline import simulate

    if not scenario.drift_at:
        raise ValueError("scenario must have a drift (drift_at) to show the trade-off")
    if not rates:
        raise ValueError("rates must hold at least one learning rate")
    drift = scenario.drift_at[0]
    rows = []
    for lr in rates:
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"rates must be positive numbers, got {lr!r}")
        tl = simulate(scenario, OnlineDeployment(sgd_model(scenario.task, lr)),
                      metric or (metrics.Accuracy() if scenario.task == "classification" else metrics.MAE()),
                      window=window)
        rows.append({"learning_rate": lr, "score_before_drift": tl.window_score(max(drift - 1000, 0), drift),
                     "score_after_drift": tl.window_score(drift), "events_to_recover": events_to_recover(tl)})
    return pd.DataFrame(rows)


def sgd_model(task: str, lr: float):
    """Standard scaling then a river linear model trained by plain SGD at learning rate ``lr``.

    >>> sgd_model("classification", 0.1).steps["LogisticRegression"].optimizer.lr.learning_rate
    0.1
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    from river import linear_model, optim, preprocessing

    model = linear_model.LogisticRegression if task == "classification" else linear_model.LinearRegression
    return preprocessing.StandardScaler() | model(optimizer=optim.SGD(lr))
