"""The catalog's memory: change events of listings, confirmed removals, ping observations.

Listings go through the real cache write path (``discovery.cache.finish`` over a store backend);
pings go to a real loopback provider; time is frozen with freezegun.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import make_url, select

from provider_store import (
    ChangeEvent,
    EventType,
    ModelDiscoveryService,
    ProviderConfig,
    ProviderStore,
)
from provider_store.catalog.cache_rows import MODEL_TABLE
from provider_store.cli import cli
from provider_store.discovery import cache
from provider_store.errors import BadResponseError, InvalidDocumentError
from provider_store.history.listing_events import compared_fields
from provider_store.history.ping_rollup import RELATIVE_ERROR
from provider_store.testing import FakeProvider

KEY = "sk-test-history-0123"
START = 1_800_000_000.0
UNIVERSE = ["m-a", "m-b", "m-c", "m-d", "m-e"]
CURATED = {"m-a": "alpha", "m-b": "beta"}


# -- helpers ------


def add_provider(store: ProviderStore, key: str, url: str = "http://127.0.0.1:9/v1") -> None:
    config = ProviderConfig(name=key, base_api_url=url, api_key=KEY, valid_models=dict(CURATED))
    store.save_config(key, config)


def listing(
    store: ProviderStore, key: str, outcome: list[dict[str, Any]] | BadResponseError
) -> None:
    """One refresh through the real cache write path: a list, or the failure it ended with."""
    config = store.get_config(key)
    backend = cache.StoreBackend(store, config, key, lease_seconds=30.0, wait_seconds=0.0)
    step = cache.Step(backend.load())
    text = f"BadResponseError: {outcome}" if isinstance(outcome, BadResponseError) else ""
    cache.finish(backend, step, outcome, text)


def items(models: dict[str, float | None]) -> list[dict[str, Any]]:
    """List items; a price of None lists the model without pricing (a thinner list)."""
    out: list[dict[str, Any]] = []
    for model_id, price in models.items():
        item: dict[str, Any] = {"id": model_id, "object": "model"}
        if price is not None:
            item["pricing"] = {"input": price, "output": price * 2}
        out.append(item)
    return out


State = dict[str, dict[str, Any]]


def catalog_state(store: ProviderStore, key: str) -> State:
    """What the history describes of each model row: sighting, absence, status, metadata."""
    provider_id = store.read_cache(key).provider_id
    m = MODEL_TABLE.c
    names = compared_fields()
    state: State = {}
    with store.read() as session:
        rows = session.execute(
            select(
                m.model_id,
                m.first_seen_at,
                m.missing_count,
                m.missing_since,
                m.removed_at,
                m.status,
                *[m[n] for n in names],
            ).where(m.provider_id == provider_id)
        )
        for model_id, first_seen, count, since, removed, status, *meta in rows:
            state[model_id] = {
                "seen": first_seen is not None,
                "missing_count": count,
                "missing_since": since,
                "removed": removed is not None,
                "status": status,
                "meta": dict(zip(names, meta, strict=True)),
            }
    return state


def replay(before: State, events: list[ChangeEvent]) -> State:
    """Apply stored events (oldest first) to the state before a refresh."""
    state = json.loads(json.dumps(before))
    names = compared_fields()
    for event in sorted(events, key=lambda e: e.id):
        row = state.setdefault(
            event.model,
            {
                "seen": False,
                "missing_count": 0,
                "missing_since": None,
                "removed": False,
                "status": "unverified",
                "meta": dict.fromkeys(names),
            },
        )
        if event.type is EventType.ADDED:
            row.update(seen=True, meta={n: event.new.get(n) for n in names})
        elif event.type is EventType.CHANGED:
            row["meta"][event.field] = event.new
        elif event.type is EventType.MISSING:
            row["missing_count"] = event.new
            if row["missing_since"] is None:
                row["missing_since"] = event.observed_at
        elif event.type is EventType.REMOVED:
            row.update(removed=True, missing_count=event.new, status="unverified")
            if row["missing_since"] is None:
                row["missing_since"] = event.observed_at
        elif event.type is EventType.REAPPEARED:
            row.update(missing_count=0, missing_since=None, removed=False, status=event.new)
    return state


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(["m-a", "m-b"], api_key=KEY) as server:
        yield server


# -- the property: events reproduce every refresh, removals are confirmed ------

price = st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.5]))
complete = st.tuples(
    st.just("complete"), st.dictionaries(st.sampled_from(UNIVERSE), price, max_size=5)
)
failed = st.tuples(st.sampled_from(["failed", "partial", "empty"]), st.just({}))
step_strategy = st.tuples(
    st.one_of(complete, failed), st.sampled_from([0.0, 600.0, 1800.0, 4000.0])
)


# Each example is one provider's sequence of listings; which events a sequence makes is decided in
# Python, so the PostgreSQL copy replays a quarter as many (what it adds is the same rows stored
# and read back there).
EXAMPLES = {"sqlite": 40, "postgresql": 10}


def test_events_reproduce_each_refresh_and_removals_need_n_complete_listings_and_the_age(
    store: ProviderStore,
) -> None:
    @settings(
        max_examples=EXAMPLES[make_url(store.url).get_backend_name()],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(steps=st.lists(step_strategy, min_size=1, max_size=8))
    def check(steps: list[tuple[tuple[str, dict[str, float | None]], float]]) -> None:
        key = f"p{uuid.uuid4().hex[:10]}"
        add_provider(store, key)
        with freeze_time(_iso(START)) as clock:
            for (kind, models), wait in steps:
                clock.tick(wait)
                before = catalog_state(store, key)
                had_list = bool(store.read_cache(key).models)
                strikes = store.read_cache(key).empty_list_strikes
                newest = store.changes(provider=key, limit=1)
                last_id = newest[0].id if newest else 0
                if kind == "complete":
                    listing(store, key, items(models))
                elif kind == "empty":
                    listing(store, key, [])
                else:  # a transport failure, or a paging error that ended the list half-way
                    listing(store, key, BadResponseError(f"{kind} listing"))
                after = catalog_state(store, key)
                events = [e for e in store.changes(provider=key, limit=None) if e.id > last_id]
                suspect = kind == "empty" and had_list and strikes < 1
                if kind in ("failed", "partial") or suspect:
                    assert events == [] and after == before
                    continue
                assert replay(before, events) == after
                confirmations, min_age = 2, 3600.0
                for event in events:
                    if event.type is EventType.REMOVED:
                        assert event.new >= confirmations
                        since = before[event.model]["missing_since"]
                        assert since is not None and event.observed_at - since >= min_age

    check()


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat()


# -- removal, resolution and reappearance ------


def test_a_removed_model_leaves_valid_models_and_comes_back_with_its_alias(
    store: ProviderStore,
) -> None:
    add_provider(store, "p")
    with freeze_time(_iso(START)) as clock:
        listing(store, "p", items({"m-a": 1.0, "m-b": 1.0}))
        listing(store, "p", items({"m-b": 1.0}))  # m-a missing once: still resolves
        assert store.get_config("p").valid_models == {"m-a": "alpha", "m-b": "beta"}
        clock.tick(600)
        listing(store, "p", items({"m-b": 1.0}))  # twice, but not yet an hour
        assert "m-a" in store.get_config("p").valid_models
        clock.tick(3600)
        listing(store, "p", items({"m-b": 1.0}))  # three times, over an hour: removed
        assert store.get_config("p").valid_models == {"m-b": "beta"}
        listing(store, "p", items({"m-a": 1.0, "m-b": 1.0}))
        assert store.get_config("p").valid_models == {"m-a": "alpha", "m-b": "beta"}
    kinds = [(e.type.value, e.model) for e in reversed(store.changes(provider="p"))]
    assert kinds == [
        ("added", "m-a"),
        ("added", "m-b"),
        ("missing", "m-a"),
        ("missing", "m-a"),
        ("removed", "m-a"),
        ("reappeared", "m-a"),
    ]


def test_the_removal_policy_is_per_provider(store: ProviderStore) -> None:
    add_provider(store, "p")
    store.rows.set_removal_policy("p", confirmations=1, min_age_seconds=0)
    listing(store, "p", items({"m-a": None, "m-b": None}))
    listing(store, "p", items({"m-b": None}))
    assert [e.type for e in store.changes(provider="p", types=["removed"])] == [EventType.REMOVED]
    with pytest.raises(InvalidDocumentError, match="whole number from 1"):
        store.rows.set_removal_policy("p", confirmations=0)


def test_a_thinner_list_is_no_change_and_a_new_price_is(store: ProviderStore) -> None:
    add_provider(store, "p")
    listing(store, "p", items({"m-a": 1.0}))
    listing(store, "p", items({"m-a": None}))  # the pricing is gone from the list: no event
    assert [e.type for e in store.changes(provider="p")] == [EventType.ADDED]
    listing(store, "p", items({"m-a": 3.0}))
    changed = store.changes(provider="p", types=[EventType.CHANGED])
    assert {(e.field, e.old, e.new) for e in changed} == {
        ("input_price", 1.0, 3.0),
        ("output_price", 2.0, 6.0),
    }


# -- pings: observations and verdict events ------


def test_every_ping_keeps_an_observation_and_verdict_changes_are_events(
    store: ProviderStore, fake: FakeProvider
) -> None:
    add_provider(store, "p", fake.base_url)
    fake.set_model_behaviour("m-b", "refuse")
    with ModelDiscoveryService(store, revalidate_after=0) as service:
        config = store.get_config("p")
        assert service.check_model(config, "m-a").valid
        assert not service.check_model(config, "m-b").valid
        service.check_model(config, "m-a")
    stats = {s.model: s for s in store.model_stats(provider="p")}
    assert stats["m-a"].count == 2 and stats["m-a"].availability == 1.0
    assert stats["m-a"].p50_ms is not None and stats["m-a"].p50_ms > 0
    assert stats["m-b"].last_outcome == "invalid" and stats["m-b"].availability == 0.0
    verdicts = [(e.model, e.old, e.new) for e in store.changes(types=["verdict"])]
    assert sorted(verdicts) == [("m-a", None, "valid"), ("m-b", None, "invalid")]


def test_models_stats_and_show_on_the_command_line(
    store: ProviderStore, fake: FakeProvider
) -> None:
    add_provider(store, "p", fake.base_url)
    with ModelDiscoveryService(store) as service:
        service.check_model(store.get_config("p"), "m-a")
    code, out = run_cli("--db", store.url, "models", "stats", "p", "--json")
    assert code == 0
    [row] = json.loads(out)
    assert (row["model"], row["count"], row["availability"]) == ("m-a", 1, 1.0)
    code, out = run_cli("--db", store.url, "models", "show", "p/m-a", "--json")
    data = json.loads(out)
    assert data["availability_7d"] == 1.0 and data["last_latency_ms"] > 0
    code, out = run_cli("--db", store.url, "models", "stats")
    assert code == 0 and "p/m-a" in out and "100%" in out


# -- reading the feed ------


def test_changes_filters_and_piped_lines_stay_whole(store: ProviderStore) -> None:
    add_provider(store, "p")
    long_id = "org/" + "x" * 120
    with freeze_time(_iso(START)) as clock:
        listing(store, "p", items({"m-a": 1.0, long_id: 1.0}))
        clock.tick(86400 * 3)
        listing(store, "p", items({"m-a": 2.0, long_id: 1.0}))
        code, out = run_cli("--db", store.url, "changes")
        assert code == 0
        lines = out.splitlines()
        assert len(lines) == 4 and any(line.endswith(f"p/{long_id}") for line in lines)
        assert any(line.endswith("p/m-a  input_price: 1 -> 2") for line in lines)
        code, out = run_cli("--db", store.url, "changes", "--since", "1d", "--json")
        assert {e["type"] for e in json.loads(out)} == {"changed"}
        code, out = run_cli(
            "--db", store.url, "changes", "--type", "added", "--model", "M-A", "--json"
        )
        assert [(e["type"], e["model"]) for e in json.loads(out)] == [("added", "m-a")]
    code, out = run_cli("--db", store.url, "changes", "--type", "vanished")
    assert code == 2 and "vanished" in out
    code, out = run_cli("--db", store.url, "changes", "--since", "last tuesday")
    assert code == 2 and "--since" in out


def test_old_history_is_pruned_by_writes_and_on_demand(store: ProviderStore) -> None:
    add_provider(store, "p")
    with freeze_time(_iso(START)) as clock:
        listing(store, "p", items({"m-a": 1.0}))
        clock.tick(86400 * 91)
        listing(store, "p", items({"m-a": 1.0, "m-b": 1.0}))  # prunes the 91-day-old event
        assert [(e.type, e.model) for e in store.changes(provider="p")] == [
            (EventType.ADDED, "m-b")
        ]
        store.set_retention_days(1)
        clock.tick(86400 * 2)
        code, out = run_cli("--db", store.url, "db", "prune", "--json")
        assert code == 0 and json.loads(out)["events"] == 1
    assert store.changes(provider="p") == []


def test_stats_give_nearest_rank_percentiles_and_outcome_classes(store: ProviderStore) -> None:
    from provider_store import ValidationResult, Verdict
    from provider_store.history.ping_history import record_verdict_history

    add_provider(store, "p")
    answers = [
        ValidationResult("m-a", Verdict.VALID, "pong (HTTP 200)", START + i, latency_ms=float(i))
        for i in range(1, 21)
    ]
    others = [
        ("rate limited (HTTP 429)", None, "quota"),
        ("provider problem: API key rejected (HTTP 401)", "API key rejected (HTTP 401)", "auth"),
        ("HTTP 400: unsupported parameter max_tokens", None, "parameter_refused"),
        ("stopped by a content filter", None, "filtered"),
        ("timed out after 10.0 s", None, "timeout"),
        ("connection refused", None, "network"),
    ]
    failures = [
        ValidationResult(
            f"m-{n}", Verdict.INCONCLUSIVE, reason, START, problem=problem, latency_ms=5.0
        )
        for n, (reason, problem, _outcome) in enumerate(others)
    ]
    with store.transaction() as session:
        record_verdict_history(session, "p", answers + failures)
    stats = {s.model: s for s in store.model_stats(provider="P")}
    a = stats["m-a"]
    assert (a.count, a.last_latency_ms) == (20, 20.0)
    # Nearest-rank percentiles (10 and 19 ms), read from the latency histogram.
    assert a.p50_ms == pytest.approx(10.0, rel=RELATIVE_ERROR)
    assert a.p95_ms == pytest.approx(19.0, rel=RELATIVE_ERROR)
    assert [stats[f"m-{n}"].last_outcome for n in range(len(others))] == [
        outcome for _r, _p, outcome in others
    ]
    assert store.model_stats(since=START + 15, model="m-a")[0].count == 6
