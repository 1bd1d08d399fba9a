"""Alembic environment for provider_store.

The URL comes from, in order: a connection passed in ``config.attributes["connection"]``,
``-x url=...`` on the alembic command line, ``sqlalchemy.url`` in the config, and finally the
library's own resolution (``$PROVIDER_STORE_URL`` or the per-user SQLite file).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

import provider_store.catalog.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from provider_store.catalog.db import WRITE_OPTION, build_engine

config = context.config
target_metadata = SQLModel.metadata

if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str | None:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        # SQLite does support transactional DDL once we own BEGIN: an upgrade is all-or-nothing.
        transactional_ddl=True,
    )


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        # Batch migrations copy tables; foreign keys must be off outside the transaction.
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


def run_migrations_offline() -> None:
    context.configure(
        url=_url() or build_engine().url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # The library passes a Connection; pytest-alembic passes an Engine; the alembic command
    # line passes nothing and the URL is resolved like the library resolves it.
    connectable = config.attributes.get("connection")
    if isinstance(connectable, Connection):
        _run(connectable)
        return
    engine = connectable if isinstance(connectable, Engine) else build_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn.execution_options(**{WRITE_OPTION: True}))
            conn.commit()
    finally:
        if connectable is None:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
