"""A synthetic text corpus written to disk as many chunk files: the out-of-core scenario.

The notes' example of data too big for memory is "training GPT on internet data". This module
writes a small stand-in, seeded and offline: documents drawn from a mixture of topics over a
Zipfian vocabulary of pseudo-words, each labelled with its topic. The default is a few MB, so
that the chapter runs in seconds; ``n_docs`` scales it (about 4 million documents per GB).
:func:`write_numeric` is its numeric twin, for measuring reading and memory on plain numbers.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ._checks import fraction, positive_int

__all__ = ["Corpus", "TOPICS", "vocabulary", "write_corpus", "write_numeric"]

TOPICS = ("sports", "science", "politics", "cooking", "music", "travel", "finance", "health")
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def vocabulary(size: int) -> np.ndarray:
    """``size`` distinct pronounceable pseudo-words, the most frequent (shortest) first.

    Parameters
    ----------
    size
        Words in the vocabulary.

    Examples
    --------
    >>> vocabulary(3).tolist(), str(vocabulary(5000)[-1])
    (['ba', 'be', 'bi'], 'babalu')
    """
    size = positive_int(size, "size")
    words, n, k = [], len(_SYLLABLES), 0
    while len(words) < size:
        digits, i = [], k
        while True:
            digits.append(_SYLLABLES[i % n])
            i //= n
            if i == 0:
                break
            i -= 1
        words.append("".join(reversed(digits)))
        k += 1
    return np.array(words)


@dataclass
class Corpus:
    """Where :func:`write_corpus` wrote the corpus, and what it holds.

    Parameters
    ----------
    train, test
        The training folder and the test file.
    files
        The training files, in order.
    n_docs, n_test
        Documents in the training files and in the test file.
    topics
        The topics (the labels).
    bytes
        Bytes written.
    target, text
        The label column and the text column.
    """

    train: Path
    test: Path
    files: list
    n_docs: int
    n_test: int
    topics: tuple
    bytes: int
    target: str = "topic"
    text: str = "text"


def _documents(rng, topics, lengths, topic_cdfs, global_cdf, vocab, topic_share):
    """Texts of documents whose labels are ``topics`` and word counts ``lengths`` (an Arrow string array)."""
    total = int(lengths.sum())
    word_topic = np.repeat(topics, lengths)
    from_topic = rng.random(total) < topic_share
    draws = rng.random(total)
    ranks = np.searchsorted(global_cdf, draws)
    for t in np.unique(word_topic[from_topic]):
        mask = from_topic & (word_topic == t)
        ranks[mask] = np.searchsorted(topic_cdfs[t], draws[mask])
    words = pa.array(vocab).take(np.minimum(ranks, len(vocab) - 1))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # each document's words joined by spaces, as " ".join does, in Arrow (no str per word)
    return pc.binary_join(pa.LargeListArray.from_arrays(offsets, words), " ")


def write_corpus(
    folder,
    *,
    n_docs: int = 20_000,
    n_files: int = 10,
    n_test: int = 2_000,
    n_topics: int = 5,
    vocab_size: int = 5_000,
    doc_words: int = 40,
    topic_share: float = 0.15,
    zipf: float = 1.1,
    drift: float = 0.0,
    order: str = "mixed",
    format: str = "parquet",
    seed: int = 0,
) -> Corpus:
    """Write a labelled text corpus as ``n_files`` chunk files in ``folder/train`` and a test file.

    Each document has a topic (its label, column ``topic``) and about ``doc_words`` words
    (column ``text``): each word is drawn from the topic's own Zipfian ranking of the
    vocabulary with probability ``topic_share``, else from the common Zipfian ranking shared
    by all topics (exponent ``zipf``). ``order="by_topic"`` sorts the training documents by
    topic (the files then hold one topic after another); ``"mixed"`` keeps them in random
    order. ``format`` is ``"parquet"`` or ``"csv"``. The same ``seed`` writes the same bytes;
    the topics themselves depend only on ``n_topics`` and ``vocab_size``, so corpora written
    with different seeds share one language. ``drift`` (0 to 1) changes the language: that
    share of each topic's word ranks is shuffled, so some of its typical words change (a
    corpus "from later", to show a deployed model going stale).

    Parameters
    ----------
    folder
        Where to write.
    n_docs, n_files, n_test
        Training documents, the files they are split into, and test documents.
    n_topics, vocab_size, doc_words
        Topics, words in the vocabulary, and words per document (about).
    topic_share, zipf
        Share of a document's words drawn from its topic's ranking; the Zipf exponent.
    drift
        Share of each topic's word ranks shuffled (0: none).
    order
        ``"mixed"`` or ``"by_topic"``.
    format
        ``"parquet"`` or ``"csv"``.
    seed
        Seed of the documents.

    Examples
    --------
    >>> import tempfile
    >>> c = write_corpus(tempfile.mkdtemp(), n_docs=100, n_files=2, n_test=10)
    >>> len(c.files), c.n_docs, c.topics[:2]
    (2, 100, ('sports', 'science'))
    """
    n_docs, n_files = positive_int(n_docs, "n_docs"), positive_int(n_files, "n_files")
    n_test, vocab_size = positive_int(n_test, "n_test"), positive_int(vocab_size, "vocab_size")
    doc_words = positive_int(doc_words, "doc_words")
    n_topics = positive_int(n_topics, "n_topics")
    if n_topics > len(TOPICS):
        raise ValueError(f"n_topics must be at most {len(TOPICS)}, got {n_topics}")
    if n_files > n_docs:
        raise ValueError(f"n_files ({n_files}) must not exceed n_docs ({n_docs})")
    topic_share = fraction(topic_share, "topic_share")
    drift = fraction(drift, "drift")
    if isinstance(zipf, bool) or not isinstance(zipf, numbers.Real) or zipf <= 0:
        raise ValueError(f"zipf must be a positive number, got {zipf!r}")
    if order not in ("mixed", "by_topic"):
        raise ValueError(f"order must be 'mixed' or 'by_topic', got {order!r}")
    if format not in ("parquet", "csv"):
        raise ValueError(f"format must be 'parquet' or 'csv', got {format!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {seed!r}")
    folder = Path(folder)
    train = folder / "train"
    if train.exists() and any(train.iterdir()):
        raise ValueError(
            f"folder {str(folder)!r} already holds a corpus in train/: use an empty folder"
        )
    train.mkdir(parents=True, exist_ok=True)

    vocab = vocabulary(vocab_size)
    weights = 1.0 / np.arange(1, vocab_size + 1) ** zipf
    global_cdf = np.cumsum(weights) / weights.sum()
    language = np.random.default_rng(1_000 + n_topics)
    change = np.random.default_rng(2_000 + n_topics)
    topic_cdfs = []
    for _ in range(n_topics):  # a topic: the same Zipf law over its own ranking of the words
        ranks = language.permutation(vocab_size)
        moved = np.flatnonzero(change.random(vocab_size) < drift)
        ranks[moved] = ranks[change.permutation(moved)]
        own = weights[ranks]
        topic_cdfs.append(np.cumsum(own) / own.sum())
    names = TOPICS[:n_topics]
    rng = np.random.default_rng(seed)
    labels = rng.integers(n_topics, size=n_docs + n_test)
    lengths = 1 + rng.poisson(doc_words - 1, size=n_docs + n_test)
    train_labels = (
        np.sort(labels[:n_docs], kind="stable") if order == "by_topic" else labels[:n_docs]
    )
    bounds = np.linspace(0, n_docs, n_files + 1).astype(int)
    suffix = ".parquet" if format == "parquet" else ".csv"
    width = len(str(n_files - 1))
    files = []
    parts = [
        (train / f"part-{i:0{width}d}{suffix}", train_labels[a:b], lengths[a:b])
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))
    ]
    parts.append((folder / f"test{suffix}", labels[n_docs:], lengths[n_docs:]))
    for path, topic_ids, word_counts in parts:
        texts = _documents(rng, topic_ids, word_counts, topic_cdfs, global_cdf, vocab, topic_share)
        table = pa.table({"text": texts, "topic": np.array(names)[topic_ids]})
        if format == "parquet":
            pq.write_table(table, path, row_group_size=2_000)
        else:
            pcsv.write_csv(table, path)
        files.append(path)
    size = sum(p.stat().st_size for p in files[:-1])
    return Corpus(train, files[-1], files[:-1], n_docs, n_test, names, size)


def write_numeric(
    folder,
    *,
    n_rows: int = 100_000,
    n_files: int = 10,
    n_features: int = 20,
    format: str = "parquet",
    seed: int = 0,
) -> list:
    """Write a numeric classification table (``x0..``, label ``y`` in 0/1) as ``n_files`` files.

    The label is the sign of a fixed linear function of the features plus noise. Returns the
    paths of the files, in order.

    Parameters
    ----------
    folder
        Where to write.
    n_rows, n_files, n_features
        Rows in all, files they are split into, feature columns.
    format
        ``"parquet"`` or ``"csv"``.
    seed
        Seed of the rows.

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_numeric(tempfile.mkdtemp(), n_rows=10, n_files=2)]
    ['part-0.parquet', 'part-1.parquet']
    """
    n_rows, n_files = positive_int(n_rows, "n_rows"), positive_int(n_files, "n_files")
    n_features = positive_int(n_features, "n_features")
    if n_files > n_rows:
        raise ValueError(f"n_files ({n_files}) must not exceed n_rows ({n_rows})")
    if format not in ("parquet", "csv"):
        raise ValueError(f"format must be 'parquet' or 'csv', got {format!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    weights = np.random.default_rng(12345).normal(size=n_features)
    bounds = np.linspace(0, n_rows, n_files + 1).astype(int)
    width = len(str(n_files - 1))
    paths = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        X = rng.normal(size=(b - a, n_features))
        y = (X @ weights + rng.normal(scale=0.5, size=b - a) > 0).astype(np.int64)
        table = pa.table({**{f"x{j}": X[:, j] for j in range(n_features)}, "y": y})
        path = folder / f"part-{i:0{width}d}.{'parquet' if format == 'parquet' else 'csv'}"
        if format == "parquet":
            pq.write_table(table, path)
        else:
            pcsv.write_csv(table, path)
        paths.append(path)
    return paths
