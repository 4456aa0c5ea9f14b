"""Online (incremental) learning: the deployed model learns from every labelled event while it serves.

After the first, offline training (``fit_initial``), each ``learn_one(x, y)`` updates the served
model in place, one event (or one mini-batch) at a time. The model is a river model
(``learn_one``/``predict_one``) or a scikit-learn estimator with ``partial_fit``, seen the river
way through :class:`~deployment_modes.incremental.IncrementalModel`. With ``monitor=True`` a
:class:`~deployment_modes.monitor.Monitor` scores every served prediction and watches the error
stream for drift; the guardrails of :mod:`deployment_modes.guardrails` wrap a monitored
deployment and act on its alarms.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import copy
import math
import numbers
import time

import numpy as np
import pandas as pd

from ._checks import features, has_method, label, label_kind, labels, plain, positive_int
from .first_training import recall, remember, training_key
from .frames import as_frame, records
from .incremental import IncrementalModel
from .monitor import Monitor
from .timeline import LogEntry

__all__ = ["OnlineDeployment", "sgd_model", "sweep_learning_rate"]


class OnlineDeployment:
    """Deploy a model that learns from every labelled event while it keeps serving predictions.

    The deployment works on its own copy of ``model``, which may already be trained:
    ``predict_one`` and ``learn_one`` then work without ``fit_initial``. A prediction is made
    before the label is known; ``learn_one(x, y)`` then reveals the label: the model learns it
    (version + 1), or, in mini-batches, learns when the batch is full.

    Parameters
    ----------
    model
        A river model or a scikit-learn estimator with ``partial_fit``.
    classes
        Every class label (required by a scikit-learn classifier, for its first ``partial_fit``).
    transform
        A stateless feature map for a scikit-learn estimator (see
        :class:`~deployment_modes.incremental.IncrementalModel`).
    batch_size
        Learn in mini-batches of that many events (river's ``learn_many``, or one ``partial_fit``
        per batch) instead of one event at a time. A batch step is not a loop of single steps: a
        linear model takes one averaged gradient step per batch, and the served model waits for
        the batch to fill before it changes.
    monitor
        Score each served prediction with a :class:`~deployment_modes.monitor.Monitor`: a rolling
        ``metric`` over the last ``window`` events (:attr:`rolling`), and a drift ``detector``
        (default: ADWIN) on the errors. A detection is logged as an ``"alarm"``. The guardrails
        (:class:`~deployment_modes.guardrails.Rollback`, :class:`~deployment_modes.guardrails.Pause`,
        :class:`~deployment_modes.guardrails.ValidationGate`) need it.
    metric
        The river metric the monitor rolls (default: accuracy for a classifier, MAE otherwise).
    window
        Events the rolling metric and the monitor's error level cover.
    detector
        A river drift detector; the deployment uses a fresh clone of it.

    Examples
    --------
    >>> from river import linear_model
    >>> dep = OnlineDeployment(linear_model.LinearRegression())
    >>> dep.fit_initial([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    >>> dep.learn_one({"x0": 3.0}, 3.0)
    >>> dep.model_version, dep.n_seen, [e.kind for e in dep.log]
    (2, 1, ['train'])
    """

    _text = None  # features whose values may be strings (snapshots pickled before it was added have none)
    _last_x = _last_p = None  # the event of the last predict and its prediction (for older pickles)

    def __init__(
        self,
        model,
        *,
        classes=None,
        transform=None,
        batch_size: int | None = None,
        monitor: bool = False,
        metric=None,
        window: int = 200,
        detector=None,
    ):
        if model is None:
            raise TypeError(
                "model must be a river model or a scikit-learn estimator with partial_fit, got None"
            )
        self._initial = copy.deepcopy(model)
        self.learner = IncrementalModel(copy.deepcopy(model), classes, transform)
        self.batch_size = positive_int(batch_size, "batch_size", allow_none=True)
        self.window = positive_int(window, "window")
        if not isinstance(monitor, bool):
            raise TypeError(f"monitor must be True or False, got {monitor!r}")
        if metric is None:
            from river import metrics

            metric = metrics.Accuracy() if self.learner.classifier else metrics.MAE()
        has_method(metric, "update", "metric")
        if detector is not None:
            has_method(detector, "update", "detector")
        if detector is None:
            from river import drift

            detector = drift.ADWIN()
        self.metric, self.detector = metric, detector
        watcher = self._new_monitor()  # checks metric and detector, monitoring on or not
        self.monitor = watcher if monitor else None
        self.model_version = 0
        self.log: list[LogEntry] = []
        self.first_training_parts: dict = {}  # set by OutOfCoreTrainer.to_online: its own parts
        self.n_seen = 0
        self._features = self._text = None
        self._label_kind = self._label_type = None
        self._buffer: list = []
        self._last_x = self._last_p = None  # the last predict's event and prediction (see reveal)

    def _new_monitor(self) -> Monitor:
        return Monitor(
            self.metric,
            classification=self.learner.classifier,
            window=self.window,
            detector=self.detector.clone()
            if callable(getattr(self.detector, "clone", None))
            else self.detector,
        )

    @property
    def core(self) -> OnlineDeployment:
        """The deployment itself (a guardrail's ``core`` is the deployment it wraps)."""
        return self

    @property
    def model(self):
        """The served model (river model or scikit-learn estimator)."""
        return self.learner.model

    @property
    def rolling(self):
        """The ``metric`` over the last ``window`` monitored events (computed when asked)."""
        return self.monitor.rolling if self.monitor is not None else self.metric.clone()

    @property
    def moving_parts(self) -> dict:
        """Each part a team runs in production for this deployment, and when it acts, as ``{part: when}``.

        The evidence for "complex to implement" counts these (guardrails add theirs), not lines
        of source: the labels must reach the server and meet their predictions, the model learns
        there, and (``monitor=True``) a monitor watches its errors.

        >>> from river import linear_model
        >>> for part, when in OnlineDeployment(linear_model.LogisticRegression()).moving_parts.items():
        ...     print(f"{part}: {when}")
        labels fed to the server, joined to their predictions: every event
        model updated in place on the server: every event
        """
        when = "every event" if self.batch_size is None else f"every {self.batch_size} events"
        parts = {
            **getattr(self, "first_training_parts", {}),  # snapshots from before it existed
            "labels fed to the server, joined to their predictions": "every event",
            "model updated in place on the server": when,
        }
        if self.monitor is not None:
            parts["monitoring: rolling metric and drift detector on the errors"] = "every event"
        return parts

    # -- input checks: raise before anything changes -------------------------------------------
    def _check_y(self, y, name: str = "y", index: int | None = None):
        y = plain(y)
        if (
            type(y) is self._label_type
            and self.learner.classes is None
            and (type(y) is not float or y - y == 0.0)
        ):
            return y  # the fast path: a label of the very type of the earlier ones
        return label(
            y,
            self.learner.classifier,
            kind=self._label_kind,
            classes=self.learner.classes,
            name=name if index is None else f"{name}[{index}]",
        )

    def _remember(self, x, y) -> None:
        if self._features is None:
            self._features = frozenset(x)
            self._text = frozenset(k for k, v in x.items() if isinstance(v, str))
        if self._label_type is None:
            self._label_type = type(y)
        if self.learner.classifier and self._label_kind is None:
            self._label_kind = label_kind(y)

    # -- the deployment interface -----------------------------------------------------------------
    def fit_initial(self, X, y, *, epochs: int = 1) -> None:
        """The first, offline training on ``(X, y)`` (``epochs`` passes): version 1 of the model.

        Starts from a fresh copy of the model given to the constructor and forgets the log and
        the monitor's history.

        Parameters
        ----------
        X
            The initial features: a DataFrame or a 2-D array (columns ``x0, x1, ...``).
        y
            One label per row of ``X``.
        epochs
            Passes over the initial data.
        """
        epochs = positive_int(epochs, "epochs")
        X = as_frame(X)
        y = [plain(v) for v in labels(y, len(X)).tolist()]
        rows, finite = records(X)
        one_by_one = self.learner.river and self.batch_size is None
        key = training_key(self._initial, X, y, epochs) if one_by_one else None
        recalled = recall(key)  # the same model trained on the same data before: a copy of it
        fresh = copy.copy(self)
        fresh.learner = IncrementalModel(
            recalled[0] if recalled else copy.deepcopy(self._initial),
            self.learner.classes,
            self.learner.transform,
        )
        fresh.model_version, fresh.log, fresh.n_seen, fresh._features, fresh._text = (
            0,
            [],
            0,
            None,
            None,
        )
        fresh._label_kind = fresh._label_type = None
        fresh.first_training_parts = {}  # trained in memory here, not from chunks
        for i, (x, target) in enumerate(zip(rows, y)):
            if not (i and finite):  # finite numbers in every column: each row passes as the first
                features(x, fresh._features, f"X row {i}", numbers_only=False, text=fresh._text)
            target = fresh._check_y(target, "y", i)
            if not i:
                fresh._remember(x, target)  # the features and the kind of label, from the first row
        fresh.learner.columns = list(X.columns)
        start = time.perf_counter()
        for _ in range(0 if recalled else epochs):
            if one_by_one:
                learn = fresh.learner.learn_step
                for x, target in zip(rows, y):
                    learn(x, target)
            else:
                step = fresh.batch_size or len(rows)
                for i in range(0, len(rows), step):
                    fresh.learner.learn_many(rows[i : i + step], y[i : i + step])
        seconds = time.perf_counter() - start
        if recalled:
            seconds = recalled[1]
        else:
            remember(key, fresh.learner.model, seconds)
        fresh._buffer, fresh._last_x, fresh._last_p = [], None, None
        fresh.monitor = None if self.monitor is None else fresh._new_monitor()
        fresh.model_version = 1
        fresh.log.append(
            LogEntry(
                0,
                "train",
                rows=len(rows),
                seconds=seconds,
                detail=f"version 1, {epochs} epoch(s)",
            )
        )
        self.__dict__.update(
            fresh.__dict__
        )  # all or nothing: a failure above leaves self as it was

    def predict_one(self, x: dict):
        """The served model's prediction for one event (``None`` before it has learned anything)."""
        try:  # the fast path of the feature check, inlined: the expected keys, all finite numbers
            total = sum(x.values()) if type(x) is dict and x.keys() == self._features else None
        except TypeError:  # a string, or not a number: the full check says what it is
            total = None
        kind = type(total)
        if not ((kind is float and total - total == 0.0) or kind is int):
            features(x, self._features, numbers_only=False, text=self._text)
        p = self._last_p = self.learner.predict_step(x)
        self._last_x = x
        return p

    def predict_proba_one(self, x: dict) -> dict:
        """Class probabilities of the served model for one event, where the model has them."""
        features(x, self._features, numbers_only=False, text=self._text)
        proba = self.learner.predict_proba_one(x)
        self._last_p = max(proba, key=proba.get) if proba else None
        self._last_x = x
        return proba

    def learn_one(self, x: dict, y, top=None) -> None:
        """Reveal one labelled event: the model learns it (or its mini-batch, when full).

        With monitoring on, the served model's prediction for ``x`` is scored first (the one the
        last ``predict_one(x)`` returned, if it was for this very dict, which was checked then).
        The one path of an event: check it, score the served prediction, let the guardrails
        screen and react to an alarm, then learn (``top.learn``).

        Parameters
        ----------
        x
            The event's features.
        y
            Its label.
        top
            The outermost guardrail around this deployment, which a guardrail passes (through
            :meth:`reveal`); None: this deployment, without guardrails.
        """
        if top is None:
            top = self
        same = x is self._last_x and x is not None  # this very dict was predicted and checked
        self._last_x = None
        if not same:
            features(x, self._features, numbers_only=False, text=self._text)
        kind = type(y)
        finite = kind is not float or y - y == 0.0  # inf - inf and nan - nan are nan
        if kind is not self._label_type or self.learner.classes is not None or not finite:
            y = self._check_y(y)  # else the fast path: a finite label of the earlier ones' type
        if self._label_type is None:
            self._remember(x, y)
        self.n_seen = n_seen = self.n_seen + 1
        monitor = self.monitor
        if monitor is not None:
            p = self._last_p if same else self.learner.predict_one(x)
            if p is not None:
                alarm = monitor.update(y, p, n_seen)
                if top is not self:
                    top.on_scored(x, y, monitor.last_error)
                    alarm = top.screen(alarm)
                if alarm is not None:
                    self.log.append(LogEntry(n_seen, "alarm", detail=alarm.describe()))
                    if alarm.up and top is not self and top.react(alarm):
                        return  # a guardrail took the event: it is not learned
        if top is self and self.batch_size is None:
            self.learner.learn_step(x, y)  # the plain path of learn(), without its calls
            self.model_version += 1
        else:
            top.learn(x, y)

    reveal = (
        learn_one  # a guardrail's way in: this class's event path, whatever a subclass overrides
    )

    # -- what the guardrails build on -------------------------------------------------------------
    def learn(self, x: dict, y, into: IncrementalModel | None = None) -> bool:
        """Learn one checked event into the served model (or ``into``, a candidate); return whether it stepped.

        In mini-batches, the event waits in the batch and the step comes when the batch is full.
        Only a step of the served model makes a new model version.
        """
        learner = self.learner if into is None else into
        if self.batch_size is None:
            learner.learn_step(x, y)
        else:
            self._buffer.append((x, y))
            if len(self._buffer) < self.batch_size:
                return False
            xs, ys = zip(*self._buffer)
            self._buffer = []
            learner.learn_many(list(xs), list(ys))
        if into is None:
            self.model_version += 1
        return True

    def on_scored(self, x: dict, y, error: float) -> None:
        """Called with each scored event's error: nothing to do without guardrails."""

    def screen(self, alarm):
        """Let an alarm through (a paused guardrail holds it back)."""
        return alarm

    def react(self, alarm) -> bool:
        """React to an upward alarm: without guardrails, nothing; the event is learned."""
        return False

    def serve(self, learner: IncrementalModel, kind: str, detail: str, rows: int = 0) -> None:
        """Serve ``learner`` from now on (a rollback or a candidate's swap): a new version, logged."""
        self.learner = learner
        self.model_version += 1
        self.log.append(LogEntry(self.n_seen, kind, rows=rows, detail=detail))

    def drop_pending(self) -> None:
        """Forget the events waiting in an unfinished mini-batch."""
        self._buffer = []

    def __repr__(self) -> str:
        return (
            f"OnlineDeployment({type(self.model).__name__}, version={self.model_version}, "
            f"n_seen={self.n_seen})"
        )


def sweep_learning_rate(scenario, rates, *, metric=None, window: int = 200) -> pd.DataFrame:
    """Online logistic (or linear) regression with plain SGD at each learning rate in ``rates``.

    The trade-off between adapting and forgetting: one row per rate with the score on the
    1,000 events before the first drift (how well it keeps what it learned), after the drift,
    and the :func:`~deployment_modes.events_to_recover`. Defined in the Online learning chapter.

    Parameters
    ----------
    scenario
        A scenario with a drift (``drift_at``).
    rates
        Learning rates (positive numbers).
    metric
        A river metric (default: accuracy for classification, MAE for regression).
    window
        Size of the rolling metric.

    Examples
    --------
    >>> from deployment_modes import scenarios
    >>> sc = scenarios.drifting_classification(n_initial=200, n_stream=1000, drift_at=500)
    >>> list(sweep_learning_rate(sc, [0.01, 0.5]).columns)
    ['learning_rate', 'score_before_drift', 'score_after_drift', 'events_to_recover']
    """
    from river import metrics

    from .scenarios import Scenario
    from .timeline import events_to_recover, simulate

    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    if not scenario.drift_at:
        raise ValueError("scenario must have a drift (drift_at) to show the trade-off")
    if (
        isinstance(rates, (str, bytes, dict))
        or not isinstance(rates, (list, tuple, np.ndarray))
        or not len(rates)
    ):
        raise ValueError(f"rates must be a non-empty list of learning rates, got {rates!r:.60}")
    for lr in rates:
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:
            raise ValueError(f"rates must be positive finite numbers, got {lr!r}")
    drift = scenario.drift_at[0]
    rows = []
    for lr in rates:
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"rates must be positive numbers, got {lr!r}")
        tl = simulate(
            scenario,
            OnlineDeployment(sgd_model(scenario.task, lr)),
            metric or (metrics.Accuracy() if scenario.task == "classification" else metrics.MAE()),
            window=window,
        )
        rows.append(
            {
                "learning_rate": lr,
                "score_before_drift": tl.window_score(max(drift - 1000, 0), drift),
                "score_after_drift": tl.window_score(drift),
                "events_to_recover": events_to_recover(tl),
            }
        )
    return pd.DataFrame(rows)


def sgd_model(task: str, lr: float):
    """Standard scaling then a river linear model trained by plain SGD at learning rate ``lr``.

    Parameters
    ----------
    task
        ``"classification"`` (logistic regression) or ``"regression"`` (linear regression).
    lr
        The learning rate (the SGD step size).

    Examples
    --------
    >>> model = sgd_model("classification", 0.1)
    >>> list(model.steps), model["LogisticRegression"].optimizer.lr.learning_rate
    (['StandardScaler', 'LogisticRegression'], 0.1)
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    from river import linear_model, optim, preprocessing

    model = (
        linear_model.LogisticRegression
        if task == "classification"
        else linear_model.LinearRegression
    )
    return preprocessing.StandardScaler() | model(optimizer=optim.SGD(lr))
