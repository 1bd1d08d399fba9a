"""Wake-ups for readers that follow the catalog: this store's own commits at once, and on
PostgreSQL every other process's commits through ``LISTEN``/``NOTIFY``.

A write transaction that moved a provider's change token (see
:mod:`~provider_store.catalog.change_marker`) wakes the followers of its own store at once
(:meth:`ChangeSignal.wake`) and, on PostgreSQL, sends ``NOTIFY`` right after its commit
(:func:`notify`), on the connection it committed on, in a transaction of its own: notifying
commits then never queue on PostgreSQL's notification lock while they write their data. (A
process that dies between its commit and its ``NOTIFY`` leaves the followers unwoken until the
next change; the data itself is committed.)

A :class:`ChangeSignal` started by a follower holds one connection of its own that ``LISTEN``\\s
(a daemon thread, blocked in the driver: no query while nothing changes) and counts each
notification as a wake-up, then calls the functions registered with
:meth:`ChangeSignal.on_notification` in that thread (a follower reads what changed there, ahead
of its next resolution). It reconnects by itself when the database goes away (logging a
warning once, and a line when it is back); while it is not listening, followers poll. On a SQLite
file the listening thread asks SQLite every
:data:`~provider_store.rules.limits.FILE_WATCH_INTERVAL` seconds whether any connection committed
(:meth:`ChangeSignal.file_version`, no read of the catalog) and counts each commit it sees as a
notification. There is no listener on an in-memory SQLite catalog, nor behind a pooler in
transaction mode (where ``LISTEN`` does not survive the transaction): followers poll there.

The channel is one per catalog (database and schema): ``provider_store_`` and 20 hex digits of
the schema's name's MD5, computed by the server from ``current_schema()`` on both sides.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from provider_store.catalog.connections import behind_transaction_pooler
from provider_store.catalog.db import database_cause, sqlite_path
from provider_store.rules.limits import FILE_WATCH_INTERVAL

logger = logging.getLogger(__name__)

__all__ = ["CHANNEL_SQL", "ChangeSignal", "notify"]

# The channel's name, as the server computes it for the catalog the session is in.
CHANNEL_SQL = "'provider_store_' || left(md5(current_schema()), 20)"
# Seconds between two attempts to listen again after the database went away (doubling).
_FIRST_RETRY = 0.25
_LAST_RETRY = 5.0
# Seconds the listening thread waits in the driver before it checks whether it should stop
# (a wait on its own socket: nothing is sent to the server).
_STOP_CHECK = 1.0
# TCP keepalives on the listening connection: a peer that vanished without closing the
# connection is noticed within about a minute, without a query.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def notify(conn: Connection) -> None:
    """Wake every listening follower of the catalog ``conn`` is on (PostgreSQL; call after the
    commit, on the same connection: the notification goes out with a commit of its own)."""
    conn.exec_driver_sql(f"SELECT pg_notify({CHANNEL_SQL}, '')")
    conn.commit()


class ChangeSignal:
    """A count of wake-ups: commits of this process's store, and of every other process while
    :attr:`listening` (see the module docstring).

    Safe to share between threads. A forked child starts with no listener (the thread did not
    survive the fork); its first :meth:`start` starts one.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        _SIGNALS.add(self)
        self._wakeups = 0
        self._own_commits = 0
        self._listening = False
        # Bound methods called in the listening thread after each notification (weakly held).
        self._on_notification: list[weakref.WeakMethod[Callable[[], None]]] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pid = os.getpid()
        self._closed = False
        # SQLite: a private connection asked for PRAGMA data_version (see file_version).
        url = engine.url
        uri = str(url.query.get("uri", "")).lower() in ("true", "1")
        self._file = sqlite_path(url) if engine.dialect.name == "sqlite" and not uri else None
        self._probe: sqlite3.Connection | None = None
        self._probe_pid = 0
        self._inherited: list[sqlite3.Connection] = []  # kept open, unused, after a fork

    def __repr__(self) -> str:
        return f"ChangeSignal(listening={self.listening}, wakeups={self.wakeups})"

    @property
    def wakeups(self) -> int:
        """How many wake-ups there have been (a new value means: look again)."""
        return self._wakeups

    @property
    def own_commits(self) -> int:
        """How many of the wake-ups were this store's own commits (:meth:`after_commit`)."""
        return self._own_commits

    def on_notification(self, method: Callable[[], None]) -> None:
        """Call the bound ``method`` in the listening thread after each notification of another
        connection's commit, as long as its object lives (it is held weakly); an exception it
        raises is logged and the listening goes on."""
        self._on_notification.append(weakref.WeakMethod(method))

    @property
    def listening(self) -> bool:
        """True while no other process's commit can go unnoticed (the listener is connected and
        ``LISTEN``\\s, or asks the SQLite file); followers poll otherwise."""
        return self._listening and self._pid == os.getpid()

    @property
    def can_listen(self) -> bool:
        """True for PostgreSQL reached without a transaction pooler in front."""
        engine = self._engine
        return engine.dialect.name == "postgresql" and not behind_transaction_pooler(engine)

    def file_version(self) -> int | None:
        """On a SQLite file, a number that changes whenever any connection of any process
        commits to it (``PRAGMA data_version`` on a private connection: no read of the
        catalog's pages); None on other databases, or when it cannot be asked."""
        if self._file is None or self._closed:
            return None
        with self._lock:
            try:
                if self._probe is None or self._probe_pid != os.getpid():
                    if self._probe is not None:  # a forked child: never close the parent's
                        self._inherited.append(self._probe)
                    self._probe = sqlite3.connect(
                        self._file, check_same_thread=False, isolation_level=None
                    )
                    self._probe_pid = os.getpid()
                row = self._probe.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                self._probe = None
                return None
        return int(row[0]) if row else None

    def wake(self) -> None:
        """Count one wake-up (a commit of this store, or a notification)."""
        with self._lock:
            self._wakeups += 1

    def after_commit(self, conn: Connection) -> None:
        """Wake the followers of a change ``conn`` just committed: this store's at once, other
        processes' by :func:`notify` on PostgreSQL (a failure there is logged: the data is
        committed, only the wake-up is lost)."""
        with self._lock:
            self._own_commits += 1
            self._wakeups += 1
        if conn.dialect.name != "postgresql":
            return
        try:
            notify(conn)
        except SQLAlchemyError as exc:
            logger.warning(
                "a change was saved but other processes were not woken (%s); they see it at"
                " their next wake-up",
                database_cause(exc, self._engine.url),
            )

    def start(self) -> None:
        """Start listening, when the database can be listened to and nobody does yet (cheap to
        call on every look)."""
        if self._thread is not None and self._pid == os.getpid():
            return
        if self._closed or not (self.can_listen or self._file is not None):
            return
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's thread is not here
                self._pid, self._thread, self._listening = os.getpid(), None, False
                self._stop = threading.Event()
            if self._thread is not None:
                return
            if self.can_listen:
                target: Callable[..., None] = self._listen
                args: tuple[object, ...] = (self._stop,)
            else:  # a SQLite file: the thread holds this signal weakly (see _watch_file)
                target, args = _watch_file, (weakref.ref(self), self._stop)
            self._thread = threading.Thread(
                target=target, args=args, name="ps-change-listener", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop listening for good (the thread closes its connection within a second)."""
        self._closed = True
        self._stop.set()
        with self._lock:
            self._listening = False
            self._thread = None
            if self._probe is not None and self._probe_pid == os.getpid():
                self._probe.close()
            self._probe = None

    # -- the listening thread ------------------------------------------------------------------

    def _listen(self, stop: threading.Event) -> None:
        delay = _FIRST_RETRY
        warned = False
        while not stop.is_set():
            try:
                conn = self._connect()
            except Exception as exc:  # noqa: BLE001 - any failure to connect: poll, retry
                if not warned:
                    logger.warning(
                        "cannot listen for catalog changes (%s); following by polling until"
                        " the database answers again",
                        database_cause(exc, self._engine.url),
                    )
                    warned = True
                stop.wait(delay)
                delay = min(delay * 2, _LAST_RETRY)
                continue
            try:
                channel = conn.execute(f"SELECT {CHANNEL_SQL}").fetchone()[0]
                conn.execute(f'LISTEN "{channel}"')
                self._set_listening(True)
                if warned:
                    logger.info("listening for catalog changes again")
                    warned = False
                delay = _FIRST_RETRY
                while not stop.is_set():
                    for _notification in conn.notifies(timeout=_STOP_CHECK):
                        self.wake()
                        self._notified()
            except Exception as exc:  # noqa: BLE001 - the connection broke: poll, reconnect
                if not stop.is_set() and not warned:
                    logger.warning(
                        "lost the catalog database while listening for changes (%s);"
                        " following by polling until it answers again",
                        database_cause(exc, self._engine.url),
                    )
                    warned = True
            finally:
                self._set_listening(False)
                try:
                    conn.close()
                except Exception:  # noqa: BLE001, S110 - closing a broken connection
                    pass
            stop.wait(delay)  # not in a tight loop if each new connection breaks at once
            delay = min(delay * 2, _LAST_RETRY)

    def after_fork(self) -> None:
        """In a forked child: a lock the parent's listening thread held at the fork is not
        held by anyone here (called for every signal by the fork hook below)."""
        self._lock = threading.Lock()

    def file_changed(self, seen: int | None) -> int | None:
        """One look of the file watcher: the file's data version now, counting a commit since
        ``seen`` as a notification; not listening while the file cannot be asked."""
        version = self.file_version()
        if version is None or seen is None:
            if (version is not None) != self._listening:
                self._set_listening(version is not None)  # lost, or back: look once
        elif version != seen:
            self.wake()
            self._notified()
        return version

    def stop_listening(self) -> None:
        """Say that nobody listens any more (the listening thread ends)."""
        self._set_listening(False)

    def _notified(self) -> None:
        for ref in list(self._on_notification):
            method = ref()
            if method is None:
                self._on_notification.remove(ref)
                continue
            try:
                method()
            except Exception as exc:  # noqa: BLE001 - a reader's failure never stops listening
                logger.debug("a reader could not take in a notification: %s", exc)

    def _set_listening(self, listening: bool) -> None:
        with self._lock:
            self._listening = listening
            self._wakeups += 1  # a change of state: look once (what happened meanwhile)

    def _connect(self) -> Any:
        import psycopg

        engine = self._engine
        args, params = engine.dialect.create_connect_args(engine.url)
        params.pop("context", None)
        for name, value in _KEEPALIVES.items():
            params.setdefault(name, value)
        return psycopg.connect(*args, **params, autocommit=True)


# Every signal of this process, for the fork hook (held weakly: a closed store's signal goes).
_SIGNALS: weakref.WeakSet[ChangeSignal] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for signal in list(_SIGNALS):
        signal.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _watch_file(signal_ref: weakref.ref[ChangeSignal], stop: threading.Event) -> None:
    """The SQLite listening thread: holds its signal weakly, so a store dropped without being
    closed takes its thread with it at the next look."""
    seen: int | None = None
    first = True
    while first or not stop.wait(FILE_WATCH_INTERVAL):
        signal = signal_ref()
        if signal is None:
            return
        seen = signal.file_changed(None if first else seen)
        first = False
        del signal
    signal = signal_ref()
    if signal is not None:
        signal.stop_listening()
