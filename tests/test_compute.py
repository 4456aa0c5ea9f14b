"""Training compute (deployment_modes.compute): one quantity, rows and seconds, offline and serving."""

import numpy as np
import pytest
from river import metrics
from sklearn.linear_model import Ridge

import deployment_modes as dm


@pytest.fixture(scope="module")
def runs():
    sc = dm.scenarios.house_prices(seed=0, n_initial=100, n_stream=300)
    batch = dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=100), metrics.MAE())
    online = dm.simulate(
        sc, dm.OnlineDeployment(dm.online.sgd_model("regression", 0.001)), metrics.MAE()
    )
    minibatch = dm.simulate(
        sc,
        dm.OnlineDeployment(dm.online.sgd_model("regression", 0.001), batch_size=10),
        metrics.MAE(),
    )
    return batch, online, minibatch


def test_rows_count_every_fit_and_every_event_learned_in_place(runs):
    batch, online, minibatch = runs
    assert dm.cumulative_compute(batch)[-1] == 100 + 200 + 300 + 400
    assert dm.cumulative_compute(online)[-1] == 100 + 300
    assert dm.cumulative_compute(minibatch)[-1] == 100 + 300  # 30 updates of 10 events
    assert dm.cumulative_compute(batch, where="serving")[-1] == 0
    assert dm.cumulative_compute(online, where="offline")[-1] == 100  # the first training


def test_seconds_are_the_fits_logged_seconds_and_the_updates_learning_time(runs):
    batch, online, _ = runs
    fits = sum(e.seconds for e in batch.log if e.kind in ("train", "retrain"))
    assert dm.cumulative_compute(batch, "seconds")[-1] == pytest.approx(fits)
    serving = dm.cumulative_compute(online, "seconds", "serving")[-1]
    assert serving == pytest.approx(online.learn_seconds)  # every event was an update
    first = online.log[0].seconds
    assert dm.cumulative_compute(online, "seconds")[-1] == pytest.approx(first + serving)


@pytest.mark.parametrize("unit", ["rows", "seconds"])
def test_all_is_offline_plus_serving_and_never_decreases(runs, unit):
    for tl in runs:
        total = dm.cumulative_compute(tl, unit)
        parts = dm.cumulative_compute(tl, unit, "offline") + dm.cumulative_compute(
            tl, unit, "serving"
        )
        assert np.allclose(total, parts) and np.all(np.diff(total) >= 0)
        assert len(total) == len(tl)


def test_the_fast_batch_timeline_counts_as_the_simulated_one():
    sc = dm.scenarios.drifting_classification(seed=0, n_initial=200, n_stream=600, drift_at=300)
    from sklearn.linear_model import LogisticRegression

    fast = dm.experiments.batch_timeline(
        sc, LogisticRegression(), metrics.Accuracy(), retrain_every=200
    )
    slow = dm.simulate(
        sc, dm.BatchDeployment(LogisticRegression(), retrain_every=200), metrics.Accuracy()
    )
    assert list(dm.cumulative_compute(fast)) == list(dm.cumulative_compute(slow))
    assert dm.cumulative_compute(fast, "seconds")[-1] > 0


def test_bad_arguments_name_themselves(runs):
    batch, online, _ = runs
    with pytest.raises(TypeError, match="timeline"):
        dm.cumulative_compute([1, 2])
    with pytest.raises(ValueError, match="unit"):
        dm.cumulative_compute(batch, "minutes")
    with pytest.raises(ValueError, match="where"):
        dm.cumulative_compute(batch, where="cloud")
    untimed = dm.Timeline(**{**vars(online), "learn_seconds_each": None})
    with pytest.raises(ValueError, match="per-event learning times"):
        dm.cumulative_compute(untimed, "seconds")
    assert dm.cumulative_compute(untimed)[-1] == 400  # rows need no timing
