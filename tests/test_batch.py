import numpy as np
import pandas as pd
import pytest
from river import drift, metrics
from sklearn.linear_model import LogisticRegression, Ridge

import deployment_modes as dm
from deployment_modes.batch import records


@pytest.fixture(scope="module")
def scenario():
    return dm.scenarios.house_prices(seed=2, n_initial=120, n_stream=230)


def test_prediction_comes_from_initial_data_plus_events_before_the_last_retrain(scenario):
    k = 50
    tl = dm.simulate(scenario, dm.BatchDeployment(Ridge(), retrain_every=k), metrics.MAE())
    X0, y0 = scenario.initial
    for i in [0, 1, 49, 50, 51, 99, 100, 149, 229]:
        cut = k * (i // k)
        X = np.vstack([X0.to_numpy(), scenario.X.iloc[:cut].to_numpy()])
        y = np.concatenate([y0, scenario.y[:cut]])
        by_hand = Ridge().fit(X, y).predict(scenario.X.iloc[[i]].to_numpy())[0]
        assert tl.y_pred[i] == pytest.approx(by_hand, rel=1e-12)
        assert tl.model_version[i] == 1 + (i + 1) // k


def test_model_is_static_between_retrains(scenario):
    dep = dm.BatchDeployment(Ridge(), retrain_every=100)
    dep.fit_initial(*scenario.initial)
    x = next(iter(scenario))[0]
    first, model = dep.predict_one(x), dep.model
    for xi, yi in list(scenario)[:99]:
        dep.learn_one(xi, yi)
    assert dep.model is model and dep.predict_one(x) == first and dep.model_version == 1
    dep.learn_one(*list(scenario)[99])
    assert dep.model is not model and dep.model_version == 2


def test_retrains_record_rows_and_compute(scenario):
    tl = dm.simulate(scenario, dm.BatchDeployment(Ridge(), retrain_every=100), metrics.MAE())
    r = tl.retrains
    assert list(r["at"]) == [100, 200] and list(r["rows"]) == [220, 320]
    assert (r["seconds"] > 0).all()
    assert tl.entries("train")["rows"].tolist() == [120]


def test_sliding_window_keeps_only_the_last_rows(scenario):
    dep = dm.BatchDeployment(Ridge(), retrain_every=100, window=80)
    tl = dm.simulate(scenario, dep, metrics.MAE())
    assert list(tl.retrains["rows"]) == [80, 80]
    X, y = dep.training_data()
    np.testing.assert_array_equal(y, scenario.y[-80:])


def test_static_deployment_never_retrains(scenario):
    tl = dm.simulate(scenario, dm.BatchDeployment(Ridge()), metrics.MAE())
    assert tl.retrains.empty and set(tl.model_version) == {1}


def test_period_retrains_when_time_crosses_a_boundary():
    sc = dm.scenarios.movie_catalogue(
        n_titles=30, n_new=3, n_initial=300, n_stream=1000, events_per_day=100
    )
    dep = dm.BatchDeployment(dm.TrendingRecommender(k=3), period=2.0, time_feature="day")
    tl = dm.simulate(sc, dep, dm.HitRate())
    # the first event of days 2, 4, 6 and 8 (positions 200, 400...) triggers a retrain that includes it
    assert list(tl.retrains["at"]) == [201, 401, 601, 801]


def test_drift_trigger_retrains_after_the_drift():
    sc = dm.scenarios.drifting_classification(n_initial=500, n_stream=2000, drift_at=1000)
    dep = dm.BatchDeployment(LogisticRegression(), trigger=drift.ADWIN(), window=400)
    tl = dm.simulate(sc, dep, metrics.Accuracy())
    assert len(tl.retrains) >= 1 and tl.retrains["at"].min() > 1000


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"retrain_every": 0}, ValueError, "retrain_every"),
        ({"retrain_every": -5}, ValueError, "retrain_every"),
        ({"retrain_every": "often"}, TypeError, "retrain_every"),
        ({"window": 0}, ValueError, "window"),
        ({"period": 7}, ValueError, "period"),
        ({"trigger": object()}, TypeError, "trigger"),
    ],
)
def test_bad_settings_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        dm.BatchDeployment(Ridge(), **kwargs)


