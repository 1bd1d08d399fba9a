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
    query = select(o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms).order_by(
        o.provider_key, o.model_id
    )
    if conditions:
        query = query.where(and_(*conditions))
    groups: dict[tuple[str, str], list[tuple[float, str, float | None]]] = {}
    for key, model_id, at, outcome, latency in session.execute(query):
        groups.setdefault((key, model_id), []).append((at, outcome, latency))
    result: list[ModelStats] = []
    for (key, model_id), rows in groups.items():
        latencies = sorted(r[2] for r in rows if r[2] is not None)
        last = max(rows, key=lambda r: r[0])
        result.append(
            ModelStats(
                provider=key,
                model=model_id,
                count=len(rows),
                answered=sum(1 for r in rows if r[1] == "answered"),
                p50_ms=_percentile(latencies, 0.50),
                p95_ms=_percentile(latencies, 0.95),
                last_at=last[0],
                last_outcome=last[1],
                last_latency_ms=last[2],
            )
        )
    return result


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of an ascending list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
