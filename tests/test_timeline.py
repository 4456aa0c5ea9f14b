import numpy as np
import pytest
from river import linear_model, metrics, preprocessing
from sklearn.linear_model import LogisticRegression, Ridge

import deployment_modes as dm


class Echo:
    """A deployment that predicts the previous label: easy to check by hand."""

    model_version = 1
    log = []

    def fit_initial(self, X, y):
        self.last = y[-1]

    def predict_one(self, x):
        return self.last

    def learn_one(self, x, y):
        self.last = y


def test_prediction_comes_before_the_label_is_revealed():
    stream = [({"a": 0.0}, 1), ({"a": 0.0}, 2), ({"a": 0.0}, 2), ({"a": 0.0}, 5)]
    dep = Echo()
    dep.last = None
    tl = dm.simulate(stream, dep, metrics.MAE())
    assert tl.y_pred == [None, 1, 2, 2]
    assert tl.score == pytest.approx((1 + 0 + 3) / 3)  # the first event had no prediction
    assert (
        np.isnan(tl.rolling[0]) and tl.rolling[1] == 1.0
    )  # no rolling value before anything is scored


def test_timeline_frame_and_rolling_metric():
    sc = dm.scenarios.drifting_classification(n_initial=200, n_stream=500, drift_at=250)
    tl = dm.simulate(
        sc,
        dm.BatchDeployment(LogisticRegression(), retrain_every=100),
        metrics.Accuracy(),
        window=50,
    )
    frame = tl.to_frame()
    assert list(frame.columns) == [
        "time",
        "y_true",
        "y_pred",
        "model_version",
        "rolling",
        "label_delay",
    ]
    assert len(frame) == 500
    last50 = (frame.y_true.iloc[-50:] == frame.y_pred.iloc[-50:]).mean()
    assert tl.rolling[-1] == pytest.approx(last50)
    assert tl.window_score(0) == pytest.approx(tl.score)
    assert tl.drift_at == (250,)


def test_the_metric_given_is_not_changed():
    metric = metrics.MAE()
    dm.simulate(
        dm.scenarios.house_prices(n_initial=50, n_stream=50), dm.BatchDeployment(Ridge()), metric
    )
    assert metric.get() == 0.0


def test_river_model_on_a_plain_stream_matches_a_hand_loop():
    sc = dm.scenarios.drifting_classification(n_initial=10, n_stream=400, drift_at=200)

    class RiverDeployment:
        model_version, log = 1, []

        def __init__(self):
            self.model = preprocessing.StandardScaler() | linear_model.LogisticRegression()

        def fit_initial(self, X, y):
            pass

        def predict_one(self, x):
            return self.model.predict_one(x)

        def learn_one(self, x, y):
            self.model.learn_one(x, y)

    tl = dm.simulate(iter(sc), RiverDeployment(), metrics.Accuracy())
    model, metric = (
        preprocessing.StandardScaler() | linear_model.LogisticRegression(),
        metrics.Accuracy(),
    )
    for x, y in sc:
        metric.update(y, model.predict_one(x))
        model.learn_one(x, y)
    assert tl.score == metric.get()


def test_compare_runs_every_deployment_on_the_same_scenario():
    sc = dm.scenarios.house_prices(n_initial=100, n_stream=200)
    out = dm.compare(
        sc,
        {
            "static": dm.BatchDeployment(Ridge()),
            "retrained": dm.BatchDeployment(Ridge(), retrain_every=50),
        },
        metrics.MAE(),
    )
    assert list(out) == ["static", "retrained"]
    assert out["static"].y_true == out["retrained"].y_true
    assert len(out["retrained"].retrains) == 4 and out["static"].retrains.empty


@pytest.mark.parametrize(
    "args, error, match",
    [
        (("not a deployment", metrics.MAE()), TypeError, "deployment"),
        ((dm.BatchDeployment(Ridge()), "mae"), TypeError, "metric"),
    ],
)
def test_bad_arguments_name_themselves(args, error, match):
    sc = dm.scenarios.house_prices(n_initial=20, n_stream=20)
    with pytest.raises(error, match=match):
        dm.simulate(sc, *args)


