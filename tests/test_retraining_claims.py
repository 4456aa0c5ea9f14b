"""The claims of the Retraining chapter (book/retraining.ipynb), on its own seeds and sizes.

Each prose claim of the chapter (a comparison that holds on every seed, or the count it glues) is
asserted here on SEEDS and N_STREAM, the chapter's defaults.
"""

import numpy as np
import pandas as pd
import pytest
from chapter_code import HAND_COUNTED_COMPUTE, code, glue_lines
from river import metrics
from sklearn.base import clone

import deployment_modes as dm
from deployment_modes import detectors, retraining
from deployment_modes.drift_kinds import drift_stream

SEEDS, N_STREAM = range(5), 1000  # as in the chapter


def test_the_chapters_hand_written_trigger_loop_equals_the_package():
    stream = drift_stream("sudden", 0, n_stream=N_STREAM, drift_at=400)
    model = dm.LeanSGDClassifier(random_state=0).fit(stream.X_initial.to_numpy(), stream.y_initial)
    rows, labels = list(stream.X_initial.to_numpy()), list(stream.y_initial)
    recent, predictions, at = [], [], []
    for i, (x, y) in enumerate(zip(stream.X.to_numpy(), stream.y)):
        p = model.predict([x])[0]
        predictions.append(int(p))
        recent = (recent + [p != y])[-100:]
        rows.append(x), labels.append(y)
        if len(recent) == 100 and np.mean(recent) > 0.2:
            model = clone(model).fit(rows[-300:], labels[-300:])
            at.append(i + 1)
            recent = []
    tl = dm.simulate(
        stream,
        dm.BatchDeployment(
            dm.LeanSGDClassifier(random_state=0),
            window=300,
            trigger=dm.PerformanceTrigger(0.2, window=100),
        ),
        metrics.Accuracy(),
    )
    assert tl.y_pred == predictions and list(tl.retrains["at"]) == at and len(at) >= 2


def _by_line(table):
    return {line: group.set_index("run") for line, group in table.groupby("line")}


@pytest.fixture(scope="module")
def refit():
    return _by_line(retraining.compare_refit(SEEDS, n_stream=N_STREAM))


def test_stateful_beats_stateless_after_the_drift_and_costs_less(refit):
    stateful, window, all_data = (
        refit["stateful (continue)"],
        refit["stateless, last 300"],
        refit["stateless, all data"],
    )
    assert (stateful["score"] > all_data["score"]).all()
    assert (stateful["score"] > window["score"]).sum() >= 4  # the chapter glues the count
    assert (window["score"] > all_data["score"]).all()  # all the data is slow to forget
    assert (stateful["rows_per_retrain"] < window["rows_per_retrain"]).all()
    assert (window["rows_per_retrain"] < all_data["rows_per_retrain"]).all()
    assert (stateful["data_kept"] < window["data_kept"]).all() and (
        window["data_kept"] < all_data["data_kept"]
    ).all()
    assert (all_data["score"] > refit["baseline: majority"]["score"]).all()


@pytest.fixture(scope="module")
def triggers():
    return _by_line(retraining.compare_triggers(SEEDS, n_stream=N_STREAM))


def test_four_triggers(triggers):
    four = ("time", "volume", "performance", "drift")
    for line in four:
        assert (triggers[line]["score"] > triggers["baseline: majority"]["score"]).all(), line
    assert (
        abs(triggers["time"]["score"].mean() - triggers["volume"]["score"].mean()) < 0.03
    )  # alike
    means = {line: triggers[line]["score"].mean() for line in four}
    assert max(means, key=means.get) == "performance" and min(means, key=means.get) == "drift"
    others = np.minimum.reduce(
        [triggers[line]["retrains"] for line in ("time", "volume", "performance")]
    )
    assert (triggers["drift"]["retrains"] < others).all()


@pytest.fixture(scope="module")
def kinds():
    runs = retraining.run_drift_kinds(seeds=SEEDS, n_stream=N_STREAM, drift_at=300, width=300)
    table = retraining.compare_drift_kinds(runs, drift_at=300)
    return {key: group.set_index("run") for key, group in table.groupby(["kind", "line"])}


def test_online_copes_best_with_every_kind_of_drift_on_every_seed(kinds):
    for kind in dm.drift_kinds.KINDS:
        for line in retraining.drift_modes():
            if line != "online":
                assert (kinds[(kind, "online")]["score"] > kinds[(kind, line)]["score"]).all(), (
                    kind,
                    line,
                )


def test_how_the_others_fare_on_each_kind(kinds):
    static = {kind: kinds[(kind, "batch, static")]["score"] for kind in dm.drift_kinds.KINDS}
    assert (static["sudden"] < 0.55).all()  # at chance after a sudden turn of 90 degrees
    assert (static["gradual"] > static["sudden"]).all() and (
        static["incremental"] > static["sudden"]
    ).all()
    assert (
        static["recurring"] > kinds[("recurring", "batch, every 200")]["score"]
    ).sum() >= 4  # glued count
    for kind in dm.drift_kinds.KINDS:
        assert (
            kinds[(kind, "batch, drift-triggered")]["compute_rows"]
            < kinds[(kind, "batch, every 200")]["compute_rows"]
        ).all()


