"""The claims of the Online learning chapter (book/online.ipynb), on its scenarios and seeds (tests/conftest.py)."""

import numpy as np
import pytest
from river import metrics, neighbors
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsRegressor

import deployment_modes as dm
from conftest import guarded
from deployment_modes import events_to_recover, sgd_model, sweep_learning_rate


@pytest.fixture(scope="module")
def chapter_runs(drifting_stream):
    stream = drifting_stream
    return stream, dm.compare(stream, {
        "batch, static": dm.BatchDeployment(LogisticRegression()),
        "batch, retrain every 500": dm.BatchDeployment(LogisticRegression(), retrain_every=500, window=1000),
        "online": dm.OnlineDeployment(sgd_model("classification", 0.1), monitor=True),
    }, metric=metrics.Accuracy())


def test_chapter_online_recovers_faster_than_batch_after_the_drift(chapter_runs):
    stream, runs = chapter_runs
    online, batch, static = runs["online"], runs["batch, retrain every 500"], runs["batch, static"]
    assert events_to_recover(online) < events_to_recover(batch)
    assert events_to_recover(static) is None
    drift = stream.drift_at[0]
    assert online.window_score(drift) > batch.window_score(drift) > static.window_score(drift)
    assert online.model_version.max() == len(stream) + 1 and batch.model_version.max() == 9


def test_chapter_stock_prices_online_beats_static_and_naive_beats_both(apple_prices):
    apple = apple_prices
    runs = dm.compare(apple, {
        "static": dm.BatchDeployment(KNeighborsRegressor(n_neighbors=10)),
        "online": dm.OnlineDeployment(neighbors.KNNRegressor(n_neighbors=10,
                                                             engine=neighbors.LazySearch(window_size=100))),
    }, metric=metrics.MAE())
    naive = np.mean(np.abs(apple.X["lag_1"].to_numpy() - apple.y))
    assert naive < runs["online"].score < runs["static"].score / 3
    assert apple.y.max() > 3 * apple.y_initial.max()


def test_chapter_online_recommender_reaches_new_titles_sooner_without_retrain(movies):
    weekly = dm.simulate(movies, dm.BatchDeployment(dm.TrendingRecommender(k=10), period=7, time_feature="day"),
                         dm.HitRate())
    dep = dm.OnlineDeployment(dm.TrendingRecommender(k=10).fit(*movies.initial))
    online = dm.simulate(movies, dep, dm.HitRate(), fit_initial=False)
    d_online = dm.events_until_recommended(online.y_pred, movies)["events"]
    d_weekly = dm.events_until_recommended(weekly.y_pred, movies)["events"]
    assert d_online.median() < d_weekly.median() and d_online.count() > d_weekly.count()
    assert online.score > weekly.score
    assert not [e for e in dep.log if e.kind in ("train", "retrain")]


def test_chapter_poisoned_stream_and_guardrails(poisoned_stream):
    clean, sc = poisoned_stream

    def run(**options):
        return dm.simulate(sc, guarded(sgd_model("classification", 0.1), **options), metrics.Accuracy())

    def acc(tl, a, b):
        return tl.window_score(a, b, y_true=clean.y)

    plain, pause, both, gate = run(), run(max_pause=500), run(checkpoint_every=200, max_pause=500), run(gate=100)
    clean_run = dm.simulate(clean, dm.OnlineDeployment(sgd_model("classification", 0.1)), metrics.Accuracy())
    assert acc(plain, 800, 1100) < 0.5 < 0.85 < acc(pause, 800, 1100) < acc(both, 800, 1100)
    assert acc(both, 1100, 1400) > acc(plain, 1100, 1400) + 0.1
    assert acc(gate, 800, 1100) < 0.5  # the gate alone does not stop consistent bad labels
    assert acc(both, 800, 1100) >= acc(clean_run, 800, 1100) - 0.02
    first_alarm = next(e.at for e in both.log if e.kind == "alarm")
    assert 800 < first_alarm < 900
    for tl in (plain, pause, both):  # the real drift is absorbed without an alarm: same score after it
        assert not [e for e in tl.log if e.kind != "train" and e.at >= clean.drift_at[0]]
        assert acc(tl, 2000, 4000) == acc(plain, 2000, 4000)


def test_chapter_long_attack_exercise(drifting_stream):
    clean = drifting_stream
    sc = dm.scenarios.poison_labels(clean, start=800, length=800)

    def acc(options):
        tl = dm.simulate(sc, guarded(sgd_model("classification", 0.1), **options), metrics.Accuracy())
        return np.mean(np.array(tl.y_pred[800:1600]) == clean.y[800:1600])

    assert acc({}) < acc({"max_pause": 500}) < acc({"max_pause": 1000})


def test_chapter_learning_rate_trade_off(drifting_stream):
    sweep = sweep_learning_rate(drifting_stream, [0.003, 0.1, 1.0])
    slow, mid, fast = sweep.to_dict("records")
    assert slow["score_before_drift"] > fast["score_before_drift"] + 0.05
    assert mid["events_to_recover"] < fast["events_to_recover"] < slow["events_to_recover"]


def test_chapter_mini_batch_exercise(drifting_stream):
    stream = drifting_stream

    def recover(lr, size):
        tl = dm.simulate(stream, dm.OnlineDeployment(sgd_model("classification", lr), batch_size=size),
                         metrics.Accuracy())
        return events_to_recover(tl)

    assert recover(0.1, 50) is None and recover(0.1, None) < recover(1.0, None) < recover(1.0, 50)


def test_chapter_complexity_counts_moving_parts_not_lines():
    """Online with monitoring, rollback and pause has more moving parts than batch, and more at every event."""
    online = guarded(sgd_model("classification", 0.1), checkpoint_every=200, max_pause=500).moving_parts
    batch = dm.BatchDeployment(LogisticRegression(), retrain_every=500, window=1000).moving_parts
    per_event = {name: sum(when == "every event" for when in parts.values())
                 for name, parts in [("online", online), ("batch", batch)]}
    assert len(online) > len(batch) and per_event["online"] > per_event["batch"] == 1
    assert "rollback to a checkpoint" in online and "retraining job, from scratch" in batch
