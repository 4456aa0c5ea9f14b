"""The comparison chapter's table and claims, asserted on its runs (same scenario, same five seeds)."""

import numpy as np
import pandas as pd
import pytest
from chapter_code import HAND_COUNTED_COMPUTE, code, glue_lines
from river import metrics
from sklearn.linear_model import LogisticRegression

import deployment_modes as dm
from deployment_modes import comparison, events_to_recover, rating
from deployment_modes.downtime import downtime_table, load_downtime

# The chapter's sizes and seeds (book/comparison.ipynb).
SIZES = comparison.CHAPTER_SIZES
SEEDS = range(5)
NOTES = {
    "Training": {"batch": "Offline", "online": "Online", "out-of-core": "Offline chunks → Online"},
    "Data handling": {
        "batch": "Entire dataset",
        "online": "One instance at a time",
        "out-of-core": "Chunks",
    },
    "Model update": {
        "batch": "Periodic retraining",
        "online": "Continuous",
        "out-of-core": "Continuous",
    },
    "Downtime": {"batch": "Yes (during retraining)", "online": "No", "out-of-core": "No"},
    "Memory usage": {"batch": "High", "online": "Low", "out-of-core": "Low"},
    "Adaptability": {"batch": "Low", "online": "High", "out-of-core": "High"},
    "Risk": {"batch": "Low", "online": "High", "out-of-core": "Medium"},
    "Complexity": {"batch": "Low", "online": "Medium", "out-of-core": "High"},
}
DOWNTIME = {
    "naive": {"seconds": 2.5, "failed": 400, "requests": 500},
    "swap": {"seconds": 0.0, "failed": 0, "requests": 90},
    "online": {"seconds": 0.0, "failed": 0, "requests": 300},
    "out-of-core, then online": {"seconds": 0.0, "failed": 0, "requests": 280},
}


@pytest.fixture(scope="module")
def runs():
    return [comparison.run_comparison(seed=seed, downtime=DOWNTIME, **SIZES) for seed in SEEDS]


@pytest.fixture(scope="module")
def cmp(runs):
    return runs[0]


@pytest.fixture(scope="module")
def measures(cmp):
    return cmp.measures()


@pytest.fixture(scope="module")
def rated(runs):
    return rating.rate(runs, NOTES, DOWNTIME).set_index(["aspect", "mode"])


def test_risk_cells_write_each_drop_as_positive_points(rated):
    for mode in rating.MODES:
        text = rated.loc[("Risk", mode), "measured"]
        assert text.startswith("drops ") and "−" not in text, text


def test_rated_table_has_every_aspect_and_mode_with_the_notes_words(rated):
    assert list(dict.fromkeys(a for a, _ in rated.index)) == list(rating.ASPECTS)
    for (aspect, mode), row in rated.iterrows():
        assert row["notes"] == NOTES[aspect][mode]
        assert any(ch.isdigit() for ch in row["measured"]), (aspect, mode)
        assert row["verdict"].startswith(("agrees", "differs")), (aspect, mode)
    html = rating.table_html(rated.reset_index())._repr_html_()
    assert html.count("<tr>") == 1 + 2 * len(rating.ASPECTS) and "Offline chunks → Online" in html


def test_chapter_verdicts_hold_over_the_seeds(rated):
    verdict = rated["verdict"]
    for aspect in ("Training", "Data handling", "Model update", "Memory usage"):
        for mode in rating.MODES:
            assert verdict[(aspect, mode)] == "agrees", (aspect, mode)
    assert (
        verdict[("Downtime", "batch")]
        == "agrees for the naive restart; differs for the atomic swap"
    )
    assert verdict[("Downtime", "online")] == verdict[("Downtime", "out-of-core")] == "agrees"
    assert verdict[("Adaptability", "batch")] == verdict[("Adaptability", "online")] == "agrees"
    assert verdict[("Risk", "batch")] == "agrees"
    assert verdict[("Risk", "out-of-core")].startswith("differs: measured High")
    # moving parts: batch 5, online 6, out-of-core then online 10 (the chapter's complexity item)
    assert verdict[("Complexity", "batch")] == verdict[("Complexity", "out-of-core")] == "agrees"
    assert verdict[("Complexity", "online")] == "differs: measured Low"


def test_levels_rule():
    assert rating.levels({"a": 1.0, "b": 1.9}) == {"a": "no difference", "b": "no difference"}
    assert rating.levels({"a": 1.0, "b": 3.0, "c": 100.0}) == {"a": "Low", "b": "Low", "c": "High"}
    assert rating.levels({"a": 1.0, "b": 10.0, "c": 100.0})["b"] == "Medium"
    with pytest.raises(ValueError, match="values"):
        rating.levels({"a": 0.0, "b": 1.0})
    with pytest.raises(TypeError, match="values"):
        rating.levels({})


