import copy
import itertools
import math
import pickle
import random
import re
import socket

import numpy as np
import pandas as pd
import pytest
from conftest import guarded
from river import (
    datasets,
    evaluate,
    linear_model,
    metrics,
    naive_bayes,
    neighbors,
    preprocessing,
    tree,
)
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.naive_bayes import MultinomialNB

import deployment_modes as dm
from deployment_modes import events_to_recover, sgd_model, sweep_learning_rate


def take(dataset, n):
    return list(itertools.islice(dataset, n))


def dumps(model):
    """Pickle bytes, made canonical by a round trip (object sharing, such as interned strings, then matches)."""
    return pickle.dumps(pickle.loads(pickle.dumps(model)))


# -- equality with river's progressive validation ------------------------------------------------

STREAMS = {
    "phishing, logistic, accuracy": (
        lambda: take(datasets.Phishing(), 600),
        lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression(),
        metrics.Accuracy,
    ),
    "phishing, logistic, ROC AUC (probabilities)": (
        lambda: take(datasets.Phishing(), 600),
        lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression(),
        metrics.ROCAUC,
    ),
    "bananas, Hoeffding tree, F1": (
        lambda: take(datasets.Bananas(), 800),
        tree.HoeffdingTreeClassifier,
        metrics.F1,
    ),
    "drifting hyperplane, naive Bayes, accuracy": (
        lambda: list(
            dm.scenarios.drifting_classification(seed=3, n_initial=10, n_stream=900, drift_at=400)
        ),
        naive_bayes.GaussianNB,
        metrics.Accuracy,
    ),
    "trump approval, linear regression, MAE": (
        lambda: take(datasets.TrumpApproval(), 500),
        lambda: preprocessing.StandardScaler() | linear_model.LinearRegression(),
        metrics.MAE,
    ),
    "house prices, kNN regression, RMSE": (
        lambda: list(dm.scenarios.house_prices(seed=1, n_initial=10, n_stream=400)),
        lambda: preprocessing.StandardScaler() | neighbors.KNNRegressor(),
        metrics.RMSE,
    ),
}


@pytest.mark.parametrize("name", list(STREAMS))
def test_score_equals_river_progressive_validation(name):
    data, make, metric = STREAMS[name]
    events = data()
    expected = evaluate.progressive_val_score(events, make(), metric())
    tl = dm.simulate(events, dm.OnlineDeployment(make()), metric())
    assert tl.score == expected.get()


def test_monitoring_does_not_change_predictions():
    events = take(datasets.Phishing(), 600)
    make = lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression()
    plain = dm.simulate(events, dm.OnlineDeployment(make()), metrics.Accuracy())
    watched = dm.simulate(events, dm.OnlineDeployment(make(), monitor=True), metrics.Accuracy())
    assert plain.y_pred == watched.y_pred


def test_scikit_learn_adapter_equals_a_partial_fit_loop():
    sc = dm.scenarios.drifting_classification(seed=1, n_initial=200, n_stream=400, drift_at=200)
    tl = dm.simulate(
        sc, dm.OnlineDeployment(SGDClassifier(random_state=0), classes=[0, 1]), metrics.Accuracy()
    )
    model = SGDClassifier(random_state=0).partial_fit(
        sc.X_initial.to_numpy(), sc.y_initial, classes=[0, 1]
    )
    by_hand = []
    for x, y in sc:
        row = np.array([[x[c] for c in sc.features]])
        by_hand.append(int(model.predict(row)[0]))
        model.partial_fit(row, [y])
    assert tl.y_pred == by_hand


def test_scikit_learn_regressor_and_untrained_start():
    events = list(dm.scenarios.house_prices(seed=0, n_initial=10, n_stream=50))
    dep = dm.OnlineDeployment(SGDRegressor(random_state=0))
    assert dep.predict_one(events[0][0]) is None  # nothing learned yet
    tl = dm.simulate(events, dep, metrics.MAE())
    assert tl.y_pred[0] is None and all(p is not None for p in tl.y_pred[1:]) and dep.n_seen == 50


