"""Running the server in the foreground under uvicorn (for systemd or a container).

:func:`serve` checks the address (loopback, or a read token), binds the socket itself (a port
in use is one line, and port 0 picks a free one), reads the catalog once, then serves until
SIGTERM or SIGINT. Stopping ends every event stream at once and gives open answers at most
:data:`GRACE_SECONDS`, so the process is gone within a second. The HTTP parser is h11 with
the request line and headers bounded to
:data:`~provider_store.serve.access_rules.MAX_HEAD_BYTES`.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from provider_store.errors import ConfigurationError
from provider_store.serve.access_rules import MAX_HEAD_BYTES, check_bind
from provider_store.serve.change_stream import ChangeBroadcast
from provider_store.serve.http_app import build_app
from provider_store.serve.served_view import CatalogMirror
from provider_store.store import ProviderStore

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "GRACE_SECONDS", "serve"]

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
GRACE_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 5
MAX_CONNECTIONS = 512


class _Server(uvicorn.Server):
    """uvicorn's server, ending the event streams as soon as it is told to stop, and
    returning (exit 0) rather than raising the signal again once it has stopped."""

    def __init__(self, config: uvicorn.Config, broadcast: ChangeBroadcast) -> None:
        super().__init__(config)
        self._broadcast = broadcast

    def handle_exit(self, sig: int, frame: Any) -> None:
        self._broadcast.close()
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on each accepted connection (an answer's
    # head and body are two writes; without it the body waits for the client's delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    store: ProviderStore,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    token_env: str | None = None,
    cors_origin: str | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``store`` read-only on ``host``:``port`` until stopped (see the module).

    ConfigurationError: a non-loopback ``host`` without ``token``, a short token, an address
    that cannot be bound. ``on_ready`` is called with the server's URL once it listens.
    """
    check_bind(host, token, token_env)
    sock = _bind(host, port)
    broadcast = ChangeBroadcast()
    mirror = CatalogMirror(store, broadcast)
    try:
        mirror.start()
        app = build_app(mirror, broadcast, token=token, cors_origin=cors_origin)
        config = uvicorn.Config(
            app,
            http="h11",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=GRACE_SECONDS,  # type: ignore[arg-type]
            limit_concurrency=MAX_CONNECTIONS,
        )
        server = _Server(config, broadcast)
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        if on_ready is not None:
            on_ready(f"http://{shown}:{bound_port}")
        server.run(sockets=[sock])
    finally:
        broadcast.close()
        mirror.stop()
        sock.close()
