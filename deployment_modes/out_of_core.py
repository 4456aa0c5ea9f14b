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

import time
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import BaseEstimator, TransformerMixin, is_classifier
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from ._checks import positive_int
from .chunk_learning import (
    ChunkHistory,
    check_chunk,
    check_classes,
    chunk_nbytes,
    fresh_copy,
    learn_checked_chunk,
    learn_chunk,
    score_model,
    transform_chunk,
)
from .hashing import hash_row, hash_words
from .incremental import is_river_model
from .memory import peak_rss, rss
from .threads import one_thread

__all__ = ["HashedText", "OutOfCoreTrainer", "out_of_core_then_online", "train_on_disk"]


class HashedText(TransformerMixin, BaseEstimator):
    """The hashing trick: the words of the text column ``column`` as ``n_features`` hashed counts (L2-normalised).

    Words are the whitespace-separated tokens of the text (lower-case it first if needed).

    Stateless: nothing to fit, the same words always land in the same columns, whatever
    chunk they come in. Accepts a DataFrame chunk, one event ``{"text": ...}``, a list of
    events or a list of texts, and returns a sparse matrix (one row per document).

    Parameters
    ----------
    column
        The text column (or the event's text feature).
    n_features
        Hashed columns.
    alternate_sign
        Signed hashing (``False`` keeps counts non-negative, as naive Bayes needs).

    Examples
    --------
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
        missing = (
            isinstance(X, pd.DataFrame)
            and self.column not in X.columns
            or isinstance(X, dict)
            and self.column not in X
            or isinstance(X, (list, tuple))
            and any(isinstance(x, dict) and self.column not in x for x in X)
        )
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
            raise TypeError(
                f"X must be a DataFrame, a dict, a list of dicts with a {self.column!r} entry "
                f"or a list of texts, got {type(X).__name__}"
            )
        n_features = positive_int(self.n_features, "n_features")
        if isinstance(texts, pd.Series) and isinstance(texts.dtype, pd.StringDtype):
            texts = pa.array(texts)  # Arrow's strings as they are, None where one is missing
            if isinstance(texts, pa.ChunkedArray):
                texts = texts.combine_chunks()
        if not isinstance(texts, pa.Array) or texts.null_count:
            texts = texts.to_pylist() if isinstance(texts, pa.Array) else list(texts)
            bad = next((t for t in texts if not isinstance(t, str)), texts)  # texts: none bad
            if bad is not texts:
                raise TypeError(
                    f"the {self.column!r} column must hold texts (str), got {type(bad).__name__} {bad!r:.40}"
                )
        if not isinstance(self.alternate_sign, bool):
            raise TypeError(
                f"alternate_sign must be True or False, got {self.alternate_sign!r:.40}"
            )
        if not len(texts):
            raise ValueError("X holds no documents: there is nothing to hash")
        # HashingVectorizer(analyzer=str.split)'s features, without its per-call checks: the
        # words hashed as a FeatureHasher hashes them, each row scaled to unit L2 norm as its
        # normalize does
        X = hash_words(texts, n_features, self.alternate_sign)
        inplace_csr_row_normalize_l2(X)
        return X

    __call__ = transform

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's features as ``(columns, values)``: the stored entries of its row of :meth:`transform`.

        >>> h = HashedText(n_features=16)
        >>> columns, values = h.row("ba be ba")
        >>> np.array_equal(h.transform(["ba be ba"]).data, values)
        True
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__} {text!r:.40}")
        if not isinstance(self.alternate_sign, bool):
            raise TypeError(
                f"alternate_sign must be True or False, got {self.alternate_sign!r:.40}"
            )
        n_features = positive_int(self.n_features, "n_features")
        columns, values = hash_row(text, n_features, self.alternate_sign)
        norm = np.sqrt(np.dot(values, values))  # the row's L2 norm, as normalize computes it
        return columns, values / norm if norm else values


class OutOfCoreTrainer:
    """Train a model chunk by chunk from disk: the first, offline training of out-of-core learning.

    ``estimator`` is a scikit-learn estimator with ``partial_fit`` (SGD, naive Bayes,
    MiniBatchKMeans, IncrementalPCA...) or a river model with ``learn_many``; ``classes``
    (every label, declared up front) is required for a scikit-learn classifier. ``transform``
    maps a chunk's ``X`` to the estimator's features (e.g. :class:`HashedText`); ``holdout``
    is an ``(X, y)`` pair scored after every chunk.

    :meth:`fit` takes any iterable of ``(X, y)`` chunks (e.g. :func:`~deployment_modes.read_chunks`);
    :func:`~deployment_modes.scale_out.fit_dask` trains it on a Dask DataFrame. ``model`` is
    then the trained model (a clone of ``estimator``) and ``history`` one row per chunk:
    rows, rows seen, read and learn seconds, the chunk's bytes in memory, the process RSS
    and its peak, the holdout score.

    Parameters
    ----------
    estimator
        A scikit-learn estimator with ``partial_fit``, or a river model with ``learn_many``.
    classes
        Every label, required by a scikit-learn classifier.
    transform
        Maps a chunk's ``X`` to the estimator's features (e.g. :class:`HashedText`).
    holdout
        An ``(X, y)`` pair scored after every chunk.
    progress
        Show a progress bar.

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> chunks = [(np.array([[0.0], [1.0]]), np.array([0, 1]))] * 3
    >>> trainer = OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]).fit(chunks)
    >>> trainer.history["rows_seen"].tolist()
    [2, 4, 6]
    """

    def __init__(
        self, estimator, *, classes=None, transform=None, holdout=None, progress: bool = False
    ):
        river_model = is_river_model(estimator) and callable(getattr(estimator, "learn_many", None))
        if not river_model and not callable(getattr(estimator, "partial_fit", None)):
            raise TypeError(
                f"estimator must have partial_fit() (scikit-learn) or learn_many() (river), "
                f"got {type(estimator).__name__}: it cannot learn chunk by chunk"
            )
        if not river_model and is_classifier(estimator) and classes is None:
            raise ValueError(
                "classes must list every label up front: a chunk may not hold them all"
            )
        if classes is not None:
            classes = check_classes(classes)
        if transform is not None and not (callable(transform) or hasattr(transform, "transform")):
            raise TypeError(
                f"transform must be callable or have transform(), got {type(transform).__name__}"
            )
        if holdout is not None and (not isinstance(holdout, tuple) or len(holdout) != 2):
            raise TypeError("holdout must be an (X, y) pair")
        self.estimator, self.classes, self.transform, self.holdout = (
            estimator,
            classes,
            transform,
            holdout,
        )
        self.progress = progress
        self.model = None
        self.history = pd.DataFrame()

    def start(self) -> tuple[object, ChunkHistory]:
        """Begin a training: a fresh copy of the estimator and an empty
        :class:`~deployment_modes.chunk_learning.ChunkHistory`.

        :meth:`fit` calls it; so does a path that feeds the chunks itself (the Dask path), which
        then records each chunk in the history and hands both to :meth:`finish`.
        """
        return fresh_copy(self.estimator), ChunkHistory(self.holdout, self.transform)

    @property
    def moving_parts(self) -> dict:
        """Each part a team runs for this first, out-of-core training, and when it acts, as ``{part: when}``.

        The deployment it hands over to (online learning) adds its own.

        >>> from sklearn.linear_model import SGDClassifier
        >>> for part, when in OutOfCoreTrainer(SGDClassifier(), classes=[0, 1]).moving_parts.items():
        ...     print(f"{part}: {when}")
        chunk store: the data on disk, in chunks: before the first training
        chunk reader: every chunk
        training job, partial_fit per chunk: every chunk
        """
        parts = {
            "chunk store: the data on disk, in chunks": "before the first training",
            "chunk reader": "every chunk",
            "training job, partial_fit per chunk": "every chunk",
        }
        if self.transform is not None:
            parts["feature transform, the same for every chunk"] = "every chunk"
        return parts

    def finish(self, model, history: ChunkHistory) -> OutOfCoreTrainer:
        """End a training: ``model`` and its ``history`` become the trainer's (only a finished one does)."""
        if not len(history):
            raise ValueError("the chunks are empty: no chunk (or partition) to learn from")
        self.model, self.history = model, history.frame()
        return self

    @property
    def log(self) -> list:
        """The training as a deployment's log: one ``"train"`` entry once fitted (none before)."""
        if self.model is None:
            return []
        # imported here: a measuring process (measure_peak) trains without loading river
        from .timeline import LogEntry

        h = self.history
        return [
            LogEntry(
                0,
                "train",
                rows=int(h["rows_seen"].iloc[-1]),
                seconds=float(h["read_seconds"].sum() + h["learn_seconds"].sum()),
                detail=f"out-of-core, {len(h)} chunks",
            )
        ]

    def fit(self, chunks) -> OutOfCoreTrainer:
        """Learn from every chunk in turn, starting from a fresh copy of the estimator.

        Parameters
        ----------
        chunks
            An iterable of ``(X, y)`` chunks, e.g. :func:`~deployment_modes.read_chunks`. A Dask
            DataFrame is trained on its cluster by :func:`~deployment_modes.scale_out.fit_dask`.
        """
        if type(chunks).__module__.startswith("dask"):
            raise TypeError(
                "chunks is a Dask collection: train on its cluster with "
                "deployment_modes.scale_out.fit_dask(trainer, frame, target=...)"
            )
        if isinstance(chunks, (str, bytes, dict)) or not isinstance(chunks, Iterable):
            raise TypeError(
                "chunks must be an iterable of (X, y) chunks, e.g. dm.read_chunks(path, target); "
                f"got {type(chunks).__name__}"
            )
        model, history = self.start()
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(unit="rows", unit_scale=True, desc="training")
        try:
            # one BLAS thread: each partial_fit scales and measures the 2**16 weights of every
            # class (BLAS level-1 calls) where threads only wait for each other (seen: 7 times
            # the CPU of one thread on a busy 2-core machine); the model is the same
            with one_thread():
                self._learn_each(iter(chunks), model, history, bar)
        finally:
            if bar is not None:
                bar.close()
        return self.finish(model, history)

    def _learn_each(self, source, model, history: ChunkHistory, bar) -> None:
        """Check, transform and learn each chunk of ``source`` in turn, recording it in ``history``."""
        layout, number = None, 0
        while True:
            start = time.perf_counter()
            try:
                chunk = next(source)
            except StopIteration:
                break
            if not isinstance(chunk, tuple) or len(chunk) != 2:
                raise TypeError(f"each chunk must be an (X, y) pair, got {type(chunk).__name__}")
            X, y = chunk
            number += 1
            layout = check_chunk(number, X, y, self.classes, layout)
            read = time.perf_counter()
            Xt = transform_chunk(self.transform, X)
            learn_checked_chunk(model, Xt, y, self.classes)
            done = time.perf_counter()
            rows = len(y) if y is not None else Xt.shape[0]
            now = rss()
            history.record(
                model,
                rows=rows,
                read_seconds=read - start,
                learn_seconds=done - read,
                nbytes=chunk_nbytes(X, Xt),
                rss_bytes=now,
                peak_bytes=peak_rss(now),
            )
            if bar is not None:
                bar.update(rows)
            del chunk, X, y, Xt  # not held while the next chunk is read

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
        deployment.first_training_parts = self.moving_parts
        return deployment


