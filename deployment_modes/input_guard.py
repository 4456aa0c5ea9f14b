"""Input guardrails: monitor the input data and react to abnormal values before the model learns them.

One extreme value (``x0 = 1000``, or ``1e200``) is enough to damage an online model for good:
its running statistics (a ``StandardScaler``'s mean and variance) and then its weights become
huge or NaN, and every later prediction is wrong. :class:`FeatureBounds` learns, from the first
training's data, an interval per numeric feature (the range seen, widened by ``margin`` times
its width); :meth:`FeatureBounds.check` says of an event whether every value is inside
(a :class:`Verdict`). :class:`InputGuard` wraps a deployment (river's ``Wrapper`` style, like
the guardrails of :mod:`deployment_modes.guardrails`) and applies a policy to an abnormal
event: ``"reject"`` it, ``"clip"`` its values to the bounds, or ``"hold"`` it for review.
:func:`extreme_value_experiment` measures it.

Defined in the Online learning chapter (``book/online.ipynb``): the input side of the guardrails.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._checks import fraction, has_method
from .frames import as_frame
from .seeds import per_seed
from .timeline import LogEntry

__all__ = ["FeatureBounds", "InputGuard", "Verdict", "extreme_value_experiment"]

POLICIES = ("reject", "clip", "hold")


@dataclass(frozen=True)
class Verdict:
    """What :meth:`FeatureBounds.check` says of one event: ``ok``, or the values out of bounds.

    Parameters
    ----------
    ok
        Whether every value is inside its feature's bounds.
    out_of_bounds
        ``(feature, value, low, high)`` for each value outside.

    Examples
    --------
    >>> v = Verdict(False, (("x0", 1000.0, -1.0, 2.0),))
    >>> v.describe()
    'x0=1000.0 is outside its bounds [-1, 2]'
    """

    ok: bool
    out_of_bounds: tuple = ()

    def describe(self) -> str:
        """The verdict in words (what a server returns with a 422)."""
        if self.ok:
            return "every value is inside its bounds"
        return "; ".join(
            f"{f}={v!r} is outside its bounds [{lo:.4g}, {hi:.4g}]"
            for f, v, lo, hi in self.out_of_bounds
        )


_INSIDE = Verdict(True)  # the verdict on an event whose values are all inside (it is immutable)


class FeatureBounds:
    """Per-feature bounds learned from the first training's data: the range seen, widened by ``margin``.

    For a numeric feature whose values ranged over ``[lo, hi]`` the bounds are
    ``[lo - margin * (hi - lo), hi + margin * (hi - lo)]`` (a constant feature gets a width of
    ``max(|lo|, 1)``). Non-numeric features (text, categories) are not bounded.

    Parameters
    ----------
    X
        The first training's features: a DataFrame or a 2-D array (columns ``x0, x1, ...``).
    margin
        How far beyond the range seen a value may go, in widths of that range.

    Examples
    --------
    >>> bounds = FeatureBounds([[0.0, 5.0], [1.0, 5.0]], margin=1.0)
    >>> bounds.check({"x0": 0.5, "x1": 5.0}).ok, bounds.check({"x0": 1000.0, "x1": 5.0}).describe()
    (True, 'x0=1000.0 is outside its bounds [-1, 2]')
    >>> bounds.clip({"x0": 1e200, "x1": -7.0})
    {'x0': 2.0, 'x1': 0.0}
    """

    def __init__(self, X, margin: float = 1.0):
        if (
            isinstance(margin, bool)
            or not isinstance(margin, numbers.Real)
            or not 0 <= margin < math.inf
        ):
            raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
        frame = as_frame(X)
        self.margin = float(margin)
        self.low, self.high = {}, {}
        for name in frame.columns:
            column = frame[name]
            if column.dtype == bool or not pd.api.types.is_numeric_dtype(column):
                continue
            values = column.to_numpy(dtype=float)
            if not np.isfinite(values).all():
                raise ValueError(f"X[{name!r}] must be finite to learn bounds from it")
            lo, hi = float(values.min()), float(values.max())
            width = hi - lo if hi > lo else max(abs(lo), 1.0)
            self.low[name], self.high[name] = lo - self.margin * width, hi + self.margin * width

    def check(self, x: dict) -> Verdict:
        """Whether each numeric value of the event ``x`` is inside its feature's bounds.

        A value that is not a number, or a feature without bounds, is left to the deployment's
        own checks; a NaN is out of bounds.
        """
        if not isinstance(x, dict):
            raise TypeError(f"x must be a dict of feature -> value, got {type(x).__name__}")
        low, high, out = self.low, self.high, []
        for name, value in x.items():
            lo = low.get(name)
            kind = type(value)
            if lo is None or (
                kind is not float
                and kind is not int
                and (kind is bool or not isinstance(value, numbers.Real))
            ):
                continue
            if not lo <= value <= high[name]:  # False for NaN too
                out.append((name, value, lo, high[name]))
        return Verdict(False, tuple(out)) if out else _INSIDE

    def clip(self, x: dict) -> dict:
        """A copy of ``x`` with each numeric value clipped to its bounds (NaN to the middle)."""
        clipped = dict(x)
        for name, value, lo, hi in self.check(x).out_of_bounds:
            clipped[name] = (lo + hi) / 2 if value != value else min(max(value, lo), hi)
        return clipped

    def to_dict(self) -> dict:
        """The bounds as plain data (JSON), for a server's state."""
        return {"margin": self.margin, "low": dict(self.low), "high": dict(self.high)}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureBounds:
        """Bounds saved by :meth:`to_dict`."""
        bounds = cls.__new__(cls)
        bounds.margin, bounds.low, bounds.high = (
            float(data["margin"]),
            dict(data["low"]),
            dict(data["high"]),
        )
        return bounds

    def __repr__(self) -> str:
        return f"FeatureBounds({len(self.low)} features, margin={self.margin})"


