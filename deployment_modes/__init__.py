"""deployment_modes: how a model keeps learning after it is deployed.

The companion package of the course. One shared timeline (:func:`simulate`) runs any
deployment (batch, online, out-of-core then online) on any :mod:`scenario <deployment_modes.scenarios>`.

>>> import deployment_modes as dm
>>> from river import metrics
>>> from sklearn.linear_model import Ridge
>>> sc = dm.scenarios.house_prices(seed=0, n_initial=300, n_stream=600)
>>> tl = dm.simulate(sc, dm.BatchDeployment(Ridge(), retrain_every=200), metric=metrics.MAE())
>>> tl.score < 60, list(tl.retrains["rows"])
(True, [500, 700, 900])
"""

from . import (
    batch_experiments,
    chunk_learning,
    comparison,
    compute,
    corpus,
    decision,
    decision_sim,
    delay_experiment,
    detectors,
    downtime,
    drift_kinds,
    examples,
    experiments,
    guardrails,
    incremental,
    input_guard,
    label_delay,
    label_join,
    memory,
    monitor,
    online_experiments,
    rating,
    release,
    release_experiment,
    retraining,
    scenarios,
    seeds,
    tables,
    triggers,
)
from .baselines import NaiveBaseline
from .batch import BatchDeployment, sweep_retrain_interval
from .chunk_learning import learn_chunk
from .chunks import ChunkReader, read_chunks
from .compute import cumulative_compute
from .decision import Recommendation, recommend
from .drift_kinds import ModelPool
from .guardrails import Pause, Rollback, ValidationGate
from .input_guard import FeatureBounds, InputGuard
from .lean import LeanKNeighborsRegressor, LeanLogisticRegression, LeanSGDClassifier
from .memory import measure_peak
from .monitor import Monitor
from .online import OnlineDeployment, sgd_model, sweep_learning_rate
from .out_of_core import HashedText, OutOfCoreTrainer, out_of_core_then_online
from .recommender import HitRate, TrendingRecommender, events_until_recommended, new_title_share
from .release import CanaryRelease, ShadowRelease
from .scenarios import Scenario
from .timeline import (
    Deployment,
    LogEntry,
    Timeline,
    compare,
    events_to_recover,
    simulate,
)
from .triggers import AlarmThenCollect, PerformanceTrigger

__version__ = "0.1.0"


# modules that import matplotlib or ipywidgets: loaded on first use, not by ``import deployment_modes``
_LAZY = ("data_figures", "figure_style", "plots", "server_figures", "sweep_figures", "widgets")


def __getattr__(name: str):
    """The figure modules and ``widgets`` load matplotlib and ipywidgets on first use (a server needs neither)."""
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AlarmThenCollect",
    "BatchDeployment",
    "CanaryRelease",
    "ChunkReader",
    "Deployment",
    "FeatureBounds",
    "HashedText",
    "HitRate",
    "InputGuard",
    "LeanKNeighborsRegressor",
    "LeanLogisticRegression",
    "LeanSGDClassifier",
    "LogEntry",
    "ModelPool",
    "Monitor",
    "NaiveBaseline",
    "OnlineDeployment",
    "OutOfCoreTrainer",
    "Pause",
    "PerformanceTrigger",
    "Recommendation",
    "Rollback",
    "Scenario",
    "ShadowRelease",
    "Timeline",
    "TrendingRecommender",
    "ValidationGate",
    "chunk_learning",
    "compare",
    "comparison",
    "compute",
    "corpus",
    "cumulative_compute",
    "data_figures",
    "decision",
    "decision_sim",
    "delay_experiment",
    "detectors",
    "downtime",
    "drift_kinds",
    "events_to_recover",
    "events_until_recommended",
    "examples",
    "batch_experiments",
    "experiments",
    "figure_style",
    "guardrails",
    "incremental",
    "input_guard",
    "label_delay",
    "label_join",
    "learn_chunk",
    "measure_peak",
    "memory",
    "monitor",
    "online_experiments",
    "new_title_share",
    "out_of_core_then_online",
    "plots",
    "rating",
    "read_chunks",
    "recommend",
    "release",
    "release_experiment",
    "retraining",
    "scenarios",
    "seeds",
    "server_figures",
    "sgd_model",
    "simulate",
    "sweep_figures",
    "sweep_learning_rate",
    "sweep_retrain_interval",
    "tables",
    "triggers",
    "widgets",
]
