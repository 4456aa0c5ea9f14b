"""Time a cold build of the whole book and each notebook's execution on this machine.

    .venv/bin/python benchmarks/build_times.py       # writes benchmarks/results/build_times.json

Goals (issue 2): each notebook executes in <= 20 s; the cold build takes <= 120 s (install excluded).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "build_times.json"


def notebook_seconds(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return time.perf_counter() - start


def cold_build_seconds() -> float:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [str(jupyter_book), "build", str(ROOT), "--path-output", out, "--all", "-q"],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    notebooks = {
        p.name: round(notebook_seconds(p), 2) for p in sorted((ROOT / "book").glob("*.ipynb"))
    }
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "notebook_seconds": notebooks,
        "max_notebook_seconds": max(notebooks.values()),
        "cold_build_seconds": round(cold_build_seconds(), 1),
        "goals": {"notebook_seconds": 20, "cold_build_seconds": 120},
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
