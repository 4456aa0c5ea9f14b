"""Overhead of OnlineDeployment with monitoring on, against a bare river predict-then-learn loop.

Same model, same stream, one run: CPU time (``process_time``) of predict_one then learn_one over
the same events, through ``dm.OnlineDeployment(model, monitor=True)`` (input checks, the default
monitor: the last 200 (label, prediction) pairs for the rolling accuracy, ADWIN on the error
stream, alarms logged), through the loop a user writes with river alone (bare), through the
monitored loop a user writes by hand (river's ``utils.Rolling(metrics.Accuracy, window_size=200)``
and ``drift.ADWIN()`` on the errors, the same settings as the deployment's monitor), and, to see
what dominates, through the deployment with monitoring off (input checks only).

Goals: the deployment costs at most 1.15x the bare loop, and no more than the hand-monitored loop.
The machine is shared and its speed drifts, so each round runs the four loops back to back (in a
rotated order) on fresh copies of the model, and a ratio is taken within a round: the figures are
the median of the per-round ratios, with their lowest and highest (and the ratio of the best
times, the least disturbed rounds). The default, 4,000 events (the hyperplane stream once, drift
included) in 25 rounds, keeps each measure short. Writes
``benchmarks/results/online_overhead.json`` (with the load average before and after).

Run: ``PYTHONPATH=. python benchmarks/online_overhead.py [n_events] [rounds]``
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import pathlib
import platform
import statistics
import sys
import time

from river import datasets, drift, linear_model, metrics, preprocessing, tree, utils

import deployment_modes as dm

WINDOW = 200  # the deployment's default window, used by the hand-monitored loop too


def bare_loop(model, events) -> float:
    start = time.process_time()
    for x, y in events:
        model.predict_one(x)
        model.learn_one(x, y)
    return time.process_time() - start


def hand_monitored_loop(model, events) -> float:
    """The monitored loop a user writes with river alone: rolling accuracy and ADWIN on the errors."""
    rolling, detector, alarms = (
        utils.Rolling(metrics.Accuracy, window_size=WINDOW),
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


def deployment_loop(model, events, monitor=True) -> float:
    dep = dm.OnlineDeployment(model, monitor=monitor, window=WINDOW)
    start = time.process_time()
    for x, y in events:
        dep.predict_one(x)
        dep.learn_one(x, y)
    return time.process_time() - start


LOOPS = {
    "bare": bare_loop,
    "hand_monitored": hand_monitored_loop,
    "deployment": deployment_loop,
    "deployment_unmonitored": lambda model, events: deployment_loop(model, events, monitor=False),
}


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "low": round(min(values), 3),
        "high": round(max(values), 3),
    }


def measure(model, data, rounds: int) -> dict:
    for loop in LOOPS.values():  # warm-up of every path
        loop(copy.deepcopy(model), data[:500])
    seconds = {name: [] for name in LOOPS}
    names = list(LOOPS)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotated order
            seconds[name].append(LOOPS[name](copy.deepcopy(model), data))
    ratio = lambda a, b: [s / t for s, t in zip(seconds[a], seconds[b])]  # noqa: E731
    best = {name: min(values) for name, values in seconds.items()}
    return {
        "events": len(data),
        "events_per_s_best": {name: round(len(data) / s) for name, s in best.items()},
        "ratios_of_best_times": {
            "deployment_vs_bare": round(best["deployment"] / best["bare"], 3),
            "deployment_vs_hand_monitored": round(best["deployment"] / best["hand_monitored"], 3),
        },
        "deployment_vs_bare": spread(ratio("deployment", "bare")),
        "deployment_vs_hand_monitored": spread(ratio("deployment", "hand_monitored")),
        "hand_monitored_vs_bare": spread(ratio("hand_monitored", "bare")),
        "unmonitored_vs_bare": spread(ratio("deployment_unmonitored", "bare")),
        "overhead_us_per_event_median": round(
            1e6
            * statistics.median(d - b for d, b in zip(seconds["deployment"], seconds["bare"]))
            / len(data),
            2,
        ),
    }


def main(n: int = 4_000, rounds: int = 25) -> dict:
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
    load_before = [round(v, 2) for v in os.getloadavg()]
    rows = []
    for name, (model, data) in models.items():
        row = {"model": name, **measure(model, data, rounds)}
        rows.append(row)
        print(
            f"{name}: deployment / bare {row['deployment_vs_bare']}, "
            f"deployment / hand-monitored {row['deployment_vs_hand_monitored']}, "
            f"hand-monitored / bare {row['hand_monitored_vs_bare']}, "
            f"unmonitored / bare {row['unmonitored_vs_bare']}",
            flush=True,
        )
    result = {
        "benchmark": "online_overhead",
        "goal_deployment_vs_bare_at_most": 1.15,
        "goal_deployment_vs_hand_monitored_at_most": 1.0,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_before": load_before,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "rounds": rounds,
        "clock": "process_time",
        "ratios": "median of per-round ratios (low, high): each round runs the four loops back to back",
        "rows": rows,
    }
    print("load average before", load_before, "after", result["load_average_after"])
    out = pathlib.Path(__file__).parent / "results" / "online_overhead.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
