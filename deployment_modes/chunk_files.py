"""Where a chunk's rows come from: the files of a path, their columns and types, and their rows
as checked Arrow record batches.

:func:`list_files` finds the CSV or Parquet files of a path; :func:`common_schema` fixes the
types every file is read with; :class:`RecordBatches` reads one file's rows in that schema,
pandas' C parser parsing a CSV file of numbers (:mod:`~deployment_modes.csv_numbers`), pyarrow
another CSV file or the Parquet pages, and finds the bad rows: a missing or
ill-typed value, or the wrong number of fields, raises a :class:`BadRowError` naming the file
and the row, or is skipped and counted. :mod:`~deployment_modes.chunks` puts the batches
together into chunks.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .csv_numbers import NotNumbers, number_batches, reads_as_numbers

__all__ = ["BadRowError", "RecordBatches", "common_schema", "csv_schema", "list_files"]

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CSV_BLOCK_BYTES = 1 << 19  # pyarrow parses 512 KiB blocks faster than 1 MiB or 4 MiB (measured)
NULL_TEXT = frozenset(
    pcsv.ConvertOptions().null_values
)  # Arrow's missing-value markers: "", NA, ...


class BadRowError(ValueError):
    """A row that cannot be read: the message names the file and the row.

    Parameters
    ----------
    *args, **kwargs
        The message, as for any exception.

    Examples
    --------
    >>> str(BadRowError("file 'd.csv', row 3: a missing value"))
    "file 'd.csv', row 3: a missing value"
    """


def list_files(path) -> list[Path]:
    """The files of ``path`` (a file, a folder of them or a list), all CSV or all Parquet, in name order.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet`` or ``.pq`` file, a folder of them, or a non-empty list of these.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b.csv", "a.csv", "notes.txt"):
    ...     _ = (folder / name).write_text("x\\n1\\n")
    >>> [p.name for p in list_files(folder)]
    ['a.csv', 'b.csv']
    """
    if isinstance(path, (list, tuple)) and path:
        files = [f for p in path for f in list_files(p)]
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
    if len({SUFFIXES[p.suffix.lower()] for p in files}) > 1:
        raise ValueError(
            f"path {str(path)!r} mixes CSV and Parquet files: keep one format per folder"
        )
    return files


def file_format(file: Path) -> str:
    """``"csv"`` or ``"parquet"``, from the file's suffix."""
    return SUFFIXES[Path(file).suffix.lower()]


def column_names(file: Path) -> list[str]:
    """The column names of a CSV file (its header line) or a Parquet file (its schema)."""
    if file_format(file) == "csv":
        with open(file, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
        if not header:
            raise ValueError(f"file {str(file)!r} is empty: a CSV file needs a header line")
        return header
    try:
        return pq.ParquetFile(file).schema_arrow.names
    except (pa.ArrowException, OSError) as error:
        raise ValueError(f"file {str(file)!r} is not a readable Parquet file: {error}") from None


TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64()}  # the types a caller may give


