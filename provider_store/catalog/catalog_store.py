"""CatalogStore: the catalog's connection: its engine, its transactions, its row operations.

One place opens transactions (with the SQLite write turn, the change tokens a commit moves and
the wake-up it sends). Every row operation the wings call is on ``rows``
(:class:`~provider_store.catalog.catalog_rows.CatalogRows`). :class:`~provider_store.ProviderStore`
is the class a library user opens: it is a CatalogStore whose public methods are the documented
operations; the wings below it take a CatalogStore and call ``store.rows``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from provider_store.catalog import change_marker, migrate
from provider_store.catalog.catalog_rows import CatalogRows
from provider_store.catalog.change_listener import ChangeSignal
from provider_store.catalog.db import (
    WRITE_OPTION,
    build_engine,
    database_cause,
    redact_url,
    resolve_url,
)
from provider_store.errors import StoreError

logger = logging.getLogger(__name__)


class CatalogStore:
    """The connection to a catalog of providers and models in a SQL database (SQLite file by
    default): transactions, and the row operations (``rows``) the library's wings call.

    ``url`` is resolved like :func:`~resolve_url`. Opening a store upgrades its
    schema to the newest revision unless ``auto_migrate=False``. A SQLite file that is not a
    database is refused (ConfigurationError); with ``create=False`` so is a file that does not
    exist yet, which is then not created.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        auto_migrate: bool = True,
        engine: Engine | None = None,
        create: bool = True,
    ) -> None:
        self.url = str(engine.url) if engine is not None else resolve_url(url)
        if engine is None:
            from provider_store.catalog.catalog_file import check_catalog_file

            check_catalog_file(self.url, create=create)
        self.engine = engine if engine is not None else build_engine(self.url)
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        change_marker.track_writes(self.engine)
        # SQLite has one writer at a time and its busy handler waits by sleeping (up to 100 ms
        # a try): threads of this process queue on a lock instead and start the moment the
        # writer before them commits.
        self._write_turn: AbstractContextManager[Any] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )
        # Wake-ups for the followers of this catalog (no thread until one follows it).
        self.change_signal = ChangeSignal(self.engine)
        # A store dropped without close() stops its listening thread (which holds the signal,
        # never the store) and, when it made its engine, closes the pooled connections.
        owned = None if engine is not None else self.engine
        weakref.finalize(self, _release, self.change_signal, owned).atexit = False
        # The row operations of this catalog (internal: the wings call them).
        self.rows = CatalogRows(self)
        if auto_migrate:
            migrate.ensure_head(self.engine)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={redact_url(self.url)!r})"

    def close(self) -> None:
        """Release pooled connections (and stop listening for changes)."""
        self.change_signal.close()
        self.engine.dispose()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        A commit that changed a provider or its models wakes the followers of the catalog
        (:mod:`~provider_store.catalog.change_listener`).
        """
        with self._write_turn, self._connection(self._write_engine) as conn:
            with self._session(conn) as session:
                yield session
                moved = change_marker.bump_if_written(session)
                session.commit()
            if moved:
                self.change_signal.after_commit(conn)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (its transaction is rolled back at the end)."""
        with self._session(self.engine) as session:
            yield session

    @contextmanager
    def _connection(self, bind: Engine) -> Iterator[Connection]:
        try:
            with bind.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise self._failure(exc) from exc

    @contextmanager
    def _session(self, bind: Engine | Connection) -> Iterator[Session]:
        session = Session(bind=bind, expire_on_commit=False)
        try:
            yield session
        except SQLAlchemyError as exc:
            session.rollback()
            raise self._failure(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _failure(self, exc: SQLAlchemyError) -> StoreError:
        return StoreError(
            f"Database operation on {redact_url(self.url)} failed: {database_cause(exc, self.url)}"
        )


def _release(signal: ChangeSignal, engine: Engine | None) -> None:
    """What :meth:`CatalogStore.close` releases, for a store dropped without it."""
    signal.close()
    if engine is not None:
        engine.dispose()
