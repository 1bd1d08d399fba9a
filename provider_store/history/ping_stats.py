"""Statistics of ping observations per model: count, availability, latency percentiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, case, func, select, true
from sqlmodel import Session

from provider_store.catalog.tables import Observation

__all__ = ["ModelStats", "model_stats"]

_OBSERVATION = cast(Table, getattr(Observation, "__table__"))  # noqa: B009


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
    # Counts and the newest ping per model are aggregated in the database; only the latencies
    # come back (sorted), for exact nearest-rank percentiles.
    where = and_(*conditions) if conditions else true()
    part = (o.provider_key, o.model_id)
    groups = (
        select(
            *part,
            func.count().label("total"),
            func.sum(case((o.outcome == "answered", 1), else_=0)).label("answered"),
            func.max(o.at).label("last_at"),
        )
        .where(where)
        .group_by(*part)
    )
    found: dict[tuple[str, str], dict[str, Any]] = {
        (key, model_id): {"count": int(total), "answered": int(answered or 0), "last_at": at}
        for key, model_id, total, answered, at in session.execute(groups)
    }
    if not found:
        return []
    newest = groups.subquery()
    last = (
        select(o.provider_key, o.model_id, o.outcome, o.latency_ms, o.id)
        .join(
            newest,
            and_(
                o.provider_key == newest.c.provider_key,
                o.model_id == newest.c.model_id,
                o.at == newest.c.last_at,
            ),
        )
        .order_by(o.id)
    )
    for key, model_id, outcome, latency, _id in session.execute(last):
        found[(key, model_id)]["last"] = (outcome, latency)
    # Unsorted: per-model sorts in Python beat one database sort of every row.
    latencies = select(*part, o.latency_ms).where(and_(where, o.latency_ms.is_not(None)))
    by_model: dict[tuple[str, str], list[float]] = {}
    for key, model_id, latency in session.execute(latencies).all():
        by_model.setdefault((key, model_id), []).append(latency)
    result: list[ModelStats] = []
    for (key, model_id), entry in sorted(found.items()):
        ordered = sorted(by_model.get((key, model_id), []))
        outcome, latency = entry.get("last", ("", None))
        result.append(
            ModelStats(
                provider=key,
                model=model_id,
                count=entry["count"],
                answered=entry["answered"],
                p50_ms=_nearest_rank(ordered, 50),
                p95_ms=_nearest_rank(ordered, 95),
                last_at=entry["last_at"],
                last_outcome=outcome,
                last_latency_ms=latency,
            )
        )
    return result


def _nearest_rank(ordered: list[float], percent: int) -> float | None:
    """The nearest-rank percentile of an ascending list (None when empty)."""
    if not ordered:
        return None
    return ordered[(len(ordered) * percent + 99) // 100 - 1]


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
