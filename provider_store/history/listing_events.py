"""The change events of one complete listing, computed and written inside its transaction.

:func:`record_listing` is called by the listing write (``discovery.save_listing``) with its
session, *before* the catalog columns are rewritten and after the provider row is locked, so the
difference is taken from what the catalog holds inside that transaction, never from a snapshot
read before the network call. Only complete, successful listings get here: a failed, partial,
capped or suspicious empty listing is recorded as a failure and produces no event.

Rules:

- ``added``: a listed model discovery had never seen (no row, or a row never sighted). Its
  ``new`` value is the model's metadata as stored after the listing (non-empty fields).
- ``changed``: a listed field (see :func:`compared_fields`) whose value differs from the stored
  one; a field the list omits is no change (the stored value is kept, as the write keeps it).
- ``missing``, ``removed``, ``reappeared``: a seen model a listing lacks, one lacked long
  enough, one listed again; the rule is :mod:`provider_store.history.removal_rule`. ``missing``'s
  ``new`` is how many complete listings in a row lacked it; ``removed``'s ``old`` the status it
  had; ``reappeared``'s ``old`` is ``missing`` or ``removed``, ``new`` the status it has now.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, select
from sqlmodel import Session

from provider_store.catalog.cache_rows import KnownRows, lock_provider, provider_id_of
from provider_store.catalog.change_marker import note_write
from provider_store.catalog.metadata_columns import METADATA_COLUMNS, info_row
from provider_store.catalog.states import EventType
from provider_store.catalog.tables import Event, Model, Provider
from provider_store.history.removal_rule import (
    RemovalPolicy,
    StoredRow,
    absent,
    apply,
    reappeared,
    status_before_removal,
)
from provider_store.history.retention import maybe_prune
from provider_store.model_info import METADATA_FIELDS, PRICE_FIELDS, ModelInfo
from provider_store.rules import MAX_TEXT_LENGTH

__all__ = ["ListingChanges", "compared_fields", "record_listing"]

_MODEL = cast(Table, getattr(Model, "__table__"))  # noqa: B009 - untyped in SQLModel
_PROVIDER = cast(Table, getattr(Provider, "__table__"))  # noqa: B009
EVENT_TABLE = cast(Table, getattr(Event, "__table__"))  # noqa: B009
_EVENT_COLUMNS = (
    "provider_key",
    "model_id",
    "type",
    "field",
    "old_value",
    "new_value",
    "reason",
    "observed_at",
    "refresh_id",
)


@lru_cache(maxsize=1)
def compared_fields() -> tuple[str, ...]:
    """The metadata fields a ``changed`` event compares: every field of the one description,
    :data:`provider_store.model_info.METADATA_FIELDS`; the stored value of each is
    ``info_values(info)[name]``."""
    return tuple(f.name for f in METADATA_FIELDS)


@dataclass
class ListingChanges:
    """What one listing changed: the events written, counted by kind, and the refresh id."""

    refresh_id: str
    added: int = 0
    missing: int = 0
    removed: int = 0
    reappeared: int = 0
    changed: int = 0
    price_changes: int = 0
    provider_id: int = 0
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # Metadata rows to write on existing model rows (metadata_columns.update_metadata): the
    # stored values merged with the listed ones, only where they differ.
    metadata_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # What the listing read under the provider's lock, for the cache write (cache_rows):
    # the model rows that exist, and the metadata of the new ones, inserted with them.
    known: KnownRows | None = field(default=None, repr=False)


def record_listing(
    session: Session,
    provider_key: str,
    infos: Sequence[ModelInfo],
    at: float,
    *,
    refresh_id: str | None = None,
) -> ListingChanges:
    """Write the events and absence state of a complete listing of ``infos`` seen at ``at``.

    Call it in the listing's write transaction before the cache and metadata columns are
    rewritten. Takes the provider row lock first (as every model-row writer does).
    NotFoundError when the provider is gone.
    """
    provider_id = provider_id_of(session, provider_key)
    lock_provider(session, provider_id)
    names = compared_fields()
    stored_names = METADATA_COLUMNS  # every compared field is a metadata column
    m = _MODEL.c
    before: dict[str, StoredRow] = {}
    stored_values: dict[str, tuple[Any, ...]] = {}
    for found in session.execute(
        select(
            m.model_id,
            m.id,
            m.status,
            m.first_seen_at,
            m.missing_count,
            m.missing_since,
            m.removed_at,
            m.last_seen_at,
            *[m[name] for name in stored_names],
        ).where(m.provider_id == provider_id)
    ):
        before[found[0]] = StoredRow(*found[1:8])
        stored_values[found[0]] = tuple(found[8:])
    p = _PROVIDER.c
    confirmations, min_age, listed_at = session.execute(
        select(p.removal_confirmations, p.removal_min_age_seconds, p.models_fetched_at).where(
            p.id == provider_id
        )
    ).one()
    changes = ListingChanges(refresh_id or uuid.uuid4().hex, provider_id=provider_id)
    listed: dict[str, tuple[Any, ...]] = {}
    for info in infos:
        if 0 < len(info.id) <= MAX_TEXT_LENGTH:
            listed[info.id] = info_row(info)
    reappearing: list[str] = []
    new_values: dict[str, tuple[Any, ...]] = {}

    def event(model_id: str, kind: EventType, **values: Any) -> None:
        changes.events.append(
            {
                "provider_key": provider_key,
                "model_id": model_id,
                "type": kind.value,
                "field": values.get("field"),
                "old_value": values.get("old"),
                "new_value": values.get("new"),
                "reason": values.get("reason"),
                "observed_at": at,
                "refresh_id": changes.refresh_id,
            }
        )

    compared = frozenset(names)
    for model_id, values in listed.items():
        row = before.get(model_id)
        if row is None:  # no row yet: inserted with what the list says (cache_rows.KnownRows)
            new_values[model_id] = values
            added = zip(stored_names, values, strict=True)
            event(model_id, EventType.ADDED, new={k: v for k, v in added if v is not None})
            changes.added += 1
            continue
        stored_row = stored_values[model_id]
        if values == stored_row and row.first_seen_at is not None:
            if row.missing_count or row.removed_at is not None:
                reappearing.append(model_id)
            continue  # listed as stored: no change (most models of most listings)
        stored = dict(zip(stored_names, stored_row, strict=True))
        # The listed fields that differ from the stored ones (an omitted field is no change).
        diff = [
            (name, new)
            for name, new in zip(stored_names, values, strict=True)
            if new is not None and new != stored[name]
        ]
        if diff:
            merged = {name: stored[name] for name in METADATA_COLUMNS}
            merged.update(diff)
            changes.metadata_rows.append({"b_model": model_id, **merged})
        if row.first_seen_at is None:
            after = {name: stored[name] for name in names}
            after.update((name, new) for name, new in diff if name in compared)
            event(model_id, EventType.ADDED, new={k: v for k, v in after.items() if v is not None})
            changes.added += 1
            continue
        if row.missing_count or row.removed_at is not None:
            reappearing.append(model_id)
        for name, new in diff:
            if name in compared:
                event(model_id, EventType.CHANGED, field=name, old=stored[name], new=new)
                changes.changed += 1
                changes.price_changes += name in PRICE_FIELDS
    changes.known = KnownRows(provider_id, frozenset(before), stored_names, new_values)
    restore = status_before_removal(session, provider_key, reappearing) if reappearing else {}
    policy = RemovalPolicy(confirmations, min_age, listed_at)
    transitions = reappeared(before, reappearing, restore, at) + absent(before, listed, at, policy)
    for t in transitions:
        event(t.model_id, t.kind, old=t.old, new=t.new)
    changes.reappeared = sum(t.kind is EventType.REAPPEARED for t in transitions)
    changes.removed = sum(t.kind is EventType.REMOVED for t in transitions)
    changes.missing = sum(t.kind is EventType.MISSING for t in transitions)
    apply(session, transitions)
    write_events(session, changes.events)
    maybe_prune(session, at)
    return changes


def write_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Append event rows (mappings of the event columns) in one executemany.

    At the driver level: a first listing writes an event per model (20,000 and more), and
    SQLAlchemy's per-row parameter processing cost a third of their time. The JSON columns are
    encoded as the JSON type encodes them (``json.dumps``; None is JSON ``null``).
    """
    if not events:
        return
    conn = session.connection()
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(EVENT_TABLE.name)} ({', '.join(quote(c) for c in _EVENT_COLUMNS)})"
        f" VALUES ({', '.join([marker] * len(_EVENT_COLUMNS))})"
    )
    dumps = json.dumps
    rows = [
        (
            e["provider_key"],
            e["model_id"],
            e["type"],
            e["field"],
            dumps(e["old_value"]),
            dumps(e["new_value"]),
            e["reason"],
            e["observed_at"],
            e["refresh_id"],
        )
        for e in events
    ]
    conn.exec_driver_sql(sql, rows)
    note_write(conn)
