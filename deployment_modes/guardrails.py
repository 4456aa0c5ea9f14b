"""Guardrails for a model that learns while it serves: wrappers around a monitored online deployment.

Each guardrail wraps an :class:`~deployment_modes.OnlineDeployment` built with ``monitor=True``
(or another guardrail around one) and acts on the upward drift alarms of its
:class:`~deployment_modes.monitor.Monitor`, in river's style of wrappers
(``river.drift.DriftRetrainingClassifier`` wraps a model and a detector the same way). The
wrapped deployment keeps serving; a guardrail only decides what is learned and what is served.

- :class:`Rollback`: keep checkpoints of the served model; on an alarm, restore one taken
  before the trouble began.
- :class:`Pause`: on an alarm, stop learning until the error is back to its level, or for at
  most ``max_pause`` events.
- :class:`ValidationGate`: a candidate copy learns; it replaces the served model only if it
  did at least as well on the latest events.

They compose: ``ValidationGate(Pause(Rollback(OnlineDeployment(model, monitor=True))))``. On an
alarm a rollback acts first, then a pause; the event that raised it is not learned.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import copy
import numbers
from collections import deque

from ._checks import positive_int
from .monitor import prediction_error
from .online import OnlineDeployment
from .timeline import LogEntry

__all__ = ["Guardrail", "Pause", "Rollback", "ValidationGate"]


class Guardrail:
    """The base of the guardrails: a deployment wrapped, with the deployment interface.

    A guardrail overrides the steps of an event it cares about (``on_scored``, ``screen``,
    ``react``, ``learn``) and passes each on to the deployment it wraps; the rest (predictions,
    the model, its version, the log) is the wrapped deployment's.

    Parameters
    ----------
    deployment
        A monitored :class:`~deployment_modes.OnlineDeployment`, or a guardrail around one.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> core = dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True)
    >>> guarded = Pause(Rollback(core))
    >>> guarded.core is core, guarded.deployment.deployment is core
    (True, True)
    """

    def __init__(self, deployment):
        core = getattr(deployment, "core", None)
        if not isinstance(core, OnlineDeployment):
            raise TypeError(
                "deployment must be an OnlineDeployment or a guardrail around one, "
                f"got {type(deployment).__name__}"
            )
        if core.monitor is None:
            raise ValueError(
                "deployment must be monitored: build it with OnlineDeployment(model, monitor=True)"
            )
        self.deployment, self.core = deployment, core

    # -- the deployment interface: the wrapped deployment's ---------------------------------------
    def fit_initial(self, X, y, **kwargs) -> None:
        """The wrapped deployment's first training; the guardrail then starts afresh."""
        self.deployment.fit_initial(X, y, **kwargs)
        self.reset()

    def predict_one(self, x: dict):
        """The served model's prediction."""
        return self.deployment.predict_one(x)

    def predict_proba_one(self, x: dict) -> dict:
        """The served model's class probabilities."""
        return self.deployment.predict_proba_one(x)

    def learn_one(self, x: dict, y) -> None:
        """Reveal one labelled event; the guardrails decide whether and where it is learned."""
        self.core.reveal(x, y, self)

    @property
    def model(self):
        """The served model."""
        return self.core.model

    @property
    def model_version(self) -> int:
        """The served model's version."""
        return self.core.model_version

    @property
    def log(self) -> list:
        """The deployment's log (the guardrails write their actions in it)."""
        return self.core.log

    @property
    def n_seen(self) -> int:
        """Labelled events revealed since the first training."""
        return self.core.n_seen

    @property
    def monitor(self):
        """The wrapped deployment's monitor."""
        return self.core.monitor

    @property
    def rolling(self):
        """The monitor's rolling metric."""
        return self.core.rolling

    @property
    def moving_parts(self) -> dict:
        """The wrapped deployment's moving parts, then this guardrail's, as ``{part: when}``."""
        return {**self.deployment.moving_parts, **self.parts()}

    def parts(self) -> dict:
        """This guardrail's own moving parts: ``{part: when}``."""
        return {}

    # -- the steps of an event, passed on by default ----------------------------------------------
    def reset(self) -> None:
        """Forget the guardrail's state (after a first training)."""

    def on_scored(self, x: dict, y, error: float) -> None:
        """The served prediction for ``x`` was scored: its ``error``."""
        self.deployment.on_scored(x, y, error)

    def screen(self, alarm):
        """Let an alarm through, or hold it back (``None``)."""
        return self.deployment.screen(alarm)

    def react(self, alarm) -> bool:
        """React to an upward alarm; return whether the event must not be learned."""
        return self.deployment.react(alarm)

    def learn(self, x: dict, y, into=None) -> bool:
        """Learn the event (into the served model, or ``into``); return whether the model stepped."""
        return self.deployment.learn(x, y, into)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.deployment!r})"


