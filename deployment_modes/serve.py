"""A model server that learns while it serves: FastAPI over a :class:`~deployment_modes.durable.DurableDeployment`.

Run it with ``python -m deployment_modes.serve --state-dir DIR [--host 127.0.0.1] [--port 8000]
[--mode online|batch] [--token-file FILE]``, or from Python with :func:`start` (a child process that
:meth:`ServerProcess.stop` ends cleanly). An empty state dir starts from
:func:`~deployment_modes.durable.default_deployment`; :func:`~deployment_modes.durable.init_state`
puts another deployment there first. Endpoints (JSON in and out):

- ``POST /predict`` ``{"x": {feature: number}}`` -> ``{"y_pred", "model_version"}``
- ``POST /learn`` ``{"x": {...}, "y": label}`` -> 200 once the event is in the write-ahead log on
  disk and in the model: ``{"learned", "n_seen", "seq", "model_version"}``
- ``POST /learn_many`` ``{"events": [{"x": {...}, "y": label}, ...]}``: the same, for a batch
- ``POST /deploy`` (batch mode): retrain on every stored event while predictions go on, then swap;
  with ``{"shadow": n}`` the candidate is first scored in shadow on ``n`` labelled events and swapped
  only if it is not worse (the response says ``swapped`` and the ``reason``)
- with ``--label-window SECONDS`` (late labels joined, :mod:`deployment_modes.label_join`):
  ``POST /predict`` also returns a ``prediction_id`` once the event and its prediction are logged
  durably; ``POST /label`` ``{"prediction_id", "y"}`` joins the label and learns, acknowledged once
  on disk (404 unknown id, 409 labelled already, 410 after the window: the prediction expires);
  ``POST /label_many`` ``{"labels": [...]}`` the same for many, all or nothing
- ``GET /health``; ``GET /metrics``: events seen, model version, rolling metric, drift alarms,
  last snapshot, request counts, pending and expired predictions, label delay p50 and p90, the
  last deploy's decision

Bad input (malformed JSON, wrong types, missing features, NaN or infinity, unknown fields, a body
over its limit) gets a 4xx with a message that names the field, and changes nothing. The input
guardrail, on by default (``--no-input-guard`` turns it off): an ``x`` with a value outside the
bounds learned from the initial training data (:class:`~deployment_modes.input_guard.FeatureBounds`)
gets 422 naming the feature and its bounds, on ``/predict``, ``/learn`` and ``/learn_many`` (the
whole batch); ``/metrics`` counts them in ``inputs_rejected``. A full disk
gets 507 (nothing logged or learned: retry later). Security: the server binds to 127.0.0.1 unless
told otherwise; with a token (``--token-file``, or the environment variable ``DM_SERVE_TOKEN``),
``/learn``, ``/learn_many``, ``/label``, ``/label_many`` and ``/deploy`` need ``Authorization: Bearer TOKEN``, and so do
``/metrics`` and the API docs on a host that is not loopback; such a host is refused without a
token. Bodies must be ``application/json``; on loopback the ``Host`` header must name a loopback
address, and a request from another site's page (an ``Origin`` that is not the server's) is
refused, so that a web page cannot make a browser teach the model (CSRF, DNS rebinding).

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import collections
import hmac
import ipaddress
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .durable import Busy, DurableDeployment, LogWriteError, StateError
from .label_join import AlreadyLabelled, LabelTooLate, UnknownPrediction

__all__ = ["Probe", "ServerProcess", "create_app", "downtime", "is_loopback", "main", "naive_redeploy", "start"]

MAX_BODY_BYTES = 2**20
MAX_EVENT_BYTES = 64 * 2**10
MAX_EVENTS = 10_000
MAX_CONCURRENT = 8
PARSE_INLINE_BYTES = 16 * 2**10
TOKEN_ENV = "DM_SERVE_TOKEN"
LIMIT_CONNECTIONS = 200


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1 or ``localhost``).

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_security(host: str, token: str | None) -> None:
    """Refuse a server reachable from other machines without a token, or with a blank or short one."""
    if token is not None and (not isinstance(token, str) or len(token) < 8 or not token.isprintable()
                              or any(c.isspace() for c in token) or not token.isascii()):
        raise ValueError("token must be a string of at least 8 printable ASCII characters, without spaces")
    if token is None and not is_loopback(host):
        raise ValueError(f"a token is required when host is not a loopback address, got host {host!r}: "
                         f"pass --token (or set {TOKEN_ENV}), or bind to 127.0.0.1")


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _host_name(value: str) -> str:
    """The name part of a Host header or of an origin's authority: ``[::1]:80`` -> ``::1``."""
    if value.startswith("["):
        return value[1:].partition("]")[0].lower()
    return value.rpartition(":")[0].lower() if value.count(":") == 1 else value.lower()


