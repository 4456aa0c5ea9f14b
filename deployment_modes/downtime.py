"""Downtime of a redeploy, measured on a real model server while a client keeps asking.

Runs the server of :mod:`deployment_modes.serve` on a state dir of
:mod:`deployment_modes.durable`, and a :class:`~deployment_modes.serve.Probe` that asks for a
prediction every few milliseconds: a naive redeploy (stop, retrain, start) fails requests, an
atomic swap and an online model learning in place fail none. Needs the ``serve`` extra.
Defined for the Comparison chapter (``book/comparison.ipynb``; ``benchmarks/comparison.py``
runs it, too slow for every build).
"""

from __future__ import annotations

from ._checks import positive_int

__all__ = ["measure_downtime"]


def measure_downtime(scenario, *, n_events: int = 2000, interval: float = 0.005) -> dict:
    """Downtime of each mode on a real model server (``deployment_modes.serve``), with a client probing.

    A batch server stores ``n_events`` events of ``scenario`` and is redeployed twice while a
    :class:`~deployment_modes.serve.Probe` asks for a prediction every ``interval`` seconds:
    atomically (``POST /deploy``: retrain aside, swap in one assignment) and naively (stop,
    retrain, start). An online server learns the same events while the probe asks. Returns
    ``{"naive": ..., "swap": ..., "online": ...}``, each :func:`~deployment_modes.serve.downtime`'s
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
        durable.init_state(folder, BatchDeployment(LeanLogisticRegression()), *scenario.initial, mode="batch")
        server = serve.start(folder)
        try:
            httpx.post(server.url + "/learn_many", json={"events": events}, timeout=60).raise_for_status()
            results["swap"] = probed(server, lambda: httpx.post(server.url + "/deploy", timeout=60).raise_for_status())
            restarted = []
            results["naive"] = probed(server, lambda: restarted.append(serve.naive_redeploy(server, folder)))
            server = restarted[0] if restarted else server
        finally:
            server.stop()
    with tempfile.TemporaryDirectory() as folder:
        durable.init_state(folder, OnlineDeployment(sgd_model("classification", 0.05)), *scenario.initial,
                           mode="online")
        with serve.start(folder) as server:
            def learn():
                for i in range(0, len(events), 100):
                    httpx.post(server.url + "/learn_many", json={"events": events[i:i + 100]},
                               timeout=60).raise_for_status()
            results["online"] = probed(server, learn)
    return results
