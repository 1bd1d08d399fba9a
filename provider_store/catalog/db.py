"""Engines, sessions and migrate-to-head: the only place that builds a database engine."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from provider_store.errors import ConfigurationError

logger = logging.getLogger(__name__)

ENV_URL = "PROVIDER_STORE_URL"
APP_NAME = "provider-store"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option a write transaction sets so SQLite takes the write lock at BEGIN.
WRITE_OPTION = "provider_store_write"


def default_url() -> str:
    """The embedded default: a SQLite file under the user's data directory."""
    import platformdirs  # only for the default location

    path = Path(platformdirs.user_data_dir(APP_NAME)) / "catalog.db"
    return f"sqlite:///{path}"


def resolve_url(url: str | None = None) -> str:
    """Explicit argument, else ``$PROVIDER_STORE_URL``, else the per-user SQLite file."""
    if url:
        return url
    env = os.environ.get(ENV_URL, "").strip()
    return env or default_url()


def sqlite_path(url: str | URL) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser()


def redact_url(url: str | URL) -> str:
    """The URL with any password hidden, safe for logs and messages."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def build_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (resolved as :func:`resolve_url` does).

    SQLite connections get WAL, a busy timeout, foreign keys and synchronous=NORMAL, and the
    driver's own transaction handling is replaced so that write transactions (see
    :func:`write_connection_options`) begin with ``BEGIN IMMEDIATE`` and wait for the lock
    instead of failing with "database is locked".
    """
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise ConfigurationError(f"Invalid database URL: {resolved!r}") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _build_sqlite_engine(parsed, **kwargs)
        else:
            kwargs.setdefault("pool_pre_ping", True)
            engine = create_engine(parsed, **kwargs)
    except ImportError as exc:
        hint = (
            " (pip install 'provider-store[postgres]')" if "postgres" in parsed.drivername else ""
        )
        raise ConfigurationError(
            f"No database driver for {redact_url(parsed)}{hint}: {exc}"
        ) from exc
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigurationError(f"Unsupported database URL {redact_url(parsed)}: {exc}") from exc
    _dispose_after_fork(engine)
    return engine


def _build_sqlite_engine(parsed: URL, **kwargs: Any) -> Engine:
    path = sqlite_path(parsed)
    if path is None:
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite; SQLAlchemy's "begin" hook emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _dispose_after_fork(engine: Engine) -> None:
    """A forked child must not reuse the parent's pooled connections."""
    ref = weakref.ref(engine)

    def _after_fork_in_child() -> None:
        target = ref()
        if target is not None:
            target.dispose(close=False)

    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def connection_for_write(engine: Engine) -> Iterator[Any]:
    """A connection whose transaction takes the write lock at BEGIN (SQLite)."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        yield conn
