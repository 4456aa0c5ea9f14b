"""The fused steps of deployment_modes/sgd_step.py give river's predictions and river's state, bit for bit."""

from __future__ import annotations

import copy
import math
import pickle

import pytest
from river import compose, metrics, optim

import deployment_modes as dm
from deployment_modes import sgd_step
from deployment_modes.incremental import IncrementalModel


def state(model) -> tuple:
    """Every number the pipeline keeps, exactly (floats as repr: NaN equals NaN, -0.0 is not 0.0)."""
    scaler, lr = model.steps.values()

    def exact(d):
        return {k: repr(float(v)) for k, v in d.items()}

    return (
        dict(scaler.counts),
        exact(scaler.means),
        exact(scaler.vars),
        exact(lr._weights.to_dict()),
        repr(lr.intercept),
        lr.optimizer.n_iterations,
    )


def events(seed: int, n: int = 600, extreme_at: int | None = None, labels=int):
    sc = dm.scenarios.drifting_classification(seed=seed, n_initial=50, n_stream=n, drift_at=n // 2)
    rows = list(sc)
    if extreme_at is not None:
        x, y = rows[extreme_at]
        rows[extreme_at] = ({**x, "x0": 1e200}, y)
    return [(x, labels(y)) for x, y in rows]


def both_ways(stream, lr: float = 0.05, task: str = "classification", **changes):
    """(river's predictions and state, the fused steps' predictions and state) on ``stream``."""
    rivers, ours = dm.sgd_model(task, lr), dm.sgd_model(task, lr)
    assert sgd_step.fits(ours)
    got = {"river": [], "fused": []}
    for i, (x, y) in enumerate(stream):
        if i in changes:  # a setting changed mid-stream, in both
            for model in (rivers, ours):
                changes[i](model)
        got["river"].append(rivers.predict_one(x))
        got["fused"].append(sgd_step.predict_one(ours, x))
        rivers.learn_one(x, y)
        sgd_step.learn_one(ours, x, y)
    return (got["river"], state(rivers)), (got["fused"], state(ours))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("lr", [0.01, 0.05, 1.0])
def test_the_fused_steps_predict_and_learn_as_river(seed, lr):
    river_way, fused_way = both_ways(events(seed), lr)
    assert river_way == fused_way


def house_sales(seed: int, n: int = 600, extreme_at: int | None = None):
    sc = dm.scenarios.house_prices(seed=seed, n_initial=50, n_stream=n)
    rows = list(sc)
    if extreme_at is not None:
        x, y = rows[extreme_at]
        rows[extreme_at] = (x, 1e200)
    return rows


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("lr", [0.003, 0.05])
def test_the_fused_regression_steps_predict_and_learn_as_river(seed, lr):
    # a plain Python float each, the same bit for bit (the prices are floats, a label may be an int)
    stream = house_sales(seed) + [({**x, "surface": 80}, 200) for x, _ in house_sales(seed, 20)]
    river_way, fused_way = both_ways(stream, lr, task="regression")
    assert [repr(p) for p in river_way[0]] == [repr(p) for p in fused_way[0]]
    assert river_way[1] == fused_way[1]


def test_an_extreme_price_breaks_both_regressions_the_same_way():
    river_way, fused_way = both_ways(house_sales(0, extreme_at=100), task="regression")
    assert [repr(p) for p in river_way[0]] == [repr(p) for p in fused_way[0]]
    assert river_way[1] == fused_way[1]


@pytest.mark.parametrize("labels", [bool, int])
def test_an_extreme_value_breaks_both_the_same_way(labels):
    (predictions, after), fused_way = both_ways(events(0, extreme_at=100, labels=labels))
    assert (predictions, after) == fused_way
    assert any(math.isnan(float(v)) or math.isinf(float(v)) for v in after[3].values())


def test_a_new_feature_and_a_constant_one_as_river():
    stream = [({"a": 1.0, "c": 2.0}, 1), ({"a": 0.5, "c": 2.0}, 0)] * 20
    stream += [({"a": 0.2, "b": 3.0, "c": 2.0}, 1), ({"b": -1.0, "c": 2.0}, 0)] * 20
    river_way, fused_way = both_ways(stream)
    assert river_way == fused_way


def test_a_setting_changed_mid_stream_is_followed():
    def penalise(model):
        model["LogisticRegression"].l2 = 0.1

    def scheduled(model):
        model["LogisticRegression"].optimizer = optim.SGD(optim.schedulers.InverseScaling(0.5))

    def unscaled(model):
        model["StandardScaler"].with_std = False

    changes = {200: penalise, 400: scheduled}
    river_way, fused_way = both_ways(events(1), changes=changes)
    assert river_way == fused_way
    river_way, fused_way = both_ways(events(2), changes={300: unscaled})
    assert river_way == fused_way


def test_learning_during_predict_is_rivers_own():
    stream = events(2, n=200)
    with compose.learn_during_predict():
        river_way, fused_way = both_ways(stream)
    assert river_way == fused_way


def test_only_the_scaled_sgd_pipeline_fits():
    from river import linear_model, preprocessing

    assert sgd_step.fits(dm.sgd_model("classification", 0.3))
    assert sgd_step.fits(dm.sgd_model("regression", 0.3))
    assert not sgd_step.fits(
        preprocessing.StandardScaler() | linear_model.LinearRegression(loss=optim.losses.Huber())
    )
    assert not sgd_step.fits(
        preprocessing.StandardScaler()
        | linear_model.LogisticRegression(loss=optim.losses.Squared())
    )
    assert not sgd_step.fits(
        preprocessing.StandardScaler() | linear_model.LogisticRegression(l1=0.1)
    )
    assert not sgd_step.fits(
        preprocessing.StandardScaler(with_std=False) | linear_model.LogisticRegression()
    )
    assert not sgd_step.fits(
        preprocessing.StandardScaler() | linear_model.LogisticRegression(optimizer=optim.Adam())
    )


def test_the_incremental_model_follows_its_model_through_copies_and_pickles():
    learner = IncrementalModel(dm.sgd_model("classification", 0.05))
    for x, y in events(0, n=100):
        learner.learn_one(x, y)
    for twin in (copy.deepcopy(learner), pickle.loads(pickle.dumps(learner))):
        twin.learn_one({"x0": 0.5, "x1": 0.5, "x2": 0.5, "x3": 0.5}, 1)
        assert state(twin.model) != state(learner.model)  # the copy stepped its own model
        assert twin.predict_step.args[0] is twin.model and twin.learn_step.args[0] is twin.model
    learner.model = copy.deepcopy(
        twin.model
    )  # a new model object (a rollback, a recalled training)
    assert learner.predict_step.args[0] is learner.model


def test_a_learner_pickled_before_it_had_steps_gets_them():
    learner = IncrementalModel(dm.sgd_model("classification", 0.05))
    old = IncrementalModel.__new__(IncrementalModel)
    state = {k: v for k, v in vars(learner).items() if k not in ("predict_step", "learn_step")}
    state["model"] = state.pop("_model")
    old.__setstate__(state)
    x = {"x0": 0.5, "x1": 0.5, "x2": 0.5, "x3": 0.5}
    old.learn_one(x, 1)
    learner.learn_one(x, 1)
    assert state_of(old) == state_of(learner)


def state_of(learner):
    return state(learner.model), learner.predict_step.func, learner.learn_step.func


def run(seed: int) -> dict:
    """Every guardrail of the chapter on a short poisoned stream: per run, all but the timings."""
    clean = dm.scenarios.drifting_classification(
        seed=seed, n_initial=300, n_stream=1500, drift_at=1000
    )
    poisoned = dm.scenarios.poison_labels(clean, start=400, length=200, seed=seed)
    runs = {}
    for name, make in dm.experiments.GUARDRAILS.items():
        tl = dm.simulate(poisoned, make(dm.sgd_model("classification", 0.05)), metrics.Accuracy())
        log = [(e.at, e.kind, e.rows, e.detail) for e in tl.log]
        runs[name] = (tl.y_pred, tl.model_version.tolist(), repr(tl.rolling.tolist()), log)
    return runs


@pytest.mark.parametrize("seed", range(2))
def test_the_guardrails_run_as_with_rivers_own_steps(seed, monkeypatch):
    monkeypatch.setattr("deployment_modes.online.recall", lambda key: None)  # every training done
    fused = run(seed)
    monkeypatch.setattr(sgd_step, "fits", lambda model: False)
    assert run(seed) == fused


def test_the_pinned_river_is_a_checked_one_and_with_any_other_every_step_is_rivers(monkeypatch):
    """A new pin in constraints.txt fails here until this file's tests have run against it."""
    from pathlib import Path

    pins = Path(__file__).resolve().parents[1].joinpath("constraints.txt").read_text()
    pinned = next(line.split("==")[1] for line in pins.splitlines() if line.startswith("river=="))
    assert ".".join(pinned.split(".")[:2]) in sgd_step.CHECKED_RIVER
    model = dm.sgd_model("classification", 0.05)
    assert sgd_step.fits(model)
    monkeypatch.setattr(sgd_step, "STEPS_CHECKED", False)
    assert not sgd_step.fits(model)
