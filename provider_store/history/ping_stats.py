"""Statistics of ping observations per model: count, availability, latency percentiles.

Read from the ping rollup (:mod:`provider_store.history.ping_rollup`), not from every ping.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from provider_store.catalog.tables import (
    DAY_SPAN,
    LATENCY_BUCKETS,
    LATENCY_COLUMNS,
    PING_ROLLUP,
    QUARTER_SPAN,
)
from provider_store.history.ping_history import OBSERVATION_TABLE
from provider_store.history.ping_rollup import Rollup, bucket_value, latency_bucket
from provider_store.rules.times import iso_utc

__all__ = ["ModelStats", "model_stats"]

_BUCKET_VALUES = tuple(bucket_value(index) for index in range(LATENCY_BUCKETS))


@dataclass(frozen=True, slots=True)
class ModelStats:
    """How one model answered its pings in a period.

    ``availability`` is the share of pings that got a chat answer (outcome ``answered``);
    p50/p95 are nearest-rank percentiles in ms over every ping with a latency, to the latency
    histogram's resolution (within 4.5%); ``last_*`` describe the newest ping;
    ``latency_histogram`` counts the pings in each bucket of that histogram.
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
    # Pings per bucket of the rollup's log-scale latency histogram (see ping_rollup).
    latency_histogram: tuple[int, ...] = ()

    @property
    def availability(self) -> float:
        """Answered pings / pings (0.0 .. 1.0)."""
        return self.answered / self.count if self.count else 0.0

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (``last_at`` as :func:`~provider_store.rules.iso_utc` writes
        it, ``availability`` from 0 to 1)."""
        return {
            "provider": self.provider,
            "model": self.model,
            "count": self.count,
            "availability": round(self.availability, 4),
            "p50_ms": _round(self.p50_ms),
            "p95_ms": _round(self.p95_ms),
            "last_at": iso_utc(self.last_at),
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

    ``provider`` and ``model`` match ignoring case. Counts, availability and the newest ping
    are exact for any ``since``: whole UTC days come from the rollup's day rows, the whole
    quarter days (6 hours) before the first of them from its quarter-day rows, and the part of
    a quarter day before those from the observations themselves. p50/p95 are read from the
    latency histogram (see :mod:`provider_store.history.ping_rollup`: within 4.5% of the
    exact value).
    """
    r = PING_ROLLUP.c
    if since is None:
        windows: Any = r.span == DAY_SPAN
    else:
        first_part = math.ceil(since / QUARTER_SPAN) * QUARTER_SPAN
        first_day = math.ceil(since / DAY_SPAN) * DAY_SPAN
        windows = or_(
            and_(r.span == DAY_SPAN, r.start >= first_day),
            and_(r.span == QUARTER_SPAN, r.start >= first_part, r.start < first_day),
        )
    conditions = [windows, *_names(r, provider, model)]
    # Only the histogram columns between the smallest and largest latency can hold a ping:
    # summing just those is most of the saving on a catalog whose latencies are alike.
    low, high = session.execute(
        select(func.min(r.latency_min), func.max(r.latency_max)).where(*conditions)
    ).one()
    first = latency_bucket(low) if low is not None else 0
    columns = LATENCY_COLUMNS[first : latency_bucket(high) + 1] if high is not None else ()
    keys = (r.provider_key, r.model_id)
    totals = select(
        *keys,
        func.sum(r.pings),
        func.sum(r.answered),
        func.min(r.latency_min),
        func.max(r.latency_max),
        *(func.sum(r[name]) for name in columns),
    )
    # Per model: the sums of its rollup rows, the histogram only from bucket ``first`` on (the
    # rest hold nothing). A model also seen in the observations read below gets a Rollup.
    sums: dict[tuple[str, str], _Sums] = {}
    for key, model_id, pings, answered, least, most, *histogram in session.execute(
        totals.where(*conditions).group_by(*keys)
    ):
        sums[(key, model_id)] = _Sums(pings, answered, least, most, histogram)
    newest = select(*keys, r.last_at, r.last_outcome, r.last_latency_ms).where(*conditions)
    for key, model_id, at, outcome, latency in session.execute(newest):
        entry = sums[(key, model_id)]
        if entry.last is None or at > entry.last[0]:
            entry.last = (at, outcome, latency)
    rollups: dict[tuple[str, str], Rollup] = {}
    if since is not None and since < first_part:
        o = OBSERVATION_TABLE.c
        edge = (
            select(o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms)
            .where(o.at >= since, o.at < first_part, *_names(o, provider, model))
            .order_by(o.id)
        )
        for key, model_id, at, outcome, latency in session.execute(edge):
            rollup = rollups.get((key, model_id))
            if rollup is None:
                rollup = rollups[(key, model_id)] = Rollup()
                summed = sums.get((key, model_id))
                if summed is not None:
                    rollup.add_sums(
                        summed.pings,
                        summed.answered,
                        summed.least,
                        summed.most,
                        summed.histogram,
                        first,
                    )
            # Older than every rollup row read: the newest ping stays the rollup's.
            rollup.add_ping(at, outcome, latency)
            summed = sums.get((key, model_id))
            if summed is not None and summed.last is not None:
                rollup.take_last(*summed.last)
    found: list[ModelStats] = []
    for pair in sorted(sums.keys() | rollups.keys()):
        rollup = rollups.get(pair)
        if rollup is not None:
            if rollup.pings:
                found.append(_stats(*pair, rollup))
        elif sums[pair].pings:
            found.append(sums[pair].stats(*pair, first))
    return found


