"""The removal rule: when a model a complete listing lacks is missing, removed, or back.

A model discovery had seen that a complete listing lacks is **missing** (its row counts the
listings in a row that lacked it, since when, and keeps when it was last seen); it stays in the
catalog and resolves. It is **removed** once ``removal_confirmations`` complete listings in a
row lacked it *and* it has been missing for at least ``removal_min_age_seconds``: it leaves
``valid_models`` / ``invalid_models`` (status ``unverified``; alias and verdict are kept). A
missing or removed model listed again **reappeared**; a removed one gets back the curated
status it had when it was removed (unless it was curated again meanwhile).

:func:`absent` and :func:`reappeared` decide (pure: from the rows read under the provider's
lock); :func:`apply` writes the decided states in one statement, in one lock order. The events
are written by :mod:`provider_store.history.listing_events`, which calls this rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, select, update
from sqlmodel import Session

from provider_store.catalog.states import EventType, ModelStatus
from provider_store.catalog.tables import Event, Model

__all__ = [
    "RemovalPolicy",
    "StoredRow",
    "Transition",
    "absent",
    "apply",
    "reappeared",
    "status_before_removal",
]

_MODEL = cast(Table, getattr(Model, "__table__"))  # noqa: B009 - untyped in SQLModel
_EVENT = cast(Table, getattr(Event, "__table__"))  # noqa: B009
_CURATED = (ModelStatus.VALID.value, ModelStatus.INVALID.value)
_UNVERIFIED = ModelStatus.UNVERIFIED.value
_CHUNK = 500


class StoredRow(NamedTuple):
    """What the rule reads of a model row: its id, status and absence state."""

    row_id: int
    status: str
    first_seen_at: float | None
    missing_count: int | None
    missing_since: float | None
    removed_at: float | None
    last_seen_at: float | None


@dataclass(frozen=True)
class RemovalPolicy:
    """A provider's removal settings, and when its previous list was fetched (the last time a
    model missing now was seen)."""

    confirmations: int
    min_age_seconds: float
    listed_at: float | None


@dataclass(frozen=True)
class Transition:
    """One model's new absence state, and the event that says so (``old`` / ``new`` as the
    event stores them)."""

    model_id: str
    row_id: int
    kind: EventType
    old: Any
    new: Any
    status: str
    missing_count: int
    missing_since: float | None
    removed_at: float | None
    last_seen_at: float | None


def reappeared(
    before: Mapping[str, StoredRow],
    model_ids: Iterable[str],
    restore: Mapping[str, str],
    at: float,
) -> list[Transition]:
    """The models of ``model_ids`` (missing or removed, listed again at ``at``) back in the
    list; ``restore``: the curated status each removed one had (:func:`status_before_removal`)."""
    found: list[Transition] = []
    for model_id in model_ids:
        row = before[model_id]
        status = row.status
        if row.removed_at is not None and status == _UNVERIFIED:
            status = restore.get(model_id, status)
        old = "removed" if row.removed_at is not None else "missing"
        found.append(
            Transition(
                model_id, row.row_id, EventType.REAPPEARED, old, status, status, 0, None, None, at
            )
        )
    return found


def absent(
    before: Mapping[str, StoredRow], listed: Collection[str], at: float, policy: RemovalPolicy
) -> list[Transition]:
    """The sighted, not removed models of ``before`` that the complete listing ``listed`` (seen
    at ``at``) lacks: each missing once more, or removed."""
    found: list[Transition] = []
    for model_id, row in before.items():
        if model_id in listed or row.first_seen_at is None or row.removed_at is not None:
            continue
        count = (row.missing_count or 0) + 1
        since = row.missing_since if row.missing_since is not None else at
        # Listed until now: it was last seen in the list before this one.
        listed_at = policy.listed_at
        seen = row.last_seen_at if row.missing_count or listed_at is None else listed_at
        if count >= policy.confirmations and at - since >= policy.min_age_seconds:
            found.append(
                Transition(
                    model_id,
                    row.row_id,
                    EventType.REMOVED,
                    row.status,
                    count,
                    _UNVERIFIED,
                    count,
                    since,
                    at,
                    seen,
                )
            )
        else:
            found.append(
                Transition(
                    model_id,
                    row.row_id,
                    EventType.MISSING,
                    None,
                    count,
                    row.status,
                    count,
                    since,
                    None,
                    seen,
                )
            )
    return found


def apply(session: Session, transitions: Iterable[Transition]) -> None:
    """Write the new absence state of each transition (one executemany, in row id order: one
    lock order for every writer)."""
    rows = [
        {
            "b_id": t.row_id,
            "b_status": t.status,
            "b_count": t.missing_count,
            "b_since": t.missing_since,
            "b_removed": t.removed_at,
            "b_seen": t.last_seen_at,
        }
        for t in sorted(transitions, key=lambda t: t.row_id)
    ]
    if not rows:
        return
    m = _MODEL.c
    session.execute(
        update(_MODEL)
        .where(m.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            missing_count=bindparam("b_count"),
            missing_since=bindparam("b_since"),
            removed_at=bindparam("b_removed"),
            last_seen_at=bindparam("b_seen"),
        ),
        rows,
    )


def status_before_removal(
    session: Session, provider_key: str, model_ids: Iterable[str]
) -> dict[str, str]:
    """The curated status each model had when it was last removed (valid or invalid only)."""
    e = _EVENT.c
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
