"""Which providers a committed write changed: per-provider change tokens, and no hot row.

A write to the provider or model table made inside :func:`provider_scope`
(``with provider_scope(session, key): ...``) names its provider(s); just before the transaction
commits (:func:`bump_if_written`, in the same transaction, so a token never runs ahead of the data
or behind it) each named provider's ``provider.change_token`` gets a new random token (a token,
not a counter: a provider removed and added again under its key never gets an old value back).
Those rows are the ones the transaction wrote anyway, so commits of different providers never
queue on a shared row. A write to those tables made outside any scope names nothing, so the
commit also moves the ``catalog_meta`` row ``full_change_marker`` (rare: every write path of
the catalog names its providers): a reader that sees it move re-reads everything.

What a reader compares is :class:`ChangeTokens`: the full-re-read marker and every provider's
token (:func:`read_tokens`, one small query). It re-reads only the providers whose token moved,
plus those that appeared, and drops those that are gone; forgetting a scope costs a full
re-read, never a missed change. A write that changes no provider and no model (history, ping
observations, a refresh lease, catalog settings) moves no token and wakes nobody.

When to look: :class:`ChangeWatch` looks at most every ``interval`` seconds; given a
:class:`~provider_store.catalog.change_listener.ChangeSignal` that is listening (PostgreSQL's
``LISTEN``), it looks only after a wake-up, and on a SQLite file only when SQLite says something
was committed since, so an idle reader sends no query to the catalog at all.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Engine, event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from provider_store.catalog.light_tables import CATALOG_META, PROVIDER
from provider_store.rules.limits import DEFAULT_CHECK_INTERVAL

if TYPE_CHECKING:
    from provider_store.catalog.change_listener import ChangeSignal

FULL_MARKER_KEY = "full_change_marker"
_WROTE = "provider_store_wrote"  # connection info flag: this transaction changed rows
_SCOPES = "provider_store_scopes"  # connection info: the provider scopes open now (a stack)
_NAMED = "provider_store_named"  # connection info: providers this transaction changed
_UNNAMED = "provider_store_unnamed"  # connection info flag: a provider/model write, no scope
# Tables a config is read from: a write to them outside a provider scope means "re-read all".
_CONFIG_TABLES = frozenset({"provider", "model"})
# Execution option of a write that changes nothing a reader keeps (a refresh lease taken or
# given back): it moves no token.
NOT_A_CHANGE = "provider_store_not_a_change"

__all__ = [
    "FULL_MARKER_KEY",
    "NOT_A_CHANGE",
    "ChangeTokens",
    "ChangeWatch",
    "bump_if_written",
    "note_write",
    "provider_scope",
    "read",
    "read_tokens",
    "track_writes",
]


def track_writes(engine: Engine) -> None:
    """Flag each connection of ``engine`` that executes an INSERT, UPDATE or DELETE that
    touched a row (one that matched none changed nothing), and note which provider scope a
    write to the provider or model table was made in."""

    def after_execute(
        conn: Connection, cursor: Any, _stmt: Any, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is None or context.execution_options.get(NOT_A_CHANGE):
            return
        if not (context.isinsert or context.isupdate or context.isdelete):
            return
        if getattr(cursor, "rowcount", -1) == 0:
            return  # it matched no row: nothing changed
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
    level (``exec_driver_sql``) to a table no reader keeps (history), which the statement hook
    cannot classify. A driver-level write to the provider or model table must be made inside
    :func:`provider_scope` and say so with a Core statement instead."""
    conn.info[_WROTE] = True


