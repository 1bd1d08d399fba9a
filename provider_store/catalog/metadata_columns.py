"""Model metadata columns <-> :class:`~provider_store.model_info.ModelInfo`, in bulk.

Discovery writes what a provider listed about each model with :func:`write_model_infos` (in the
same transaction as the list itself); the store reads it back with :func:`read_model_infos`.
Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlmodel import Session

from provider_store.catalog.cache_rows import provider_id_of
from provider_store.catalog.light_tables import MODEL as _MODEL
from provider_store.catalog.light_tables import PROVIDER as _PROVIDER
from provider_store.errors import NotFoundError
from provider_store.model_info import METADATA_FIELDS, ModelInfo
from provider_store.rules import MAX_TEXT_LENGTH

__all__ = [
    "METADATA_COLUMNS",
    "info_from_values",
    "info_row",
    "info_values",
    "read_model_infos",
    "write_model_infos",
]

# The model columns of the metadata fields (each named after its field; the raw item stays in
# models_cache).
METADATA_COLUMNS = tuple(f.name for f in METADATA_FIELDS)
# Bound conversions, looked up once: these run for every model of every listing.
_TO_COLUMN = tuple((f.name, f.kind.to_column) for f in METADATA_FIELDS)
_FROM_COLUMN = tuple((f.name, f.kind.from_column) for f in METADATA_FIELDS)


def info_values(info: ModelInfo) -> dict[str, Any]:
    """The column values of ``info``'s metadata, by column name."""
    return {name: to_column(getattr(info, name)) for name, to_column in _TO_COLUMN}


def info_row(info: ModelInfo) -> tuple[Any, ...]:
    """The column values of ``info``'s metadata, in :data:`METADATA_COLUMNS` order."""
    return tuple(to_column(getattr(info, name)) for name, to_column in _TO_COLUMN)


def info_from_values(
    model_id: str, values: Mapping[str, Any], raw: Mapping[str, Any] | None = None
) -> ModelInfo:
    """A ModelInfo from stored column values (as :func:`info_values` wrote them)."""
    fields = {name: from_column(values.get(name)) for name, from_column in _FROM_COLUMN}
    return ModelInfo(id=model_id, raw=dict(raw or {}), **fields)


def write_model_infos(session: Session, provider_key: str, infos: Iterable[ModelInfo]) -> int:
    """Store the metadata of ``infos`` on the provider's model rows; return the rows changed.

    Rows must exist already (discovery records its sightings first); ids without a row are
    skipped. A field the provider no longer says anything about (None, or an empty tuple) keeps
    its stored value: a list that lost its details, or garbage, never erases what was known.
    Only rows whose stored metadata differs are written, so an unchanged list costs one read.
    The latest info of an id listed twice wins.
    """
    provider_id = provider_id_of(session, provider_key)
    wanted = {i.id: info_values(i) for i in infos if 0 < len(i.id) <= MAX_TEXT_LENGTH}
    if not wanted:
        return 0
    m = _MODEL.c
    columns = [m[name] for name in METADATA_COLUMNS]
    changed: list[dict[str, Any]] = []
    for row in session.execute(
        select(m.model_id, *columns).where(m.provider_id == provider_id)
    ).all():
        values = wanted.get(row[0])
        if values is None:
            continue
        stored = dict(zip(METADATA_COLUMNS, row[1:], strict=True))
        merged = {k: stored[k] if v is None else v for k, v in values.items()}
        if stored != merged:
            changed.append({"b_model": row[0], **merged})
    update_metadata(session, provider_id, changed)
    return len(changed)


def update_metadata(session: Session, provider_id: int, rows: list[dict[str, Any]]) -> None:
    """Write merged metadata rows (``b_model`` plus every METADATA_FIELDS value) in one go.

    For a writer that compared the stored values itself (the history of a listing does, in the
    same read); rows whose model has no row yet are skipped.
    """
    if not rows:
        return
    m = _MODEL.c
    rows.sort(key=lambda values: str(values["b_model"]))  # one lock order for every writer
    session.execute(
        update(_MODEL)
        .where(and_(m.provider_id == provider_id, m.model_id == bindparam("b_model")))
        .values({name: bindparam(name) for name in METADATA_COLUMNS}),
        rows,
    )


def read_model_infos(
    session: Session, provider_key: str, model_ids: Sequence[str] | None = None
) -> dict[str, ModelInfo]:
    """Stored metadata of the provider's models (only ``model_ids`` when given), by model id.

    Each value carries the model's raw listed item from the discovery cache (empty when the
    cached list does not have it). NotFoundError when there is no such provider.
    """
    p = _PROVIDER.c
    row = session.execute(select(p.id, p.models_cache).where(p.key == provider_key)).one_or_none()
    if row is None:
        raise NotFoundError(f"Unknown provider: {provider_key}")
    provider_id, cache = row
    raw_by_id: dict[str, Mapping[str, Any]] = {}
    for item in cache or []:
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            raw_by_id.setdefault(item["id"], item)
    m = _MODEL.c
    query = select(m.model_id, *[m[name] for name in METADATA_COLUMNS]).where(
        m.provider_id == provider_id
    )
    if model_ids is not None:
        query = query.where(m.model_id.in_(list(model_ids)))
    result: dict[str, ModelInfo] = {}
    for model_id, *values in session.execute(query.order_by(m.position, m.id)):
        stored = dict(zip(METADATA_COLUMNS, values, strict=True))
        result[model_id] = info_from_values(model_id, stored, raw_by_id.get(model_id))
    return result
