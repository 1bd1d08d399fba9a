"""``provider-store serve`` as a real process for the tests: start it on a free port, read its
URL, talk HTTP to it, follow its event stream, stop it."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import zygote

COMMAND = [sys.executable, "-m", "provider_store"]


@dataclass
class Server:
    """A running server process and its URL."""

    process: Any  # a subprocess.Popen, or the zygote's process with the same methods
    url: str

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        """One request: (status, headers with lower-case names, body)."""
        host, port = self.address
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            answer = conn.getresponse()
            body = answer.read()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
        finally:
            conn.close()

    def json(self, path: str, headers: dict[str, str] | None = None) -> Any:
        status, _headers, body = self.get(path, headers)
        assert status == 200, (status, body)
        return json.loads(body)

    def stop(self) -> tuple[float, int]:
        """SIGTERM; (seconds until the process was gone, exit code)."""
        started = time.monotonic()
        self.process.terminate()
        code = self.process.wait(timeout=10)
        return time.monotonic() - started, code


@contextmanager
def serving(db_url: str, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``provider-store --db DB_URL serve --port 0 ARGS``, until the block ends.

    The process is forked from the test zygote (``tests/zygote.py``): a real process, without
    the cold interpreter's imports.
    """
    process = zygote.Popen(
        [*COMMAND, "--db", db_url, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("Serving http://"), line + process.stderr.read()
        yield Server(process, line.split()[1])
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class EventStream:
    """``GET /v1/changes/stream`` read line by line in a thread: events as they arrive."""

    server: Server
    path: str = "/v1/changes/stream"
    headers: dict[str, str] = field(default_factory=dict)
    events: list[tuple[float, str, Any]] = field(default_factory=list)  # (at, event, data)

    def __post_init__(self) -> None:
        host, port = self.server.address
        self._conn = http.client.HTTPConnection(host, port, timeout=30)
        self._conn.request("GET", self.path, headers=self.headers)
        self._sock = self._conn.sock
        self.answer = self._conn.getresponse()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "no hello event"

    def _read(self) -> None:
        kind = None
        try:
            while True:
                line = self.answer.fp.readline()
                if not line:
                    return
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    kind = text[7:]
                elif text.startswith("data: ") and kind is not None:
                    self.events.append((time.monotonic(), kind, json.loads(text[6:])))
                    if kind == "hello":
                        self._ready.set()
        except (OSError, ValueError, AttributeError):  # closed by close()
            return

    def wait_for(self, kind: str, test: Any, timeout: float) -> float | None:
        """When (monotonic) the first ``kind`` event whose data passes ``test`` arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, seen, data in list(self.events):
                if seen == kind and test(data):
                    return at
            time.sleep(0.01)
        return None

    def close(self) -> None:
        """Hang up at once: the reader thread's read ends now, not at the server's next line
        (closing the response alone would wait for the read it holds a lock for)."""
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # the server is gone already
                pass
        self._thread.join(10)
        self._conn.close()
