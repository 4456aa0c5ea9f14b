"""Naive baselines: the last label, the majority class, the mean, as deployments on the shared timeline."""

import collections
import random

import numpy as np
import pytest
from river import dummy, metrics

import deployment_modes as dm
from deployment_modes.drift_kinds import drift_stream


def test_last_equals_rivers_no_change_classifier_on_a_stream():
    sc = drift_stream("sudden", 0, n_stream=500, drift_at=200)
    ours = dm.simulate(sc, dm.NaiveBaseline("last"), metrics.Accuracy())
    river_model = dummy.NoChangeClassifier()
    river_model.learn_one({}, int(sc.y_initial[-1]))
    theirs = []
    for x, y in sc:
        theirs.append(river_model.predict_one(x))
        river_model.learn_one(x, y)
    assert ours.y_pred == theirs


def test_majority_counts_the_initial_labels_and_every_new_one():
    base = dm.NaiveBaseline("majority")
    base.fit_initial([[0], [0], [0]], ["a", "a", "b"])
    assert base.predict_one({"x0": 1}) == "a"
    for _ in range(2):
        base.learn_one({"x0": 1}, "b")
    assert base.predict_one({"x0": 1}) == "b" and base.n_seen == 2 and base.model_version == 1


def test_mean_and_last_value_on_real_prices():
    apple = dm.scenarios.stock_prices("apple", lags=5, n_initial=450)
    last = dm.simulate(apple, dm.NaiveBaseline("last"), metrics.MAE())
    # the last value is the price one day before: the lag_1 feature
    np.testing.assert_allclose(last.y_pred, apple.X["lag_1"].to_numpy())
    mean = dm.simulate(apple, dm.NaiveBaseline("mean"), metrics.MAE())
    assert mean.y_pred[0] == pytest.approx(np.mean(apple.y_initial))
    assert (
        last.score < mean.score
    )  # prices wander: yesterday's is a far better guess than the average


def test_on_balanced_independent_events_the_baselines_are_at_chance():
    for seed in range(3):
        sc = drift_stream("sudden", seed, n_stream=1000, drift_at=500)
        for strategy in ("last", "majority"):
            assert (
                abs(dm.simulate(sc, dm.NaiveBaseline(strategy), metrics.Accuracy()).score - 0.5)
                < 0.06
            )


def test_bad_input_raises_and_changes_nothing():
    with pytest.raises(ValueError, match="strategy"):
        dm.NaiveBaseline("median")
    base = dm.NaiveBaseline("mean")
    with pytest.raises(TypeError, match="y"):
        base.fit_initial([[0], [1]], ["a", "b"])
    with pytest.raises(ValueError, match="one label per row"):
        base.fit_initial([[0], [1]], [1.0])
    base.fit_initial([[0], [1]], [1.0, 3.0])
    with pytest.raises(TypeError, match="y"):
        base.learn_one({"x0": 1}, float("nan"))
    with pytest.raises(TypeError, match="x"):
        base.learn_one([1], 2.0)
    assert base.predict_one({"x0": 0}) == 2.0 and base.n_seen == 0
    major = dm.NaiveBaseline("majority")
    major.fit_initial([[0]], [1])
    with pytest.raises(TypeError, match="class label"):
        major.learn_one({"x0": 0}, 1.5)
    assert isinstance(dm.NaiveBaseline(), dm.Deployment)


def test_the_majority_is_counters_most_common_ties_to_the_first_counted():
    rng = random.Random(0)
    labels = [rng.choice([0, 1, 2]) for _ in range(300)]
    base = dm.NaiveBaseline("majority")
    base.fit_initial([[0.0]] * 3, labels[:3])
    counts = collections.Counter(labels[:3])
    for y in labels[3:]:
        assert base.predict_one({"x0": 0.0}) == counts.most_common(1)[0][0]
        base.learn_one({"x0": 0.0}, y)
        counts[y] += 1
