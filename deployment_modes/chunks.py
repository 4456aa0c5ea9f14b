"""Reading data larger than memory: a CSV or Parquet file (or a folder of them) as ``(X, y)`` chunks.

:func:`read_chunks` streams the rows (through pandas' C parser or pyarrow), so that only one
chunk (plus, when shuffling, a bounded buffer) is in memory at a time. Every row comes out exactly once, in
file order unless asked to shuffle. :mod:`~deployment_modes.chunk_files` finds the files and
reads their rows as checked Arrow record batches, :mod:`~deployment_modes.chunk_assembly` puts
the batches together into chunks.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import numbers

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ._checks import positive_int
from .chunk_assembly import fixed_size_tables, numeric_chunks, shuffled_tables, split_table
from .chunk_files import (
    TYPES,
    BadRowError,
    RecordBatches,
    column_names,
    common_schema,
    file_format,
    list_files,
)
from .read_ahead import read_ahead

__all__ = ["BadRowError", "ChunkReader", "read_chunks"]


def read_chunks(
    path,
    target: str | None = None,
    *,
    chunk_rows: int | None = None,
    memory_budget: int | None = None,
    columns: list | None = None,
    dtype: dict | None = None,
    shuffle: bool = False,
    seed: int = 0,
    shuffle_buffer: int | None = None,
    on_bad_rows: str = "raise",
    progress: bool = False,
) -> ChunkReader:
    """Iterate a CSV or Parquet file, a folder of them or a list of files, as ``(X, y)`` chunks read from disk.

    ``X`` is a DataFrame of the feature ``columns`` (default: every column but ``target``) and
    ``y`` a numpy array of the ``target`` column (``None`` without a target). Chunks have
    ``chunk_rows`` rows (default 10,000) except a ragged last one; or ``memory_budget`` bytes,
    from which the chunk size is chosen. Files of a folder are read in name order, as one
    stream of rows. ``shuffle=True`` shuffles the order of the files (and Parquet row groups)
    and mixes rows across chunks in a seeded buffer of ``shuffle_buffer`` rows (default 10
    chunks). A row with a missing or ill-typed value, or the wrong number of fields, raises
    an error naming its file and row; with ``on_bad_rows="skip"`` it is skipped and counted in
    ``reader.skipped``. ``progress=True`` shows a progress bar with rows per second.

    A thread reads ahead of the caller and puts the next chunk together while the caller
    learns from this one. A CSV file of numbers is parsed by pandas' C parser (the one behind
    ``pandas.read_csv``: the same numbers), in blocks of 2**18 values; a file with a column of
    text by Arrow's streaming reader, blocks of 512 KiB on all the cores at once. Both parse
    without Python's lock. Besides the chunk in hand, one more chunk and a block or a few are in
    memory at a time, whatever the size of the files. A CSV column's type comes from the file's
    first rows (a column of numbers stays numbers when a few of its values there are not: they
    are bad rows), or from ``dtype``.

    Everything is checked when called, before any chunk is read.

    Parameters
    ----------
    path
        A CSV or Parquet file, a folder of them, or a list of files.
    target
        The label column (``None``: no labels).
    chunk_rows
        Rows per chunk (default 10,000).
    memory_budget
        Bytes per chunk, instead of ``chunk_rows``.
    columns
        The feature columns (default: every column but ``target``).
    dtype
        Types of some columns, ``{column: str, int or float}``, instead of the ones read from
        the first file (e.g. ``{"code": str}`` for codes of digits that may hold a letter).
    shuffle
        Shuffle the files' order and mix rows across chunks.
    seed
        Seed of the shuffling.
    shuffle_buffer
        Rows of the shuffling buffer (default: 10 chunks).
    on_bad_rows
        ``"raise"`` or ``"skip"`` a bad row.
    progress
        Show a progress bar.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"x": range(5), "label": list("ababa")}).to_csv(folder / "d.csv", index=False)
    >>> [(len(X), list(y)) for X, y in read_chunks(folder / "d.csv", "label", chunk_rows=2)]
    [(2, ['a', 'b']), (2, ['a', 'b']), (1, ['a'])]
    """
    return ChunkReader(
        path,
        target,
        chunk_rows=chunk_rows,
        memory_budget=memory_budget,
        columns=columns,
        dtype=dtype,
        shuffle=shuffle,
        seed=seed,
        shuffle_buffer=shuffle_buffer,
        on_bad_rows=on_bad_rows,
        progress=progress,
    )


def check_dtype(dtype, columns: list) -> dict:
    """``dtype`` as ``{column: str, int or float}`` over ``columns``, or a TypeError/ValueError naming it."""
    if dtype is None:
        return {}
    if not isinstance(dtype, dict):
        raise TypeError(f"dtype must be a dict {{column: str, int or float}}, got {dtype!r:.60}")
    for name, kind in dtype.items():
        if name not in columns:
            raise ValueError(f"dtype names {name!r}, which is not a column read: {columns}")
        if not isinstance(kind, type) or kind not in TYPES:
            raise ValueError(f"dtype of {name!r} must be str, int or float, got {kind!r:.60}")
    return dtype


class ChunkReader:
    """The iterable that :func:`read_chunks` returns; each iteration reads the files again.

    ``chunk_rows`` is the chunk size in use, ``skipped`` the rows skipped so far (with
    ``on_bad_rows="skip"``), ``rows`` the rows yielded by the last iteration.

    Parameters
    ----------
    path, target, chunk_rows, memory_budget, columns, dtype, shuffle, seed, shuffle_buffer, on_bad_rows, progress
        As in :func:`read_chunks`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,label\\n1,0\\n2,1\\n3\\n4,1\\n")  # the row "3" lacks its label
    >>> reader = ChunkReader(path, "label", chunk_rows=2, on_bad_rows="skip")
    >>> [len(X) for X, y in reader], reader.rows, reader.skipped
    ([2, 1], 3, 1)
    """

    def __init__(
        self,
        path,
        target=None,
        *,
        chunk_rows=None,
        memory_budget=None,
        columns=None,
        dtype=None,
        shuffle=False,
        seed=0,
        shuffle_buffer=None,
        on_bad_rows="raise",
        progress=False,
    ):
        self.files = list_files(path)
        self.format = file_format(self.files[0])
        if on_bad_rows not in ("raise", "skip"):
            raise ValueError(f"on_bad_rows must be 'raise' or 'skip', got {on_bad_rows!r}")
        if chunk_rows is not None and memory_budget is not None:
            raise ValueError("give chunk_rows or memory_budget, not both")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an int, got {seed!r}")
        for flag, value in (("shuffle", shuffle), ("progress", progress)):
            if not isinstance(value, bool):
                raise TypeError(f"{flag} must be True or False, got {value!r}")
        self.on_bad_rows, self.shuffle, self.seed, self.progress = (
            on_bad_rows,
            shuffle,
            int(seed),
            progress,
        )
        names = [column_names(f) for f in self.files]
        if target is not None and not isinstance(target, str):
            raise TypeError(
                f"target must be a column name (str) or None, got {type(target).__name__}"
            )
        for file, cols in zip(self.files, names):
            if target is not None and target not in cols:
                raise ValueError(
                    f"target {target!r} is not a column of {str(file)!r}; its columns are {cols}"
                )
        if columns is None:
            columns = [c for c in names[0] if c != target]
        else:
            if not isinstance(columns, (list, tuple)) or not all(
                isinstance(c, str) for c in columns
            ):
                raise TypeError("columns must be a list of column names")
            columns = list(columns)
            if target is not None and target in columns:
                raise ValueError(
                    f"columns must not hold the target {target!r}: the label is not a feature"
                )
            if len(set(columns)) != len(columns):
                raise ValueError(f"columns names a column twice: {columns}")
        for file, cols in zip(self.files, names):
            missing = [c for c in columns if c not in cols]
            if missing:
                raise ValueError(
                    f"columns {missing} are not in {str(file)!r}; its columns are {cols}"
                )
        if not columns:
            raise ValueError("columns is empty: the chunks need at least one feature column")
        self.target, self.columns = target, columns
        read = columns + ([target] if target is not None else [])
        self.schema = common_schema(self.files[0], read, target, check_dtype(dtype, read))
        self._batches = RecordBatches(self.schema, on_bad_rows)  # the pass under way
        if memory_budget is not None:
            memory_budget = positive_int(memory_budget, "memory_budget")
            per_row = self.bytes_per_row()
            if memory_budget < per_row:
                raise ValueError(
                    f"memory_budget of {memory_budget} bytes is too small for one row "
                    f"(about {per_row:.0f} bytes in memory)"
                )
            chunk_rows = int(memory_budget // per_row)
        self.chunk_rows = positive_int(10_000 if chunk_rows is None else chunk_rows, "chunk_rows")
        self.shuffle_buffer = positive_int(
            10 * self.chunk_rows if shuffle_buffer is None else shuffle_buffer, "shuffle_buffer"
        )
        self.memory_budget = memory_budget
        self._batches = RecordBatches(self.schema, on_bad_rows)
        self.rows = 0

    @property
    def skipped(self) -> int:
        """Bad rows skipped so far in this iteration (``on_bad_rows="skip"``)."""
        return self._batches.skipped

    def bytes_per_row(self) -> float:
        """Bytes one row takes in memory as a chunk, measured on the first rows of the first file."""
        sample = next(RecordBatches(self.schema, self.on_bad_rows).read(self.files[0], 1000), None)
        if sample is None or sample.num_rows == 0:
            return 1.0
        return max(
            sample.to_pandas().memory_usage(deep=True, index=False).sum() / sample.num_rows, 1.0
        )

    def __len__(self) -> int:
        """The number of chunks (Parquet only; a CSV file must be read to count its rows)."""
        if self.format != "parquet" or self.on_bad_rows == "skip":
            raise TypeError(
                "the number of chunks is only known without reading for Parquet files read with on_bad_rows='raise'"
            )
        return -(-self.n_rows // self.chunk_rows)

    @property
    def n_rows(self) -> int | None:
        """Rows in all the files, from the Parquet metadata (None for CSV)."""
        if self.format != "parquet":
            return None
        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files)

    def _sources(self, rng):
        """(file, row groups) in reading order: shuffled files and row groups when asked."""
        files = list(self.files)
        if rng is not None:
            rng.shuffle(files)
        for file in files:
            if self.format == "parquet" and rng is not None:
                groups = list(range(pq.ParquetFile(file).num_row_groups))
                rng.shuffle(groups)
                for group in groups:
                    yield file, [group]
            else:
                yield file, None

    def _chunks(self, batches: RecordBatches):
        """The ``(X, y)`` chunks of one pass over the files, read by ``batches``."""
        rng = np.random.default_rng(self.seed) if self.shuffle else None
        stream = (
            batch
            for file, groups in self._sources(rng)
            for batch in batches.read(file, self.chunk_rows, groups)
        )
        features = [field.type for field in self.schema if field.name != self.target]
        if not self.shuffle and all(pa.types.is_float64(kind) for kind in features):
            return numeric_chunks(stream, self.chunk_rows, self.columns, self.target)
        tables = fixed_size_tables(stream, self.chunk_rows, self.schema)
        if self.shuffle:
            tables = shuffled_tables(tables, rng, self.chunk_rows, self.shuffle_buffer)
        return (split_table(table, self.columns, self.target) for table in tables)

    def __iter__(self):
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.n_rows, unit="rows", unit_scale=True, desc="reading chunks")
        self.rows, self._batches = 0, RecordBatches(self.schema, self.on_bad_rows)
        try:
            # a thread reads (Arrow parses or decodes without Python's lock) and puts the next
            # chunk together while the caller learns from this one
            for X, y in read_ahead(self._chunks(self._batches), depth=1):
                self.rows += len(X)
                if bar is not None:
                    bar.update(len(X))
                yield X, y
        finally:
            if bar is not None:
                bar.close()

    def __repr__(self) -> str:
        where = (
            self.files[0]
            if len(self.files) == 1
            else f"{len(self.files)} {self.format} files in {self.files[0].parent}"
        )
        return f"ChunkReader({where}, target={self.target!r}, chunk_rows={self.chunk_rows})"