def test_rate_refuses_an_incomplete_notes_table(runs):
    with pytest.raises(ValueError, match="notes"):
        rating.rate(runs[:1], {"Training": NOTES["Training"]}, None)
    with pytest.raises(ValueError, match="comparisons"):
        rating.rate([], NOTES, None)


def test_without_a_downtime_measurement_the_row_says_so(runs):
    rated = rating.rate(runs[:1], NOTES, None).set_index(["aspect", "mode"])
    assert rated.loc[("Downtime", "batch"), "verdict"] == "not measured"


def test_all_lines_ran_on_the_same_stream(cmp):
    truth = list(cmp.scenario.y)
    for tl in cmp.runs.values():
        assert list(tl.y_true) == truth and tl.drift_at == cmp.scenario.drift_at
    assert set(comparison.LINES) <= set(cmp.runs)


@pytest.mark.parametrize("seed", SEEDS)
def test_online_recovers_and_batch_on_all_data_never_does(runs, seed):
    m = runs[seed].measures()
    recover = m.loc["events to recover after the drift"]
    assert recover["online"] is not None and recover["online"] < 500
    assert recover["batch"] is None or pd.isna(recover["batch"])
    after = m.loc["accuracy after the drift (%)"]
    assert after["online"] > after["batch"]


@pytest.mark.parametrize("seed", SEEDS)
def test_compute_in_rows_batch_grows_with_the_square_online_linearly(runs, seed):
    m = runs[seed].measures()
    halves = m.loc["training compute, 2nd half / 1st half"]
    assert halves["online"] == pytest.approx(1.0, abs=0.01)
    assert halves["batch"] > 1.5
    rows = m.loc["training compute (rows)"]
    assert rows["batch"] > rows["online"]
    increments = np.diff(runs[seed].compute()["batch"].to_numpy())
    retrain_rows = increments[increments > 0]
    n0, k = SIZES["n_initial"], SIZES["retrain_every"]
    # the page: "the i-th retrain fits the first training's rows plus i x the retrain interval"
    assert list(retrain_rows) == [n0 + i * k for i in range(1, len(retrain_rows) + 1)]


@pytest.mark.parametrize("seed", SEEDS)
def test_training_compute_is_cumulative_compute_in_both_units(runs, seed):
    m, c = runs[seed].measures(), runs[seed]
    for line in comparison.LINES:
        tl = c.runs[line]
        assert m.loc["training compute (rows)", line] == dm.cumulative_compute(tl)[-1]
        for where, label in comparison.COMPUTE_PLACES.items():
            seconds = dm.cumulative_compute(tl, "seconds", where)[-1]
            assert m.loc[f"training compute{label} (seconds)", line] == pytest.approx(seconds)
    assert m.loc["training compute on the serving machine (seconds)", "batch"] == 0
    assert m.loc["training compute on the serving machine (seconds)", "online"] > 0
    assert m.loc["training compute (rows)", "batch"] > m.loc["training compute (rows)", "online"]
    sweep = comparison.value_of_freshness(c.scenario, [SIZES["retrain_every"]], window=None)
    assert sweep["compute_rows"].iloc[0] == dm.cumulative_compute(c.runs["batch"])[-1]


def test_the_chapter_glues_training_compute_from_the_measures():
    keys = ["rows_batch", "rows_online", "seconds_batch", "serve_online", "offline_batch"]
    assert all(
        "rows_seeds[" in line
        or "seconds_seeds[" in line
        or "serving[" in line
        or "offline[" in line
        for line in glue_lines("comparison", *keys)
    )
    source = code("comparison")
    assert 'm.xs("training compute (rows)", level=1)' in source
    assert not HAND_COUNTED_COMPUTE.search(source)


@pytest.mark.parametrize("seed", SEEDS)
def test_memory_grows_with_the_data_for_batch_only(runs, seed):
    growth = runs[seed].measures().loc["memory growth with the data"]
    assert growth["batch"] > 0.8 * runs[seed].memory.attrs["data growth"]
    assert growth["online"] < 1.1 and growth["out-of-core, then online"] < 1.1


@pytest.mark.parametrize("seed", SEEDS)
def test_poisoning_online_drops_guardrails_protect_batch_dilutes(runs, seed):
    m = runs[seed].measures()
    drop, guarded = (
        m.loc["accuracy drop when poisoned (points)"],
        m.loc["... with guardrails (points)"],
    )
    assert drop["online"] > 10 and guarded["online"] < drop["online"] / 3
    assert drop["batch"] < 2 < drop["online"]
    assert (
        drop["batch, drift-triggered"] > drop["online"]
    )  # the alarm retrains on the poisoned window
    assert runs[seed].chunk_risk["poisoned chunk"] > 20  # out-of-core's own training: one bad chunk