def train_on_disk(
    path,
    classes: list,
    target: str = "topic",
    *,
    text: str | None = "text",
    in_memory: bool = False,
    chunk_rows: int = 2_000,
    n_features: int = 2**16,
    test: str | None = None,
    seed: int = 0,
) -> dict:
    """Train an SGD classifier on the files at ``path``: chunk by chunk, or all at once.

    ``text`` names the text column (hashed with :class:`HashedText`); ``text=None`` uses
    the numeric columns as they are (as a float matrix). ``in_memory=True`` is the recipe out-of-core learning
    replaces: read every file into one DataFrame, build all the features, then learn (the
    same single pass of SGD). Returns the rows and, given a ``test`` file, the test accuracy.
    Meant to run under :func:`~deployment_modes.memory.measure_peak` for clean memory figures.

    Parameters
    ----------
    path
        The files (as :func:`~deployment_modes.read_chunks` takes them).
    classes
        Every label.
    target
        The label column.
    text
        The text column, hashed (``None``: numeric columns as they are).
    in_memory
        Load everything first (the recipe out-of-core learning replaces).
    chunk_rows
        Rows per chunk.
    n_features
        Hashed columns of the text.
    test
        A test file to score the model on.
    seed
        Seed of the SGD classifier.

    Examples
    --------
    >>> import tempfile
    >>> from deployment_modes.corpus import write_corpus
    >>> c = write_corpus(tempfile.mkdtemp(), n_docs=300, n_files=3, n_test=50)
    >>> train_on_disk(str(c.train), list(c.topics), chunk_rows=100)["rows"]
    300
    """
    from sklearn.linear_model import SGDClassifier

    from .chunks import read_chunks

    reader = read_chunks(
        path, target, chunk_rows=chunk_rows, columns=None if text is None else [text]
    )
    # numbers go to the learner as a plain matrix: scikit-learn's checks of a DataFrame (its
    # column names, its dtypes) cost more than learning a chunk of 2,000 rows of 20 numbers
    transform = _float_matrix if text is None else HashedText(text, n_features=n_features)
    estimator = SGDClassifier(random_state=seed)
    if in_memory:
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        tables = [
            pcsv.read_csv(f) if f.suffix == ".csv" else pq.read_table(f) for f in reader.files
        ]
        data = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
        del tables
        model = learn_chunk(
            estimator,
            data[reader.columns],
            data[target].to_numpy(),
            classes=classes,
            transform=transform,
        )
        rows = len(data)
    else:
        trainer = OutOfCoreTrainer(estimator, classes=classes, transform=transform).fit(reader)
        model, rows = trainer.model, int(trainer.history["rows_seen"].iloc[-1])
    result = {"rows": rows}
    if test is not None:
        X, y = next(iter(read_chunks(test, target, chunk_rows=10_000_000, columns=reader.columns)))
        result["accuracy"] = score_model(model, X, y, transform)
    return result


