"""Registry provenance rows: which registry content each origin was read from, what each
registry filled per provider, and the snapshot of a listing that a registry fill depends on.

``registry_source`` holds one row per origin (the source last read: name, version, content
hash, location, the reader's notes); ``registry_fill`` one row per provider and origin (the
fingerprint of what was attributed, when the facts were written and last confirmed, counts).
Confirming a fill (:func:`confirm_fills`) moves only ``checked_at`` and is marked as no change
(:data:`~provider_store.catalog.change_marker.NOT_A_CHANGE`): nothing a reader of the catalog
keeps moves. Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update
from sqlmodel import Session

from provider_store.catalog.change_marker import NOT_A_CHANGE
from provider_store.catalog.light_tables import MODEL, PROVIDER
from provider_store.catalog.tables import REGISTRY_FILL, REGISTRY_SOURCE
from provider_store.errors import NotFoundError
from provider_store.model_info import listed_alias_targets
from provider_store.rules import MAX_MESSAGE_LENGTH

__all__ = [
    "FillCounts",
    "FillRow",
    "ListingSnapshot",
    "SourceRow",
    "confirm_fills",
    "listing_snapshot",
    "lock_provider",
    "read_fills",
    "read_sources",
    "write_fill",
    "write_source",
]


@dataclass(frozen=True, slots=True)
class FillCounts:
    """Of a provider's models, how many one registry matched with values, matched without any
    (``known_empty``: "known, no metadata"), found ambiguous or conflicting, and did not list."""

    matched: int = 0
    known_empty: int = 0
    ambiguous: int = 0
    unmatched: int = 0


@dataclass(frozen=True, slots=True)
class FillRow:
    """A stored ``registry_fill`` row."""

    origin: str
    source: str
    fingerprint: str
    filled_at: float
    checked_at: float
    counts: FillCounts


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A stored ``registry_source`` row."""

    origin: str
    source: str
    version: str | None
    content_hash: str
    location: str
    read_at: float
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ListingSnapshot:
    """What a registry fill of one provider depends on: its base URL, its model ids and the
    aliases its list states (alias id -> target id)."""

    provider_id: int
    base_url: str
    model_ids: tuple[str, ...]
    alias_targets: Mapping[str, str]


def listing_snapshot(session: Session, provider_key: str) -> ListingSnapshot:
    """The provider's base URL, every model id it holds (curated or discovered) and the
    aliases of its cached list, in one read of each table."""
    p, m = PROVIDER.c, MODEL.c
    row = session.execute(
        select(p.id, p.base_api_url, p.models_cache).where(p.key == provider_key)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"Unknown provider: {provider_key}")
    provider_id, base_url, cache = row
    ids = session.execute(
        select(m.model_id).where(m.provider_id == provider_id).order_by(m.position, m.id)
    ).scalars()
    items = cache if isinstance(cache, list) else []
    return ListingSnapshot(
        int(provider_id), str(base_url or ""), tuple(ids), listed_alias_targets(items)
    )


def read_fills(session: Session, provider_id: int) -> dict[str, FillRow]:
    """The stored fills of a provider, by origin."""
    f = REGISTRY_FILL.c
    rows = session.execute(select(REGISTRY_FILL).where(f.provider_id == provider_id)).mappings()
    return {
        row["origin"]: FillRow(
            row["origin"],
            row["source"],
            row["fingerprint"],
            float(row["filled_at"]),
            float(row["checked_at"]),
            FillCounts(row["matched"], row["known_empty"], row["ambiguous"], row["unmatched"]),
        )
        for row in rows
    }


def write_fill(
    session: Session,
    provider_id: int,
    origin: str,
    source: str,
    fingerprint: str,
    counts: FillCounts,
    at: float,
    *,
    changed: bool,
) -> None:
    """Store what ``origin`` filled for the provider now; ``changed`` says whether its facts
    were written (``filled_at`` moves only then)."""
    row = {
        "provider_id": provider_id,
        "origin": origin,
        "source": source[:500],
        "fingerprint": fingerprint,
        "filled_at": at,
        "checked_at": at,
        "matched": counts.matched,
        "known_empty": counts.known_empty,
        "ambiguous": counts.ambiguous,
        "unmatched": counts.unmatched,
    }
    moved = {k: v for k, v in row.items() if k not in ("provider_id", "origin")}
    if not changed:
        del moved["filled_at"]
    _upsert(session, REGISTRY_FILL, row, ["provider_id", "origin"], moved)


def lock_provider(session: Session, provider_id: int) -> None:
    """Hold the provider's row until the transaction ends, so that two fills of one provider
    (two ``discover`` runs on PostgreSQL) take turns; SQLite's write lock does it already."""
    session.execute(select(PROVIDER.c.id).where(PROVIDER.c.id == provider_id).with_for_update())


def _upsert(
    session: Session, target: Any, row: dict[str, Any], keys: list[str], moved: dict[str, Any]
) -> None:
    """Insert ``row``, or set ``moved`` on the row with the same ``keys``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    statement = dialect_insert(target).values(row)
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=moved))


def confirm_fills(session: Session, fills: Iterable[tuple[int, str]], at: float) -> None:
    """Mark the fills ``(provider_id, origin)`` as confirmed by a run at ``at`` (one statement
    per origin; not a change a reader keeps)."""
    by_origin: dict[str, list[int]] = {}
    for provider_id, origin in fills:
        by_origin.setdefault(origin, []).append(provider_id)
    f = REGISTRY_FILL.c
    for origin, provider_ids in sorted(by_origin.items()):
        session.execute(
            update(REGISTRY_FILL)
            .where(and_(f.origin == origin, f.provider_id.in_(sorted(provider_ids))))
            .values(checked_at=at)
            .execution_options(**{NOT_A_CHANGE: True})
        )


def write_source(
    session: Session,
    origin: str,
    source: str,
    *,
    version: str | None,
    content_hash: str,
    location: str,
    notes: Sequence[str],
    at: float,
) -> None:
    """Record the registry content ``origin`` was last read from, with its reader's notes."""
    row = {
        "origin": origin,
        "source": source[:500],
        "version": None if version is None else version[:200],
        "content_hash": content_hash[:64],
        "location": location[:2000],
        "read_at": at,
        "notes": [note[:MAX_MESSAGE_LENGTH] for note in notes] or None,
    }
    _upsert(
        session, REGISTRY_SOURCE, row, ["origin"], {k: v for k, v in row.items() if k != "origin"}
    )


def read_sources(session: Session) -> list[SourceRow]:
    """Every recorded registry source, by origin."""
    rows = session.execute(select(REGISTRY_SOURCE).order_by(REGISTRY_SOURCE.c.origin)).mappings()
    return [_source(dict(row)) for row in rows]


def _source(row: Mapping[str, Any]) -> SourceRow:
    notes = row["notes"] if isinstance(row["notes"], list) else []
    return SourceRow(
        row["origin"],
        row["source"],
        row["version"],
        row["content_hash"],
        row["location"],
        float(row["read_at"]),
        tuple(str(note) for note in notes),
    )
