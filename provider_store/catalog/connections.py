"""How many database connections a process holds, and what sits between it and PostgreSQL.

Lives here: the connection settings read from the URL's query or the environment (stripped from
the URL before the driver sees it), the bounded pool that waits for a connection when the server
refuses one more, and the pooler rule (prepared statements off behind a transaction pooler).

Settings (the URL's query wins over the environment; both are checked, a bad value is a
:class:`~provider_store.errors.ConfigurationError` naming where it came from):

- ``pool_size=N`` / ``$PROVIDER_STORE_POOL_SIZE``: connections a process keeps (PostgreSQL: 3);
- ``max_overflow=N`` / ``$PROVIDER_STORE_MAX_OVERFLOW``: more, opened while all are busy
  (PostgreSQL: 0);
- ``pool_timeout=S`` / ``$PROVIDER_STORE_POOL_TIMEOUT``: seconds to wait for one (30);
- ``pooler=MODE`` / ``$PROVIDER_STORE_POOLER``: ``transaction``, ``session`` or ``none``.

On PostgreSQL a process holds at most ``pool_size + max_overflow`` pooled connections (3 by
default) plus, while a ``ProviderManager`` follows the catalog, one that listens for changes:
4 in all. A connection the server refuses because it is full ("too many connections") is waited
for like a busy pool's, up to ``pool_timeout``; only then is it a failure, said as such
(:func:`exhaustion_cause`). SQLite keeps SQLAlchemy's own pool unless the URL or the
environment sets one.

``pooler=transaction`` says a pooler in transaction mode (PgBouncer's ``pool_mode =
transaction``, most managed services' poolers) is in front: no prepared statements
(``prepare_threshold=None``), and followers poll instead of listening, since ``LISTEN`` does not
survive a transaction there. Without the setting the pooler is detected on each new connection:
a pooler answers with a backend id of its own, which is not the server's ``pg_backend_pid()``;
anything detected is treated as a transaction pooler. ``session`` and ``none`` skip the
detection (session pooling keeps both prepared statements and ``LISTEN`` working).
"""

from __future__ import annotations

import logging
import math
import os
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import QueuePool

from provider_store.errors import ConfigurationError
from provider_store.rules.limits import (
    DEFAULT_MAX_OVERFLOW,
    DEFAULT_POOL_SIZE,
    DEFAULT_POOL_TIMEOUT,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ConnectionSettings",
    "WaitingPool",
    "behind_transaction_pooler",
    "exhaustion_cause",
    "read_settings",
    "server_is_full",
    "watch_for_pooler",
]

POOL_SIZE_ENV = "PROVIDER_STORE_POOL_SIZE"
MAX_OVERFLOW_ENV = "PROVIDER_STORE_MAX_OVERFLOW"
POOL_TIMEOUT_ENV = "PROVIDER_STORE_POOL_TIMEOUT"
POOLER_ENV = "PROVIDER_STORE_POOLER"

MAX_POOL_CONNECTIONS = 1000  # pool_size and max_overflow each
MAX_POOL_TIMEOUT = 3600.0

TRANSACTION = "transaction"
POOLER_MODES = (TRANSACTION, "session", "none")

# Query keys the driver never sees.
_QUERY_KEYS = ("pool_size", "max_overflow", "pool_timeout", "pooler")

# What PostgreSQL (and PgBouncer) say when they accept no more connections (SQLSTATE 53300,
# which psycopg does not carry on a failed connection attempt).
_SERVER_FULL = (
    "too many connections",
    "too many clients",
    "remaining connection slots are reserved",
    "no more connections allowed",
)
# Waits between two attempts to get a connection from a full server, in seconds.
_FIRST_RETRY = 0.02
_LAST_RETRY = 0.5


@dataclass(frozen=True)
class ConnectionSettings:
    """The connection settings of one URL (None: not set, the backend's default applies)."""

    pool_size: int | None = None
    max_overflow: int | None = None
    pool_timeout: float | None = None
    pooler: str | None = None  # one of POOLER_MODES; None: detect

    def engine_arguments(self, backend: str) -> dict[str, Any]:
        """``create_engine`` arguments for ``backend`` (``postgresql``, ``sqlite``)."""
        postgres = backend == "postgresql"
        arguments: dict[str, Any] = {}
        size, overflow = self.pool_size, self.max_overflow
        if postgres:
            size = DEFAULT_POOL_SIZE if size is None else size
            overflow = DEFAULT_MAX_OVERFLOW if overflow is None else overflow
            arguments["poolclass"] = WaitingPool
        if size is not None:
            arguments["pool_size"] = size
        if overflow is not None:
            arguments["max_overflow"] = overflow
        if self.pool_timeout is not None or postgres:
            arguments["pool_timeout"] = (
                self.pool_timeout if self.pool_timeout is not None else DEFAULT_POOL_TIMEOUT
            )
        if postgres and self.pooler == TRANSACTION:
            arguments["connect_args"] = {"prepare_threshold": None}
        return arguments