class InputGuard:
    """Screen each event's inputs before the wrapped deployment sees it; react to abnormal ones.

    The bounds are learned by :meth:`fit_initial` from the first training's data (or given).
    An event with a value out of bounds, under ``policy``:

    - ``"reject"``: is neither learned nor scored (``"reject input"`` in the log); its
      prediction is served (a prediction does not change the model).
    - ``"clip"``: is predicted and learned with its values clipped to the bounds (``"clip input"``).
    - ``"hold"``: is kept in :attr:`held` for a human to review, not learned (``"hold input"``);
      :meth:`release` learns the held events a reviewer accepts.

    Wrap the outermost deployment: ``InputGuard(Rollback(OnlineDeployment(...)))``. Any
    deployment works (online, batch).

    Parameters
    ----------
    deployment
        A deployment (``fit_initial``, ``predict_one``, ``learn_one``) or a guardrail.
    policy
        ``"reject"``, ``"clip"`` or ``"hold"``.
    margin
        As in :class:`FeatureBounds`.
    bounds
        Bounds learned already (e.g. for a deployment trained out-of-core); ``fit_initial``
        then keeps them.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> guard = InputGuard(dm.OnlineDeployment(dm.sgd_model("classification", 0.1)))
    >>> guard.fit_initial([[0.0], [1.0], [0.2], [0.9]], [False, True, False, True])
    >>> guard.check({"x0": 1e200}).ok, guard.learn_one({"x0": 1e200}, True), guard.log[-1].kind
    (False, None, 'reject input')
    >>> guard.model_version, guard.rejected
    (1, 1)
    """

    def __init__(
        self,
        deployment,
        policy: str = "reject",
        *,
        margin: float = 1.0,
        bounds: FeatureBounds | None = None,
    ):
        for method in ("fit_initial", "predict_one", "learn_one"):
            has_method(deployment, method, "deployment")
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        if (
            isinstance(margin, bool)
            or not isinstance(margin, numbers.Real)
            or not 0 <= margin < math.inf
        ):
            raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
        if bounds is not None and not isinstance(bounds, FeatureBounds):
            raise TypeError(f"bounds must be a FeatureBounds, got {type(bounds).__name__}")
        self.deployment, self.policy, self.margin = deployment, policy, float(margin)
        self.bounds, self._given = bounds, bounds is not None
        self.held: list = []
        self.rejected = self.clipped = 0

    def __getattr__(self, name):
        if name == "deployment":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.deployment, name)  # model, model_version, log, monitor, rolling, ...

    @property
    def model_version(self) -> int:
        """The wrapped deployment's model version (read at every event: not through ``__getattr__``)."""
        return self.deployment.model_version

    def check(self, x: dict) -> Verdict:
        """The :class:`~deployment_modes.input_guard.Verdict` on the event ``x``.

        Every value is inside before any training.
        """
        return _INSIDE if self.bounds is None else self.bounds.check(x)

    def fit_initial(self, X, y, **kwargs) -> None:
        """Learn the bounds from ``X`` (unless given), then the wrapped deployment's first training."""
        bounds = self.bounds if self._given else FeatureBounds(X, self.margin)
        self.deployment.fit_initial(X, y, **kwargs)
        self.bounds, self.held, self.rejected, self.clipped = bounds, [], 0, 0

    def predict_one(self, x: dict):
        """The served prediction (for clipped values under ``"clip"``)."""
        if self.policy == "clip" and self.bounds is not None:
            x = self.bounds.clip(x) if not self.bounds.check(x).ok else x
        return self.deployment.predict_one(x)

    def learn_one(self, x: dict, y) -> None:
        """Reveal one labelled event: learned if its inputs are normal, else the policy applies."""
        verdict = self.check(x)
        if verdict.ok:
            self.deployment.learn_one(x, y)
            return
        at = getattr(self.deployment, "n_seen", 0)
        if self.policy == "clip":
            self.deployment.learn_one(self.bounds.clip(x), y)
            self.clipped += 1
            self.log.append(LogEntry(at, "clip input", detail=verdict.describe()))
            return
        if self.policy == "hold":
            self.held.append((copy.copy(x), y))
        else:
            self.rejected += 1
        self.log.append(LogEntry(at, f"{self.policy} input", detail=verdict.describe()))

    def release(self, accept) -> int:
        """Learn the held events for which ``accept(x, y)`` is true, drop the others; return how many were learned."""
        if not callable(accept):
            raise TypeError(
                f"accept must be a function (x, y) -> bool, got {type(accept).__name__}"
            )
        decisions = [
            bool(accept(x, y)) for x, y in self.held
        ]  # all decided before anything is learned
        held, self.held = self.held, []
        for (x, y), keep in zip(held, decisions):
            if keep:
                self.deployment.learn_one(x, y)
        return sum(decisions)

    def __repr__(self) -> str:
        return f"InputGuard({self.deployment!r}, policy={self.policy!r})"


