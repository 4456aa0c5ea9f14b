"""A CSV file read in blocks (by pandas' C parser when all its columns are numbers, else by Arrow's
streaming reader, blocks parsed on several cores) gives what one sequential read gives.

The block size only changes how the work is cut: the same rows in the same chunks, the same
error naming the same row, the same rows skipped and counted. The column types come from the
file's first rows; a value there that is not a number does not turn a number column into text.
"""

import numpy as np
import pandas as pd
import pytest

import deployment_modes as dm
import deployment_modes.chunk_files as chunk_files
import deployment_modes.csv_numbers as csv_numbers
from deployment_modes.chunks import BadRowError

SIZES = [256, 5_000, None]  # None: the default size, one block for these small files


def set_block_size(monkeypatch, size):
    """Blocks of ``size`` bytes for Arrow's reader, of ``size / 8`` values for pandas' parser."""
    monkeypatch.setattr(chunk_files, "CSV_BLOCK_BYTES", size or 1 << 19)
    monkeypatch.setattr(csv_numbers, "READ_VALUES", (size or 1 << 22) // 8)


@pytest.fixture()
def odd_csv(tmp_path):
    """CRLF line ends, a quoted label with a comma, a label longer than a small block, no final newline."""
    rows = [
        f'{i},{i * 0.25},"{"long " * 40 if i == 7 else "a, b" if i % 3 else "c"}"'
        for i in range(60)
    ]
    path = tmp_path / "odd.csv"
    path.write_bytes(("x,z,label\r\n" + "\r\n".join(rows)).encode())
    return path


def chunks_with_blocks(monkeypatch, size, *args, **kwargs):
    set_block_size(monkeypatch, size)
    reader = dm.read_chunks(*args, **kwargs)
    return [(X.copy(), y.copy()) for X, y in reader], reader.skipped


@pytest.mark.parametrize("size", SIZES)
def test_the_chunks_do_not_depend_on_the_block_size(monkeypatch, odd_csv, size):
    chunks, _ = chunks_with_blocks(monkeypatch, size, odd_csv, "label", chunk_rows=8)
    expected = pd.read_csv(odd_csv)
    assert [len(X) for X, _ in chunks] == [8] * 7 + [4]
    X = pd.concat([X for X, _ in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(X, expected[["x", "z"]].astype(float))
    assert np.concatenate([y for _, y in chunks]).tolist() == expected["label"].tolist()


def write_rows(path, bad: dict, n: int = 12_000):
    """``n`` rows ``i, i/2, i % 2``, with the lines in ``bad`` (data row number -> text) put in."""
    lines = [f"{i},{i * 0.5},{i % 2}" for i in range(n)]
    for row, text in bad.items():
        lines[row - 1] = text
    path.write_text("a,b,label\n" + "\n".join(lines) + "\n")
    return path


# past the first 64 KiB (~5,000 rows), from which the column types are inferred
BAD_ROWS = {
    "ill-typed": ({6_001: "6000,oops,0"}, "row 6001: a value does not have its column's type"),
    "short": ({8_001: "8000,1.5"}, "row 8001: expected 3 fields, found 2"),
    "missing": ({10_001: "10000,,1"}, "row 10001: a missing value"),
    "NA": ({10_001: "10000,NA,1"}, "row 10001: a missing value"),
    "long": ({7_001: "7000,3500.0,0,9"}, "row 7001: expected 3 fields, found 4"),
    "long first": ({1: "0,0.0,0,9"}, "row 1: expected 3 fields, found 4"),
    "spaces": ({9_001: "   "}, "row 9001: expected 3 fields, found 1"),
    "fraction label": ({9_001: "9000,4500.0,0.5"}, "row 9001: a value does not have"),
}


@pytest.mark.parametrize("kind", BAD_ROWS)
def test_a_bad_row_is_named_as_a_sequential_read_names_it(monkeypatch, tmp_path, kind):
    lines, message = BAD_ROWS[kind]
    path = write_rows(tmp_path / "bad.csv", lines)
    errors = []
    for size in SIZES:
        set_block_size(monkeypatch, size)
        with pytest.raises(BadRowError) as found:
            list(dm.read_chunks(path, "label", chunk_rows=100))
        errors.append(str(found.value))
    assert message in errors[0] and str(path) in errors[0]
    assert errors == errors[:1] * len(SIZES)


def test_skipped_rows_are_counted_once_whatever_the_blocks(monkeypatch, tmp_path):
    bad = {**BAD_ROWS["ill-typed"][0], **BAD_ROWS["short"][0], 11_001: "11000,1.5"}
    path = write_rows(tmp_path / "bad.csv", bad)
    for size in SIZES:
        chunks, skipped = chunks_with_blocks(
            monkeypatch, size, path, "label", chunk_rows=1_000, on_bad_rows="skip"
        )
        ids = np.concatenate([X["a"] for X, _ in chunks])
        assert skipped == 3 and len(ids) == 11_997
        assert not {6000, 8000, 11000} & set(ids) and np.all(np.diff(ids) > 0)


@pytest.mark.parametrize("row", [2, 40, 3_000])
def test_an_ill_typed_value_in_the_first_rows_is_a_bad_row_not_a_text_column(tmp_path, row):
    path = write_rows(tmp_path / "early.csv", {row: f"{row - 1},oops,0"}, n=3_000)
    with pytest.raises(BadRowError, match=rf"early\.csv.*row {row}: a value does not have"):
        list(dm.read_chunks(path, "label", chunk_rows=500))
    reader = dm.read_chunks(path, "label", chunk_rows=500, on_bad_rows="skip")
    chunks = list(reader)
    assert all(X["b"].dtype == np.float64 for X, _ in chunks)
    assert reader.skipped == 1 and sum(len(X) for X, _ in chunks) == 2_999
    assert all(y.dtype == np.int64 for _, y in chunks)


def test_an_ill_typed_label_in_the_first_rows_is_a_bad_row(tmp_path):
    path = write_rows(tmp_path / "early.csv", {5: "4,2.0,spam"}, n=1_000)
    with pytest.raises(BadRowError, match="row 5: a value does not have"):
        list(dm.read_chunks(path, "label"))


def test_a_text_column_with_a_few_numbers_stays_text(tmp_path):
    words = ["spam", "eggs", "42", "ham", "7", "bacon"] * 100
    pd.DataFrame({"x": np.arange(600) * 0.5, "word": words, "label": [0, 1] * 300}).to_csv(
        tmp_path / "d.csv", index=False
    )
    reader = dm.read_chunks(tmp_path / "d.csv", "label", chunk_rows=1_000)
    assert reader.schema.field("word").type == "string"
    ((X, y),) = list(reader)
    assert X["word"].tolist() == words


@pytest.mark.parametrize("size", SIZES)
def test_numbers_are_read_as_pandas_reads_them(monkeypatch, tmp_path, size):
    files = dm.corpus.write_numeric(tmp_path, n_rows=3_000, n_files=3, format="csv")
    chunks, _ = chunks_with_blocks(monkeypatch, size, tmp_path, "y", chunk_rows=700)
    assert [len(X) for X, _ in chunks] == [700] * 4 + [200]  # chunks run across the files
    expected = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    X = np.concatenate([X.to_numpy() for X, _ in chunks])
    assert np.array_equal(X, expected.drop(columns="y").to_numpy())  # to the last bit
    assert np.concatenate([y for _, y in chunks]).tolist() == expected["y"].tolist()


def test_an_empty_line_is_skipped_and_a_bad_row_after_it_named(monkeypatch, tmp_path):
    path = write_rows(tmp_path / "gaps.csv", {})
    text = path.read_text().replace("\n3000,", "\n\n3000,")  # an empty line before row 3001
    path.write_text(text + "\n")  # and one at the end
    for size in SIZES:
        chunks, skipped = chunks_with_blocks(monkeypatch, size, path, "label", chunk_rows=5_000)
        ids = np.concatenate([X["a"] for X, _ in chunks])
        assert skipped == 0 and np.array_equal(ids, np.arange(12_000))
    path.write_text(text.replace("\n6000,3000.0,", "\n6000,oops,"))
    with pytest.raises(BadRowError, match="row 6001: a value does not have"):
        list(dm.read_chunks(path, "label"))


def test_a_column_of_codes_given_as_text_keeps_them(tmp_path):
    codes = [f"{i:03d}" for i in range(8_000)]
    codes[7_000] = "A12"  # past the first rows, from which the types are inferred
    path = tmp_path / "codes.csv"
    pd.DataFrame({"code": codes, "x": np.arange(8_000) * 0.5, "y": [0, 1] * 4_000}).to_csv(
        path, index=False
    )
    with pytest.raises(BadRowError, match="row 7001: a value does not have"):
        list(dm.read_chunks(path, "y", chunk_rows=3_000))
    chunks = list(dm.read_chunks(path, "y", chunk_rows=3_000, dtype={"code": str}))
    assert pd.concat([X for X, _ in chunks])["code"].tolist() == codes
    assert all(X["x"].dtype == np.float64 for X, _ in chunks)
