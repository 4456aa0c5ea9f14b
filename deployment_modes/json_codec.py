"""JSON as the standard library reads and writes it, several times faster where orjson agrees.

The model server parses every request body and writes every write-ahead log record as JSON: for a
``/learn_many`` of 1,000 events, the ``json`` module takes about as long for the two as the checks
of the events do. orjson (the server extra installs it) parses such a body about 4 times faster and
writes such a record about 40 times faster. :func:`loads` and :func:`dumps` use it only where its
answer is the one ``json`` gives, and ``json`` everywhere else, so the values and the errors are
``json``'s whether orjson is installed or not:

- :func:`loads`: orjson refuses what is not strict JSON in UTF-8 (NaN and Infinity, a number too
  large for a double, other encodings, lone surrogates, deep nesting), and ``json.loads`` then
  reads it, or raises its own error. An integer of more than 18 digits, which orjson would read
  as a float where ``json`` gives an int, sends the text to ``json`` before orjson sees it.
- :func:`dumps`: compact JSON (no spaces) that refuses NaN and infinity, as ``json.dumps`` with
  ``allow_nan=False`` does. orjson writes them as ``null``, so an output holding ``null`` is made
  again by ``json`` (which raises for NaN and writes None as ``null``); what orjson does not
  write (an int beyond 64 bits, a numpy scalar, a key that is not a string) goes to ``json`` too.
  The bytes may spell a value otherwise (``1e-7`` for ``1e-07``, UTF-8 rather than ``\\u``
  escapes): they read back as the same values.

Defined for the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import json

try:
    import orjson
except ImportError:  # a learner's install without the server extra: json alone, same results
    orjson = None

__all__ = ["dumps", "loads"]

_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
# a digit becomes 0, a dot stays, anything else becomes a space: an integer part of 19 digits or
# more is then a space and 19 zeros (a float's fraction often has 19 digits: 0.0013784966643798358)
_SHAPE = bytes(48 if 48 <= b <= 57 else 46 if b == 46 else 32 for b in range(256))
_LONG_INTEGER = b" " + b"0" * 19
# what orjson would write otherwise than json (or json refuses): handed to json, which decides
_PASSTHROUGH = (
    0
    if orjson is None
    else orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _long_integer(data: bytes) -> bool:
    """Whether ``data`` may hold an integer of 19 digits or more (orjson reads some as floats)."""
    return _LONG_INTEGER in b" " + data.translate(_SHAPE)


def loads(data):
    """The value of the JSON text ``data``, as ``json.loads`` reads it (orjson reads only bytes).

    Parameters
    ----------
    data
        JSON text: bytes (UTF-8, or another encoding ``json.loads`` detects) or str.

    Raises
    ------
    ValueError
        ``json.loads``'s error (a ``json.JSONDecodeError``, or a ``UnicodeDecodeError``) for what
        is not JSON.

    Examples
    --------
    >>> loads(b'{"x": {"x0": 0.5}, "y": 1}')
    {'x': {'x0': 0.5}, 'y': 1}
    >>> loads(b"[NaN, 123456789012345678901234567890]")  # json's answers, which orjson would not give
    [nan, 123456789012345678901234567890]
    """
    if orjson is not None and type(data) is bytes and not _long_integer(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json reads it, or says what is wrong with it
    return json.loads(data)


def dumps(value) -> bytes:
    """``value`` as compact JSON bytes, refusing NaN and infinity as ``json`` with ``allow_nan=False`` does.

    Parameters
    ----------
    value
        JSON values: dicts, lists, tuples, strings, numbers, booleans and None.

    Raises
    ------
    ValueError
        For a NaN or an infinite float.
    TypeError
        For what is not a JSON value.

    Examples
    --------
    >>> dumps({"seq": 1, "events": [[[0.5, 2.0], True]]})
    b'{"seq":1,"events":[[[0.5,2.0],true]]}'
    >>> dumps([float("nan")])
    Traceback (most recent call last):
    ValueError: Out of range float values are not JSON compliant
    """
    if orjson is not None:
        try:
            data = orjson.dumps(value, option=_PASSTHROUGH)
        except TypeError:  # not a value orjson writes as json does: json decides
            pass
        else:
            if b"null" not in data:  # NaN and infinity come out of orjson as null
                return data
    return _ENCODER.encode(value).encode()
