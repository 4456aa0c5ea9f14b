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

import importlib

__version__ = "0.1.0"

# Every name below loads its module on first use (PEP 562), so that ``import deployment_modes``
# costs nothing and a process loads only what it uses: the model server needs neither pandas,
# matplotlib nor ipywidgets, a chapter only its own experiments. ``dm.NAME`` and
# ``from deployment_modes import NAME`` work as for names imported eagerly.
_WHERE = {  # a public name -> the module that defines it
    "NaiveBaseline": "baselines",
    "BatchDeployment": "batch",
    "sweep_retrain_interval": "batch_experiments",
    "learn_chunk": "chunk_learning",
    "ChunkReader": "chunks",
    "read_chunks": "chunks",
    "cumulative_compute": "compute",
    "Recommendation": "decision",
    "recommend": "decision",
    "ModelPool": "drift_kinds",
    "Pause": "guardrails",
    "Rollback": "guardrails",
    "ValidationGate": "guardrails",
    "FeatureBounds": "input_guard",
    "InputGuard": "input_guard",
    "LeanKNeighborsRegressor": "lean_neighbors",
    "LeanLogisticRegression": "lean",
    "LeanSGDClassifier": "lean",
    "measure_peak": "memory",
    "Monitor": "monitor",
    "OnlineDeployment": "online",
    "sgd_model": "online",
    "sweep_learning_rate": "online",
    "HashedText": "out_of_core",
    "OutOfCoreTrainer": "out_of_core",
    "out_of_core_then_online": "out_of_core",
    "HitRate": "recommender",
    "TrendingRecommender": "recommender",
    "events_until_recommended": "recommender",
    "new_title_share": "recommender",
    "CanaryRelease": "release",
    "ShadowRelease": "release",
    "Scenario": "scenarios",
    "Deployment": "timeline",
    "LogEntry": "timeline",
    "Timeline": "timeline",
    "compare": "timeline",
    "events_to_recover": "timeline",
    "simulate": "timeline",
    "AlarmThenCollect": "triggers",
    "PerformanceTrigger": "triggers",
}


def __getattr__(name: str):
    """Load a public submodule, or the module that defines a public name, on first use."""
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in __all__:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # loaded once
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


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
    "segments",
    "server_figures",
    "sgd_model",
    "simulate",
    "sweep_figures",
    "sweep_learning_rate",
    "sweep_retrain_interval",
    "tables",
    "threads",
    "triggers",
    "widgets",
]
