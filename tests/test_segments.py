"""simulate_by_segments gives simulate's timeline; BatchDeployment.learn_segment is learn_one in turn."""

import copy
import re

import numpy as np
import pytest
from river import drift, metrics
from sklearn.linear_model import LogisticRegression, Ridge

import deployment_modes as dm
from deployment_modes.drift_kinds import drift_stream
from deployment_modes.lean import LeanLogisticRegression, LeanSGDClassifier
from deployment_modes.retraining import IgnoreColumns
from deployment_modes.segments import simulate_by_segments

DEPLOYMENTS = {
    "every": lambda: dm.BatchDeployment(LeanLogisticRegression(), retrain_every=97),
    "window": lambda: dm.BatchDeployment(LeanSGDClassifier(random_state=0), 100, window=300),
    "static": lambda: dm.BatchDeployment(LogisticRegression()),
    "alarm, collect": lambda: dm.BatchDeployment(
        LeanLogisticRegression(), window=150, trigger=dm.AlarmThenCollect(collect=150)
    ),
    "performance": lambda: dm.BatchDeployment(
        LeanSGDClassifier(random_state=0), window=300, trigger=dm.PerformanceTrigger(0.2, 100)
    ),
    "continue": lambda: dm.BatchDeployment(
        LeanSGDClassifier(random_state=0), 100, refit="continue"
    ),
    "every and ADWIN": lambda: dm.BatchDeployment(
        LogisticRegression(), retrain_every=400, trigger=drift.ADWIN()
    ),
}


def assert_same(fast, slow):
    assert fast.y_pred == slow.y_pred and fast.y_true == slow.y_true
    assert np.array_equal(fast.model_version, slow.model_version)
    assert np.array_equal(fast.rolling, slow.rolling, equal_nan=True)
    assert np.array_equal(fast.label_at, slow.label_at)
    assert [(e.at, e.kind, e.rows, e.detail) for e in fast.log] == [
        (e.at, e.kind, e.rows, e.detail) for e in slow.log
    ]
    assert (fast.score, fast.name, fast.drift_at) == (slow.score, slow.name, slow.drift_at)
    assert np.array_equal(fast.times, slow.times)
    assert len(fast.learn_seconds_each) == len(slow)


@pytest.mark.parametrize(
    "kind, delay",
    [(kind, delay) for kind in DEPLOYMENTS for delay in (None, 37)]
    + [(kind, delay) for kind in ("every", "alarm, collect") for delay in (1, 2000)],
)
def test_the_timeline_is_simulates(kind, delay):
    sc = dm.scenarios.drifting_classification(seed=1, n_initial=300, n_stream=600, drift_at=250)
    make = DEPLOYMENTS[kind]
    fast = simulate_by_segments(sc, make(), metrics.Accuracy(), delay=delay, window=50)
    assert_same(fast, dm.simulate(sc, make(), metrics.Accuracy(), delay=delay, window=50))


@pytest.mark.parametrize("delay", [None, 150])
def test_a_time_schedule_reads_the_events_time(delay):
    sc = drift_stream("sudden", 0, n_stream=800, drift_at=300, events_per_day=100.0)

    def make():
        model = IgnoreColumns(LeanSGDClassifier(random_state=0), [0])
        return dm.BatchDeployment(model, period=2.0, time_feature="day", window=300)

    fast = simulate_by_segments(sc, make(), metrics.Accuracy(), delay=delay, name="time")
    assert_same(fast, dm.simulate(sc, make(), metrics.Accuracy(), delay=delay, name="time"))


def test_a_list_of_events_and_a_deployment_trained_before():
    sc = dm.scenarios.drifting_classification(seed=2, n_initial=300, n_stream=700, drift_at=300)
    trained = DEPLOYMENTS["alarm, collect"]()
    trained.fit_initial(*sc.initial)
    events = list(sc)[:500]
    fast = simulate_by_segments(iter(events), copy.deepcopy(trained), metrics.Accuracy(), delay=50)
    assert_same(fast, dm.simulate(events, copy.deepcopy(trained), metrics.Accuracy(), delay=50))
    fast = simulate_by_segments(sc, copy.deepcopy(trained), metrics.Accuracy(), fit_initial=False)
    assert_same(
        fast, dm.simulate(sc, copy.deepcopy(trained), metrics.Accuracy(), fit_initial=False)
    )


def test_anything_else_is_simulated_as_it_is():
    houses = dm.scenarios.house_prices(n_initial=100, n_stream=300)
    batch = simulate_by_segments(houses, dm.BatchDeployment(Ridge(), 100), metrics.MAE())
    assert np.array_equal(
        batch.rolling,
        dm.simulate(houses, dm.BatchDeployment(Ridge(), 100), metrics.MAE()).rolling,
    )
    sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=200, drift_at=100)
    online = simulate_by_segments(
        sc, dm.OnlineDeployment(dm.sgd_model("classification", 0.05)), metrics.Accuracy()
    )
    assert online.name == "OnlineDeployment" and len(online) == 200
    with pytest.raises(ValueError, match="no label"):
        simulate_by_segments([({"x0": 1.0}, None)], trained_batch(), metrics.Accuracy())
    with pytest.raises(ValueError, match="finite"):
        simulate_by_segments([({"x0": float("nan")}, 1)], trained_batch(), metrics.Accuracy())