def common_schema(
    file: Path, columns: list, target: str | None = None, dtype: dict | None = None
) -> pa.Schema:
    """The types every file is read with: those of ``file``, integer or empty features as float64.

    Parameters
    ----------
    file
        The first file, whose types the others must share.
    columns
        The columns to read (the features, then the target if any).
    target
        The label column, which keeps its type.
    dtype
        Types given, ``{column: str, int or float}``, instead of those of ``file``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("n,label\\n1,0\\n2,1\\n")
    >>> common_schema(path, ["n", "label"], "label").types
    [DataType(double), DataType(int64)]
    """
    if file_format(file) == "csv":
        schema = csv_schema(file, columns)
    else:
        schema = pq.ParquetFile(file).schema_arrow
    fields = []
    for name in columns:
        kind = TYPES[dtype[name]] if dtype and name in dtype else schema.field(name).type
        if name != target and (pa.types.is_integer(kind) or pa.types.is_null(kind)):
            kind = pa.float64()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def csv_schema(file: Path, columns: list, sample_bytes: int = 1 << 16) -> pa.Schema:
    """The types of a CSV file's ``columns``, inferred from its first ``sample_bytes``.

    Arrow reads a column as text when one value of the sample is not a number; here a column
    whose non-empty values are mostly numbers (more than half) is numbers, and its other
    values are bad rows (an ``oops`` among floats), which the reader raises or skips.

    Parameters
    ----------
    file
        A CSV file.
    columns
        The columns to type.
    sample_bytes
        The bytes the types are inferred from.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,word\\n1.5,a\\noops,b\\n2,3\\n")
    >>> csv_schema(path, ["x", "word"]).types
    [DataType(double), DataType(string)]
    """
    reader = pcsv.open_csv(
        file,
        read_options=pcsv.ReadOptions(block_size=sample_bytes, use_threads=False),
        parse_options=pcsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        convert_options=pcsv.ConvertOptions(include_columns=columns),
    )
    try:
        sample = reader.read_next_batch()
    except StopIteration:
        return reader.schema
    finally:
        reader.close()
    fields = []
    for field in sample.schema:
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            text = sample.column(field.name).to_pandas()
            text = text[text.str.strip() != ""]
            numbers = pd.to_numeric(text, errors="coerce").dropna()
            if len(numbers) > len(text) / 2:
                whole = bool(np.isfinite(numbers).all() and (numbers == numbers.round()).all())
                field = pa.field(field.name, pa.int64() if whole else pa.float64())
        fields.append(field)
    return pa.schema(fields)


def bad_row(batch, index: int) -> dict:
    """Row ``index`` of an Arrow record batch as a dict, for an error message."""
    return batch.slice(index, 1).to_pylist()[0]


