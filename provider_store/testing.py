"""A loopback OpenAI-compatible server for tests and demos: models and chat completions.

Use it as a context manager::

    with FakeProvider(["gpt-a", "gpt-b"]) as fake:
        config = ProviderConfig(base_api_url=fake.base_url, api_key="sk-test")
        ...
        assert fake.request_count("/models") == 1

or as a process (the first line of standard output is the base URL; it serves until killed)::

    python -m provider_store.testing --port 8080 --models a,b,c --latency 0.2 --page-size 2

Per-model chat behaviour (:meth:`FakeProvider.set_model_behaviour`):

- ``"pong"`` (default for listed models): 200 with a first choice saying "pong".
- ``"refuse"``: 400 ``{"error": {"message": "<id> is not a chat model"}}``.
- ``"silent"``: 200 with a first choice that does not say pong.
- ``"error:<status>"``: that status with an OpenAI-style error body (e.g. ``"error:429"``).
- ``"timeout"``: waits ``hang_seconds`` before answering (past any sensible read timeout).
- ``"reasoning"`` (or ``"reasoning:<budget>"``): a reasoning model as OpenAI's o-series answer.
  It refuses ``max_tokens`` (400, ``param: max_tokens``, ``code: unsupported_parameter``) and a
  ``temperature`` other than 1 (400, ``code: unsupported_value``). With ``max_completion_tokens``
  below the budget (default 256) it spends them all on reasoning: 200 with ``content: ""``,
  ``finish_reason: "length"`` and the thinking in ``reasoning_content``; with enough tokens it
  says "pong".

A model that is neither listed nor given a behaviour gets 404 ``model_not_found``, as real
providers answer. ``/models`` failure modes are set with :meth:`FakeProvider.set_failure`.

``page_size`` makes ``/models`` page like OpenAI's and Anthropic's list endpoints: at most that many
items per answer (fewer when the request's ``limit`` asks), with ``has_more``, ``first_id`` and
``last_id``; the next page is asked for with ``?after_id=<last_id>`` (or ``?after=``).
:meth:`FakeProvider.set_model_metadata` adds fields to a model's list item (``context_length``,
``pricing``, ``architecture``, ``supported_parameters`` …, in OpenRouter's shape by convention).

Why this module is long: it is a whole HTTP server (models, pages, chat, failures, behaviours
and its command line) that users import into their own tests; it has no part the package
imports.
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

DEFAULT_HANG_SECONDS = 30.0
# How often the serving loop looks for stop(): stop() waits for it, once per server (and a test
# suite starts hundreds), while an idle loop costs one cheap wake-up per interval.
STOP_POLL_SECONDS = 0.01
# Below this many max_completion_tokens, a "reasoning" model finishes before any visible text.
DEFAULT_REASONING_BUDGET = 256

# Per-model chat behaviours and what the server answers for each (shown by --help and the demo).
BEHAVIOURS: dict[str, str] = {
    "pong": '200, the first choice says "Pong!"',
    "refuse": '400 "<id> is not a chat model"',
    "silent": "200, the first choice does not say pong",
    "error:<status>": "that status with an OpenAI-style error body",
    "timeout": "answers only after hang_seconds",
    "reasoning[:<budget>]": "400 for max_tokens (param max_tokens, code unsupported_parameter) "
    'or temperature != 1; with max_completion_tokens below the budget (default 256): content "", '
    'finish_reason length, reasoning_content; with enough tokens: "pong"',
}
OVERSIZE_DEFAULT_BYTES = 21 * 1024 * 1024

FAILURE_KINDS = (
    "status",  # status=<int> with an OpenAI-style JSON error body (retry_after= optional)
    "html",  # 200 text/html
    "not-json",  # 200 application/json whose body is not JSON
    "no-data",  # 200 JSON object without "data"
    "data-not-list",  # 200 JSON whose "data" is an object
    "items-without-id",  # 200 JSON whose items lack a string "id"
    "empty",  # 200 {"object": "list", "data": []}
    "oversize",  # 200 JSON larger than oversize_bytes (default 21 MiB), with Content-Length
    "oversize-stream",  # the same without Content-Length (the body ends when the socket closes)
    "redirect",  # 302 to location= (e.g. another host)
    "hang",  # wait hang_seconds before answering
    "close",  # close the connection without any answer
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake provider received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)
    peer: tuple[str, int] | None = None  # the client's address: one per connection


class _Server(ThreadingHTTPServer):
    # A real provider accepts a burst of connections; the standard library's listen queue of 5
    # drops some of the connections of a burst of concurrent pings, whose client then waits out
    # a SYN retry (a second) and reports a connect timeout.
    request_queue_size = 128


@dataclass
class _Failure:
    kind: str
    status: int = 500
    location: str = ""
    retry_after: str | None = None
    oversize_bytes: int = OVERSIZE_DEFAULT_BYTES
    remaining: int | None = None  # None: every request; else the next N requests


@dataclass
class _State:
    models: list[str] = field(default_factory=list)
    behaviours: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: _Failure | None = None
    requests: list[RecordedRequest] = field(default_factory=list)


class FakeProvider:
    """An OpenAI-compatible HTTP server on a loopback address (port 0: any free port).

    ``api_key``, when given, is required as ``Authorization: Bearer <key>`` (else 401).
    ``latency`` seconds are waited before every answer. ``page_size``, when given, makes
    ``/models`` answer in pages (see the module docstring).
    """

    def __init__(
        self,
        models: Iterable[str] = (),
        *,
        latency: float = 0.0,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        hang_seconds: float = DEFAULT_HANG_SECONDS,
        page_size: int | None = None,
    ) -> None:
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.latency = latency
        self.page_size = page_size
        self.api_key = api_key
        self.host = host
        self.hang_seconds = hang_seconds
        self._port = port
        self._lock = threading.Lock()
        self._state = _State(models=list(models))
        self._in_flight = 0
        self._peak_in_flight = 0
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"FakeProvider({where})"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeProvider:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self._port), _make_handler(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still waiting (hang, timeout) are released."""
        self._stopping.set()
        with self._lock:
            open_connections = list(self._connections)
        for conn in open_connections:  # keep-alive connections must not outlive the server
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until stop() is called from another thread or a signal handler."""
        self.start()
        while not self._stopping.wait(0.2):
            pass

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("FakeProvider is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    # -- configuration ------------------------------------------------------------------------

    def set_models(self, ids: Iterable[str]) -> None:
        """Replace the list ``/models`` returns."""
        with self._lock:
            self._state.models = list(ids)

    def set_model_behaviour(self, model_id: str, behaviour: str) -> None:
        """How chat completions for ``model_id`` answer (see the module docstring)."""
        if not _known_behaviour(behaviour):
            raise ValueError(f"unknown behaviour: {behaviour!r}")
        with self._lock:
            self._state.behaviours[model_id] = behaviour

    def set_model_metadata(self, model_id: str, fields: dict[str, Any]) -> None:
        """Add ``fields`` to ``model_id``'s item in the ``/models`` list (replacing earlier ones).

        ``id`` cannot be changed this way; use :meth:`set_models`.
        """
        if "id" in fields:
            raise ValueError("metadata cannot change a model's id")
        with self._lock:
            self._state.metadata[model_id] = dict(fields)

    def set_failure(
        self,
        kind: str | None,
        *,
        status: int = 500,
        location: str = "",
        retry_after: str | float | None = None,
        oversize_bytes: int = OVERSIZE_DEFAULT_BYTES,
        times: int | None = None,
    ) -> None:
        """Make ``/models`` fail in the way ``kind`` names (one of FAILURE_KINDS); None clears.

        ``times`` limits the failure to the next N ``/models`` requests.
        ``"error:<status>"`` is accepted as a shorthand for ``"status"`` with that status.
        """
        if kind is not None and kind.startswith("error:"):
            kind, status = "status", int(kind[6:])
        if kind is not None and kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind: {kind!r}")
        with self._lock:
            self._state.failure = (
                None
                if kind is None
                else _Failure(
                    kind=kind,
                    status=status,
                    location=location,
                    retry_after=None if retry_after is None else str(retry_after),
                    oversize_bytes=oversize_bytes,
                    remaining=times,
                )
            )

    # -- inspection ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._lock:
            return list(self._state.requests)

    def request_count(self, path: str | None = None) -> int:
        """Requests received (to ``path`` if given, e.g. ``"/models"`` or ``"/v1/models"``)."""
        with self._lock:
            if path is None:
                return len(self._state.requests)
            wanted = {path.rstrip("/"), "/v1" + path.rstrip("/")}
            return sum(1 for r in self._state.requests if r.path.rstrip("/") in wanted)

    @property
    def peak_in_flight(self) -> int:
        """The most requests this server held at one time, received and not yet answered (an
        answer counts from its status line), since the last reset."""
        with self._lock:
            return self._peak_in_flight

    def reset_counts(self) -> None:
        """Forget the recorded requests and the peak of requests in flight."""
        with self._lock:
            self._state.requests.clear()
            self._peak_in_flight = self._in_flight

    # -- request handling (called by the request handler, from server threads) -----------------

    def connection_opened(self, sock: socket.socket) -> None:
        """Remember an open connection, so that :meth:`stop` can cut it."""
        with self._lock:
            self._connections.add(sock)

    def connection_closed(self, sock: socket.socket) -> None:
        """Forget a connection that ended."""
        with self._lock:
            self._connections.discard(sock)

    def record_request(self, request: RecordedRequest) -> None:
        """Add a request to :meth:`requests`; it is in flight until :meth:`request_answered`."""
        with self._lock:
            self._state.requests.append(request)
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)

    def request_answered(self) -> None:
        """A recorded request got its answer (or its connection ended)."""
        with self._lock:
            self._in_flight -= 1

    def take_failure(self) -> _Failure | None:
        """The failure ``GET /models`` answers with now (one use counted), or None."""
        with self._lock:
            failure = self._state.failure
            if failure is None:
                return None
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._state.failure = None
            return failure

    def behaviour_for(self, model: str) -> str | None:
        """How a ping of ``model`` is answered, or None for an unknown model."""
        with self._lock:
            if model in self._state.behaviours:
                return self._state.behaviours[model]
            return "pong" if model in self._state.models else None

    def models_payload(self, query: dict[str, str] | None = None) -> dict[str, Any]:
        """The ``GET /models`` body (one page of it when ``page_size`` is set)."""
        with self._lock:
            ids = list(self._state.models)
            metadata = {k: dict(v) for k, v in self._state.metadata.items()}
        items = [
            {"id": i, "object": "model", "created": 0, "owned_by": "fake", **metadata.get(i, {})}
            for i in ids
        ]
        if self.page_size is None:
            return {"object": "list", "data": items}
        return _page(items, self.page_size, query or {})

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the server stops meanwhile."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def request_stop(self) -> None:
        """Make :meth:`serve_forever` return (safe in a signal handler)."""
        self._stopping.set()


def _known_behaviour(behaviour: str) -> bool:
    name, _, arg = behaviour.partition(":")
    if name in ("pong", "refuse", "silent", "timeout"):
        return not arg
    if name == "error":
        return arg.isdigit()
    if name == "reasoning":
        return not arg or arg.isdigit()
    return False


def _page(items: list[dict[str, Any]], page_size: int, query: dict[str, str]) -> dict[str, Any]:
    """One page of ``items`` after the id named by ``after_id`` / ``after`` (paged list shape)."""
    after = query.get("after_id") or query.get("after")
    start = 0
    if after:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else len(ids)
    size = page_size
    limit = query.get("limit", "")
    if limit.isdigit() and int(limit) > 0:
        size = min(size, int(limit))
    page = items[start : start + size]
    return {
        "object": "list",
        "data": page,
        "has_more": start + size < len(items),
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }


def _error_body(message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


def _chat_payload(
    model: str,
    content: str,
    *,
    finish_reason: str = "stop",
    reasoning: str | None = None,
    reasoning_tokens: int = 0,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    usage: dict[str, Any] = {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
        completion = reasoning_tokens + (1 if content else 0)
        usage = {
            "prompt_tokens": 20,
            "completion_tokens": completion,
            "total_tokens": 20 + completion,
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
        }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage,
    }


REASONING_TEXT = "The user wants the single word pong. I should answer with exactly that word."


def _reasoning_answer(model: str, body: dict[str, Any], budget: int) -> tuple[int, Any]:
    """How an OpenAI reasoning model answers ``body``: (status, JSON payload)."""
    if "max_tokens" in body:
        message = (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead."
        )
        return 400, _error_body(message, "unsupported_parameter", "max_tokens")
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        message = (
            f"Unsupported value: 'temperature' does not support {temperature} with this model. "
            "Only the default (1) value is supported."
        )
        return 400, _error_body(message, "unsupported_value", "temperature")
    limit = body.get("max_completion_tokens")
    if isinstance(limit, int) and limit < budget:
        payload = _chat_payload(
            model, "", finish_reason="length", reasoning=REASONING_TEXT, reasoning_tokens=limit
        )
        return 200, payload
    return 200, _chat_payload(model, "pong", reasoning=REASONING_TEXT, reasoning_tokens=budget - 1)


def _make_handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeProvider/1.0"
        # Headers and body go out in two writes; without TCP_NODELAY a kept-alive connection
        # waits ~40 ms on the delayed ACK for every answer, which skews latency benchmarks.
        disable_nagle_algorithm = True

        def handle(self) -> None:
            """Serve one connection, remembered so that stop() can cut it."""
            sock = self.connection
            fake.connection_opened(sock)
            try:
                super().handle()
            except OSError:
                pass
            finally:
                fake.connection_closed(sock)

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
            fake.record_request(RecordedRequest(method, path, headers, body, query, peer))
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
                fake.request_answered()

        def _answer(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
            fake.pause(fake.latency)
            if fake.api_key is not None and self.headers.get("Authorization") != (
                f"Bearer {fake.api_key}"
            ):
                self._json(401, _error_body("Incorrect API key provided", "invalid_api_key"))
                return
            route = path.rstrip("/")
            try:
                if method == "GET" and route == "/v1/models":
                    self._models(query)
                elif method == "POST" and route == "/v1/chat/completions":
                    self._chat(body)
                else:
                    self._json(404, _error_body(f"Unknown route {method} {path}"))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _models(self, query: dict[str, str]) -> None:
            failure = fake.take_failure()
            if failure is None:
                self._json(200, fake.models_payload(query))
                return
            kind = failure.kind
            if kind == "status":
                headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                self._json(failure.status, _error_body(f"fake error {failure.status}"), headers)
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
                fake.pause(fake.hang_seconds)
                self._json(200, fake.models_payload())
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
                self._json(400, _error_body("'model' is required"))
                return
            behaviour = fake.behaviour_for(model)
            if behaviour is None:
                message = f"The model `{model}` does not exist"
                self._json(404, _error_body(message, "model_not_found"))
            elif behaviour == "pong":
                self._json(200, _chat_payload(model, "Pong!"))
            elif behaviour == "silent":
                self._json(200, _chat_payload(model, "Hello! How can I help you today?"))
            elif behaviour == "refuse":
                self._json(400, _error_body(f"{model} is not a chat model"))
            elif behaviour == "timeout":
                fake.pause(fake.hang_seconds)
                self._json(200, _chat_payload(model, "pong (too late)"))
            elif behaviour.startswith("reasoning"):
                budget = behaviour.partition(":")[2]
                status, payload = _reasoning_answer(
                    model, body, int(budget) if budget else DEFAULT_REASONING_BUDGET
                )
                self._json(status, payload)
            else:  # error:<status>
                status = int(behaviour[6:])
                self._json(status, _error_body(f"fake error {status}"))

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

    return Handler


_MAX_PORT = 65_535


def _bind_cause(exc: BaseException) -> str:
    """Why binding failed, in a few words."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return "the port is in use"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or exc.__class__.__name__


