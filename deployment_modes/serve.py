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

The request checks are :mod:`deployment_modes.serve_guard`; the child process, the probe and
the downtime it measures, :mod:`deployment_modes.serve_process` (their public names are
importable from here too).

FastAPI and uvicorn are loaded by :func:`create_app` and :func:`main`, in the server: a process that
only starts servers and asks them (:func:`start`, :class:`Probe`) does not load them. (No
``from __future__ import annotations`` here: FastAPI reads the routes' annotations, and
``Request`` is a name of :func:`create_app`, not of this module.)

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

import argparse
import collections
import os
import signal
import socket
import sys
import threading
from contextlib import asynccontextmanager

from .durable_labels import Busy
from .label_join import AlreadyLabelled, LabelTooLate, UnknownPrediction
from .serve_guard import (
    TOKEN_ENV,
    BadRequest,
    RequestGuard,
    authorize,
    check_security,
    is_loopback,
    parse_json,
    read_body,
    read_json,
    read_token,
)
from .serve_process import Probe, ServerProcess, downtime, naive_redeploy, start
from .storage import LogWriteError, StateError

__all__ = [
    "TOKEN_ENV",
    "Probe",
    "ServerProcess",
    "check_security",
    "create_app",
    "downtime",
    "is_loopback",
    "main",
    "naive_redeploy",
    "start",
]

MAX_BODY_BYTES = 2**20
MAX_EVENT_BYTES = 64 * 2**10
MAX_EVENTS = 10_000
MAX_CONCURRENT = 8
LIMIT_CONNECTIONS = 200


def _event(body, where: str = ""):
    if type(body) is dict and len(body) == 2 and "x" in body and "y" in body:
        return body["x"], body["y"]  # the fast path of the checks below
    if not isinstance(body, dict):
        raise BadRequest(
            422,
            f"{where or 'the body'} must be a JSON object with x and y, got {type(body).__name__}",
        )
    for key in ("x", "y"):
        if key not in body:
            raise BadRequest(422, f"{where}{key} is missing")
    extra = sorted(set(body) - {"x", "y"})
    if extra:
        raise BadRequest(422, f"{where or 'the body'} has unknown fields {extra}")
    return body["x"], body["y"]


