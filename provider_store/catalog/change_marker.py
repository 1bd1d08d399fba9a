"""The catalog's change marker: one cheap value that changes with every committed write, and
per-provider change tokens that say which providers a write changed.

Every write transaction of a :class:`~provider_store.catalog.catalog_store.CatalogStore` that
executed an INSERT, UPDATE or DELETE (other than one marked :data:`NOT_A_CHANGE`, as the
refresh lease's are) sets the ``catalog_meta`` row ``change_marker`` to a new random token just
before it commits (in the same transaction, so the marker never runs ahead of the data or behind
it). A long-lived reader remembers the token it last saw and, at most every ``interval`` seconds,
reads that one row (:class:`ChangeWatch`): an unchanged token means nothing was committed since,
by this process or any other.

Which providers changed: a write to the provider or model table made inside
:func:`provider_scope` (``with provider_scope(session, key): ...``) names its provider(s), and the
commit gives each named provider's ``provider.change_token`` the commit's new token (a token,
not a counter: a provider removed and added again under its key never gets an old value back).
A write to those tables made outside any scope names nothing, so the commit also moves the
``catalog_meta`` row ``full_change_marker``: a reader that sees it move re-reads everything. A
reader thus re-reads only the providers whose token moved, plus those that appeared, and drops
those that are gone (:func:`read_tokens`); forgetting a scope costs a full re-read, never a
missed change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from provider_store.catalog.light_tables import CATALOG_META, PROVIDER

MARKER_KEY = "change_marker"
FULL_MARKER_KEY = "full_change_marker"
DEFAULT_CHECK_INTERVAL = 0.25  # seconds between two looks at the marker
_WROTE = "provider_store_wrote"  # connection info flag: this transaction changed rows
_SCOPES = "provider_store_scopes"  # connection info: the provider scopes open now (a stack)
_NAMED = "provider_store_named"  # connection info: providers this transaction changed
_UNNAMED = "provider_store_unnamed"  # connection info flag: a provider/model write, no scope
# Tables a config is read from: a write to them outside a provider scope means "re-read all".
_CONFIG_TABLES = frozenset({"provider", "model"})
# Execution option of a write that changes nothing a reader keeps (a refresh lease taken or
# given back): it does not move the marker.
NOT_A_CHANGE = "provider_store_not_a_change"

__all__ = [
    "DEFAULT_CHECK_INTERVAL",
    "FULL_MARKER_KEY",
    "MARKER_KEY",
    "NOT_A_CHANGE",
    "ChangeTokens",
    "ChangeWatch",
    "bump_if_written",
    "provider_scope",
    "note_write",
    "read",
    "read_tokens",
    "track_writes",
]


def track_writes(engine: Engine) -> None:
    """Flag each connection of ``engine`` that executes an INSERT, UPDATE or DELETE, and note
    which provider scope a write to the provider or model table was made in."""

    def after_execute(
        conn: Connection, _cursor: Any, _stmt: Any, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is None or context.execution_options.get(NOT_A_CHANGE):
            return
        if not (context.isinsert or context.isupdate or context.isdelete):
            return
        conn.info[_WROTE] = True
        compiled = context.compiled
        table = getattr(getattr(compiled, "statement", None), "table", None)
        name = getattr(table, "name", None)
        if name is not None and name not in _CONFIG_TABLES:
            return
        scopes = conn.info.get(_SCOPES)
        if scopes:
            conn.info.setdefault(_NAMED, set()).update(scopes[-1])
        else:  # a config table, or a statement whose table is unknown (raw SQL)
            conn.info[_UNNAMED] = True

    def on_begin(conn: Connection) -> None:
        # A transaction starts clean (a rolled-back one may have left its flags behind).
        for flag in (_WROTE, _NAMED, _UNNAMED):
            conn.info.pop(flag, None)

    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(engine, "begin", on_begin)


@contextmanager
def provider_scope(session: Session, *keys: str) -> Iterator[None]:
    """Name the providers ``keys`` as the ones the provider/model writes of this block change
    (a provider that is gone when the transaction commits is left alone)."""
    info = session.connection().info
    scopes: list[tuple[str, ...]] = info.setdefault(_SCOPES, [])
    scopes.append(keys)
    try:
        yield
        session.flush()  # the block's pending ORM changes are written while it names them
    finally:
        scopes.pop()


def note_write(conn: Connection) -> None:
    """Flag ``conn``'s transaction as one that changed rows, for a write made at the driver
    level (``exec_driver_sql``), which the statement hook cannot classify."""
    conn.info[_WROTE] = True


def bump_if_written(session: Session) -> None:
    """Give the marker a new token when this transaction changed rows, and count the change on
    each provider it named (call just before commit)."""
    if not session.in_transaction():
        return
    session.flush()  # pending ORM changes count: they are written by this commit
    conn = session.connection()
    named: set[str] = conn.info.pop(_NAMED, set())
    unnamed = conn.info.pop(_UNNAMED, False)
    if not conn.info.pop(_WROTE, False):
        return
    token = os.urandom(8).hex()
    _set(session, MARKER_KEY, token)
    if unnamed:
        _set(session, FULL_MARKER_KEY, token)
    if named:
        p = PROVIDER.c
        session.execute(update(PROVIDER).where(p.key.in_(sorted(named))).values(change_token=token))
    conn.info.pop(_WROTE, None)
    conn.info.pop(_NAMED, None)
    conn.info.pop(_UNNAMED, None)


def _set(session: Session, key: str, token: str) -> None:
    c = CATALOG_META.c
    done = session.execute(update(CATALOG_META).where(c.key == key).values(value=token))
    if getattr(done, "rowcount", 0) == 0:
        _insert_or_update(session, key, token)


def _insert_or_update(session: Session, key: str, token: str) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(CATALOG_META).values(key=key, value=token)
        session.execute(pg.on_conflict_do_update(index_elements=["key"], set_={"value": token}))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(CATALOG_META).values(key=key, value=token)
        session.execute(lite.on_conflict_do_update(index_elements=["key"], set_={"value": token}))


def read(session: Session) -> str | None:
    """The marker's token now (None before the first tracked write)."""
    c = CATALOG_META.c
    value = session.execute(select(c.value).where(c.key == MARKER_KEY)).scalar()
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ChangeTokens:
    """What a reader compares to find what changed: the full-re-read marker's token and each
    provider's change token, by provider key in catalog order."""

    full: str | None
    providers: dict[str, str | None] = field(default_factory=dict)

    def changed_since(self, before: ChangeTokens) -> list[str] | None:
        """The keys to re-read since ``before`` (new or changed providers, in catalog order);
        None when everything must be re-read."""
        if self.full != before.full:
            return None
        return [
            key
            for key, token in self.providers.items()
            if key not in before.providers or before.providers[key] != token
        ]


def read_tokens(session: Session) -> ChangeTokens:
    """The full-re-read marker's token and every provider's change token."""
    c, p = CATALOG_META.c, PROVIDER.c
    full = session.execute(select(c.value).where(c.key == FULL_MARKER_KEY)).scalar()
    rows = session.execute(select(p.key, p.change_token).order_by(p.position, p.id))
    return ChangeTokens(full if isinstance(full, str) else None, dict(rows.all()))


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
