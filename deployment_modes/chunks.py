"""Reading data larger than memory: a CSV or Parquet file (or a folder of them) as ``(X, y)`` chunks.

:func:`read_chunks` streams the rows through pyarrow, so that only one chunk (plus, when
shuffling, a bounded buffer) is in memory at a time. Every row comes out exactly once, in
file order unless asked to shuffle.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import csv
import numbers
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ._checks import positive_int
from .read_ahead import read_ahead

__all__ = ["ChunkReader", "read_chunks"]

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CSV_BLOCK_BYTES = (
    1 << 19
)  # pyarrow parses 512 KiB blocks faster than its default 1 MiB or 4 MiB (measured)


def read_chunks(
    path,
    target: str | None = None,
    *,
    chunk_rows: int | None = None,
    memory_budget: int | None = None,
    columns: list | None = None,
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

    The reading runs ahead of the caller in background threads (Arrow parses and decodes
    without Python's lock), so that reading the next chunk overlaps learning from this one;
    besides the chunk in hand, about two more are in memory at a time.

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
        shuffle=shuffle,
        seed=seed,
        shuffle_buffer=shuffle_buffer,
        on_bad_rows=on_bad_rows,
        progress=progress,
    )


def _files(path) -> list[Path]:
    if isinstance(path, (list, tuple)) and path:
        files = [f for p in path for f in _files(p)]
        if len({SUFFIXES[f.suffix.lower()] for f in files}) > 1:
            raise ValueError("path mixes CSV and Parquet files: keep one format")
        return files
    if not isinstance(path, (str, Path)):
        raise TypeError(
            f"path must be a file or folder path (or a non-empty list of them), got {type(path).__name__}"
        )
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path {str(path)!r} does not exist")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        if not files:
            raise ValueError(f"path {str(path)!r} is a folder with no .csv or .parquet file")
    elif path.suffix.lower() in SUFFIXES:
        files = [path]
    else:
        raise ValueError(f"path {str(path)!r} must end in .csv, .parquet or .pq")
    kinds = {SUFFIXES[p.suffix.lower()] for p in files}
    if len(kinds) > 1:
        raise ValueError(
            f"path {str(path)!r} mixes CSV and Parquet files: keep one format per folder"
        )
    return files


def _csv_header(file: Path) -> list[str]:
    with open(file, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise ValueError(f"file {str(file)!r} is empty: a CSV file needs a header line")
    return header


def bad_row(batch, index: int) -> dict:
    """Row ``index`` of an Arrow record batch as a dict, for an error message."""
    return batch.slice(index, 1).to_pylist()[0]


class BadRowError(ValueError):
    """A row that cannot be read: the message names the file and the row."""


class ChunkReader:
    """The iterable that :func:`read_chunks` returns; each iteration reads the files again.

    ``chunk_rows`` is the chunk size in use, ``skipped`` the rows skipped so far (with
    ``on_bad_rows="skip"``), ``rows`` the rows yielded by the last iteration.

    Parameters
    ----------
    path, target, chunk_rows, memory_budget, columns, shuffle, seed, shuffle_buffer, on_bad_rows, progress
        As in :func:`read_chunks`.

    Examples
    --------
    >>> import tempfile
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
        shuffle=False,
        seed=0,
        shuffle_buffer=None,
        on_bad_rows="raise",
        progress=False,
    ):
        self.files = _files(path)
        self.format = SUFFIXES[self.files[0].suffix.lower()]
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
        names = [self._names(f) for f in self.files]
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
        self._read = columns + ([target] if target is not None else [])
        self._parse_skipped = self._value_skipped = 0
        self.schema = self._schema()
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
        self._parse_skipped = self._value_skipped = 0
        self.rows = 0

    @property
    def skipped(self) -> int:
        """Bad rows skipped so far in this iteration (``on_bad_rows="skip"``)."""
        return self._parse_skipped + self._value_skipped

    def _names(self, file: Path) -> list[str]:
        if self.format == "csv":
            return _csv_header(file)
        try:
            return pq.ParquetFile(file).schema_arrow.names
        except (pa.ArrowException, OSError) as error:
            raise ValueError(
                f"file {str(file)!r} is not a readable Parquet file: {error}"
            ) from None

    def _schema(self) -> pa.Schema:
        """The types every file is read with: the first file's, features as float64 if numeric."""
        first = self.files[0]
        if self.format == "csv":
            reader = pcsv.open_csv(
                first,
                read_options=pcsv.ReadOptions(block_size=1 << 16),
                parse_options=pcsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
                convert_options=pcsv.ConvertOptions(include_columns=self._read),
            )
            schema = reader.schema
            reader.close()
        else:
            schema = pq.ParquetFile(first).schema_arrow
        fields = []
        for name in self._read:
            kind = schema.field(name).type
            if name != self.target and (pa.types.is_integer(kind) or pa.types.is_null(kind)):
                kind = pa.float64()
            fields.append(pa.field(name, kind))
        return pa.schema(fields)

    def bytes_per_row(self) -> float:
        """Bytes one row takes in memory as a chunk, measured on the first rows of the first file."""
        sample = next(self._batches(self.files[0], 1000), None)
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

    # -- reading --------------------------------------------------------------------------------
    def _batches(self, file: Path, batch_rows: int, row_groups=None):
        """Record batches of ``file`` in the common schema, bad rows checked."""
        if self.format == "parquet":
            yield from self._parquet_batches(file, batch_rows, row_groups)
        else:
            yield from self._csv_batches(file)

    def _parquet_batches(self, file, batch_rows, row_groups):
        parquet = pq.ParquetFile(file)
        groups = range(parquet.num_row_groups) if row_groups is None else row_groups
        offsets = np.concatenate(
            [
                [0],
                np.cumsum(
                    [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
                ),
            ]
        )

        def decoded():  # decoding runs in Arrow's C++ code: a thread reads the next batch meanwhile
            for group in groups:
                for batch in parquet.iter_batches(
                    batch_size=batch_rows, row_groups=[group], columns=self._read
                ):
                    yield group, batch

        current, first_row = None, 0
        for group, batch in read_ahead(decoded(), depth=1):
            if group != current:
                current, first_row = group, int(offsets[group])
            batch = self._conform(batch, file)
            yield self._drop_nulls(batch, file, first_row)
            first_row += batch.num_rows

    def _csv_batches(self, file):
        # a Python callback slows Arrow's parsing: set it only when it has rows to skip
        handler = self._invalid_row_handler(file) if self.on_bad_rows == "skip" else None
        types = {f.name: f.type for f in self.schema}
        done, parse_skipped = 0, self._parse_skipped
        try:
            reader = pcsv.open_csv(
                file,
                parse_options=pcsv.ParseOptions(invalid_row_handler=handler),
                read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                convert_options=pcsv.ConvertOptions(column_types=types, include_columns=self._read),
            )
            # a thread parses the next blocks while the caller learns from this one
            for batch in read_ahead(reader, depth=4):
                yield self._drop_nulls(batch.select(self._read), file, done)
                done += batch.num_rows
        except pa.ArrowInvalid as error:
            if "conversion error" not in str(error):
                raise self._parse_error(file, error) from None
            self._parse_skipped = parse_skipped  # the slow pass reads the whole file again
            yield from self._csv_slow(file, done)

    def _csv_slow(self, file, done):
        """Read ``file`` as text after its first ``done`` good rows, finding ill-typed values."""
        strings = {name: pa.string() for name in self._read}
        seen = 0
        try:
            batches = iter(
                pcsv.open_csv(
                    file,
                    parse_options=pcsv.ParseOptions(
                        invalid_row_handler=self._invalid_row_handler(file)
                    ),
                    convert_options=pcsv.ConvertOptions(
                        column_types=strings, include_columns=self._read
                    ),
                    read_options=pcsv.ReadOptions(use_threads=False),
                )
            )
        except pa.ArrowInvalid as error:
            raise self._parse_error(file, error) from None
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except pa.ArrowInvalid as error:
                raise self._parse_error(file, error) from None
            start = max(done - seen, 0)
            seen += batch.num_rows
            if start >= batch.num_rows:
                continue
            frame = batch.slice(start).to_pandas()
            bad = np.zeros(len(frame), dtype=bool)
            for field in self.schema:
                if not pa.types.is_string(field.type) and not pa.types.is_large_string(field.type):
                    text = frame[field.name]
                    values = pd.to_numeric(text, errors="coerce")
                    bad |= values.isna().to_numpy() & text.notna().to_numpy()
                    frame[field.name] = values
            if bad.any():
                row = seen - batch.num_rows + start + int(np.argmax(bad)) + 1
                if self.on_bad_rows == "raise":
                    raise BadRowError(
                        f"file {str(file)!r}, row {row}: a value does not have its column's type "
                        f"({dict(zip(self._read, bad_row(batch, start + int(np.argmax(bad))).values()))})"
                    )
                self._value_skipped += int(bad.sum())
                frame = frame[~bad]
            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            for good in table.to_batches():
                yield self._drop_nulls(good, file, seen)

    def _invalid_row_handler(self, file):
        def handle(row):
            if self.on_bad_rows == "skip":
                self._parse_skipped += 1
                return "skip"
            return "error"

        return handle

    def _parse_error(self, file, error) -> BadRowError:
        """The error for a row with the wrong number of fields, found again to name its row."""
        found = []

        def record(row):
            found.append(row)
            return "error"

        try:
            reader = pcsv.open_csv(
                file,
                parse_options=pcsv.ParseOptions(invalid_row_handler=record),
                read_options=pcsv.ReadOptions(use_threads=False),
                convert_options=pcsv.ConvertOptions(
                    column_types={n: pa.string() for n in self._read}
                ),
            )
            for _ in reader:
                pass
        except pa.ArrowInvalid:
            pass
        if found and found[0].number is not None:
            row = found[0]
            return BadRowError(
                f"file {str(file)!r}, row {row.number - 1}: expected {row.expected_columns} "
                f"fields, found {row.actual_columns} ({row.text!r})"
            )
        return BadRowError(f"file {str(file)!r} cannot be read as CSV: {error}")

    def _conform(self, batch: pa.RecordBatch, file) -> pa.RecordBatch:
        if batch.schema.equals(self.schema):
            return batch
        try:
            return batch.select(self._read).cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise BadRowError(
                f"file {str(file)!r} has column types {batch.schema.types} that do not match "
                f"the first file's {self.schema.types}: {error}"
            ) from None

    def _drop_nulls(self, batch: pa.RecordBatch, file, first_row: int) -> pa.RecordBatch:
        if not any(batch.column(i).null_count for i in range(batch.num_columns)):
            return batch
        missing = np.zeros(batch.num_rows, dtype=bool)
        for column in batch.columns:
            if column.null_count:
                missing |= pc.is_null(column).to_numpy(zero_copy_only=False)
        if self.on_bad_rows == "raise":
            row = first_row + int(np.argmax(missing)) + 1
            raise BadRowError(
                f"file {str(file)!r}, row {row}: a missing value "
                f"({bad_row(batch, int(np.argmax(missing)))})"
            )
        self._value_skipped += int(missing.sum())
        return batch.filter(pa.array(~missing))

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

    def _tables(self, rng):
        """Tables of exactly ``chunk_rows`` rows (the last may be ragged), across files."""
        pending, count = [], 0
        for file, groups in self._sources(rng):
            for batch in self._batches(file, self.chunk_rows, groups):
                if batch.num_rows == 0:
                    continue
                pending.append(batch)
                count += batch.num_rows
                while count >= self.chunk_rows:
                    table = pa.Table.from_batches(pending, schema=self.schema)
                    yield table.slice(0, self.chunk_rows)
                    rest = table.slice(self.chunk_rows)
                    pending, count = rest.to_batches(), rest.num_rows
        if count:
            yield pa.Table.from_batches(pending, schema=self.schema)

    def _shuffled(self, rng):
        """Chunks drawn at random from a buffer of ``shuffle_buffer`` rows."""
        buffer = None
        for table in self._tables(rng):
            buffer = table if buffer is None else pa.concat_tables([buffer, table])
            while buffer.num_rows >= self.shuffle_buffer + self.chunk_rows:
                order = rng.permutation(buffer.num_rows)
                yield buffer.take(order[: self.chunk_rows])
                buffer = buffer.take(np.sort(order[self.chunk_rows :])).combine_chunks()
        if buffer is not None and buffer.num_rows:
            buffer = buffer.take(rng.permutation(buffer.num_rows))
            for start in range(0, buffer.num_rows, self.chunk_rows):
                yield buffer.slice(start, self.chunk_rows)

    def _split(self, table: pa.Table):
        """The chunk as ``(X, y)``: numeric features go straight into one float block (no pandas consolidation)."""
        features = table.select(self.columns)
        if all(pa.types.is_float64(t) for t in features.schema.types):
            # Arrow writes the rows straight into one C-order block, across the table's chunks
            matrix = np.asarray(features.to_tensor(row_major=True))
            X = pd.DataFrame(matrix, columns=self.columns, copy=False)
        elif all(pa.types.is_floating(t) for t in features.schema.types):
            matrix = np.empty(
                (table.num_rows, len(self.columns)), dtype=np.float64
            )  # C order: what an estimator uses
            for i, column in enumerate(features.columns):
                matrix[:, i] = column.to_numpy()
            X = pd.DataFrame(matrix, columns=self.columns, copy=False)
        else:
            X = features.to_pandas()
        if self.target is None:
            return X, None
        return X, table.column(self.target).to_numpy()

    def __iter__(self):
        rng = np.random.default_rng(self.seed) if self.shuffle else None
        tables = self._shuffled(rng) if self.shuffle else self._tables(None)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.n_rows, unit="rows", unit_scale=True, desc="reading chunks")
        self.rows, self._parse_skipped, self._value_skipped = 0, 0, 0
        try:
            # the next chunk is read and put together in a thread while the caller learns
            for X, y in read_ahead((self._split(t) for t in tables), depth=1):
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