def test_pretrained_estimator_with_text_transform_needs_no_fit_initial():
    vectorizer = HashingVectorizer(n_features=2**10, alternate_sign=False)
    estimator = MultinomialNB().partial_fit(
        vectorizer.transform(["good movie", "bad film"]), ["pos", "neg"], classes=["neg", "pos"]
    )
    dep = dm.OnlineDeployment(estimator, classes=["neg", "pos"], transform=vectorizer)
    assert dep.predict_one({"text": "a good movie"}) == "pos"
    assert set(dep.predict_proba_one({"text": "bad"})) == {"neg", "pos"}
    before = estimator.feature_count_.copy()
    dep.learn_one({"text": "an awful film"}, "neg")
    assert dep.model_version == 1 and dep.n_seen == 1
    np.testing.assert_array_equal(
        estimator.feature_count_, before
    )  # the caller's estimator is untouched


def test_fit_initial_trains_version_one_from_a_fresh_copy():
    sc = dm.scenarios.drifting_classification(seed=0, n_initial=300, n_stream=100, drift_at=50)
    dep = dm.OnlineDeployment(sgd_model("classification", 0.1))
    for x, y in itertools.islice(sc, 20):
        dep.learn_one(x, y)
    dep.fit_initial(*sc.initial)
    fresh = dm.OnlineDeployment(sgd_model("classification", 0.1))
    fresh.fit_initial(*sc.initial)
    assert dep.model_version == 1 and dep.n_seen == 0 and [e.kind for e in dep.log] == ["train"]
    assert dumps(dep.model) == dumps(fresh.model)


def test_same_events_give_an_equal_model_and_pickle_resumes_exactly():
    sc = dm.scenarios.poison_labels(
        dm.scenarios.drifting_classification(seed=0, n_initial=300, n_stream=1500, drift_at=1000),
        400,
        200,
    )
    options = dict(checkpoint_every=100, max_pause=300, gate=50)
    a, b = guarded(sgd_model("classification", 0.1), **options), None
    a.fit_initial(*sc.initial)
    events = list(sc)
    for i, (x, y) in enumerate(events):
        a.predict_one(x)
        a.learn_one(x, y)
        if i == 700:
            b = pickle.loads(pickle.dumps(a))
    for x, y in events[701:]:
        b.predict_one(x)
        b.learn_one(x, y)
    assert dumps(a.model) == dumps(b.model) and a.model_version == b.model_version
    assert [vars(e) | {"seconds": 0} for e in a.log] == [vars(e) | {"seconds": 0} for e in b.log]


def test_mini_batches_update_once_per_batch_with_learn_many():
    sc = dm.scenarios.drifting_classification(seed=0, n_initial=100, n_stream=200, drift_at=100)
    dep = dm.OnlineDeployment(sgd_model("classification", 0.1), batch_size=50)
    dep.fit_initial(*sc.initial)
    versions = []
    for x, y in sc:
        dep.learn_one(x, y)
        versions.append(dep.model_version)
    assert versions[48] == 1 and versions[49] == 2 and versions[-1] == 5
    one_by_one = dm.OnlineDeployment(sgd_model("classification", 0.1))
    one_by_one.fit_initial(*sc.initial)
    for x, y in sc:
        one_by_one.learn_one(x, y)
    w_batch = dep.model.steps["LogisticRegression"].weights
    w_one = one_by_one.model.steps["LogisticRegression"].weights
    assert w_batch != w_one  # an averaged step per batch, not a loop of single steps


# -- guardrails ----------------------------------------------------------------------------------


def replay(scenario, dep, on_event=None):
    dep.fit_initial(*scenario.initial)
    for x, y in scenario:
        if on_event:
            on_event("before", dep)
        dep.predict_one(x)
        dep.learn_one(x, y)
        if on_event:
            on_event("after", dep)
    return dep


def test_rollback_restores_the_checkpoint_exactly(poisoned_stream):
    _, sc = poisoned_stream
    seen = {"rollbacks": 0}

    def check(when, dep):
        if when == "before":
            seen["n_log"] = len(dep.log)
            seen["saved"] = dumps(dep.checkpoints[0][1].model) if dep.checkpoints else None
        elif any(e.kind == "rollback" for e in dep.log[seen["n_log"] :]):
            assert dumps(dep.model) == seen["saved"]
            seen["rollbacks"] += 1

    replay(sc, guarded(sgd_model("classification", 0.1), checkpoint_every=200), check)
    assert seen["rollbacks"] >= 1


