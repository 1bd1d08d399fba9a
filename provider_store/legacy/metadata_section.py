"""``model_metadata`` in the legacy YAML: listed model metadata out (when asked) and back in.

Export (``export --with-metadata``) writes, per provider, the non-null metadata of its valid and
invalid models; import sets those models' metadata columns to exactly what the file says (a field
the entry leaves out becomes unknown). A provider without ``model_metadata`` in the file keeps its
stored metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, select, update

from provider_store.catalog.metadata_columns import METADATA_COLUMNS
from provider_store.catalog.states import ModelStatus
from provider_store.catalog.tables import Model
from provider_store.model_info import METADATA_FIELDS

__all__ = ["export_metadata", "import_metadata"]

_models: Table = Model.__table__  # type: ignore[attr-defined]
_CURATED = (ModelStatus.VALID.value, ModelStatus.INVALID.value)


def export_metadata(conn: Connection) -> dict[int, dict[str, dict[str, Any]]]:
    """Non-null metadata of every curated model, by provider id then model id."""
    m = _models.c
    result: dict[int, dict[str, dict[str, Any]]] = {}
    rows = conn.execute(
        select(m.provider_id, m.model_id, *[m[name] for name in METADATA_COLUMNS])
        .where(m.status.in_(_CURATED))
        .order_by(m.provider_id, m.status.desc(), m.position, m.id)
    )
    for provider_id, model_id, *values in rows:
        entry: dict[str, Any] = {}
        for item, stored in zip(METADATA_FIELDS, values, strict=True):
            value = item.to_plain(item.from_column(stored))
            if value is not None:
                entry[item.name] = value
        if entry:
            result.setdefault(provider_id, {})[model_id] = entry
    return result


def import_metadata(
    conn: Connection, provider_id: int, entries: Mapping[str, Mapping[str, Any]], *, write: bool
) -> bool:
    """Set the metadata of the models in ``entries``; return whether anything differs."""
    m = _models.c
    stored = {
        row[0]: dict(zip(METADATA_COLUMNS, row[1:], strict=True))
        for row in conn.execute(
            select(m.model_id, *[m[name] for name in METADATA_COLUMNS]).where(
                m.provider_id == provider_id
            )
        )
    }
    changed: list[dict[str, Any]] = []
    for model_id, entry in entries.items():
        values = {
            item.name: item.to_column(item.from_plain(entry.get(item.name)))
            for item in METADATA_FIELDS
        }
        if stored.get(model_id) != values:
            changed.append({"b_model": model_id, **values})
    if changed and write:
        conn.execute(
            update(_models)
            .where(and_(m.provider_id == provider_id, m.model_id == bindparam("b_model")))
            .values({name: bindparam(name) for name in METADATA_COLUMNS}),
            changed,
        )
    return bool(changed)
