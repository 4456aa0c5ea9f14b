"""The claims of the Comparison chapter (book/comparison.ipynb): its table and findings, on its runs (same scenario, same seed)."""

import numpy as np
import pandas as pd
import pytest
from river import metrics
from sklearn.linear_model import LogisticRegression, Ridge

import deployment_modes as dm
from deployment_modes import comparison
from deployment_modes import events_to_recover


@pytest.fixture(scope="module")
def cmp():
    return comparison.run_comparison(seed=0)  # the chapter's call


@pytest.fixture(scope="module")
def measures(cmp):
    return cmp.measures()


def test_table_has_every_row_of_the_notes_and_a_measured_value_in_each_cell(cmp):
    table = cmp.table()
    assert list(table.index) == ["where training happens", "how data is handled", "how the model is updated",
                                 "downtime", "memory usage", "adaptability", "risk", "complexity"]
    assert list(table.columns) == list(comparison.LINES)
    for row in table.index:
        for line in table.columns:
            words, _, value = table.loc[row, line].partition(": ")
            assert words and value, (row, line)
            assert any(ch.isdigit() for ch in value) or "pending" in value or "as online" in value, (row, line)


def test_pending_rows_are_marked(cmp):
    table = cmp.table()
    for name in cmp.pending:
        assert name in table.columns.name


def test_all_lines_ran_on_the_same_stream(cmp):
    truth = list(cmp.scenario.y)
    for tl in cmp.runs.values():
        assert list(tl.y_true) == truth and tl.drift_at == cmp.scenario.drift_at
    assert set(comparison.LINES) <= set(cmp.runs)


def test_online_recovers_faster_than_batch_after_the_drift(cmp, measures):
    recover = measures.loc["events to recover after the drift"]
    online = recover["online"]
    assert online is not None and online < 1000
    batch = recover["batch"]
    assert batch is None or pd.isna(batch) or batch > online
    assert recover["batch, drift-triggered"] > online
    assert recover["out-of-core, then online"] < recover["batch, drift-triggered"]
    after = measures.loc["accuracy after the drift (%)"]
    assert after["online"] > after["batch, drift-triggered"] > after["batch"]


def test_batch_retrain_compute_grows_faster_than_online(cmp, measures):
    halves = measures.loc["training compute, 2nd half / 1st half"]
    assert halves["online"] == pytest.approx(1.0, abs=0.01)  # linear: one row per event
    assert halves["batch"] > 1.5                              # each retrain fits everything kept
    compute = cmp.compute()
    increments = np.diff(compute["batch"].to_numpy())
    retrain_rows = increments[increments > 0]
    assert np.all(np.diff(retrain_rows) > 0)                 # every retrain costs more than the last


def test_memory_grows_with_the_data_for_batch_only(cmp, measures):
    growth = measures.loc["memory growth with the data"]
    data = cmp.memory.attrs["data growth"]
    assert growth["batch"] > 0.8 * data
    assert growth["online"] < 1.1
    assert growth["out-of-core, then online"] < 1.1


def test_online_without_guardrails_drops_more_under_poisoning(cmp, measures):
    drop = measures.loc["accuracy drop when poisoned (points)"]
    guarded = measures.loc["... with guardrails (points)"]
    assert drop["online"] > 10
    assert guarded["online"] < drop["online"] / 5
    assert drop["batch"] < drop["online"]
    assert drop["batch, drift-triggered"] > drop["batch"]    # the alarm retrains on the poisoned window


def test_guardrails_slow_the_response_to_a_real_drift(cmp):
    assert events_to_recover(cmp.runs["online, guardrails"]) >= events_to_recover(cmp.runs["online"])


def test_drift_triggered_batch_retrains_after_an_alarm_only(cmp):
    drift = cmp.scenario.drift_at[0]
    at = cmp.runs["batch, drift-triggered"].retrains["at"]
    assert len(at) >= 1 and (at > drift).any()
    assert len(at) < len(cmp.runs["batch"].retrains)


def test_complexity_counts_moving_parts(measures):
    parts = measures.loc["moving parts"]
    assert parts["out-of-core, then online"] > parts["online"]


def test_cumulative_compute_counts_retrains_and_updates():
    sc = dm.scenarios.house_prices(seed=0, n_initial=100, n_stream=300)
    batch = dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=100), metrics.MAE())
    online = dm.simulate(sc, dm.OnlineDeployment(dm.online.sgd_model("regression", 0.001)), metrics.MAE())
    assert dm.cumulative_compute(batch)[-1] == 100 + 200 + 300 + 400
    assert dm.cumulative_compute(online)[-1] == 100 + 300
    with pytest.raises(TypeError, match="timeline"):
        dm.cumulative_compute([1, 2])


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
    return dm.examples.real_world_examples(seed=0)  # the chapter's call


def test_real_world_examples_back_the_notes_advice(examples):
    table, runs = examples
    assert list(table.index) == ["house prices", "stock trading", "text corpus"]
    houses, stocks = runs["house prices"], runs["stock trading"]
    periodic = "batch, every 250"
    # house prices: online gains little (within 5%) over a batch retrain
    assert abs(houses["online"].score - houses[periodic].score) < 0.05 * houses[periodic].score
    # stock trading: the static model goes stale, online keeps up
    assert stocks["online"].score < stocks[periodic].score < stocks["batch, static"].score


def test_text_corpus_trains_in_one_chunk_of_memory_then_continues_online(examples):
    _, runs = examples
    history, online = runs["text corpus"]["history"], runs["text corpus"]["online"]
    chunk = history["chunk_mb"]
    assert chunk.max() < 1.1 * chunk.min()                    # flat, chunk after chunk
    assert chunk.sum() > 5 * chunk.max()                       # loading it all holds every chunk
    assert history["score"].iloc[-1] > 0.8 and online.score > 0.8
    assert online.model_version[-1] == 1 + len(online)         # learned from every new document


def test_downtime_row_reads_the_measurement():
    measured = {"naive": {"seconds": 2.5, "failed": 400, "requests": 500},
                "swap": {"seconds": 0.0, "failed": 0, "requests": 90},
                "online": {"seconds": 0.0, "failed": 0, "requests": 300}}
    cmp = comparison.run_comparison(n_initial=300, n_stream=1200, drift_at=800, retrain_every=300, poison_start=100,
                                    poison_length=100, chunk_rows=100, downtime=measured)
    row = cmp.table().loc["downtime"]
    assert "2.5 s down" in row["batch"] and "400 of 500" in row["batch"]
    assert "0 of 300" in row["online"] and "model server downtime" not in cmp.pending
    with pytest.raises(TypeError, match="downtime"):
        comparison.run_comparison(downtime={"naive": 1})


@pytest.mark.slow
def test_naive_redeploy_has_downtime_atomic_swap_and_online_have_none():
    measured = dm.downtime.measure_downtime(dm.scenarios.drifting_classification(seed=0), n_events=500)
    assert measured["naive"]["failed"] > 0 and measured["naive"]["seconds"] > 0
    assert measured["swap"]["failed"] == 0 and measured["online"]["failed"] == 0
