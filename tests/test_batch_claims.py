"""The claims of the Batch learning chapter (book/batch.ipynb), on the same scenarios and seeds."""

import numpy as np
import pytest
from river import metrics
from sklearn.linear_model import LogisticRegression, Ridge

import deployment_modes as dm


@pytest.fixture(scope="module")
def houses(house_sales):
    sc = house_sales
    return sc, dm.compare(sc, {"static": dm.BatchDeployment(Ridge()),
                               "retrained": dm.BatchDeployment(Ridge(), retrain_every=500)}, metrics.MAE())


@pytest.fixture(scope="module")
def drifting(drifting_stream):
    sc = drifting_stream
    return sc, dm.compare(sc, {
        "static": dm.BatchDeployment(LogisticRegression()),
        "all": dm.BatchDeployment(LogisticRegression(), retrain_every=500),
        "window": dm.BatchDeployment(LogisticRegression(), retrain_every=500, window=1000),
    }, metrics.Accuracy())


def test_a_static_model_ages_slowly_on_slowly_changing_data(houses):
    sc, runs = houses
    static, quarter = runs["static"], len(sc) // 4
    first, last = static.window_score(0, quarter), static.window_score(3 * quarter)
    assert first < last < 1.5 * first  # it ages, but slowly
    gain = 1 - runs["retrained"].score / static.score
    assert 0 < gain < 0.2  # retraining helps a little: batch is enough


def test_a_static_model_goes_stale_after_drift(drifting):
    sc, runs = drifting
    d = sc.drift_at[0]
    before, after = runs["static"].window_score(0, d), runs["static"].window_score(d)
    assert before > 0.9 and after < before - 0.15


def test_retraining_on_a_window_recovers_and_on_all_data_barely(drifting):
    sc, runs = drifting
    d = sc.drift_at[0]
    static, everything, window = (runs[k].window_score(d) for k in ("static", "all", "window"))
    assert static < everything < window
    assert window > 0.8 and everything < 0.8


def test_frequent_retraining_is_fresher_and_costlier(drifting):
    sc, _ = drifting
    sweep_all = dm.sweep_retrain_interval(sc, LogisticRegression(), [250, 2000], metrics.Accuracy())
    sweep_window = dm.sweep_retrain_interval(sc, LogisticRegression(), [250, 2000], metrics.Accuracy(), window=1000)
    assert sweep_window["score_after_drift"].iloc[0] > sweep_window["score_after_drift"].iloc[1] + 0.1
    # keeping all data, rows fitted in all grow much faster than the number of retrains
    ratio_rows = sweep_all["rows_fitted"].iloc[0] / sweep_all["rows_fitted"].iloc[1]
    ratio_retrains = sweep_all["retrains"].iloc[0] / sweep_all["retrains"].iloc[1]
    assert ratio_retrains == 8 and ratio_rows > 4


def test_each_retrain_on_all_data_fits_more_rows(drifting):
    _, runs = drifting
    rows = runs["all"].retrains["rows"].to_numpy()
    assert np.all(np.diff(rows) == 500) and rows[0] == 1500
    assert runs["all"].model_version.max() == 9


def test_new_titles_stay_invisible_until_the_next_retrain():
    sc = dm.scenarios.movie_catalogue(seed=0)
    runs = dm.compare(sc, {"static": dm.BatchDeployment(dm.TrendingRecommender(k=10)),
                           "weekly": dm.BatchDeployment(dm.TrendingRecommender(k=10), period=7, time_feature="day")},
                      dm.HitRate())
    new = sc.info["new_titles"]
    assert dm.new_title_share(runs["static"].y_pred, new).max() == 0
    share = dm.new_title_share(runs["weekly"].y_pred, new)
    first = np.argmax(share > 0)
    first_retrain = runs["weekly"].retrains["at"].iloc[0]
    assert first == first_retrain  # the first event served by the first retrained model
    assert sc.times[first] >= sc.info["release_day"][new].min()
    assert runs["weekly"].score > runs["static"].score
