"""Downtime of a redeploy, measured on a real model server while a client keeps asking.

Runs the server of :mod:`deployment_modes.serve` on a state dir of
:mod:`deployment_modes.durable`, and a :class:`~deployment_modes.serve.Probe` that asks for a
prediction every few milliseconds: a naive redeploy (stop, retrain, start) fails requests, an
atomic swap and an online model learning in place fail none. Needs the ``serve`` extra.
Defined for the Comparison chapter (``book/comparison.ipynb``; ``benchmarks/comparison.py``
runs it, too slow for every build).
"""

from __future__ import annotations

from pathlib import Path

from ._checks import positive_int

__all__ = ["MEASURED", "downtime_table", "load_downtime", "measure_downtime"]

#: Where ``benchmarks/comparison.py`` writes what :func:`measure_downtime` measured (in a source checkout).
MEASURED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "comparison.json"

#: The rows of :func:`downtime_table`: the measured run, and the mode it stands for.
RUNS = {
    "naive": "batch, naive restart (stop, retrain, start)",
    "swap": "batch, atomic swap (POST /deploy)",
    "online": "online, learning in place",
    "out-of-core, then online": "out-of-core, then online, learning in place",
}


def measure_downtime(scenario, *, n_events: int = 2000, interval: float = 0.005) -> dict:
    """Downtime of each mode on a real model server (``deployment_modes.serve``), with a client probing.

    A batch server stores ``n_events`` events of ``scenario`` and is redeployed twice while a
    :class:`~deployment_modes.serve.Probe` asks for a prediction every ``interval`` seconds:
    atomically (``POST /deploy``: retrain aside, swap in one assignment) and naively (stop,
    retrain, start). An online server learns the same events while the probe asks, and so does
    a server deploying an out-of-core model (first trained from disk by chunks, then learning in
    place). Returns ``{"naive": ..., "swap": ..., "online": ..., "out-of-core, then online":
    ...}``, each :func:`~deployment_modes.serve.downtime`'s
    summary plus ``"seconds_measured"``. Needs the ``serve`` extra; the servers are always stopped.

    Parameters
    ----------
    scenario
        A classification :class:`~deployment_modes.scenarios.Scenario`: its initial data
        trains both servers, its first ``n_events`` events are learned.
    n_events
        Events the servers learn.
    interval
        Seconds between two of the probe's requests.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> measured = measure_downtime(dm.scenarios.drifting_classification(), n_events=500)  # doctest: +SKIP
    >>> measured["naive"]["failed"] > 0, measured["swap"]["failed"]  # doctest: +SKIP
    (True, 0)
    """
    import tempfile
    import time

    import httpx

    from . import durable, serve
    from .batch import BatchDeployment
    from .lean import LeanLogisticRegression
    from .online import OnlineDeployment, sgd_model
    from .out_of_core import out_of_core_then_online

    n_events = positive_int(n_events, "n_events")
    events = [{"x": x, "y": y} for x, y in scenario.head(min(n_events, len(scenario)))]
    probe_x = events[-1]["x"]
    results = {}

    def probed(server, action) -> dict:
        probe = serve.Probe(server.url, probe_x, interval=interval).start()
        time.sleep(0.1)
        try:
            action()
            time.sleep(0.1)
        finally:
            table = probe.stop()
        return {**serve.downtime(table), "seconds_measured": float(table["sent"].iloc[-1])}

    with tempfile.TemporaryDirectory() as folder:
        durable.init_state(
            folder, BatchDeployment(LeanLogisticRegression()), *scenario.initial, mode="batch"
        )
        server = serve.start(folder)
        try:
            httpx.post(
                server.url + "/learn_many", json={"events": events}, timeout=60
            ).raise_for_status()
            results["swap"] = probed(
                server, lambda: httpx.post(server.url + "/deploy", timeout=60).raise_for_status()
            )
            restarted = []
            results["naive"] = probed(
                server, lambda: restarted.append(serve.naive_redeploy(server, folder))
            )
            server = restarted[0] if restarted else server
        finally:
            server.stop()

    def learn(server):
        for i in range(0, len(events), 100):
            httpx.post(
                server.url + "/learn_many", json={"events": events[i : i + 100]}, timeout=60
            ).raise_for_status()

    with tempfile.TemporaryDirectory() as folder:
        durable.init_state(
            folder,
            OnlineDeployment(sgd_model("classification", 0.05)),
            *scenario.initial,
            mode="online",
        )
        with serve.start(folder) as server:
            results["online"] = probed(server, lambda: learn(server))
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state"
        trained = out_of_core_then_online(
            scenario, folder
        )  # the first training, from disk, before the server
        durable.DurableDeployment(
            state, "online", deployment=trained, schema=durable.Schema.of(*scenario.initial)
        ).close(snapshot=False)
        with serve.start(state) as server:
            results["out-of-core, then online"] = probed(server, lambda: learn(server))
    return results


def load_downtime(path=None) -> dict | None:
    """What :func:`measure_downtime` measured, as ``benchmarks/comparison.py`` saved it; ``None`` if absent.

    The one source of the downtime figures: the Learning on a server and Comparison chapters both
    read it.

    Parameters
    ----------
    path
        The benchmark's JSON file (default :data:`MEASURED`).

    Examples
    --------
    >>> load_downtime("no-such-file.json") is None
    True
    """
    import json

    path = Path(MEASURED if path is None else path)
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("downtime")


def downtime_table(downtime: dict):
    """The downtime figures as a table: one row per mode, seconds without answers and failed requests.

    Parameters
    ----------
    downtime
        :func:`measure_downtime`'s result (or :func:`load_downtime`'s).

    Examples
    --------
    >>> run = {"seconds": 0.0, "failed": 0, "requests": 10}
    >>> table = downtime_table({"naive": {**run, "seconds": 2.0, "failed": 5}, "swap": run, "online": run})
    >>> table["failed requests"].tolist()
    [5, 0, 0]
    """
    import pandas as pd

    if not isinstance(downtime, dict) or not {"naive", "swap", "online"} <= set(downtime):
        raise TypeError(
            "downtime must be the dict measure_downtime returns (naive, swap, online, ...)"
        )
    rows = {
        label: {
            "seconds without answers": round(float(downtime[run]["seconds"]), 2),
            "failed requests": int(downtime[run]["failed"]),
            "requests": int(downtime[run]["requests"]),
        }
        for run, label in RUNS.items()
        if run in downtime
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "mode (measured on a real server)"
    return table
