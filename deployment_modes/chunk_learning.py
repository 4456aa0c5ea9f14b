"""Learning chunk by chunk: the steps every out-of-core path shares.

One chunk's features (``transform_chunk``), one update (:func:`learn_chunk`:
``partial_fit`` for scikit-learn, ``learn_many`` for river), the bytes a chunk holds in memory
(:func:`chunk_nbytes`), a holdout score (:func:`score_model`) and the per-chunk record of a
training (:class:`ChunkHistory`). The local trainer (:class:`~deployment_modes.OutOfCoreTrainer`),
the Dask path (:func:`~deployment_modes.scale_out.fit_dask`) and a plain loop all use them.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, is_classifier, is_regressor

from .incremental import (
    is_classifier as river_supervised,
)  # river or scikit-learn: predicts classes
from .incremental import is_river_model

__all__ = [
    "ChunkHistory",
    "chunk_nbytes",
    "fresh_copy",
    "learn_chunk",
    "score_model",
    "transform_chunk",
]


def transform_chunk(transform, X):
    """The features of the chunk ``X`` under ``transform``.

    Parameters
    ----------
    transform
        ``None`` (the chunk as it is), a transformer with ``transform``, or a callable.
    X
        The chunk's features.

    Examples
    --------
    >>> transform_chunk(lambda X: 2 * X, np.ones(2))
    array([2., 2.])
    """
    if transform is None:
        return X
    return transform.transform(X) if hasattr(transform, "transform") else transform(X)


def fresh_copy(estimator):
    """An untrained copy of ``estimator``: river's ``clone()``, scikit-learn's ``clone``.

    Parameters
    ----------
    estimator
        A river model or a scikit-learn estimator.

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> fresh_copy(SGDClassifier(alpha=0.1)).alpha
    0.1
    """
    if is_river_model(estimator):
        return estimator.clone()
    from sklearn.base import clone

    return clone(estimator)


def learn_chunk(model, X, y, *, classes=None, transform=None):
    """Update ``model`` with one chunk: ``partial_fit`` (scikit-learn) or ``learn_many`` (river).

    The one step that the trainer, the Dask path and a plain loop all share.

    Parameters
    ----------
    model
        A scikit-learn estimator with ``partial_fit`` or a river model with ``learn_many``.
    X, y
        The chunk (``y=None`` for an unsupervised model).
    classes
        Every class label, passed to ``partial_fit`` when it takes them.
    transform
        A feature map applied to ``X`` first (see ``transform_chunk``).

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> m = learn_chunk(SGDClassifier(random_state=0), np.eye(2), np.array([0, 1]), classes=[0, 1])
    >>> m.classes_
    array([0, 1])
    """
    check_learner(model, classes, transform, y)
    known = None if classes is None else np.asarray(list(classes))
    if transform is None:
        check_chunk(None, X, y, known, None)
    Xt = transform_chunk(transform, X)
    if transform is not None:
        check_chunk(None, Xt, y, known, None)
    return learn_checked_chunk(model, Xt, y, classes)


def learn_checked_chunk(model, Xt, y, classes=None):
    """Update ``model`` with a chunk's features ``Xt`` already checked and transformed.

    The trainer's loop calls it after :func:`check_chunk`; :func:`learn_chunk` does both.

    Parameters
    ----------
    model
        A scikit-learn estimator with ``partial_fit`` or a river model with ``learn_many``.
    Xt, y
        The chunk's features and labels (``y=None`` for an unsupervised model).
    classes
        Every class label, passed to ``partial_fit`` when it takes them.

    Examples
    --------
    >>> from sklearn.naive_bayes import GaussianNB
    >>> learn_checked_chunk(GaussianNB(), np.eye(2), np.array([0, 1]), classes=[0, 1]).classes_
    array([0, 1])
    """
    if is_river_model(model) and callable(getattr(model, "learn_many", None)):
        frame = Xt if isinstance(Xt, pd.DataFrame) else pd.DataFrame(Xt)
        if y is None:
            model.learn_many(frame)
        else:
            model.learn_many(frame, pd.Series(np.asarray(y), index=frame.index))
        return model
    kwargs = {}
    if classes is not None and _takes_classes(model.partial_fit):
        kwargs["classes"] = classes
    if y is None:
        model.partial_fit(Xt, **kwargs)
    else:  # scikit-learn's SGD classifier without its fixed per-call cost: the same model
        from .sgd_partial import partial_fit

        partial_fit(model, Xt, y, **kwargs)
    return model


def score_model(model, X, y, transform=None) -> float:
    """The holdout score: ``model.score`` for scikit-learn, accuracy or R² for river; NaN if none.

    Parameters
    ----------
    model
        A trained scikit-learn estimator or river model.
    X, y
        The holdout set.
    transform
        A feature map applied to ``X`` first (see ``transform_chunk``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> score_model(LogisticRegression().fit(X, y), X, y)
    1.0
    """
    Xt = transform_chunk(transform, X)
    if is_river_model(model):
        from river import base

        frame = Xt if isinstance(Xt, pd.DataFrame) else pd.DataFrame(Xt)
        predicted = np.asarray(model.predict_many(frame))
        y = np.asarray(y)
        if isinstance(model, base.Classifier) or not np.issubdtype(y.dtype, np.number):
            return float(np.mean(predicted == y))
        return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))
    labels = np.asarray(y)
    if (
        is_classifier(model)
        and type(model).score is ClassifierMixin.score
        and labels.ndim == 1
        and len(labels) == Xt.shape[0]
    ):  # ClassifierMixin.score is accuracy_score(y, predict(X)): the same mean, without its checks
        predicted = _sgd_sparse_predict(model, Xt)
        return float(np.mean((model.predict(Xt) if predicted is None else predicted) == labels))
    if callable(getattr(model, "score", None)):
        return float(model.score(Xt, y))
    return float("nan")


def _sgd_sparse_predict(model, X):
    """``model.predict(X)`` of a fitted ``SGDClassifier`` on a CSR matrix, one class at a time; None otherwise.

    The scores are scipy's products of ``X`` with each class's weights, as ``decision_function``
    computes them all at once, without its checks and without the copy of ``coef_.T`` in C order
    that scipy makes for it on every call (2.6 MB for five classes of 65,536 hashed features):
    a sixth of the CPU of a holdout score. Anything else (or a NaN) goes through ``predict``.
    """
    from sklearn.linear_model import SGDClassifier

    coef = getattr(model, "coef_", None)
    if not (
        isinstance(model, SGDClassifier)
        and type(model).predict is SGDClassifier.predict
        and type(model).decision_function is SGDClassifier.decision_function
        and isinstance(coef, np.ndarray)
        and coef.dtype == np.float64
        and getattr(X, "format", None) == "csr"
        and X.dtype == np.float64
        and X.shape[1] == coef.shape[1]
        and np.isfinite(X.data).all()
    ):
        return None
    scores = np.column_stack([X @ weights for weights in coef]) + model.intercept_
    if scores.shape[1] == 1:
        return model.classes_[(scores[:, 0] > 0).astype(int)]
    return model.classes_[np.argmax(scores, axis=1)]


def chunk_nbytes(X, Xt) -> int:
    """Bytes a chunk holds in memory: its data ``X`` plus its features ``Xt`` (when they differ).

    Parameters
    ----------
    X
        The chunk as read (a DataFrame or an array).
    Xt
        Its features (dense, sparse or a DataFrame); ``X`` itself when there is no transform.

    Examples
    --------
    >>> X = np.zeros((10, 4))
    >>> chunk_nbytes(X, X), chunk_nbytes(X, 2 * X)
    (320, 640)
    """
    if isinstance(X, pd.DataFrame):
        size = (
            X.to_numpy(copy=False).nbytes
            if _all_float(X)
            else int(X.memory_usage(deep=True, index=False).sum())
        )
    else:
        size = np.asarray(X).nbytes
    if Xt is not X:
        if hasattr(Xt, "indptr"):
            size += Xt.data.nbytes + Xt.indices.nbytes + Xt.indptr.nbytes
        elif isinstance(Xt, pd.DataFrame):
            size += int(Xt.memory_usage(deep=True, index=False).sum())
        else:
            size += np.asarray(Xt).nbytes
    return size


class ChunkHistory:
    """The record of a training chunk by chunk: one row per chunk, with a holdout score after each.

    Parameters
    ----------
    holdout
        An ``(X, y)`` pair scored after every chunk, or ``None``.
    transform
        The training's feature map; the holdout's features are computed once (it is stateless).

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> history, model = ChunkHistory(), SGDClassifier(random_state=0)
    >>> for _ in range(2):
    ...     learn_chunk(model, np.eye(2), np.array([0, 1]), classes=[0, 1])
    ...     history.record(model, rows=2, read_seconds=0.0, learn_seconds=0.001, nbytes=2**20,
    ...                    rss_bytes=2**30, peak_bytes=2**30)  # doctest: +ELLIPSIS
    SGDClassifier(...)
    SGDClassifier(...)
    >>> history.frame()[["chunk", "rows_seen", "chunk_mb"]].to_dict("list")
    {'chunk': [1, 2], 'rows_seen': [2, 4], 'chunk_mb': [1.0, 1.0]}
    """

    def __init__(self, holdout=None, transform=None):
        self.records: list[dict] = []
        self._holdout = None
        if holdout is not None:
            X, y = holdout
            self._holdout = (transform_chunk(transform, X), y)

    def __len__(self) -> int:
        return len(self.records)

    def record(
        self,
        model,
        *,
        rows: int,
        read_seconds: float,
        learn_seconds: float,
        nbytes: int,
        rss_bytes: int,
        peak_bytes: int,
    ) -> None:
        """Add the row of a chunk just learned (``nbytes``: :func:`chunk_nbytes`; memory in bytes)."""
        last = self.records[-1] if self.records else None
        peak_bytes = max(peak_bytes, int(last["peak_rss_mb"] * 2**20) if last else 0)
        score = score_model(model, *self._holdout) if self._holdout is not None else float("nan")
        self.records.append(
            {
                "chunk": len(self.records) + 1,
                "rows": rows,
                "rows_seen": (last["rows_seen"] if last else 0) + rows,
                "read_seconds": read_seconds,
                "learn_seconds": learn_seconds,
                "chunk_mb": nbytes / 2**20,
                "rss_mb": rss_bytes / 2**20,
                "peak_rss_mb": peak_bytes / 2**20,
                "score": score,
            }
        )

    def frame(self) -> pd.DataFrame:
        """The history as a table, one row per chunk."""
        return pd.DataFrame(self.records)


def _takes_classes(partial_fit) -> bool:
    """Whether ``partial_fit`` takes ``classes`` (looked up once per estimator class)."""
    function = getattr(partial_fit, "__func__", None)
    if function is None:
        return "classes" in inspect.signature(partial_fit).parameters
    return _function_takes_classes(function)


@functools.lru_cache(maxsize=64)
def _function_takes_classes(function) -> bool:
    return "classes" in inspect.signature(function).parameters


def _all_float(frame: pd.DataFrame) -> bool:
    return all(dtype.kind == "f" for dtype in frame.dtypes)


def _within_integer_classes(labels: np.ndarray, classes: np.ndarray) -> bool:
    """True when integer ``labels`` lie in a range of integers that are all ``classes``.

    Two passes (min and max) instead of hashing every label: exact, and enough for the
    usual labels 0..k-1. False means "not shown this way": look at the labels one by one.
    """
    if not labels.size or labels.dtype.kind not in "iu" or classes.dtype.kind not in "iu":
        return False
    low, high = int(labels.min()), int(labels.max())
    return high - low < len(classes) and set(range(low, high + 1)) <= set(classes.tolist())


def check_learner(model, classes, transform, y=0) -> None:
    """Check :func:`learn_chunk`'s model, classes and transform; raise a TypeError or ValueError naming them."""
    if isinstance(model, type) or not (
        callable(getattr(model, "partial_fit", None))
        or is_river_model(model)
        and callable(getattr(model, "learn_many", None))
    ):
        raise TypeError(
            f"model must have partial_fit() (scikit-learn) or learn_many() (river), got {model!r:.60}"
        )
    if classes is not None:
        check_classes(classes)
    elif not is_river_model(model) and is_classifier(model) and not hasattr(model, "classes_"):
        raise ValueError(
            "classes must list every label for the first partial_fit of a scikit-learn classifier"
        )
    if y is None and (
        is_classifier(model)
        or is_regressor(model)
        or is_river_model(model)
        and river_supervised(model)
    ):
        raise ValueError(
            f"y must hold the labels: {type(model).__name__} learns from labelled data"
        )
    if transform is not None and (
        isinstance(transform, type) or not (callable(transform) or hasattr(transform, "transform"))
    ):
        raise TypeError(f"transform must be callable or have transform(), got {transform!r:.60}")


def check_classes(classes) -> np.ndarray:
    """``classes`` as an array of at least two distinct labels, or a TypeError/ValueError naming it."""
    if isinstance(classes, (str, bytes, dict)) or not isinstance(classes, Iterable):
        raise TypeError(f"classes must be a list of labels, got {type(classes).__name__}")
    labels = list(classes)
    if any(label is None or label != label for label in labels) or not all(
        isinstance(label, (str, numbers.Integral, np.integer, np.str_)) for label in labels
    ):
        raise ValueError(f"classes must hold class labels (str, int or bool), got {labels!r:.60}")
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"classes must list at least two distinct labels, got {labels!r:.60}")
    return np.asarray(labels)


