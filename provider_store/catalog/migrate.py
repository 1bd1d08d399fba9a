"""Alembic glue: find the migration scripts, upgrade to head safely, report revisions.

The scripts live in the repository's top-level ``migrations/`` folder; a wheel carries them as
``provider_store/_migrations``, so the commands work from an installed package in any directory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from provider_store.catalog.db import (
    PRIVATE_FILE_MODE,
    WRITE_OPTION,
    database_cause,
    redact_url,
    sqlite_path,
)
from provider_store.errors import (
    ConfigurationError,
    ForeignDatabaseError,
    NewerCatalogError,
    StoreError,
)

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

# The newest revision in migrations/versions. Opening a store compares the database with it
# without importing Alembic (start-up time); a test keeps it equal to the scripts' head.
SCHEMA_HEAD = "0010"

# Any fixed 64-bit number; every process that migrates a PostgreSQL catalog takes this lock, for
# the length of the migration's transaction.
PG_MIGRATION_LOCK_ID = 0x70726F7669646572  # "provider"


def script_location() -> Path:
    """The folder holding ``env.py`` and ``versions/`` (installed copy first, then the repo)."""
    package_dir = Path(__file__).resolve().parents[1]
    for candidate in (package_dir / "_migrations", package_dir.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise StoreError("Migration scripts not found; the provider-store installation is incomplete")


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for our scripts, bound to ``connection`` or ``url`` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision the installed scripts know."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    try:
        with engine.connect() as conn:
            if not engine.dialect.has_table(conn, "alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        raise StoreError(
            f"Cannot read the schema revision of {redact_url(engine.url)}:"
            f" {database_cause(exc, engine.url)}"
        ) from exc


def is_at_head(engine: Engine) -> bool:
    """True when the database needs no upgrade."""
    return current_revision(engine) == SCHEMA_HEAD


def known_revisions() -> list[str]:
    """Every revision the installed scripts know, oldest first."""
    return [revision for revision, _down, _message in reversed(history())]


def check_known(engine: Engine) -> str | None:
    """The database's revision; NewerCatalogError when this release does not know it."""
    revision = current_revision(engine)
    if revision is not None and revision != SCHEMA_HEAD and revision not in known_revisions():
        raise NewerCatalogError(revision)
    return revision


def resolve_revision(current: str | None, target: str) -> str | None:
    """The revision id ``target`` names, relative to ``current``; None means base (empty).

    Accepts a revision id, ``head``, ``base`` and relative steps (``-1``, ``+2``). An unknown
    target raises ConfigurationError listing the known revisions.
    """
    known = known_revisions()
    text = target.strip()
    if text == "base":
        return None
    if text == "head":
        return known[-1]
    if text in known:
        return text
    if text[:1] in "+-" and text[1:].isdigit():
        index = (known.index(current) if current in known else -1) + int(text)
        if -1 <= index < len(known):
            return known[index] if index >= 0 else None
        raise ConfigurationError(
            f"cannot move {text} revisions from {current or 'base'}:"
            f" the known revisions are base, {', '.join(known)}"
        )
    raise ConfigurationError(
        f"unknown revision {target!r}: use base, head, -N, +N or one of {', '.join(known)}"
    )


def catalog_counts(engine: Engine) -> tuple[int, int]:
    """(providers, models) stored in the database; (0, 0) when the tables do not exist."""
    try:
        with engine.connect() as conn:
            if not engine.dialect.has_table(conn, "provider"):
                return 0, 0
            providers = conn.execute(text("SELECT count(*) FROM provider")).scalar() or 0
            has_models = engine.dialect.has_table(conn, "model")
            models = conn.execute(text("SELECT count(*) FROM model")).scalar() if has_models else 0
            return int(providers), int(models or 0)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"Cannot count the catalog of {redact_url(engine.url)}:"
            f" {database_cause(exc, engine.url)}"
        ) from exc


# What downgrading past each revision removes (tests keep one entry per known revision).
REVISION_DROPS: dict[str, str] = {
    "0001": "every table (provider, model, catalog_meta): all providers, API keys and models",
    "0002": "the lower(model_id) and lower(alias) indexes of model (no data)",
    "0003": (
        "the columns provider.empty_list_strikes, kind, options, problem, problem_at and"
        " model.ping_style, display_name, created, context_length, max_output_tokens,"
        " input_price, output_price, input_modalities, output_modalities, capabilities"
        " (provider kinds and options, recorded provider problems, listed model metadata)"
    ),
    "0004": (
        "the event and observation tables (the change feed and ping history), the columns"
        " model.missing_count, missing_since, removed_at and provider.removal_confirmations,"
        " removal_min_age_seconds"
    ),
    "0005": "the model_fact table (model metadata from registries and set by the user)",
    "0006": "the column model.hand_mark (models marked valid or invalid by hand)",
    "0007": "the column provider.change_token (which providers a write changed; no user data)",
    "0008": "the ping_rollup table (sums of the ping observations, rebuilt by upgrading again)",
    "0009": (
        "the unique index on lower(provider.key) (no data; providers the upgrade renamed keep"
        " their new keys)"
    ),
    "0010": (
        "the column model.max_input_tokens and the registry_source and registry_fill tables"
        " (input limits and registry provenance, refilled by the next registries update)"
    ),
}


