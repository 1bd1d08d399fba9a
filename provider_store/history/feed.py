"""Reading the change feed: stored events, newest first, as :class:`ChangeEvent` values.

The order is the database's own: events are numbered as they are written (the ``event.id``
sequence), and the newest is the one written last, whatever the clock said when it was written.
A clock that steps back gives new events earlier times than old ones; they still come first, and
a ``since`` window is the events from the first one written at or after ``since`` on (so an
event written after that one is in the window even when its time reads earlier).
"""

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
    after: int | None = None,
    provider: str | None = None,
    model: str | None = None,
    types: Iterable[EventType | str] | None = None,
    limit: int | None = DEFAULT_CHANGES_LIMIT,
) -> list[ChangeEvent]:
    """Events from the first one observed at or after ``since`` (epoch seconds) on, newest
    (last written) first; with ``after`` (an event's ``id``: a cursor), the events written
    after that one, oldest first, so that a reader pages forward with the last id it got.

    ``provider`` and ``model`` match ignoring case; ``types`` keeps only those event types;
    ``limit`` caps the answer (None: no cap). ValueError names an unknown type.
    """
    e = _EVENT.c
    conditions: list[Any] = []
    if since is not None:
        first = select(func.min(e.id)).where(e.observed_at >= since).scalar_subquery()
        conditions.append(e.id >= first)
    if after is not None:
        conditions.append(e.id > after)
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
    ).order_by(e.id.desc() if after is None else e.id.asc())
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
