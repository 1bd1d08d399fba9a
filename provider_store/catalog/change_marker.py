"""The catalog's change marker: one cheap value that changes with every committed write.

Every write transaction of a :class:`~provider_store.catalog.catalog_store.CatalogStore` that
executed an INSERT, UPDATE or DELETE (other than one marked :data:`NOT_A_CHANGE`, as the
refresh lease's are) sets the ``catalog_meta`` row ``change_marker`` to a new
random token just before it commits (in the same transaction, so the marker never runs ahead of
the data or behind it). A long-lived reader remembers the token it last saw and, at most every
``interval`` seconds, reads that one row (:class:`ChangeWatch`): an unchanged token means nothing
was committed since, by this process or any other; a new one means reload.

No schema change: ``catalog_meta`` is a key/value table from the first revision.
"""

from __future__ import annotations

import os
import time
from typing import Any, cast

from sqlalchemy import Engine, Table, event, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from provider_store.catalog.tables import CatalogMeta

MARKER_KEY = "change_marker"
DEFAULT_CHECK_INTERVAL = 0.25  # seconds between two looks at the marker
_WROTE = "provider_store_wrote"  # connection info flag: this transaction changed rows
# Execution option of a write that changes nothing a reader keeps (a refresh lease taken or
# given back): it does not move the marker.
NOT_A_CHANGE = "provider_store_not_a_change"
_META = cast(Table, getattr(CatalogMeta, "__table__"))  # noqa: B009 - untyped in SQLModel

__all__ = [
    "DEFAULT_CHECK_INTERVAL",
    "MARKER_KEY",
    "NOT_A_CHANGE",
    "ChangeWatch",
    "bump_if_written",
    "note_write",
    "read",
    "track_writes",
]


def track_writes(engine: Engine) -> None:
    """Flag each connection of ``engine`` that executes an INSERT, UPDATE or DELETE."""

    def after_execute(
        conn: Connection, _cursor: Any, _stmt: Any, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is None or context.execution_options.get(NOT_A_CHANGE):
            return
        if context.isinsert or context.isupdate or context.isdelete:
            conn.info[_WROTE] = True

    event.listen(engine, "after_cursor_execute", after_execute)


def note_write(conn: Connection) -> None:
    """Flag ``conn``'s transaction as one that changed rows, for a write made at the driver
    level (``exec_driver_sql``), which the statement hook cannot classify."""
    conn.info[_WROTE] = True


def bump_if_written(session: Session) -> None:
    """Give the marker a new token when this transaction changed rows (call before commit)."""
    if not session.in_transaction():
        return
    conn = session.connection()
    if not conn.info.pop(_WROTE, False):
        return
    token = os.urandom(8).hex()
    done = session.execute(update(_META).where(_META.c.key == MARKER_KEY).values(value=token))
    if getattr(done, "rowcount", 0) == 0:
        _insert_or_update(session, token)
    conn.info.pop(_WROTE, None)


def _insert_or_update(session: Session, token: str) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(_META).values(key=MARKER_KEY, value=token)
        session.execute(pg.on_conflict_do_update(index_elements=["key"], set_={"value": token}))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(_META).values(key=MARKER_KEY, value=token)
        session.execute(lite.on_conflict_do_update(index_elements=["key"], set_={"value": token}))


def read(session: Session) -> str | None:
    """The marker's token now (None before the first tracked write)."""
    value = session.execute(select(_META.c.value).where(_META.c.key == MARKER_KEY)).scalar()
    return value if isinstance(value, str) else None


class ChangeWatch:
    """Tells whether the catalog changed since the last look, looking at most every
    ``interval`` seconds (in between, the answer is "no" without touching the database).

    ``read_marker`` reads the current token (see :func:`read`); :meth:`mark` records the token
    a reload saw, so a reload is followed only by later changes.
    """

    def __init__(self, read_marker: Any, *, interval: float = DEFAULT_CHECK_INTERVAL) -> None:
        self._read = read_marker
        self.interval = interval
        self._seen: str | None = None
        self._next_look = 0.0

    def mark(self) -> None:
        """Remember the current token (call before a reload)."""
        self._seen = self._read()
        self._next_look = time.monotonic() + self.interval

    def changed(self) -> bool:
        """True when the token differs from the one last seen (then it becomes the seen one)."""
        now = time.monotonic()
        if now < self._next_look:
            return False
        self._next_look = now + self.interval
        token = self._read()
        if token == self._seen:
            return False
        self._seen = token
        return True
