"""Reading the change feed: stored events, newest first, as :class:`ChangeEvent` values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, and_, func, select
from sqlmodel import Session

from provider_store.catalog.states import EventType
from provider_store.catalog.tables import Event
from provider_store.history.change_event import ChangeEvent
from provider_store.rules import DEFAULT_CHANGES_LIMIT

__all__ = ["read_changes"]

_EVENT = cast(Table, getattr(Event, "__table__"))  # noqa: B009 - untyped in SQLModel


def read_changes(
    session: Session,
    *,
    since: float | None = None,
    provider: str | None = None,
    model: str | None = None,
    types: Iterable[EventType | str] | None = None,
    limit: int | None = DEFAULT_CHANGES_LIMIT,
) -> list[ChangeEvent]:
    """Events observed at or after ``since`` (epoch seconds), newest first.

    ``provider`` and ``model`` match ignoring case; ``types`` keeps only those event types;
    ``limit`` caps the answer (None: no cap). ValueError names an unknown type.
    """
    e = _EVENT.c
    conditions: list[Any] = []
    if since is not None:
        conditions.append(e.observed_at >= since)
    if provider is not None:
        conditions.append(func.lower(e.provider_key) == provider.lower())
    if model is not None:
        conditions.append(func.lower(e.model_id) == model.lower())
    if types is not None:
        conditions.append(e.type.in_([EventType(t).value for t in types]))
    query = select(
        e.id,
        e.provider_key,
        e.model_id,
        e.type,
        e.observed_at,
        e.field,
        e.old_value,
        e.new_value,
        e.reason,
        e.refresh_id,
    ).order_by(e.observed_at.desc(), e.id.desc())
    if conditions:
        query = query.where(and_(*conditions))
    if limit is not None:
        query = query.limit(limit)
    return [
        ChangeEvent(
            id=row[0],
            provider=row[1],
            model=row[2],
            type=EventType(row[3]),
            observed_at=row[4],
            field=row[5],
            old=row[6],
            new=row[7],
            reason=row[8],
            refresh_id=row[9],
        )
        for row in session.execute(query)
    ]