class _Guard:
    """ASGI middleware in front of every route: what a browser could be tricked into sending is refused.

    - bound to a loopback address, the ``Host`` header must name a loopback address (a DNS
      rebinding attack reaches the server under the attacker's domain name);
    - a request with an ``Origin`` header from another origin than the server's is refused (a
      page of another site posting to the server);
    - with a token, on an address that is not loopback, ``/metrics``, ``/docs`` and
      ``/openapi.json`` need it too;
    - at most ``max_concurrent`` requests that send a body are read and handled at once; the
      others wait (their bodies are not read meanwhile).
    """

    LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
    GUARDED_READS = {"/metrics", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"}

    def __init__(self, app, *, host: str, token: str | None, max_concurrent: int):
        self.app, self.token = app, token
        self.names = self.LOOPBACK_NAMES | {host.lower()} if is_loopback(host) else None
        self.guard_reads = token is not None and not is_loopback(host)
        self.slots = max_concurrent
        self._semaphore = None

    def problem(self, scope) -> tuple[int, str] | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.names is not None and _host_name(host) not in self.names:
            return 421, f"the Host header {host!r} does not name this server (a loopback address)"
        origin = headers.get("origin")
        if origin is not None and origin.partition("://")[2] != host:
            return 403, f"requests from the origin {origin!r} are refused (not this server's origin)"
        if self.guard_reads and scope["path"] in self.GUARDED_READS and not _token_ok(headers, self.token):
            return 401, "this endpoint needs the header Authorization: Bearer <token>"
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        problem = self.problem(scope)
        if problem is not None:
            headers = {"WWW-Authenticate": "Bearer"} if problem[0] == 401 else None
            return await JSONResponse({"detail": problem[1]}, problem[0], headers=headers)(scope, receive, send)
        if scope["method"] != "POST":
            return await self.app(scope, receive, send)
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        async with self._semaphore:
            await self.app(scope, receive, send)


def _token_ok(headers: dict, token: str) -> bool:
    scheme, _, given = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _event(body, where: str = ""):
    if not isinstance(body, dict):
        raise _BadRequest(422, f"{where or 'the body'} must be a JSON object with x and y, got {type(body).__name__}")
    for key in ("x", "y"):
        if key not in body:
            raise _BadRequest(422, f"{where}{key} is missing")
    extra = sorted(set(body) - {"x", "y"})
    if extra:
        raise _BadRequest(422, f"{where or 'the body'} has unknown fields {extra}")
    return body["x"], body["y"]


def create_app(state: DurableDeployment, *, token: str | None = None, host: str = "127.0.0.1",
               max_body_bytes: int = MAX_BODY_BYTES, max_event_bytes: int = MAX_EVENT_BYTES,
               max_events: int = MAX_EVENTS, max_concurrent: int = MAX_CONCURRENT):
    """The FastAPI application serving ``state``; it closes ``state`` (last snapshot) on shutdown.

    Parameters
    ----------
    state : DurableDeployment
        The deployment served.
    token : str, optional
        The bearer token that learning and deploying need (and, on a host that is not loopback,
        ``/metrics`` and the API docs).
    host : str
        The address the server is bound to: on a loopback address, requests must name it in ``Host``.
    max_body_bytes, max_event_bytes : int
        The largest body of ``/learn_many``, and of ``/predict`` and ``/learn`` (413 beyond, and
        the connection is closed).
    max_events : int
        The most events one ``/learn_many`` may hold.
    max_concurrent : int
        How many requests with a body are read and handled at once; the others wait.

    >>> import tempfile
    >>> state = DurableDeployment(tempfile.mkdtemp(), "batch")
    >>> [route.path for route in create_app(state).routes][-8:]
    ['/predict', '/label', '/label_many', '/learn', '/learn_many', '/deploy', '/health', '/metrics']
    >>> state.close()
    """
    counts = collections.Counter()
    counts_lock = threading.Lock()

    def count(name: str) -> None:
        with counts_lock:
            counts[name] += 1

    @asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(state.close)

    app = FastAPI(title="deployment_modes model server", lifespan=lifespan,
                  description="A model that learns while it serves (see book/server.ipynb).")
    app.add_middleware(_Guard, host=host, token=token, max_concurrent=max_concurrent)

    @app.exception_handler(_BadRequest)
    async def bad_request(request, error: _BadRequest):
        count("rejected")
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        if error.status == 413:  # the rest of the body is not read: the connection cannot go on
            headers = {"Connection": "close"}
        return JSONResponse({"detail": error.message}, status_code=error.status, headers=headers)

    def authorize(request: Request) -> None:
        if token is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise _BadRequest(401, "this endpoint needs the header Authorization: Bearer <token>")
        if not _token_ok(request.headers, token):
            raise _BadRequest(401, "the bearer token is wrong")

    async def read_json(request: Request, limit: int, fields: set):
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind != "application/json":  # a form or text/plain post from another site is refused
            raise _BadRequest(415, f"the body must be sent as Content-Type: application/json, got {kind or 'none'!r}")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _BadRequest(413, f"the body is {declared} bytes, more than the limit of {limit}")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _BadRequest(413, f"the body is more than the limit of {limit} bytes")
        try:  # a large body is parsed in a worker thread, so the event loop goes on serving others
            parsed = json.loads(body) if len(body) <= PARSE_INLINE_BYTES else await run_in_threadpool(json.loads, body)
        except (ValueError, RecursionError) as error:
            raise _BadRequest(400, f"the body is not valid JSON: {error}") from None
        if isinstance(parsed, dict) and not set(parsed) <= fields:
            raise _BadRequest(422, f"the body has unknown fields {sorted(set(parsed) - fields)}")
        return parsed

    async def call(function, *args):
        try:
            return await run_in_threadpool(function, *args)
        except (TypeError, ValueError) as error:
            raise _BadRequest(422, str(error)) from None
        except Busy as error:
            raise _BadRequest(409, str(error)) from None
        except UnknownPrediction as error:
            raise _BadRequest(404, str(error)) from None
        except AlreadyLabelled as error:
            raise _BadRequest(409, str(error)) from None
        except LabelTooLate as error:
            raise _BadRequest(410, str(error)) from None
        except LogWriteError as error:  # nothing was logged or learned: the client may retry
            raise _BadRequest(507 if error.disk_full else 503, str(error)) from None
        except StateError as error:
            raise _BadRequest(503, str(error)) from None

    @app.post("/predict")
    async def predict(request: Request):
        body = await read_json(request, max_event_bytes, {"x"})
        if not isinstance(body, dict) or "x" not in body:
            raise _BadRequest(422, 'the body must be a JSON object {"x": {feature: number}}; x is missing')
        if state.join is not None:  # joining late labels: the prediction is logged with its id first
            result = await call(state.predict_logged, body["x"])
            count("predict")
            return result
        y_pred, version = await call(state.predict_one, body["x"])
        count("predict")
        return {"y_pred": y_pred, "model_version": version}

    def labels_of(items, where: str = "") -> list:
        pairs = []
        for i, item in enumerate(items):
            at = f"{where}[{i}]." if where else ""
            if not isinstance(item, dict) or set(item) != {"prediction_id", "y"}:
                raise _BadRequest(422, f'{at or "the body "}must be a JSON object {{"prediction_id": ..., "y": ...}}'
                                       f' with nothing else')
            pairs.append((item["prediction_id"], item["y"]))
        return pairs

    @app.post("/label")
    async def label(request: Request):
        authorize(request)
        pairs = labels_of([await read_json(request, max_event_bytes, {"prediction_id", "y"})])
        result = await call(state.label_many, pairs)
        count("label")
        return result

    @app.post("/label_many")
    async def label_many(request: Request):
        authorize(request)
        body = await read_json(request, max_body_bytes, {"labels"})
        if not isinstance(body, dict) or not isinstance(body.get("labels"), list):
            raise _BadRequest(422, 'the body must be a JSON object {"labels": [{"prediction_id": ..., "y": ...}, ...]}')
        if len(body["labels"]) > max_events:
            raise _BadRequest(413, f"labels holds {len(body['labels'])} labels, more than the limit of {max_events}")
        result = await call(state.label_many, labels_of(body["labels"], "labels"))
        count("label_many")
        return result

    @app.post("/learn")
    async def learn(request: Request):
        authorize(request)
        x, y = _event(await read_json(request, max_event_bytes, {"x", "y"}))
        result = await call(state.learn_one, x, y)
        count("learn")
        return result

    @app.post("/learn_many")
    async def learn_many(request: Request):
        authorize(request)
        body = await read_json(request, max_body_bytes, {"events"})
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            raise _BadRequest(422, 'the body must be a JSON object {"events": [{"x": {...}, "y": ...}, ...]}')
        events = body["events"]
        if len(events) > max_events:
            raise _BadRequest(413, f"events holds {len(events)} events, more than the limit of {max_events}")
        pairs = [_event(e, where=f"events[{i}].") for i, e in enumerate(events)]
        result = await call(state.learn_many, pairs)
        count("learn_many")
        return result

    @app.post("/deploy")
    async def deploy(request: Request):
        authorize(request)
        options = {}
        if request.headers.get("content-length", "0") not in ("", "0"):  # {"shadow": n, "timeout": seconds}
            options = await read_json(request, max_event_bytes, {"shadow", "timeout"})
            if not isinstance(options, dict):
                raise _BadRequest(422, 'the body must be a JSON object {"shadow": n, "timeout": seconds}')
        result = await call(state.redeploy, options.get("shadow"), options.get("timeout", 3600.0))
        count("deploy")
        return result

    @app.get("/health")
    async def health():
        return {"status": "ok", "mode": state.mode, "model_version": state.model_version,
                "n_seen": state.n_seen, "retraining": state.retraining}

    @app.get("/metrics")
    async def metrics():
        with counts_lock:
            requests = dict(counts)
        return {**await run_in_threadpool(state.metrics), "requests": requests}

    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _read_token(given: str | None, path: str | None) -> str | None:
    """The token from ``--token``, ``--token-file`` or the environment (one of them); blank is refused."""
    sources = [name for name, value in (("--token", given), ("--token-file", path),
                                        (TOKEN_ENV, os.environ.get(TOKEN_ENV))) if value is not None]
    if len(sources) > 1:
        raise ValueError(f"give the token one way, got {' and '.join(sources)}")
    if path is not None:
        try:
            lines = Path(path).read_text().splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read the token file {path}: {error}") from None
        given = lines[0] if lines else ""
    elif given is None:
        given = os.environ.get(TOKEN_ENV)
    if given is not None and not given.strip():
        raise ValueError(f"the token from {sources[0]} is blank: give a token of at least 8 characters")
    return given


def main(argv: list[str] | None = None) -> None:
    """The command line: ``python -m deployment_modes.serve --state-dir DIR ...``."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m deployment_modes.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", required=True, help="the folder of the snapshot and the write-ahead log")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port; default 8000)")
    parser.add_argument("--mode", choices=["online", "batch"], default=None,
                        help="for an empty state dir (default online); else it must match the state dir")
    parser.add_argument("--token", default=None,
                        help=f"bearer token for learning and deploying (other users can read a command line: "
                             f"prefer --token-file or {TOKEN_ENV})")
    parser.add_argument("--token-file", default=None, help="a file holding the bearer token (its first line)")
    parser.add_argument("--snapshot-every", type=int, default=10_000, help="events between snapshots (default 10000)")
    parser.add_argument("--no-input-guard", dest="input_guard", action="store_false",
                        help="learn and predict abnormal inputs too (default: an event with a value outside the "
                             "bounds learned from the initial training data is refused with 422)")
    parser.add_argument("--label-window", type=float, default=None,
                        help="join late labels: /predict logs each prediction with an id, POST /label joins its "
                             "label within this many seconds (default: off)")
    args = parser.parse_args(argv)
    try:
        token = _read_token(args.token, args.token_file)
        check_security(args.host, token)
        state = DurableDeployment(args.state_dir, args.mode, snapshot_every=args.snapshot_every,
                                  label_window=args.label_window, input_guard=args.input_guard)
    except (ValueError, TypeError, StateError, OSError) as error:
        parser.exit(2, f"error: {error}\n")
    try:
        sock = _bind(args.host, args.port)
    except OSError as error:
        state.close(snapshot=False)
        parser.exit(2, f"error: cannot bind {args.host}:{args.port}: {error}\n")
    port = sock.getsockname()[1]
    url = f"http://[{args.host}]:{port}" if ":" in args.host else f"http://{args.host}:{port}"
    print(f"serving the {state.mode} deployment on {url} (state in {args.state_dir}, "
          f"{state.n_seen} events, {state.replayed} replayed)", flush=True)
    config = uvicorn.Config(create_app(state, token=token, host=args.host), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5, limit_concurrency=LIMIT_CONNECTIONS)
    # uvicorn re-raises the SIGTERM it handled once it has shut down: make that a clean exit
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.Server(config).run(sockets=[sock])


class ServerProcess:
    """A server running in a child process, started by :func:`start`: ``url``, ``stop()``, ``kill()``."""

    def __init__(self, process: subprocess.Popen, url: str, token: str | None):
        self.process, self.url, self.token = process, url, token
        self.output = collections.deque(maxlen=200)
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()

    def _read_output(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.rstrip())

    @property
    def headers(self) -> dict:
        """The authorization header to send to learning endpoints (empty without a token)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @property
    def running(self) -> bool:
        return self.process.poll() is None

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
        return f"ServerProcess({self.url!r}, pid={self.process.pid}, running={self.running})"


def start(state_dir, *, mode: str | None = None, host: str = "127.0.0.1", port: int = 0,
          token: str | None = None, snapshot_every: int = 10_000, label_window: float | None = None,
          input_guard: bool = True, timeout: float = 180.0) -> ServerProcess:
    """Start a server on ``state_dir`` in a child process; return once ``/health`` answers.

    ``port=0`` picks a free port (see ``.url``). Use it as a context manager, or call ``.stop()``.
    The child imports the same ``deployment_modes`` as this process.

    >>> import httpx, tempfile
    >>> with start(tempfile.mkdtemp(), mode="batch") as server:
    ...     httpx.get(server.url + "/health").json()["model_version"]
    1
    """
    check_security(host, token)
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    env.pop(TOKEN_ENV, None)
    if token is not None:
        env[TOKEN_ENV] = token  # not on the command line, where other users could read it
    command = [sys.executable, "-m", "deployment_modes.serve", "--state-dir", str(state_dir), "--host", host,
               "--port", str(port), "--snapshot-every", str(snapshot_every)]
    if mode is not None:
        command += ["--mode", mode]
    if label_window is not None:
        command += ["--label-window", repr(float(label_window))]
    if not input_guard:
        command.append("--no-input-guard")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    seen, deadline = [], time.monotonic() + timeout
    while not (seen and seen[-1].startswith("serving")):  # the line "serving ... on URL" says where it listens
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = process.stdout.readline() if ready else ""
        if not line:  # the child ended, or the time is up
            process.kill()
            process.wait()
            raise RuntimeError(f"the server did not start (exit code {process.returncode}):\n{''.join(seen)}")
        seen.append(line)
    url = seen[-1].split(" on ")[1].split()[0]
    server = ServerProcess(process, url, token)
    server.output.extend(line.rstrip() for line in seen[:-1])
    atexit.register(server.stop)
    _wait_healthy(server, timeout)
    return server


class Probe:
    """A client that asks ``/predict`` every ``interval`` seconds from a background thread.

    It records, per request, when it was sent (seconds since :meth:`start`), how long it took,
    whether it was answered (``ok``), the answer and its ``model_version``; :meth:`stop` returns the table.
    Each request opens a new connection, as independent clients would, so a restarted server is
    reached as soon as it listens again.

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
        import httpx

        fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection per request
        with httpx.Client(base_url=self.url, timeout=self.timeout, limits=fresh) as client:
            while not self._stop.is_set():
                sent = time.perf_counter()
                try:
                    r = client.post("/predict", json={"x": self.x})
                    ok, answer = r.status_code == 200, r.json()
                except httpx.HTTPError:
                    ok, answer = False, {}
                done = time.perf_counter()
                self.rows.append((sent - self.t0, 1e3 * (done - sent), ok, answer.get("y_pred"),
                                  answer.get("model_version")))
                self._stop.wait(max(0.0, self.interval - (done - sent)))

    def stop(self):
        """Stop asking; the table: ``sent`` (s), ``latency_ms``, ``ok``, ``y_pred``, ``model_version``."""
        import pandas as pd

        self._stop.set()
        self._thread.join()
        return pd.DataFrame(self.rows, columns=["sent", "latency_ms", "ok", "y_pred", "model_version"])


def downtime(table) -> dict:
    """How long a :class:`Probe` table shows the service down, and how many requests failed or waited.

    Down from the first failed request to the next answered one (summed over outages); a request is
    *delayed* when it took over ten times the median latency.

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
    return {"seconds": round(down, 6), "failed": int((~table["ok"]).sum()),
            "delayed": int((answered > 10 * median).sum()), "max_latency_ms": float(answered.max()) if len(answered) else 0.0,
            "requests": len(table)}


def naive_redeploy(server: ServerProcess, state_dir, **start_kwargs) -> ServerProcess:
    """The redeploy without a hot swap: stop the server, retrain offline, start it again.

    The retrain is the same one ``POST /deploy`` does (all stored events, logged as a swap), done
    while no server runs; the new server listens on the same address. Returns it.
    """
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    server.stop()
    with DurableDeployment(state_dir, "batch") as state:
        state.redeploy()
    return start(state_dir, host=host.strip("[]"), port=int(port), token=server.token, **start_kwargs)


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies (no orphan server)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_healthy(server: ServerProcess, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.running:
            raise RuntimeError("the server stopped while starting:\n" + "\n".join(server.output))
        try:
            if httpx.get(server.url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    server.kill()
    raise RuntimeError(f"the server did not answer /health within {timeout} s")


if __name__ == "__main__":
    main()
