"""A CSV file of numbers parsed by pandas' C parser: the fast path of reading a CSV file.

When every column of a CSV file is read, and all are numbers (the features and the label),
:func:`number_batches` parses the file with the parser behind pandas' ``read_csv(chunksize=)``,
block after block, and yields the rows as Arrow record batches in the reader's schema: the
same numbers, to the last bit, as that recipe reads. It leaves out the parser's check for
missing-value markers (``NA``, empty) and lets it infer the types rather than giving them
(with the types given it costs twice as much): a block whose columns do not come out as the
schema's numbers (a missing or ill-typed value, a short row, a blank line) raises
:class:`NotNumbers`, as does a row with too many fields, and the caller reads the rest of the
file the slow way, which names the bad row (and skips empty lines).

Parsing and converting run without Python's lock. The parse costs what the
``read_csv(chunksize=)`` + ``partial_fit`` recipe's parse costs, most of it in pandas' tokenizer
and float conversion; the learning costs less (:mod:`~deployment_modes.sgd_partial` skips the
per-call checks), so training from a CSV file this way takes less CPU than the recipe (section
(b) of ``benchmarks/out_of_core.py``).

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["NotNumbers", "number_batches", "reads_as_numbers"]

READ_VALUES = 1 << 18  # values parsed per block (2 MiB as numbers): fewer cost more per row, more
# take buffers that the C allocator can hand back to the system after each block (page faults)


class NotNumbers(Exception):
    """A block of a CSV file that pandas' parser did not read as the schema's numbers.

    Parameters
    ----------
    *args, **kwargs
        What was found, as for any exception.

    Examples
    --------
    >>> str(NotNumbers("column 'x' holds str values, not float64"))
    "column 'x' holds str values, not float64"
    """


def reads_as_numbers(header: list, schema: pa.Schema) -> bool:
    """Whether a CSV file with ``header`` takes the fast path: its columns are the schema's, all numbers.

    Parameters
    ----------
    header
        The file's column names.
    schema
        The columns read and their types.

    Examples
    --------
    >>> schema = pa.schema([("x", pa.float64()), ("y", pa.int64())])
    >>> reads_as_numbers(["y", "x"], schema), reads_as_numbers(["x", "y", "note"], schema)
    (True, False)
    """
    return (
        len(set(header)) == len(header) == len(schema)
        and set(header) == set(schema.names)
        and all(pa.types.is_float64(kind) or pa.types.is_int64(kind) for kind in schema.types)
    )


def number_batches(file, schema: pa.Schema):
    """The rows of the CSV ``file`` as record batches in ``schema``, parsed by pandas' C parser.

    Raises :class:`NotNumbers` at the first block that pandas does not read as the schema's
    numbers; the batches before it hold every row before that block.

    Parameters
    ----------
    file
        A CSV file for which :func:`reads_as_numbers` holds.
    schema
        The columns and their types (int64 or float64).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,y\\n1.5,0\\n2,1\\n")
    >>> schema = pa.schema([("x", pa.float64()), ("y", pa.int64())])
    >>> [b.to_pydict() for b in number_batches(path, schema)]
    [{'x': [1.5, 2.0], 'y': [0, 1]}]
    """
    kinds = [np.dtype(kind.to_pandas_dtype()) for kind in schema.types]
    rows = max(1, READ_VALUES // len(kinds))
    try:
        reader = pd.read_csv(
            file, chunksize=rows, na_filter=False, skip_blank_lines=False, low_memory=False
        )
    except (ValueError, UnicodeDecodeError) as error:
        raise NotNumbers(str(error)) from None
    with reader:
        while True:
            try:
                frame = next(reader)
            except StopIteration:
                return
            except (ValueError, UnicodeDecodeError) as error:  # a row with too many fields
                raise NotNumbers(str(error)) from None
            if not isinstance(frame.index, pd.RangeIndex):  # a first row longer than the header
                raise NotNumbers("a row has more fields than the header")
            if len(frame):
                yield _batch(frame, schema, kinds)


def _batch(frame: pd.DataFrame, schema: pa.Schema, kinds: list) -> pa.RecordBatch:
    """The block as a record batch in ``schema`` (integers widen to floats), or :class:`NotNumbers`."""
    columns = []
    for name, kind in zip(schema.names, kinds):
        values = frame[name].to_numpy()
        if values.dtype != kind:
            if not (kind == np.float64 and values.dtype == np.int64):
                raise NotNumbers(f"column {name!r} holds {values.dtype} values, not {kind}")
            values = values.astype(np.float64)
        columns.append(pa.array(values))  # no copy
    return pa.RecordBatch.from_arrays(columns, schema=schema)
