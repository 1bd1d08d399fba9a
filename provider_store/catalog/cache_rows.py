"""Session-level reads and writes of the discovery cache, discovery errors and verdicts.

Every function takes the caller's session and never commits.
:class:`~provider_store.catalog.catalog_rows.CatalogRows` wraps them in short transactions of
their own when no session is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlmodel import Session

from provider_store.catalog.light_tables import MODEL as MODEL_TABLE
from provider_store.catalog.light_tables import PROVIDER as PROVIDER_TABLE
from provider_store.catalog.records import ValidationResult
from provider_store.catalog.states import ModelStatus, Verdict
from provider_store.rules import MAX_MESSAGE_LENGTH, MAX_TEXT_LENGTH
from provider_store.suggestions import unknown_provider

_CHUNK = 500


@dataclass(frozen=True)
class CacheState:
    """A provider's discovery cache and last recorded discovery error, as stored."""

    provider_id: int
    models: list[dict[str, Any]] | None
    fetched_at: float | None
    ttl_seconds: int
    last_error: str | None
    last_error_status: int | None
    last_error_at: float | None
    empty_list_strikes: int = 0

    def is_fresh(self, now: float) -> bool:
        """A non-empty list fetched less than the TTL ago (the legacy freshness rule)."""
        return (
            bool(self.models)
            and self.fetched_at is not None
            and (0 <= now - self.fetched_at < self.ttl_seconds)
        )


@dataclass(frozen=True)
class KnownRows:
    """What a listing writer already read under the provider's lock, so that
    :func:`write_cache` need not read it again: the provider's id, the ids of its model rows,
    and the values of ``columns`` (metadata) of each listed model that has no row yet, written
    with its new row."""

    provider_id: int
    model_ids: frozenset[str]
    columns: tuple[str, ...] = ()
    new_values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


def provider_id_of(session: Session, provider_key: str) -> int:
    """The provider's row id (without reading its cached list); NotFoundError when unknown."""
    p = PROVIDER_TABLE.c
    found = session.execute(select(p.id).where(p.key == provider_key)).scalar_one_or_none()
    if found is None:
        raise unknown_provider(provider_key, session.execute(select(p.key)).scalars())
    return int(found)


def read_cache(session: Session, provider_key: str) -> CacheState:
    """The cache columns of ``provider_key``; NotFoundError when there is no such provider."""
    p = PROVIDER_TABLE.c
    row = session.execute(
        select(
            p.id,
            p.models_cache,
            p.models_fetched_at,
            p.cache_ttl_seconds,
            p.last_error,
            p.last_error_status,
            p.last_error_at,
            p.empty_list_strikes,
        ).where(p.key == provider_key)
    ).one_or_none()
    if row is None:
        raise unknown_provider(provider_key, session.execute(select(p.key)).scalars())
    return CacheState(
        provider_id=row[0],
        models=list(row[1]) if row[1] is not None else None,
        fetched_at=row[2],
        ttl_seconds=row[3],
        last_error=row[4],
        last_error_status=row[5],
        last_error_at=row[6],
        empty_list_strikes=row[7] or 0,
    )


def write_cache(
    session: Session,
    provider_key: str,
    models: list[dict[str, Any]],
    fetched_at: float,
    *,
    known: KnownRows | None = None,
) -> None:
    """Store a freshly fetched list, clear the last error and strikes, record the sightings.

    Writes only the cache columns and the sighted model rows; NotFoundError when the provider
    is gone. ``known``: what the caller read in this transaction, under the provider's lock.
    """
    provider_id = known.provider_id if known is not None else provider_id_of(session, provider_key)
    session.execute(
        update(PROVIDER_TABLE)
        .where(PROVIDER_TABLE.c.id == provider_id)
        .values(
            models_cache=list(models),
            models_fetched_at=fetched_at,
            last_error=None,
            last_error_status=None,
            last_error_at=None,
            empty_list_strikes=0,
        )
    )
    ids = [m["id"] for m in models if isinstance(m.get("id"), str)]
    record_sightings(session, provider_id, ids, fetched_at, known=known)


