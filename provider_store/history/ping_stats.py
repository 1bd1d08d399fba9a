"""Statistics of ping observations per model: count, availability, latency percentiles.

Read from the ping rollup (:mod:`provider_store.history.ping_rollup`), not from every ping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter
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
from provider_store.history.ping_rollup import BUCKET_VALUES, Rollup, latency_bucket, ranked_value
from provider_store.rules.times import iso_utc

__all__ = ["ModelStats", "model_stats"]

# A row's (provider_key, model_id): the order of the statistics.
_PAIR = itemgetter(0, 1)


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
        func.count(),
        func.max(r.last_at),
        func.min(r.last_outcome),
        func.min(r.last_latency_ms),
        func.sum(r.pings),
        func.sum(r.answered),
        func.min(r.latency_min),
        func.max(r.latency_max),
        *(func.sum(r[name]) for name in columns),
    )
    # Per model: how many rollup rows it has in the window, their newest ping (exact when it is
    # one row: the aggregates of one row are its values), the sums of the rows, the histogram
    # only from bucket ``first`` on (the rest hold nothing); fetched at once.
    rows = session.execute(totals.where(*conditions).group_by(*keys)).all()
    newest: dict[tuple[str, str], tuple[float, str, float | None]] = {}
    if any(row[2] > 1 for row in rows):  # the newest ping of several rows: read from each
        recent = select(*keys, r.last_at, r.last_outcome, r.last_latency_ms).where(*conditions)
        for key, model_id, at, outcome, latency in session.execute(recent).all():
            kept = newest.get((key, model_id))
            if kept is None or at > kept[0]:
                newest[(key, model_id)] = (at, outcome, latency)
    rollups: dict[tuple[str, str], Rollup] = {}
    if since is not None and since < first_part:
        rollups = _with_edge(session, rows, newest, first, since, first_part, provider, model)
    found: list[ModelStats] = []
    read = _reader(first, len(columns), newest)
    for row in sorted(rows, key=_PAIR) if not rollups else ():
        if row[6]:
            found.append(read(row))
    if rollups:
        summed = {(row[0], row[1]): row for row in rows}
        for pair in sorted(summed.keys() | rollups.keys()):
            rollup = rollups.get(pair)
            if rollup is not None:
                if rollup.pings:
                    found.append(_stats(pair[0], pair[1], rollup))
            elif summed[pair][6]:
                found.append(read(summed[pair]))
    return found


def _with_edge(
    session: Session,
    rows: Sequence[Sequence[Any]],
    newest: dict[tuple[str, str], tuple[float, str, float | None]],
    first: int,
    since: float,
    first_part: int,
    provider: str | None,
    model: str | None,
) -> dict[tuple[str, str], Rollup]:
    """A Rollup for each model pinged in ``[since, first_part)``: its rollup sums (``rows``,
    histogram from bucket ``first`` on) plus those observations, read one by one."""
    o = OBSERVATION_TABLE.c
    edge = (
        select(o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms)
        .where(o.at >= since, o.at < first_part, *_names(o, provider, model))
        .order_by(o.id)
    )
    summed: dict[tuple[str, str], Sequence[Any]] | None = None
    rollups: dict[tuple[str, str], Rollup] = {}
    for key, model_id, at, outcome, latency in session.execute(edge):
        if summed is None:
            summed = {(row[0], row[1]): row for row in rows}
        sums = summed.get((key, model_id))
        rollup = rollups.get((key, model_id))
        if rollup is None:
            rollup = rollups[(key, model_id)] = Rollup()
            if sums is not None:
                pings, answered, least, most, *histogram = sums[6:]
                rollup.add_sums(pings, answered, least, most, histogram, first)
        # Older than every rollup row read: the newest ping stays the rollup's.
        rollup.add_ping(at, outcome, latency)
        if sums is not None:
            rollup.take_last(*newest.get((key, model_id), sums[3:6]))
    return rollups


def _reader(
    first: int, width: int, newest: dict[tuple[str, str], tuple[float, str, float | None]]
) -> Callable[[Sequence[Any]], ModelStats]:
    """The statistics of one row of rollup sums (provider, model, rows, newest ping's time,
    outcome and latency, pings, answered, smallest and largest latency, ``width`` histogram
    buckets from bucket ``first`` on; the newest ping from ``newest`` when there); the
    percentiles as :meth:`Rollup.percentiles` reads them, over the buckets that can hold a ping
    only."""
    values = BUCKET_VALUES[first:]
    before, after = (0,) * first, (0,) * (LATENCY_BUCKETS - first - width)

    def read(row: Sequence[Any]) -> ModelStats:
        key, model_id, _rows, *last = row[:6]
        pings, answered, least, most, *histogram = row[6:]
        at, outcome, latency = newest.get((key, model_id), last)
        p50 = p95 = None
        running = list(accumulate(histogram))
        if running and running[-1]:
            low = float(least) if least is not None else 0.0
            high = float(most) if most is not None else math.inf
            p50 = ranked_value(running, 50, values, low, high)
            p95 = ranked_value(running, 95, values, low, high)
        return ModelStats(
            provider=key,
            model=model_id,
            count=int(pings),
            answered=int(answered),
            p50_ms=p50,
            p95_ms=p95,
            last_at=at,
            last_outcome=outcome,
            last_latency_ms=latency,
            latency_histogram=(*before, *histogram, *after),  # sums of integers: ints
        )

    return read


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
