"""The claims of the Batch learning chapter (book/batch.ipynb), on its scenarios and its five seeds.

Convention: the claims of chapter NAME live in tests/test_NAME_claims.py and run the chapter's own
experiments (deployment_modes.experiments) on deployment_modes.seeds.SEEDS.
"""

import numpy as np
import pytest
from chapter_code import HAND_COUNTED_COMPUTE, code, glue_lines
from river import metrics
from sklearn.linear_model import LogisticRegression, Ridge

import deployment_modes as dm
from deployment_modes import experiments as ex
from deployment_modes.seeds import SEEDS

pytestmark = pytest.mark.parametrize("seed", SEEDS)


def test_the_fast_batch_timeline_is_the_simulated_one(seed):
    sc = dm.scenarios.drifting_classification(seed=seed, n_stream=1500, drift_at=700)
    fast = ex.batch_timeline(
        sc, LogisticRegression(), metrics.Accuracy(), retrain_every=500, window=1000
    )
    slow = dm.simulate(
        sc,
        dm.BatchDeployment(LogisticRegression(), retrain_every=500, window=1000),
        metrics.Accuracy(),
    )
    assert fast.y_pred == slow.y_pred
    assert np.array_equal(fast.model_version, slow.model_version)
    assert list(fast.retrains["rows"]) == list(slow.retrains["rows"])
    assert np.allclose(fast.rolling, slow.rolling)


def test_a_retrain_by_hand_predicts_as_the_deployment(seed):
    import pandas as pd
    from sklearn.base import clone

    houses = dm.scenarios.house_prices(seed=seed, n_stream=1000)
    X0, y0 = houses.initial
    by_hand = clone(Ridge()).fit(
        pd.concat([X0, houses.X[:500]]).to_numpy(), np.concatenate([y0, houses.y[:500]])
    )
    dep = dm.BatchDeployment(Ridge(), retrain_every=500)
    dep.fit_initial(X0, y0)
    events = list(houses)
    for x, y in events[:500]:
        dep.predict_one(x)
        dep.learn_one(x, y)
    assert np.allclose(
        by_hand.predict(houses.X[500:].to_numpy()), [dep.predict_one(x) for x, _ in events[500:]]
    )


def test_a_static_model_ages_slowly_and_retraining_helps_a_little(seed):
    _, runs = ex.house_runs(seed)
    static, retrained = runs.values()
    quarter = len(static) // 4
    first, last = static.window_score(0, quarter), static.window_score(3 * quarter)
    assert first < last < 1.5 * first  # it ages, but slowly
    assert (
        0 < 1 - retrained.score / static.score < 0.1
    )  # retraining helps a little: batch is enough


def test_both_house_price_models_beat_the_naive_baseline(seed):
    _, runs = ex.house_runs(seed, baseline=True)
    static, retrained, naive = runs.values()
    assert naive.name == "naive baseline: last"
    assert (
        max(static.score, retrained.score) < naive.score
    )  # lower MAE than "the price of the last sale"


def test_a_static_model_goes_stale_and_a_window_recovers(seed):
    sc, runs = ex.drift_runs(seed)
    static, everything, window = runs.values()
    d = sc.drift_at[0]
    assert (
        static.window_score(0, d) > 0.9 and static.window_score(d) < static.window_score(0, d) - 0.1
    )
    assert static.window_score(d) < everything.window_score(d) < window.window_score(d)
    assert dm.events_to_recover(everything) is None  # all data kept: not back within the stream
    recover = dm.events_to_recover(window)
    assert (
        recover is not None and 500 < recover < 1500
    )  # back, but not at the first retrain after the drift
    assert (
        np.nanmin(window.rolling[d:]) < window.window_score(0, d) - 0.1
    )  # the dip the figure shows


def test_every_drift_model_beats_the_majority_baseline_after_the_drift(seed):
    sc, runs = ex.drift_runs(seed, baseline=True)
    *models, naive = runs.values()
    d = sc.drift_at[0]
    assert naive.name == "naive baseline: majority" and len(models) == 3
    assert all(model.window_score(d) > naive.window_score(d) for model in models)


