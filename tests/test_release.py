"""Shadow and canary releases: the decision rests on labelled evidence, is logged, and is all the users see.

The chapter's claims are in test_late_labels_claims.py."""

import math

import pytest
from river import metrics
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

import deployment_modes as dm
from deployment_modes.release import sign_test, two_proportion_test
from deployment_modes.release_experiment import candidate_and_stream, release_run


def test_shadow_scores_each_prediction_against_its_own_late_label():
    champion, challenger, events = candidate_and_stream(3, "good", n_release=400)
    import copy

    alone = {
        name: dm.simulate(events, copy.deepcopy(dep), metrics.Accuracy(), delay=40)
        for name, dep in (("champion", champion), ("challenger", challenger))
    }
    release = dm.ShadowRelease(champion, challenger, evidence=100)
    tl = dm.simulate(events, release, metrics.Accuracy(), delay=40)
    d = release.decision
    assert d["champion_error"] == pytest.approx(1 - alone["champion"].window_score(0, 100))
    assert d["challenger_error"] == pytest.approx(1 - alone["challenger"].window_score(0, 100))
    assert (
        d["predicted"] == 100 + 39
    )  # the 100th label came back 39 predictions later (river's delay)
    kinds = [e.kind for e in tl.log]
    assert kinds.count("promote") == 1 and tl.entries("promote")["at"].tolist() == [100]
    step = d["predicted"] - 1  # the step of the last prediction before the decision
    assert tl.model_version[step - 1] + 1 == tl.model_version[step]


def toy():
    X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    fitted = dm.BatchDeployment(LogisticRegression())
    fitted.fit_initial(X, y)
    return X, y, fitted


def test_with_alpha_an_equal_challenger_is_not_promoted():
    X, y, fitted = toy()
    release = dm.ShadowRelease(
        dm.BatchDeployment(LogisticRegression()), fitted, evidence=8, alpha=0.05
    )
    release.fit_initial(X, y)
    for i in range(8):
        x = {"x0": float(i % 4)}
        release.predict_one(x)
        release.learn_one(x, y[i % 4])
    assert release.decision["promoted"] is False and release.decision["p_value"] == 1.0
    assert "alpha 0.05" in release.log[-1].detail


def test_statistics():
    assert sign_test(0, 0) == 1.0 and sign_test(10, 0) == pytest.approx(2**-10)
    assert two_proportion_test(10, 100, 10, 100) == pytest.approx(0.5)
    assert two_proportion_test(0, 0, 1, 1) == 1.0


def test_bad_arguments_are_refused():
    X, y, fitted = toy()
    other = dm.BatchDeployment(LogisticRegression())
    with pytest.raises(TypeError, match="challenger"):
        dm.ShadowRelease(other, object())
    with pytest.raises(ValueError, match="two different"):
        dm.ShadowRelease(other, other)
    with pytest.raises(ValueError, match="evidence"):
        dm.ShadowRelease(other, fitted, evidence=0)
    with pytest.raises(ValueError, match="fraction"):
        dm.CanaryRelease(other, fitted, fraction=1.0)
    with pytest.raises(ValueError, match="alpha"):
        dm.ShadowRelease(other, fitted, alpha=0.05, task="regression")
    with pytest.raises(ValueError, match="task"):
        dm.ShadowRelease(other, fitted, task="ranking")
    with pytest.raises(ValueError, match="candidate"):
        release_run(0, "stale")
    with pytest.raises(ValueError, match="too few labels"):
        release_run(0, "good", "canary", evidence=1000, n_release=300)


def test_regression_errors_are_absolute():
    X, y = [[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]
    good = dm.BatchDeployment(LinearRegression())
    good.fit_initial(X, y)
    bad = dm.BatchDeployment(
        DummyRegressor(strategy="constant", constant=0.0)
    )  # predicts a constant
    bad.fit_initial(X, [0, 0, 0])
    release = dm.ShadowRelease(
        dm.BatchDeployment(LinearRegression()), bad, evidence=3, task="regression"
    )
    release.fit_initial(X, y)
    for v in (3.0, 4.0, 5.0):
        release.predict_one({"x0": v})
        release.learn_one({"x0": v}, v)
    assert release.decision["champion_error"] == pytest.approx(0.0, abs=1e-9)
    assert release.decision["challenger_error"] == pytest.approx(4.0)
    assert not release.decision["promoted"] and not math.isnan(release.decision["challenger_error"])
