"""Out-of-core learning: the first, offline training, chunk by chunk from disk, then online.

:class:`OutOfCoreTrainer` updates a model with one chunk at a time (scikit-learn's
``partial_fit`` or river's ``learn_many``), recording after each chunk the rows seen, the
time, the memory and a holdout score. The model it trains is exactly the one a plain loop of
``partial_fit`` over the same chunks gives. :class:`HashedText` is the hashing trick for
text: a stateless feature map, so no vocabulary has to be held in memory or fitted first.
:meth:`OutOfCoreTrainer.to_online` hands the trained model to an online deployment.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import inspect
import numbers
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone, is_classifier, is_regressor
from sklearn.feature_extraction.text import HashingVectorizer

from ._checks import positive_int
from .incremental import is_classifier as river_supervised  # river or scikit-learn: predicts classes
from .incremental import is_river_model
from .memory import peak_rss, rss

__all__ = ["HashedText", "OutOfCoreTrainer", "learn_chunk", "out_of_core_then_online", "score_model", "train_on_disk"]


class HashedText(TransformerMixin, BaseEstimator):
    """The hashing trick: the words of the text column ``column`` as ``n_features`` hashed counts (L2-normalised).

    Words are the whitespace-separated tokens of the text (lower-case it first if needed).

    Stateless: nothing to fit, the same words always land in the same columns, whatever
    chunk they come in. Accepts a DataFrame chunk, one event ``{"text": ...}``, a list of
    events or a list of texts, and returns a sparse matrix (one row per document).

    >>> h = HashedText(n_features=16)
    >>> h.transform({"text": "ba be ba"}).shape, h.transform(pd.DataFrame({"text": ["ba", "be bi"]})).shape
    ((1, 16), (2, 16))
    """

    def __init__(self, column: str = "text", n_features: int = 2**16, alternate_sign: bool = False):
        self.column, self.n_features, self.alternate_sign = column, n_features, alternate_sign

    def fit(self, X=None, y=None):
        """Nothing to learn: the hashing trick is stateless."""
        return self

    def transform(self, X):
        """Hashed word counts of the documents in ``X``."""
        if not isinstance(self.column, str):
            raise TypeError(f"column must name the text column (str), got {self.column!r:.60}")
        missing = isinstance(X, pd.DataFrame) and self.column not in X.columns or \
            isinstance(X, dict) and self.column not in X or \
            isinstance(X, (list, tuple)) and any(isinstance(x, dict) and self.column not in x for x in X)
        if missing:
            raise ValueError(f"column {self.column!r} is not in X")
        if isinstance(X, dict):
            texts = [X[self.column]]
        elif isinstance(X, pd.DataFrame):
            texts = X[self.column]
        elif isinstance(X, (list, tuple)) and all(isinstance(x, dict) for x in X):
            texts = [x[self.column] for x in X]
        elif isinstance(X, (list, tuple, pd.Series)) and all(isinstance(x, str) for x in X):
            texts = X
        else:
            raise TypeError(f"X must be a DataFrame, a dict, a list of dicts with a {self.column!r} entry "
                            f"or a list of texts, got {type(X).__name__}")
        vectorizer = HashingVectorizer(n_features=positive_int(self.n_features, "n_features"),
                                       alternate_sign=self.alternate_sign, analyzer=str.split)
        return vectorizer.transform(texts)

    __call__ = transform


def _apply(transform, X):
    if transform is None:
        return X
    return transform.transform(X) if hasattr(transform, "transform") else transform(X)


def learn_chunk(model, X, y, *, classes=None, transform=None):
    """Update ``model`` with one chunk: ``partial_fit`` (scikit-learn) or ``learn_many`` (river).

    The one step that the trainer, the Dask path and a plain loop all share.

    >>> from sklearn.linear_model import SGDClassifier
    >>> m = learn_chunk(SGDClassifier(random_state=0), np.eye(2), np.array([0, 1]), classes=[0, 1])
    >>> m.classes_.tolist()
    [0, 1]
    """
    _check_learner(model, classes, transform, y)
    if transform is None:
        _check_chunk(None, X, y, None if classes is None else np.asarray(list(classes)), None)
    Xt = _apply(transform, X)
    if transform is not None:
        _check_chunk(None, Xt, y, None if classes is None else np.asarray(list(classes)), None)
    return _learn_chunk(model, Xt, y, classes)


def _learn_chunk(model, Xt, y, classes):
    """:func:`learn_chunk` on checked, transformed features."""
    if is_river_model(model) and callable(getattr(model, "learn_many", None)):
        frame = Xt if isinstance(Xt, pd.DataFrame) else pd.DataFrame(Xt)
        if y is None:
            model.learn_many(frame)
        else:
            model.learn_many(frame, pd.Series(np.asarray(y), index=frame.index))
        return model
    kwargs = {}
    if classes is not None and "classes" in inspect.signature(model.partial_fit).parameters:
        kwargs["classes"] = classes
    if y is None:
        model.partial_fit(Xt, **kwargs)
    else:
        model.partial_fit(Xt, y, **kwargs)
    return model


def score_model(model, X, y, transform=None) -> float:
    """The holdout score: ``model.score`` for scikit-learn, accuracy or R² for river; NaN if none."""
    Xt = _apply(transform, X)
    if is_river_model(model):
        from river import base

        frame = Xt if isinstance(Xt, pd.DataFrame) else pd.DataFrame(Xt)
        predicted = np.asarray(model.predict_many(frame))
        y = np.asarray(y)
        if isinstance(model, base.Classifier) or not np.issubdtype(y.dtype, np.number):
            return float(np.mean(predicted == y))
        return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))
    if callable(getattr(model, "score", None)):
        return float(model.score(Xt, y))
    return float("nan")


def _all_float(frame: pd.DataFrame) -> bool:
    return all(dtype.kind == "f" for dtype in frame.dtypes)


def _nbytes(X, Xt) -> int:
    if isinstance(X, pd.DataFrame):
        size = X.to_numpy(copy=False).nbytes if _all_float(X) else int(X.memory_usage(deep=True, index=False).sum())
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


def _check_learner(model, classes, transform, y=0) -> None:
    """The checks of :func:`learn_chunk`'s model, classes and transform."""
    if isinstance(model, type) or not (callable(getattr(model, "partial_fit", None))
                                       or is_river_model(model) and callable(getattr(model, "learn_many", None))):
        raise TypeError(f"model must have partial_fit() (scikit-learn) or learn_many() (river), got {model!r:.60}")
    if classes is not None:
        check_classes(classes)
    elif not is_river_model(model) and is_classifier(model) and not hasattr(model, "classes_"):
        raise ValueError("classes must list every label for the first partial_fit of a scikit-learn classifier")
    if y is None and (is_classifier(model) or is_regressor(model) or is_river_model(model) and river_supervised(model)):
        raise ValueError(f"y must hold the labels: {type(model).__name__} learns from labelled data")
    if transform is not None and (isinstance(transform, type) or not (callable(transform) or hasattr(transform, "transform"))):
        raise TypeError(f"transform must be callable or have transform(), got {transform!r:.60}")