def _float_matrix(X: pd.DataFrame) -> np.ndarray:
    """The numbers of the chunk ``X`` as a float matrix (a view where its block is one already)."""
    return X.to_numpy(dtype=float)


class _Standardize:
    """Standardize events (a list of dicts) or chunks (an array) with fixed means and spreads."""

    def __init__(self, columns, mean, scale):
        self.columns, self.mean, self.scale = columns, np.asarray(mean), np.asarray(scale)

    def __call__(self, X):
        if isinstance(X, list):
            X = [[x[c] for c in self.columns] for x in X]
        return (np.asarray(X, dtype=float) - self.mean) / self.scale


def out_of_core_then_online(
    scenario,
    directory,
    *,
    chunk_rows: int = 250,
    batch_size: int = 10,
    seed: int = 0,
    memory: bool = False,
):
    """Out-of-core, then online: write ``scenario.initial`` to ``directory`` as CSV, train on it by chunks, deploy.

    The first training reads the file twice, ``chunk_rows`` rows at a time: once for the features'
    means and spreads (``StandardScaler.partial_fit``), once to learn (scikit-learn's SGD,
    ``partial_fit`` per chunk, on standardized features); the returned
    :class:`~deployment_modes.OnlineDeployment` continues from that model in
    mini-batches of ``batch_size`` events: replay the stream with ``simulate(..., fit_initial=False)``. With
    ``memory=True`` the initial data plus the stream is trained on too, and the largest chunk in
    memory (MB) for both sizes is returned as well: ``(deployment, (mb_initial, mb_all))``.

    Parameters
    ----------
    scenario
        A classification :class:`~deployment_modes.scenarios.Scenario`.
    directory
        Where to write the CSV files.
    chunk_rows
        Rows per chunk of the first training.
    batch_size
        Events per mini-batch of the online deployment.
    seed
        Seed of the SGD classifier.
    memory
        Also train on the initial data plus the stream, and return both largest chunks (MB).

    Examples
    --------
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

    chunk_rows, batch_size = (
        positive_int(chunk_rows, "chunk_rows"),
        positive_int(batch_size, "batch_size"),
    )
    X0, y0 = scenario.initial
    classes = sorted(set(np.unique(y0).tolist()) | set(np.unique(scenario.y).tolist()))

    def train(frame, name):
        path = Path(directory) / name
        frame.to_csv(path, index=False)

        def chunks():  # the events reach the deployed model as plain values: train on plain arrays too
            return (
                (X.to_numpy(dtype=float), y)
                for X, y in read_chunks(path, "y", chunk_rows=chunk_rows)
            )

        scaler = StandardScaler()
        for X, _ in chunks():  # a first pass for the features' means and spreads, a second to learn
            scaler.partial_fit(X)
        # the online line's learner: logistic loss, plain SGD at learning rate 0.05
        model = LeanSGDClassifier(
            loss="log_loss", learning_rate="constant", eta0=0.05, random_state=seed
        )
        transform = _Standardize(list(X0.columns), scaler.mean_, scaler.scale_)
        return OutOfCoreTrainer(model, classes=classes, transform=transform).fit(chunks())

    trainer = train(X0.assign(y=y0), "initial.csv")
    deployment = trainer.to_online(batch_size=batch_size)
    if not memory:
        return deployment
    bigger = train(
        pd.concat([X0.assign(y=y0), scenario.X.assign(y=scenario.y)]), "initial_and_stream.csv"
    )
    return deployment, (
        float(trainer.history["chunk_mb"].max()),
        float(bigger.history["chunk_mb"].max()),
    )