def test_a_paused_model_does_not_change(poisoned_stream):
    _, sc = poisoned_stream
    seen = {"paused_events": 0}

    def check(when, dep):
        if when == "before":
            seen["was_paused"], seen["model"], seen["version"] = (
                dep.paused,
                dumps(dep.model),
                dep.model_version,
            )
        elif seen["was_paused"] and dep.paused:
            assert dumps(dep.model) == seen["model"] and dep.model_version == seen["version"]
            seen["paused_events"] += 1

    dep = replay(sc, guarded(sgd_model("classification", 0.1), max_pause=500), check)
    assert seen["paused_events"] > 100
    kinds = [e.kind for e in dep.log]
    assert kinds.index("alarm") <= kinds.index("pause") < kinds.index("resume")


def test_the_gate_never_serves_a_candidate_that_did_worse(poisoned_stream):
    _, sc = poisoned_stream
    seen = {"swaps": 0, "rejects": 0}

    def check(when, dep):
        if when == "before":
            seen["n_log"], seen["model"] = len(dep.log), dumps(dep.model)
            seen["candidate"] = dumps(dep.candidate.model)
            return
        for entry in dep.log[seen["n_log"] :]:
            if entry.kind in ("swap", "reject"):
                served, candidate = map(
                    float,
                    re.search(r"served ([\d.e+-]+), candidate ([\d.e+-]+)", entry.detail).groups(),
                )
                seen[entry.kind + "s"] += 1
                if entry.kind == "swap":
                    assert candidate <= served
                else:
                    assert candidate > served and dumps(dep.model) == seen["model"]

    replay(sc, guarded(sgd_model("classification", 0.1), gate=100), check)
    assert seen["swaps"] > 0 and seen["rejects"] > 0


def test_guardrails_are_off_by_default_and_plain_learning_matches_river(poisoned_stream):
    _, sc = poisoned_stream
    dep = dm.OnlineDeployment(sgd_model("classification", 0.1))
    assert dep.monitor is None and isinstance(dep, dm.OnlineDeployment)
    replay(sc, dep)
    assert [e.kind for e in dep.log] == ["train"] and dep.model_version == len(sc) + 1


# -- the chapter's claims live in tests/test_online_claims.py ------------------------------------


def test_mini_batches_move_the_model_less_per_event():
    stream = dm.scenarios.drifting_classification(seed=0)

    def recover(lr, size):
        tl = dm.simulate(
            stream,
            dm.OnlineDeployment(sgd_model("classification", lr), batch_size=size),
            metrics.Accuracy(),
        )
        return events_to_recover(tl)

    assert recover(0.1, 50) is None and recover(0.1, None) < recover(1.0, None) < recover(1.0, 50)


# -- data is bundled: no network ------------------------------------------------------------------


def test_stock_prices_need_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("apple", "bitcoin", "brent"):
        sc = dm.scenarios.stock_prices(name, lags=2, n_initial=50, step=5)
        assert sc.task == "regression" and np.all(np.isfinite(sc.y))


# -- bad input: a clear error, the model unchanged ---------------------------------------------


@pytest.fixture
def trained():
    sc = dm.scenarios.drifting_classification(seed=0, n_initial=200, n_stream=50, drift_at=25)
    dep = dm.Rollback(
        dm.OnlineDeployment(sgd_model("classification", 0.1), monitor=True), checkpoint_every=10
    )
    dep.fit_initial(*sc.initial)
    for x, y in itertools.islice(sc, 5):
        dep.learn_one(x, y)
    return dep, next(iter(sc))[0]


@pytest.mark.parametrize(
    "change, error, words",
    [
        (lambda x: {**x, "x0": math.nan}, ValueError, "x['x0'] must be finite"),
        (lambda x: {**x, "x1": math.inf}, ValueError, "x['x1'] must be finite"),
        (lambda x: {**x, "x2": np.float64("-inf")}, ValueError, "must be finite"),
        (lambda x: {k: v for k, v in x.items() if k != "x3"}, ValueError, "missing ['x3']"),
        (lambda x: {**x, "extra": 1.0}, ValueError, "extra ['extra']"),
        (lambda x: {**x, "x0": None}, TypeError, "x['x0'] must be a number"),
        (lambda x: [1, 2, 3], TypeError, "x must be a dict"),
    ],
)
def test_bad_features_raise_and_leave_the_model_unchanged(trained, change, error, words):
    dep, x = trained
    state = dumps(dep)
    with pytest.raises(error, match=re.escape(words)):
        dep.learn_one(change(x), 1)
    with pytest.raises(error, match=re.escape(words)):
        dep.predict_one(change(x))
    assert dumps(dep) == state