def downgrade_drops(current: str, target: str | None) -> str:
    """What a downgrade from ``current`` to ``target`` (None: base) removes, newest first."""
    known = known_revisions()
    stop = known.index(target) + 1 if target is not None else 0
    removed = list(reversed(known[stop : known.index(current) + 1]))
    titles = {revision: message for revision, _down, message in history()}
    return "; ".join(
        f"{rev}: {REVISION_DROPS.get(rev) or 'what it added (' + titles.get(rev, '') + ')'}"
        for rev in removed
    )


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision``, serialised across processes.

    SQLite takes a hidden lock file beside the database file (:func:`migration_lock_path`);
    PostgreSQL takes a transaction-scoped advisory lock and migrates in that one transaction
    (it works through a pooler in transaction mode).
    A second process that waited finds the work done and does nothing (to head: it reads the
    revision once it holds the lock, and does not even load the scripts).
    """
    from alembic import command

    _run(engine, lambda cfg: command.upgrade(cfg, revision), done_at_head=revision == "head")


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (e.g. ``-1`` or ``base``)."""
    from alembic import command

    _run(engine, lambda cfg: command.downgrade(cfg, revision))


def ensure_head(engine: Engine) -> None:
    """Upgrade to head when needed; cheap when the database is already current.

    A database at a revision this release does not know raises NewerCatalogError; a database
    that is not a catalog and not empty raises ForeignDatabaseError (nothing is added to it).
    """
    if not is_at_head(engine):
        if check_known(engine) is None:
            refuse_foreign(engine)
        upgrade(engine)


def foreign_tables(engine: Engine) -> list[str]:
    """Tables of the database (its default schema) that are not the catalog's, sorted."""
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    import provider_store.catalog.tables  # noqa: F401 - declares the catalog's tables

    ours = {"alembic_version", *SQLModel.metadata.tables}

    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        raise StoreError(
            f"Cannot list the tables of {redact_url(engine.url)}: {database_cause(exc, engine.url)}"
        ) from exc
    return sorted(set(names) - ours)


def refuse_foreign(engine: Engine) -> None:
    """ForeignDatabaseError when a database without a catalog revision holds other tables."""
    tables = foreign_tables(engine)
    if tables:
        raise ForeignDatabaseError(redact_url(engine.url), tables)


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from newest to oldest."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    rows: list[tuple[str, str | None, str]] = []
    for script in scripts.walk_revisions():
        down = script.down_revision
        rows.append(
            (
                script.revision,
                down if isinstance(down, str) or down is None else ",".join(down),
                script.doc or "",
            )
        )
    return rows


def _run(engine: Engine, action: Any, *, done_at_head: bool = False) -> None:
    from alembic.util import CommandError

    try:
        with _migration_lock(engine) as conn:
            if done_at_head and _revision_on(conn) == SCHEMA_HEAD:
                return  # another process migrated while this one waited for the lock
            action(alembic_config(connection=conn))
    except SQLAlchemyError as exc:
        raise StoreError(
            f"Migrating {redact_url(engine.url)} failed: {database_cause(exc, engine.url)}"
        ) from exc
    except CommandError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown revision"
        raise ConfigurationError(f"Cannot migrate {redact_url(engine.url)}: {first}") from exc
    except OSError as exc:  # the lock file beside the database
        raise StoreError(
            f"Migrating {redact_url(engine.url)} failed: {database_cause(exc)}"
        ) from exc


def _revision_on(conn: Connection) -> str | None:
    """The revision of the database ``conn`` holds the migration lock on. On PostgreSQL the
    read is part of the lock's transaction; on SQLite that transaction ends here (the migration
    opens its own)."""
    try:
        if not conn.dialect.has_table(conn, "alembic_version"):
            return None
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return value if isinstance(value, str) else None
    finally:
        if conn.dialect.name == "sqlite":
            conn.commit()


def migration_lock_path(database: Path) -> Path:
    """The lock file that serialises migrations of the SQLite file ``database``.

    A hidden file beside the database (``.catalog.db.migrate.lock``): it must be one path that
    every process and user opening the catalog agrees on, so it is kept rather than removed
    after use (a process could still be waiting on the removed file while a new one is locked)
    and it is not the database file itself (closing another descriptor of that file would drop
    SQLite's own locks).
    """
    return database.with_name(f".{database.name}.migrate.lock")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    path = sqlite_path(engine.url)
    if engine.dialect.name == "sqlite":
        from filelock import FileLock  # only when migrating: opening a store does not need it

        lock: Any = None
        if path is not None:
            lock = FileLock(migration_lock_path(path), mode=PRIVATE_FILE_MODE)
        if lock is not None:
            lock.acquire()
        try:
            with engine.connect() as conn:
                yield conn.execution_options(**{WRITE_OPTION: True})
        finally:
            if lock is not None:
                lock.release()
        return
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # A transaction-scoped lock: the migration runs in this one transaction and the
            # commit (or rollback) releases it, so no lock can stay behind on a server
            # connection that a transaction pooler hands to another client.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK_ID})")
        yield conn
        conn.commit()