class Rollback(Guardrail):
    """On an upward alarm, restore the served model from a checkpoint taken before the trouble.

    Every ``checkpoint_every`` events a copy of the served model is kept (the last two). On an
    upward alarm the served model is restored from the older one, taken ``checkpoint_every`` to
    twice that many events before the alarm: before the bad events began, if the detector is
    quick (``"rollback"`` in the log, a new version). The event that raised the alarm is not
    learned, and the drift detector starts afresh.

    Parameters
    ----------
    deployment
        A monitored :class:`~deployment_modes.OnlineDeployment`, or a guardrail around one.
    checkpoint_every
        Events between two checkpoints.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> clean = dm.scenarios.drifting_classification(seed=0, n_initial=500, n_stream=1500, drift_at=1400)
    >>> poisoned = dm.scenarios.poison_labels(clean, start=800, length=300)
    >>> dep = Rollback(dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True), checkpoint_every=200)
    >>> from river import metrics
    >>> tl = dm.simulate(poisoned, dep, metrics.Accuracy())
    >>> tl.entries("rollback")[["at", "detail"]].head(1)  # doctest: +NORMALIZE_WHITESPACE
        at                            detail
    0  832  to the checkpoint of version 601
    """

    def __init__(self, deployment, checkpoint_every: int = 200):
        super().__init__(deployment)
        self.checkpoint_every = positive_int(checkpoint_every, "checkpoint_every")
        self.reset()

    def parts(self) -> dict:
        return {
            "checkpoints of the model": f"every {self.checkpoint_every} events",
            "rollback to a checkpoint": "on an alarm",
        }

    def reset(self) -> None:
        """Forget the checkpoints."""
        self.checkpoints = deque(maxlen=2)  # (model version, copy of the served learner)

    def react(self, alarm) -> bool:
        rolled = bool(self.checkpoints)
        if rolled:
            version, saved = self.checkpoints[0]
            core = self.core
            core.drop_pending()
            core.serve(copy.deepcopy(saved), "rollback", f"to the checkpoint of version {version}")
            core.monitor.restart_detector()
            self.checkpoints.clear()
            self.checkpoints.append((version, saved))
        return self.deployment.react(alarm) or rolled

    def learn(self, x: dict, y, into=None) -> bool:
        stepped = self.deployment.learn(x, y, into)
        core = self.core
        if stepped and core.n_seen % self.checkpoint_every == 0:
            self.checkpoints.append((core.model_version, copy.deepcopy(core.learner)))
        return stepped


