"""``models stats`` from the ping rollup: the same answers as a count of every observation.

Observations go through the real write path (``write_observations``, as a verdict write makes
them) into a real catalog on each backend; the expected statistics are computed here from the
observation rows themselves, the way ``models stats`` read them before the rollup.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable
from typing import Any

import pytest
from helpers import run_cli
from sqlalchemy import Engine, select

from provider_store import ModelStats, ProviderConfig, ProviderStore
from provider_store.catalog.tables import DAY_SPAN, PING_ROLLUP, QUARTER_SPAN, Observation
from provider_store.history.ping_history import write_observations
from provider_store.history.ping_rollup import RELATIVE_ERROR, rollup_of
from provider_store.history.retention import prune

OBSERVATION = Observation.__table__  # type: ignore[attr-defined]
DAY0 = 1_799_971_200.0  # 2027-01-15T00:00:00Z
OUTCOMES = ["answered", "answered", "answered", "timeout", "quota", "invalid"]


def random_pings(rng: random.Random, count: int, days: float = 10.0) -> list[dict[str, Any]]:
    """Pings of 3 providers x 4 models over ``days`` days, some at the same instant, some
    without a latency, latencies from 1 ms to about 2 minutes."""
    rows = []
    for _ in range(count):
        at = DAY0 + rng.uniform(0, days * DAY_SPAN)
        if rng.random() < 0.05:
            at = DAY0 + rng.randrange(int(days * 4)) * QUARTER_SPAN  # a quarter day's first second
        latency = None if rng.random() < 0.05 else min(1.0 + rng.lognormvariate(6, 1.5), 1.2e5)
        rows.append(
            {
                "provider_key": f"p{rng.randrange(3)}",
                "model_id": f"Model-{rng.randrange(4)}",
                "at": at,
                "outcome": rng.choice(OUTCOMES),
                "http_status": 200,
                "latency_ms": latency,
            }
        )
    return rows


def write(store: ProviderStore, rows: list[dict[str, Any]], rng: random.Random) -> None:
    """Write ``rows`` in transactions of random sizes (as separate verdict writes would)."""
    first = 0
    while first < len(rows):
        size = rng.randint(1, 60)
        with store.transaction() as session:
            write_observations(session, rows[first : first + size])
        first += size


def counted(
    store: ProviderStore,
    since: float | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> dict[tuple[str, str], dict[str, Any]]:
    """The statistics counted from every observation row (exact percentiles)."""
    o = OBSERVATION.c
    query = select(o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms, o.id)
    with store.read() as session:
        rows = session.execute(query.order_by(o.id)).all()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for key, model_id, at, outcome, latency, row_id in rows:
        if since is not None and at < since:
            continue
        if provider is not None and key.lower() != provider.lower():
            continue
        if model is not None and model_id.lower() != model.lower():
            continue
        g = groups.setdefault((key, model_id), {"count": 0, "answered": 0, "lat": []})
        g["count"] += 1
        g["answered"] += outcome == "answered"
        if latency is not None:
            g["lat"].append(latency)
        if "last" not in g or (at, row_id) > g["last"][:2]:
            g["last"] = (at, row_id, outcome, latency)
    return groups


def nearest_rank(values: list[float], percent: int) -> float | None:
    ordered = sorted(values)
    return ordered[(len(ordered) * percent + 99) // 100 - 1] if ordered else None


def assert_same(stats: list[ModelStats], expected: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert [(s.provider, s.model) for s in stats] == sorted(expected)
    for s in stats:
        e = expected[(s.provider, s.model)]
        assert (s.count, s.answered) == (e["count"], e["answered"])
        assert (s.last_at, s.last_outcome, s.last_latency_ms) == e["last"][:1] + e["last"][2:]
        for got, percent in ((s.p50_ms, 50), (s.p95_ms, 95)):
            exact = nearest_rank(e["lat"], percent)
            if exact is None:
                assert got is None
            else:
                assert got == pytest.approx(exact, rel=RELATIVE_ERROR + 1e-9)


def rollup_rows(engine: Engine) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    """Every ping_rollup row by key."""
    with engine.connect() as conn:
        rows = conn.execute(select(PING_ROLLUP)).mappings().all()
    return {(r["provider_key"], r["model_id"], r["span"], r["start"]): dict(r) for r in rows}


def summed_observations(
    engine: Engine, observations: Iterable[dict[str, Any]] | None = None
) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    """What the rollup must hold for the stored observations (read in id order)."""
    if observations is None:
        o = OBSERVATION.c
        with engine.connect() as conn:
            observations = [
                dict(r)
                for r in conn.execute(
                    select(o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms).order_by(o.id)
                ).mappings()
            ]
    return {
        key: {"provider_key": key[0], "model_id": key[1], "span": key[2], "start": key[3]}
        | rollup.as_row()
        for key, rollup in rollup_of(observations).items()
    }


@pytest.fixture
def pinged(store: ProviderStore) -> ProviderStore:
    for key in ("p0", "p1", "p2"):
        store.save_config(key, ProviderConfig(name=key))
    rng = random.Random(19)
    write(store, random_pings(rng, 1500), rng)
    return store


def test_stats_equal_a_count_of_every_observation_for_any_window(pinged: ProviderStore) -> None:
    rng = random.Random(7)
    windows: list[float | None] = [
        None,
        DAY0 - 1,  # before every ping
        DAY0 + 3 * DAY_SPAN,  # a UTC midnight: only day rows
        DAY0 + 3 * DAY_SPAN + 2 * QUARTER_SPAN,  # a quarter day's start: quarter, then day rows
        DAY0 + 20 * DAY_SPAN,  # after every ping
        *(DAY0 + rng.uniform(0, 10 * DAY_SPAN) for _ in range(12)),  # raw rows too
    ]
    for since in windows:
        assert_same(pinged.model_stats(since=since), counted(pinged, since))
    since = DAY0 + 4.5 * DAY_SPAN + 1234.5
    assert_same(pinged.model_stats(since=since, provider="P1"), counted(pinged, since, "p1"))
    assert_same(
        pinged.model_stats(since=since, provider="p2", model="model-3"),
        counted(pinged, since, "p2", "model-3"),
    )
    assert pinged.model_stats(provider="nobody") == []


def test_the_rollup_holds_exactly_the_sums_of_the_observations(pinged: ProviderStore) -> None:
    assert rollup_rows(pinged.engine) == summed_observations(pinged.engine)


def test_a_ping_counts_from_the_instant_it_happened(store: ProviderStore) -> None:
    at = DAY0 + 2 * DAY_SPAN + QUARTER_SPAN + 600.25
    rows = [
        {
            "provider_key": "p",
            "model_id": "m",
            "at": at,
            "outcome": "answered",
            "latency_ms": 100.0,
        },
        {
            "provider_key": "p",
            "model_id": "m",
            "at": at + 1,
            "outcome": "timeout",
            "latency_ms": 9000.0,
        },
    ]
    with store.transaction() as session:
        write_observations(session, [{**r, "http_status": None} for r in rows])
    [both] = store.model_stats(since=at)
    assert (both.count, both.availability, both.last_outcome) == (2, 0.5, "timeout")
    assert both.p50_ms == pytest.approx(100.0, rel=RELATIVE_ERROR)
    [one] = store.model_stats(since=at + 0.5)
    # A percentile stays within the smallest and largest latency: one ping's is exact.
    assert (one.count, one.p50_ms, one.p95_ms) == (1, 9000.0, 9000.0)
    assert store.model_stats(since=at + 1.5) == []


def test_pings_without_a_latency_count_but_give_no_percentile(store: ProviderStore) -> None:
    rows = [
        {
            "provider_key": "p",
            "model_id": "m",
            "at": DAY0 + n * 600.0,
            "outcome": "network",
            "http_status": None,
            "latency_ms": None,
        }
        for n in range(10)
    ]
    with store.transaction() as session:
        write_observations(session, rows)
    for since in (None, DAY0 + 1500.0):
        [stats] = store.model_stats(since=since)
        assert (stats.p50_ms, stats.p95_ms, stats.availability) == (None, None, 0.0)
    assert store.model_stats(since=DAY0 + 1500.0)[0].count == 7


def test_pruning_keeps_the_rollup_the_sum_of_the_kept_observations(
    pinged: ProviderStore,
) -> None:
    with pinged.transaction() as session:
        from provider_store.history.retention import set_retention_days

        set_retention_days(session, 4)
        report = prune(session, now=DAY0 + 8 * DAY_SPAN + 3 * QUARTER_SPAN)
    assert report.cutoff == DAY0 + 4 * DAY_SPAN  # whole UTC days
    assert report.observations > 0 and report.rollup_rows > 0
    assert rollup_rows(pinged.engine) == summed_observations(pinged.engine)
    assert_same(pinged.model_stats(), counted(pinged))
    assert min(s.last_at for s in pinged.model_stats()) >= report.cutoff


def test_a_bounded_prune_deletes_the_oldest_rollup_rows_first(pinged: ProviderStore) -> None:
    before = rollup_rows(pinged.engine)
    with pinged.transaction() as session:
        from provider_store.history.retention import set_retention_days

        set_retention_days(session, 1)
        report = prune(session, now=DAY0 + 30 * DAY_SPAN, limit=10)
    after = rollup_rows(pinged.engine)
    gone = sorted(key[3] for key in set(before) - set(after))
    assert len(before) - len(after) == report.rollup_rows >= 10
    assert max(gone) <= min(key[3] for key in after)


def test_models_stats_help_states_the_resolution(store: ProviderStore) -> None:
    code, out, _ = run_cli(None, "models", "stats", "--help")
    assert code == 0 and "4.5%" in out


def test_models_stats_json_of_the_command_line(pinged: ProviderStore) -> None:
    code, out, _ = run_cli(
        None,
        "--db",
        pinged.url,
        "models",
        "stats",
        "p0/model-1",
        "--since",
        "2027-01-20T00:00:00Z",
        "--json",
    )
    assert code == 0
    [row] = json.loads(out)
    since = DAY0 + 5 * DAY_SPAN
    expected = counted(pinged, since, "p0", "model-1")[("p0", "Model-1")]
    assert (row["model"], row["count"]) == ("Model-1", expected["count"])
    assert math.isclose(row["availability"], round(expected["answered"] / expected["count"], 4))
