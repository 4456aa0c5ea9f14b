"""Batch (offline) learning: a static deployed model, retrained from scratch now and then.

Defined in the Batch learning chapter (``book/batch.ipynb``).
"""

from __future__ import annotations

import copy
import numbers
import time

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import clone, is_classifier

from ._checks import (
    features,
    has_method,
    label,
    labels,
    numeric_labels,
    plain,
    plain_labels,
    positive_int,
    training_label_kind,
)
from .frames import as_frame, records
from .monitor import Monitor
from .threads import one_thread
from .timeline import LogEntry
from .triggers import EveryEvents, EveryPeriod

__all__ = ["BatchDeployment", "as_frame", "records"]


class BatchDeployment:
    """Train offline on all the data, deploy a static model, retrain from scratch periodically.

    ``learn_one`` only stores the new labelled event. Every ``retrain_every`` events (or when the
    time feature ``time_feature`` crosses a multiple of ``period``, or when the drift detector
    ``trigger`` fires on the served model's errors) a clone of ``estimator`` is fitted on the
    initial data plus every stored event (only the last ``window`` rows if given), and replaces
    the served model. The estimator sees plain arrays whose columns are in the order of the
    initial ``X``. With no schedule at all, the model stays as first deployed.

    Parameters
    ----------
    estimator
        A scikit-learn estimator (``fit``, ``predict``); every retrain fits a clone of it.
    retrain_every
        Retrain every that many events (:class:`~deployment_modes.triggers.EveryEvents`).
    window
        Fit on the last ``window`` rows only (default: all the data kept).
    period, time_feature
        Retrain at the first event of each new ``period`` of the feature ``time_feature``
        (:class:`~deployment_modes.triggers.EveryPeriod`).
    trigger
        A river drift detector, or :class:`~deployment_modes.triggers.AlarmThenCollect`, fed
        the served model's errors by a :class:`~deployment_modes.monitor.Monitor`: retrain when
        it fires.
    refit
        How a retrain trains: ``"scratch"`` (stateless retraining: a clone fitted on the data
        kept) or ``"continue"`` (stateful training: a copy of the served model continues on the
        events stored since the last retrain only, with one ``partial_fit`` call, or with ``fit``
        under ``warm_start=True`` for an estimator without it; the log's ``rows`` are those events).
        The first training is from scratch either way. See the Retraining chapter
        (``book/retraining.ipynb``).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> dep = BatchDeployment(LinearRegression(), retrain_every=2)
    >>> dep.fit_initial([[0.0], [1.0]], [0.0, 1.0])
    >>> round(dep.predict_one({"x0": 2.0}), 6)
    2.0
    >>> dep.learn_one({"x0": 2.0}, 4.0); dep.learn_one({"x0": 3.0}, 6.0)
    >>> dep.model_version, [e.rows for e in dep.log]
    (2, [2, 4])
    >>> model, rows, seconds = dep.fit_candidate(upto=1)  # fitted aside, not yet served
    >>> dep.swap_in(model, rows, seconds); dep.model_version, dep.log[-1].kind, rows
    (3, 'swap', 3)
    """

    def __init__(
        self,
        estimator,
        retrain_every: int | None = None,
        *,
        window: int | None = None,
        period: float | None = None,
        time_feature: str | None = None,
        trigger=None,
        refit: str = "scratch",
    ):
        has_method(estimator, "fit", "estimator")
        has_method(estimator, "predict", "estimator")
        if refit not in ("scratch", "continue"):
            raise ValueError(f"refit must be 'scratch' or 'continue', got {refit!r}")
        if refit == "continue":
            can_continue = (
                callable(getattr(estimator, "partial_fit", None))
                or "warm_start" in getattr(estimator, "get_params", dict)()
            )
            if not can_continue:
                raise ValueError(
                    f"refit='continue' needs an estimator that can continue training (a partial_fit "
                    f"method or a warm_start parameter); {type(estimator).__name__} has neither"
                )
            if window is not None:
                raise ValueError(
                    "window is for refit='scratch': refit='continue' trains on the events "
                    "since the last retrain only"
                )
        self.refit = refit
        self.estimator = estimator
        self.retrain_every = positive_int(retrain_every, "retrain_every", allow_none=True)
        self.window = positive_int(window, "window", allow_none=True)
        if (period is None) != (time_feature is None):
            raise ValueError("period and time_feature must be given together")
        if period is not None:
            EveryPeriod(period, time_feature)  # checks both now
        if trigger is not None:
            has_method(trigger, "update", "trigger")
            if not hasattr(trigger, "drift_detected"):
                raise TypeError(
                    f"trigger must be a river drift detector (update() and drift_detected), "
                    f"got {type(trigger).__name__}"
                )
        self.period, self.time_feature, self.trigger = period, time_feature, trigger
        self.model = None
        self.model_version = 0
        self.log: list[LogEntry] = []
        self.n_seen = 0

    def fit_initial(self, X, y) -> None:
        """The first, offline training on ``(X, y)``: version 1 of the deployed model.

        All or nothing: if the training fails, a deployment trained before is left as it was.
        A classifier (or labels that are strings or bools) makes the labels classes; the
        labels the stream reveals must then be of the same kind (``str``, ``bool`` or ``int``).
        """
        X = as_frame(X)
        if self.time_feature is not None and self.time_feature not in X.columns:
            raise ValueError(
                f"time_feature {self.time_feature!r} is not a feature of X; its features are {list(X.columns)}"
            )
        numeric = X.select_dtypes(include="number").to_numpy(dtype=float)
        if X.isna().to_numpy().any() or not np.isfinite(numeric).all():
            raise ValueError("X must hold finite values: it has a missing or infinite value")
        y = labels(y, len(X))
        classification = is_classifier(self.estimator) or not numeric_labels(y)
        kind = training_label_kind(y, classification)
        if not classification:
            y = y.astype(float)  # a regression target learned later as 0.5 must not be cut to 0
        fresh = copy.copy(self)
        fresh._X0, fresh._y0 = X.reset_index(drop=True), y
        fresh._X0_floats = all(dtype == np.float64 for dtype in X.dtypes)
        fresh._features = list(X.columns)
        fresh._feature_keys = frozenset(fresh._features)  # compared with x.keys() as a set, cheaply
        fresh._numeric, fresh._label_kind = not classification, kind
        fresh._rows, fresh._labels, fresh.forgotten = [], [], 0
        fresh.model, fresh.model_version, fresh.log, fresh.n_seen = None, 0, [], 0
        fresh._monitor = (
            None
            if self.trigger is None
            else Monitor(
                classification=classification, window=1, detector=copy.deepcopy(self.trigger)
            )
        )
        fresh._schedules = [EveryEvents(self.retrain_every)] if self.retrain_every else []
        if self.period is not None:
            fresh._schedules.append(EveryPeriod(self.period, self.time_feature))
        fresh._since = fresh._candidate_upto = (
            0  # stored events already trained on (refit="continue")
        )
        fresh.swap_in(*fresh.fit_candidate(), kind="train")
        self.__dict__.update(
            fresh.__dict__
        )  # all or nothing: a failure above leaves self as it was

    def __setstate__(self, state: dict) -> None:
        """Unpickle, filling what a snapshot written by an earlier version lacks."""
        self.__dict__.update(state)
        if "_features" in state and "_feature_keys" not in state:
            self._feature_keys = frozenset(self._features)
            self._X0_floats = False

    def _require_model(self):
        if self.model is None:
            raise RuntimeError("the deployment has no model yet: call fit_initial(X, y) first")

    def predict_one(self, x: dict):
        """The served model's prediction for one event."""
        self._require_model()
        # finiteness checked here, so scikit-learn need not check again
        features(x, self._feature_keys)
        row = [x[f] for f in self._features]
        predict_row = getattr(self.model, "predict_row", None)
        if predict_row is None:  # scikit-learn's plain linear regressors: one product, as theirs
            from .lean import linear_row_predictor  # (not at import: an online server needs none)

            predict_row = linear_row_predictor(self.model, len(row))
        if predict_row is not None:  # a lean or plain linear model: one row, one product
            prediction = predict_row(row)
        elif getattr(self.model, "predict_reads_config", True):
            with config_context(assume_finite=True):
                prediction = plain(self.model.predict(np.array([row]))[0])
        else:  # a lean model (deployment_modes.lean) checks nothing: no configuration to set
            prediction = plain(self.model.predict(np.array([row]))[0])
        self._served = (self.model, row, prediction)  # the drift monitor reuses it: see _due
        return prediction

    def predict_many(self, rows, model=None) -> list:
        """The served model's predictions for ``rows`` of feature values, in the initial ``X``'s column order.

        One vectorised call: the same predictions as :meth:`predict_one` on each row, faster.

        Parameters
        ----------
        rows
            Rows of feature values.
        model
            A model this deployment served before (default: the one it serves now), to score the
            events it served after a retrain replaced it.

        Examples
        --------
        >>> from sklearn.linear_model import LinearRegression
        >>> dep = BatchDeployment(LinearRegression())
        >>> dep.fit_initial([[0.0], [1.0]], [0.0, 1.0])
        >>> [round(p, 6) for p in dep.predict_many([[2.0], [3.0]])]
        [2.0, 3.0]
        """
        self._require_model()
        if model is None:
            model = self.model
        else:
            has_method(model, "predict", "model")
        X = np.asarray(rows, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self._features) or not np.isfinite(X).all():
            raise ValueError(
                f"rows must be finite rows of {len(self._features)} feature values, got shape {X.shape}"
            )
        with config_context(assume_finite=True):
            return [plain(p) for p in model.predict(X)]

    def learn_one(self, x: dict, y) -> None:
        """Store one labelled event; retrain and redeploy when the schedule says so."""
        self._require_model()
        row, y = self._checked(x, y)
        self._store(x, y, row)

    def learn_segment(self, xs, ys, predictions) -> int:
        """:meth:`learn_one` on each event in turn, up to the first that retrains: how many were stored.

        ``predictions`` are the served model's answers to ``xs`` (:meth:`predict_many`), which a
        drift ``trigger`` scores instead of asking the model again: the events one served model
        answers (a segment) are then predicted in one call. Every event is checked before any
        is stored.

        Examples
        --------
        >>> from sklearn.linear_model import LinearRegression
        >>> dep = BatchDeployment(LinearRegression(), retrain_every=2)
        >>> dep.fit_initial([[0.0], [1.0]], [0.0, 1.0])
        >>> xs = [{"x0": 2.0}, {"x0": 3.0}, {"x0": 4.0}]
        >>> dep.learn_segment(xs, [4.0, 6.0, 8.0], dep.predict_many([[2.0], [3.0], [4.0]]))
        2
        >>> dep.model_version, dep.n_seen
        (2, 2)
        """
        self._require_model()
        if not len(xs) == len(ys) == len(predictions):
            raise ValueError(
                f"xs, ys and predictions must have one entry per event, got {len(xs)}, "
                f"{len(ys)} and {len(predictions)}"
            )
        checked = self._checked_many(xs, ys)  # all checked, then stored
        for k, (x, (row, y), p) in enumerate(zip(xs, checked, predictions)):
            if self._store(x, y, row, p):
                return k + 1
        return len(checked)

    def _checked(self, x, y) -> tuple[list, object]:
        """The event's row of feature values and its label, both checked."""
        features(x, self._feature_keys)
        y = label(y, classification=not self._numeric, kind=self._label_kind)
        if self._label_kind is numbers.Integral and isinstance(y, bool):
            raise TypeError(f"y must be a class label like the earlier ones (int), got bool {y!r}")
        return [x[f] for f in self._features], y

    def _checked_many(self, xs, ys) -> list[tuple[list, object]]:
        """:meth:`_checked` of each event; the common case (finite numbers, plain labels) in a few passes.

        Anything else goes through :meth:`_checked` event by event, which raises its error for
        the first event at fault; the result is the same either way.
        """
        keys, names = self._feature_keys, self._features
        if all(type(x) is dict and x.keys() == keys for x in xs):
            rows = [[x[f] for f in names] for x in xs]
            values = [v for row in rows for v in row]
            if set(map(type, values)) <= {float, int} and plain_labels(
                ys, self._numeric, self._label_kind
            ):
                try:
                    total = sum(values)  # NaN or infinite iff a value is (or the sum overflows)
                except OverflowError:  # an int too large for a float: checked one by one
                    total = None
                if type(total) is int or (type(total) is float and total - total == 0.0):
                    return list(zip(rows, ys))
        return [self._checked(x, y) for x, y in zip(xs, ys)]

    def _store(self, x, y, row, prediction=None) -> bool:
        """Store a checked event; retrain if it is due (``prediction``: the served model's answer)."""
        due = self._due(x, y, row, prediction)
        self._rows.append(row)
        self._labels.append(y)
        self.n_seen += 1
        if due:
            self.retrain()
        return due

    def _due(self, x, y, row, prediction=None) -> bool:
        due = False
        for (
            schedule
        ) in self._schedules:  # each schedule sees every event (a period tracks its boundary)
            due = schedule.due(self.n_seen, x) or due
        if self._monitor is not None:  # the drift trigger watches the served model's errors
            if prediction is None:
                served = getattr(self, "_served", None)
                same = served is not None and served[0] is self.model
                if same and served[1] == row:
                    prediction = served[2]  # what the served model answered for this event already
                else:
                    prediction = self.predict_one(x)
            due = self._monitor.update(y, prediction, self.n_seen + 1) is not None or due
        return due

    def _check_upto(self, upto) -> None:
        if (
            isinstance(upto, bool)
            or not isinstance(upto, numbers.Integral)
            or not 0 <= upto <= self.n_seen
        ):
            raise ValueError(
                f"upto must be an int between 0 and {self.n_seen} (events stored), got {upto!r}"
            )

    def training_data(self, upto: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """What a retrain would fit on: initial data plus stored events (last ``window`` rows).

        ``upto`` keeps only the first ``upto`` stored events (all of them by default).
        """
        rows = self._stored_slice(upto)
        new = pd.DataFrame(self._rows[rows], columns=self._features)
        X = pd.concat([self._X0, new], ignore_index=True) if len(new) else self._X0
        y = np.concatenate([self._y0, np.asarray(self._labels[rows])])
        if self.window is not None:
            X, y = X.iloc[-self.window :].reset_index(drop=True), y[-self.window :]
        return X, y

    def _stored_slice(self, upto: int | None) -> slice:
        """The stored events a retrain on the first ``upto`` of them fits (checked)."""
        if not hasattr(self, "_X0"):
            self._require_model()
        upto = self.n_seen if upto is None else upto
        self._check_upto(upto)
        first = 0 if self.window is None else max(0, upto - self.window)
        if first < self.forgotten:
            raise ValueError(
                f"upto={upto} needs events from {first} on, but the first {self.forgotten} "
                f"are forgotten (see forget)"
            )
        return slice(first - self.forgotten, upto - self.forgotten)

    def _training_arrays(self, upto: int | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`training_data` as the array a fit gets; without pandas when every feature is a float.

        The same values in the same memory layout as pandas gives (its float block, one row per
        feature, transposed), so a fit computes exactly what it did from the DataFrame.
        """
        rows = self._stored_slice(upto)
        if not self._X0_floats or rows.stop <= rows.start:  # pandas decides, as before
            X, y = self.training_data(upto)
            return X.to_numpy(), y
        new = np.array(self._rows[rows], dtype=float).reshape(-1, len(self._features))
        X = np.concatenate([self._X0.to_numpy().T, new.T], axis=1).T
        y = np.concatenate([self._y0, np.asarray(self._labels[rows])])
        if self.window is not None:
            X, y = X[-self.window :], y[-self.window :]
        return X, y

    def forget(self, upto: int) -> int:
        """Drop the stored events that no retrain on the first ``upto`` events or more needs.

        With a ``window``, a retrain on the first ``upto`` events fits on the last ``window`` of
        them, so the events before ``upto - window`` can go; without one, every event is kept.
        Returns how many events were dropped (``forgotten`` counts them all).

        >>> from sklearn.linear_model import LinearRegression
        >>> dep = BatchDeployment(LinearRegression(), window=3)
        >>> dep.fit_initial([[0.0], [1.0]], [0.0, 1.0])
        >>> for i in range(10): dep.learn_one({"x0": float(i)}, 2.0 * i)
        >>> dep.forget(10), dep.stored_rows, len(dep.training_data()[1])
        (7, 5, 3)
        """
        self._check_upto(upto)
        if self.window is None:
            return 0
        drop = max(0, upto - self.window - self.forgotten)
        if (
            drop
        ):  # new lists, not an in-place del, so a reader holding the old ones is not disturbed
            self._rows, self._labels = self._rows[drop:], self._labels[drop:]
            self.forgotten += drop
        return drop

    def retrain(self) -> None:
        """Retrain from scratch on :meth:`training_data` and swap the served model."""
        self.swap_in(*self.fit_candidate(), kind="retrain")

    def fit_candidate(self, upto: int | None = None) -> tuple[object, int, float]:
        """Fit a new model on :meth:`training_data` without serving it: ``(model, rows, seconds)``.

        The served model is untouched, so it keeps answering while the candidate trains;
        :meth:`swap_in` then serves the candidate (the server's hot swap does exactly this).
        """
        if self.refit == "continue" and self.model is not None:
            return self._continue(upto)
        X, y = self._training_arrays(upto)
        # a retrain fits the parameters the first training checked, on rows checked finite on
        # arrival: scikit-learn need not check them again (the fitted model is the same)
        checked = self.model is not None
        start = time.perf_counter()
        with one_thread(), config_context(assume_finite=True, skip_parameter_validation=checked):
            model = clone(self.estimator).fit(X, y)  # one BLAS thread: small fits
        self._candidate_upto = self.n_seen if upto is None else upto
        return model, len(y), time.perf_counter() - start

    def _continue(self, upto: int | None):
        """Stateful training: a copy of the served model trained on the events since the last retrain."""
        self.training_data(upto)  # checks upto
        upto = self.n_seen if upto is None else upto
        X = np.array(self._rows[self._since : upto], dtype=float).reshape(-1, len(self._features))
        y = np.asarray(self._labels[self._since : upto])
        start = time.perf_counter()
        model = copy.deepcopy(self.model)
        if len(y):
            with one_thread():
                if callable(getattr(model, "partial_fit", None)):
                    model.partial_fit(X, y)
                else:
                    model.set_params(warm_start=True).fit(X, y)
        self._candidate_upto = upto
        return model, len(y), time.perf_counter() - start

    def swap_in(
        self, model, rows: int, seconds: float, kind: str = "swap", detail: str = ""
    ) -> None:
        """Serve ``model`` from now on: one assignment, atomic for anyone holding the deployment."""
        has_method(model, "predict", "model")
        self._since = self._candidate_upto
        self.model = model
        self.model_version += 1
        self.log.append(
            LogEntry(
                self.n_seen,
                kind,
                rows=rows,
                seconds=seconds,
                detail=detail or f"version {self.model_version}",
            )
        )

    @property
    def moving_parts(self) -> dict:
        """Each part a team runs in production for this deployment, and when it acts, as ``{part: when}``.

        The complexity the chapters count (the Comparison's complexity row, the Online and
        Out-of-core chapters' pros and cons): a store of the labelled events, then, if the model
        is ever retrained, the training job, what starts it (a scheduler, a trigger), a test of
        the new model before release, and the model registry that swaps it in.

        >>> from sklearn.linear_model import Ridge
        >>> for part, when in BatchDeployment(Ridge(), retrain_every=500).moving_parts.items():
        ...     print(f"{part}: {when}")
        store of labelled events: every event
        retraining job, from scratch: every 500 events
        scheduler of the retrains: every 500 events
        test of the new model before release: every retrain
        model registry and swap (redeploy): every retrain
        """
        periodic = []
        if self.retrain_every is not None:
            periodic.append(f"every {self.retrain_every} events")
        if self.period is not None:
            periodic.append(f"every {self.period:g} of {self.time_feature}")
        performance = type(self.trigger).__name__ == "PerformanceTrigger"
        schedule = list(periodic)
        if self.trigger is not None:
            schedule.append(
                "when the rolling error crosses its threshold"
                if performance
                else "after a drift alarm"
            )
        stateful = self.refit == "continue"
        parts = {
            "store of labelled events"
            + (" since the last retrain" if stateful else ""): "every event"
        }
        if schedule:
            parts[
                "training job, continuing the served model"
                if stateful
                else "retraining job, from scratch"
            ] = " or ".join(schedule)
        if periodic:
            parts["scheduler of the retrains"] = " or ".join(periodic)
        if self.trigger is not None:
            parts[
                ("performance" if performance else "drift")
                + " trigger on the served model's errors"
            ] = "every event"
        if schedule:
            parts["test of the new model before release"] = "every retrain"
            parts["model registry and swap (redeploy)"] = "every retrain"
        return parts

    @property
    def feature_names(self) -> list[str]:
        """The features of the first training, in the order of the rows the model sees."""
        self._require_model()
        return list(self._features)

    @property
    def stored_rows(self) -> int:
        """How many rows the next retrain needs: all kept rows, or (``refit="continue"``) those since the last."""
        if self.model is None:
            return 0
        if self.refit == "continue":
            return len(self._labels) - self._since
        return len(self._y0) + len(self._labels)