def bump_if_written(session: Session) -> bool:
    """Give each provider this transaction changed a new token, and move the full-re-read marker
    when it changed the provider or model table outside any scope (call just before commit).

    True when a token moved: readers of the catalog have something to re-read.
    """
    if not session.in_transaction():
        return False
    session.flush()  # pending ORM changes count: they are written by this commit
    conn = session.connection()
    named: set[str] = conn.info.pop(_NAMED, set())
    unnamed = conn.info.pop(_UNNAMED, False)
    if not conn.info.pop(_WROTE, False) or not (named or unnamed):
        return False
    token = os.urandom(8).hex()
    if unnamed:
        _set(session, FULL_MARKER_KEY, token)
    if named:
        p = PROVIDER.c
        session.execute(update(PROVIDER).where(p.key.in_(sorted(named))).values(change_token=token))
    for flag in (_WROTE, _NAMED, _UNNAMED):
        conn.info.pop(flag, None)
    return True


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

    def digest(self) -> str:
        """One short value that changes whenever any token, key or the catalog order does."""
        text = "\n".join([self.full or "", *(f"{k}\t{t or ''}" for k, t in self.providers.items())])
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def read_tokens(session: Session) -> ChangeTokens:
    """The full-re-read marker's token and every provider's change token (one query: a look is
    on the path of a resolution that comes due for one)."""
    c, p = CATALOG_META.c, PROVIDER.c
    full = select(c.value).where(c.key == FULL_MARKER_KEY).scalar_subquery()
    rows = session.execute(select(p.key, p.change_token, full).order_by(p.position, p.id)).all()
    if not rows:  # no provider: nothing a full re-read could find either
        return ChangeTokens(None, {})
    marker = rows[0][2]
    return ChangeTokens(marker if isinstance(marker, str) else None, {k: t for k, t, _ in rows})


def read(session: Session) -> str:
    """A short value that changes with every committed write that changed a provider or its
    models (see :meth:`ChangeTokens.digest`)."""
    return read_tokens(session).digest()


_T = TypeVar("_T")


def _monotonic() -> float:
    """:func:`time.monotonic`, looked up at each call."""
    return time.monotonic()


class ChangeWatch(Generic[_T]):
    """Tells whether the catalog changed since the last look, looking at most every
    ``interval`` seconds (in between, the answer is "no" without touching the database).

    ``read_marker`` reads what to compare (e.g. :func:`read_tokens` through a session);
    :meth:`mark` records the value a reload saw, so a reload is followed only by later changes.
    With a ``signal`` that is listening, a look happens only after a wake-up: a reader of a
    catalog where nothing changes sends no query. Until the signal listens (it is starting, it
    lost the database, or it never will on an in-memory SQLite catalog or behind a transaction
    pooler), the watch looks every ``interval`` seconds.

    ``clock`` gives the seconds the interval is measured in (default :func:`time.monotonic`, read
    at each call), so a test advances time instead of sleeping.
    """

    def __init__(
        self,
        read_marker: Callable[[], _T],
        *,
        interval: float = DEFAULT_CHECK_INTERVAL,
        signal: ChangeSignal | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._read = read_marker
        self.interval = interval
        self.signal = signal
        self.clock: Callable[[], float] = clock or _monotonic
        self.seen: _T | None = None
        self._next_look = 0.0
        self._woken_at = -1  # the signal's count of wake-ups at the last look
        self._version: int | None = None  # the SQLite file's data version at the last look

    def mark(self) -> None:
        """Remember the current value (call before a reload)."""
        signal = self.signal
        self._woken_at = signal.wakeups if signal is not None else -1
        self._version = signal.file_version() if signal is not None else None
        self.seen = self._read()
        self._next_look = self.clock() + self.interval

    def changed(self) -> bool:
        """True when the value differs from the one last seen (then it becomes the seen one)."""
        now = self.clock()
        if now < self._next_look:
            return False
        signal = self.signal
        if signal is not None:
            signal.start()
            wakeups, version = signal.wakeups, signal.file_version()
            if wakeups == self._woken_at and (
                signal.listening or (version is not None and version == self._version)
            ):
                self._next_look = now + self.interval
                return False  # nothing committed since the last look: no query
            self._woken_at, self._version = wakeups, version
        self._next_look = now + self.interval
        try:
            value = self._read()
        except BaseException:
            self.retry()
            raise
        if value == self.seen:
            return False
        self.seen = value
        return True

    def retry(self) -> None:
        """Look again at the next chance (after ``interval``) and call whatever it reads a
        change: what the last look saw was not taken in (the re-read after it failed)."""
        self.seen = None
        self._woken_at = -1
        self._version = None
