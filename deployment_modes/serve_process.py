"""The model server in a child process, and a client that measures its downtime.

:func:`start` runs ``python -m deployment_modes.serve`` in a child process and returns a
:class:`ServerProcess` once ``/health`` answers (``stop()`` ends it cleanly, ``kill()`` as a crash
would); with ``wait=False`` it returns at once and ``wait_ready()`` waits later, so that several
servers load their libraries at the same time. :class:`Probe` asks ``/predict`` every few
milliseconds from a thread, and :func:`downtime` says from its table how long the service was
down; :func:`naive_redeploy` is the redeploy without a hot swap (stop, retrain, start), which
:mod:`deployment_modes.downtime` measures against ``POST /deploy``.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import atexit
import collections
import json
import numbers
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from ._checks import boolean
from .serve_guard import TOKEN_ENV, check_security

__all__ = ["Probe", "ServerProcess", "downtime", "naive_redeploy", "start"]


class ServerProcess:
    """A server running in a child process, started by :func:`start`: ``url``, ``stop()``, ``kill()``.

    Parameters
    ----------
    process
        The child process (its standard output is read into :attr:`output`).
    url
        Where the server listens; None while it starts: :meth:`wait_ready` reads it from the
        server's first line, and ``url`` is readable once it has.
    token
        Its bearer token, or None.
    timeout
        Seconds :meth:`wait_ready` waits, unless told otherwise.

    Examples
    --------
    >>> import tempfile
    >>> server = start(tempfile.mkdtemp(), mode="online")
    >>> server.running, server.stop(), server.running
    (True, 0, False)
    """

    def __init__(
        self,
        process: subprocess.Popen,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 180.0,
    ):
        self.process, self.token, self.timeout = process, token, timeout
        self._url, self._ready = url, False
        self.output = collections.deque(maxlen=200)
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        if url is not None:
            self._drain.start()

    def _read_output(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.rstrip())

    @property
    def url(self) -> str:
        """Where the server listens, ``http://host:port``."""
        if self._url is None:
            raise RuntimeError(
                "the server is still starting (start(..., wait=False)): call wait_ready() first"
            )
        return self._url

    @property
    def headers(self) -> dict:
        """The authorization header to send to learning endpoints (empty without a token)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float | None = None) -> ServerProcess:
        """Wait until the server answers ``/health``; return it (at once if it already has).

        Parameters
        ----------
        timeout
            Seconds to wait at most (None: the ``timeout`` given to :func:`start`). If the
            server ends or the time is up first, it is killed and RuntimeError says why.

        Returns
        -------
        ServerProcess
            This server, ready: ``url`` says where it listens.

        Examples
        --------
        >>> import tempfile
        >>> server = start(tempfile.mkdtemp(), mode="online", wait=False)  # returns at once
        >>> server.wait_ready() is server, server.url.startswith("http://127.0.0.1:")
        (True, True)
        >>> server.stop()
        0
        """
        if self._ready:
            return self
        seconds = _seconds(self.timeout if timeout is None else timeout)
        deadline = time.monotonic() + seconds
        if self._url is None:
            self._url = self._read_url(deadline)
            self._drain.start()
        _wait_healthy(self, deadline, seconds)
        self._ready = True
        return self

    def _read_url(self, deadline: float) -> str:
        """Read the child's output up to its line "serving ... on URL", which says where it listens."""
        stdout, seen = self.process.stdout, []
        while not (seen and seen[-1].startswith("serving")):
            ready, _, _ = select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = stdout.readline() if ready else ""
            if not line:  # the child ended, or the time is up
                self.kill()
                raise RuntimeError(
                    f"the server did not start (exit code {self.process.returncode}):\n{''.join(seen)}"
                )
            seen.append(line)
        self.output.extend(line.rstrip() for line in seen[:-1])
        return seen[-1].split(" on ")[1].split()[0]

    def stop(self, timeout: float = 20.0) -> int:
        """Stop cleanly (SIGTERM: finish requests, write a snapshot); return the exit code."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int:
        """Kill at once (SIGKILL, like a crash): only the write-ahead log and snapshot survive."""
        if self.running:
            self.process.kill()
        return self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        return f"ServerProcess({self._url!r}, pid={self.process.pid}, running={self.running})"


def start(
    state_dir,
    *,
    mode: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    snapshot_every: int = 10_000,
    label_window: float | None = None,
    input_guard: bool = True,
    timeout: float = 180.0,
    wait: bool = True,
) -> ServerProcess:
    """Start a server on ``state_dir`` in a child process; return once ``/health`` answers.

    ``port=0`` picks a free port (see ``.url``). Use it as a context manager, or call ``.stop()``.
    The child imports the same ``deployment_modes`` as this process.

    Parameters
    ----------
    state_dir
        The folder of the snapshot and the write-ahead log.
    mode
        ``"online"`` or ``"batch"`` for an empty state dir; else it must match the state dir's.
    host
        The address to bind (a token is needed unless it is loopback).
    port
        The port (0: any free port).
    token
        The bearer token, passed to the child in its environment (not on its command line).
    snapshot_every
        Events between snapshots.
    label_window
        Join late labels within this many seconds (see :mod:`deployment_modes.label_join`).
    input_guard
        Refuse abnormal inputs with 422 (``False``: ``--no-input-guard``).
    timeout
        Seconds to wait for the server to answer.
    wait
        ``False``: return as soon as the process is started, without waiting for it to load its
        libraries and answer; call :meth:`ServerProcess.wait_ready` before using it. Servers
        started this way load at the same time, on as many cores.

    Returns
    -------
    ServerProcess
        The running server (with ``wait=False``, a server that may still be starting).

    Examples
    --------

    >>> import httpx, tempfile
    >>> with start(tempfile.mkdtemp(), mode="batch") as server:
    ...     httpx.get(server.url + "/health").json()["model_version"]
    1

    Two servers that start together, each in its own process:

    >>> servers = [start(tempfile.mkdtemp(), mode=m, wait=False) for m in ("online", "batch")]
    >>> [httpx.get(s.wait_ready().url + "/health").json()["mode"] for s in servers]
    ['online', 'batch']
    >>> [s.stop() for s in servers]
    [0, 0]
    """
    check_security(host, token)
    boolean(wait, "wait")
    _seconds(timeout)
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    )
    env.pop(TOKEN_ENV, None)
    if token is not None:
        env[TOKEN_ENV] = token  # not on the command line, where other users could read it
    command = [
        sys.executable,
        "-m",
        "deployment_modes.serve",
        "--state-dir",
        str(state_dir),
        "--host",
        host,
        "--port",
        str(port),
        "--snapshot-every",
        str(snapshot_every),
    ]
    if mode is not None:
        command += ["--mode", mode]
    if label_window is not None:
        command += ["--label-window", repr(float(label_window))]
    if not input_guard:
        command.append("--no-input-guard")
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    server = ServerProcess(process, token=token, timeout=timeout)
    atexit.register(server.stop)
    return server.wait_ready() if wait else server


class Probe:
    """A client that asks ``/predict`` every ``interval`` seconds from a background thread.

    It records, per request, when it was sent (seconds since :meth:`start`), how long it took,
    whether it was answered (``ok``), the answer and its ``model_version``; :meth:`stop` returns the table.
    Each request opens a new connection, as independent clients would, so a restarted server is
    reached as soon as it listens again.

    Parameters
    ----------
    url
        The server's address.
    x
        The event whose prediction is asked.
    interval
        Seconds between requests.
    timeout
        Seconds a request may take.

    Examples
    --------

    >>> probe = Probe("http://127.0.0.1:9", {"x0": 0.5}, interval=0.01).start()  # no server there
    >>> time.sleep(0.1); table = probe.stop()
    >>> list(table.columns), bool(table["ok"].any())
    (['sent', 'latency_ms', 'ok', 'y_pred', 'model_version'], False)
    """

    def __init__(self, url: str, x: dict, *, interval: float = 0.005, timeout: float = 5.0):
        self.url, self.x, self.interval, self.timeout = url, x, interval, timeout
        self.rows: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Probe:
        self.t0 = time.perf_counter()
        self._thread.start()
        return self

    def _run(self) -> None:
        body = json.dumps({"x": self.x}).encode()
        while not self._stop.is_set():
            sent = time.perf_counter()
            try:
                status, answer = _request(self.url, "POST", "/predict", body, self.timeout)
                ok = status == 200
            except (OSError, ValueError):  # refused, reset, timed out, or not an HTTP answer
                ok, answer = False, {}
            done = time.perf_counter()
            self.rows.append(
                (
                    sent - self.t0,
                    1e3 * (done - sent),
                    ok,
                    answer.get("y_pred") if isinstance(answer, dict) else None,
                    answer.get("model_version") if isinstance(answer, dict) else None,
                )
            )
            self._stop.wait(max(0.0, self.interval - (done - sent)))

    def stop(self):
        """Stop asking; the table: ``sent`` (s), ``latency_ms``, ``ok``, ``y_pred``, ``model_version``."""
        import pandas as pd

        self._stop.set()
        self._thread.join()
        return pd.DataFrame(
            self.rows, columns=["sent", "latency_ms", "ok", "y_pred", "model_version"]
        )


def downtime(table) -> dict:
    """How long a :class:`Probe` table shows the service down, and how many requests failed or waited.

    Down from the first failed request to the next answered one (summed over outages); a request is
    *delayed* when it took over ten times the median latency.

    Parameters
    ----------
    table
        A :meth:`Probe.stop` table (``sent``, ``latency_ms``, ``ok``).

    Returns
    -------
    dict
        ``seconds`` down, requests ``failed`` and ``delayed``, ``max_latency_ms``, ``requests``.

    Examples
    --------

    >>> import pandas as pd
    >>> t = pd.DataFrame({"sent": [0.0, 0.1, 0.2, 0.3], "latency_ms": [1, 1, 1, 50], "ok": [True, False, True, True]})
    >>> downtime(t)
    {'seconds': 0.1, 'failed': 1, 'delayed': 1, 'max_latency_ms': 50.0, 'requests': 4}
    """
    down, since = 0.0, None
    for sent, ok in zip(table["sent"], table["ok"]):
        if not ok and since is None:
            since = sent
        elif ok and since is not None:
            down, since = down + sent - since, None
    if since is not None:
        down += float(table["sent"].iloc[-1]) - since
    answered = table.loc[table["ok"], "latency_ms"]
    median = float(answered.median()) if len(answered) else 0.0
    return {
        "seconds": round(down, 6),
        "failed": int((~table["ok"]).sum()),
        "delayed": int((answered > 10 * median).sum()),
        "max_latency_ms": float(answered.max()) if len(answered) else 0.0,
        "requests": len(table),
    }


def naive_redeploy(server: ServerProcess, state_dir, **start_kwargs) -> ServerProcess:
    """The redeploy without a hot swap: stop the server, retrain offline, start it again.

    The retrain is the same one ``POST /deploy`` does (all stored events, logged as a swap), done
    while no server runs; the new server listens on the same address. Returns it.

    Parameters
    ----------
    server
        The running server (batch mode), stopped here.
    state_dir
        Its state dir.
    **start_kwargs
        Passed to :func:`start` for the new server.

    Returns
    -------
    ServerProcess
        The new server.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with naive_redeploy(start(folder, mode="batch"), folder) as server:
    ...     import httpx; httpx.get(server.url + "/health").json()["model_version"]
    2
    """
    from .durable import DurableDeployment

    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    server.stop()
    with DurableDeployment(state_dir, "batch") as state:
        state.redeploy()
    return start(
        state_dir, host=host.strip("[]"), port=int(port), token=server.token, **start_kwargs
    )


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies (no orphan server)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_healthy(server: ServerProcess, deadline: float, seconds: float) -> None:
    while time.monotonic() < deadline:
        if not server.running:
            raise RuntimeError("the server stopped while starting:\n" + "\n".join(server.output))
        try:
            if _request(server.url, "GET", "/health", timeout=1.0)[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    server.kill()
    raise RuntimeError(f"the server did not answer /health within {seconds} s")


def _seconds(value) -> float:
    """``value`` if it is a positive number of seconds (a timeout), else raise naming ``timeout``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"timeout must be a number of seconds, got {type(value).__name__} {value!r}"
        )
    if not value > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {value!r}")
    return float(value)


def _request(url: str, method: str, path: str, body: bytes = b"", timeout: float = 5.0):
    """One HTTP/1.1 request on a connection of its own: ``(status, JSON answer or None)``.

    A light client for measuring a server (a few system calls, no client object to build): it
    raises OSError when the server cannot be reached or the time is up, ValueError on an answer
    that is not HTTP.

    Parameters
    ----------
    url
        The server's address, ``http://host:port``.
    method
        ``"GET"`` or ``"POST"``.
    path
        The path asked for.
    body
        A JSON body for a POST.
    timeout
        Seconds to connect, and seconds each read may wait.

    Examples
    --------
    >>> _request("http://127.0.0.1:9", "GET", "/health")  # no server there
    Traceback (most recent call last):
    ...
    ConnectionRefusedError: [Errno 111] Connection refused
    """
    address = urllib.parse.urlsplit(url)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout) as sock:
        sock.sendall(head.encode() + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status_line, _, rest = answer.partition(b"\r\n")
    parts = status_line.split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {answer[:60]!r}")
    payload = rest.partition(b"\r\n\r\n")[2]
    try:
        return int(parts[1]), json.loads(payload) if payload else None
    except json.JSONDecodeError:
        return int(parts[1]), None