def test_an_estimator_without_fit_is_refused():
    with pytest.raises(TypeError, match="estimator"):
        dm.BatchDeployment(object())


def test_bad_events_give_clear_errors_and_leave_the_deployment_unchanged(scenario):
    dep = dm.BatchDeployment(Ridge(), retrain_every=2)
    dep.fit_initial(*scenario.initial)
    x, y = next(iter(scenario))
    cases = [
        ({**x, "pool": 1.0}, y, ValueError, "extra"),
        ({k: v for k, v in x.items() if k != "rooms"}, y, ValueError, "missing"),
        ({**x, "rooms": float("nan")}, y, ValueError, "rooms"),
        ({**x, "rooms": "three"}, y, TypeError, "rooms"),
        (x, "cheap", TypeError, "y"),
        (x, float("inf"), ValueError, "y"),
        ([1, 2], y, TypeError, "x"),
    ]
    for bad_x, bad_y, error, match in cases:
        with pytest.raises(error, match=match):
            dep.learn_one(bad_x, bad_y)
        assert dep.stored_rows == len(scenario.y_initial) and dep.n_seen == 0
    with pytest.raises(ValueError, match="x has features"):
        dep.predict_one({"size": 1.0})


def test_predict_before_training_says_what_to_do():
    with pytest.raises(RuntimeError, match="fit_initial"):
        dm.BatchDeployment(Ridge()).predict_one({"a": 1.0})


