"""Refresh leases: at most one process refreshes a provider's discovery cache at a time.

A lease is two columns on the provider row, ``lease_holder`` and ``lease_expires_at``. Taking it is
one conditional UPDATE, atomic on SQLite (the write lock) and PostgreSQL (the row lock): it
succeeds only when nobody holds the lease, the holder's claim has expired (a crashed holder
blocks nobody for longer than the lease's duration), or the caller already holds it.
"""

from __future__ import annotations

import os
import socket
import uuid

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from provider_store.catalog.change_marker import NOT_A_CHANGE
from provider_store.catalog.light_tables import PROVIDER as PROVIDER_TABLE
from provider_store.catalog.states import utc_now
from provider_store.catalog.tables import Provider

DEFAULT_LEASE_SECONDS = 30.0


def new_holder_id() -> str:
    """A holder name unique to this process and call: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def try_acquire(
    session: Session,
    provider_key: str,
    holder: str,
    *,
    seconds: float = DEFAULT_LEASE_SECONDS,
    now: float | None = None,
    landed: tuple[float | None, float | None] | None = None,
) -> bool:
    """Take (or extend) the refresh lease of ``provider_key``; True when ``holder`` has it.

    ``landed``, when given, is ``(models_fetched_at, last_error_at)`` as the caller read them:
    the lease is then taken only if no list or failure landed since. (On PostgreSQL a read and
    the UPDATE after it see different commits: a refresh that another holder saved, giving
    its lease back, between the two would otherwise be fetched again.)
    """
    at = utc_now() if now is None else now
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


def release(session: Session, provider_key: str, holder: str) -> bool:
    """Give the lease back; a no-op (False) when ``holder`` no longer holds it."""
    result = session.execute(
        update(Provider)
        .where(col(Provider.key) == provider_key)
        .where(col(Provider.lease_holder) == holder)
        .values(lease_holder=None, lease_expires_at=None)
        .execution_options(synchronize_session=False, **{NOT_A_CHANGE: True})
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def current_holder(session: Session, provider_key: str, *, now: float | None = None) -> str | None:
    """Who holds an unexpired lease on ``provider_key``, if anyone."""
    at = utc_now() if now is None else now
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
    session: Session, provider_key: str, *, now: float | None = None
) -> tuple[str | None, tuple[float | None, float | None]]:
    """A cheap poll: who holds an unexpired lease, and when a list or an error last landed.

    Reads four small columns, never the cached list: a waiting process calls this every few
    milliseconds and reads the list once, when ``(fetched_at, last_error_at)`` changes.
    """
    at = utc_now() if now is None else now
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
