import threading

import numpy as np
import pytest

import deployment_modes as dm
from deployment_modes.read_ahead import read_ahead


def reader_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "read_ahead" and t.is_alive()]


@pytest.mark.parametrize("depth", [1, 3])
def test_every_item_once_in_order_and_the_error_where_it_happened(depth):
    def items():
        yield from range(50)
        raise KeyError("after 50")

    seen = []
    with pytest.raises(KeyError, match="after 50"):
        for item in read_ahead(items(), depth=depth):
            seen.append(item)
    assert seen == list(range(50))
    assert not reader_threads()


def test_at_most_depth_items_wait():
    produced = []

    def items():
        for i in range(100):
            produced.append(i)
            yield i

    stream = read_ahead(items(), depth=2)
    assert next(stream) == 0
    threading.Event().wait(0.3)  # give the thread time to run ahead as far as it may
    # one taken, two waiting in the queue, one read and held until there is room
    assert len(produced) <= 4
    stream.close()
    assert not reader_threads()


def test_breaking_off_stops_the_thread_and_the_reader(tmp_path):
    dm.corpus.write_numeric(tmp_path, n_rows=30_000, n_files=2, format="csv")
    chunks = iter(dm.read_chunks(tmp_path, "y", chunk_rows=1_000))
    assert len(next(chunks)[0]) == 1_000
    del chunks  # a loop broken off: the generator is closed
    assert not reader_threads()


def test_depth_is_checked():
    with pytest.raises(ValueError, match="depth"):
        list(read_ahead([1], depth=0))


def test_the_chunks_are_the_same_as_a_plain_read(tmp_path):
    """CSV and Parquet give the same rows, in the same chunks, as pandas reading the files."""
    import pandas as pd

    for fmt in ("csv", "parquet"):
        files = dm.corpus.write_numeric(tmp_path / fmt, n_rows=25_000, n_files=3, format=fmt)
        chunks = list(dm.read_chunks(tmp_path / fmt, "y", chunk_rows=4_000))
        data = pd.concat(
            [pd.read_csv(f) if fmt == "csv" else pd.read_parquet(f) for f in files],
            ignore_index=True,
        )
        assert [len(X) for X, _ in chunks] == [4_000] * 6 + [1_000]
        X = pd.concat([X for X, _ in chunks], ignore_index=True)
        np.testing.assert_array_equal(X.to_numpy(), data.drop(columns="y").to_numpy())
        np.testing.assert_array_equal(np.concatenate([y for _, y in chunks]), data["y"])
