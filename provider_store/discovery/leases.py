"""Refresh leases: at most one process refreshes a provider's discovery cache at a time.

A lease is two columns on the provider row, ``lease_holder`` and ``lease_expires_at``. Taking it is
one conditional UPDATE, atomic on SQLite (the write lock) and PostgreSQL (the row lock): it
succeeds only when nobody holds the lease, the holder's claim has expired, or the caller already
holds it.

**Heartbeat.** A lease is short (:data:`LEASE_SECONDS`) and its live holder renews it while it
works: :func:`keep_alive` hands the lease to this process's :class:`LeaseRenewer`, which pushes
its expiry :data:`LEASE_SECONDS` ahead every :data:`HEARTBEAT_SECONDS`, in one short write
transaction per store, until :func:`release` gives the lease back. A holder that died (killed,
crashed, its host gone) renews nothing, so its lease lapses at most :data:`LEASE_SECONDS` after
its last heartbeat, however long the refresh it was running could have taken.

**Time.** Every function takes the time as ``now`` (UTC epoch seconds) or reads it from a
``clock`` (default :func:`~provider_store.catalog.states.utc_now`); a renewer takes a clock too,
so tests advance time instead of sleeping.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from provider_store.catalog.change_marker import NOT_A_CHANGE
from provider_store.catalog.light_tables import PROVIDER as PROVIDER_TABLE
from provider_store.catalog.states import utc_now
from provider_store.catalog.tables import Provider
from provider_store.errors import ProviderStoreError

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore

logger = logging.getLogger(__name__)

Clock = Callable[[], float]

# A lease lapses this long after it was taken or last renewed: how long a dead holder blocks
# others.
LEASE_SECONDS = 10.0
# A live holder renews its leases this often (five chances before one lapses).
HEARTBEAT_SECONDS = 2.0

__all__ = [
    "HEARTBEAT_SECONDS",
    "LEASE_SECONDS",
    "Clock",
    "LeaseRenewer",
    "current_holder",
    "keep_alive",
    "landing_marks",
    "new_holder_id",
    "release",
    "renew",
    "renewer",
    "try_acquire",
]


def new_holder_id() -> str:
    """A holder name unique to this process and call: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def try_acquire(
    session: Session,
    provider_key: str,
    holder: str,
    *,
    seconds: float = LEASE_SECONDS,
    now: float | None = None,
    clock: Clock = utc_now,
    landed: tuple[float | None, float | None] | None = None,
) -> bool:
    """Take (or extend) the refresh lease of ``provider_key``; True when ``holder`` has it.

    The lease runs ``seconds`` from ``now`` (default: ``clock()``); hand it to
    :func:`keep_alive` to hold it for longer. ``landed``, when given, is
    ``(models_fetched_at, last_error_at)`` as the caller read them: the lease is then taken only
    if no list or failure landed since. (On PostgreSQL a read and the UPDATE after it see
    different commits: a refresh that another holder saved, giving its lease back, between the
    two would otherwise be fetched again.)
    """
    at = clock() if now is None else now
    query = (
        update(Provider)
        .where(col(Provider.key) == provider_key)
        .where(
            or_(
                col(Provider.lease_holder).is_(None),
                col(Provider.lease_expires_at).is_(None),
                col(Provider.lease_expires_at) <= at,
                col(Provider.lease_holder) == holder,
            )
        )
    )
    if landed is not None:
        fetched_at, error_at = landed
        query = query.where(
            col(Provider.models_fetched_at).is_not_distinct_from(fetched_at),
            col(Provider.last_error_at).is_not_distinct_from(error_at),
        )
    result = session.execute(
        query.values(lease_holder=holder, lease_expires_at=at + seconds).execution_options(
            synchronize_session=False, **{NOT_A_CHANGE: True}
        )
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def renew(
    session: Session,
    provider_key: str,
    holder: str,
    *,
    seconds: float = LEASE_SECONDS,
    now: float | None = None,
    clock: Clock = utc_now,
) -> bool:
    """Push ``holder``'s lease on ``provider_key`` to ``seconds`` from now; False (nothing
    written) when ``holder`` no longer holds it (it lapsed and was taken, or was released)."""
    at = clock() if now is None else now
    result = session.execute(
        update(Provider)
        .where(and_(col(Provider.key) == provider_key, col(Provider.lease_holder) == holder))
        .values(lease_expires_at=at + seconds)
        .execution_options(synchronize_session=False, **{NOT_A_CHANGE: True})
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release(session: Session, provider_key: str, holder: str) -> bool:
    """Give the lease back (and stop renewing it); a no-op (False) when ``holder`` no longer
    holds it."""
    renewer().forget(holder)
    result = session.execute(
        update(Provider)
        .where(col(Provider.key) == provider_key)
        .where(col(Provider.lease_holder) == holder)
        .values(lease_holder=None, lease_expires_at=None)
        .execution_options(synchronize_session=False, **{NOT_A_CHANGE: True})
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def current_holder(
    session: Session, provider_key: str, *, now: float | None = None, clock: Clock = utc_now
) -> str | None:
    """Who holds an unexpired lease on ``provider_key``, if anyone."""
    at = clock() if now is None else now
    row = session.exec(
        select(Provider.lease_holder, Provider.lease_expires_at).where(Provider.key == provider_key)
    ).first()
    if row is None:
        return None
    holder, expires_at = row
    if holder is None or expires_at is None or expires_at <= at:
        return None
    return holder


def landing_marks(
    session: Session, provider_key: str, *, now: float | None = None, clock: Clock = utc_now
) -> tuple[str | None, tuple[float | None, float | None]]:
    """A cheap poll: who holds an unexpired lease, and when a list or an error last landed.

    Reads four small columns, never the cached list: a waiting process calls this every few
    milliseconds and reads the list once, when ``(fetched_at, last_error_at)`` changes.
    """
    at = clock() if now is None else now
    p = PROVIDER_TABLE.c  # Core columns: no ORM entity work on a path polled this often
    row = session.execute(
        select(p.lease_holder, p.lease_expires_at, p.models_fetched_at, p.last_error_at).where(
            p.key == provider_key
        )
    ).first()
    if row is None:
        return None, (None, None)
    holder, expires_at, fetched_at, error_at = row
    if holder is None or expires_at is None or expires_at <= at:
        holder = None
    return holder, (fetched_at, error_at)


# -- the heartbeat --------------------------------------------------------------------------------


@dataclass
class _Held:
    store: CatalogStore
    provider_key: str
    seconds: float
    renewed_at: float  # when the lease last ran ``seconds`` ahead (taken or renewed)


class LeaseRenewer:
    """Renews the leases handed to it (:meth:`hold`) until they are forgotten (:meth:`forget`,
    which :func:`release` calls).

    :meth:`beat` renews every held lease once, at ``clock()``; :meth:`hold` starts a daemon
    thread that beats every ``interval`` seconds while any lease is held (it ends when none is).
    A lease found taken by another holder (it lapsed: this process was stalled longer than the
    lease), or one that could not be renewed for longer than it runs, is forgotten and logged.
    """

    def __init__(self, *, clock: Clock = utc_now, interval: float = HEARTBEAT_SECONDS) -> None:
        self.clock = clock
        self.interval = interval
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def hold(
        self,
        store: CatalogStore,
        provider_key: str,
        holder: str,
        *,
        seconds: float = LEASE_SECONDS,
        start: bool = True,
    ) -> None:
        """Renew ``holder``'s lease on ``provider_key`` from now on; ``start=False`` leaves the
        beating to the caller (:meth:`beat`)."""
        with self._lock:
            self._held[holder] = _Held(store, provider_key, seconds, self.clock())
            if start and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(
                    target=self._run, name="ps-lease-heartbeat", daemon=True
                )
                self._thread.start()

    def forget(self, holder: str) -> None:
        """Stop renewing ``holder``'s lease (a no-op when it is not held here)."""
        with self._lock:
            if self._held.pop(holder, None) is not None and not self._held:
                self._wake.notify_all()

    def held(self) -> dict[str, str]:
        """Holder -> provider key of every lease renewed here."""
        with self._lock:
            return {holder: entry.provider_key for holder, entry in self._held.items()}

    def beat(self) -> int:
        """Renew every held lease once, one transaction per store; how many were renewed."""
        with self._lock:
            held = dict(self._held)
        by_store: dict[int, list[tuple[str, _Held]]] = {}
        for holder, entry in held.items():
            by_store.setdefault(id(entry.store), []).append((holder, entry))
        renewed = 0
        for entries in by_store.values():
            store = entries[0][1].store
            lost: list[str] = []
            try:
                with store.transaction() as session:
                    now = self.clock()
                    for holder, entry in entries:
                        if renew(
                            session, entry.provider_key, holder, seconds=entry.seconds, now=now
                        ):
                            renewed += 1
                        else:
                            lost.append(holder)
            except ProviderStoreError as exc:
                logger.warning("could not renew %d refresh lease(s): %s", len(entries), exc)
                now = self.clock()
                lost = [h for h, entry in entries if now - entry.renewed_at > entry.seconds]
            else:
                for holder, entry in entries:
                    if holder not in lost:
                        entry.renewed_at = now
            for holder in lost:
                with self._lock:
                    gone = self._held.pop(holder, None)
                if gone is not None:
                    logger.warning(
                        "the refresh lease of %s lapsed before it was renewed", gone.provider_key
                    )
        return renewed

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                self._wake.wait(self.interval)
                if not self._held:
                    self._thread = None
                    return
            self.beat()

    def reset(self) -> None:
        """Forget every lease and the thread (a forked child holds none of its parent's)."""
        self._held = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread = None


_RENEWER = LeaseRenewer()


def renewer() -> LeaseRenewer:
    """This process's lease renewer."""
    return _RENEWER


def keep_alive(
    store: CatalogStore, provider_key: str, holder: str, *, seconds: float = LEASE_SECONDS
) -> None:
    """Renew ``holder``'s lease on ``provider_key`` every :data:`HEARTBEAT_SECONDS` until
    :func:`release` gives it back (see the module docstring)."""
    _RENEWER.hold(store, provider_key, holder, seconds=seconds)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_RENEWER.reset)