def read_settings(parsed: URL) -> tuple[URL, ConnectionSettings]:
    """The URL without the connection settings in its query, and those settings (the query's,
    else the environment's)."""
    query = parsed.query
    found: dict[str, str] = {}
    for key in _QUERY_KEYS:
        if key in query:
            value = query[key]
            found[key] = value[-1] if isinstance(value, tuple) else value
    stripped = parsed.difference_update_query(_QUERY_KEYS) if found else parsed

    def pick(key: str, env: str) -> tuple[str | None, str]:
        if key in found:
            return found[key], f"{key} in the database URL"
        value = os.environ.get(env, "").strip()
        return (value or None), f"${env}"

    size = _whole(*pick("pool_size", POOL_SIZE_ENV), least=1)
    overflow = _whole(*pick("max_overflow", MAX_OVERFLOW_ENV), least=0)
    timeout = _seconds(*pick("pool_timeout", POOL_TIMEOUT_ENV))
    pooler = _pooler(*pick("pooler", POOLER_ENV))
    return stripped, ConnectionSettings(size, overflow, timeout, pooler)


def _whole(text: str | None, source: str, *, least: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or not least <= value <= MAX_POOL_CONNECTIONS:
        raise ConfigurationError(
            f"{source} must be a whole number from {least} to {MAX_POOL_CONNECTIONS}, not {text!r}"
        )
    return value


def _seconds(text: str | None, source: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_POOL_TIMEOUT):
        raise ConfigurationError(
            f"{source} must be a number of seconds above 0 and at most {MAX_POOL_TIMEOUT:.0f},"
            f" not {text!r}"
        )
    return value


def _pooler(text: str | None, source: str) -> str | None:
    if text is None:
        return None
    value = text.strip().lower()
    if value not in POOLER_MODES:
        raise ConfigurationError(f"{source} must be one of {', '.join(POOLER_MODES)}, not {text!r}")
    return value


# -- the pool ------------------------------------------------------------------------------------


def server_is_full(exc: BaseException) -> bool:
    """True when ``exc`` (a driver's error, or SQLAlchemy's around it) says the server accepts
    no more connections."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).lower()
    return any(needle in text for needle in _SERVER_FULL)


class WaitingPool(QueuePool):
    """A bounded pool (SQLAlchemy's ``QueuePool``) that treats a full server like a busy pool.

    When the server refuses a new connection because it is full, the pool waits (20 ms, doubling
    up to 0.5 s) and tries again: for one of its own connections to come back or for the server
    to take one more, until ``pool_timeout`` has passed; then the refusal is raised.
    """

    # SQLAlchemy names a pool's logger after its class: keep the pool's records under
    # SQLAlchemy's name, out of provider_store's log (-v of the CLI).
    _sqla_logger_namespace = "sqlalchemy.pool.impl.QueuePool"

    def connect(self) -> Any:
        """A connection: from the pool, else a new one, waiting while the server is full."""
        give_up = time.monotonic() + self.timeout()
        delay = _FIRST_RETRY
        while True:
            try:
                return super().connect()
            except Exception as exc:
                if not server_is_full(exc) or time.monotonic() + delay > give_up:
                    raise
                logger.debug("the database server is full; waiting for a connection")
            time.sleep(delay)
            delay = min(delay * 2, _LAST_RETRY)


def exhaustion_cause(exc: BaseException) -> str | None:
    """A cause that says connections ran out, or None when ``exc`` is not about that."""
    original = getattr(exc, "orig", None) or exc
    if isinstance(original, PoolTimeoutError):
        said = str(original).strip().splitlines()[0] if str(original).strip() else ""
        return (
            f"no database connection became free in time ({said.split(' (Background')[0]});"
            f" raise pool_size in the URL or ${POOL_SIZE_ENV}, or run fewer at once"
        )
    if server_is_full(exc):
        first = str(original).strip().splitlines()[0] if str(original).strip() else ""
        said = first.split("FATAL:", 1)[-1].strip() if "FATAL:" in first else first
        return f"the database server accepts no more connections ({said})"
    return None


# -- poolers -------------------------------------------------------------------------------------

# Engines found (or said) to be behind a transaction pooler.
_BEHIND_POOLER: weakref.WeakSet[Engine] = weakref.WeakSet()


def behind_transaction_pooler(engine: Engine) -> bool:
    """True when ``engine``'s URL says, or a connection showed, that a transaction pooler is in
    front of the server (then followers poll instead of listening)."""
    return engine in _BEHIND_POOLER


def watch_for_pooler(engine: Engine, settings: ConnectionSettings) -> None:
    """Mark ``engine`` as behind a transaction pooler when its settings say so, or detect one on
    each new connection (and turn that connection's prepared statements off)."""
    if settings.pooler == TRANSACTION:
        _BEHIND_POOLER.add(engine)
        return
    if settings.pooler is not None:
        return
    ref = weakref.ref(engine)

    @event.listens_for(engine, "connect")
    def _detect(dbapi_connection: Any, _record: Any) -> None:
        if not _pooler_answers(dbapi_connection):
            return
        dbapi_connection.prepare_threshold = None
        target = ref()
        if target is not None and target not in _BEHIND_POOLER:
            _BEHIND_POOLER.add(target)
            logger.info(
                "a connection pooler is in front of the database: prepared statements off,"
                " followers poll (say pooler=transaction in the URL to skip this check)"
            )


def _pooler_answers(dbapi_connection: Any) -> bool:
    """True when the backend id the connection was given is not the server's own."""
    info = getattr(dbapi_connection, "info", None)
    given = getattr(info, "backend_pid", None)
    if not isinstance(given, int):
        return False
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    finally:
        cursor.close()
        dbapi_connection.rollback()
    return row is not None and row[0] != given