def test_fit_initial_checks_shapes():
    dep = dm.BatchDeployment(Ridge())
    with pytest.raises(ValueError, match="y must have one label per row"):
        dep.fit_initial([[1.0], [2.0]], [1.0])
    with pytest.raises(ValueError, match="X must be 2-D"):
        dep.fit_initial([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="X must have at least one row"):
        dep.fit_initial(np.empty((0, 2)), [])


def test_recommender_never_recommends_a_title_it_has_not_seen():
    sc = dm.scenarios.movie_catalogue(n_titles=100, n_new=10, n_initial=1000, n_stream=2000)
    tl = dm.simulate(sc, dm.BatchDeployment(dm.TrendingRecommender(k=5)), dm.HitRate())
    assert dm.new_title_share(tl.y_pred, sc.info["new_titles"]).max() == 0


def test_a_failed_fit_initial_leaves_a_trained_deployment_as_it_was(scenario):
    import pickle

    dep = dm.BatchDeployment(Ridge(), retrain_every=50)
    dep.fit_initial(*scenario.initial)
    for x, y in list(scenario)[:30]:
        dep.learn_one(x, y)
    before = pickle.dumps(dep)
    X0, y0 = scenario.initial
    bad = X0.copy()
    bad.iloc[3, 0] = np.nan  # scikit-learn refuses it inside fit
    for X, y in [(bad, y0), (X0, y0[:-1]), (X0.iloc[:, :0], y0)]:
        with pytest.raises((ValueError, TypeError)):
            dep.fit_initial(X, y)
        assert pickle.dumps(dep) == before
    assert dep.model_version == 1 and dep.n_seen == 30


@pytest.mark.parametrize(
    "labels, bad",
    [
        (np.array([0, 1] * 60), 0.5),  # int classes: 0.5 was trained as 0
        (np.array(["0", "5"] * 60), 5),  # str classes: 5 was trained as the class '5'
        (np.array([False, True] * 60), "spam"),  # bool classes: 'spam' was trained as True
        (np.array([False, True] * 60), 5),  # bool classes: 5 was trained as True
        (np.array([0, 1] * 60), True),  # int classes: True was trained as 1
    ],
)
def test_labels_must_be_of_the_training_labels_kind(labels, bad):
    X = np.random.default_rng(0).normal(size=(len(labels), 2))
    dep = dm.BatchDeployment(LogisticRegression(), retrain_every=1)
    dep.fit_initial(X, labels)
    with pytest.raises(TypeError, match=r"\by\b"):
        dep.learn_one({"x0": 0.0, "x1": 0.0}, bad)
    assert dep.n_seen == 0 and dep.model_version == 1


def test_a_regression_target_is_not_cut_to_an_int():
    X = np.arange(20.0).reshape(-1, 1)
    dep = dm.BatchDeployment(Ridge(alpha=1e-9), retrain_every=1)
    dep.fit_initial(X, np.arange(20))  # int targets, a regressor
    dep.learn_one({"x0": 20.5}, 20.5)
    assert dep.training_data()[1][-1] == 20.5


def test_a_long_new_class_name_is_not_cut():
    X = np.random.default_rng(0).normal(size=(40, 2))
    dep = dm.BatchDeployment(LogisticRegression(), retrain_every=1)
    dep.fit_initial(X, np.array(["ham", "spam"] * 20))
    dep.learn_one({"x0": 0.0, "x1": 0.0}, "phishing")
    assert dep.training_data()[1][-1] == "phishing"


def test_a_time_feature_that_is_not_a_feature_is_named():
    dep = dm.BatchDeployment(Ridge(), period=7, time_feature="day")
    with pytest.raises(ValueError, match="time_feature 'day'"):
        dep.fit_initial([[0.0], [1.0]], [0.0, 1.0])
    with pytest.raises(ValueError, match="period"):
        dm.BatchDeployment(Ridge(), period=float("inf"), time_feature="day")


def test_recommender_top_titles_after_each_view_are_those_of_a_fresh_ranking(movies):
    """learn_one updates the cached top titles from the old ones and the viewed title: always the
    ranking computed from every score, ties to the lower title id, as predict_one first gives it."""
    model = dm.TrendingRecommender(k=5).fit(*movies.initial)
    for i, (x, y) in enumerate(movies):
        if i == 3_000:
            break
        model.predict_one(x)  # fills the cache for the event's genre
        model.learn_one(x, y)
        table = model.scores_[int(x["genre"])]
        fresh = tuple(sorted(table, key=lambda t: (-table[t], t))[:5])
        assert model.predict_one(x) == fresh


def test_events_until_recommended_counts_from_each_release(movies):
    """The first recommendation of each new title, found in one pass, is the first one at or after its release."""
    model = dm.TrendingRecommender(k=10).fit(*movies.initial)
    online = dm.simulate(movies, dm.OnlineDeployment(model), dm.HitRate(), fit_initial=False)
    table = dm.events_until_recommended(online.y_pred, movies)
    times = np.asarray(movies.times)
    for row in table.itertuples():
        first = int(np.searchsorted(times, row.release_day))
        hits = [i for i in range(first, len(times)) if row.title in online.y_pred[i]]
        assert (row.events == hits[0] - first) if hits else np.isnan(row.events)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"a": [1.5, 2.0], "b": np.array([3, 4], dtype=np.int32)}),
        pd.DataFrame({"a": [1.5, np.inf], "u": np.array([1, 2], dtype=np.uint8)}),
        pd.DataFrame({"a": [1.0, 2.0], "flag": [True, False]}),
        pd.DataFrame({"a": [1.0, 2.0], "text": ["x", "y"]}),
    ],
)
def test_records_are_pandas_records_and_say_whether_all_are_finite_numbers(frame):
    rows, finite = records(frame)
    expected = frame.to_dict(orient="records")
    assert [[(type(v), repr(v)) for v in r.values()] for r in rows] == [
        [(type(v), repr(v)) for v in r.values()] for r in expected
    ]
    numeric = all(k in "iuf" for k in frame.dtypes.map(lambda d: d.kind))
    assert finite == (numeric and bool(np.isfinite(frame.to_numpy(dtype=float)).all()))


def test_interval_timelines_share_their_fits_and_equal_one_run_each():
    from river import metrics
    from sklearn.linear_model import LogisticRegression

    from deployment_modes.batch_experiments import batch_timeline, interval_timelines

    sc = dm.scenarios.drifting_classification(n_initial=200, n_stream=600, drift_at=300)
    runs = interval_timelines(
        sc, LogisticRegression(), metrics.Accuracy(), [100, 200, None], window=150
    )
    for k, shared in zip([100, 200, None], runs):
        alone = batch_timeline(
            sc, LogisticRegression(), metrics.Accuracy(), retrain_every=k, window=150
        )
        assert shared.y_pred == alone.y_pred and list(shared.rolling) == list(alone.rolling)
        assert [(e.at, e.rows) for e in shared.log] == [(e.at, e.rows) for e in alone.log]
    assert runs[0].log[2].seconds == runs[1].log[1].seconds  # the refit at event 200, made once
