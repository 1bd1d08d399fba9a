"""The ping rollup: observations summed per provider, model, quarter day and UTC day.

Every observation is added to two ``ping_rollup`` rows (its quarter of a UTC day, 6 hours, and
its UTC day) in the transaction that inserts it, by an upsert that increments the counters in
place (``pings = pings + excluded.pings`` ...): concurrent writers never lose an increment,
whatever the backend.

Each row holds the pings, the answered pings, the smallest and largest latency, the newest ping
(time, outcome, latency) and a latency histogram of :data:`LATENCY_BUCKETS` log-scale buckets,
eight per doubling: bucket 0 holds latencies under 1 ms, bucket ``i`` those in
``[2 ** ((i - 1) / 8), 2 ** (i / 8))`` ms, the last one everything from about 116 s on.
A percentile read from the histogram is its bucket's geometric middle, kept within the smallest
and largest latency: within 4.5% of the exact nearest-rank value from 1 ms to 116 s.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import add
from typing import Any

from sqlalchemy import and_, case, delete, or_, select
from sqlmodel import Session

from provider_store.catalog.tables import (
    DAY_SPAN,
    LATENCY_BUCKETS,
    LATENCY_COLUMNS,
    PING_ROLLUP,
    QUARTER_SPAN,
)
from provider_store.errors import StoreError

__all__ = [
    "BUCKETS_PER_DOUBLING",
    "BUCKET_VALUES",
    "RELATIVE_ERROR",
    "Rollup",
    "add_observations",
    "bucket_value",
    "latency_bucket",
    "prune_rollup",
    "ranked_value",
    "rollup_of",
]

BUCKETS_PER_DOUBLING = 8
# The largest relative distance between a bucket's middle and any latency in it (4.4%).
RELATIVE_ERROR = 2 ** (1 / (2 * BUCKETS_PER_DOUBLING)) - 1
SPANS = (QUARTER_SPAN, DAY_SPAN)


def latency_bucket(latency_ms: float) -> int:
    """The histogram bucket of a latency in ms."""
    if not latency_ms >= 1.0:  # also NaN
        return 0
    if math.isinf(latency_ms):
        return LATENCY_BUCKETS - 1
    index = 1 + math.floor(BUCKETS_PER_DOUBLING * math.log2(latency_ms))
    return min(index, LATENCY_BUCKETS - 1)


def bucket_value(index: int) -> float:
    """The value that stands for bucket ``index``: its geometric middle (0.5 ms for bucket 0)."""
    if index <= 0:
        return 0.5
    return float(2 ** ((index - 0.5) / BUCKETS_PER_DOUBLING))


# The value of each bucket, by index.
BUCKET_VALUES = tuple(bucket_value(index) for index in range(LATENCY_BUCKETS))


def ranked_value(
    running: Sequence[int], percent: int, values: Sequence[float], low: float, high: float
) -> float:
    """The nearest-rank ``percent`` percentile of a histogram given as the running totals of its
    buckets (the last one not zero), each bucket standing for its value in ``values``, kept
    within the smallest and largest latency ``low`` and ``high``."""
    value = values[bisect_left(running, (running[-1] * percent + 99) // 100)]
    return low if value < low else high if value > high else value


@dataclass(slots=True)
class Rollup:
    """Pings of one model summed over some buckets (and raw observations)."""

    pings: int = 0
    answered: int = 0
    latency_min: float | None = None
    latency_max: float | None = None
    last: tuple[float, str, float | None] | None = None  # (at, outcome, latency_ms)
    histogram: list[int] = field(default_factory=lambda: [0] * LATENCY_BUCKETS)

    def add_ping(self, at: float, outcome: str, latency_ms: float | None) -> None:
        """Count one observation (later calls win ties of ``at``: they were written later)."""
        self.pings += 1
        if outcome == "answered":
            self.answered += 1
        if latency_ms is not None:
            self.histogram[latency_bucket(latency_ms)] += 1
            self.latency_min = _smaller(self.latency_min, latency_ms)
            self.latency_max = _larger(self.latency_max, latency_ms)
        if self.last is None or at >= self.last[0]:
            self.last = (at, outcome, latency_ms)

    def add_sums(
        self,
        pings: int,
        answered: int,
        latency_min: float | None,
        latency_max: float | None,
        histogram: Sequence[int],
        first: int = 0,
    ) -> None:
        """Add the sums of rollup rows (summed by SQL): counts, latency range, and the
        histogram's buckets ``first`` on (those before and after it hold nothing)."""
        self.pings += pings
        self.answered += answered
        end = first + len(histogram)
        self.histogram[first:end] = map(add, self.histogram[first:end], histogram)
        if latency_min is not None:
            self.latency_min = _smaller(self.latency_min, float(latency_min))
        if latency_max is not None:
            self.latency_max = _larger(self.latency_max, float(latency_max))

    def take_last(self, at: float, outcome: str, latency_ms: float | None) -> None:
        """Keep (at, outcome, latency) as the newest ping when it is newer than the one kept."""
        if self.last is None or at > self.last[0]:
            self.last = (at, outcome, latency_ms)

    def percentiles(self, *percents: int) -> list[float | None]:
        """Nearest-rank percentiles of the latencies, to the histogram's resolution."""
        running = list(accumulate(self.histogram))
        if not running[-1]:
            return [None for _ in percents]
        low = self.latency_min if self.latency_min is not None else 0.0
        high = self.latency_max if self.latency_max is not None else math.inf
        return [ranked_value(running, percent, BUCKET_VALUES, low, high) for percent in percents]

    def as_row(self) -> dict[str, Any]:
        """The row's counters (without its key columns)."""
        assert self.last is not None
        row: dict[str, Any] = {
            "pings": self.pings,
            "answered": self.answered,
            "latency_min": self.latency_min,
            "latency_max": self.latency_max,
            "last_at": self.last[0],
            "last_outcome": self.last[1],
            "last_latency_ms": self.last[2],
        }
        row.update(zip(LATENCY_COLUMNS, self.histogram, strict=True))
        return row


