"""Stateless and stateful retraining (refit="continue"), the performance trigger, the retraining experiments.

The Retraining chapter's claims are in test_retraining_claims.py.
"""

import copy

import numpy as np
import pytest
from river import metrics
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier, SGDRegressor

import deployment_modes as dm
from deployment_modes import retraining
from deployment_modes.drift_kinds import drift_stream


# -- refit="continue" ------------------------------------------------------------------------------
def test_continue_equals_a_hand_written_partial_fit_continuation():
    sc = drift_stream("sudden", 0, n_stream=600, drift_at=200)
    dep = dm.BatchDeployment(SGDClassifier(random_state=0), retrain_every=150, refit="continue")
    tl = dm.simulate(sc, dep, metrics.Accuracy())
    model = SGDClassifier(random_state=0).fit(sc.X_initial.to_numpy(), sc.y_initial)
    X, y = sc.X.to_numpy(), sc.y
    predictions = []
    for start in range(0, 600, 150):
        predictions += model.predict(X[start : start + 150]).tolist()
        model.partial_fit(X[start : start + 150], y[start : start + 150])
    assert tl.y_pred == predictions
    np.testing.assert_array_equal(dep.model.coef_, model.coef_)
    assert list(tl.retrains["rows"]) == [150] * 4 and list(tl.retrains["at"]) == [
        150,
        300,
        450,
        600,
    ]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_continue_uses_warm_start_when_there_is_no_partial_fit():
    sc = drift_stream("sudden", 1, n_stream=400, drift_at=100)
    dep = dm.BatchDeployment(LogisticRegression(max_iter=5), retrain_every=200, refit="continue")
    dm.simulate(sc, dep, metrics.Accuracy())
    hand = LogisticRegression(max_iter=5).fit(sc.X_initial.to_numpy(), sc.y_initial)
    with pytest.warns(
        Warning
    ):  # 5 iterations do not converge: the warm start is what carries the state
        for start in (0, 200):
            hand = (
                copy.deepcopy(hand)
                .set_params(warm_start=True)
                .fit(sc.X.to_numpy()[start : start + 200], sc.y[start : start + 200])
            )
    np.testing.assert_allclose(dep.model.coef_, hand.coef_)
    assert not dep.estimator.get_params()["warm_start"]  # the estimator given is left as it was


def test_continue_keeps_the_served_model_until_the_swap_and_logs_the_rows_used():
    sc = drift_stream("sudden", 2, n_stream=300, drift_at=100)
    dep = dm.BatchDeployment(SGDRegressor(random_state=0), refit="continue")
    X0, y0 = sc.X_initial.to_numpy(), sc.y_initial.astype(float)
    dep.fit_initial(X0, y0)
    for x, y in list(sc)[:40]:
        dep.learn_one(x, float(y))
    served = copy.deepcopy(dep.model)
    assert dep.stored_rows == 40
    candidate, rows, _ = dep.fit_candidate()
    np.testing.assert_array_equal(dep.model.coef_, served.coef_)  # fitted aside
    assert rows == 40 and not np.array_equal(candidate.coef_, served.coef_)
    dep.swap_in(candidate, rows, 0.0)
    assert dep.stored_rows == 0
    dep.retrain()  # nothing new since the swap: the same model again, on 0 rows
    assert dep.log[-1].rows == 0
    np.testing.assert_array_equal(dep.model.coef_, candidate.coef_)


def test_refit_checks_its_arguments():
    with pytest.raises(ValueError, match="refit"):
        dm.BatchDeployment(LinearRegression(), refit="fine-tune")
    with pytest.raises(ValueError, match="partial_fit or|warm_start"):
        dm.BatchDeployment(LinearRegression(), refit="continue")
    with pytest.raises(ValueError, match="window"):
        dm.BatchDeployment(SGDClassifier(), window=100, refit="continue")
    dm.BatchDeployment(LogisticRegression(), refit="continue")  # warm_start is enough


# -- the performance trigger -------------------------------------------------------------------------
def test_performance_trigger_fires_when_the_rolling_error_crosses_the_threshold():
    trigger = dm.PerformanceTrigger(max_error=0.25, window=20)
    fired = []
    for i, error in enumerate([0] * 100 + [1] * 10 + [0] * 100):
        trigger.update(error)
        if trigger.drift_detected:
            fired.append(i)
    assert fired == [105]  # the 6th error of the last 20 makes 30% > 25%; then a new window starts
    with pytest.raises(ValueError, match="max_error"):
        dm.PerformanceTrigger(max_error=-1)
    with pytest.raises(ValueError, match="window"):
        dm.PerformanceTrigger(window=0)


def test_ignore_columns_hides_the_time_feature():
    X = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 2.0]])
    model = retraining.IgnoreColumns(LinearRegression(), [0]).fit(X, [0.0, 2.0, 4.0])
    assert model.predict(np.array([[100.0, 3.0]])).round(6).tolist() == [6.0]
    assert clone(model).columns == (0,)


def test_experiments_check_their_arguments():
    with pytest.raises(ValueError, match="seeds"):
        retraining.run_seeds(lambda s: drift_stream(seed=s), {"x": lambda: dm.NaiveBaseline()}, [])
    with pytest.raises(TypeError, match="deployments"):
        retraining.run_seeds(lambda s: drift_stream(seed=s), {"x": dm.NaiveBaseline()}, [0])
    with pytest.raises(TypeError, match="runs"):
        retraining.compare_drift_kinds({})
    with pytest.raises(ValueError, match="recurring"):
        retraining.forgetting(
            retraining.run_seeds(
                lambda s: drift_stream(seed=s, n_stream=300, drift_at=100),
                {"x": lambda: dm.NaiveBaseline()},
                [0],
            )
        )


def test_moving_parts_name_stateful_training_and_the_performance_trigger():
    parts = dm.BatchDeployment(SGDClassifier(), retrain_every=100, refit="continue").moving_parts
    assert parts["training job, continuing the served model"] == "every 100 events"
    assert "store of labelled events since the last retrain" in parts
    parts = dm.BatchDeployment(SGDClassifier(), trigger=dm.PerformanceTrigger()).moving_parts
    assert parts["retraining job, from scratch"] == "when the rolling error crosses its threshold"
    assert "performance trigger on the served model's errors" in parts
