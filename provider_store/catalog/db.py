"""Engines, sessions and migrate-to-head: the only place that builds a database engine."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from provider_store.catalog import connections
from provider_store.errors import ConfigurationError, StoreError, os_cause
from provider_store.rules.limits import ENV_URL

logger = logging.getLogger(__name__)

APP_NAME = "provider-store"
DEFAULT_FILE_NAME = "catalog.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option a write transaction sets so SQLite takes the write lock at BEGIN.
WRITE_OPTION = "provider_store_write"
# The catalog holds API keys: its file (and SQLite's -wal/-shm, which copy the file's mode) and
# lock files are private to the user, and so is the default directory.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
# URL schemes without a driver that we map to the PostgreSQL driver provider-store installs.
_POSTGRES_ALIASES = ("postgres://", "postgresql://")
_POSTGRES_DRIVER = "postgresql+psycopg://"
# "name:" at the start of what a user typed: a URL scheme, unless it is a Windows drive letter.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")


def default_url() -> str:
    """The embedded default: a SQLite file under the user's data directory."""
    import platformdirs  # only for the default location

    path = Path(platformdirs.user_data_dir(APP_NAME)) / DEFAULT_FILE_NAME
    return f"sqlite:///{path}"


def _is_default_location(parsed: URL, path: Path) -> bool:
    """True for the default catalog file (named first: most paths are not, and finding the
    default location imports platformdirs)."""
    return (
        path.name == DEFAULT_FILE_NAME
        and path.parent.name.lower() == APP_NAME
        and str(parsed) == default_url()
    )


def resolve_url(url: str | None = None) -> str:
    """Explicit argument, else ``$PROVIDER_STORE_URL``, else the per-user SQLite file.

    A plain file path (``/tmp/x.db``, ``~/cat.db``, ``x.db``) means a SQLite file, and
    ``postgres://`` / ``postgresql://`` without a driver mean ``postgresql+psycopg://``.
    """
    if url:
        return normalize_url(url)
    env = os.environ.get(ENV_URL, "").strip()
    return normalize_url(env, source=f"${ENV_URL}") if env else default_url()


def normalize_url(url: str, *, source: str = "the database URL") -> str:
    """A database URL from what a user typed: a file path or a URL, see :func:`resolve_url`.

    ConfigurationError (naming ``source``) for a control character anywhere, or a
    ``scheme:`` that is no database provider-store knows (``bogus:::x`` is not a file name).
    """
    text = url.strip()
    bad = next((c for c in text if ord(c) < 0x20 or ord(c) == 0x7F), None)
    if bad is not None:
        raise ConfigurationError(
            f"{source} holds a control character ({bad!r} at position {text.index(bad) + 1});"
            " give a plain file path or a sqlite:/// or postgresql:// URL"
        )
    scheme = _SCHEME.match(text)
    if scheme is not None and "://" not in text and scheme.group(1).lower() != "sqlite":
        raise ConfigurationError(
            f"{source} has an unknown scheme {scheme.group(1)!r}: give a file path (write"
            " ./name for a file whose name holds ':') or a sqlite:/// or postgresql:// URL"
        )
    if "://" not in text and not text.startswith("sqlite:"):
        return f"sqlite:///{Path(text).expanduser().absolute()}"
    for alias in _POSTGRES_ALIASES:
        if text.startswith(alias):
            return _POSTGRES_DRIVER + text[len(alias) :]
    return text


def sqlite_path(url: str | URL) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    if _is_uri(parsed):
        if parsed.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:").removeprefix("//")
    return Path(database).expanduser()


def _is_uri(parsed: URL) -> bool:
    """True for ``sqlite:///file:...?uri=true`` URLs (SQLite URI filenames)."""
    return str(parsed.query.get("uri", "")).lower() in ("true", "1")


def redact_url(url: str | URL) -> str:
    """The URL with any password hidden, safe for logs and messages."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def build_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (resolved as :func:`resolve_url` does).

    SQLite connections get WAL, a busy timeout, foreign keys and synchronous=NORMAL, and the
    driver's own transaction handling is replaced so that write transactions (those whose
    connection carries the :data:`WRITE_OPTION` execution option) begin with ``BEGIN IMMEDIATE``
    and wait for the lock
    instead of failing with "database is locked".

    The pool is sized, and a pooler in front of PostgreSQL named, by the URL's query or the
    environment (:mod:`~provider_store.catalog.connections`; those keys never reach the driver):
    on PostgreSQL a bounded pool of 3 connections by default that waits, up to its timeout,
    when the server is full.
    """
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise ConfigurationError(f"Invalid database URL: {resolved!r}") from exc
    parsed, settings = connections.read_settings(parsed)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            engine = _build_sqlite_engine(parsed, settings, **kwargs)
        else:
            kwargs.setdefault("pool_pre_ping", True)
            for name, value in settings.engine_arguments(backend).items():
                kwargs.setdefault(name, value)
            engine = create_engine(parsed, **kwargs)
            if backend == "postgresql":
                connections.watch_for_pooler(engine, settings)
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


