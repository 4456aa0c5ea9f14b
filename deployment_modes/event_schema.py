"""What an event sent to the model server must look like: its features, its label, its input bounds.

:class:`Schema` is read from the initial training data (:meth:`Schema.of`): the feature names in
order, the task (classification with its classes, or regression), and the bounds of each feature
(:class:`~deployment_modes.input_guard.FeatureBounds`, the input guardrail). The durable state
(:mod:`deployment_modes.durable`) checks every event against it before logging or learning it,
and keeps it in its snapshot. :func:`default_deployment` is what a server starts from when its
state dir is empty.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ._checks import features as check_features
from ._checks import plain
from .frames import as_frame
from .input_guard import FeatureBounds

__all__ = ["MODES", "InputOutOfBounds", "Schema", "check_mode", "default_deployment"]

MODES = ("online", "batch")
_FLOAT, _NUMBER = {float}, {float, int}


class InputOutOfBounds(ValueError):
    """An event's input is abnormal: a value outside its feature's bounds (the input guardrail).

    A ValueError, so that a server answers it with 422.

    Parameters
    ----------
    *args, **kwargs
        The message, as for any exception: it names the feature, its value and its bounds.

    Examples
    --------
    >>> isinstance(InputOutOfBounds("x is abnormal: x0=1e+200 is outside its bounds [-1, 2]"), ValueError)
    True
    """


@dataclass(frozen=True)
class Schema:
    """What an event must look like: its ``features``, for a classifier its ``classes``, and input bounds.

    ``bounds`` (a :meth:`~deployment_modes.input_guard.FeatureBounds.to_dict`, learned by
    :meth:`of` from the initial training data) is the input guardrail: an event with a value
    outside its feature's bounds is refused with :class:`InputOutOfBounds` (a ValueError) naming
    the feature and its bounds. A schema without bounds (saved before they existed) checks none.

    Parameters
    ----------
    features
        The feature names, in the order the deployment was trained on.
    task
        ``"classification"`` or ``"regression"``.
    classes
        A classifier's classes, as the training labels spell them (None for a regressor).
    bounds
        The input bounds, as :meth:`~deployment_modes.input_guard.FeatureBounds.to_dict` gives
        them, or None (no input guardrail).

    Examples
    --------
    >>> schema = Schema(("a", "b"), "regression")
    >>> schema.event({"b": 2, "a": 1}, 0.5)
    ({'a': 1.0, 'b': 2.0}, 0.5)
    >>> schema.event({"a": 1}, 0.5)
    Traceback (most recent call last):
    ValueError: x has features that differ from training: missing ['b'], extra []
    """

    features: tuple
    task: str
    classes: tuple | None = None
    bounds: dict | None = field(default=None, repr=False)
    _guard = None  # the FeatureBounds built once from ``bounds`` (not a field)
    _limits = ()  # (position, low, high) of each bounded feature, for the fast check
    _class_keys = frozenset()  # (type, label) of each class, for the fast label check

    def __post_init__(self):
        if self.classes is not None:
            keys = frozenset((type(c), c) for c in self.classes)
            object.__setattr__(self, "_class_keys", keys)
        if self.bounds is not None:
            guard = FeatureBounds.from_dict(self.bounds)
            limits = tuple(
                (i, guard.low[f], guard.high[f])
                for i, f in enumerate(self.features)
                if f in guard.low
            )
            object.__setattr__(self, "_guard", guard)
            object.__setattr__(self, "_limits", limits)

    def __setstate__(self, state):  # a pickled schema: build the bounds again
        self.__dict__.update(state)
        self.__post_init__()

    @classmethod
    def of(cls, X, y) -> Schema:
        """The schema of the initial training data: a classifier if ``y`` holds ints, strings or bools.

        >>> schema = Schema.of([[0.0, 1.0], [1.0, 0.0]], [1, 0])
        >>> schema
        Schema(features=('x0', 'x1'), task='classification', classes=(0, 1))
        >>> schema.event({"x0": 1e200, "x1": 0.5}, 1)
        Traceback (most recent call last):
        deployment_modes.event_schema.InputOutOfBounds: x is abnormal: x0=1e+200 is outside its bounds [-1, 2]
        """
        X, y = as_frame(X), np.asarray(y)
        bounds = FeatureBounds(X).to_dict()
        if y.dtype.kind in "iubOU":
            return cls(
                tuple(X.columns), "classification", tuple(plain(v) for v in np.unique(y)), bounds
            )
        return cls(tuple(X.columns), "regression", bounds=bounds)

    def event(
        self, x, y=None, *, where: str = "", label: bool = True, guard: bool = True
    ) -> tuple[dict, object]:
        """Check one event; return it with ``x`` in feature order and float values.

        ``guard=False`` skips the input bounds (see :meth:`values`).

        >>> Schema(("a",), "regression").event({"a": 1}, 2.5)
        ({'a': 1.0}, 2.5)
        >>> Schema(("a",), "classification", (0, 1)).event({"a": 1}, 2)
        Traceback (most recent call last):
        ValueError: y must be one of the classes [0, 1], got 2
        """
        values = self.values(x, where, guard=guard)
        if not label:
            return dict(zip(self.features, values)), None
        return dict(zip(self.features, values)), self.label(y, where)

    def values(self, x, where: str = "", *, guard: bool = True) -> list[float]:
        """The values of ``x`` in feature order, as floats, after checking them.

        With ``guard`` (and bounds), a value outside its feature's bounds raises
        :class:`InputOutOfBounds`.
        """
        values = self._checked_values(x, where)
        if (
            guard
            and self._guard is not None
            and not all(lo <= values[i] <= hi for i, lo, hi in self._limits)
        ):
            verdict = self._guard.check(dict(zip(self.features, values)))
            if not verdict.ok:
                raise InputOutOfBounds(f"{where}x is abnormal: {verdict.describe()}")
        return values

    def values_many(self, xs, *, guard: bool = True) -> list[list[float]]:
        """The values of each ``x`` of ``xs``, as :meth:`values` gives them, or its error.

        Events whose values are all finite floats (within the bounds, with ``guard``) are checked
        at once, as one array; otherwise each is checked by :meth:`values`, and the first bad one
        raises, named by its position (``events[i].x``).

        >>> schema = Schema(("a", "b"), "regression")
        >>> schema.values_many([{"a": 1.0, "b": 2.0}, {"b": 4.0, "a": 3.0}])
        [[1.0, 2.0], [3.0, 4.0]]
        >>> schema.values_many([{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": float("nan")}])
        Traceback (most recent call last):
        ValueError: events[1].x['b'] must be finite, got nan
        """
        rows = self._plain_rows(xs, guard)
        if rows is not None:
            return rows
        return [self.values(x, f"events[{i}].", guard=guard) for i, x in enumerate(xs)]

    def _plain_rows(self, xs, guard: bool) -> list[list[float]] | None:
        """The values of ``xs`` if all are finite floats (and within the bounds), else None."""
        features, n = self.features, len(self.features)
        if not xs or not all(type(x) is dict and len(x) == n for x in xs):
            return None
        try:
            rows = [[x[f] for f in features] for x in xs]
        except KeyError:
            return None
        if set(map(type, itertools.chain.from_iterable(rows))) != _FLOAT:
            return None
        matrix = np.array(rows)
        if not np.isfinite(matrix).all():
            return None
        if guard and self._limits:
            columns, low, high = zip(*self._limits)
            bounded = matrix[:, list(columns)]
            if not ((bounded >= np.array(low)) & (bounded <= np.array(high))).all():
                return None  # the guard decides, event by event
        return rows

    def _checked_values(self, x, where: str) -> list[float]:
        if type(x) is dict and len(x) == len(self.features):
            try:  # the fast path: floats whose sum is finite are all finite
                values = [x[f] for f in self.features]
                total = sum(values)
            except (KeyError, TypeError, OverflowError):
                total = math.nan
            if total - total == 0.0:
                kinds = set(map(type, values))
                if kinds == _FLOAT:
                    return values
                if kinds <= _NUMBER:
                    try:
                        values = [float(v) for v in values]
                    except OverflowError:
                        values = [math.inf]
                    if all(map(math.isfinite, values)):
                        return values
        try:  # the slow path, which says what is wrong
            check_features(x, self.features, f"{where}x")
            return [float(x[f]) for f in self.features]
        except OverflowError:
            raise ValueError(f"{where}x holds a number too large to be finite") from None

    def label(self, y, where: str = ""):
        """``y`` checked against the task: a finite number, or one of the classes."""
        if self.task != "regression":
            try:
                if (
                    type(y),
                    y,
                ) in self._class_keys:  # the fast path: one of the classes, as spelled
                    return y
            except TypeError:  # not hashable: the check below says what is wrong
                pass
        name = f"{where}y"
        if self.task == "regression":
            if isinstance(y, bool) or not isinstance(y, numbers.Real):
                raise TypeError(f"{name} must be a finite number, got {type(y).__name__} {y!r}")
            try:
                if math.isfinite(y):
                    return float(y)
            except OverflowError:
                pass
            raise ValueError(f"{name} must be a finite number, got {y!r}")
        if not any(y == c and type(y) is type(c) for c in self.classes):
            raise ValueError(f"{name} must be one of the classes {list(self.classes)}, got {y!r}")
        return y


def default_deployment(mode: str = "online"):
    """The deployment a server starts from when its state dir is empty, and its schema.

    Both modes are first trained offline on the initial data of
    ``scenarios.drifting_classification(seed=0)`` (1,000 events, features ``x0..x3``, classes 0
    and 1). Online: river's ``StandardScaler() | LogisticRegression()`` in an
    :class:`~deployment_modes.OnlineDeployment`. Batch: scikit-learn's ``LogisticRegression`` in a
    :class:`~deployment_modes.BatchDeployment` that retrains on the last 1,000 rows, only when
    asked (``POST /deploy``).

    Parameters
    ----------
    mode
        ``"online"`` or ``"batch"``.

    Returns
    -------
    tuple
        ``(deployment, schema)``: the deployment trained offline, and the :class:`Schema` of its
        initial data (with its input bounds).

    Examples
    --------
    >>> dep, schema = default_deployment("batch")
    >>> dep.model_version, schema.features, schema.classes
    (1, ('x0', 'x1', 'x2', 'x3'), (0, 1))
    """
    from . import scenarios

    check_mode(mode)
    X, y = scenarios.drifting_classification(seed=0).initial
    if mode == "batch":  # each mode imports only its own library
        from sklearn.linear_model import LogisticRegression

        from .batch import BatchDeployment

        deployment = BatchDeployment(LogisticRegression(), window=1000)
    else:
        from river import linear_model, preprocessing

        from .online import OnlineDeployment

        deployment = OnlineDeployment(
            preprocessing.StandardScaler() | linear_model.LogisticRegression()
        )
    deployment.fit_initial(X, y)
    return deployment, Schema.of(X, y)


def check_mode(mode) -> str:
    """``mode`` if it is one of :data:`MODES`, else ValueError naming it.

    Parameters
    ----------
    mode
        ``"online"`` or ``"batch"``.

    Returns
    -------
    str
        ``mode``.

    Examples
    --------
    >>> check_mode("batch")
    'batch'
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    return mode
