"""Scenarios of the four kinds of drift: seeded, with the drift positions and the concept of every event known."""

import numpy as np
import pandas as pd
import pytest

from deployment_modes import drift_kinds
from deployment_modes.drift_kinds import KINDS, drift_stream


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_stream_other_seed_other_stream(kind):
    a, b, c = drift_stream(kind, 3), drift_stream(kind, 3), drift_stream(kind, 4)
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not a.X.equals(c.X)


def _changed(sc, start, stop):
    return sc.info["concept_angle"][start:stop]


def test_sudden_changes_at_once_at_the_drift():
    sc = drift_stream("sudden", 0, n_stream=1000, drift_at=400, angle=60)
    assert sc.drift_at == (400,) and sc.info["settled_at"] == (400,)
    assert np.all(_changed(sc, 0, 400) == 0) and np.allclose(_changed(sc, 400, None), 60)


def test_gradual_alternates_the_two_concepts_more_and_more_often():
    sc = drift_stream("gradual", 0, n_stream=2000, drift_at=400, width=800)
    angles = sc.info["concept_angle"]
    assert set(np.round(angles, 6)) == {0.0, 90.0}  # only the two concepts, never one in between
    share = [np.mean(angles[s : s + 200] > 0) for s in range(400, 1200, 200)]
    assert share == sorted(share) and share[0] < 0.3 and share[-1] > 0.7
    assert (
        np.all(angles[:400] == 0)
        and np.all(angles[1200:] == 90)
        and sc.info["settled_at"] == (1200,)
    )


def test_incremental_moves_the_concept_step_by_step():
    sc = drift_stream("incremental", 0, n_stream=1000, drift_at=200, width=400)
    angles = sc.info["concept_angle"]
    assert np.all(np.diff(angles) >= 0) and np.all(np.diff(angles[200:600]) > 0)
    assert angles[199] == 0 and angles[400] == pytest.approx(45) and np.all(angles[600:] == 90)


def test_recurring_goes_a_then_b_then_a_again():
    sc = drift_stream("recurring", 0, n_stream=1000, drift_at=300, recur_at=650)
    angles = sc.info["concept_angle"]
    assert sc.drift_at == (300, 650)
    assert np.all(angles[:300] == 0) and np.all(angles[300:650] == 90) and np.all(angles[650:] == 0)
    assert drift_stream("recurring", 0, n_stream=1000, drift_at=300).drift_at == (
        300,
        650,
    )  # halfway by default


@pytest.mark.parametrize("angle", [30, 90, 180])
def test_the_angle_sets_the_share_of_labels_that_change(angle):
    # concept B labels a share angle/180 of the feature space differently from concept A
    sc = drift_stream(
        "sudden", 1, n_initial=100, n_stream=20000, drift_at=100, angle=angle, noise=0.0
    )
    from sklearn.linear_model import LogisticRegression

    before = drift_stream(
        "sudden", 1, n_initial=5000, n_stream=200, drift_at=199, angle=angle, noise=0.0
    )
    model = LogisticRegression(C=1e6).fit(before.X_initial.to_numpy(), before.y_initial)
    disagreement = np.mean(model.predict(sc.X.to_numpy()[100:]) != sc.y[100:])
    assert disagreement == pytest.approx(angle / 180, abs=0.03)


def test_noise_flips_that_share_of_labels():
    clean = drift_stream("sudden", 2, n_stream=20000, drift_at=100, noise=0.0)
    noisy = drift_stream("sudden", 2, n_stream=20000, drift_at=100, noise=0.1)
    pd.testing.assert_frame_equal(clean.X, noisy.X)
    assert np.mean(clean.y != noisy.y) == pytest.approx(0.1, abs=0.01)


def test_events_per_day_adds_arrival_times_as_a_day_feature():
    sc = drift_stream("sudden", 0, n_stream=2000, drift_at=500, events_per_day=100.0)
    assert sc.features[0] == "day" and np.all(np.diff(sc.times) > 0)
    np.testing.assert_allclose(sc.X["day"], sc.times.round(4))
    assert sc.times[-1] == pytest.approx(20, rel=0.1)  # 2,000 events at 100 a day
    assert "day" not in drift_stream("sudden", 0).features


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"kind": "seasonal"}, "kind"),
        ({"drift_at": 1500}, "drift_at"),
        ({"angle": 0}, "angle"),
        ({"angle": 200}, "angle"),
        ({"noise": 0.7}, "noise"),
        ({"n_features": 1}, "n_features"),
        ({"kind": "recurring", "recur_at": 400}, "recur_at"),
        ({"kind": "sudden", "recur_at": 900}, "recur_at"),
        ({"width": 0}, "width"),
        ({"events_per_day": -1}, "events_per_day"),
        ({"n_stream": 2.5}, "n_stream"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, word):
    with pytest.raises((ValueError, TypeError), match=word):
        drift_stream(**kwargs)


def test_model_pool_checks_its_arguments_and_needs_a_first_training():
    from river import linear_model

    with pytest.raises(TypeError, match="model"):
        drift_kinds.ModelPool(object())
    with pytest.raises(TypeError, match="detector"):
        drift_kinds.ModelPool(linear_model.LogisticRegression(), detector=object())
    with pytest.raises(ValueError, match="size"):
        drift_kinds.ModelPool(linear_model.LogisticRegression(), size=0)
    pool = drift_kinds.ModelPool(linear_model.LogisticRegression())
    with pytest.raises(RuntimeError, match="fit_initial"):
        pool.predict_one({"x0": 1.0})


def test_model_pool_keeps_an_old_model_at_an_alarm_and_serves_it_when_its_concept_returns():
    from river import metrics

    import deployment_modes as dm

    sc = drift_stream("recurring", 0, n_stream=1000, drift_at=300, recur_at=650)
    pool = drift_kinds.ModelPool(dm.sgd_model("classification", 0.05))
    tl = dm.simulate(sc, pool, metrics.Accuracy())
    alarms = [e.at for e in pool.log if e.kind == "alarm"]
    assert alarms and 300 < alarms[0] < 650 and len(pool.models) >= 2
    assert tl.window_score(650, 850) > 0.8