def trained_batch():
    dep = dm.BatchDeployment(LeanLogisticRegression(), retrain_every=2)
    dep.fit_initial([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    return dep


def test_learn_segment_stops_at_the_retrain_and_checks_every_event_first():
    dep = trained_batch()
    xs = [{"x0": 0.5}, {"x0": 2.5}, {"x0": 3.5}]
    assert dep.learn_segment(xs, [0, 1, 1], dep.predict_many([[0.5], [2.5], [3.5]])) == 2
    assert (dep.n_seen, dep.model_version) == (2, 2)
    with pytest.raises(ValueError, match="finite"):
        dep.learn_segment([{"x0": 1.0}, {"x0": float("inf")}], [0, 1], [0, 1])
    with pytest.raises(TypeError, match="class label"):
        dep.learn_segment([{"x0": 1.0}, {"x0": 2.0}], [0, "one"], [0, 1])
    with pytest.raises(ValueError, match="one entry per event"):
        dep.learn_segment([{"x0": 1.0}], [0, 1], [0])
    assert (dep.n_seen, dep.model_version) == (2, 2)  # nothing stored by a failed call
    assert dep.feature_names == ["x0"]


@pytest.mark.parametrize(
    "x, y",
    [
        ({"x0": float("nan")}, 1),
        ({"x0": 10**400}, 1),  # an int too large for a float: accepted, as learn_one does
        ({"x0": 1e308}, 1),  # finite, though a sum of the rows overflows
        ({"x0": True}, 1),
        ({"x0": "2"}, 1),
        ({"x1": 2.0}, 1),
        ({"x0": 2.0}, True),
        ({"x0": 2.0}, 1.0),
        ({"x0": 2}, 1),
    ],
)
def test_learn_segment_checks_each_event_as_learn_one_does(x, y):
    # the segment's checks in a few passes, else event by event: the same rows, the same error
    xs, ys = [{"x0": 1e308}, {"x0": 0.5}, x, {"x0": 3.0}], [0, 1, y, 1]
    one, segment = (
        dm.BatchDeployment(LeanLogisticRegression()),
        dm.BatchDeployment(LeanLogisticRegression()),
    )
    for dep in (one, segment):  # no retrain: every event is stored
        dep.fit_initial([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    try:
        for event, label in zip(xs, ys):
            one._checked(event, label)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error), match=re.escape(str(error))):
            segment.learn_segment(xs, ys, [0, 1, 1, 1])
        assert segment.n_seen == 0  # nothing stored by a failed call
        return
    assert segment.learn_segment(xs, ys, [0, 1, 1, 1]) == len(xs)
    for event, label in zip(xs, ys):
        one.learn_one(event, label)
    assert segment._rows == one._rows and segment._labels == one._labels
    assert [type(v) for row in segment._rows for v in row] == [
        type(v) for row in one._rows for v in row
    ]


@pytest.mark.parametrize("strategy", ["last", "majority", "mean"])
def test_a_baseline_answers_in_one_call_as_it_does_event_by_event(strategy):
    if strategy == "majority":
        sc, metric = (
            dm.scenarios.drifting_classification(n_initial=100, n_stream=400, drift_at=200),
            metrics.Accuracy(),
        )
    else:
        sc, metric = dm.scenarios.house_prices(n_initial=100, n_stream=400), metrics.MAE()
    fast = simulate_by_segments(sc, dm.NaiveBaseline(strategy), metric, window=50)
    assert_same(fast, dm.simulate(sc, dm.NaiveBaseline(strategy), metric, window=50))
    untrained = list(sc)[:50]  # no initial labels: no answer to the first event
    fast = simulate_by_segments(untrained, dm.NaiveBaseline(strategy), metric)
    assert fast.y_pred[0] is None
    assert_same(fast, dm.simulate(untrained, dm.NaiveBaseline(strategy), metric))


def test_recommendations_are_served_a_segment_at_a_time():
    movies = dm.scenarios.movie_catalogue(n_titles=50, n_new=5, n_initial=300, n_stream=900)

    def weekly():
        return dm.BatchDeployment(dm.TrendingRecommender(k=5), period=7, time_feature="day")

    fast = simulate_by_segments(movies, weekly(), dm.HitRate())
    assert_same(fast, dm.simulate(movies, weekly(), dm.HitRate()))


@pytest.mark.parametrize("source", ["events", {"x0": 1.0}, 42, []])
def test_a_bad_source_gets_simulates_error(source):
    with pytest.raises((TypeError, ValueError)) as fast:
        simulate_by_segments(source, trained_batch(), metrics.Accuracy())
    with pytest.raises((TypeError, ValueError)) as slow:
        dm.simulate(source, trained_batch(), metrics.Accuracy())
    assert str(fast.value) == str(slow.value)