def _fail(message: str) -> int:
    """One line on stderr; the exit code of bad input."""
    sys.stderr.write(f"python -m provider_store.testing: error: {message}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run a FakeProvider until SIGTERM/SIGINT; the first stdout line is its base URL."""
    parser = argparse.ArgumentParser(
        prog="python -m provider_store.testing",
        description="A loopback OpenAI-compatible server for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--models", default="", help="comma-separated model ids")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument(
        "--page-size",
        type=int,
        default=None,
        metavar="N",
        help="answer /models in pages of at most N (has_more, last_id; next page ?after_id=)",
    )
    parser.add_argument(
        "--behaviour",
        action="append",
        default=[],
        metavar="MODEL=BEHAVIOUR",
        help="chat behaviour of one model (repeatable): "
        + "; ".join(f"{name}: {what}" for name, what in BEHAVIOURS.items()),
    )
    parser.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="MODEL=JSON",
        help='fields added to a model\'s /models item, e.g. a={"context_length": 8192} '
        "(repeatable)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= _MAX_PORT:
        return _fail(
            f"--port {args.port} is out of range 0-{_MAX_PORT} (try --port 0: any free port)"
        )
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.page_size is not None and args.page_size < 1:
        parser.error("--page-size must be at least 1")
    fake = FakeProvider(
        models,
        latency=args.latency,
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        page_size=args.page_size,
    )
    for item in args.behaviour:
        model, sep, behaviour = item.partition("=")
        if not sep or not model:
            parser.error(f"--behaviour takes MODEL=BEHAVIOUR, got {item!r}")
        if model not in models:
            served = ", ".join(models) or "none (--models is empty)"
            sys.stderr.write(
                f"{parser.prog}: --behaviour {item}: {model!r} is not served; "
                f"--models serves: {served}\n"
            )
            return 2
        try:
            fake.set_model_behaviour(model, behaviour)
        except ValueError:
            return _fail(
                f"unknown behaviour {behaviour!r} for {model}: valid behaviours are "
                + ", ".join(BEHAVIOURS)
            )
    for item in args.metadata:
        model, sep, raw = item.partition("=")
        try:
            fields = json.loads(raw) if sep and model else None
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            parser.error(f"--metadata takes MODEL=<JSON object>, got {item!r}")
        try:
            fake.set_model_metadata(model, fields)
        except ValueError as exc:
            parser.error(str(exc))

    def _stop(_signum: int, _frame: Any) -> None:
        fake.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        fake.start()
    except (OSError, OverflowError) as exc:
        return _fail(
            f"cannot listen on {args.host}:{args.port}: {_bind_cause(exc)}"
            " (try --port 0 for any free port, or another --host)"
        )
    sys.stdout.write(fake.base_url + "\n")
    sys.stdout.flush()
    try:
        fake.serve_forever()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
