"""Time a cold build of the whole book and each notebook's execution on this machine.

    .venv/bin/python benchmarks/build_times.py       # writes benchmarks/results/build_times.json

Goals: each notebook executes in <= 10 s; the cold build (``python3 dev.py book`` into an empty
folder: the notebooks a kernel per core, then Sphinx) takes <= 60 s on a quiet 2-core machine,
install excluded. On a shared machine wall times follow its load (recorded with them), so each
notebook's CPU seconds (its kernel and what the kernel starts) are recorded too, and the host's
speed before and after (:func:`host_speed`): CPU seconds are comparable only at the same speed.
``benchmarks/cell_times.py`` splits one notebook's CPU seconds by cell.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from execute_notebooks import (  # noqa: E402  (the book's executor)
    execute,  # a notebook in its folder, as the build runs it
    poll_in_slices,  # its fix of a missed poll wake-up
    read_notebook,  # a .ipynb, or a MyST Markdown page as myst-nb reads it
    toc_notebooks,
)

OUT = ROOT / "benchmarks" / "results" / "build_times.json"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def notebook_seconds(path: Path) -> dict:
    """Wall and CPU seconds of one notebook's execution as the build runs it (the kernel's CPU once it has ended)."""
    nb = read_notebook(path)
    start, cpu = time.perf_counter(), children_cpu()
    execute(nb, path)
    return {
        "wall": round(time.perf_counter() - start, 2),
        "cpu": round(children_cpu() - cpu, 2),
    }


def host_speed() -> dict:
    """This machine's speed now, to compare runs of different sittings: CPU seconds of a fixed loop
    (``for i in range(10_000_000): s += i``) and of ``import sklearn`` in a fresh process."""
    start = time.process_time()
    s = 0
    for i in range(10_000_000):
        s += i
    loop = time.process_time() - start
    cpu = children_cpu()
    subprocess.run([sys.executable, "-c", "import sklearn"], check=True, cwd=ROOT)
    return {"loop_cpu": round(loop, 2), "import_sklearn_cpu": round(children_cpu() - cpu, 2)}


def build_seconds() -> dict:
    """A cold build into an empty folder, then the same build again: Sphinx alone (all cached)."""
    seconds = {}
    with tempfile.TemporaryDirectory() as out:
        for kind in ("cold", "sphinx_alone"):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, str(ROOT / "dev.py"), "book", "--path-output", out, "--all", "-q"],
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            seconds[kind] = round(time.perf_counter() - start, 1)
    return seconds


def main() -> None:
    poll_in_slices()
    load = os.getloadavg()[0]
    speed = host_speed()
    notebooks = {p.name: notebook_seconds(p) for p in toc_notebooks(ROOT)}
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_average_1min": {"before": round(load, 2), "after": round(os.getloadavg()[0], 2)},
        "host_speed": {"before": speed, "after": host_speed()},
        "notebook_seconds": notebooks,
        "max_notebook_seconds": {
            kind: max(n[kind] for n in notebooks.values()) for kind in ("wall", "cpu")
        },
        "build_seconds": build_seconds(),
        "goals": {"notebook_seconds": 10, "cold_build_seconds": 60},
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
