import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deployment_modes as dm
from deployment_modes.chunks import BadRowError


def write(folder: Path, sizes, fmt: str) -> pd.DataFrame:
    """Files part-0.., with a running row id, a float feature and a label; returns all rows."""
    frames, start = [], 0
    for i, n in enumerate(sizes):
        frame = pd.DataFrame(
            {
                "rid": np.arange(start, start + n),
                "x": np.arange(start, start + n) * 0.5,
                "label": np.array(list("abc"))[np.arange(start, start + n) % 3],
            }
        )
        path = folder / f"part-{i:02d}.{fmt}"
        frame.to_parquet(path, row_group_size=7) if fmt == "parquet" else frame.to_csv(
            path, index=False
        )
        frames.append(frame)
        start += n
    return pd.concat(frames, ignore_index=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=4),
    chunk_rows=st.integers(1, 50),
    fmt=st.sampled_from(["csv", "parquet"]),
    shuffle=st.booleans(),
)
def test_every_row_exactly_once(sizes, chunk_rows, fmt, shuffle):
    with tempfile.TemporaryDirectory() as tmp:
        data = write(Path(tmp), sizes, fmt)
        chunks = list(
            dm.read_chunks(
                tmp, "label", chunk_rows=chunk_rows, shuffle=shuffle, seed=1, shuffle_buffer=9
            )
        )
        lengths = [len(X) for X, _ in chunks]
        assert all(n == chunk_rows for n in lengths[:-1]) and 1 <= lengths[-1] <= chunk_rows
        rid = np.concatenate([X["rid"].to_numpy() for X, _ in chunks])
        labels = np.concatenate([y for _, y in chunks])
        if shuffle:
            order = np.argsort(rid)
            rid, labels = rid[order], labels[order]
        np.testing.assert_array_equal(rid, data["rid"])
        np.testing.assert_array_equal(labels, data["label"])


def test_shuffle_is_seeded_and_mixes_across_chunks(tmp_path):
    write(tmp_path, [50, 50], "parquet")
    ids = lambda seed: np.concatenate(
        [
            X["rid"]
            for X, _ in dm.read_chunks(tmp_path, "label", chunk_rows=10, shuffle=True, seed=seed)
        ]
    )
    assert np.array_equal(ids(0), ids(0)) and not np.array_equal(ids(0), ids(1))
    assert not np.array_equal(ids(0), np.arange(100))


def test_a_list_of_files_and_one_file(tmp_path):
    write(tmp_path, [5, 6, 7], "csv")
    files = sorted(tmp_path.iterdir())
    assert sum(len(X) for X, _ in dm.read_chunks(files[1:], "label", chunk_rows=4)) == 13
    assert sum(len(X) for X, _ in dm.read_chunks(files[0], "label", chunk_rows=4)) == 5


def test_memory_budget_chooses_the_chunk_size(tmp_path):
    write(tmp_path, [200], "parquet")
    reader = dm.read_chunks(tmp_path, "label", memory_budget=10_000)
    per_row = reader.bytes_per_row()
    assert reader.chunk_rows == int(10_000 // per_row)
    X, y = next(iter(reader))
    assert X.memory_usage(deep=True, index=False).sum() + y.nbytes <= 10_000 * 1.5


def test_ints_become_float_features_and_the_target_keeps_its_type(tmp_path):
    pd.DataFrame({"a": [1, 2, 3], "y": [0, 1, 0]}).to_csv(tmp_path / "d.csv", index=False)
    X, y = next(iter(dm.read_chunks(tmp_path / "d.csv", "y")))
    assert X["a"].dtype == np.float64 and y.dtype == np.int64


@pytest.fixture()
def bad_csv(tmp_path):
    """A CSV longer than one read block, with an ill-typed value and a short row far from the top."""
    n = 30_000
    lines = ["a,b,label"] + [f"{i},{i * 0.5},{i % 2}" for i in range(n)]
    lines[25_001] = "25000,oops,0"
    lines[27_001] = "27000,1.5"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_bad_row_raises_naming_the_file_and_row(bad_csv):
    with pytest.raises(BadRowError, match=r"bad\.csv.*row 2[57]00[01]"):
        list(dm.read_chunks(bad_csv, "label", chunk_rows=1000))


def test_bad_rows_can_be_skipped_and_counted(bad_csv):
    reader = dm.read_chunks(bad_csv, "label", chunk_rows=1000, on_bad_rows="skip")
    ids = np.concatenate([X["a"] for X, _ in reader])
    assert reader.skipped == 2 and len(ids) == 29_998
    assert 25_000 not in ids and 27_000 not in ids and np.all(np.diff(ids) > 0)


def test_a_missing_value_is_a_bad_row(tmp_path):
    pd.DataFrame({"a": [1.0, None, 3.0], "y": [0, 1, 0]}).to_parquet(tmp_path / "d.parquet")
    with pytest.raises(BadRowError, match="row 2"):
        list(dm.read_chunks(tmp_path / "d.parquet", "y"))
    reader = dm.read_chunks(tmp_path / "d.parquet", "y", on_bad_rows="skip")
    assert [list(y) for _, y in reader] == [[0, 0]] and reader.skipped == 1


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"path": "nowhere.csv"}, FileNotFoundError, "nowhere"),
        ({"target": "price"}, ValueError, "target 'price'"),
        ({"chunk_rows": 0}, ValueError, "chunk_rows"),
        ({"chunk_rows": -3}, ValueError, "chunk_rows"),
        ({"chunk_rows": 2.5}, TypeError, "chunk_rows"),
        ({"memory_budget": 3}, ValueError, "memory_budget.*too small for one row"),
        ({"memory_budget": 100, "chunk_rows": 5}, ValueError, "not both"),
        ({"on_bad_rows": "ignore"}, ValueError, "on_bad_rows"),
        ({"columns": ["nope"]}, ValueError, "columns"),
        ({"path": 42}, TypeError, "path"),
    ],
)
def test_bad_inputs_fail_before_reading(tmp_path, kwargs, error, match):
    write(tmp_path, [10], "csv")
    args = {"path": tmp_path, "target": "label", **kwargs}
    with pytest.raises(error, match=match):
        dm.read_chunks(args.pop("path"), **args)


