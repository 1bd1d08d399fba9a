"""Retention and the removal policy on the command line: db retention, db prune --keep,
providers set --removal-confirmations / --removal-min-age."""

from __future__ import annotations

import json

from freezegun import freeze_time
from helpers import run_cli
from test_history import START, _iso, add_provider, items, listing

from provider_store import EventType, ProviderStore


def cli(store: ProviderStore, *args: str) -> tuple[int, str, str]:
    return run_cli(None, "--db", store.url, *args)


def test_db_retention_shows_and_sets_whole_days(store: ProviderStore) -> None:
    assert cli(store, "db", "retention") == (0, "History is kept 90 days.\n", "")
    code, out, _ = cli(store, "db", "retention", "30d", "--json")
    assert (code, json.loads(out)) == (0, {"retention_days": 30})
    assert cli(store, "db", "retention", "2w")[0] == 0 and store.retention_days() == 14
    assert cli(store, "db", "retention", "45d")[0] == 0 and store.retention_days() == 45
    for bad in ("36h", "0", "0d", "soon", "-3", "45"):  # a bare number is seconds
        code, _out, err = cli(store, "db", "retention", "--", bad)
        assert code == 2 and "whole number of days" in err, bad
    assert store.retention_days() == 45


def test_db_prune_keep_sets_the_period_then_prunes(store: ProviderStore) -> None:
    add_provider(store, "p")
    with freeze_time(_iso(START)) as clock:
        listing(store, "p", items({"m-a": 1.0}))
        clock.tick(86400 * 5)
        listing(store, "p", items({"m-a": 1.0, "m-b": 1.0}))
        code, out, _ = cli(store, "db", "prune", "--keep", "3d", "--json")
        assert code == 0
        assert json.loads(out) == {
            "events": 1,
            "observations": 0,
            "rollup_rows": 0,
            "retention_days": 3,
        }
        assert [(e.type, e.model) for e in store.changes()] == [(EventType.ADDED, "m-b")]
        code, _out, err = cli(store, "db", "prune", "--keep", "12h")
        assert code == 2 and "--keep" in err
    assert store.retention_days() == 3


def test_providers_set_changes_the_removal_policy(store: ProviderStore) -> None:
    add_provider(store, "p")
    code, out, _ = cli(
        store, "providers", "set", "p", "--removal-confirmations", "1", "--removal-min-age", "0"
    )
    assert code == 0 and store.rows.removal_policy("p") == (1, 0.0)
    with freeze_time(_iso(START)):
        listing(store, "p", items({"m-a": 1.0, "m-b": 1.0}))
        listing(store, "p", items({"m-a": 1.0}))  # one complete listing without m-b removes it
    assert [e.type for e in store.changes(model="m-b")] == [EventType.REMOVED, EventType.ADDED]

    code, out, _ = cli(store, "providers", "set", "p", "--removal-min-age", "2h", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["removal_confirmations"], data["removal_min_age_seconds"]) == (1, 7200.0)
    for args, hint in (
        (["--removal-min-age", "soon"], "--removal-min-age"),
        (["--removal-confirmations", "0"], "--removal-confirmations"),
    ):
        code, _out, err = cli(store, "providers", "set", "p", *args)
        assert code == 2 and hint in err
    assert store.rows.removal_policy("p") == (1, 7200.0)
