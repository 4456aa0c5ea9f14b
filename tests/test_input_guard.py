"""Input guardrails: one extreme value damages an unguarded online model for good; the guard prevents it."""

import math
import pickle

import pandas as pd
import pytest
from river import metrics

import deployment_modes as dm
from deployment_modes.input_guard import (
    FeatureBounds,
    InputGuard,
    Verdict,
    extreme_value_experiment,
)

SEEDS = (0, 1, 2)


def weights_finite(dep) -> bool:
    return all(math.isfinite(w) for w in dep.model["LogisticRegression"].weights.values())


def attacked(seed, value, at=500, n_stream=2000):
    clean = dm.scenarios.drifting_classification(
        seed=seed, n_stream=n_stream + 200, drift_at=n_stream + 100
    )
    return clean.head(n_stream), dm.scenarios.extreme_value(clean.head(n_stream), at, "x0", value)


@pytest.mark.parametrize("seed", SEEDS)
def test_one_extreme_value_damages_the_unguarded_model_for_good(seed):
    clean, bad = attacked(seed, 1e200)
    dep = dm.OnlineDeployment(dm.sgd_model("classification", 0.1))
    tl = dm.simulate(bad, dep, metrics.Accuracy())
    reference = dm.simulate(
        clean, dm.OnlineDeployment(dm.sgd_model("classification", 0.1)), metrics.Accuracy()
    )
    assert not weights_finite(dep)  # NaN weights: every later prediction is the same class
    assert (
        tl.window_score(1000) < 0.56 < reference.window_score(1000) - 0.3
    )  # long after the one bad event


@pytest.mark.parametrize("seed", SEEDS)
def test_x0_1000_inflates_the_scalers_variance_for_good(seed):
    clean, bad = attacked(seed, 1000.0)
    damaged, reference = (
        dm.OnlineDeployment(dm.sgd_model("classification", 0.1)) for _ in range(2)
    )
    dm.simulate(bad, damaged, metrics.Accuracy())
    dm.simulate(clean, reference, metrics.Accuracy())
    variance = [dep.model["StandardScaler"].vars["x0"] for dep in (damaged, reference)]
    assert (
        variance[0] > 50 * variance[1]
    )  # x0 is squashed towards 0 after scaling: the model all but ignores it


@pytest.mark.parametrize("policy", ["reject", "clip", "hold"])
@pytest.mark.parametrize("value", [1000.0, 1e200, -1e200])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_input_guard_keeps_the_model_as_good_as_on_the_clean_stream(seed, value, policy):
    clean, bad = attacked(seed, value)
    guarded = InputGuard(dm.OnlineDeployment(dm.sgd_model("classification", 0.1)), policy)
    tl = dm.simulate(bad, guarded, metrics.Accuracy())
    reference = dm.simulate(
        clean, dm.OnlineDeployment(dm.sgd_model("classification", 0.1)), metrics.Accuracy()
    )
    assert weights_finite(guarded)
    assert abs(tl.window_score(501) - reference.window_score(501)) < 0.01
    assert [e.kind for e in guarded.log if e.kind.endswith(" input")] == [f"{policy} input"]
    assert len(guarded.held) == (policy == "hold") and guarded.rejected == (policy == "reject")


def test_the_guard_passes_a_clean_stream_untouched():
    clean, _ = attacked(0, 0.0)
    guarded = dm.simulate(
        clean,
        InputGuard(dm.OnlineDeployment(dm.sgd_model("classification", 0.1))),
        metrics.Accuracy(),
    )
    plain = dm.simulate(
        clean, dm.OnlineDeployment(dm.sgd_model("classification", 0.1)), metrics.Accuracy()
    )
    assert list(guarded.y_pred) == list(plain.y_pred)
    assert not [e for e in guarded.log if e.kind.endswith(" input")]


def test_check_is_the_servers_verdict():
    X, _ = dm.scenarios.drifting_classification(seed=0).initial
    bounds = FeatureBounds(X)
    x = X.iloc[0].to_dict()
    assert bounds.check(x) == Verdict(True)
    bad = {**x, "x0": 1e200, "x1": float("nan")}
    verdict = bounds.check(bad)
    assert not verdict.ok and [f for f, *_ in verdict.out_of_bounds] == ["x0", "x1"]
    assert "x0=1e+200 is outside its bounds" in verdict.describe()
    assert bounds.check(bounds.clip(bad)).ok
    again = FeatureBounds.from_dict(pickle.loads(pickle.dumps(bounds.to_dict())))
    assert again.check(bad) == verdict


def test_hold_keeps_events_for_review_and_release_learns_the_accepted_ones():
    X, y = dm.scenarios.drifting_classification(seed=0).initial
    guard = InputGuard(dm.OnlineDeployment(dm.sgd_model("classification", 0.1)), "hold")
    guard.fit_initial(X, y)
    x = X.iloc[0].to_dict()
    guard.learn_one({**x, "x0": 5.0}, True)
    guard.learn_one({**x, "x0": 1e200}, True)
    assert guard.model_version == 1 and len(guard.held) == 2
    assert guard.release(lambda x, y: x["x0"] < 100) == 1
    assert guard.model_version == 2 and guard.held == [] and weights_finite(guard)


def test_the_guard_wraps_guardrails_and_batch_deployments():
    from sklearn.linear_model import LogisticRegression

    _, bad = attacked(0, 1e200, n_stream=800, at=100)
    for inner in (
        dm.Rollback(dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True)),
        dm.BatchDeployment(LogisticRegression(), retrain_every=200),
    ):
        guard = InputGuard(inner)
        tl = dm.simulate(bad, guard, metrics.Accuracy())
        assert tl.score > 0.8 and guard.rejected == 1


def test_bad_arguments_name_themselves():
    core = dm.OnlineDeployment(dm.sgd_model("classification", 0.1))
    with pytest.raises(ValueError, match="policy"):
        InputGuard(core, "ignore")
    with pytest.raises(ValueError, match="margin"):
        InputGuard(core, margin=-1)
    with pytest.raises(TypeError, match="deployment"):
        InputGuard(object())
    with pytest.raises(TypeError, match="bounds"):
        InputGuard(core, bounds={"x0": (0, 1)})
    with pytest.raises(ValueError, match="finite"):
        FeatureBounds([[0.0], [float("nan")]])


def test_the_experiment_shows_what_the_chapter_claims():
    table = extreme_value_experiment(SEEDS, n_stream=1500, at=300).set_index(["seed", "run"])
    for seed in SEEDS:
        unguarded = table.loc[(seed, "unguarded")]
        assert not unguarded["finite_weights"]
        for policy in ("reject", "clip", "hold"):
            guarded = table.loc[(seed, policy)]
            assert guarded["finite_weights"] and guarded["guard_actions"] == 1
            assert guarded["accuracy_after"] > unguarded["accuracy_after"] + 0.2


def test_the_extreme_value_table_is_the_same_two_seeds_at_a_time():
    one = extreme_value_experiment((0, 1, 0), n_stream=400, at=100)
    two = extreme_value_experiment((0, 1, 0), n_stream=400, at=100, processes=2)
    pd.testing.assert_frame_equal(one, two)
    assert one["seed"].tolist() == [0] * 4 + [1] * 4 + [0] * 4
    with pytest.raises(ValueError, match="processes"):
        extreme_value_experiment((0,), n_stream=400, at=100, processes=3)