@pytest.mark.parametrize("seed", SEEDS)
def test_guardrails_never_speed_up_the_response_to_a_real_drift(runs, seed):
    guarded, plain = (
        events_to_recover(runs[seed].runs[k]) for k in ("online, guardrails", "online")
    )
    assert guarded is None or guarded >= plain


def test_fresher_retrains_recover_more_on_every_seed(runs):
    for c in runs:
        sweep = comparison.value_of_freshness(c.scenario, [150, 1000], window=500)
        assert sweep["score_after_drift"].iloc[0] > sweep["score_after_drift"].iloc[1]


def test_drift_triggered_batch_retrains_less_than_the_calendar(runs):
    for c in runs:
        assert len(c.runs["batch, drift-triggered"].retrains) < len(c.runs["batch"].retrains)


def test_complexity_counts_each_lines_own_moving_parts(cmp, measures):
    parts = measures.loc["moving parts"]
    for line in comparison.LINES:
        assert parts[line] == len(cmp.moving_parts[line])
    assert parts["out-of-core, then online"] > parts["online"] > parts["batch"]
    batch = dm.BatchDeployment(dm.LeanLogisticRegression(), retrain_every=SIZES["retrain_every"])
    assert cmp.moving_parts["batch"] == comparison.production_parts(batch)
    online = cmp.moving_parts["online"]
    assert list(online) == list(comparison.guarded_online().moving_parts)
    assert set(online) < set(cmp.moving_parts["out-of-core, then online"])


def test_alarm_then_collect_fires_once_after_collecting():
    trigger = dm.AlarmThenCollect(collect=5)
    fired = []
    for error in [0.0] * 300 + [1.0] * 100:
        trigger.update(error)
        fired.append(trigger.drift_detected)
    assert sum(fired) >= 1 and trigger.alarms >= 1
    first = fired.index(True)
    assert 300 + 5 <= first < 400
    with pytest.raises(ValueError, match="collect"):
        dm.AlarmThenCollect(collect=0)
    with pytest.raises(TypeError, match="detector"):
        dm.AlarmThenCollect(detector=object())


def test_lean_logistic_regression_predicts_as_scikit_learn():
    sc = dm.scenarios.drifting_classification(seed=3, n_initial=300, n_stream=200, drift_at=100)
    X, y = sc.initial
    lean = dm.LeanLogisticRegression().fit(X.to_numpy(), y)
    plain = LogisticRegression().fit(X.to_numpy(), y)
    np.testing.assert_array_equal(lean.predict(sc.X.to_numpy()), plain.predict(sc.X.to_numpy()))


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="poison_start"):
        comparison.run_comparison(drift_at=1000, poison_start=900)
    with pytest.raises(TypeError, match="retrain_every"):
        comparison.run_comparison(retrain_every="often")
    with pytest.raises(ValueError, match="retrain_every"):
        dm.examples.real_world_examples(retrain_every=0)


@pytest.fixture(scope="module")
def examples():
    return dm.examples.real_world_examples()  # the chapter's call: the five seeds


def test_real_world_examples_run_the_generated_ones_on_every_seed(examples):
    table, measures, runs = examples
    assert list(table.index) == ["house prices", "stock trading", "text corpus"]
    assert list(measures.index) == list(SEEDS) and list(runs) == list(table.index)
    # the generated examples differ from seed to seed; the real stock history is one run
    assert measures["house prices: online"].nunique() == len(SEEDS)
    assert measures["corpus: online (%)"].nunique() > 1
    assert measures["stock trading: online"].nunique() == 1
    assert "(min" in table.loc["house prices", "measured"]
    assert "one real history" in table.loc["stock trading", "measured"]


def test_house_prices_online_gains_little_over_a_periodic_retrain_on_every_seed(examples):
    _, m, _ = examples
    periodic, online = m["house prices: batch, every 250"], m["house prices: online"]
    static, naive = m["house prices: batch, static"], m[f"house prices: {dm.examples.NAIVE}"]
    assert ((online - periodic).abs() < 0.05 * periodic).all()  # within 5% on every seed
    assert (static > periodic).all()  # the static model errs more on every seed
    assert (periodic < naive).all() and (online < naive).all() and (static < naive).all()


def test_stock_trading_static_goes_stale_online_keeps_up_naive_beats_all(examples):
    _, _, runs = examples
    stocks, periodic, naive = runs["stock trading"], "batch, every 250", dm.examples.NAIVE
    assert stocks["online"].score < stocks[periodic].score < stocks["batch, static"].score
    assert list(stocks)[-1] == naive
    assert all(tl.score > stocks[naive].score for name, tl in stocks.items() if name != naive)


def test_every_mode_beats_the_majority_baseline_after_the_drift(runs):
    for c in runs:
        d = c.scenario.drift_at[0]
        assert c.baseline.name == "naive baseline: majority" and c.baseline.name not in c.runs
        assert all(tl.window_score(d) > c.baseline.window_score(d) for tl in c.runs.values())