@pytest.fixture(scope="module")
def forget():
    return _by_line(retraining.forgetting(retraining.run_forgetting(SEEDS)))


def test_forgetting_and_what_helps(forget):
    slow, fast, pool = (
        forget["online, slow (lr 0.05)"],
        forget["online, fast (lr 0.5)"],
        forget["slow + second model (pool)"],
    )
    window = forget["batch, every 100 on last 200"]
    assert (slow["back"] < slow["before"] - 0.1).all()  # it forgot A
    assert (pool["back"] > slow["back"]).all() and (pool["back"] > window["back"]).all()
    assert (window["back"] < window["before"]).all()
    assert (slow["back"] < fast["back"]).all()  # a slower rate relearns more slowly
    assert (slow["before"] > fast["before"]).all()  # and is more accurate on a stable concept
    assert (forget["baseline: majority"]["back"] < 0.6).all()


@pytest.fixture(scope="module")
def table():
    tables = {}
    for kind in ("sudden", "gradual"):
        streams = detectors.error_streams(
            kind, SEEDS, n_stream=N_STREAM, drift_at=int(0.6 * N_STREAM)
        )
        for setting, chosen in (
            ("default", detectors.default_detectors()),
            ("tuned", detectors.tuned_detectors()),
        ):
            tables[(kind, setting)] = detectors.summarize_detectors(
                detectors.measure_detectors(chosen, streams)
            )
    return pd.concat(tables, names=["drift", "setting", "detector"])


def test_chapter_claims_on_detectors(table):
    n = len(SEEDS)
    for kind in ("sudden", "gradual"):
        for name in ("PageHinkley", "KSWIN"):  # at their defaults they miss every drift here
            assert table.loc[(kind, "default", name), "missed"] == n
        for name in ("ADWIN", "DDM", "EDDM"):
            assert table.loc[(kind, "default", name), "missed"] < n
    adwin_default, adwin_tuned = (
        table.loc[("sudden", "default", "ADWIN")],
        table.loc[("sudden", "tuned", "ADWIN")],
    )
    assert adwin_default["missed"] >= 1 and adwin_tuned["missed"] == 0
    assert adwin_tuned["mean_delay"] < adwin_default["mean_delay"]
    for kind in (
        "sudden",
        "gradual",
    ):  # tuned PageHinkley: the quickest of those with no false alarm, no miss
        quiet = table.loc[kind][
            (table.loc[kind]["false_alarms_per_10k"] == 0) & (table.loc[kind]["missed"] == 0)
        ]
        assert quiet["mean_delay"].idxmin() == ("tuned", "PageHinkley")
    eddm = table.loc[("sudden", "default", "EDDM")]
    assert eddm["false_alarms_per_10k"] > 0 and eddm["mean_delay"] < adwin_default["mean_delay"]
    assert table.loc[("sudden", "tuned", "KSWIN"), "missed"] >= 1
    for name in (
        "ADWIN",
        "DDM",
        "EDDM",
    ):  # a gradual drift takes longer to notice (the drift-kinds section)
        assert (
            table.loc[("gradual", "default", name), "mean_delay"]
            > table.loc[("sudden", "default", name), "mean_delay"]
        )


def test_the_stateful_exercise_beats_the_same_schedule_from_scratch_on_its_stream():
    # the exercise "Stateful by hand": seed 0's sudden stream, every 100 events
    from deployment_modes.lean import LeanSGDClassifier

    stream = drift_stream("sudden", seed=0, n_stream=N_STREAM, drift_at=400)

    def after(**kwargs):
        dep = dm.BatchDeployment(LeanSGDClassifier(random_state=0), retrain_every=100, **kwargs)
        return dm.simulate(stream, dep, metrics.Accuracy()).window_score(stream.drift_at[0])

    assert after(refit="continue") > after(window=300)


def test_the_chapter_glues_training_compute_from_cumulative_compute():
    runs = retraining.run_seeds(
        lambda s: drift_stream("sudden", s, n_stream=300, drift_at=150),
        {"online": lambda: dm.OnlineDeployment(dm.sgd_model("classification", 0.05))},
        seeds=[0],
    )
    summary = retraining.summarize_runs(runs, 150)
    assert summary["compute_rows"].iloc[0] == dm.cumulative_compute(runs["online"][0])[-1]
    keys = ["kinds_rows_online", "kinds_rows_every", "kinds_rows_triggered"]
    assert all("compute_rows" in line for line in glue_lines("retraining", *keys))
    assert not HAND_COUNTED_COMPUTE.search(code("retraining"))
