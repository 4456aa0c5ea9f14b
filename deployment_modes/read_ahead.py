"""Reading ahead: the next items of an iterator produced in a background thread while the caller works.

Parsing a CSV block (pandas' C parser or Arrow's) or decoding a Parquet page runs without
Python's global lock, and so does most of a ``partial_fit``: with the reading in a thread of
its own, reading the next chunk and learning from this one overlap on two cores, where a plain loop
(pandas' ``read_csv(chunksize=)`` then ``partial_fit``) does one after the other. The items
come out in the iterator's order, each exactly once, and an error raised by the iterator is
raised to the caller at the same place in the sequence. At most ``depth`` items wait in
memory.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import queue
import threading

from ._checks import positive_int

__all__ = ["read_ahead"]

_END = object()


def read_ahead(iterable, depth: int = 2):
    """Iterate ``iterable`` with up to ``depth`` items read ahead in a background thread.

    The same items in the same order as ``iter(iterable)``; an exception it raises is
    raised here, after the items that came before it. Stopping early (``break``, or closing
    the generator) stops the thread after at most one more item.

    Parameters
    ----------
    iterable
        Any iterable; its ``next()`` runs in the background thread.
    depth
        Items read ahead at most (held in memory while they wait).

    Examples
    --------
    >>> list(read_ahead(range(5)))
    [0, 1, 2, 3, 4]
    >>> def failing():
    ...     yield 1
    ...     raise ValueError("row 2 is bad")
    >>> seen = []
    >>> try:
    ...     for item in read_ahead(failing()):
    ...         seen.append(item)
    ... except ValueError as error:
    ...     print(seen, error)
    [1] row 2 is bad
    """
    depth = positive_int(depth, "depth")
    iterator = iter(iterable)
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        waiting.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            outcome = (_END, None)
        except BaseException as error:  # handed to the caller, raised there
            outcome = (_END, error)
        while not stop.is_set():
            try:
                waiting.put(outcome, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=produce, name="read_ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = waiting.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()
