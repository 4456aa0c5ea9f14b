"""The model server's request checks: who may send what, from where, and how much.

What :mod:`deployment_modes.serve` checks before a request reaches the deployment:

- the address and the token (:func:`check_security`): a server reachable from other machines
  needs a bearer token, of at least 8 printable characters, read from a file or the environment
  (:func:`read_token`) rather than the command line;
- what a browser could be tricked into sending (:class:`RequestGuard`, an ASGI middleware): a
  ``Host`` that is not loopback (DNS rebinding), an ``Origin`` of another site (CSRF), and how
  many requests with a body are handled at once;
- the body (:func:`read_json`): ``application/json`` only, at most so many bytes (413 closes the
  connection), valid JSON, no unknown fields; and the token (:func:`authorize`).

Each refusal is a :class:`BadRequest` with its HTTP status and a message that names the field.
Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
from pathlib import Path

from . import json_codec

__all__ = [
    "TOKEN_ENV",
    "BadRequest",
    "RequestGuard",
    "authorize",
    "check_security",
    "is_loopback",
    "parse_json",
    "read_body",
    "read_json",
    "read_token",
    "token_ok",
]

TOKEN_ENV = "DM_SERVE_TOKEN"
PARSE_INLINE_BYTES = 16 * 2**10


class BadRequest(Exception):
    """A request refused before it reaches the deployment: its HTTP ``status`` and ``message``.

    Parameters
    ----------
    status
        The HTTP status code (400, 401, 413, 415, 422, ...).
    message
        What is wrong, naming the field.

    Examples
    --------
    >>> error = BadRequest(415, "the body must be sent as Content-Type: application/json")
    >>> error.status, str(error)
    (415, 'the body must be sent as Content-Type: application/json')
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1 or ``localhost``).

    Parameters
    ----------
    host
        An address or host name.

    Returns
    -------
    bool

    Examples
    --------
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
    """Refuse a server reachable from other machines without a token, or with a blank or short one.

    Parameters
    ----------
    host
        The address the server binds to.
    token
        The bearer token, or None.

    Examples
    --------
    >>> check_security("127.0.0.1", None)  # loopback: a token is optional
    >>> check_security("0.0.0.0", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: a token is required when host is not a loopback address, got host '0.0.0.0': ...
    """
    if token is not None and (
        not isinstance(token, str)
        or len(token) < 8
        or not token.isprintable()
        or any(c.isspace() for c in token)
        or not token.isascii()
    ):
        raise ValueError(
            "token must be a string of at least 8 printable ASCII characters, without spaces"
        )
    if token is None and not is_loopback(host):
        raise ValueError(
            f"a token is required when host is not a loopback address, got host {host!r}: "
            f"pass --token (or set {TOKEN_ENV}), or bind to 127.0.0.1"
        )


def read_token(given: str | None, path: str | None) -> str | None:
    """The token from ``--token``, ``--token-file`` or the environment (one of them); blank is refused.

    Parameters
    ----------
    given
        The token given on the command line, or None.
    path
        A file whose first line is the token, or None.

    Returns
    -------
    str or None
        The token (from ``given``, the file, or the environment variable ``DM_SERVE_TOKEN``).

    Examples
    --------
    >>> read_token("secret-token", None)
    'secret-token'
    >>> read_token("  ", None)
    Traceback (most recent call last):
    ValueError: the token from --token is blank: give a token of at least 8 characters
    """
    sources = [
        name
        for name, value in (
            ("--token", given),
            ("--token-file", path),
            (TOKEN_ENV, os.environ.get(TOKEN_ENV)),
        )
        if value is not None
    ]
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
        raise ValueError(
            f"the token from {sources[0]} is blank: give a token of at least 8 characters"
        )
    return given


def token_ok(headers, token: str) -> bool:
    """Whether ``headers`` carry ``Authorization: Bearer <token>`` (compared in constant time).

    Parameters
    ----------
    headers
        The request's headers (a mapping with lower-case names).
    token
        The server's token.

    Returns
    -------
    bool

    Examples
    --------
    >>> token_ok({"authorization": "Bearer secret-token"}, "secret-token"), token_ok({}, "secret-token")
    (True, False)
    """
    scheme, _, given = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def authorize(request, token: str | None) -> None:
    """Raise :class:`BadRequest` (401) unless ``request`` carries the token (nothing to check without one).

    Parameters
    ----------
    request
        The request (anything with ``headers``).
    token
        The server's token, or None.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> authorize(SimpleNamespace(headers={"authorization": "Bearer nope"}), "secret-token")
    Traceback (most recent call last):
    deployment_modes.serve_guard.BadRequest: the bearer token is wrong
    """
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise BadRequest(401, "this endpoint needs the header Authorization: Bearer <token>")
    if not token_ok(request.headers, token):
        raise BadRequest(401, "the bearer token is wrong")


