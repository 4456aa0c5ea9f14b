"""Putting rows together into chunks: Arrow record batches (of any size) into ``(X, y)`` chunks of
exactly ``chunk_rows`` rows, in order or mixed in a shuffling buffer.

Numeric features take a short path: :func:`numeric_chunks` writes each batch's columns straight
into the chunk's C-order float matrix, the layout an estimator learns from, with no table in
between. Other features go through Arrow tables (:func:`fixed_size_tables`,
:func:`shuffled_tables`) and :func:`split_table`. Both give the same chunks.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["fixed_size_tables", "numeric_chunks", "shuffled_tables", "split_table"]


def fixed_size_tables(batches, chunk_rows: int, schema: pa.Schema):
    """Tables of exactly ``chunk_rows`` rows (the last may be ragged) from record batches of any size.

    Parameters
    ----------
    batches
        Record batches in ``schema``, in reading order.
    chunk_rows
        Rows per table.
    schema
        The batches' schema.

    Examples
    --------
    >>> batch = pa.record_batch({"x": [1.0, 2.0, 3.0]})
    >>> [t.num_rows for t in fixed_size_tables([batch, batch], 4, batch.schema)]
    [4, 2]
    """
    pending, count = [], 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= chunk_rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield table.slice(0, chunk_rows)
            rest = table.slice(chunk_rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema=schema)


def shuffled_tables(tables, rng: np.random.Generator, chunk_rows: int, buffer_rows: int):
    """Tables of ``chunk_rows`` rows drawn at random from a buffer of ``buffer_rows`` rows.

    Parameters
    ----------
    tables
        Tables in reading order (e.g. :func:`fixed_size_tables`).
    rng
        The seeded random generator.
    chunk_rows
        Rows per table drawn.
    buffer_rows
        Rows the buffer holds before each draw.

    Examples
    --------
    >>> table = pa.table({"x": list(range(10))})
    >>> drawn = list(shuffled_tables([table], np.random.default_rng(0), 4, 4))
    >>> [t.num_rows for t in drawn], sorted(sum((t["x"].to_pylist() for t in drawn), []))
    ([4, 4, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    buffer = None
    for table in tables:
        buffer = table if buffer is None else pa.concat_tables([buffer, table])
        while buffer.num_rows >= buffer_rows + chunk_rows:
            order = rng.permutation(buffer.num_rows)
            yield buffer.take(order[:chunk_rows])
            buffer = buffer.take(np.sort(order[chunk_rows:])).combine_chunks()
    if buffer is not None and buffer.num_rows:
        buffer = buffer.take(rng.permutation(buffer.num_rows))
        for start in range(0, buffer.num_rows, chunk_rows):
            yield buffer.slice(start, chunk_rows)


def split_table(table: pa.Table, columns: list, target: str | None = None):
    """The table as an ``(X, y)`` chunk: float features as one C-order block, others via pandas.

    Parameters
    ----------
    table
        The chunk's rows.
    columns
        The feature columns (``X``).
    target
        The label column (``y``; ``None``: no labels).

    Examples
    --------
    >>> X, y = split_table(pa.table({"a": [1.0, 2.0], "label": ["u", "v"]}), ["a"], "label")
    >>> X.to_numpy().flags.c_contiguous, list(y)
    (True, ['u', 'v'])
    """
    features = table.select(columns)
    if all(pa.types.is_float64(t) for t in features.schema.types):
        # Arrow writes the rows straight into one C-order block, across the table's chunks
        X = pd.DataFrame(
            np.asarray(features.to_tensor(row_major=True)), columns=columns, copy=False
        )
    elif all(pa.types.is_floating(t) for t in features.schema.types):
        matrix = np.empty((table.num_rows, len(columns)), dtype=np.float64)  # C order
        for i, column in enumerate(features.columns):
            matrix[:, i] = column.to_numpy()
        X = pd.DataFrame(matrix, columns=columns, copy=False)
    else:
        X = features.to_pandas()
    return X, None if target is None else table.column(target).to_numpy()


def numeric_chunks(batches, chunk_rows: int, columns: list, target: str | None = None):
    """``(X, y)`` chunks of exactly ``chunk_rows`` rows (the last may be ragged) from float64 features.

    Each batch's feature columns are copied straight into the chunk's C-order float matrix,
    column by column; ``y`` is the ``target`` column as numpy. The same chunks as
    :func:`fixed_size_tables` then :func:`split_table`, with one copy of the numbers and no
    table in between.

    Parameters
    ----------
    batches
        Record batches whose ``columns`` are float64 (and hold no null), in reading order.
    chunk_rows
        Rows per chunk.
    columns
        The feature columns (``X``).
    target
        The label column (``y``; ``None``: no labels).

    Examples
    --------
    >>> batch = pa.record_batch({"a": [1.0, 2.0, 3.0], "label": [0, 1, 0]})
    >>> [(X.shape, y.tolist()) for X, y in numeric_chunks([batch, batch], 4, ["a"], "label")]
    [((4, 1), [0, 1, 0, 0]), ((2, 1), [1, 0])]
    """
    names = pd.Index(columns)  # shared by every chunk: an Index is immutable
    matrix, labels, filled, positions = np.empty((chunk_rows, len(columns))), [], 0, None
    for batch in batches:
        if positions is None:  # the columns' places in the batches (they share one schema)
            positions = [batch.schema.get_field_index(name) for name in columns]
            label = None if target is None else batch.schema.get_field_index(target)
        features = [batch.column(i).to_numpy() for i in positions]  # no copy
        rows, start = batch.num_rows, 0
        while start < rows:
            take = min(rows - start, chunk_rows - filled)
            block = matrix[filled : filled + take]
            for i, values in enumerate(features):  # the one copy of the numbers, into C order
                block[:, i] = values[start : start + take]
            if label is not None:
                labels.append(batch.column(label).slice(start, take))
            filled, start = filled + take, start + take
            if filled == chunk_rows:
                yield _chunk(matrix, names, labels, target)
                matrix, labels, filled = np.empty((chunk_rows, len(columns))), [], 0
    if filled:
        yield _chunk(matrix[:filled], names, labels, target)


def _chunk(matrix, names, labels, target):
    X = pd.DataFrame(matrix, columns=names, copy=False)
    if target is None:
        return X, None
    return X, pa.chunked_array(labels).to_numpy()
