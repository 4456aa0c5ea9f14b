"""Parsing one CSV file on several cores, in order, with a bounded memory.

A CSV file is cut at line ends into segments of about ``segment_bytes``; a small pool of
threads parses the next segments while the caller uses this one (pyarrow parses without
Python's lock), and the parsed segments come out in file order. At most ``workers + 1``
segments are read or parsed ahead at a time, whatever the size of the file. Cutting at line
ends is how pyarrow itself cuts a file into blocks (its default ``newlines_in_values=False``:
a value holds no line break), so the rows are the same as one sequential read.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.csv as pcsv

from ._checks import positive_int

__all__ = ["line_segments", "parse_segments"]

SEGMENT_BYTES = 1 << 21  # ~5,000 rows of 20 numbers: small enough to keep several in flight
WORKERS = max(1, min(4, os.cpu_count() or 1))


def line_segments(file, segment_bytes: int | None = None, buffers: int = 2):
    """The header line of ``file``, then its data as segments of whole lines (about ``segment_bytes`` each).

    The segments are memoryviews of ``buffers`` reused byte arrays (no new memory per segment): a
    segment stays valid until ``buffers - 1`` more have been taken. ``bytes(segment)`` keeps one.

    Parameters
    ----------
    file
        A CSV file.
    segment_bytes
        The size a segment is read at (default ``SEGMENT_BYTES``), cut at its last line end.
    buffers
        Byte arrays reused in turn.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_bytes(b"x,y\\n1,2\\n3,4\\n5,6")
    >>> [bytes(s) for s in line_segments(path, segment_bytes=5)]
    [b'x,y\\n', b'1,2\\n', b'3,4\\n', b'5,6']
    """
    size = positive_int(SEGMENT_BYTES if segment_bytes is None else segment_bytes, "segment_bytes")
    # room for a segment plus the line the last one cut off (shorter than a segment, mostly)
    ring = [bytearray(2 * size) for _ in range(positive_int(buffers, "buffers"))]
    turn, carry = 0, b""  # carry: the start of a line that the last segment cut off
    with open(file, "rb") as handle:
        yield handle.readline()
        while True:
            start = len(carry)
            if len(ring[turn]) < start + size:  # a line longer than a segment: a bigger array
                ring[turn] = bytearray(start + size)
            buffer = ring[turn]
            buffer[:start] = carry
            end = start + handle.readinto(memoryview(buffer)[start : start + size])
            if end == start:  # the end of the file
                if start:
                    yield memoryview(buffer)[:start]
                return
            cut = buffer.rfind(b"\n", 0, end) + 1
            if cut == 0:  # no line end yet: read on into the same array
                carry = bytes(buffer[:end])
                continue
            carry = bytes(buffer[cut:end])
            yield memoryview(buffer)[:cut]
            turn = (turn + 1) % len(ring)


def parse_segments(file, parse, *, workers: int | None = None, segment_bytes: int | None = None):
    """``parse(segment, names)`` of each segment of ``file``, in file order, ``workers`` at a time.

    ``names`` are the column names of the file's header as pyarrow reads them, so that
    ``parse`` reads each segment as a headerless CSV (``ReadOptions(column_names=names)``).
    A segment's memory is reused once ``parse`` returns: ``parse`` must copy what it keeps
    (pyarrow's CSV reader does: its columns are new arrays).
    An error raised by ``parse`` is raised here, after the results of the segments before it.
    Closing the generator early waits for the segments in flight, then stops.

    Parameters
    ----------
    file
        A CSV file with a header line.
    parse
        A function of a segment (bytes) and the column names, run in the pool's threads.
    workers
        Threads parsing at once (default ``WORKERS``: the cores, at most 4).
    segment_bytes
        About how many bytes each segment holds (default ``SEGMENT_BYTES``).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_bytes(b"x,y\\n1,2\\n3,4\\n5,6\\n")
    >>> rows = lambda segment, names: bytes(segment).count(b"\\n")
    >>> list(parse_segments(path, rows, segment_bytes=4))
    [1, 1, 1]
    """
    workers = positive_int(WORKERS if workers is None else workers, "workers")
    # a segment's array is reused once workers + 1 later segments are read: by then it is parsed
    segments = line_segments(file, segment_bytes, buffers=workers + 2)
    header = next(segments)
    names = pcsv.read_csv(
        pa.py_buffer(header), read_options=pcsv.ReadOptions(use_threads=False)
    ).column_names
    with ThreadPoolExecutor(workers, thread_name_prefix="csv_segments") as pool:
        flight: deque = deque()
        try:
            for segment in segments:
                flight.append(pool.submit(parse, segment, names))
                if len(flight) > workers:
                    yield flight.popleft().result()
            while flight:
                yield flight.popleft().result()
        finally:
            for future in flight:
                future.cancel()
            segments.close()
