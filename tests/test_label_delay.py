"""Delayed labels on the shared timeline: river's simulate_qa semantics, checked against river itself."""

import datetime as dt

import numpy as np
import pytest
from river import (
    datasets,
    evaluate,
    linear_model,
    metrics,
    naive_bayes,
    preprocessing,
    stream,
    tree,
)
from sklearn.linear_model import Ridge

import deployment_modes as dm
from deployment_modes.label_delay import arrival_order


def trump_day(x):
    return dt.datetime(2000, 1, 1) + dt.timedelta(days=float(x["ordinal_date"]) - 736000)


# (dataset, model factory, metric factory, moment, delay): river's bundled datasets only
CASES = {
    "phishing-logreg-rocauc-7": (
        datasets.Phishing,
        lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression(),
        metrics.ROCAUC,
        None,
        7,
    ),
    "phishing-logreg-accuracy-100": (
        datasets.Phishing,
        lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression(),
        metrics.Accuracy,
        None,
        100,
    ),
    "phishing-tree-immediate": (
        datasets.Phishing,
        tree.HoeffdingTreeClassifier,
        metrics.Accuracy,
        None,
        None,
    ),
    "bananas-nb-callable": (
        datasets.Bananas,
        naive_bayes.GaussianNB,
        metrics.Accuracy,
        None,
        lambda x, y: 300 if y else 3,
    ),
    "bananas-tree-1": (datasets.Bananas, tree.HoeffdingTreeClassifier, metrics.F1, None, 1),
    "trump-linreg-days": (
        datasets.TrumpApproval,
        lambda: preprocessing.StandardScaler() | linear_model.LinearRegression(),
        metrics.MAE,
        "ordinal_date",
        30,
    ),
    "trump-linreg-timedelta": (
        datasets.TrumpApproval,
        lambda: preprocessing.StandardScaler() | linear_model.LinearRegression(),
        metrics.RMSE,
        trump_day,
        dt.timedelta(days=10),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_score_equals_rivers_progressive_val_score(case):
    dataset, model, metric, moment, delay = CASES[case]
    ours = dm.simulate(
        dataset(), dm.OnlineDeployment(model()), metric(), moment=moment, delay=delay
    )
    theirs = evaluate.progressive_val_score(
        dataset(), model(), metric(), moment=moment, delay=delay
    )
    assert ours.score == pytest.approx(theirs.get(), abs=1e-12)


@pytest.mark.parametrize(
    "moment,delay", [(None, 0), (None, 5), ("t", 2.5), ("t", lambda x, y: 10 * (y % 3))]
)
def test_arrival_order_is_rivers_simulate_qa(moment, delay):
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.integers(0, 3, 60)).tolist()  # ties included
    events = [({"t": t}, i) for i, t in enumerate(times)]
    ours = [(i, y) for i, _, y in arrival_order(events, moment=moment, delay=delay)]
    theirs = [(i, y) for i, _, y in stream.simulate_qa(events, moment, delay)]
    assert ours == theirs


def test_timeline_records_when_each_label_arrived():
    sc = dm.scenarios.drifting_classification(seed=0, n_initial=100, n_stream=300, drift_at=150)
    tl = dm.simulate(
        sc, dm.OnlineDeployment(dm.sgd_model("classification", 0.05)), metrics.Accuracy(), delay=50
    )
    n = len(tl)
    assert tl.label_delay[: n - 50].tolist() == [49] * (
        n - 50
    )  # river: due at i + 50, revealed before event i + 50
    assert (
        tl.label_at[n - 50 :] == n - 1
    ).all()  # still pending at the end: revealed after the last event
    immediate = dm.simulate(
        sc, dm.OnlineDeployment(dm.sgd_model("classification", 0.05)), metrics.Accuracy()
    )
    assert (immediate.label_delay == 0).all() and tl.to_frame()["label_delay"].max() == 49


def test_delay_zero_and_none_are_plain_prequential():
    sc = dm.scenarios.house_prices(seed=1, n_initial=100, n_stream=200)
    runs = [
        dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=50), metrics.MAE(), delay=d)
        for d in (None, 0, 1)
    ]
    assert runs[0].score == runs[1].score == runs[2].score
    assert runs[0].model_version.tolist() == runs[1].model_version.tolist()


def test_batch_retrain_uses_only_labels_that_have_arrived():
    sc = dm.scenarios.house_prices(seed=0, n_initial=100, n_stream=400)
    dep = dm.BatchDeployment(Ridge(), retrain_every=100)
    tl = dm.simulate(sc, dep, metrics.MAE(), delay=150)
    first = tl.retrains.iloc[0]
    # the first retrain happened once 100 labels had come back (the 100th just before event 249), on 100 + 100 rows
    assert first["rows"] == 200
    assert (
        tl.model_version[247] == 1 and tl.model_version[248] == 2
    )  # recorded after the labels that followed each event


def test_moment_must_not_go_back_and_bad_delays_are_refused():
    events = [({"t": 2}, 0), ({"t": 1}, 1)]
    with pytest.raises(ValueError, match="moment must not decrease"):
        list(arrival_order(events, moment="t", delay=1))
    sc = dm.scenarios.house_prices(n_initial=50, n_stream=50)
    dep = dm.BatchDeployment(Ridge())
    for delay, error in [
        (-1, ValueError),
        (2.5, TypeError),
        (dt.timedelta(days=1), TypeError),
        (True, TypeError),
    ]:
        with pytest.raises(error, match="delay"):
            dm.simulate(sc, dep, metrics.MAE(), delay=delay)
    with pytest.raises(TypeError, match="moment"):
        dm.simulate(sc, dep, metrics.MAE(), moment=3, delay=1)
    with pytest.raises(ValueError, match="moment names the feature"):
        dm.simulate(sc, dep, metrics.MAE(), moment="no such feature", delay=1.0)
    with pytest.raises(ValueError, match="delay must not be negative"):
        list(arrival_order(events[:1], moment="t", delay=lambda x, y: -1))