@dataclass(slots=True)
class _Sums:
    """One model's rollup sums as SQL gave them (histogram from bucket ``first`` on)."""

    pings: int
    answered: int
    least: float | None
    most: float | None
    histogram: list[int]
    last: tuple[float, str, float | None] | None = None

    def stats(self, key: str, model_id: str, first: int) -> ModelStats:
        """The statistics of these sums (the percentiles as :meth:`Rollup.percentiles` reads
        them, over the buckets that can hold a ping only)."""
        assert self.last is not None
        at, outcome, latency = self.last
        running = list(accumulate(self.histogram))
        p50 = p95 = None
        total = running[-1] if running else 0
        if total:
            low = float(self.least) if self.least is not None else 0.0
            high = float(self.most) if self.most is not None else math.inf
            value = _BUCKET_VALUES[first + bisect_left(running, (total * 50 + 99) // 100)]
            p50 = low if value < low else high if value > high else value
            value = _BUCKET_VALUES[first + bisect_left(running, (total * 95 + 99) // 100)]
            p95 = low if value < low else high if value > high else value
        return ModelStats(
            provider=key,
            model=model_id,
            count=int(self.pings),
            answered=int(self.answered),
            p50_ms=p50,
            p95_ms=p95,
            last_at=at,
            last_outcome=outcome,
            last_latency_ms=latency,
            latency_histogram=self.full_histogram(first),
        )

    def full_histogram(self, first: int) -> tuple[int, ...]:
        """The histogram over every bucket (the sums start at bucket ``first``)."""
        after = LATENCY_BUCKETS - first - len(self.histogram)
        return (0,) * first + tuple(int(n) for n in self.histogram) + (0,) * after


def _names(columns: Any, provider: str | None, model: str | None) -> list[Any]:
    """Conditions on provider_key / model_id, ignoring case."""
    found: list[Any] = []
    if provider is not None:
        found.append(func.lower(columns.provider_key) == provider.lower())
    if model is not None:
        found.append(func.lower(columns.model_id) == model.lower())
    return found


def _stats(key: str, model_id: str, rollup: Rollup) -> ModelStats:
    assert rollup.last is not None
    at, outcome, latency = rollup.last
    p50, p95 = rollup.percentiles(50, 95)
    return ModelStats(
        provider=key,
        model=model_id,
        count=rollup.pings,
        answered=rollup.answered,
        p50_ms=p50,
        p95_ms=p95,
        last_at=at,
        last_outcome=outcome,
        last_latency_ms=latency,
        latency_histogram=tuple(rollup.histogram),
    )


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