def test_a_trained_deployment_meets_the_scenario_stream_as_it_is():
    sc = dm.scenarios.drifting_classification(seed=1, n_initial=200, n_stream=300, drift_at=150)
    dep = dm.OnlineDeployment(linear_model.LogisticRegression())
    dep.fit_initial(*sc.initial)
    trained = dm.simulate(sc, dep, metrics.Accuracy(), name="already trained", fit_initial=False)
    assert trained.name == "already trained" and trained.drift_at == sc.drift_at
    assert list(trained.times) == list(sc.times)
    assert [e.kind for e in trained.log] == ["train"]  # the one training, before simulate
    fresh = dm.simulate(
        sc, dm.OnlineDeployment(linear_model.LogisticRegression()), metrics.Accuracy()
    )
    assert fresh.y_pred == trained.y_pred and fresh.name == "OnlineDeployment"
    with pytest.raises(TypeError, match="fit_initial"):
        dm.simulate(sc, dep, metrics.Accuracy(), fit_initial="no")
    with pytest.raises(TypeError, match="name"):
        dm.simulate(sc, dep, metrics.Accuracy(), name=3)


def test_an_empty_stream_is_refused():
    dep = Echo()
    with pytest.raises(ValueError, match="empty"):
        dm.simulate([], dep, metrics.MAE())


def test_window_must_be_positive():
    sc = dm.scenarios.house_prices(n_initial=20, n_stream=20)
    with pytest.raises(ValueError, match="window"):
        dm.simulate(sc, dm.BatchDeployment(Ridge()), metrics.MAE(), window=0)


def test_plot_draws_every_timeline_with_labelled_axes():
    import matplotlib

    matplotlib.use("Agg")
    sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=300, drift_at=150)
    tls = dm.compare(
        sc,
        {
            "a": dm.BatchDeployment(LogisticRegression()),
            "b": dm.BatchDeployment(LogisticRegression(), retrain_every=100),
        },
        metrics.Accuracy(),
    )
    ax = dm.plots.plot_timeline(tls)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "a",
        "b",
        "retrain",
    ]  # the marks in words
    assert ax.get_ylabel() == "rolling Accuracy" and ax.get_xlabel() == "events since deployment"
    with pytest.raises(TypeError, match="timelines"):
        dm.plots.plot_timeline([1, 2])


def test_window_score_against_other_labels():
    sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=300, drift_at=150)
    tl = dm.simulate(sc, dm.BatchDeployment(LogisticRegression()), metrics.Accuracy())
    flipped = 1 - np.asarray(tl.y_true)
    assert tl.window_score(0, y_true=flipped) == pytest.approx(1 - tl.score)
    with pytest.raises(ValueError, match="y_true"):
        tl.window_score(0, y_true=[1, 0])


@pytest.mark.parametrize("metric", [metrics.Accuracy(), metrics.F1()])
@pytest.mark.parametrize("window", [1, 50, 200])
def test_labels_at_once_walk_as_the_ordered_walk(metric, window):
    """Without a delay simulate takes a shorter loop (and rolls accuracy after it): the same timeline."""
    sc = dm.scenarios.drifting_classification(seed=3, n_initial=100, n_stream=700, drift_at=300)
    poisoned = dm.scenarios.poison_labels(sc, 200, 100)
    runs = []
    for moment in (None, lambda x: 0):  # a moment: the ordered walk of label_delay.arrival_order
        guarded = dm.Pause(
            dm.OnlineDeployment(linear_model.LogisticRegression(), monitor=True), max_pause=50
        )
        cold = dm.OnlineDeployment(
            preprocessing.StandardScaler() | linear_model.LogisticRegression()
        )
        echo = Echo()
        echo.last = None  # no prediction for the first event: not scored
        runs.append(
            [
                dm.simulate(poisoned, guarded, metric, window=window, moment=moment),
                dm.simulate(sc, cold, metric, window=window, moment=moment, fit_initial=False),
                dm.simulate(list(sc), echo, metric, window=window, moment=moment),
            ]
        )
    for at_once, ordered in zip(*runs):
        assert at_once.y_pred == ordered.y_pred and at_once.y_true == ordered.y_true
        assert at_once.score == ordered.score
        np.testing.assert_array_equal(at_once.rolling, ordered.rolling)  # NaN where nothing scored
        np.testing.assert_array_equal(at_once.model_version, ordered.model_version)
        np.testing.assert_array_equal(at_once.label_at, ordered.label_at)
        assert [(e.at, e.kind) for e in at_once.log] == [(e.at, e.kind) for e in ordered.log]
    assert runs[0][2].y_pred[0] is None and np.isnan(runs[0][2].rolling[0])


def test_a_missing_label_is_refused():
    stream = [({"a": 0.0}, 1), ({"a": 1.0}, None)]
    dep = Echo()
    dep.last = None
    with pytest.raises(ValueError, match="no label"):
        dm.simulate(stream, dep, metrics.MAE())
