"""Statistics of ping observations per model: count, availability, latency percentiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, case, func, or_, select
from sqlmodel import Session

from provider_store.catalog.tables import Observation

__all__ = ["ModelStats", "model_stats"]

_OBSERVATION = cast(Table, getattr(Observation, "__table__"))  # noqa: B009
_NO_LATENCY = 1e18  # sorts pings without a latency after every measured one


@dataclass(frozen=True, slots=True)
class ModelStats:
    """How one model answered its pings in a period.

    ``availability`` is the share of pings that got a chat answer (outcome ``answered``);
    latencies are in ms over every ping with a latency; ``last_*`` describe the newest ping.
    """

    provider: str
    model: str
    count: int
    answered: int
    p50_ms: float | None
    p95_ms: float | None
    last_at: float
    last_outcome: str
    last_latency_ms: float | None

    @property
    def availability(self) -> float:
        """Answered pings / pings (0.0 .. 1.0)."""
        return self.answered / self.count if self.count else 0.0

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "provider": self.provider,
            "model": self.model,
            "count": self.count,
            "availability": round(self.availability, 4),
            "p50_ms": _round(self.p50_ms),
            "p95_ms": _round(self.p95_ms),
            "last_at": self.last_at,
            "last_outcome": self.last_outcome,
            "last_latency_ms": _round(self.last_latency_ms),
        }


def model_stats(
    session: Session,
    *,
    since: float | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> list[ModelStats]:
    """Per-model ping statistics from ``since`` on (all when None), by provider then model.

    ``provider`` and ``model`` match ignoring case.
    """
    o = _OBSERVATION.c
    conditions: list[Any] = []
    if since is not None:
        conditions.append(o.at >= since)
    if provider is not None:
        conditions.append(func.lower(o.provider_key) == provider.lower())
    if model is not None:
        conditions.append(func.lower(o.model_id) == model.lower())
    # One pass in the database: window functions rank each model's latencies and pings, and
    # only the rows at the 50th and 95th percentile ranks and the newest ping come back.
    part = (o.provider_key, o.model_id)
    inner = select(
        o.provider_key,
        o.model_id,
        o.at,
        o.outcome,
        o.latency_ms,
        func.count(o.latency_ms).over(partition_by=part).label("n"),
        func.row_number()
        .over(partition_by=part, order_by=(func.coalesce(o.latency_ms, _NO_LATENCY), o.id))
        .label("rank"),
        func.row_number().over(partition_by=part, order_by=(o.at.desc(), o.id.desc())).label("age"),
        func.count().over(partition_by=part).label("total"),
        func.sum(case((o.outcome == "answered", 1), else_=0))
        .over(partition_by=part)
        .label("answered"),
    )
    if conditions:
        inner = inner.where(and_(*conditions))
    ranked = inner.subquery()
    r = ranked.c
    p50_rank = (r.n * 50 + 99) // 100
    p95_rank = (r.n * 95 + 99) // 100
    query = (
        select(r.provider_key, r.model_id, r.at, r.outcome, r.latency_ms, r.rank, r.age,
               r.total, r.answered, p50_rank, p95_rank)
        .where(or_(r.age == 1, r.rank == p50_rank, r.rank == p95_rank))
        .order_by(r.provider_key, r.model_id)
    )  # fmt: skip
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for (
        key,
        model_id,
        at,
        outcome,
        latency,
        rank,
        age,
        total,
        answered,
        r50,
        r95,
    ) in session.execute(query):
        entry = found.setdefault(
            (key, model_id),
            {"count": int(total), "answered": int(answered or 0), "p50": None, "p95": None},
        )
        if latency is not None and rank == r50:
            entry["p50"] = latency
        if latency is not None and rank == r95:
            entry["p95"] = latency
        if age == 1:
            entry["last"] = (at, outcome, latency)
    return [
        ModelStats(
            provider=key,
            model=model_id,
            count=entry["count"],
            answered=entry["answered"],
            p50_ms=entry["p50"],
            p95_ms=entry["p95"],
            last_at=entry["last"][0],
            last_outcome=entry["last"][1],
            last_latency_ms=entry["last"][2],
        )
        for (key, model_id), entry in found.items()
    ]


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