def check_classes(classes) -> np.ndarray:
    """``classes`` as an array of at least two distinct labels, or a TypeError/ValueError naming it."""
    if isinstance(classes, (str, bytes, dict)) or not isinstance(classes, Iterable):
        raise TypeError(f"classes must be a list of labels, got {type(classes).__name__}")
    labels = list(classes)
    if any(label is None or label != label for label in labels) or \
            not all(isinstance(label, (str, numbers.Integral, np.integer, np.str_)) for label in labels):
        raise ValueError(f"classes must hold class labels (str, int or bool), got {labels!r:.60}")
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"classes must list at least two distinct labels, got {labels!r:.60}")
    return np.asarray(labels)


def _check_chunk(number: int | None, X, y, classes, layout):
    """Check chunk ``number`` (from 1) before it is learned; return its layout (columns, or width)."""
    where = "the chunk" if number is None else f"chunk {number}"
    if isinstance(X, pd.DataFrame):
        shape = X.columns.tolist()
        if _all_float(X) and np.isfinite(X.to_numpy(copy=False)).all():
            pass  # the fast path: one pass over the numbers finds a NaN or an infinity
        elif X.isna().to_numpy().any():
            row, column = np.argwhere(X.isna().to_numpy())[0]
            raise ValueError(f"{where}: X has a missing value (row {row}, column {X.columns[column]!r})")
        numeric = X.select_dtypes(include="number").to_numpy(dtype=float)
        if numeric.size and not np.isfinite(numeric).all():
            raise ValueError(f"{where}: X has an infinite value")
        n = len(X)
    elif isinstance(X, (str, bytes, dict)) or not hasattr(X, "shape") and not isinstance(X, (list, tuple)):
        raise TypeError(f"{where}: X must be a DataFrame, an array or a list of rows, got {type(X).__name__}")
    else:
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        if hasattr(X, "indptr"):  # a sparse matrix
            values, shape = X.data, X.shape[1]
        else:
            values = np.asarray(X)
            if values.ndim != 2:
                raise ValueError(f"{where}: X must be 2-D (rows x features), got shape {values.shape}")
            shape = values.shape[1:]
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            raise ValueError(f"{where}: X has a NaN or infinite value")
    if layout is not None and shape != layout:
        raise ValueError(f"{where}: its features {shape} differ from the first chunk's {layout}")
    if y is not None:
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f"{where}: X has {n} rows but y has {labels.shape} labels: one label per row")
        if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
            raise ValueError(f"{where}: y has a NaN or infinite label")
        if labels.dtype == object and pd.isna(labels).any():
            raise ValueError(f"{where}: y has a missing label")
        if classes is not None:
            unseen = set(pd.unique(labels).tolist()) - set(classes.tolist())
            if unseen:
                raise ValueError(f"{where}: y has labels {sorted(unseen, key=str)} that are not among the classes {classes.tolist()}")
    return shape


