"""Overhead of OnlineDeployment with monitoring on, against a bare river predict-then-learn loop.

Same model, same stream, one run: events per second of predict_one then learn_one, through
``dm.OnlineDeployment(model, monitor=True)`` (input checks, rolling metric, ADWIN on the error
stream, alarms logged) and through the loop a user would write with river alone; and, to see
what dominates, through the deployment with monitoring off (input checks only). Goal: the
deployment costs at most 1.15x the bare loop, and no more than the monitored loop a user writes
by hand (river's ``utils.Rolling(metrics.Accuracy, 200)`` and ADWIN on the errors). Rounds are
short and interleaved (bare, by hand, ours, ours unmonitored), best of each: the machine is shared.
Writes ``benchmarks/results/online_overhead.json``.

Run: ``PYTHONPATH=. python benchmarks/online_overhead.py [n_events]``
"""

from __future__ import annotations

import copy
import itertools
import json
import pathlib
import platform
import sys
import time

from river import datasets, linear_model, preprocessing, tree

import deployment_modes as dm


def bare_loop(model, events):
    start = time.process_time()
    for x, y in events:
        model.predict_one(x)
        model.learn_one(x, y)
    return time.process_time() - start


def hand_monitored_loop(model, events, window=200):
    """The monitored loop a user writes with river alone: rolling accuracy and ADWIN on the errors."""
    from river import drift, metrics, utils

    rolling, detector, alarms = (
        utils.Rolling(metrics.Accuracy, window_size=window),
        drift.ADWIN(),
        [],
    )
    start = time.process_time()
    for i, (x, y) in enumerate(events):
        p = model.predict_one(x)
        if p is not None:
            rolling.update(y, p)
            detector.update(float(p != y))
            if detector.drift_detected:
                alarms.append(i)
        model.learn_one(x, y)
    return time.process_time() - start


def deployment_loop(model, events, monitor=True):
    dep = dm.OnlineDeployment(model, monitor=monitor)
    start = time.process_time()
    for x, y in events:
        dep.predict_one(x)
        dep.learn_one(x, y)
    return time.process_time() - start, dep


def main(n: int = 20_000, repeats: int = 5) -> dict:
    stream = list(dm.scenarios.drifting_classification(seed=0))  # 4,000 events, drift at 2,000
    events = list(itertools.islice(itertools.cycle(stream), n))
    phishing = list(datasets.Phishing())
    models = {
        "StandardScaler | LogisticRegression (hyperplane stream)": (
            preprocessing.StandardScaler() | linear_model.LogisticRegression(),
            events,
        ),
        "HoeffdingTreeClassifier (hyperplane stream)": (tree.HoeffdingTreeClassifier(), events),
        "StandardScaler | LogisticRegression (Phishing)": (
            preprocessing.StandardScaler() | linear_model.LogisticRegression(),
            list(itertools.islice(itertools.cycle(phishing), n)),
        ),
    }
    rows = []
    for name, (model, data) in models.items():
        bare_loop(copy.deepcopy(model), data[:500])  # warm-up of both paths
        deployment_loop(copy.deepcopy(model), data[:500])
        bare = ours = checks_only = by_hand = float("inf")
        for _ in range(repeats):  # interleaved, best of each: the machine is shared
            bare = min(bare, bare_loop(copy.deepcopy(model), data))
            by_hand = min(by_hand, hand_monitored_loop(copy.deepcopy(model), data))
            seconds, dep = deployment_loop(copy.deepcopy(model), data)
            ours = min(ours, seconds)
            checks_only = min(
                checks_only, deployment_loop(copy.deepcopy(model), data, monitor=False)[0]
            )
        rows.append(
            {
                "model": name,
                "events": len(data),
                "bare_events_per_s": round(len(data) / bare),
                "deployment_events_per_s": round(len(data) / ours),
                "ratio": round(ours / bare, 3),
                "hand_monitored_events_per_s": round(len(data) / by_hand),
                "ratio_to_hand_monitored_loop": round(ours / by_hand, 3),
                "ratio_without_monitoring": round(checks_only / bare, 3),
                "overhead_us_per_event": round(1e6 * (ours - bare) / len(data), 2),
                "monitoring_us_per_event": round(1e6 * (ours - checks_only) / len(data), 2),
                "alarms": sum(e.kind == "alarm" for e in dep.log),
            }
        )
        print(
            f"{name}: bare {len(data) / bare:,.0f} ev/s, OnlineDeployment(monitor=True) "
            f"{len(data) / ours:,.0f} ev/s, ratio {ours / bare:.3f}x "
            f"(without monitoring {checks_only / bare:.3f}x); hand-monitored loop {len(data) / by_hand:,.0f} ev/s, "
            f"ours / hand-monitored {ours / by_hand:.3f}x"
        )
    result = {
        "benchmark": "online_overhead",
        "goal_ratio": 1.15,
        "goal_ratio_to_hand_monitored_loop": 1.0,
        "python": platform.python_version(),
        "repeats": repeats,
        "clock": "process_time",
        "rows": rows,
    }
    out = pathlib.Path(__file__).parent / "results" / "online_overhead.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
