"""Every public callable of the package, given random bad arguments (property-based, hypothesis).

A bad argument gives a ValueError or TypeError whose message names the argument, raised by the
package itself (never an error from deep inside numpy, pandas, scikit-learn or river), and a
failed call on a deployment changes nothing (its pickle is the same before and after).
"""

import inspect
import pickle
import re
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from river import drift, metrics
from sklearn.linear_model import LogisticRegression, SGDClassifier

import deployment_modes as dm
from deployment_modes.input_guard import FeatureBounds, InputGuard

PACKAGE = str(Path(dm.__file__).parent)
SC = dm.scenarios.drifting_classification(seed=0, n_initial=100, n_stream=300, drift_at=150)
X0, Y0 = SC.initial
X_EVENT, Y_EVENT = next(iter(SC))

BAD = st.one_of(
    st.sampled_from(
        [
            None,
            0,
            -1,
            1.5,
            1e200,
            float("nan"),
            float("inf"),
            -float("inf"),
            "",
            "abc",
            b"x",
            {},
            [],
            (),
            [None],
            [float("nan")],
            {"x0": "a"},
            object(),
            True,
            metrics.MAE,
            np.array([[1.0]]),
            -7,
        ]
    ),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(-3, 3), max_size=3),
)


def monitored():
    return dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True)


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("chunks") / "d.csv"
    pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) % 7, "y": np.arange(50) % 2}).to_csv(
        path, index=False
    )
    return path


@pytest.fixture(scope="module")
def timeline():
    return dm.simulate(
        SC, dm.OnlineDeployment(dm.sgd_model("classification", 0.1)), metrics.Accuracy()
    )