class OutOfCoreTrainer:
    """Train a model chunk by chunk from disk: the first, offline training of out-of-core learning.

    ``estimator`` is a scikit-learn estimator with ``partial_fit`` (SGD, naive Bayes,
    MiniBatchKMeans, IncrementalPCA...) or a river model with ``learn_many``; ``classes``
    (every label, declared up front) is required for a scikit-learn classifier. ``transform``
    maps a chunk's ``X`` to the estimator's features (e.g. :class:`HashedText`); ``holdout``
    is an ``(X, y)`` pair scored after every chunk.

    :meth:`fit` takes any iterable of ``(X, y)`` chunks (e.g. :func:`~deployment_modes.read_chunks`)
    or a Dask DataFrame (see :func:`~deployment_modes.scale_out.fit_dask`). ``model`` is
    then the trained model (a clone of ``estimator``) and ``history`` one row per chunk:
    rows, rows seen, read and learn seconds, the chunk's bytes in memory, the process RSS
    and its peak, the holdout score.

    >>> from sklearn.linear_model import SGDClassifier
    >>> chunks = [(np.array([[0.0], [1.0]]), np.array([0, 1]))] * 3
    >>> trainer = OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]).fit(chunks)
    >>> trainer.history["rows_seen"].tolist()
    [2, 4, 6]
    """

    def __init__(self, estimator, *, classes=None, transform=None, holdout=None, progress: bool = False):
        river_model = is_river_model(estimator) and callable(getattr(estimator, "learn_many", None))
        if not river_model and not callable(getattr(estimator, "partial_fit", None)):
            raise TypeError(f"estimator must have partial_fit() (scikit-learn) or learn_many() (river), "
                            f"got {type(estimator).__name__}: it cannot learn chunk by chunk")
        if not river_model and is_classifier(estimator) and classes is None:
            raise ValueError("classes must list every label up front: a chunk may not hold them all")
        if classes is not None:
            classes = check_classes(classes)
        if transform is not None and not (callable(transform) or hasattr(transform, "transform")):
            raise TypeError(f"transform must be callable or have transform(), got {type(transform).__name__}")
        if holdout is not None and (not isinstance(holdout, tuple) or len(holdout) != 2):
            raise TypeError("holdout must be an (X, y) pair")
        self.estimator, self.classes, self.transform, self.holdout = estimator, classes, transform, holdout
        self.progress = progress
        self.model = None
        self.history = pd.DataFrame()
        self.log: list = []

    def _start(self):
        """A fresh clone of the estimator; the holdout features computed once (the map is stateless)."""
        if self.holdout is not None:
            X, y = self.holdout
            self._holdout = (_apply(self.transform, X), y)
        return self.estimator.clone() if is_river_model(self.estimator) else clone(self.estimator)

    def _record(self, model, rows: int, read_seconds: float, learn_seconds: float, nbytes: int,
                rss_bytes: int, peak_bytes: int, records: list) -> None:
        seen = (records[-1]["rows_seen"] if records else 0) + rows
        peak_bytes = max(peak_bytes, int(records[-1]["peak_rss_mb"] * 2**20) if records else 0)
        score = score_model(model, *self._holdout) if self.holdout else float("nan")
        records.append({"chunk": len(records) + 1, "rows": rows, "rows_seen": seen, "read_seconds": read_seconds,
                        "learn_seconds": learn_seconds, "chunk_mb": nbytes / 2**20, "rss_mb": rss_bytes / 2**20,
                        "peak_rss_mb": peak_bytes / 2**20, "score": score})

    def _finish(self, model, records: list) -> OutOfCoreTrainer:
        from .timeline import LogEntry  # here, so that a measuring process need not import river

        if not records:
            raise ValueError("source is empty: no chunk to learn from")
        self.model, self.history = model, pd.DataFrame(records)  # only a finished training replaces the model
        seconds = float(self.history["read_seconds"].sum() + self.history["learn_seconds"].sum())
        self.log = [LogEntry(0, "train", rows=int(self.history["rows_seen"].iloc[-1]), seconds=seconds,
                             detail=f"out-of-core, {len(records)} chunks")]
        return self

    def fit(self, source, *, target: str | None = None, scheduler=None) -> OutOfCoreTrainer:
        """Learn from every chunk of ``source`` in turn, starting from a fresh clone of the estimator.

        A Dask DataFrame is trained partition by partition on a Dask cluster (``target`` names
        its label column; ``scheduler`` as in :func:`~deployment_modes.scale_out.fit_dask`).
        """
        if type(source).__module__.startswith("dask"):
            from .scale_out import fit_dask

            return fit_dask(self, source, target=target, scheduler=scheduler)
        if isinstance(source, (str, bytes, dict)) or not isinstance(source, Iterable):
            raise TypeError("source must be an iterable of (X, y) chunks, e.g. dm.read_chunks(path, target), "
                            f"or a Dask DataFrame; got {type(source).__name__}")
        model, records, layout = self._start(), [], None
        chunks = iter(source)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm
            bar = tqdm(unit="rows", unit_scale=True, desc="training")
        try:
            while True:
                start = time.perf_counter()
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                if not isinstance(chunk, tuple) or len(chunk) != 2:
                    raise TypeError(f"each chunk must be an (X, y) pair, got {type(chunk).__name__}")
                X, y = chunk
                layout = _check_chunk(len(records) + 1, X, y, self.classes, layout)
                read = time.perf_counter()
                Xt = _apply(self.transform, X)
                _learn_chunk(model, Xt, y, self.classes)
                done = time.perf_counter()
                self._record(model, len(y) if y is not None else Xt.shape[0], read - start, done - read,
                             _nbytes(X, Xt), rss(), peak_rss(), records)
                if bar is not None:
                    bar.update(records[-1]["rows"])
        finally:
            if bar is not None:
                bar.close()
        return self._finish(model, records)

    def to_online(self, **kwargs):
        """Deploy the trained model as an online deployment that keeps learning from the stream.

        Returns a :class:`~deployment_modes.OnlineDeployment` around a copy of the model, with
        this trainer's ``classes`` and ``transform``; the model keeps the weights of the
        out-of-core training (no ``fit_initial`` needed: it is version 1, and the deployment's
        log starts with this training's ``"train"`` entry). ``kwargs`` go to the deployment.

        >>> from sklearn.linear_model import SGDClassifier
        >>> chunks = [(np.array([[0.0], [1.0]]), np.array([0, 1]))] * 3
        >>> dep = OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]).fit(chunks).to_online()
        >>> dep.learn_one({"x0": 1.0}, 1)
        >>> dep.model_version, [e.kind for e in dep.log]
        (2, ['train'])
        """
        if self.model is None:
            raise RuntimeError("nothing to deploy yet: call fit(source) first")
        import copy

        from .online import OnlineDeployment

        kwargs.setdefault("classes", None if self.classes is None else list(self.classes))
        kwargs.setdefault("transform", self.transform)
        deployment = OnlineDeployment(copy.deepcopy(self.model), **kwargs)
        deployment.model_version = 1  # version 1: the out-of-core training, as fit_initial would
        deployment.log[:0] = list(self.log)
        return deployment


