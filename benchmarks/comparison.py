"""The comparison and decision-guide chapters: model-server downtime per mode, and notebook execution times.

    PYTHONPATH=. .venv/bin/python benchmarks/comparison.py    # writes benchmarks/results/comparison.json

- Downtime (issue 6, the comparison table's downtime row): ``downtime.measure_downtime`` on the
  chapter's stream (``drifting_classification(seed=0)``): a batch server redeployed naively (stop,
  retrain, start) against an atomic swap (``POST /deploy``), and an online server learning while a
  client probes ``/predict`` every 5 ms. The chapter reads the result from this file: real servers
  are too slow to start in every build.
- Execution time of ``book/comparison.ipynb`` and ``book/decision_guide.ipynb`` (goal: <= 20 s each),
  in a fresh kernel with ``book/`` as the working folder, as the book and nbval run them: wall seconds
  (which depend on the machine's load, recorded too) and the kernel's CPU seconds; ratios to the budget.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import deployment_modes as dm
from deployment_modes.downtime import measure_downtime

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "comparison.json"
BUDGET = 20.0


def notebook_seconds(name: str) -> dict:
    """Wall seconds to execute every cell in a fresh kernel, and the CPU seconds the kernel used for it.

    On a shared machine the wall time depends on the load; the kernel's CPU time is what the
    notebook costs (the wall time on an idle core).
    """
    import psutil

    nb = nbformat.read(ROOT / "book" / name, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "book")}}
    )
    with client.setup_kernel():
        kernel = psutil.Process(client.km.provisioner.process.pid)
        cpu0, start = sum(kernel.cpu_times()[:2]), time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        wall, cpu = time.perf_counter() - start, sum(kernel.cpu_times()[:2]) - cpu0
    return {"wall_seconds": round(wall, 2), "kernel_cpu_seconds": round(cpu, 2)}


def main() -> None:
    # the notebooks first: once servers have run in this process, a kernel client here can hang
    times = {name: notebook_seconds(name) for name in ("comparison.ipynb", "decision_guide.ipynb")}
    scenario = dm.scenarios.drifting_classification(seed=0)
    start = time.perf_counter()
    downtime = measure_downtime(scenario)
    downtime_seconds = time.perf_counter() - start
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
        "downtime": downtime,
        "downtime_measurement_seconds": round(downtime_seconds, 2),
        "naive_failed_per_swap_failed": (
            downtime["naive"]["failed"] / downtime["swap"]["failed"]
            if downtime["swap"]["failed"]
            else None
        ),
        "notebook_seconds": times,
        "notebook_cpu_seconds_over_budget": {
            name: round(t["kernel_cpu_seconds"] / BUDGET, 2) for name, t in times.items()
        },
        "notebook_wall_seconds_over_budget": {
            name: round(t["wall_seconds"] / BUDGET, 2) for name, t in times.items()
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