def record_error(
    session: Session,
    provider_key: str,
    message: str,
    status: int | None,
    at: float,
    *,
    empty_list_strikes: int = 0,
) -> bool:
    """Record a failed refresh on the provider; its cached list is left alone.

    ``empty_list_strikes`` is the new count of suspicious empty answers in a row (0 for any
    other failure). False when there is no such provider (nothing is written).
    """
    result = session.execute(
        update(PROVIDER_TABLE)
        .where(PROVIDER_TABLE.c.key == provider_key)
        .values(
            last_error=message[:MAX_MESSAGE_LENGTH],
            last_error_status=status,
            last_error_at=at,
            empty_list_strikes=empty_list_strikes,
        )
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def record_sightings(
    session: Session,
    provider_id: int,
    ids: Sequence[str],
    at: float,
    *,
    known: KnownRows | None = None,
) -> None:
    """Set last_seen_at (and first_seen_at once) of ``ids``; unknown ids become unverified rows
    (with their ``known.new_values`` when given)."""
    wanted = list(dict.fromkeys(i for i in ids if 0 < len(i) <= MAX_TEXT_LENGTH))
    if not wanted:
        return
    m = MODEL_TABLE.c
    present = (
        known.model_ids
        if known is not None
        else set(session.execute(select(m.model_id).where(m.provider_id == provider_id)).scalars())
    )
    new_values = known.new_values if known is not None else {}
    columns = known.columns if known is not None else ()
    seen = [i for i in wanted if i in present]
    for chunk in _chunks(seen):
        session.execute(
            update(MODEL_TABLE)
            .where(and_(m.provider_id == provider_id, m.model_id.in_(chunk)))
            .values(last_seen_at=at)
        )
        session.execute(
            update(MODEL_TABLE)
            .where(
                and_(m.provider_id == provider_id, m.model_id.in_(chunk), m.first_seen_at.is_(None))
            )
            .values(first_seen_at=at)
        )
    rows: list[dict[str, Any]] = []
    for model_id in wanted:
        if model_id not in present:
            row = _new_row(provider_id, model_id, first_seen_at=at, last_seen_at=at)
            values = new_values.get(model_id)
            if values is not None:
                row.update(zip(columns, values, strict=True))
            rows.append(row)
    _insert_missing(session, rows)


def lock_provider(session: Session, provider_id: int) -> None:
    """Take the provider row's write lock (PostgreSQL) before touching its model rows.

    Every writer locks the provider row first and its model rows after, so two writers of one
    provider queue instead of deadlocking. SQLite serialises writers already (BEGIN IMMEDIATE).
    """
    p = PROVIDER_TABLE.c
    session.execute(select(p.id).where(p.id == provider_id).with_for_update())


def record_verdicts(
    session: Session, provider_key: str, results: Iterable[ValidationResult]
) -> None:
    """Store each verdict with its reason and time; a model without a row gets an unverified one.

    A model the user marked by hand keeps its verdict."""
    provider_id = provider_id_of(session, provider_key)
    latest = {r.model: r for r in results if 0 < len(r.model) <= MAX_TEXT_LENGTH}
    if not latest:
        return
    lock_provider(session, provider_id)
    _insert_missing(session, [_new_row(provider_id, model_id) for model_id in latest])
    m = MODEL_TABLE.c
    session.execute(
        update(MODEL_TABLE)
        # A hand-marked model keeps the user's verdict (see hand_marks).
        .where(
            and_(
                m.provider_id == provider_id,
                m.model_id == bindparam("b_model"),
                m.hand_mark.is_(None),
            )
        )
        .values(
            verdict=bindparam("b_verdict"),
            verdict_reason=bindparam("b_reason"),
            verdict_at=bindparam("b_at"),
            # A verdict without an accepted request style keeps the style learnt before.
            ping_style=func.coalesce(bindparam("b_style"), m.ping_style),
        ),
        [
            {
                "b_model": r.model,
                "b_verdict": r.verdict.value,
                "b_reason": r.reason[:MAX_MESSAGE_LENGTH],
                "b_at": r.checked_at,
                "b_style": r.ping_style,
            }
            for r in latest.values()
        ],
    )


def load_verdicts(
    session: Session, provider_key: str, models: Iterable[str] | None = None
) -> dict[str, ValidationResult]:
    """Stored verdicts of ``provider_key`` (only of ``models`` when given), by model id."""
    provider_id = provider_id_of(session, provider_key)
    m = MODEL_TABLE.c
    query = select(m.model_id, m.verdict, m.verdict_reason, m.verdict_at, m.ping_style).where(
        and_(m.provider_id == provider_id, m.verdict.is_not(None))
    )
    rows: list[Any] = []
    if models is None:
        rows.extend(session.execute(query))
    else:
        for chunk in _chunks(list(dict.fromkeys(models))):
            rows.extend(session.execute(query.where(m.model_id.in_(chunk))))
    result: dict[str, ValidationResult] = {}
    for row in rows:
        found = _verdict_of(*row)
        if found is not None:
            result[found.model] = found
    return result


def verdicts_of(
    session: Session, provider_keys: Iterable[str]
) -> dict[str, dict[str, ValidationResult]]:
    """Stored verdicts by model id of each of ``provider_keys``, in one query (a provider that
    does not exist has none)."""
    p, m = PROVIDER_TABLE.c, MODEL_TABLE.c
    result: dict[str, dict[str, ValidationResult]] = {}
    for chunk in _chunks(list(dict.fromkeys(provider_keys))):
        result.update((key, {}) for key in chunk)
        rows = session.execute(
            select(p.key, m.model_id, m.verdict, m.verdict_reason, m.verdict_at, m.ping_style)
            .join(PROVIDER_TABLE, p.id == m.provider_id)
            .where(and_(p.key.in_(chunk), m.verdict.is_not(None)))
        )
        for key, *row in rows:
            found = _verdict_of(*row)
            if found is not None:
                result[key][found.model] = found
    return result


def _verdict_of(
    model_id: str, verdict: str, reason: str | None, at: float | None, style: str | None
) -> ValidationResult | None:
    try:
        parsed = Verdict(verdict)
    except ValueError:
        return None
    return ValidationResult(model_id, parsed, reason or "", at or 0.0, ping_style=style)


def read_problem(session: Session, provider_key: str) -> tuple[str | None, float | None]:
    """The provider problem recorded on ``provider_key`` (message, time); None when none."""
    p = PROVIDER_TABLE.c
    row = session.execute(
        select(p.problem, p.problem_at).where(p.key == provider_key)
    ).one_or_none()
    if row is None:
        raise unknown_provider(provider_key, session.execute(select(p.key)).scalars())
    return row[0], row[1]


def set_problem(session: Session, provider_key: str, problem: str | None, at: float) -> None:
    """Record a provider problem (a rejected key, no credit), or clear it with ``None``."""
    session.execute(
        update(PROVIDER_TABLE)
        .where(PROVIDER_TABLE.c.key == provider_key)
        .values(
            problem=problem[:MAX_MESSAGE_LENGTH] if problem is not None else None,
            problem_at=at if problem is not None else None,
        )
    )


def _new_row(provider_id: int, model_id: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider_id": provider_id,
        "model_id": model_id,
        "alias": model_id,
        "status": ModelStatus.UNVERIFIED.value,
        "position": 0,
    }
    row.update(extra)
    return row


def _insert_missing(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert model rows, skipping any (provider_id, model_id) another writer added first."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    keys = ["provider_id", "model_id"]
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt: Any = sqlite.insert(MODEL_TABLE).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(MODEL_TABLE).on_conflict_do_nothing(index_elements=keys)
    else:
        provider_id = rows[0]["provider_id"]
        m = MODEL_TABLE.c
        present = set(
            session.execute(select(m.model_id).where(m.provider_id == provider_id)).scalars()
        )
        rows = [r for r in rows if r["model_id"] not in present]
        if not rows:
            return
        stmt = insert(MODEL_TABLE)
    # Rows of one call share their keys, so one executemany inserts them all.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_shape.setdefault(tuple(row), []).append(row)  # rows built alike: keys in one order
    for batch in by_shape.values():
        session.execute(stmt, batch)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
