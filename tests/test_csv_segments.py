"""A CSV file parsed in segments on several cores gives what one sequential read gives.

The segment size only changes how the work is cut: the same rows in the same chunks, the same
error naming the same row, the same rows skipped and counted.
"""

import numpy as np
import pandas as pd
import pytest

import deployment_modes as dm
import deployment_modes.csv_segments as segments
from deployment_modes.chunks import BadRowError
from deployment_modes.csv_segments import line_segments, parse_segments

SIZES = [7, 64, 5_000, None]  # None: the default size, one segment for these small files


@pytest.fixture()
def odd_csv(tmp_path):
    """CRLF line ends, a quoted label with a comma, a label longer than a small segment, no final newline."""
    rows = [
        f'{i},{i * 0.25},"{"long " * 40 if i == 7 else "a, b" if i % 3 else "c"}"'
        for i in range(60)
    ]
    path = tmp_path / "odd.csv"
    path.write_bytes(("x,z,label\r\n" + "\r\n".join(rows)).encode())
    return path


def chunks_with_segments(monkeypatch, size, *args, **kwargs):
    monkeypatch.setattr(segments, "SEGMENT_BYTES", size or 1 << 21)
    reader = dm.read_chunks(*args, **kwargs)
    return [(X.copy(), y.copy()) for X, y in reader], reader.skipped


@pytest.mark.parametrize("size", SIZES)
def test_the_chunks_do_not_depend_on_the_segment_size(monkeypatch, odd_csv, size):
    chunks, _ = chunks_with_segments(monkeypatch, size, odd_csv, "label", chunk_rows=8)
    expected = pd.read_csv(odd_csv)
    assert [len(X) for X, _ in chunks] == [8] * 7 + [4]
    X = pd.concat([X for X, _ in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(X, expected[["x", "z"]].astype(float))
    assert np.concatenate([y for _, y in chunks]).tolist() == expected["label"].tolist()


def test_segments_are_whole_lines_that_make_up_the_file(odd_csv):
    for size in (1, 5, 64, 10_000):
        parts = [bytes(s) for s in line_segments(odd_csv, segment_bytes=size, buffers=3)]
        assert b"".join(parts) == odd_csv.read_bytes()
        assert all(p.endswith(b"\n") for p in parts[:-1])


def test_an_error_in_a_segment_comes_after_the_segments_before_it(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(50)))

    def parse(segment, names):
        values = [int(v) for v in bytes(segment).split()]
        if 30 in values:
            raise ValueError("30 is bad")
        return values

    seen = []
    with pytest.raises(ValueError, match="30 is bad"):
        for values in parse_segments(path, parse, workers=3, segment_bytes=8):
            seen.extend(values)
    assert seen == list(range(len(seen))) and 25 <= len(seen) < 31


def write_rows(path, bad: dict):
    """12,000 rows ``i, i/2, i % 2``, with the lines in ``bad`` (data row number -> text) put in.

    The bad rows lie past the first 64 KiB, from which the column types are inferred.
    """
    lines = [f"{i},{i * 0.5},{i % 2}" for i in range(12_000)]
    for row, text in bad.items():
        lines[row - 1] = text
    path.write_text("a,b,label\n" + "\n".join(lines) + "\n")
    return path


BAD_ROWS = {
    "ill-typed": ({6_001: "6000,oops,0"}, "row 6001: a value does not have its column's type"),
    "short": ({8_001: "8000,1.5"}, "row 8001: expected 3 fields, found 2"),
    "missing": ({10_001: "10000,,1"}, "row 10001: a missing value"),
}


@pytest.mark.parametrize("kind", BAD_ROWS)
def test_a_bad_row_is_named_as_a_sequential_read_names_it(monkeypatch, tmp_path, kind):
    lines, message = BAD_ROWS[kind]
    path = write_rows(tmp_path / "bad.csv", lines)
    errors = []
    for size in SIZES:
        monkeypatch.setattr(segments, "SEGMENT_BYTES", size or 1 << 21)
        with pytest.raises(BadRowError) as found:
            list(dm.read_chunks(path, "label", chunk_rows=100))
        errors.append(str(found.value))
    assert message in errors[0] and str(path) in errors[0]
    assert errors == errors[:1] * len(SIZES)


def test_skipped_rows_are_counted_once_whatever_the_segments(monkeypatch, tmp_path):
    bad = {**BAD_ROWS["ill-typed"][0], **BAD_ROWS["short"][0]}
    path = write_rows(tmp_path / "bad.csv", bad)
    for size in SIZES:
        chunks, skipped = chunks_with_segments(
            monkeypatch, size, path, "label", chunk_rows=1_000, on_bad_rows="skip"
        )
        ids = np.concatenate([X["a"] for X, _ in chunks])
        assert skipped == 2 and len(ids) == 11_998
        assert not {6000, 8000} & set(ids) and np.all(np.diff(ids) > 0)


def test_segment_arguments_are_checked(odd_csv):
    with pytest.raises(ValueError, match="segment_bytes"):
        list(line_segments(odd_csv, segment_bytes=0))
    with pytest.raises(TypeError, match="workers"):
        list(parse_segments(odd_csv, lambda s, n: s, workers=1.5))