@pytest.mark.parametrize(
    "label, error, words",
    [
        ("yes", TypeError, "y must be a class label like the earlier ones"),
        (0.5, TypeError, "y must be a class label"),
        (None, TypeError, "y must be a class label"),
    ],
)
def test_bad_labels_raise_and_leave_the_model_unchanged(trained, label, error, words):
    dep, x = trained
    state = dumps(dep)
    with pytest.raises(error, match=re.escape(words)):
        dep.learn_one(x, label)
    assert dumps(dep) == state


def test_bad_regression_labels_and_unknown_classes():
    reg = dm.OnlineDeployment(linear_model.LinearRegression())
    reg.learn_one({"a": 1.0}, 2.0)
    for label, error in [
        ("2", TypeError),
        (True, TypeError),
        (math.nan, ValueError),
        (math.inf, ValueError),
    ]:
        state = dumps(reg)
        with pytest.raises(error, match="y must be"):
            reg.learn_one({"a": 1.0}, label)
        assert dumps(reg) == state
    clf = dm.OnlineDeployment(SGDClassifier(random_state=0), classes=[0, 1])
    with pytest.raises(ValueError, match=r"y must be one of the classes \[0, 1\], got 2"):
        clf.learn_one({"a": 1.0}, 2)
    assert clf.n_seen == 0 and clf.model_version == 0