def test_an_empty_folder_and_a_wrong_suffix(tmp_path):
    with pytest.raises(ValueError, match="no .csv or .parquet"):
        dm.read_chunks(tmp_path, "y")
    (tmp_path / "d.txt").write_text("a\n1\n")
    with pytest.raises(ValueError, match="must end in"):
        dm.read_chunks(tmp_path / "d.txt", "y")


def test_progress_bar_counts_rows(tmp_path, capsys):
    write(tmp_path, [30], "parquet")
    assert (
        sum(len(X) for X, _ in dm.read_chunks(tmp_path, "label", chunk_rows=7, progress=True)) == 30
    )
    assert "30" in capsys.readouterr().err


def test_argument_checks_name_the_argument(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="columns must not hold the target 'y'"):
        dm.read_chunks(path, "y", columns=["a", "y"])
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        dm.read_chunks(path, "y", shuffle="no")
    with pytest.raises(TypeError, match="progress"):
        dm.read_chunks(path, "y", progress="yes")
    with pytest.raises(TypeError, match="columns"):
        dm.read_chunks(path, "y", columns=5)


@settings(max_examples=40, deadline=None)
@given(
    batch_sizes=st.lists(st.integers(0, 30), min_size=1, max_size=6),
    chunk_rows=st.integers(1, 40),
    target=st.sampled_from(["label", "code", None]),
)
def test_the_numeric_short_path_gives_the_chunks_of_the_table_path(batch_sizes, chunk_rows, target):
    """numeric_chunks (matrix filled from each batch) == fixed_size_tables then split_table."""
    import pyarrow as pa

    from deployment_modes.chunk_assembly import fixed_size_tables, numeric_chunks, split_table

    # the label typed, so that a first batch of 0 rows has the file's schema as a reader's does
    rng, start, batches = np.random.default_rng(chunk_rows), 0, []
    for n in batch_sizes:
        batches.append(
            pa.record_batch(
                {
                    "a": rng.normal(size=n),
                    "b": np.arange(start, start + n, dtype=float),
                    "label": pa.array(list("uvw" * n)[:n], type=pa.string()),
                    "code": pa.array(np.arange(start, start + n) % 3),
                }
            )
        )
        start += n
    schema = batches[0].schema
    fast = list(numeric_chunks(batches, chunk_rows, ["b", "a"], target))
    slow = [
        split_table(t, ["b", "a"], target) for t in fixed_size_tables(batches, chunk_rows, schema)
    ]
    assert len(fast) == len(slow)
    for (X, y), (X_slow, y_slow) in zip(fast, slow):
        pd.testing.assert_frame_equal(X, X_slow)
        assert X.to_numpy().flags.c_contiguous
        if target is None:
            assert y is None and y_slow is None
        else:
            assert y.dtype == y_slow.dtype and y.tolist() == y_slow.tolist()