async def read_json(request, limit: int, fields: set):
    """The JSON body of ``request``: ``application/json``, at most ``limit`` bytes, no unknown fields.

    A large body is parsed in a worker thread, so that the event loop goes on serving others.

    Parameters
    ----------
    request
        The request (a Starlette ``Request``).
    limit
        The largest body in bytes (413 beyond: the rest is not read).
    fields
        The fields a JSON object may have (422 for others).

    Returns
    -------
    object
        The parsed body (any JSON value; an object has only ``fields``).

    Examples
    --------
    >>> import asyncio
    >>> from types import SimpleNamespace
    >>> async def chunks():
    ...     yield b'{"x": {"x0": 1.5}}'
    >>> request = SimpleNamespace(headers={"content-type": "application/json"}, stream=chunks)
    >>> asyncio.run(read_json(request, 1024, {"x"}))
    {'x': {'x0': 1.5}}
    """
    body = await read_body(request, limit)
    if len(body) <= PARSE_INLINE_BYTES:
        return parse_json(body, fields)
    from starlette.concurrency import run_in_threadpool  # only the server loads Starlette

    return await run_in_threadpool(parse_json, body, fields)


async def read_body(request, limit: int) -> bytes:
    """The body of ``request`` as bytes, unparsed: ``application/json``, at most ``limit`` bytes.

    For a handler that parses it in the worker thread that also uses it (:func:`parse_json`).

    Parameters
    ----------
    request
        The request (a Starlette ``Request``).
    limit
        The largest body in bytes (413 beyond: the rest is not read).

    Returns
    -------
    bytes

    Examples
    --------
    >>> import asyncio
    >>> from types import SimpleNamespace
    >>> async def chunks():
    ...     yield b'{"x": '
    ...     yield b'{"x0": 1.5}}'
    >>> asyncio.run(read_body(SimpleNamespace(headers={"content-type": "application/json"}, stream=chunks), 1024))
    b'{"x": {"x0": 1.5}}'
    """
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/json":  # a form or text/plain post from another site is refused
        raise BadRequest(
            415, f"the body must be sent as Content-Type: application/json, got {kind or 'none'!r}"
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, f"the body is {declared} bytes, more than the limit of {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, f"the body is more than the limit of {limit} bytes")
    return bytes(body)  # what orjson parses (it would hand a bytearray to the slower json)


def parse_json(body: bytes, fields: set):
    """``body`` parsed as JSON, refused (400) if it is not JSON, or (422) if an object has fields not in ``fields``.

    Parameters
    ----------
    body
        The body of a request, as :func:`read_body` returns it.
    fields
        The fields a JSON object may have.

    Returns
    -------
    object
        The parsed body.

    Examples
    --------
    >>> parse_json(b'{"events": []}', {"events"})
    {'events': []}
    >>> parse_json(b'{"events": [], "more": 1}', {"events"})
    Traceback (most recent call last):
    deployment_modes.serve_guard.BadRequest: the body has unknown fields ['more']
    """
    try:
        parsed = json_codec.loads(body)
    except (ValueError, RecursionError) as error:
        raise BadRequest(400, f"the body is not valid JSON: {error}") from None
    if isinstance(parsed, dict) and not set(parsed) <= fields:
        raise BadRequest(422, f"the body has unknown fields {sorted(set(parsed) - fields)}")
    return parsed


def _host_name(value: str) -> str:
    """The name part of a Host header or of an origin's authority: ``[::1]:80`` -> ``::1``."""
    if value.startswith("["):
        return value[1:].partition("]")[0].lower()
    return value.rpartition(":")[0].lower() if value.count(":") == 1 else value.lower()


class RequestGuard:
    """ASGI middleware in front of every route: what a browser could be tricked into sending is refused.

    - bound to a loopback address, the ``Host`` header must name a loopback address (a DNS
      rebinding attack reaches the server under the attacker's domain name);
    - a request with an ``Origin`` header from another origin than the server's is refused (a
      page of another site posting to the server);
    - with a token, on an address that is not loopback, ``/metrics``, ``/docs`` and
      ``/openapi.json`` need it too;
    - at most ``max_concurrent`` requests that send a body are read and handled at once; the
      others wait (their bodies are not read meanwhile).

    Parameters
    ----------
    app
        The ASGI application guarded.
    host
        The address the server is bound to.
    token
        The server's token, or None.
    max_concurrent
        How many requests with a body are handled at once.

    Examples
    --------
    >>> guard = RequestGuard(None, host="127.0.0.1", token=None, max_concurrent=8)
    >>> guard.problem({"headers": [(b"host", b"evil.example:8000")], "path": "/learn"})
    (421, "the Host header 'evil.example:8000' does not name this server (a loopback address)")
    >>> guard.problem({"headers": [(b"host", b"127.0.0.1:8000")], "path": "/learn"}) is None
    True
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
        """``(status, message)`` if the request of ``scope`` is refused, else None."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.names is not None and _host_name(host) not in self.names:
            return 421, f"the Host header {host!r} does not name this server (a loopback address)"
        origin = headers.get("origin")
        if origin is not None and origin.partition("://")[2] != host:
            return (
                403,
                f"requests from the origin {origin!r} are refused (not this server's origin)",
            )
        if (
            self.guard_reads
            and scope["path"] in self.GUARDED_READS
            and not token_ok(headers, self.token)
        ):
            return 401, "this endpoint needs the header Authorization: Bearer <token>"
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        problem = self.problem(scope)
        if problem is not None:
            from starlette.responses import JSONResponse  # only the server loads Starlette

            headers = {"WWW-Authenticate": "Bearer"} if problem[0] == 401 else None
            return await JSONResponse({"detail": problem[1]}, problem[0], headers=headers)(
                scope, receive, send
            )
        if scope["method"] != "POST":
            return await self.app(scope, receive, send)
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        async with self._semaphore:
            await self.app(scope, receive, send)
