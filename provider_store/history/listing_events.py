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
- ``missing``: a model discovery had seen, absent from this listing; ``new`` is how many
  complete listings in a row lacked it. A missing model stays in the catalog and resolves.
- ``removed``: a missing model absent from ``removal_confirmations`` complete listings in a row
  *and* missing for at least ``removal_min_age_seconds``. It leaves ``valid_models`` /
  ``invalid_models`` (status ``unverified``; alias and verdict are kept); ``old`` is the
  status it had.
- ``reappeared``: a missing or removed model listed again; a removed model gets back the
  curated status it had (unless it was curated again meanwhile). ``old`` is ``missing`` or
  ``removed``, ``new`` the status it has now.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, select, update
from sqlmodel import Session

from provider_store.catalog.cache_rows import KnownRows, lock_provider, provider_id_of
from provider_store.catalog.change_marker import note_write
from provider_store.catalog.metadata_columns import METADATA_COLUMNS, info_row
from provider_store.catalog.states import EventType, ModelStatus
from provider_store.catalog.tables import Event, Model, Provider
from provider_store.history.retention import maybe_prune
from provider_store.model_info import METADATA_FIELDS, PRICE_FIELDS, ModelInfo
from provider_store.rules import MAX_TEXT_LENGTH

__all__ = ["ListingChanges", "compared_fields", "record_listing"]

_MODEL = cast(Table, getattr(Model, "__table__"))  # noqa: B009 - untyped in SQLModel
_PROVIDER = cast(Table, getattr(Provider, "__table__"))  # noqa: B009
EVENT_TABLE = cast(Table, getattr(Event, "__table__"))  # noqa: B009
_CURATED = (ModelStatus.VALID.value, ModelStatus.INVALID.value)
_UNVERIFIED = ModelStatus.UNVERIFIED.value
_CHUNK = 500
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


class _Row(NamedTuple):
    row_id: int
    status: str
    first_seen_at: float | None
    missing_count: int | None
    missing_since: float | None
    removed_at: float | None


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
    before: dict[str, _Row] = {}
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
            *[m[name] for name in stored_names],
        ).where(m.provider_id == provider_id)
    ):
        before[found[0]] = _Row(*found[1:7])
        stored_values[found[0]] = tuple(found[7:])
    p = _PROVIDER.c
    confirmations, min_age = session.execute(
        select(p.removal_confirmations, p.removal_min_age_seconds).where(p.id == provider_id)
    ).one()
    changes = ListingChanges(refresh_id or uuid.uuid4().hex, provider_id=provider_id)
    listed: dict[str, tuple[Any, ...]] = {}
    for info in infos:
        if 0 < len(info.id) <= MAX_TEXT_LENGTH:
            listed[info.id] = info_row(info)
    updates: list[dict[str, Any]] = []
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
    if reappearing:
        restore = _status_before_removal(session, provider_key, reappearing)
        for model_id in reappearing:
            row = before[model_id]
            status = row.status
            if row.removed_at is not None and status == _UNVERIFIED:
                status = restore.get(model_id, status)
            updates.append(_state(row.row_id, status, 0, None, None))
            event(
                model_id,
                EventType.REAPPEARED,
                old="removed" if row.removed_at is not None else "missing",
                new=status,
            )
            changes.reappeared += 1
    for model_id, row in before.items():
        if model_id in listed or row.first_seen_at is None or row.removed_at is not None:
            continue
        count = (row.missing_count or 0) + 1
        since = row.missing_since if row.missing_since is not None else at
        if count >= confirmations and at - since >= min_age:
            updates.append(_state(row.row_id, _UNVERIFIED, count, since, at))
            event(model_id, EventType.REMOVED, old=row.status, new=count)
            changes.removed += 1
        else:
            updates.append(_state(row.row_id, row.status, count, since, None))
            event(model_id, EventType.MISSING, new=count)
            changes.missing += 1
    if updates:
        updates.sort(key=lambda u: int(u["b_id"]))  # one lock order for every writer
        session.execute(
            update(_MODEL)
            .where(m.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                missing_count=bindparam("b_count"),
                missing_since=bindparam("b_since"),
                removed_at=bindparam("b_removed"),
            ),
            updates,
        )
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


def _state(
    row_id: int, status: str, count: int, since: float | None, removed: float | None
) -> dict[str, Any]:
    return {
        "b_id": row_id,
        "b_status": status,
        "b_count": count,
        "b_since": since,
        "b_removed": removed,
    }


def _status_before_removal(
    session: Session, provider_key: str, model_ids: Iterable[str]
) -> dict[str, str]:
    """The curated status each model had when it was last removed (valid or invalid only)."""
    e = EVENT_TABLE.c
    found: dict[str, str] = {}
    ids = list(model_ids)
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(e.model_id, e.old_value)
            .where(
                and_(
                    e.provider_key == provider_key,
                    e.type == EventType.REMOVED.value,
                    e.model_id.in_(ids[start : start + _CHUNK]),
                )
            )
            .order_by(e.id)
        )
        for model_id, old in rows:
            if old in _CURATED:
                found[model_id] = old
            else:
                found.pop(model_id, None)
    return found
