"""Retention: events, observations and ping rollup rows older than the catalog's setting go.

The setting (``history.retention_days`` in ``catalog_meta``, default 90) is catalog-wide. History
is pruned by whole UTC days: the cut-off is the UTC midnight at or before ``now - days``, so an
event or ping is kept at least ``days`` days, and the ping rollup's quarter-day and day rows
before the cut-off go with the observations they sum (every rollup bucket lies wholly on one
side of it).
Pruning is part of normal writes: a listing write prunes at most once per
:data:`PRUNE_INTERVAL` seconds (the time of the last prune is kept in ``catalog_meta``), and each
prune deletes at most :data:`PRUNE_BATCH` rows per table, so a write never pays for a backlog.
:func:`prune` (``provider-store db prune``) deletes everything that is due, on demand.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlmodel import Session

from provider_store.catalog.tables import CatalogMeta, Event, Observation
from provider_store.history.ping_rollup import prune_rollup
from provider_store.rules.limits import (
    DAY_SECONDS,
    DEFAULT_RETENTION_DAYS,
    MAX_RETENTION_DAYS,
    check_whole_number,
)

logger = logging.getLogger(__name__)

__all__ = [
    "PruneReport",
    "maybe_prune",
    "prune",
    "retention_days",
    "set_retention_days",
]

RETENTION_KEY = "history.retention_days"
PRUNED_AT_KEY = "history.pruned_at"
PRUNE_INTERVAL = 3600.0
PRUNE_BATCH = 5000

_META = cast(Table, getattr(CatalogMeta, "__table__"))  # noqa: B009 - untyped in SQLModel
_EVENT = cast(Table, getattr(Event, "__table__"))  # noqa: B009
_OBSERVATION = cast(Table, getattr(Observation, "__table__"))  # noqa: B009


@dataclass(frozen=True)
class PruneReport:
    """How many events, observations and ping rollup rows a prune deleted, and the cut-off."""

    events: int
    observations: int
    cutoff: float
    rollup_rows: int = 0


def retention_days(session: Session) -> int:
    """The catalog's retention period in days (default :data:`DEFAULT_RETENTION_DAYS`)."""
    value = _meta(session, RETENTION_KEY)
    return int(value) if isinstance(value, int | float) and value > 0 else DEFAULT_RETENTION_DAYS


def set_retention_days(session: Session, days: int) -> None:
    """Keep events and observations for ``days`` days (a whole number from 1 to
    :data:`MAX_RETENTION_DAYS`, else InvalidDocumentError)."""
    days = check_whole_number(days, field="retention_days", low=1, high=MAX_RETENTION_DAYS)
    _set_meta(session, RETENTION_KEY, days)


def maybe_prune(session: Session, now: float) -> PruneReport | None:
    """Prune one bounded batch when the last prune is older than PRUNE_INTERVAL; else nothing."""
    last = _meta(session, PRUNED_AT_KEY)
    if isinstance(last, int | float) and 0 <= now - last < PRUNE_INTERVAL:
        return None
    report = prune(session, now, limit=PRUNE_BATCH)
    if report.events or report.observations:
        logger.info(
            "pruned %d events and %d observations older than the retention period",
            report.events,
            report.observations,
        )
    return report


def prune(session: Session, now: float, *, limit: int | None = None) -> PruneReport:
    """Delete events, observations and rollup rows from before the retention cut-off (about
    ``limit`` rows each: a bounded batch may leave some of a day's rows for the next one)."""
    day = DAY_SECONDS
    cutoff = math.floor((now - retention_days(session) * day) / day) * day
    events = _delete_before(session, _EVENT, _EVENT.c.observed_at, cutoff, limit)
    observations = _delete_before(session, _OBSERVATION, _OBSERVATION.c.at, cutoff, limit)
    rollup_rows = prune_rollup(session, cutoff, limit)
    _set_meta(session, PRUNED_AT_KEY, now)
    return PruneReport(events, observations, cutoff, rollup_rows)


def _delete_before(
    session: Session, table: Table, column: Any, cutoff: float, limit: int | None
) -> int:
    if limit is None:
        stmt = delete(table).where(column < cutoff)
    else:
        ids = select(table.c.id).where(column < cutoff).limit(limit)
        stmt = delete(table).where(table.c.id.in_(ids))
    return int(getattr(session.execute(stmt), "rowcount", 0) or 0)


def _meta(session: Session, key: str) -> Any:
    return session.execute(select(_META.c.value).where(_META.c.key == key)).scalar_one_or_none()


def _set_meta(session: Session, key: str, value: Any) -> None:
    """Upsert one catalog_meta value (two writers racing on a new key both succeed)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt: Any
        if dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            stmt = sqlite.insert(_META).values(key=key, value=value)
        else:
            from sqlalchemy.dialects import postgresql

            stmt = postgresql.insert(_META).values(key=key, value=value)
        session.execute(
            stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})
        )
        return
    found = session.execute(update(_META).where(_META.c.key == key).values(value=value))
    if not getattr(found, "rowcount", 0):
        session.execute(insert(_META).values(key=key, value=value))
