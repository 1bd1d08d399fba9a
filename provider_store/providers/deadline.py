"""A wall-clock deadline on a whole HTTP exchange, not on each socket read.

requests' read timeout bounds every single ``recv``: a provider that drips one byte a second
(in the status line, the headers or the body) never trips it. Here each exchange gets an absolute
expiry on the monotonic clock. A single watchdog thread shuts the exchange's socket down when
that moment comes, which wakes the blocked read at once; the caller then sees
:attr:`Exchange.expired` and reports the deadline, whatever error (or early end of body) the
shut socket produced.

- :class:`WatchedAdapter` is the ``requests`` adapter whose connections enlist their socket with
  the exchange running on the current thread (on every request, so pooled keep-alive
  connections are watched too).
- :func:`deadline_scope` caps, for the calls a thread makes inside the block, the deadline an
  :class:`~provider_store.providers.client.ProviderClient` would otherwise use (its own
  ``deadline``); a discovery run uses it so that no call outlives the run.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

__all__ = ["Exchange", "WatchedAdapter", "deadline_scope", "scope_limit"]

_local = threading.local()


def scope_limit() -> float | None:
    """The innermost :func:`deadline_scope` expiry of this thread (monotonic clock), if any."""
    limit: float | None = getattr(_local, "limit", None)
    return limit


@contextmanager
def deadline_scope(seconds: float) -> Iterator[None]:
    """HTTP calls this thread makes inside the block end within ``seconds`` from now.

    Scopes nest: an inner scope never extends an outer one.
    """
    outer = scope_limit()
    limit = time.monotonic() + max(0.0, seconds)
    _local.limit = limit if outer is None else min(outer, limit)
    try:
        yield
    finally:
        _local.limit = outer


class Exchange:
    """One request/response exchange on the current thread, shut down at ``expires_at``.

    Use as a context manager around sending the request and reading the whole body.
    """

    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at
        self.expired = False
        self.done = False
        self._lock = threading.Lock()
        self._connections: list[_Watched] = []
        self._outer: Exchange | None = None

    def __enter__(self) -> Exchange:
        self._outer = getattr(_local, "exchange", None)
        _local.exchange = self
        if time.monotonic() >= self.expires_at:
            self.expired = True
        else:
            _WATCHDOG.arm(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self.done = True
            for connection in self._connections:
                if connection.exchange is self:
                    connection.exchange = None
            self._connections.clear()
        _local.exchange = self._outer

    def enlist(self, connection: _Watched) -> None:
        """Watch ``connection``: its socket is shut down when this exchange expires."""
        with self._lock:
            connection.exchange = self
            self._connections.append(connection)
            if self.expired:
                _shut(connection)

    def expire(self) -> None:
        """Mark the exchange expired and shut down the sockets it is still using."""
        with self._lock:
            if self.done:
                return
            self.expired = True
            for connection in self._connections:
                if connection.exchange is self:
                    _shut(connection)


def _shut(connection: _Watched) -> None:
    sock = connection.sock
    if sock is None:
        return
    try:
        # The plain socket's shutdown, also for TLS: it wakes a read blocked in another thread.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One daemon thread expiring exchanges in deadline order."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start afresh: no exchanges, no thread (also in a forked child)."""
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Exchange]] = []
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, exchange: Exchange) -> None:
        with self._condition:
            heapq.heappush(self._heap, (exchange.expires_at, next(self._counter), exchange))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="provider-store-deadline", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is exchange:
                # Only a new earliest expiry changes when the watchdog must wake; waking it
                # for every exchange would cost a thread switch per request.
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                due = self._next_due()
            due.expire()

    def _next_due(self) -> Exchange:
        while True:
            while self._heap and self._heap[0][2].done:
                heapq.heappop(self._heap)
            if not self._heap:
                self._condition.wait()
                continue
            wait = self._heap[0][0] - time.monotonic()
            if wait <= 0:
                return heapq.heappop(self._heap)[2]
            self._condition.wait(wait)


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    # A forked child has no watchdog thread and must not inherit a held lock.
    os.register_at_fork(after_in_child=_WATCHDOG.reset)


class _Watched(HTTPConnection):
    """A connection that enlists itself with the current thread's exchange on every request."""

    exchange: Exchange | None = None

    def _enlist(self) -> None:
        exchange: Exchange | None = getattr(_local, "exchange", None)
        if exchange is not None:
            exchange.enlist(self)

    def connect(self) -> None:
        self._enlist()
        super().connect()
        self._enlist()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._enlist()
        super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _watch(manager: Any) -> None:
    if isinstance(manager, PoolManager):
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections (direct or through an HTTP proxy) obey :class:`Exchange`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _watch(manager)
        return manager
