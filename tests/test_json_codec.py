"""The server's JSON (deployment_modes.json_codec) reads and writes what the json module does.

orjson is used only where its answer is json's: the values (and their types: an int stays an
int), and the errors, are json's, with orjson installed or not.
"""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deployment_modes import json_codec

orjson = pytest.importorskip("orjson")

NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-300, max_value=1e-300),
)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=20,
)


def same(a, b) -> bool:
    """Equal values of equal types (repr tells 1 from 1.0, -0.0 from 0.0, and nan equals nan)."""
    return repr(a) == repr(b)


def outcome(function, *args):
    try:
        return "value", function(*args)
    except (ValueError, TypeError, RecursionError) as error:
        return type(error).__name__, str(error)


@pytest.fixture(params=["orjson", "json alone"])
def codec(request, monkeypatch):
    if request.param == "json alone":
        monkeypatch.setattr(json_codec, "orjson", None)
    return json_codec


@settings(max_examples=300, deadline=None)
@given(VALUES, st.booleans())
def test_loads_gives_jsons_values_and_types(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    for data in (text.encode("utf-8", "surrogatepass"), text):
        assert repr(outcome(json_codec.loads, data)) == repr(outcome(json.loads, data))


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_dumps_reads_back_as_jsons_output_and_refuses_what_json_refuses(value):
    expected = outcome(lambda v: json.dumps(v, separators=(",", ":"), allow_nan=False), value)
    got = outcome(json_codec.dumps, value)
    if expected[0] != "value":
        assert got[0] == expected[0]
        return
    assert got[0] == "value"
    assert same(json.loads(got[1]), json.loads(expected[1]))


@pytest.mark.parametrize(
    "data",
    [
        b"123456789012345678901234567890",  # orjson: a float; json: this int
        b'{"y": -9223372036854775809}',
        b"[1.5, 12345678901234567890, 0.0013784966643798358]",
        b"[NaN, Infinity, -Infinity]",
        b"1e400",
        b'"\\ud800"',
        b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
        '{"a": 1}'.encode("utf-16"),
        b'{"a": 1, "a": 2}',
        b"[" * 5000 + b"]" * 5000,  # deeper than either parser goes
        b'{"x": }',
        b'"\xe9"',  # not UTF-8
        b"",
        b"0.1e1",
        b"-0.0",
    ],
)
def test_loads_edge_cases_as_json_reads_them(codec, data):
    assert repr(outcome(codec.loads, data)) == repr(outcome(json.loads, data))


@pytest.mark.parametrize(
    "value",
    [
        [math.nan],
        {"a": [math.inf]},
        {"a": None, "b": "null"},
        2**70,
        {1: "a"},
        "é\u2028\ud800",
        [1e-07, 1e16, -0.0, 5e-324],
        (1, 2),
        True,
    ],
)
def test_dumps_edge_cases_as_json_writes_them(codec, value):
    expected = outcome(lambda v: json.dumps(v, separators=(",", ":"), allow_nan=False), value)
    got = outcome(codec.dumps, value)
    assert got[0] == expected[0]
    if got[0] == "value":
        assert same(json.loads(got[1]), json.loads(expected[1]))


def test_a_log_record_is_written_by_orjson_and_reads_back_the_same():
    record = {"kind": "learn", "events": [[[0.1, 1e-07, 2.5e300], 1], [[0.0, -0.0, 3.0], "é"]]}
    data = json_codec.dumps({**record, "seq": 7})
    assert data == orjson.dumps({**record, "seq": 7})  # the fast path was taken
    assert json.loads(data) == {**record, "seq": 7}