def test_fresher_retrains_are_more_accurate_and_cost_more_compute(seed):
    sweep = ex.retrain_sweep(seed).set_index(["window", "retrain_every"])
    after = sweep.loc[1000, "score_after_drift"]
    assert after[250] > after[500] > after[1000] > after[2000]
    rows = sweep.loc[0, "compute_rows"]  # the first training's 1,000 rows, then every retrain
    assert list(rows[[250, 500, 1000, 2000]]) == [51_000, 27_000, 15_000, 9_000]
    assert (sweep.loc[1000, "score_after_drift"] >= sweep.loc[0, "score_after_drift"] - 0.005).all()


def test_keeping_all_the_data_each_retrain_fits_more_rows(seed):
    sc, runs = ex.drift_runs(seed)
    rows = list(runs["retrain every 500, all data"].retrains["rows"])
    assert rows[0] == len(sc.y_initial) + 500 and rows[-1] == len(sc.y_initial) + len(sc)
    assert all(b - a == 500 for a, b in zip(rows, rows[1:]))


def test_the_window_trades_remembering_against_adapting(seed):
    sweep = ex.retrain_sweep(seed, [500], windows=(300, 1000, 3000)).set_index("window")
    assert sweep.loc[300, "events_to_recover"] < sweep.loc[1000, "events_to_recover"]
    assert sweep.loc[300, "score_before_drift"] < sweep.loc[1000, "score_before_drift"]
    assert np.isnan(sweep.loc[3000, "events_to_recover"])
    assert sweep.loc[3000, "score_after_drift"] < sweep.loc[1000, "score_after_drift"]


def test_the_retraining_loop_exercise_equals_the_windowed_line(seed):
    sc, runs = ex.drift_runs(seed)
    X0, y0 = sc.initial
    X_seen, y_seen = np.concatenate([X0.to_numpy(), sc.X.to_numpy()]), np.concatenate([y0, sc.y])
    n0, predictions = len(y0), []
    model = LogisticRegression().fit(X_seen[:n0], y_seen[:n0])
    for start in range(0, len(sc), 500):
        predictions.extend(model.predict(sc.X.to_numpy()[start : start + 500]))
        seen = n0 + start + 500
        model = LogisticRegression().fit(X_seen[seen - 1000 : seen], y_seen[seen - 1000 : seen])
    assert predictions == list(runs["retrain every 500, last 1,000 rows"].y_pred)


@pytest.mark.slow
def test_new_titles_stay_invisible_until_the_next_retrain(seed):
    sc = dm.scenarios.movie_catalogue(seed=seed)
    runs = dm.compare(
        sc,
        {
            "static": dm.BatchDeployment(dm.TrendingRecommender(k=10)),
            "weekly": dm.BatchDeployment(
                dm.TrendingRecommender(k=10), period=7, time_feature="day"
            ),
        },
        dm.HitRate(),
    )
    new = sc.info["new_titles"]
    assert dm.new_title_share(runs["static"].y_pred, new).max() == 0
    share = dm.new_title_share(runs["weekly"].y_pred, new)
    first = np.argmax(share > 0)
    assert (
        first == runs["weekly"].retrains["at"].iloc[0]
    )  # the first event served by the first retrained model
    assert sc.times[first] >= sc.info["release_day"][new].min()
    assert runs["weekly"].score > runs["static"].score


def test_the_sweep_glues_training_compute_from_cumulative_compute(seed):
    sc, runs = ex.drift_runs(seed)
    timeline = runs["retrain every 500, all data"]
    sweep = ex.retrain_sweep(seed, [500], windows=(None,))
    assert sweep["compute_rows"].iloc[0] == dm.cumulative_compute(timeline)[-1]
    assert sweep["compute_seconds"].iloc[0] > 0
    glued = " ".join(glue_lines("batch", "rows_total_250", "rows_ratio", "seconds_total_250"))
    assert "rows_all" in glued and "seconds_all" in glued
    source = code("batch")
    assert 'groupby("retrain_every")["compute_rows"]' in source
    assert 'groupby("retrain_every")["compute_seconds"]' in source
    assert not HAND_COUNTED_COMPUTE.search(source)


def test_the_prose_compares_intervals_the_sweep_ran(seed):
    sweep = ex.retrain_sweep(seed, [250, 2000], windows=(None,))
    assert list(sweep["retrain_every"]) == [250, 2000]
    (ratio,) = glue_lines("batch", "interval_ratio")
    assert "rarely // often" in ratio  # 2,000 // 250: never the static line's interval, 0
    assert "often, rarely = 250, 2000" in code("batch")
