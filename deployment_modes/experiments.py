"""The experiments of the Batch and Online learning chapters, as functions of a seed.

The chapters reach them as ``dm.experiments.NAME``: this module gathers the Batch chapter's
(:mod:`~deployment_modes.batch_experiments`) and the Online chapter's
(:mod:`~deployment_modes.online_experiments`).
"""

from __future__ import annotations

# the settings, reachable as dm.experiments.NAME and documented where they are defined
from .batch_experiments import BASELINE as BASELINE
from .batch_experiments import (
    baseline_timeline,
    batch_timeline,
    drift_runs,
    house_runs,
    retrain_sweep,
    sweep_summary,
)
from .online_experiments import GUARDRAILS as GUARDRAILS
from .online_experiments import LEARNING_RATE as LEARNING_RATE
from .online_experiments import POISON as POISON
from .online_experiments import (
    cold_start,
    guardrail_runs,
    learning_rate_runs,
    learning_rate_sweep,
    online_runs,
    online_timeline,
)

__all__ = [
    "baseline_timeline",
    "batch_timeline",
    "cold_start",
    "drift_runs",
    "guardrail_runs",
    "house_runs",
    "learning_rate_runs",
    "learning_rate_sweep",
    "online_runs",
    "online_timeline",
    "retrain_sweep",
    "sweep_summary",
]