def rollup_of(observations: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, int, int], Rollup]:
    """The rollup rows of ``observations`` (mappings with provider_key, model_id, at, outcome,
    latency_ms), by (provider_key, model_id, span, start), in the order given."""
    rows: dict[tuple[str, str, int, int], Rollup] = {}
    for obs in observations:
        at = float(obs["at"])
        for span in SPANS:
            key = (obs["provider_key"], obs["model_id"], span, int(at // span) * span)
            rollup = rows.get(key)
            if rollup is None:
                rollup = rows[key] = Rollup()
            rollup.add_ping(at, obs["outcome"], obs["latency_ms"])
    return rows


def add_observations(session: Session, observations: list[dict[str, Any]]) -> None:
    """Add ``observations`` to the rollup, in the caller's transaction (the one inserting them)."""
    if not observations:
        return
    # In key order, so two writers of the same rows lock them in the same order (no deadlock).
    params = [
        {"provider_key": key, "model_id": model, "span": span, "start": start, **r.as_row()}
        for (key, model, span, start), r in sorted(
            rollup_of(observations).items(), key=lambda item: item[0]
        )
    ]
    session.execute(_upsert(session.get_bind().dialect.name), params)


@functools.cache
def _upsert(dialect: str) -> Any:
    """The rollup's upsert for ``dialect``, built once: its ~140 column expressions cost
    milliseconds to build, more than running it."""
    stmt: Any
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(PING_ROLLUP)
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(PING_ROLLUP)
    else:  # pragma: no cover - the catalog runs on SQLite and PostgreSQL
        raise StoreError(f"the ping rollup needs SQLite or PostgreSQL, not {dialect}")
    new = stmt.excluded
    c = PING_ROLLUP.c
    newer = new.last_at >= c.last_at
    counters = {name: c[name] + new[name] for name in ("pings", "answered", *LATENCY_COLUMNS)}
    return stmt.on_conflict_do_update(
        index_elements=["provider_key", "model_id", "span", "start"],
        set_={
            **counters,
            "latency_min": case(
                (c.latency_min.is_(None), new.latency_min),
                (new.latency_min < c.latency_min, new.latency_min),
                else_=c.latency_min,
            ),
            "latency_max": case(
                (c.latency_max.is_(None), new.latency_max),
                (new.latency_max > c.latency_max, new.latency_max),
                else_=c.latency_max,
            ),
            "last_at": case((newer, new.last_at), else_=c.last_at),
            "last_outcome": case((newer, new.last_outcome), else_=c.last_outcome),
            "last_latency_ms": case((newer, new.last_latency_ms), else_=c.last_latency_ms),
        },
    )


def prune_rollup(session: Session, cutoff: float, limit: int | None = None) -> int:
    """Delete rollup rows whose bucket ended by ``cutoff`` (with ``limit``: the oldest, about
    that many: every row of the last bucket start reached goes too); the rows deleted."""
    c = PING_ROLLUP.c
    ended = or_(*(and_(c.span == span, c.start <= cutoff - span) for span in SPANS))
    stmt = delete(PING_ROLLUP).where(ended)
    if limit is not None:
        nth = session.execute(
            select(c.start).where(ended).order_by(c.start).offset(limit).limit(1)
        ).scalar_one_or_none()
        if nth is not None:
            stmt = stmt.where(c.start <= nth)
    return int(getattr(session.execute(stmt), "rowcount", 0) or 0)


def _smaller(a: float | None, b: float) -> float:
    return b if a is None or b < a else a


def _larger(a: float | None, b: float) -> float:
    return b if a is None or b > a else a