def calls(csv_file, timeline):
    """Each public callable with good arguments (built afresh: a call may change them)."""
    return {
        "AlarmThenCollect": (
            dm.AlarmThenCollect,
            lambda: {"detector": drift.ADWIN(), "collect": 30},
        ),
        "BatchDeployment": (
            dm.BatchDeployment,
            lambda: {
                "estimator": LogisticRegression(),
                "retrain_every": 100,
                "window": 50,
                "period": None,
                "time_feature": None,
                "trigger": None,
            },
        ),
        "ChunkReader": (
            dm.ChunkReader,
            lambda: {
                "path": csv_file,
                "target": "y",
                "chunk_rows": 10,
                "memory_budget": None,
                "columns": ["a", "b"],
                "dtype": None,
                "shuffle": False,
                "seed": 0,
                "shuffle_buffer": None,
                "on_bad_rows": "raise",
                "progress": False,
            },
        ),
        "read_chunks": (
            dm.read_chunks,
            lambda: {
                "path": csv_file,
                "target": "y",
                "chunk_rows": 10,
                "columns": ["a", "b"],
                "dtype": {"b": float},
                "shuffle": True,
                "seed": 0,
                "shuffle_buffer": 20,
                "on_bad_rows": "raise",
                "progress": False,
            },
        ),
        "HashedText": (
            lambda **kw: dm.HashedText(**kw).transform(pd.DataFrame({"text": ["a b", "c"]})),
            lambda: {"column": "text", "n_features": 16, "alternate_sign": False},
        ),
        "NaiveBaseline": (dm.NaiveBaseline, lambda: {"strategy": "majority"}),
        "PerformanceTrigger": (dm.PerformanceTrigger, lambda: {"max_error": 0.2, "window": 50}),
        "ModelPool": (
            dm.ModelPool,
            lambda: {
                "model": dm.sgd_model("classification", 0.1),
                "detector": drift.ADWIN(),
                "window": 30,
                "size": 3,
                "checkpoint_every": 100,
            },
        ),
        "ShadowRelease": (
            dm.ShadowRelease,
            lambda: {
                "champion": dm.OnlineDeployment(dm.sgd_model("classification", 0.1)),
                "challenger": dm.OnlineDeployment(dm.sgd_model("classification", 0.5)),
                "evidence": 100,
                "margin": 0.0,
                "alpha": None,
                "task": "classification",
            },
        ),
        "CanaryRelease": (
            dm.CanaryRelease,
            lambda: {
                "champion": dm.OnlineDeployment(dm.sgd_model("classification", 0.1)),
                "challenger": dm.OnlineDeployment(dm.sgd_model("classification", 0.5)),
                "fraction": 0.1,
                "seed": 0,
            },
        ),
        "Monitor": (
            dm.Monitor,
            lambda: {
                "metric": metrics.Accuracy(),
                "classification": True,
                "window": 10,
                "detector": drift.ADWIN(),
            },
        ),
        "OnlineDeployment": (
            dm.OnlineDeployment,
            lambda: {
                "model": dm.sgd_model("classification", 0.1),
                "classes": [False, True],
                "transform": None,
                "batch_size": None,
                "monitor": True,
                "metric": metrics.Accuracy(),
                "window": 20,
                "detector": drift.ADWIN(),
            },
        ),
        "OutOfCoreTrainer": (
            dm.OutOfCoreTrainer,
            lambda: {
                "estimator": SGDClassifier(),
                "classes": [0, 1],
                "transform": None,
                "holdout": None,
                "progress": False,
            },
        ),
        "Rollback": (dm.Rollback, lambda: {"deployment": monitored(), "checkpoint_every": 10}),
        "Pause": (dm.Pause, lambda: {"deployment": monitored(), "max_pause": 10, "tolerance": 0.2}),
        "ValidationGate": (dm.ValidationGate, lambda: {"deployment": monitored(), "every": 10}),
        "InputGuard": (
            InputGuard,
            lambda: {"deployment": monitored(), "policy": "clip", "margin": 1.0, "bounds": None},
        ),
        "FeatureBounds": (FeatureBounds, lambda: {"X": X0, "margin": 0.5}),
        "TrendingRecommender": (dm.TrendingRecommender, lambda: {"k": 5, "half_life": 3.0}),
        "compare": (
            dm.compare,
            lambda: {
                "scenario": SC.head(50),
                "deployments": {"online": dm.OnlineDeployment(dm.sgd_model("classification", 0.1))},
                "metric": metrics.Accuracy(),
            },
        ),
        "cumulative_compute": (dm.cumulative_compute, lambda: {"timeline": timeline}),
        "events_to_recover": (
            dm.events_to_recover,
            lambda: {"timeline": timeline, "at": 150, "tolerance": 0.02},
        ),
        "learn_chunk": (
            dm.learn_chunk,
            lambda: {
                "model": SGDClassifier(),
                "X": np.eye(2),
                "y": np.array([0, 1]),
                "classes": [0, 1],
                "transform": None,
            },
        ),
        "recommend": (
            dm.recommend,
            lambda: {
                "change": "slow",
                "data_gb": 1.0,
                "memory_gb": 16.0,
                "realtime": False,
                "prefer_stability": False,
                "label_delay": "days",
                "drift_kind": "sudden",
                "partial_fit": True,
            },
        ),
        "sgd_model": (dm.sgd_model, lambda: {"task": "classification", "lr": 0.1}),
        "simulate": (
            dm.simulate,
            lambda: {
                "source": SC.head(50),
                "deployment": dm.OnlineDeployment(dm.sgd_model("classification", 0.1)),
                "metric": metrics.Accuracy(),
                "window": 20,
                "name": None,
                "fit_initial": True,
            },
        ),
        "sweep_learning_rate": (
            dm.sweep_learning_rate,
            lambda: {"scenario": SC, "rates": [0.1], "metric": None, "window": 50},
        ),
        "sweep_retrain_interval": (
            dm.sweep_retrain_interval,
            lambda: {
                "scenario": SC,
                "estimator": LogisticRegression(),
                "intervals": [None],
                "metric": metrics.Accuracy(),
                "window": None,
            },
        ),
    }


