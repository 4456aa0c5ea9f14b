import numpy as np
import pandas as pd
import pytest

import deployment_modes as dm
from deployment_modes import scenarios

GENERATORS = [scenarios.house_prices, scenarios.drifting_classification, scenarios.movie_catalogue]


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(make):
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not a.X.equals(c.X)


@pytest.mark.parametrize("make", GENERATORS)
def test_stream_is_in_time_order_and_iterates_as_dicts(make):
    sc = make(seed=0)
    assert np.all(np.diff(sc.times) >= 0)
    events = list(sc)
    assert len(events) == len(sc) == len(sc.y)
    x, y = events[0]
    assert isinstance(x, dict) and list(x) == sc.features
    assert not isinstance(y, np.generic)
    X0, y0 = sc.initial
    assert list(X0.columns) == sc.features and len(X0) == len(y0) > 0


def test_generators_need_no_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a scenario tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    for make in GENERATORS:
        make(seed=1)


def test_drift_is_where_the_scenario_says():
    sc = scenarios.drifting_classification(seed=0, drift_at=1500)
    assert sc.drift_at == (1500,)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(*sc.initial)
    before = (model.predict(sc.X.iloc[:1500]) == sc.y[:1500]).mean()
    after = (model.predict(sc.X.iloc[1600:]) == sc.y[1600:]).mean()
    assert before > 0.9 and after < before - 0.15


def test_movie_catalogue_releases_new_titles_after_deployment():
    sc = scenarios.movie_catalogue(seed=0)
    new = set(sc.info["new_titles"])
    assert len(new) == 100 and not new & set(sc.y_initial)
    assert sc.info["release_day"][sorted(new)].min() >= 0
    assert np.isin(sc.y, list(new)).mean() > 0.1  # new releases are watched


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_stream": 0}, "n_stream"),
        ({"n_initial": -1}, "n_initial"),
        ({"n_stream": 2.5}, "n_stream"),
    ],
)
def test_bad_sizes_name_the_argument(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        scenarios.house_prices(**kwargs)


def test_drift_outside_the_stream_is_refused():
    with pytest.raises(ValueError, match="drift_at"):
        scenarios.drifting_classification(n_stream=100, drift_at=100)


def test_an_unsorted_stream_is_refused():
    sc = scenarios.house_prices(n_initial=10, n_stream=10)
    with pytest.raises(ValueError, match="time order"):
        dm.Scenario("x", "regression", sc.X_initial, sc.y_initial, sc.X, sc.y, sc.times[::-1])


def test_head_keeps_the_first_events():
    sc = scenarios.drifting_classification(n_stream=300, drift_at=200)
    short = sc.head(100)
    assert len(short) == 100 and short.drift_at == ()
    assert list(short)[5] == list(sc)[5]


def test_drift_far_into_a_long_stream_does_not_overflow():
    sc = scenarios.drifting_classification(n_initial=5000, n_stream=20000, drift_at=15000)
    assert len(sc) == 20000 and sc.drift_at == (15000,)


def test_drift_stream_draws_as_river_does():
    import itertools

    from river.datasets import synth

    ours = scenarios.drifting_classification(seed=1, n_initial=100, n_stream=400, drift_at=200)
    river_stream = synth.ConceptDriftStream(
        stream=synth.Hyperplane(seed=3, n_features=4, noise_percentage=0.05),
        drift_stream=synth.Hyperplane(seed=4, n_features=4, noise_percentage=0.05),
        position=300,
        width=50,
        seed=1,
    )
    labels = [int(y) for _, y in itertools.islice(river_stream, 500)]
    assert labels == list(ours.y_initial) + list(ours.y)


def test_a_scenario_yields_each_value_as_itertuples_gives_it_whatever_the_dtype():
    X = pd.DataFrame(
        {
            "f": [1.5, np.nan, 3.0],
            "i": [1, 2, 3],
            "b": [True, False, True],
            "o": ["a", None, "c"],
            "t": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
            "c": pd.Categorical(["x", "y", "x"]),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "s": pd.array(["p", None, "r"], dtype="string"),
            "u8": np.array([1, 2, 3], dtype=np.uint8),
            "f32": np.array([0.1, 0.2, 0.3], dtype=np.float32),
        }
    )
    sc = dm.Scenario("t", "classification", X, np.zeros(3), X, np.zeros(3), np.arange(3.0))
    rows = [dict(zip(X.columns, r)) for r in X.itertuples(index=False, name=None)]
    for (x, _), row in zip(sc, rows):
        assert [(type(v), repr(v)) for v in x.values()] == [
            (type(v), repr(v)) for v in row.values()
        ]
