"""Statistics of ping observations per model: count, availability, latency percentiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, func, select
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
    # One scan, aggregated here: cheaper than several aggregate scans of the same rows.
    query = select(o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms, o.id)
    if conditions:
        query = query.where(and_(*conditions))
    # per model: [pings, answered, latencies, newest (at, id, outcome, latency)]
    groups: dict[tuple[str, str], list[Any]] = {}
    for key, model_id, at, outcome, latency, row_id in session.execute(query).all():
        group = groups.get((key, model_id))
        if group is None:
            group = groups[(key, model_id)] = [0, 0, [], (at, row_id, outcome, latency)]
        group[0] += 1
        if outcome == "answered":
            group[1] += 1
        if latency is not None:
            group[2].append(latency)
        if (at, row_id) > group[3][:2]:
            group[3] = (at, row_id, outcome, latency)
    result: list[ModelStats] = []
    for (key, model_id), (count, answered, latencies, last) in sorted(groups.items()):
        latencies.sort()
        result.append(
            ModelStats(
                provider=key,
                model=model_id,
                count=count,
                answered=answered,
                p50_ms=_nearest_rank(latencies, 50),
                p95_ms=_nearest_rank(latencies, 95),
                last_at=last[0],
                last_outcome=last[2],
                last_latency_ms=last[3],
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
