"""Measuring memory: the process's resident set size (RSS) now and at its peak, and clean
peak measurements of a function run in a fresh Python process.

A peak measured inside a notebook or a test process says little: that process already holds
whatever it loaded before. :func:`measure_peak` starts one fresh Python process, which imports
the function's module once and then runs each call in a forked child of its own (on systems
without ``fork``, each call gets a fresh process), so every call starts from the same clean
baseline.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import psutil

__all__ = ["measure_peak", "peak_rss", "rss"]


def rss() -> int:
    """This process's resident set size now, in bytes (psutil).

    >>> rss() > 0
    True
    """
    return psutil.Process().memory_info().rss


def peak_rss() -> int:
    """This process's peak resident set size so far, in bytes (its high-water mark).

    >>> peak_rss() >= rss()
    True
    """
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(int(peak if sys.platform == "darwin" else peak * 1024), rss())
    except ImportError:  # Windows: psutil knows the peak working set
        info = psutil.Process().memory_info()
        return int(getattr(info, "peak_wset", info.rss))


def _name(func) -> str:
    if isinstance(func, str):
        return func
    if not callable(func) or "<" in getattr(func, "__qualname__", "<"):
        raise TypeError("func must be a module-level function or a 'module:function' string")
    return f"{func.__module__}:{func.__qualname__}"


def _resolve(name: str):
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


def measure_peak(func, runs: list[dict], *, timeout: float = 600) -> list[dict]:
    """Run ``func(**kwargs)`` for each ``kwargs`` in ``runs`` in a fresh process; report its memory.

    ``func`` is a module-level function (or a ``"module:function"`` string) whose arguments
    and result are JSON-serialisable. Returns one dict per run: ``start_mb`` (RSS when the
    call began), ``peak_mb`` (peak RSS during the call, including the baseline),
    ``growth_mb`` (peak minus start) and the call's ``result``.

    >>> [r["result"] for r in measure_peak("json:dumps", [{"obj": [1]}, {"obj": None}])]
    ['[1]', 'null']
    """
    name = _name(func)
    if not isinstance(runs, (list, tuple)) or not all(isinstance(r, dict) for r in runs):
        raise TypeError("runs must be a list of keyword-argument dicts")
    payload = json.dumps({"func": name, "runs": list(runs)})
    done = subprocess.run([sys.executable, "-c", "from deployment_modes.memory import _main; _main()"],
                          input=payload, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)))
    if done.returncode:
        raise RuntimeError(f"the measuring process failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _one(func, kwargs) -> dict:
    start = rss()
    result = func(**kwargs)
    peak = max(peak_rss(), rss())
    return {"start_mb": start / 2**20, "peak_mb": peak / 2**20, "growth_mb": (peak - start) / 2**20,
            "result": result}


def _forked(func, kwargs) -> dict:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run once, report through the pipe, leave without cleanup
        try:
            os.close(read)
            try:
                report = {"ok": _one(func, kwargs)}
            except Exception as error:  # noqa: BLE001 - reported to the parent
                report = {"error": f"{type(error).__name__}: {error}"}
            os.write(write, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while data := os.read(read, 1 << 16):
        chunks.append(data)
    os.close(read)
    os.waitpid(pid, 0)
    report = json.loads(b"".join(chunks) or b'{"error": "the child process died"}')
    if "error" in report:
        raise RuntimeError(report["error"])
    return report["ok"]


def _main() -> None:
    """The measuring process: read the job from stdin, print one JSON list of reports."""
    job = json.loads(sys.stdin.read())
    func = _resolve(job["func"])
    if hasattr(os, "fork"):
        reports = [_forked(func, kwargs) for kwargs in job["runs"]]
    elif len(job["runs"]) == 1:
        reports = [_one(func, job["runs"][0])]
    else:  # no fork: one fresh process per run
        reports = [measure_peak(job["func"], [kwargs])[0] for kwargs in job["runs"]]
    print(json.dumps(reports))