class RecordBatches:
    """Read files' rows as Arrow record batches in ``schema``, with no missing or ill-typed value.

    A bad row raises a :class:`BadRowError` naming its file and row (``on_bad_rows="raise"``)
    or is skipped and counted in ``skipped`` (``"skip"``). One object reads one pass over the
    files: its count starts at zero.

    Parameters
    ----------
    schema
        The columns to read and their types (:func:`common_schema`).
    on_bad_rows
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,label\\n1,0\\n,1\\n3,1\\n")  # row 2 lacks its x
    >>> batches = RecordBatches(common_schema(path, ["x", "label"], "label"), "skip")
    >>> sum(b.num_rows for b in batches.read(path)), batches.skipped
    (2, 1)
    """

    def __init__(self, schema: pa.Schema, on_bad_rows: str = "raise"):
        self.schema, self.on_bad_rows = schema, on_bad_rows
        self.names = schema.names
        self._parse_skipped = self._value_skipped = 0
        self._lock = threading.Lock()

    @property
    def skipped(self) -> int:
        """Bad rows skipped so far."""
        return self._parse_skipped + self._value_skipped

    def read(self, file: Path, batch_rows: int = 65_536, row_groups=None):
        """The record batches of ``file`` (Parquet: of its ``row_groups``, default all), bad rows checked."""
        if file_format(file) == "parquet":
            yield from self._parquet(file, batch_rows, row_groups)
        else:
            yield from self._csv(file)

    def _parquet(self, file, batch_rows, row_groups):
        parquet = pq.ParquetFile(file)
        sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        for group in range(parquet.num_row_groups) if row_groups is None else row_groups:
            first_row = int(offsets[group])
            for batch in parquet.iter_batches(
                batch_size=batch_rows, row_groups=[group], columns=self.names
            ):
                batch = self._conform(batch, file)
                yield self._drop_nulls(batch, file, first_row)
                first_row += batch.num_rows

    def _csv(self, file):
        if reads_as_numbers(column_names(file), self.schema):
            yield from self._csv_numbers(file)
            return
        # a column of text: Arrow's streaming reader parses the next blocks on its thread pool
        # (without Python's lock), in file order, with every column's type given (no inference)
        counted = {"live": True, "rows": 0}  # this file's skipped rows, counted in Arrow's threads

        def skip(row):
            with self._lock:
                if counted["live"]:
                    counted["rows"] += 1
                    self._parse_skipped += 1
            return "skip"

        done, reader = 0, None
        try:
            reader = pcsv.open_csv(
                file,
                read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=True),
                parse_options=pcsv.ParseOptions(  # a Python callback slows Arrow: only to skip
                    invalid_row_handler=skip if self.on_bad_rows == "skip" else None
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types={f.name: f.type for f in self.schema},
                    include_columns=self.names,
                ),
            )
            for batch in reader:
                batch = batch.select(self.names)
                yield self._drop_nulls(batch, file, done)
                done += batch.num_rows
        except pa.ArrowInvalid as error:
            with self._lock:  # blocks still in flight count no more: the slow pass counts again
                counted["live"] = False
                self._parse_skipped -= counted["rows"]
            if "conversion error" not in str(error):
                raise self._parse_error(file, error) from None
            yield from self._csv_slow(file, done)
        finally:
            if reader is not None:
                reader.close()

    def _csv_numbers(self, file):
        """A file of numbers, parsed by pandas' C parser up to a block it cannot read, then slowly."""
        done = 0
        try:
            for batch in number_batches(file, self.schema):
                yield batch
                done += batch.num_rows
        except NotNumbers:
            yield from self._csv_slow(file, done)

    def _csv_slow(self, file, done):
        """Read ``file`` as text after its first ``done`` good rows, finding ill-typed values."""
        seen = 0
        try:
            batches = iter(
                pcsv.open_csv(
                    file,
                    parse_options=pcsv.ParseOptions(invalid_row_handler=self._count_or_raise),
                    convert_options=pcsv.ConvertOptions(
                        column_types={name: pa.string() for name in self.names},
                        include_columns=self.names,
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
            missing, bad = self._check_text(frame)
            wrong = missing | bad
            if wrong.any():
                first = int(np.argmax(wrong))
                if self.on_bad_rows == "raise":
                    what = (
                        "a missing value"
                        if missing[first]
                        else "a value does not have its column's type"
                    )
                    raise BadRowError(
                        f"file {str(file)!r}, row {seen - batch.num_rows + start + first + 1}: "
                        f"{what} ({dict(zip(self.names, bad_row(batch, start + first).values()))})"
                    )
                self._value_skipped += int(wrong.sum())
                frame = frame[~wrong]
            yield from pa.Table.from_pandas(
                frame, schema=self.schema, preserve_index=False
            ).to_batches()

    def _check_text(self, frame: pd.DataFrame):
        """Rows of ``frame`` (read as text) with a missing value, and with a value not of its type.

        The number columns of ``frame`` become numbers. A missing value is an empty field or one
        of Arrow's markers (``NA``, ``nan``...), as when the column is read with its type.
        """
        missing = np.zeros(len(frame), dtype=bool)
        bad = np.zeros(len(frame), dtype=bool)
        for field in self.schema:
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                continue
            text = frame[field.name]
            absent = text.isin(NULL_TEXT).to_numpy()
            values = pd.to_numeric(text.where(~absent), errors="coerce")
            wrong = values.isna().to_numpy() & ~absent
            if pa.types.is_integer(field.type):
                wrong |= (values != values.round()).to_numpy() & ~absent
            missing |= absent
            bad |= wrong
            frame[field.name] = values
        return missing, bad

    def _count_or_raise(self, row):
        if self.on_bad_rows == "skip":
            with self._lock:  # blocks are parsed in several threads at once
                self._parse_skipped += 1
            return "skip"
        return "error"

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
                    column_types={name: pa.string() for name in self.names}
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
            return batch.select(self.names).cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise BadRowError(
                f"file {str(file)!r} has column types {batch.schema.types} that do not match "
                f"the first file's {self.schema.types}: {error}"
            ) from None

    def _drop_nulls(self, batch: pa.RecordBatch, file, first_row: int) -> pa.RecordBatch:
        if not any(column.null_count for column in batch.columns):  # counted when built
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