def test_the_stock_example_is_the_online_chapters_run(examples):
    # the same quantity in both chapters: the Online chapter's Apple run, scored by simulate
    from river import neighbors
    from sklearn.neighbors import KNeighborsRegressor

    _, _, runs = examples
    apple = dm.scenarios.stock_prices("apple", lags=5, n_initial=450)
    static = dm.simulate(
        apple, dm.BatchDeployment(KNeighborsRegressor(n_neighbors=10)), metrics.MAE()
    )
    online = dm.simulate(
        apple,
        dm.OnlineDeployment(
            neighbors.KNNRegressor(n_neighbors=10, engine=neighbors.LazySearch(window_size=100))
        ),
        metrics.MAE(),
    )
    assert runs["stock trading"]["batch, static"].score == pytest.approx(static.score)
    assert runs["stock trading"]["online"].score == pytest.approx(online.score)


def test_text_corpus_trains_in_one_chunk_of_memory_then_continues_online(examples):
    _, m, runs = examples
    history, online = runs["text corpus"]["history"], runs["text corpus"]["online"]
    chunk = history["chunk_mb"]
    assert chunk.max() < 1.1 * chunk.min()  # flat, chunk after chunk
    # loading it all holds every chunk, on every seed
    assert (m["corpus: MB in all"] > (len(chunk) - 0.5) * m["corpus: MB per chunk"]).all()
    assert (m["corpus: holdout (%)"] > 70).all() and (m["corpus: online (%)"] > 80).all()
    # learned from every new document, in mini-batches, each predicted before it was learned
    assert online.model_version[-1] == 1 + len(online) // dm.examples.ONLINE_BATCH
    assert len(online) == dm.examples.N_NEW


def test_downtime_table_and_loader(tmp_path):
    table = downtime_table(DOWNTIME)
    assert table["failed requests"].tolist() == [400, 0, 0, 0] and len(table) == 4
    assert load_downtime(tmp_path / "none.json") is None
    (tmp_path / "m.json").write_text('{"downtime": {"naive": 1}}')
    assert load_downtime(tmp_path / "m.json") == {"naive": 1}
    with pytest.raises(TypeError, match="downtime"):
        downtime_table({"naive": 1})
    with pytest.raises(TypeError, match="downtime"):
        comparison.run_comparison(downtime={"naive": 1})


@pytest.mark.slow
def test_naive_redeploy_has_downtime_atomic_swap_and_online_have_none():
    measured = dm.downtime.measure_downtime(
        dm.scenarios.drifting_classification(seed=0), n_events=500
    )
    assert measured["naive"]["failed"] > 0 and measured["naive"]["seconds"] > 0
    assert measured["swap"]["failed"] == 0 and measured["online"]["failed"] == 0
    assert measured["out-of-core, then online"]["failed"] == 0


def test_the_guarded_line_alarms_after_the_real_drift_on_some_seeds_only(runs):
    fired = [
        any(
            e.kind == "alarm" and e.at >= c.scenario.drift_at[0]
            for e in c.runs["online, guardrails"].log
        )
        for c in runs
    ]
    assert 0 < sum(fired) < len(runs)  # the page counts them: "on k of the 5 seeds"
    for c, alarmed in zip(runs, fired):
        guarded, plain = (events_to_recover(c.runs[k]) for k in ("online, guardrails", "online"))
        assert alarmed or guarded == plain  # the guardrails change the recovery only by an alarm


def test_the_chapter_quotes_its_settings_from_chapter_sizes():
    source = code("comparison")
    assert "SIZES = comparison.CHAPTER_SIZES" in source
    assert 'glue(f"size_{setting}", f"{value:,}", display=False)' in source
    assert "**SIZES" in source  # the runs use the same settings the prose quotes
    assert set(SIZES) >= {"n_initial", "n_stream", "drift_at", "retrain_every", "online_batch"}


def test_the_poisoned_replay_stops_where_its_cost_is_measured_with_the_same_drop(cmp):
    start, stop = cmp.poison
    assert {len(tl) for tl in cmp.poisoned.values()} == {stop + 500}
    full = dm.simulate(
        dm.scenarios.poison_labels(cmp.scenario, start, stop - start, seed=0),
        comparison.guarded_online(),
        metrics.Accuracy(),
    )  # the whole stream, poisoned: the events after stop + 500 change nothing measured
    assert full.y_pred[: stop + 500] == cmp.poisoned["online, guardrails"].y_pred
    truth = cmp.scenario.y
    drop = 100 * (
        cmp.runs["online, guardrails"].window_score(start, stop + 500, y_true=truth)
        - full.window_score(start, stop + 500, y_true=truth)
    )
    assert drop == cmp.poison_drop()["online, guardrails"]