# Public names that are not checked here, and why (a new public callable must be added above or here).
NOT_CALLED = {
    "Deployment": "a Protocol",
    "LogEntry": "a record",
    "Timeline": "a record made by simulate",
    "Recommendation": "a record made by recommend",
    "Scenario": "a record, checked in test_scenarios",
    "HitRate": "no arguments",
    "LeanLogisticRegression": "scikit-learn estimator: checks at fit",
    "LeanSGDClassifier": "scikit-learn estimator: checks at fit",
    "LeanKNeighborsRegressor": "scikit-learn estimator: checks at fit",
    "measure_peak": "starts processes (checked in its own tests)",
    "out_of_core_then_online": "writes a corpus (checked in test_out_of_core)",
    "events_until_recommended": "checked in test_scenarios",
    "new_title_share": "checked in test_scenarios",
}


def test_every_public_callable_is_covered(csv_file, timeline):
    public = {
        name
        for name in dm.__all__
        if inspect.isclass(getattr(dm, name)) or inspect.isfunction(getattr(dm, name))
    }
    assert public <= set(calls(csv_file, timeline)) | set(NOT_CALLED)


def assert_clear(error: BaseException, name: str) -> None:
    assert isinstance(error, (TypeError, ValueError)), f"{name}: {type(error).__name__}: {error}"
    assert re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", str(error)), (
        f"{name} not named in: {error}"
    )
    raised_in = traceback.extract_tb(error.__traceback__)[-1].filename
    assert raised_in.startswith(PACKAGE), f"{name}: raised inside {raised_in}: {error}"


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("target", sorted(set(calls(None, None))))
@SETTINGS
@given(data=st.data())
def test_a_bad_argument_is_named(target, data, csv_file, timeline):
    function, good = calls(csv_file, timeline)[target]
    kwargs = good()
    name = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    kwargs[name] = data.draw(BAD, label="value")
    try:
        function(**kwargs)
    except Exception as error:  # noqa: BLE001 - what kind of error is the point of the test
        if name == "path" and isinstance(error, FileNotFoundError):
            return
        assert_clear(error, name)


def trained():
    """A deployment of each kind, trained, and its calls that take an event."""
    batch = dm.BatchDeployment(LogisticRegression(), retrain_every=5)
    online = dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True)
    guarded = InputGuard(
        dm.Rollback(dm.OnlineDeployment(dm.sgd_model("classification", 0.1), monitor=True))
    )
    for dep in (batch, online, guarded):
        dep.fit_initial(X0, Y0)
    return {"batch": batch, "online": online, "guarded": guarded}


@pytest.mark.parametrize("kind", ["batch", "online", "guarded"])
@pytest.mark.parametrize("method", ["learn_one", "predict_one", "fit_initial"])
@SETTINGS
@given(data=st.data())
def test_a_failed_call_changes_nothing(kind, method, data):
    dep = trained()[kind]
    dep.learn_one(X_EVENT, Y_EVENT)
    if method == "fit_initial":
        X, y = X0.copy(), Y0.copy()
        what = data.draw(st.sampled_from(["X", "y", "row"]), label="what")
        if what == "X":
            X = data.draw(BAD, label="X")
        elif what == "y":
            y = data.draw(
                st.one_of(BAD, st.just(Y0.astype(str)), st.just(np.r_[Y0[:-1], 0.5])), label="y"
            )
        else:
            X.iloc[data.draw(st.integers(0, len(X) - 1))] = data.draw(
                st.sampled_from([np.nan, np.inf])
            )
        args, names = (X, y), {"X", "y"}
    else:
        key = data.draw(st.sampled_from(["x0", "x1", "nine"]), label="feature")
        value = data.draw(BAD, label="value")
        x = {**X_EVENT, key: value}
        if key == "nine" or data.draw(st.booleans(), label="bad x"):
            args, names = (x, Y_EVENT), {"x"}
        else:
            args, names = (X_EVENT, value), {"y"}
        if method == "predict_one":
            args = args[:1]
    before = pickle.dumps(dep)
    try:
        getattr(dep, method)(*args)
    except Exception as error:  # noqa: BLE001
        assert isinstance(error, (TypeError, ValueError)), f"{type(error).__name__}: {error}"
        assert any(re.search(rf"(?<![A-Za-z_]){n}(?![A-Za-z_])", str(error)) for n in names), str(
            error
        )
        assert pickle.dumps(dep) == before, "a failed call changed the deployment"