def train_on_disk(path, classes: list, target: str = "topic", *, text: str | None = "text",
                  in_memory: bool = False, chunk_rows: int = 2_000, n_features: int = 2**16,
                  test: str | None = None, seed: int = 0) -> dict:
    """Train an SGD classifier on the files at ``path``: chunk by chunk, or all at once.

    ``text`` names the text column (hashed with :class:`HashedText`); ``text=None`` uses
    the numeric columns as they are. ``in_memory=True`` is the recipe out-of-core learning
    replaces: read every file into one DataFrame, build all the features, then learn (the
    same single pass of SGD). Returns the rows and, given a ``test`` file, the test accuracy.
    Meant to run under :func:`~deployment_modes.memory.measure_peak` for clean memory figures.

    >>> import tempfile
    >>> from deployment_modes.corpus import write_corpus
    >>> c = write_corpus(tempfile.mkdtemp(), n_docs=300, n_files=3, n_test=50)
    >>> train_on_disk(str(c.train), list(c.topics), chunk_rows=100)["rows"]
    300
    """
    from sklearn.linear_model import SGDClassifier

    from .chunks import read_chunks

    reader = read_chunks(path, target, chunk_rows=chunk_rows, columns=None if text is None else [text])
    transform = None if text is None else HashedText(text, n_features=n_features)
    estimator = SGDClassifier(random_state=seed)
    if in_memory:
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        tables = [pcsv.read_csv(f) if f.suffix == ".csv" else pq.read_table(f) for f in reader.files]
        data = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
        del tables
        model = learn_chunk(estimator, data[reader.columns], data[target].to_numpy(), classes=classes,
                            transform=transform)
        rows = len(data)
    else:
        trainer = OutOfCoreTrainer(estimator, classes=classes, transform=transform).fit(reader)
        model, rows = trainer.model, int(trainer.history["rows_seen"].iloc[-1])
    result = {"rows": rows}
    if test is not None:
        X, y = next(iter(read_chunks(test, target, chunk_rows=10_000_000, columns=reader.columns)))
        result["accuracy"] = score_model(model, X, y, transform)
    return result