def extreme_value_experiment(
    scenario_seeds=(0, 1, 2),
    *,
    value: float = 1e200,
    feature: str = "x0",
    at: int = 500,
    n_stream: int = 2000,
    lr: float = 0.1,
    processes: int = 1,
) -> pd.DataFrame:
    """One extreme value in a clean stream, with and without the input guard: accuracy after it.

    On ``drifting_classification`` without drift (seed by seed), event ``at`` of the stream
    gets ``feature = value``. An online logistic regression (standard scaling, SGD at ``lr``)
    learns the stream unguarded, and guarded by :class:`InputGuard` under each policy. One row
    per seed and run: the accuracy on the events before and after the extreme one, whether the
    model's weights are still finite, and what the guard did.

    Parameters
    ----------
    scenario_seeds
        Seeds of the scenarios.
    value
        The extreme value.
    feature
        The feature that gets it.
    at
        Its position in the stream.
    n_stream
        Events in the stream.
    lr
        The learning rate.
    processes
        Seeds run at a time (1 or 2: see :func:`~deployment_modes.seeds.per_seed`); the same
        table either way.

    Examples
    --------
    >>> table = extreme_value_experiment((0,), n_stream=600, at=200)
    >>> bool(table.set_index("run").loc["unguarded", "finite_weights"]), table["run"].tolist()
    (False, ['unguarded', 'reject', 'clip', 'hold'])
    """
    from river import metrics

    from . import scenarios
    from .online import OnlineDeployment, sgd_model
    from .timeline import simulate

    if isinstance(at, bool) or not isinstance(at, numbers.Integral) or not 0 < at < n_stream - 1:
        raise ValueError(
            f"at must be inside the stream (0 < at < n_stream - 1 = {n_stream - 1}), got {at!r}"
        )
    fraction(lr, "lr", low=1e-12, high=10.0)

    def one_seed(seed: int) -> list:
        rows = []
        clean = scenarios.drifting_classification(
            seed=seed, n_stream=n_stream + 200, drift_at=n_stream + 100
        )
        attacked = scenarios.extreme_value(clean.head(n_stream), at, feature, value)
        runs = {"unguarded": OnlineDeployment(sgd_model("classification", lr))}
        runs.update(
            {
                policy: InputGuard(OnlineDeployment(sgd_model("classification", lr)), policy)
                for policy in POLICIES
            }
        )
        for name, dep in runs.items():
            tl = simulate(attacked, dep, metrics.Accuracy())
            weights = dep.model["LogisticRegression"].weights
            rows.append(
                {
                    "seed": seed,
                    "run": name,
                    "accuracy_before": tl.window_score(0, at),
                    "accuracy_after": tl.window_score(at + 1),
                    "finite_weights": all(math.isfinite(w) for w in weights.values()),
                    "guard_actions": sum(e.kind.endswith(" input") for e in dep.log),
                }
            )
        return rows

    seeds = list(scenario_seeds)
    if isinstance(processes, bool) or processes not in (1, 2):
        raise ValueError(f"processes must be 1 or 2, got {processes!r}")
    if processes == 1:
        by_seed = {seed: one_seed(seed) for seed in seeds}
    else:
        by_seed = per_seed(one_seed, dict.fromkeys(seeds), processes=processes)
    return pd.DataFrame([row for seed in seeds for row in by_seed[seed]])