class Pause(Guardrail):
    """On an upward alarm, stop learning until the error is back to its level, or for ``max_pause`` events.

    While paused the model keeps serving and being scored (``"pause"`` in the log). Learning
    resumes (``"resume"``) when the mean error of the last ``window // 4`` events is back within
    ``tolerance`` (relative) of its level before the alarm (the monitor's error level at the
    older of the last two marks, taken every ``window`` events learned), or after ``max_pause``
    events. While paused, the detector's alarms are held back; it starts afresh on resuming.

    Parameters
    ----------
    deployment
        A monitored :class:`~deployment_modes.OnlineDeployment`, or a guardrail around one.
    max_pause
        The longest pause, in events.
    tolerance
        How far (relative) above its earlier level the error may be for learning to resume.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> clean = dm.scenarios.drifting_classification(seed=0, n_initial=500, n_stream=1500, drift_at=1400)
    >>> poisoned = dm.scenarios.poison_labels(clean, start=800, length=300)
    >>> dep = Pause(dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True), max_pause=500)
    >>> tl = dm.simulate(poisoned, dep, metrics.Accuracy())
    >>> [(e.kind, e.at) for e in tl.log if e.kind in ("pause", "resume")]
    [('pause', 832), ('resume', 1148)]
    """

    def __init__(self, deployment, max_pause: int = 500, tolerance: float = 0.25):
        super().__init__(deployment)
        self.max_pause = positive_int(max_pause, "max_pause")
        if (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, numbers.Real)
            or not tolerance >= 0
        ):
            raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
        self.tolerance = float(tolerance)
        self.reset()

    def parts(self) -> dict:
        return {"pause of learning, and its resume": "on an alarm"}

    def reset(self) -> None:
        """Not paused; no error level remembered."""
        self.paused_since = None
        self._baseline = None
        self._levels = deque(maxlen=2)  # the monitor's error level at the last two marks

    @property
    def paused(self) -> bool:
        """Whether learning is paused because an alarm stands."""
        return self.paused_since is not None

    def screen(self, alarm):
        if self.paused_since is None:
            return self.deployment.screen(alarm)
        core = self.core
        recent = max(core.monitor.window // 4, 1)
        waited = core.n_seen - self.paused_since
        back = (
            waited >= recent
            and core.monitor.error_level(recent) <= self._baseline * (1 + self.tolerance) + 1e-12
        )
        if back or waited >= self.max_pause:
            self.paused_since = None
            core.monitor.restart_detector()
            reason = "error back to its level" if back else f"paused for {waited} events"
            core.log.append(LogEntry(core.n_seen, "resume", detail=reason))
        return None

    def react(self, alarm) -> bool:
        core = self.core
        baseline = self._levels[0] if self._levels else core.monitor.error_level()
        self.deployment.react(alarm)
        self.paused_since, self._baseline = core.n_seen, baseline
        core.drop_pending()
        core.log.append(
            LogEntry(core.n_seen, "pause", detail=f"error level before the alarm {baseline:.4g}")
        )
        return True

    def learn(self, x: dict, y, into=None) -> bool:
        if self.paused_since is not None:
            return False
        stepped = self.deployment.learn(x, y, into)
        core = self.core
        if stepped and core.n_seen % core.monitor.window == 0:
            self._levels.append(core.monitor.error_level())
        return stepped


class ValidationGate(Guardrail):
    """A candidate copy learns every event; every ``every`` events it is served only if it did no worse.

    The served model stays as it is while the candidate learns. Both are scored on each event
    (prequentially: before the candidate learns it). Every ``every`` events the candidate replaces
    the served model (``"swap"``) if its error on those events is not larger than the served
    model's, else it is discarded (``"reject"``) and restarts from the served model.

    Parameters
    ----------
    deployment
        A monitored :class:`~deployment_modes.OnlineDeployment`, or a guardrail around one.
    every
        Events between two decisions.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import metrics
    >>> sc = dm.scenarios.drifting_classification(seed=0, n_initial=500, n_stream=1000, drift_at=500)
    >>> dep = ValidationGate(dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True), every=100)
    >>> tl = dm.simulate(sc, dep, metrics.Accuracy())
    >>> sorted({e.kind for e in tl.log})
    ['reject', 'swap', 'train']
    """

    def __init__(self, deployment, every: int = 100):
        super().__init__(deployment)
        self.every = positive_int(every, "every")
        self.reset()

    def parts(self) -> dict:
        return {
            "candidate model, scored beside the served one": "every event",
            "validation and swap of the candidate": f"every {self.every} events",
        }

    def reset(self) -> None:
        """A fresh candidate, copied from the served model."""
        self._fork()

    def _fork(self) -> None:
        self._served = self.core.learner
        self.candidate = copy.deepcopy(self._served)
        self._errors, self._n = [0.0, 0.0], 0  # served, candidate, since the last decision

    def on_scored(self, x: dict, y, error: float) -> None:
        classification = self.core.learner.classifier
        c = self.candidate.predict_one(x)
        self._errors[0] += error
        self._errors[1] += (
            prediction_error(y, c, classification)
            if c is not None
            else 1.0
            if classification
            else error
        )
        self._n += 1
        self.deployment.on_scored(x, y, error)

    def react(self, alarm) -> bool:
        skip = self.deployment.react(alarm)
        if (
            self.core.learner is not self._served
        ):  # rolled back: the candidate restarts from the served model
            self._fork()
        return skip

    def learn(self, x: dict, y, into=None) -> bool:
        stepped = self.deployment.learn(x, y, self.candidate)
        if stepped and self._n >= self.every:
            self._decide()
        return stepped

    def _decide(self) -> None:
        core, (served, candidate), n = self.core, self._errors, self._n
        detail = f"errors on the last {n} events: served {served:.4g}, candidate {candidate:.4g}"
        if candidate <= served:
            core.serve(self.candidate, "swap", detail, rows=n)
            self._fork()
        else:
            core.log.append(LogEntry(core.n_seen, "reject", rows=n, detail=detail))
            self._fork()
