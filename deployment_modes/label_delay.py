"""Labels that arrive late: the order in which predictions are asked and labels come back.

A deployed model predicts when an event arrives; its true label comes back later (a click in
seconds, a fraud confirmed in weeks). :func:`arrival_order` turns a stream of ``(x, y)`` pairs
into that order, with the semantics of river's ``stream.simulate_qa``: event ``i`` arrives at its
moment ``t_i`` (its position ``i``, or a time read from the event); its label is due at
``t_i + delay`` and is revealed just before the first later event whose moment is at least that,
in due order (ties in arrival order); labels still pending at the end come back then.

So with ``moment=None`` and ``delay=k`` events, the label of event ``i`` is revealed just before
event ``i + k`` is predicted: ``k = 0`` and ``k = 1`` both mean "before the next prediction".

Defined in the Late labels chapter (``book/late_labels.ipynb``); :func:`~deployment_modes.simulate`
walks this order.
"""

from __future__ import annotations

import datetime as dt
import heapq
import numbers
from collections import deque
from collections.abc import Callable, Iterable, Iterator

__all__ = ["arrival_order", "check_timing"]


def _moment_function(moment) -> Callable | None:
    if moment is None:
        return None
    if isinstance(moment, str):

        def read(x):
            try:
                return x[moment]
            except (KeyError, TypeError):
                raise ValueError(
                    f"moment names the feature {moment!r}, which the event {x!r} does not have"
                ) from None

        return read
    if callable(moment):
        return moment
    raise TypeError(
        f"moment must be None, a feature name or a callable moment(x), got {type(moment).__name__}"
    )


def _delay_function(delay, timed: bool) -> Callable:
    if delay is None:
        return lambda x, y: 0
    if isinstance(delay, str):
        if not timed:
            raise ValueError(
                "delay names a feature, which only makes sense with a moment: give moment= too"
            )
        return lambda x, y: x[delay]
    if callable(delay):
        return delay
    if isinstance(delay, bool):
        raise TypeError(
            f"delay must be a number of events, a duration or a callable, got {delay!r}"
        )
    if not timed:
        if not isinstance(delay, numbers.Integral):
            raise TypeError(
                f"delay must be an int (a number of events) when moment is None, "
                f"got {type(delay).__name__} {delay!r}"
            )
        if delay < 0:
            raise ValueError(f"delay must be >= 0 events, got {delay!r}")
        return lambda x, y: int(delay)
    if isinstance(delay, dt.timedelta):
        if delay < dt.timedelta(0):
            raise ValueError(f"delay must not be negative, got {delay!r}")
    elif isinstance(delay, numbers.Real):
        if not delay >= 0:
            raise ValueError(f"delay must be a number >= 0, got {delay!r}")
    else:
        raise TypeError(
            f"delay must be a number, a timedelta, a feature name or a callable delay(x, y), "
            f"got {type(delay).__name__}"
        )
    return lambda x, y: delay


def check_timing(moment=None, delay=None) -> tuple[Callable | None, Callable]:
    """Check ``moment`` and ``delay`` (see :func:`arrival_order`); return them as functions.

    Parameters
    ----------
    moment, delay
        As in :func:`arrival_order`.

    Examples
    --------
    >>> moment, delay = check_timing(None, 3)
    >>> moment, delay({"a": 1}, 0)
    (None, 3)
    >>> check_timing(None, 2.5)
    Traceback (most recent call last):
    ...
    TypeError: delay must be an int (a number of events) when moment is None, got float 2.5
    """
    read = _moment_function(moment)
    return read, _delay_function(delay, read is not None)


def arrival_order(stream: Iterable, *, moment=None, delay=None) -> Iterator[tuple]:
    """Yield ``(i, x, None)`` when event ``i`` arrives and ``(i, x, y)`` when its label does.

    Parameters
    ----------
    stream
        ``(x, y)`` pairs in time order.
    moment
        When an event happens: ``None`` (its position in the stream), the name of a feature of
        ``x`` (a number or a datetime), or a callable ``moment(x)``. Moments must not decrease.
    delay
        How long until the label comes back: ``None`` (at once), an int of events (when
        ``moment`` is None), a number or ``timedelta`` added to the moment, the name of a
        feature holding it, or a callable ``delay(x, y)``.

    Examples
    --------
    >>> events = [({"t": t}, t * 10) for t in (0, 1, 2, 3)]
    >>> [(i, y) for i, x, y in arrival_order(events, delay=2)]
    [(0, None), (1, None), (0, 0), (2, None), (1, 10), (3, None), (2, 20), (3, 30)]
    >>> slow_first = lambda x, y: 3 if x["t"] == 0 else 0  # the first label takes 3 time units
    >>> [(i, y) for i, x, y in arrival_order(events, moment="t", delay=slow_first)]
    [(0, None), (1, None), (1, 10), (2, None), (2, 20), (0, 0), (3, None), (3, 30)]
    """
    read_moment, read_delay = check_timing(moment, delay)
    if read_moment is None and (delay is None or isinstance(delay, numbers.Integral)):
        yield from _fixed_delay_order(stream, 0 if delay is None else int(delay))
        return
    pending: list = []  # a heap of (due, i, x, y): i is unique, so x is never compared
    previous = None
    for i, event in enumerate(stream):
        x, y = _pair(event)
        now = i if read_moment is None else read_moment(x)
        if previous is not None and now < previous:
            raise ValueError(
                f"moment must not decrease along the stream: event {i} is at {now!r}, "
                f"after {previous!r}"
            )
        previous = now
        wait = read_delay(x, y)
        due = now + wait
        if due < now:
            raise ValueError(f"delay must not be negative, got {wait!r} for event {i}")
        while pending and pending[0][0] <= now:
            _, j, x_old, y_old = heapq.heappop(pending)
            yield j, x_old, y_old
        heapq.heappush(pending, (due, i, x, y))
        yield i, x, None
    while pending:
        _, j, x_old, y_old = heapq.heappop(pending)
        yield j, x_old, y_old


def _pair(event) -> tuple:
    if type(event) is not tuple or len(event) != 2:
        if not isinstance(event, (tuple, list)) or len(event) != 2:
            raise TypeError(
                f"source must yield (x, y) pairs, got {type(event).__name__} {event!r:.60}"
            )
    return event


def _fixed_delay_order(stream: Iterable, wait: int) -> Iterator[tuple]:
    """:func:`arrival_order` when every label is ``wait`` events late: the labels come back first in, first out."""
    pending: deque = deque()  # (i, x, y), due at i + wait: in arrival order, so in due order
    for i, event in enumerate(stream):
        if type(event) is not tuple or len(event) != 2:
            event = _pair(event)
        x, y = event
        while pending and pending[0][0] + wait <= i:
            yield pending.popleft()
        pending.append((i, x, y))
        yield i, x, None
    while pending:
        yield pending.popleft()
