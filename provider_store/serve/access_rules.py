"""Who may read the server, and how large a request may be.

- :func:`check_bind`: a loopback address (``127.0.0.1``, ``::1``, ``localhost``) is served as
  it is; any other address only with a read token, which must be at least
  :data:`MIN_TOKEN_LENGTH` characters.
- :class:`RequestGuard` (ASGI middleware, outermost): a path over :data:`MAX_PATH_LENGTH`
  bytes, a query over :data:`MAX_QUERY_LENGTH` bytes, more than :data:`MAX_HEADERS` headers,
  headers over :data:`MAX_HEAD_BYTES` bytes in all, or a method other than ``GET``/``HEAD``
  (and ``OPTIONS`` when CORS is on) is answered with a JSON error before any route runs;
  with a token, every path but ``/healthz`` needs
  ``Authorization: Bearer TOKEN``, compared in constant time (:func:`hmac.compare_digest`).
  The HTTP parser also bounds a request line and headers still arriving to
  :data:`MAX_HEAD_BYTES` (see :mod:`provider_store.serve.http_server`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

from provider_store.errors import ConfigurationError

__all__ = [
    "MAX_HEADERS",
    "MAX_HEAD_BYTES",
    "MAX_PATH_LENGTH",
    "MAX_QUERY_LENGTH",
    "MIN_TOKEN_LENGTH",
    "RequestGuard",
    "check_bind",
    "is_loopback",
]

MAX_PATH_LENGTH = 2048
MAX_QUERY_LENGTH = 4096
MAX_HEADERS = 64
MAX_HEAD_BYTES = 16 * 1024  # request line and headers, as the HTTP parser reads them
MIN_TOKEN_LENGTH = 16
OPEN_PATHS = frozenset({"/healthz"})  # load balancers probe without a token


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, token_env: str | None) -> None:
    """Refuse (ConfigurationError) a non-loopback ``host`` without a read token, and a token
    that is too short or names an unset variable."""
    if token_env is not None and not token:
        raise ConfigurationError(f"--token-env {token_env}: the variable is unset or empty")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigurationError(
            f"--token-env {token_env}: the token is shorter than {MIN_TOKEN_LENGTH} characters"
        )
    if not is_loopback(host) and not token:
        raise ConfigurationError(
            f"--host {host} is not a loopback address: serving other hosts needs a read token"
            " (--token-env VAR, the variable holding it)"
        )


def error_body(status: int, message: str, param: str | None = None) -> bytes:
    """An error as OpenAI's API writes one: ``{"error": {"message", "type", "param",
    "code"}}``."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    error = {"message": message, "type": kind, "param": param, "code": status}
    return json.dumps({"error": error}, separators=(",", ":")).encode()


class RequestGuard:
    """The outermost ASGI middleware: size limits, methods, and the read token."""

    def __init__(self, app: Any, *, token: str | None, cors: bool) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode() if token else None
        self._methods = {"GET", "HEAD"} | ({"OPTIONS"} if cors else set())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, message, extra = problem
        body = error_body(status, message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _problem(self, scope: dict[str, Any]) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        path = scope.get("raw_path") or scope.get("path", "").encode()
        if len(path) > MAX_PATH_LENGTH:
            return 414, f"the path is longer than {MAX_PATH_LENGTH} bytes", []
        if len(scope.get("query_string", b"")) > MAX_QUERY_LENGTH:
            return 414, f"the query is longer than {MAX_QUERY_LENGTH} bytes", []
        headers = scope.get("headers", [])
        if len(headers) > MAX_HEADERS:
            return 431, f"more than {MAX_HEADERS} request headers", []
        if sum(len(name) + len(value) for name, value in headers) > MAX_HEAD_BYTES:
            return 431, f"the request headers are longer than {MAX_HEAD_BYTES} bytes", []
        method = scope.get("method", "GET")
        if method not in self._methods:
            allow = ", ".join(sorted(self._methods)).encode()
            return (
                405,
                f"method {method[:16]} is not allowed: this API is read-only",
                [(b"allow", allow)],
            )
        if self._expected is None or scope.get("path") in OPEN_PATHS or method == "OPTIONS":
            return None
        given = next((v for k, v in headers if k == b"authorization"), b"")
        if not hmac.compare_digest(given, self._expected):
            return (
                401,
                "a read token is required: Authorization: Bearer TOKEN",
                [(b"www-authenticate", b'Bearer realm="provider-store"')],
            )
        return None
