"""The request handler of the fake provider: routes, ``/models`` failures, chat behaviours.

:class:`FakeHTTPServer` is a threading HTTP server that knows its
:class:`~provider_store.testing.fake_server.FakeProvider`; :class:`FakeHandler` answers each
request from it: the API key check, ``GET /v1/models`` (pages, failures) and
``POST /v1/chat/completions`` (per-model behaviours), and keeps the provider's request records
and in-flight count.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from provider_store.testing.fake_answers import (
    DEFAULT_REASONING_BUDGET,
    RecordedRequest,
    chat_payload,
    error_body,
    reasoning_answer,
)

if TYPE_CHECKING:
    from provider_store.testing.fake_server import FakeProvider

__all__ = ["FakeHTTPServer", "FakeHandler"]


class FakeHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server answering for ``fake`` with ``handler``."""

    # A real provider accepts a burst of connections; the standard library's listen queue of 5
    # drops some of the connections of a burst of concurrent pings, whose client then waits out
    # a SYN retry (a second) and reports a connect timeout.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        fake: FakeProvider,
        handler: type[BaseHTTPRequestHandler],
    ) -> None:
        self.fake = fake
        super().__init__(address, handler)


class FakeHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests from its server's :class:`FakeProvider`."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeProvider/1.0"
    # Headers and body go out in two writes; without TCP_NODELAY a kept-alive connection
    # waits ~40 ms on the delayed ACK for every answer, which skews latency benchmarks.
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeProvider:
        """The fake provider this request is answered for."""
        return cast(FakeHTTPServer, self.server).fake

    def handle(self) -> None:
        """Serve one connection, remembered so that stop() can cut it."""
        sock = self.connection
        self.fake.connection_opened(sock)
        try:
            super().handle()
        except OSError:
            pass
        finally:
            self.fake.connection_closed(sock)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Stay quiet: tests and demos read the recorded requests instead."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("POST")

    def _handle(self, method: str) -> None:
        path, _, raw_query = self.path.partition("?")
        query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
        body: Any = None
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        headers = dict(self.headers.items())
        peer = (str(self.client_address[0]), int(self.client_address[1]))
        self.fake.record_request(RecordedRequest(method, path, headers, body, query, peer))
        self._in_flight = True
        try:
            self._answer(method, path, query, body)
        finally:
            self._answered()

    def send_response(self, code: int, message: str | None = None) -> None:
        # Answered from the status line on: the client cannot see the answer before the
        # count does (a next request may start as soon as it does).
        self._answered()
        super().send_response(code, message)

    def _answered(self) -> None:
        if getattr(self, "_in_flight", False):
            self._in_flight = False
            self.fake.request_answered()

    def _answer(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        self.fake.pause(self.fake.latency)
        if self.fake.api_key is not None and self.headers.get("Authorization") != (
            f"Bearer {self.fake.api_key}"
        ):
            self._json(401, error_body("Incorrect API key provided", "invalid_api_key"))
            return
        route = path.rstrip("/")
        try:
            if method == "GET" and route == "/v1/models":
                self._models(query)
            elif method == "POST" and route == "/v1/chat/completions":
                self._chat(body)
            else:
                self._json(404, error_body(f"Unknown route {method} {path}"))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _models(self, query: dict[str, str]) -> None:
        failure = self.fake.take_failure()
        if failure is None:
            self._json(200, self.fake.models_payload(query))
            return
        kind = failure.kind
        if kind == "status":
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            self._json(failure.status, error_body(f"fake error {failure.status}"), headers)
        elif kind == "html":
            self._raw(200, "text/html", b"<html><body><h1>Welcome</h1></body></html>")
        elif kind == "not-json":
            self._raw(200, "application/json", b"{not json")
        elif kind == "no-data":
            self._json(200, {"object": "list", "models": ["a"]})
        elif kind == "data-not-list":
            self._json(200, {"object": "list", "data": {"id": "a"}})
        elif kind == "items-without-id":
            self._json(200, {"object": "list", "data": [{"name": "a"}, {"id": 7}]})
        elif kind == "empty":
            self._json(200, {"object": "list", "data": []})
        elif kind in ("oversize", "oversize-stream"):
            self._oversize(failure.oversize_bytes, declare=kind == "oversize")
        elif kind == "redirect":
            self.send_response(302)
            self.send_header("Location", failure.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "hang":
            self.fake.pause(self.fake.hang_seconds)
            self._json(200, self.fake.models_payload())
        else:  # close
            self.close_connection = True

    def _oversize(self, size: int, *, declare: bool) -> None:
        head = b'{"object": "list", "data": [{"id": "big"}], "pad": "'
        tail = b'"}'
        pad = max(0, size - len(head) - len(tail))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if declare:
            self.send_header("Content-Length", str(len(head) + pad + len(tail)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(head)
        chunk = b"x" * 65536
        while pad > 0:
            self.wfile.write(chunk[: min(pad, len(chunk))])
            pad -= len(chunk)
        self.wfile.write(tail)

    def _chat(self, body: Any) -> None:
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(model, str):
            self._json(400, error_body("'model' is required"))
            return
        behaviour = self.fake.behaviour_for(model)
        if behaviour is None:
            message = f"The model `{model}` does not exist"
            self._json(404, error_body(message, "model_not_found"))
        elif behaviour == "pong":
            self._json(200, chat_payload(model, "Pong!"))
        elif behaviour == "silent":
            self._json(200, chat_payload(model, "Hello! How can I help you today?"))
        elif behaviour == "refuse":
            self._json(400, error_body(f"{model} is not a chat model"))
        elif behaviour == "timeout":
            self.fake.pause(self.fake.hang_seconds)
            self._json(200, chat_payload(model, "pong (too late)"))
        elif behaviour.startswith("reasoning"):
            budget = behaviour.partition(":")[2]
            status, payload = reasoning_answer(
                model, body, int(budget) if budget else DEFAULT_REASONING_BUDGET
            )
            self._json(status, payload)
        else:  # error:<status>
            status = int(behaviour[6:])
            self._json(status, error_body(f"fake error {status}"))

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._raw(status, "application/json", json.dumps(payload).encode(), headers)

    def _raw(
        self,
        status: int,
        content_type: str,
        data: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
