"""How a provider's stored model rows become a wanted curated list: plan, then bulk-apply.

One rule for every writer of the curated lists (``ProviderStore.save_config`` and the legacy YAML
import): listed models are inserted or updated in place, so their discovery sightings and
validation verdicts survive; a curated model that is no longer listed is deleted, unless discovery
has seen it or it carries a verdict, in which case it stays as ``unverified``; unverified rows
(discovered, never curated) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from provider_store.catalog.light_tables import MODEL as _models
from provider_store.catalog.states import ModelStatus

_VALID, _INVALID, _UNVERIFIED = (
    ModelStatus.VALID.value,
    ModelStatus.INVALID.value,
    ModelStatus.UNVERIFIED.value,
)
_CHUNK = 500


class StoredModel(NamedTuple):
    """The columns of a model row that planning needs."""

    row_id: int
    model_id: str
    status: str
    alias: str
    position: int
    first_seen_at: float | None
    verdict_at: float | None


# model id -> (status, alias, position within its list)
Wanted = dict[str, tuple[str, str, int]]


@dataclass(slots=True)
class ModelPlan:
    """Statements that make one provider's rows match its wanted lists, and what they change."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def wanted_models(valid_models: Mapping[str, str], invalid_models: Iterable[str]) -> Wanted:
    """The curated lists as one mapping; a model listed as both stays valid."""
    wanted: Wanted = {
        model_id: (_VALID, alias, position)
        for position, (model_id, alias) in enumerate(valid_models.items())
    }
    for position, model_id in enumerate(invalid_models):
        wanted.setdefault(model_id, (_INVALID, model_id, position))
    return wanted


def stored_models(conn: Connection, provider_ids: list[int]) -> dict[int, list[StoredModel]]:
    """Every model row of the given providers, by provider, in status then list order."""
    result: dict[int, list[StoredModel]] = {}
    m = _models.c
    for chunk in chunks(provider_ids):
        rows = conn.execute(
            select(m.provider_id, m.id, m.model_id, m.status, m.alias, m.position,
                   m.first_seen_at, m.verdict_at)
            .where(m.provider_id.in_(chunk))
            .order_by(m.provider_id, m.status, m.position, m.id)
        )  # fmt: skip
        for provider_id, *rest in rows:
            result.setdefault(provider_id, []).append(StoredModel(*rest))
    return result


def plan_models(provider_id: int, stored: Iterable[StoredModel], wanted: Wanted) -> ModelPlan:
    """The inserts, updates and deletes that turn ``stored`` into ``wanted``."""
    plan = ModelPlan()
    old = {row.model_id: row for row in stored}
    for model_id, (status, alias, position) in wanted.items():
        previous = old.get(model_id)
        if previous is None:
            plan.inserts.append(
                {"provider_id": provider_id, "model_id": model_id, "alias": alias,
                 "status": status, "position": position}
            )  # fmt: skip
            plan.added.append(model_id)
            continue
        if (previous.status, previous.alias, previous.position) == (status, alias, position):
            continue
        plan.updates.append({"row_id": previous.row_id, "status": status, "alias": alias,
                             "position": position})  # fmt: skip
        if previous.status == _UNVERIFIED:
            plan.added.append(model_id)
        elif (previous.status, previous.alias) != (status, alias):
            plan.changed.append(model_id)
    for model_id, row in old.items():
        if model_id in wanted or row.status == _UNVERIFIED:
            continue
        plan.removed.append(model_id)
        if row.first_seen_at is None and row.verdict_at is None:
            plan.deletes.append(row.row_id)
        else:
            plan.updates.append({"row_id": row.row_id, "status": _UNVERIFIED,
                                 "alias": row.alias, "position": 0})  # fmt: skip
    return plan


def apply_plans(conn: Connection, plans: Iterable[ModelPlan]) -> None:
    """Run the plans' statements: chunked deletes, one executemany each for updates and inserts."""
    deletes: list[int] = []
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for plan in plans:
        deletes += plan.deletes
        updates += plan.updates
        inserts += plan.inserts
    for chunk in chunks(deletes):
        conn.execute(delete(_models).where(_models.c.id.in_(chunk)))
    if updates:
        # Executemany; the SET columns come from the parameter keys.
        conn.execute(update(_models).where(_models.c.id == bindparam("row_id")), updates)
    if inserts:
        conn.execute(insert(_models), inserts)


def chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    """``items`` in slices small enough for an IN (...) list on every backend."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