def create_app(
    state: "DurableDeployment",  # noqa: F821 (loaded by main, in the server process)
    *,
    token: str | None = None,
    host: str = "127.0.0.1",
    max_body_bytes: int = MAX_BODY_BYTES,
    max_event_bytes: int = MAX_EVENT_BYTES,
    max_events: int = MAX_EVENTS,
    max_concurrent: int = MAX_CONCURRENT,
):
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

    Examples
    --------
    >>> import tempfile
    >>> from deployment_modes.durable import DurableDeployment
    >>> state = DurableDeployment(tempfile.mkdtemp(), "batch")
    >>> [route.path for route in create_app(state).routes][-8:]
    ['/predict', '/label', '/label_many', '/learn', '/learn_many', '/deploy', '/health', '/metrics']
    >>> state.close()
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    counts = collections.Counter()
    counts_lock = threading.Lock()

    def count(name: str) -> None:
        with counts_lock:
            counts[name] += 1

    @asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(state.close)

    app = FastAPI(
        title="deployment_modes model server",
        lifespan=lifespan,
        description="A model that learns while it serves (see book/server.ipynb).",
    )
    app.add_middleware(RequestGuard, host=host, token=token, max_concurrent=max_concurrent)

    @app.exception_handler(BadRequest)
    async def bad_request(request, error: BadRequest):
        count("rejected")
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        if error.status == 413:  # the rest of the body is not read: the connection cannot go on
            headers = {"Connection": "close"}
        return JSONResponse({"detail": error.message}, status_code=error.status, headers=headers)

    async def call(function, *args):
        try:
            return await run_in_threadpool(function, *args)
        except (TypeError, ValueError) as error:
            raise BadRequest(422, str(error)) from None
        except Busy as error:
            raise BadRequest(409, str(error)) from None
        except UnknownPrediction as error:
            raise BadRequest(404, str(error)) from None
        except AlreadyLabelled as error:
            raise BadRequest(409, str(error)) from None
        except LabelTooLate as error:
            raise BadRequest(410, str(error)) from None
        except LogWriteError as error:  # nothing was logged or learned: the client may retry
            raise BadRequest(507 if error.disk_full else 503, str(error)) from None
        except StateError as error:
            raise BadRequest(503, str(error)) from None

    @app.post("/predict")
    async def predict(request: Request):
        body = await read_json(request, max_event_bytes, {"x"})
        if not isinstance(body, dict) or "x" not in body:
            raise BadRequest(
                422, 'the body must be a JSON object {"x": {feature: number}}; x is missing'
            )
        if (
            state.join is not None
        ):  # joining late labels: the prediction is logged with its id first
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
                raise BadRequest(
                    422,
                    f'{at or "the body "}must be a JSON object {{"prediction_id": ..., "y": ...}}'
                    f" with nothing else",
                )
            pairs.append((item["prediction_id"], item["y"]))
        return pairs

    @app.post("/label")
    async def label(request: Request):
        authorize(request, token)
        pairs = labels_of([await read_json(request, max_event_bytes, {"prediction_id", "y"})])
        result = await call(state.label_many, pairs)
        count("label")
        return result

    @app.post("/label_many")
    async def label_many(request: Request):
        authorize(request, token)
        body = await read_json(request, max_body_bytes, {"labels"})
        if not isinstance(body, dict) or not isinstance(body.get("labels"), list):
            raise BadRequest(
                422,
                'the body must be a JSON object {"labels": [{"prediction_id": ..., "y": ...}, ...]}',
            )
        if len(body["labels"]) > max_events:
            raise BadRequest(
                413,
                f"labels holds {len(body['labels'])} labels, more than the limit of {max_events}",
            )
        result = await call(state.label_many, labels_of(body["labels"], "labels"))
        count("label_many")
        return result

    @app.post("/learn")
    async def learn(request: Request):
        authorize(request, token)
        x, y = _event(await read_json(request, max_event_bytes, {"x", "y"}))
        result = await call(state.learn_one, x, y)
        count("learn")
        return result

    def learn_batch(body: bytes) -> dict:
        """Parse, check and learn a /learn_many body: one trip to a worker thread for all three."""
        body = parse_json(body, {"events"})
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            raise BadRequest(
                422, 'the body must be a JSON object {"events": [{"x": {...}, "y": ...}, ...]}'
            )
        events = body["events"]
        if len(events) > max_events:
            raise BadRequest(
                413, f"events holds {len(events)} events, more than the limit of {max_events}"
            )
        try:
            pairs = [_event(e) for e in events]
        except BadRequest:  # again, to name the event
            pairs = [_event(e, where=f"events[{i}].") for i, e in enumerate(events)]
        return state.learn_many(pairs)

    @app.post("/learn_many")
    async def learn_many(request: Request):
        authorize(request, token)
        result = await call(learn_batch, await read_body(request, max_body_bytes))
        count("learn_many")
        return result

    @app.post("/deploy")
    async def deploy(request: Request):
        authorize(request, token)
        options = {}
        if request.headers.get("content-length", "0") not in (
            "",
            "0",
        ):  # {"shadow": n, "timeout": seconds}
            options = await read_json(request, max_event_bytes, {"shadow", "timeout"})
            if not isinstance(options, dict):
                raise BadRequest(
                    422, 'the body must be a JSON object {"shadow": n, "timeout": seconds}'
                )
        result = await call(state.redeploy, options.get("shadow"), options.get("timeout", 3600.0))
        count("deploy")
        return result

    @app.get("/health")
    async def health():
        return {
            "status": "ok",
            "mode": state.mode,
            "model_version": state.model_version,
            "n_seen": state.durable_n_seen,
            "retraining": state.retraining,
        }

    @app.get("/metrics")
    async def metrics():
        with counts_lock:
            requests = dict(counts)
        return {**await run_in_threadpool(state.metrics), "requests": requests}

    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(
        family, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def main(argv: list[str] | None = None) -> None:
    """The command line: ``python -m deployment_modes.serve --state-dir DIR ...``."""
    import uvicorn

    from .durable import DurableDeployment

    parser = argparse.ArgumentParser(
        prog="python -m deployment_modes.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--state-dir", required=True, help="the folder of the snapshot and the write-ahead log"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port (0: any free port; default 8000)"
    )
    parser.add_argument(
        "--mode",
        choices=["online", "batch"],
        default=None,
        help="for an empty state dir (default online); else it must match the state dir",
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"bearer token for learning and deploying (other users can read a command line: "
        f"prefer --token-file or {TOKEN_ENV})",
    )
    parser.add_argument(
        "--token-file", default=None, help="a file holding the bearer token (its first line)"
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        default=10_000,
        help="events between snapshots (default 10000)",
    )
    parser.add_argument(
        "--no-input-guard",
        dest="input_guard",
        action="store_false",
        help="learn and predict abnormal inputs too (default: an event with a value outside the "
        "bounds learned from the initial training data is refused with 422)",
    )
    parser.add_argument(
        "--label-window",
        type=float,
        default=None,
        help="join late labels: /predict logs each prediction with an id, POST /label joins its "
        "label within this many seconds (default: off)",
    )
    args = parser.parse_args(argv)
    try:
        token = read_token(args.token, args.token_file)
        check_security(args.host, token)
        state = DurableDeployment(
            args.state_dir,
            args.mode,
            snapshot_every=args.snapshot_every,
            label_window=args.label_window,
            input_guard=args.input_guard,
        )
    except (ValueError, TypeError, StateError, OSError) as error:
        parser.exit(2, f"error: {error}\n")
    try:
        sock = _bind(args.host, args.port)
    except OSError as error:
        state.close(snapshot=False)
        parser.exit(2, f"error: cannot bind {args.host}:{args.port}: {error}\n")
    port = sock.getsockname()[1]
    url = f"http://[{args.host}]:{port}" if ":" in args.host else f"http://{args.host}:{port}"
    print(
        f"serving the {state.mode} deployment on {url} (state in {args.state_dir}, "
        f"{state.n_seen} events, {state.replayed} replayed)",
        flush=True,
    )
    config = uvicorn.Config(
        create_app(state, token=token, host=args.host),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        limit_concurrency=LIMIT_CONNECTIONS,
    )
    # uvicorn re-raises the SIGTERM it handled once it has shut down: make that a clean exit
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _prompt_server(uvicorn.Server)(config).run(sockets=[sock])


def _prompt_server(base: type) -> type:
    """uvicorn's ``Server`` class, woken by a stop signal at once rather than at its next tick.

    uvicorn's main loop looks for a stop signal every 0.1 s; this one also wakes when the signal
    arrives, so a stop begins at once (then uvicorn's own shutdown: the requests in flight are
    finished, then the last snapshot is written). ``base`` is ``uvicorn.Server``, loaded by
    :func:`main`, in the server.
    """
    import asyncio

    class PromptServer(base):
        async def main_loop(self) -> None:
            self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
            counter = 0
            while not await self.on_tick(counter):  # as uvicorn's loop, which sleeps 0.1 s
                counter = (counter + 1) % 864_000
                try:
                    await asyncio.wait_for(self._wake.wait(), 0.1)
                except TimeoutError:
                    pass

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            if getattr(self, "_loop", None) is not None:  # in the loop's thread, from a signal
                self._loop.call_soon_threadsafe(self._wake.set)

    return PromptServer


def _exit_now(code) -> None:
    """End this process with ``code`` (as ``sys.exit`` would) without tearing the interpreter down.

    Run once the server has shut down: the state is closed (its last snapshot is on disk) and
    the output is flushed here, so freeing every module of SciPy, scikit-learn, pandas and river
    one by one, about a third of a CPU second, would only delay the exit.
    """
    message = None if code is None or isinstance(code, int) else code
    try:
        if message is not None:  # sys.exit("...") prints it and exits with 1
            print(message, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nobody reads it any more
        pass
    os._exit(1 if message is not None else code or 0)


if __name__ == "__main__":
    # This process is a server. Its river model imports river.stream (by way of river.drift's
    # datasets), which imports SQLAlchemy, when installed, only to offer iter_sql, and
    # scikit-learn only to offer iter_sklearn_dataset: a third of an online server's start, for
    # streams a server never reads. None in sys.modules makes the import raise ImportError, which
    # river expects when the library is missing: Python's documented way to keep a module out of
    # one process (this one, not the caller's). A batch server still loads scikit-learn, for its
    # model.
    sys.modules.setdefault("sqlalchemy", None)
    sys.modules.setdefault("river.stream.iter_sklearn", None)
    try:
        main()
    except SystemExit as done:
        _exit_now(done.code)
    _exit_now(0)
