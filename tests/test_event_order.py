"""The change feed's order is the database's own sequence, not the wall clock.

A clock that steps back (a VM restored, NTP correcting a fast clock) gives new events earlier
times than old ones: they still list first, and a ``--since`` window that holds older events
holds them too. Time is moved with freezegun; listings go through the real cache write path.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time
from helpers import run_cli

from provider_store import EventType, ProviderConfig, ProviderStore
from provider_store.discovery import cache

T = 1_800_000_000.0
DAY = 86400.0


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def listing(store: ProviderStore, ids: list[str]) -> None:
    config = store.get_config("p")
    backend = cache.StoreBackend(store, config, "p", lease_seconds=30.0, wait_seconds=0.0)
    items: list[dict[str, Any]] = [{"id": i, "object": "model"} for i in ids]
    cache.finish(backend, cache.Step(backend.load()), items, "")


def test_after_a_clock_step_back_new_events_list_first_and_stay_in_the_window(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.save_config("p", ProviderConfig(base_api_url="http://127.0.0.1:9/v1", api_key="k" * 12))
    with freeze_time() as clock:
        clock.move_to(at(T))
        listing(store, ["a", "b"])
        clock.move_to(at(T + 3600))
        listing(store, ["a"])  # b goes missing
        clock.move_to(at(T - 2 * DAY))  # the clock steps back two days
        listing(store, ["a", "b"])  # b reappears, stamped two days "earlier"
        newest = store.changes()
        assert [(e.model, e.type) for e in newest[:2]] == [
            ("b", EventType.REAPPEARED),
            ("b", EventType.MISSING),
        ]
        assert [e.id for e in newest] == sorted((e.id for e in newest), reverse=True)

        clock.move_to(at(T + 2 * 3600))  # and is put right again
        code, out, err = run_cli(capsys, "--db", store.url, "changes", "--since", "1d", "--json")
        assert code == 0, err
        shown = [(e["model"], e["type"]) for e in json.loads(out)]
        assert shown[0] == ("b", "reappeared")
        assert sorted(shown) == [("a", "added"), ("b", "added"), ("b", "missing"),
                                 ("b", "reappeared")]  # fmt: skip
        # --since still means time: a window after every event holds none of them.
        assert store.changes(since=T + 3 * 3600) == []
        late = store.changes(since=T + 1800)  # from the first event written in it on
        assert [(e.model, e.type) for e in late] == [
            ("b", EventType.REAPPEARED),
            ("b", EventType.MISSING),
        ]
