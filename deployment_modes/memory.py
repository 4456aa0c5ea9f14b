"""Measuring memory: the process's resident set size (RSS) now and at its peak, and clean
peak measurements of a function run in a fresh Python process.

A peak measured inside a notebook or a test process says little: that process already holds
whatever it loaded before. :func:`measure_peak` runs each call in a fresh Python process of
its own, so that every call starts from the same clean baseline. Where the system can fork
(Linux), one fresh process imports what the function needs and runs the warm-up once, and each
call runs in a child forked from it: the same clean baseline for every call, without paying
Python's start and the imports again (about 1.5 s of CPU for scikit-learn and pyarrow) per call.
:func:`prepare` starts that process ahead of time, so that it imports while the caller goes on.

A process's peak RSS also counts what its allocators keep: glibc's malloc arenas (one more per
thread that allocates at the same moment, so a busy machine's scheduling changes it) and Arrow's
memory pool hold freed memory for reuse. Measured on a loaded 2-core machine, the peak RSS of the
same out-of-core run moved by tens of MB from run to run while the shared libraries' file pages
(about 90 MB, ``RssFile``) did not move at all. What the data itself needs is what the program
allocates: ``allocations=True`` also reports the peak of the bytes Python and numpy have
allocated (``tracemalloc``) plus the peak of Arrow's (its memory pool's ``max_memory``), which
the scheduling and the allocators' pools do not change.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import psutil

from ._checks import positive_int

__all__ = ["measure_peak", "peak_rss", "prepare", "rss", "wait_prepared"]


# the measuring process's own start (Python and the imports) on top of the calls' timeouts: a few
# seconds, but a loaded machine stretches it, and it must not pass for a call that outlived its own
_START_SECONDS = 120
_PROC_FILES: dict = {}  # (process id, name) -> an open /proc/self file: opening costs ~70 us, reading ~2
_PREPARED: dict = {}  # "module:function" -> the measuring process prepare() started for it


def _proc_file(name: str) -> bytes | None:
    """The text of /proc/self/``name`` (Linux), read from a file kept open; None elsewhere."""
    key = (os.getpid(), name)  # a forked child opens its own: the parent's file shows the parent
    try:
        if key not in _PROC_FILES:
            _PROC_FILES[key] = os.open(f"/proc/self/{name}", os.O_RDONLY)
        return os.pread(_PROC_FILES[key], 1 << 14, 0)
    except OSError:
        return None


def rss() -> int:
    """This process's resident set size now, in bytes (/proc/self/statm, else psutil).

    >>> rss() > 0
    True
    """
    statm = _proc_file("statm")
    if statm:
        return int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return psutil.Process().memory_info().rss


def _status_peak() -> int | None:
    """VmHWM from /proc/self/status (Linux), in bytes; None elsewhere."""
    status = _proc_file("status")
    for line in (status or b"").splitlines():
        if line.startswith(b"VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def peak_rss(now: int | None = None) -> int:
    """This process's peak resident set size so far, in bytes (its high-water mark).

    Parameters
    ----------
    now
        The RSS just measured with :func:`rss`, if at hand (saves measuring it again).

    Examples
    --------
    >>> peak_rss() >= rss()
    True
    """
    now = rss() if now is None else now
    peak = _status_peak()
    if peak is not None:
        return max(peak, now)
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(int(peak if sys.platform == "darwin" else peak * 1024), now)
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


def measure_peak(
    func,
    runs: list[dict],
    *,
    warmup: dict | None = None,
    processes: int = 2,
    timeout: float = 600,
    allocations: bool = False,
    fork: bool | None = None,
) -> list[dict]:
    """Run ``func(**kwargs)`` for each ``kwargs`` in ``runs``, each in a fresh process; report its memory.

    Each run starts from the same clean baseline: a new Python process that imports only what
    ``func`` needs. ``warmup`` calls come first in that process (and before the peak is reset, on
    Linux), so that the run starts with the libraries' lazy imports and memory pools in place.
    Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).

    Parameters
    ----------
    func
        A module-level function, or its ``"module:function"`` name; its arguments and its
        result must be JSON-serialisable.
    runs
        One dict of keyword arguments per run.
    warmup
        Keyword arguments of a small first call in each process (default ``None``: no warm-up).
    processes
        Runs at a time (each in a process of its own: they do not change each other's figures).
    timeout
        Seconds a run may take.
    allocations
        Also measure what the program allocates (``tracemalloc`` and Arrow's memory pool),
        which the scheduling and the allocators' pools do not change; tracing makes the call slower.
    fork
        Run each call in a child forked from one fresh process that has imported ``func`` and
        run ``warmup`` (the child runs ``warmup`` again before its peak is reset, so that the
        libraries' pages it touches are in its baseline), ``processes`` children at a time.
        Default ``None``: on Linux. ``False``: a fresh process per call (``processes`` at a time).
        The fresh process is the one :func:`~deployment_modes.memory.prepare` started for ``func``, if it did.

    Returns
    -------
    list of dict
        One report per run, in the order of ``runs``: ``start_mb`` (RSS when the call began),
        ``peak_mb`` (peak RSS during the call, including the baseline), ``growth_mb`` (peak minus
        start), ``rss_anon_mb`` and ``rss_file_mb`` at the end of the call (Linux; else None) and
        the call's ``result``. With ``allocations=True`` also ``python_peak_mb`` (peak of the bytes
        traced by ``tracemalloc``: Python objects and numpy arrays), ``arrow_peak_mb`` (peak of
        Arrow's allocations, 0 without pyarrow) and their sum ``allocated_peak_mb``.

    Examples
    --------
    >>> reports = measure_peak("json:dumps", [{"obj": [1]}, {"obj": None}])
    >>> [r["result"] for r in reports], all(r["peak_mb"] >= r["start_mb"] > 0 for r in reports)
    (['[1]', 'null'], True)
    """
    name = _name(func)
    if not isinstance(runs, (list, tuple)) or not all(isinstance(r, dict) for r in runs):
        raise TypeError("runs must be a list of keyword-argument dicts")
    if warmup is not None and not isinstance(warmup, dict):
        raise TypeError("warmup must be a keyword-argument dict or None")
    processes = positive_int(processes, "processes")
    if fork is None:
        fork = sys.platform.startswith("linux")
    if not isinstance(fork, bool):
        raise TypeError(f"fork must be True, False or None, got {fork!r}")
    env = _env()
    command = [sys.executable, "-c", _BOOT]
    if fork and runs:
        job = {
            "runs": list(runs),
            "warmup": warmup,
            "allocations": bool(allocations),
            "timeout": timeout,
            "processes": processes,
        }
        process = _PREPARED.pop(name, None)
        if not _usable(process, name, env):
            if process is not None:  # ended, or prepared for another PYTHONPATH
                _end(process)
            process = _start(name, env)
        try:
            out, err = process.communicate(
                json.dumps(job) + "\n", timeout=timeout * (len(runs) + 1) + _START_SECONDS
            )
        finally:
            if process.poll() is None:  # it timed out (or we were interrupted): end it
                _end(process)
        if process.returncode:
            raise RuntimeError(f"the measuring process failed:\n{err[-2000:]}")
        return json.loads(out.strip().splitlines()[-1])
    reports, running = [None] * len(runs), []

    def finish(index, process):
        out, err = process.communicate(timeout=timeout)
        if process.returncode:
            raise RuntimeError(f"the measuring process failed:\n{err[-2000:]}")
        reports[index] = json.loads(out.strip().splitlines()[-1])

    try:
        for index, kwargs in enumerate(runs):
            if len(running) >= processes:
                finish(*running.pop(0))
            job = json.dumps(
                {"func": name, "kwargs": kwargs, "warmup": warmup, "allocations": bool(allocations)}
            )
            process = subprocess.Popen(
                [*command, job], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
            running.append((index, process))
        while running:
            finish(*running.pop(0))
    finally:
        for _, process in running:
            process.kill()
    return reports


def _env() -> dict:
    """The measuring process's environment: this one, with this process's import path."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


def _ahead(name: str, env: dict) -> str:
    """The command-line job of a measuring process started ahead of its calls (they come on stdin)."""
    return json.dumps({"func": name, "stdin": True, "path": env["PYTHONPATH"]})


def _usable(process: subprocess.Popen | None, name: str, env: dict) -> bool:
    """Whether ``process`` is a live measuring process started ahead for ``name`` under ``env``."""
    return process is not None and process.poll() is None and process.args[-1] == _ahead(name, env)


def _start(name: str, env: dict) -> subprocess.Popen:
    """Start a measuring process for ``name``: it imports, says ``ready``, then reads its job on stdin."""
    return subprocess.Popen(
        [sys.executable, "-c", _BOOT, _ahead(name, env)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _end(process: subprocess.Popen) -> None:
    process.kill()
    process.communicate()


def prepare(func) -> None:
    """Start now, in the background, the fresh process that :func:`measure_peak` will measure ``func`` in.

    That process imports what ``func`` needs (about 1.5 s of CPU for scikit-learn and pyarrow)
    while the caller goes on, then waits, idle, for the next ``measure_peak(func, ...)`` (on
    Linux, where the calls are forked from it), which uses it instead of starting one: the
    same process, the same figures, without waiting for its imports. Elsewhere it does nothing.
    The process ends when its measurement does, or when the caller's process ends.
    Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).

    Parameters
    ----------
    func
        A module-level function, or its ``"module:function"`` name, as :func:`measure_peak` takes it.

    Examples
    --------
    >>> prepare("json:dumps")
    >>> wait_prepared()
    >>> measure_peak("json:dumps", [{"obj": [1]}])[0]["result"]
    '[1]'
    """
    name = _name(func)
    if not sys.platform.startswith("linux"):
        return
    env = _env()
    process = _PREPARED.get(name)
    if _usable(process, name, env):
        return  # already importing, or done and waiting
    if process is not None:
        _end(process)
    _PREPARED[name] = _start(name, env)


def wait_prepared(timeout: float = _START_SECONDS) -> None:
    """Wait until every process :func:`prepare` started has imported its function and waits, idle.

    Call it before timing anything: a process still importing would take CPU from the timed code.

    Parameters
    ----------
    timeout
        Seconds to wait for each process.

    Examples
    --------
    >>> wait_prepared()  # none started (or all ready): returns at once
    """
    import select

    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    for name, process in list(_PREPARED.items()):
        if getattr(process, "ready", False):
            continue
        said = b""  # read from the pipe itself: communicate() later reads what follows
        while not said.endswith(b"\n"):
            if not select.select([process.stdout], [], [], timeout)[0]:
                raise TimeoutError(f"the measuring process of {name} did not start in {timeout} s")
            byte = os.read(process.stdout.fileno(), 1)
            if not byte:
                del _PREPARED[name]
                _, err = process.communicate()
                raise RuntimeError(f"the measuring process of {name} failed:\n{err[-2000:]}")
            said += byte
        process.ready = True


# The measuring process imports this module without the package's __init__ (and its plots,
# widgets, river...), so that its baseline holds only what the measured function imports.
_BOOT = """
import importlib.util, sys, types
spec = importlib.util.find_spec("deployment_modes")
package = types.ModuleType("deployment_modes")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["deployment_modes"] = package
from deployment_modes.memory import _main
_main()
"""


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _arrow_pool():
    """A pool with its own statistics in front of Arrow's default one (None without pyarrow)."""
    try:
        import pyarrow
    except ImportError:
        return None
    pool = pyarrow.proxy_memory_pool(pyarrow.default_memory_pool())
    pyarrow.set_memory_pool(pool)
    return pool


def _measure(func, kwargs: dict, allocations: bool) -> dict:
    """Run ``func(**kwargs)`` in this process from a reset peak; its memory report."""
    import tracemalloc

    pool = _arrow_pool() if allocations else None
    if allocations:
        tracemalloc.start()
    reset_peak()
    start = rss()
    result = func(**kwargs)
    peak = peak_rss()
    report = {
        "start_mb": start / 2**20,
        "peak_mb": peak / 2**20,
        "growth_mb": (peak - start) / 2**20,
        "rss_anon_mb": _status_mb("RssAnon"),
        "rss_file_mb": _status_mb("RssFile"),
        "result": result,
    }
    if allocations:
        python = tracemalloc.get_traced_memory()[1] / 2**20
        arrow = pool.max_memory() / 2**20 if pool is not None else 0.0
        report.update(python_peak_mb=python, arrow_peak_mb=arrow, allocated_peak_mb=python + arrow)
    return report


def _fork(func, kwargs: dict, warmup: dict | None, allocations: bool, timeout: float) -> tuple:
    """Start one call in a child forked from this process; ``(pid, pipe)`` for :func:`_report`.

    The child has ``timeout`` seconds (an alarm ends it after that, so a child that hangs
    fails the measurement instead of holding it).
    """
    import signal
    import traceback

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into the caller's code
        os.close(read)
        signal.alarm(max(1, int(timeout)))
        code = 0
        try:
            if warmup is not None:
                func(**warmup)
            out = json.dumps(_measure(func, kwargs, allocations))
        except BaseException:  # noqa: BLE001 - whatever failed, the parent says what
            out, code = json.dumps({"error": traceback.format_exc()}), 1
        with os.fdopen(write, "w") as pipe:
            pipe.write(out)
        os._exit(code)
    os.close(write)
    return pid, read


def _report(pid: int, read: int, timeout: float) -> dict:
    """The report of the child ``pid`` started by :func:`_fork` (raise if the child failed)."""
    import signal

    with os.fdopen(read) as pipe:
        out = pipe.read()
    _, status = os.waitpid(pid, 0)
    if out:
        report = json.loads(out)
    elif os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
        report = {"error": f"the call did not end within timeout={timeout} s"}
    else:
        report = {"error": f"the measuring child ended with wait status {status} and no report"}
    if "error" in report:
        raise RuntimeError(report["error"])
    return report


def _forked(
    func, runs: list, warmup: dict | None, allocations: bool, timeout: float, processes: int
):
    """Each call of ``runs`` in a child of its own forked from this process, ``processes`` at a time.

    Every child starts from the same baseline (this process, as it was before the first fork)
    and measures only itself, so children that run side by side do not change each other's
    figures. Returns their reports in the order of ``runs``.
    """
    import signal

    reports, running = [], []
    try:
        for kwargs in runs:
            if len(running) >= processes:
                reports.append(_report(*running.pop(0), timeout))
            running.append(_fork(func, kwargs, warmup, allocations, timeout))
        while running:
            reports.append(_report(*running.pop(0), timeout))
    finally:
        for pid, read in running:  # a call failed: end the others before saying so
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
    return reports


def _main() -> None:
    """The measuring process: read the job from the command line, print its JSON report(s).

    BLAS and OpenMP run one thread here, as the chapters' fits do: their threads do not survive
    a fork, and a child that restored two would start them anew (and their spin-wait, some
    50 ms of CPU) for every call. Once the report is printed the process ends at once: tearing
    down the libraries it imported would cost more CPU than a measured call.
    """
    from threadpoolctl import threadpool_limits

    job = json.loads(sys.argv[1])
    func = _resolve(job["func"])
    if job.get("stdin"):  # started ahead (prepare): imported, now wait for the calls
        print("ready", flush=True)
        line = sys.stdin.readline()
        if not line:  # the caller ended without measuring
            os._exit(0)
        job.update(json.loads(line))
    warmup, allocations = job.get("warmup"), bool(job.get("allocations"))
    if warmup is not None:
        func(**warmup)
    threadpool_limits(1)  # the libraries loaded by now, for good: the children forked inherit it
    if "runs" in job:  # one child forked from this warmed-up process per call
        timeout, processes = job.get("timeout", 600), job.get("processes", 1)
        reports = _forked(func, job["runs"], warmup, allocations, timeout, processes)
        print(json.dumps(reports))
    else:
        print(json.dumps(_measure(func, job["kwargs"], allocations)))
    sys.stdout.flush()
    os._exit(0)