def check_chunk(number: int | None, X, y, classes, layout):
    """Check chunk ``number`` (from 1; None for a lone chunk) before it is learned; return its layout.

    The layout (its columns, or its width) must be the same for every chunk: pass the first chunk's
    as ``layout``. A NaN, a missing label, a label not among ``classes`` or a different layout raise a
    ValueError that names the chunk.

    >>> check_chunk(1, np.eye(2), np.array([0, 1]), np.array([0, 1]), None)
    (2,)
    """
    where = "the chunk" if number is None else f"chunk {number}"
    if isinstance(X, pd.DataFrame):
        shape = X.columns.tolist()
        # the fast path: one pass over the numbers finds a NaN or an infinity
        if not (_all_float(X) and np.isfinite(X.to_numpy(copy=False)).all()):
            if X.isna().to_numpy().any():
                row, column = np.argwhere(X.isna().to_numpy())[0]
                raise ValueError(
                    f"{where}: X has a missing value (row {row}, column {X.columns[column]!r})"
                )
            numeric = X.select_dtypes(include="number").to_numpy(dtype=float)
            if numeric.size and not np.isfinite(numeric).all():
                raise ValueError(f"{where}: X has an infinite value")
        n = len(X)
    elif (
        isinstance(X, (str, bytes, dict))
        or not hasattr(X, "shape")
        and not isinstance(X, (list, tuple))
    ):
        raise TypeError(
            f"{where}: X must be a DataFrame, an array or a list of rows, got {type(X).__name__}"
        )
    else:
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        if hasattr(X, "indptr"):  # a sparse matrix
            values, shape = X.data, X.shape[1]
        else:
            values = np.asarray(X)
            if values.ndim != 2:
                raise ValueError(
                    f"{where}: X must be 2-D (rows x features), got shape {values.shape}"
                )
            shape = values.shape[1:]
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            raise ValueError(f"{where}: X has a NaN or infinite value")
    if layout is not None and shape != layout:
        raise ValueError(f"{where}: its features {shape} differ from the first chunk's {layout}")
    if y is not None:
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(
                f"{where}: X has {n} rows but y has {labels.shape} labels: one label per row"
            )
        if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
            raise ValueError(f"{where}: y has a NaN or infinite label")
        if labels.dtype == object and pd.isna(labels).any():
            raise ValueError(f"{where}: y has a missing label")
        if classes is not None and not _within_integer_classes(labels, classes):
            unseen = set(pd.unique(labels).tolist()) - set(classes.tolist())
            if unseen:
                raise ValueError(
                    f"{where}: y has labels {sorted(unseen, key=str)} that are not among the classes {classes.tolist()}"
                )
    return shape
