"""A loopback OpenAI-compatible provider that can drip part of its answers one byte at a time.

Used by the deadline tests and ``benchmarks/bench_deadline.py``. Speaks just enough HTTP/1.1 by
hand (keep-alive included) to control every byte: ``drip`` is None (answer at once),
``"status"`` (drip from the status line on), ``"headers"`` (status line at once, then drip) or
``"body"`` (status line and headers at once, then drip the body). ``drip_paths`` limits dripping
to requests whose path ends with one of them. A drip stops when the client hangs up.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from types import TracebackType
from typing import Any


class DripServer:
    """Answers ``GET …/models`` with ``models`` and ``POST …/chat/completions`` with "pong"."""

    def __init__(
        self, models: list[str], *, interval: float = 0.2, tls: ssl.SSLContext | None = None
    ) -> None:
        self.models = models
        self.tls = tls
        self.interval = interval
        self.drip: str | None = None
        self.drip_paths: tuple[str, ...] = ("/models", "/chat/completions")
        self.connections = 0
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:{port}/v1``."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    def __enter__(self) -> DripServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        with conn:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                buffer = buffer[length:]
                self.requests.append(f"{method} {path}")
                if not self._answer(conn, path):
                    return

    def _answer(self, conn: socket.socket, path: str) -> bool:
        if path.endswith("/models"):
            payload: Any = {"object": "list", "data": [{"id": m} for m in self.models]}
        else:
            payload = {"choices": [{"message": {"role": "assistant", "content": "pong"}}]}
        body = json.dumps(payload).encode()
        if self.drip == "body":
            body += b" " * 100_000  # long enough to drip past any test's deadline
        status = b"HTTP/1.1 200 OK\r\n"
        headers = (
            b"Content-Type: application/json\r\n"
            + b"X-Padding: "
            + b"p" * 10_000
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
        )
        dripping = self.drip is not None and path.endswith(self.drip_paths)
        at_once = {
            None: status + headers + body,
            "status": b"",
            "headers": status,
            "body": status + headers,
        }[self.drip if dripping else None]
        rest = (status + headers + body)[len(at_once) :]
        try:
            conn.sendall(at_once)
            for index in range(len(rest)):
                if self._stop.wait(self.interval):
                    return False
                conn.sendall(rest[index : index + 1])
        except OSError:  # the client hung up
            return False
        return True