def _build_sqlite_engine(
    parsed: URL, settings: connections.ConnectionSettings, **kwargs: Any
) -> Engine:
    path = sqlite_path(parsed)
    if path is None:  # one shared in-memory connection: no pool to size
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        if not _is_uri(parsed):  # URI filenames (e.g. ?mode=ro) open exactly as written
            prepare_sqlite_file(path, default=_is_default_location(parsed, path))
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        for name, value in settings.engine_arguments("sqlite").items():
            kwargs.setdefault(name, value)
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite; SQLAlchemy's "begin" hook emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if path is not None:
                _enter_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()
        if path is not None:
            _record.info[_IDENTITY] = file_identity(path)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        if write and path is not None:
            _check_same_file(conn, path)

    return engine


def _enter_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another process holds the new file's lock.

    Switching a brand-new file to WAL can answer "database is locked" at once, without SQLite's
    busy handler, while a concurrent first open is creating the catalog; it is retried for up
    to the busy timeout like any other lock wait.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


_IDENTITY = "provider_store_file_identity"


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``; None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _check_same_file(conn: Any, path: Path) -> None:
    """Refuse a write to a catalog file that was deleted or replaced since it was opened.

    SQLite keeps writing to the file it opened; after an ``rm`` or a ``mv`` over it, those
    writes would be reported saved and lost. Runs once the write lock is held.
    """
    opened = conn.info.get(_IDENTITY)
    now = file_identity(path)
    if opened is None or now == opened:
        return
    conn.exec_driver_sql("ROLLBACK")
    what = "deleted" if now is None else "replaced by another file"
    raise StoreError(
        f"The catalog {path} was {what} while this process had it open; nothing was"
        " written (open the catalog again)"
    )


def prepare_sqlite_file(path: Path, *, default: bool = False) -> None:
    """Make sure the SQLite file can be opened; create it private (0600) when it is new.

    The default location's directory is created on demand (0700); the parent of an explicit
    path never is, so a typo is reported instead of creating directories. Raises
    ConfigurationError (a missing directory) or StoreError naming the cause.
    """
    parent = path.parent
    if default:
        _make_private_dir(parent)
    elif not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise ConfigurationError(f"Cannot open the catalog {path}: directory {parent} {what}")
    if path.is_dir():
        raise ConfigurationError(f"Cannot open the catalog {path}: it is a directory, not a file")
    if path.exists():
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigurationError(f"Cannot open the catalog {path}: not a regular file")
        if default:
            _tighten(path, PRIVATE_FILE_MODE)
        return
    if path.is_symlink():  # dangling: SQLite would create its target with the umask's mode
        target = Path(os.path.realpath(path))
        if not target.parent.is_dir():
            raise ConfigurationError(
                f"Cannot open the catalog {path}: it links to {target}, whose directory"
                " does not exist"
            )
        path = target
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:  # another process created it first
        return
    except OSError as exc:
        raise StoreError(f"Cannot create the catalog {path}: {os_cause(exc)}") from exc
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # whatever the umask
    finally:
        os.close(fd)


def _make_private_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the catalog directory {directory}: {os_cause(exc)}"
            f" (choose another place with --db or ${ENV_URL})"
        ) from exc
    _tighten(directory, PRIVATE_DIR_MODE)


def _tighten(path: Path, mode: int) -> None:
    """Remove group and other permissions from a file or directory we own."""
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(path, mode)
    except OSError as exc:
        logger.warning("Cannot make %s private: %s", path, os_cause(exc))


# SQLite's error texts and the cause we name for each.
_SQLITE_CAUSES = (
    ("file is not a database", "not a SQLite database"),
    ("database disk image is malformed", "the database file is corrupt"),
    ("database or disk is full", "disk full"),
    ("readonly database", "read-only (the file or its directory cannot be written)"),
    ("unable to open database file", "cannot open the file"),
    ("disk i/o error", "disk I/O error"),
    ("database is locked", "the database is locked by another process"),
)


def database_cause(exc: BaseException, url: str | URL | None = None) -> str:
    """A short, key-free cause for a database error: "disk full", "not a SQLite database", ..."""
    original = getattr(exc, "orig", None) or exc
    if isinstance(original, OSError) and original.errno is not None:
        return os_cause(original)
    exhausted = connections.exhaustion_cause(exc)
    if exhausted is not None:
        return exhausted
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    lowered = text.lower()
    for needle, cause in _SQLITE_CAUSES:
        if needle in lowered:
            return cause
    if url is not None and isinstance(exc, SQLAlchemyError):
        path = sqlite_path(url)
        if path is not None and path.is_dir():
            return "is a directory"
    name = original.__class__.__name__
    if not text:
        return name
    if url is not None:
        parsed = make_url(url) if isinstance(url, str) else url
        if parsed.password:
            text = text.replace(str(parsed.password), "***")
    return f"{name}: {text}"


def _dispose_after_fork(engine: Engine) -> None:
    """A forked child must not reuse the parent's pooled connections."""
    ref = weakref.ref(engine)

    def _after_fork_in_child() -> None:
        target = ref()
        if target is not None:
            target.dispose(close=False)

    os.register_at_fork(after_in_child=_after_fork_in_child)
