"""The fake provider: :class:`FakeProvider`, its settings, its records, its lifecycle.

Requests are answered by :class:`~provider_store.testing.fake_handler.FakeHandler` in the
server's threads; what they answer is read from here (:meth:`FakeProvider.models_payload`,
:meth:`FakeProvider.behaviour_for`, :meth:`FakeProvider.take_failure`) under one lock.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from provider_store.testing.fake_answers import (
    FAILURE_KINDS,
    OVERSIZE_DEFAULT_BYTES,
    Failure,
    RecordedRequest,
    known_behaviour,
    page,
)
from provider_store.testing.fake_handler import FakeHandler, FakeHTTPServer

__all__ = ["DEFAULT_HANG_SECONDS", "STOP_POLL_SECONDS", "FakeProvider"]

DEFAULT_HANG_SECONDS = 30.0
# How often the serving loop looks for stop(): stop() waits for it, once per server (and a test
# suite starts hundreds), while an idle loop costs one cheap wake-up per interval.
STOP_POLL_SECONDS = 0.01


@dataclass
class _State:
    models: list[str] = field(default_factory=list)
    behaviours: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: Failure | None = None
    requests: list[RecordedRequest] = field(default_factory=list)


class FakeProvider:
    """An OpenAI-compatible HTTP server on a loopback address (port 0: any free port).

    ``api_key``, when given, is required as ``Authorization: Bearer <key>`` (else 401).
    ``latency`` seconds are waited before every answer. ``page_size``, when given, makes
    ``/models`` answer in pages (see :mod:`provider_store.testing`).
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
        self._server: FakeHTTPServer | None = None
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
        server = FakeHTTPServer((self.host, self._port), self, FakeHandler)
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
        """How chat completions for ``model_id`` answer (see :mod:`provider_store.testing`)."""
        if not known_behaviour(behaviour):
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
                else Failure(
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

    def take_failure(self) -> Failure | None:
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
        return page(items, self.page_size, query or {})

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the server stops meanwhile."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def request_stop(self) -> None:
        """Make :meth:`serve_forever` return (safe in a signal handler)."""
        self._stopping.set()