class _Standardize:
    """Standardize events (a list of dicts) or chunks (an array) with fixed means and spreads."""

    def __init__(self, columns, mean, scale):
        self.columns, self.mean, self.scale = columns, np.asarray(mean), np.asarray(scale)

    def __call__(self, X):
        if isinstance(X, list):
            X = [[x[c] for c in self.columns] for x in X]
        return (np.asarray(X, dtype=float) - self.mean) / self.scale


def out_of_core_then_online(scenario, directory, *, chunk_rows: int = 250, batch_size: int = 10, seed: int = 0,
                            memory: bool = False):
    """Out-of-core, then online: write ``scenario.initial`` to ``directory`` as CSV, train on it by chunks, deploy.

    The first training reads the file twice, ``chunk_rows`` rows at a time: once for the features'
    means and spreads (``StandardScaler.partial_fit``), once to learn (scikit-learn's SGD,
    ``partial_fit`` per chunk, on standardized features); the returned :class:`~deployment_modes.OnlineDeployment` continues from that model in
    mini-batches of ``batch_size`` events: replay the stream with ``simulate(..., fit_initial=False)``. With
    ``memory=True`` the initial data plus the stream is trained on too, and the largest chunk in
    memory (MB) for both sizes is returned as well: ``(deployment, (mb_initial, mb_all))``.

    >>> import tempfile, deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=300, n_stream=200, drift_at=100)
    >>> dep = out_of_core_then_online(sc, tempfile.mkdtemp(), chunk_rows=100)
    >>> dep.model_version, dep.log[0].detail
    (1, 'out-of-core, 3 chunks')
    """
    from pathlib import Path

    from sklearn.preprocessing import StandardScaler

    from .chunks import read_chunks
    from .lean import LeanSGDClassifier

    chunk_rows, batch_size = positive_int(chunk_rows, "chunk_rows"), positive_int(batch_size, "batch_size")
    X0, y0 = scenario.initial
    classes = sorted(set(np.unique(y0).tolist()) | set(np.unique(scenario.y).tolist()))

    def train(frame, name):
        path = Path(directory) / name
        frame.to_csv(path, index=False)

        def chunks():  # the events reach the deployed model as plain values: train on plain arrays too
            return ((X.to_numpy(dtype=float), y) for X, y in read_chunks(path, "y", chunk_rows=chunk_rows))

        scaler = StandardScaler()
        for X, _ in chunks():  # a first pass for the features' means and spreads, a second to learn
            scaler.partial_fit(X)
        # the online line's learner: logistic loss, plain SGD at learning rate 0.05
        model = LeanSGDClassifier(loss="log_loss", learning_rate="constant", eta0=0.05, random_state=seed)
        transform = _Standardize(list(X0.columns), scaler.mean_, scaler.scale_)
        return OutOfCoreTrainer(model, classes=classes, transform=transform).fit(chunks())

    trainer = train(X0.assign(y=y0), "initial.csv")
    deployment = trainer.to_online(batch_size=batch_size)
    if not memory:
        return deployment
    bigger = train(pd.concat([X0.assign(y=y0), scenario.X.assign(y=scenario.y)]), "initial_and_stream.csv")
    return deployment, (float(trainer.history["chunk_mb"].max()), float(bigger.history["chunk_mb"].max()))