def test_failed_fit_initial_leaves_the_deployment_as_it_was(trained):
    dep, _ = trained
    state = dumps(dep)
    X = pd.DataFrame(
        {"x0": [0.0, 1.0, math.nan], "x1": [0.0, 1.0, 2.0], "x2": [0.0] * 3, "x3": [1.0] * 3}
    )
    with pytest.raises(ValueError, match=r"X row 2\['x0'\] must be finite"):
        dep.fit_initial(X, [0, 1, 0])
    with pytest.raises(ValueError, match="one label per row"):
        dep.fit_initial(X.iloc[:2], [0, 1, 0])
    with pytest.raises(TypeError, match=r"y\[0\] must be a class label"):
        dep.fit_initial(X.iloc[:2], np.array([0, 0.5]))
    assert dumps(dep) == state


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"model": None}, TypeError, "model must be"),
        ({"model": object()}, TypeError, "must have a partial_fit() method"),
        ({"model": SGDClassifier()}, ValueError, "classes must list every class label"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
        ({"window": 0}, ValueError, "window must be a positive int"),
        ({"monitor": "yes"}, TypeError, "monitor must be True or False"),
        ({"metric": "accuracy"}, TypeError, "metric must have a update() method"),
        ({"detector": 3}, TypeError, "detector must have a update() method"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, words):
    kwargs = {"model": linear_model.LogisticRegression(), **kwargs}
    with pytest.raises(error, match=re.escape(words)):
        dm.OnlineDeployment(kwargs.pop("model"), **kwargs)


@pytest.mark.parametrize(
    "wrap, error, words",
    [
        (
            lambda dep: dm.Rollback(dep, checkpoint_every=1.5),
            TypeError,
            "checkpoint_every must be a positive int",
        ),
        (lambda dep: dm.Pause(dep, max_pause=-1), ValueError, "max_pause must be a positive int"),
        (lambda dep: dm.Pause(dep, tolerance=-0.1), ValueError, "tolerance must be a number >= 0"),
        (lambda dep: dm.ValidationGate(dep, every="10"), TypeError, "every must be a positive int"),
        (
            lambda dep: dm.Rollback(dm.OnlineDeployment(linear_model.LogisticRegression())),
            ValueError,
            "deployment must be monitored",
        ),
        (
            lambda dep: dm.Pause(linear_model.LogisticRegression()),
            TypeError,
            "deployment must be an OnlineDeployment",
        ),
    ],
)
def test_bad_guardrail_arguments(wrap, error, words):
    with pytest.raises(error, match=re.escape(words)):
        wrap(dm.OnlineDeployment(linear_model.LogisticRegression(), monitor=True))


def test_guardrails_compose_in_either_order_and_report_the_wrapped_deployment():
    core = dm.OnlineDeployment(sgd_model("classification", 0.1), monitor=True)
    dep = dm.ValidationGate(dm.Pause(dm.Rollback(core)))
    assert dep.core is core and dep.model is core.model and dep.log is core.log
    assert isinstance(dep, dm.Deployment) and not dep.deployment.paused
    sc = dm.scenarios.poison_labels(
        dm.scenarios.drifting_classification(seed=2, n_initial=300, n_stream=1500, drift_at=1400),
        600,
        300,
    )
    tl = dm.simulate(sc, dep, metrics.Accuracy())
    kinds = [e.kind for e in tl.log]
    at = next(e.at for e in tl.log if e.kind == "rollback")
    same_event = [e.kind for e in tl.log if e.at == at]
    assert same_event[:3] == [
        "alarm",
        "rollback",
        "pause",
    ]  # a rollback acts before a pause, whatever the order
    assert "swap" in kinds and dep.n_seen == len(sc) == core.n_seen


def test_bad_scenario_and_helper_arguments():
    clean = dm.scenarios.drifting_classification(seed=0, n_initial=20, n_stream=100, drift_at=50)
    with pytest.raises(ValueError, match="name must be one of"):
        dm.scenarios.stock_prices("tesla")
    with pytest.raises(ValueError, match="n_initial"):
        dm.scenarios.stock_prices("bitcoin", n_initial=10_000)
    with pytest.raises(ValueError, match="start \\+ length"):
        dm.scenarios.poison_labels(clean, 90, 20)
    with pytest.raises(ValueError, match="classification"):
        dm.scenarios.poison_labels(dm.scenarios.house_prices(n_initial=10, n_stream=30), 1, 2)
    with pytest.raises(TypeError, match="scenario must be a Scenario"):
        dm.scenarios.poison_labels([], 1, 2)
    with pytest.raises(ValueError, match="rates must be positive"):
        sweep_learning_rate(clean, [0.1, -1])
    with pytest.raises(ValueError, match="task must be"):
        sgd_model("ranking", 0.1)
    tl = dm.simulate(
        list(clean), dm.OnlineDeployment(linear_model.LogisticRegression()), metrics.Accuracy()
    )
    with pytest.raises(ValueError, match="at must be given"):
        events_to_recover(tl)
    with pytest.raises(ValueError, match="at must be inside"):
        events_to_recover(tl, 500)


def test_poison_labels_changes_only_the_burst():
    clean = dm.scenarios.drifting_classification(seed=0, n_initial=20, n_stream=300, drift_at=200)
    sc = dm.scenarios.poison_labels(clean, 100, 50)
    changed = np.nonzero(sc.y != clean.y)[0]
    assert changed.min() == 100 and changed.max() == 149 and len(changed) == 50
    assert sc.info["poisoned"] == (100, 150) and copy.deepcopy(clean.y).tolist() == clean.y.tolist()


@pytest.mark.parametrize("monitor", [False, True])
def test_a_failed_learn_one_changes_nothing_not_even_the_scaler(monitor):
    X, y = dm.scenarios.drifting_classification(seed=0, n_initial=200).initial
    dep = dm.OnlineDeployment(sgd_model("classification", 0.1), monitor=monitor)
    dep.fit_initial(X, y)
    x = X.iloc[0].to_dict()
    before = dumps(dep)
    for bad in ({**x, "x3": "oops"}, {**x, "x0": "1.0"}):
        with pytest.raises(TypeError, match=r"x\['x[03]'\] must be a number"):
            dep.learn_one(bad, True)
        with pytest.raises(TypeError, match=r"x\['x[03]'\]"):
            dep.predict_one(bad)
        assert dumps(dep) == before
    dep.learn_one(x, True)  # still learns
    assert dep.model_version == 2


def test_string_features_seen_in_training_are_still_accepted():
    from river import compose, preprocessing

    X = pd.DataFrame({"city": ["a", "b"] * 20, "size": np.arange(40.0)})
    model = (
        compose.Select("city") | preprocessing.OneHotEncoder() | linear_model.LogisticRegression()
    )
    dep = dm.OnlineDeployment(model)
    dep.fit_initial(X, np.array([True, False] * 20))
    dep.learn_one({"city": "c", "size": 3.0}, True)
    with pytest.raises(TypeError, match=r"x\['size'\]"):
        dep.learn_one({"city": "c", "size": "big"}, True)


def test_bad_constructor_arguments_are_named():
    with pytest.raises(TypeError, match="classes"):
        dm.OnlineDeployment(sgd_model("classification", 0.1), classes=5)
    with pytest.raises(ValueError, match="classes"):
        dm.OnlineDeployment(sgd_model("classification", 0.1), classes=[True])
    with pytest.raises(TypeError, match="detector"):
        dm.OnlineDeployment(sgd_model("classification", 0.1), detector={})
    with pytest.raises(TypeError, match="metric"):
        dm.OnlineDeployment(sgd_model("classification", 0.1), metric=metrics.Accuracy)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_monitor_equals_the_loop_a_user_writes_with_river(seed):
    """Same rolling accuracy, same alarms at the same events with the same error levels as a
    hand loop with river's Rolling accuracy and ADWIN (its estimation read before each update)."""
    from river import drift, utils

    from deployment_modes.monitor import Alarm

    rng = np.random.default_rng(seed)
    error_rate = np.repeat([0.05, 0.4, 0.1, 0.6], 700)
    labels = rng.integers(0, 2, len(error_rate)).tolist()
    preds = [y if rng.random() > e else 1 - y for y, e in zip(labels, error_rate)]
    monitor = dm.Monitor(classification=True, window=150)
    rolling, detector, expected = (
        utils.Rolling(metrics.Accuracy, window_size=150),
        drift.ADWIN(),
        [],
    )
    for i, (y, p) in enumerate(zip(labels, preds)):
        monitor.update(y, p, i)
        before = detector.estimation
        detector.update(float(p != y))
        rolling.update(y, p)
        if detector.drift_detected:
            expected.append(Alarm(i, before, detector.estimation))
        if i % 97 == 0:
            assert monitor.rolling.get() == rolling.get()
    assert len(expected) >= 3 and monitor.alarms == expected
    assert monitor.rolling.get() == rolling.get()


@pytest.mark.parametrize("classification", [True, False])
def test_the_monitor_steps_adwin_exactly_as_its_own_update_does(classification):
    """The monitor steps river's ADWIN without its wrapper: after every event the detector is in
    the state ``ADWIN.update`` leaves (level, width, detections, flag), the alarms carry the levels
    ``estimation`` gives, through several drifts and the restarts that follow them."""
    from river import drift

    from deployment_modes.monitor import Alarm

    rng = np.random.default_rng(7)
    level = np.repeat([0.05, 0.5, 0.1, 0.7, 0.2], 600)
    if classification:
        labels = rng.integers(0, 2, len(level)).tolist()
        preds = [y if rng.random() > e else 1 - y for y, e in zip(labels, level)]
    else:
        labels = rng.normal(0.0, 1.0, len(level)).tolist()
        preds = [y + rng.normal(0.0, 4 * e) for y, e in zip(labels, level)]
    monitor = dm.Monitor(classification=classification, window=50)
    detector, expected = drift.ADWIN(), []
    for i, (y, p) in enumerate(zip(labels, preds)):
        alarm = monitor.update(y, p, i)
        before = detector.estimation
        detector.update(dm.monitor.prediction_error(y, p, classification))
        if detector.drift_detected:
            expected.append(Alarm(i, before, detector.estimation))
        assert alarm == (expected[-1] if detector.drift_detected else None)
        ours = monitor.detector
        assert (ours.drift_detected, ours.width, ours.n_detections) == (
            detector.drift_detected,
            detector.width,
            detector.n_detections,
        )
        assert ours.estimation == detector.estimation and ours.variance == detector.variance
    assert len(expected) >= 3 and monitor.alarms == expected


def test_a_first_training_done_again_gives_the_same_model_and_its_own_copy():
    from deployment_modes import first_training

    sc = dm.scenarios.drifting_classification(seed=4, n_initial=300, n_stream=200, drift_at=100)
    first, again = (dm.OnlineDeployment(dm.sgd_model("classification", 0.05)) for _ in range(2))
    first.fit_initial(*sc.initial)
    key = first_training.training_key(first._initial, sc.X_initial, sc.y_initial.tolist(), 1)
    assert first_training.recall(key) is not None  # remembered: the second training is a copy
    again.fit_initial(*sc.initial)
    by_hand = dm.sgd_model("classification", 0.05)
    for x, y in zip(sc.X_initial.to_dict(orient="records"), sc.y_initial.tolist()):
        by_hand.learn_one(x, y)
    for x, _ in sc:
        assert first.model.predict_proba_one(x) == again.model.predict_proba_one(x)
        assert again.model.predict_proba_one(x) == by_hand.predict_proba_one(x)
    assert again.log[0].seconds == first.log[0].seconds  # the compute that training took
    again.learn_one(*next(iter(sc)))  # each deployment learns on its own copy
    x = next(iter(sc))[0]
    assert first.model.predict_proba_one(x) == by_hand.predict_proba_one(x)
    assert again.model.predict_proba_one(x) != by_hand.predict_proba_one(x)


def test_a_model_with_an_unset_seed_is_trained_anew():
    from river import forest

    from deployment_modes import first_training

    X = pd.DataFrame({"x0": [0.0, 1.0, 2.0]})
    assert first_training.training_key(forest.ARFClassifier(seed=None), X, [0, 1, 0], 1) is None
    assert first_training.training_key(forest.ARFClassifier(seed=1), X, [0, 1, 0], 1) is not None


@pytest.mark.parametrize("classification", [True, False])
def test_the_error_level_is_the_mean_prediction_error_of_the_last_events(classification):
    monitor, history = dm.Monitor(classification=classification, window=200), []
    rng = random.Random(1)
    for i in range(700):
        y = rng.randint(0, 1) if classification else rng.random() * 10
        p = rng.randint(0, 1) if classification else rng.random() * 10
        monitor.update(y, p, i)
        history.append((y, p))
        window = history[-200:]
        for last in (None, 1, 50, 200, 500):
            recent = window[-last:] if last else window
            errors = [dm.monitor.prediction_error(y_, p_, classification) for y_, p_ in recent]
            assert repr(monitor.error_level(last)) == repr(sum(errors) / len(errors))
    assert dm.Monitor(classification=True).error_level(5) == 0.0


def test_the_learning_rate_explorer_draws_given_runs_without_running_them_again(monkeypatch):
    """Given the sweep's runs, the explorer draws them (under its own names) and runs none again."""
    from river import metrics as river_metrics

    from deployment_modes import widgets

    sc = dm.scenarios.drifting_classification(n_initial=50, n_stream=300, drift_at=150)
    given = {
        lr: dm.simulate(
            sc,
            dm.OnlineDeployment(dm.sgd_model("classification", lr)),
            river_metrics.Accuracy(),
            name="online",
        )
        for lr in (0.01, 0.1)
    }
    drawn = []
    monkeypatch.setattr(widgets, "plot_timeline", lambda runs, **kw: drawn.append(runs))
    monkeypatch.setattr(widgets, "simulate", lambda *a, **kw: pytest.fail("ran again"))
    widgets.learning_rate_explorer(sc, river_metrics.Accuracy(), rates=(0.01, 0.1), runs=given)
    (runs,) = drawn
    assert list(runs) == ["learning rate 0.01", "learning rate 0.1"]
    assert [tl.y_pred for tl in runs.values()] == [given[0.01].y_pred, given[0.1].y_pred]
    assert given[0.01].name == "online"  # the given runs are left as they are
    with pytest.raises(ValueError, match="runs must be keyed by rates"):
        widgets.learning_rate_explorer(sc, river_metrics.Accuracy(), rates=(0.1,), runs=given)
    with pytest.raises(TypeError, match="runs"):
        widgets.learning_rate_explorer(sc, river_metrics.MAE(), rates=(0.01, 0.1), runs=given)
    other = dm.scenarios.drifting_classification(seed=1, n_initial=50, n_stream=300, drift_at=150)
    with pytest.raises(ValueError, match="runs"):
        widgets.learning_rate_explorer(
            other, river_metrics.Accuracy(), rates=(0.01, 0.1), runs=given
        )
