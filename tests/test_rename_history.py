"""``providers rename`` carries a provider's history with it; a new provider starts without any.

The change feed, the ping observations and their rollup are kept by provider key: a rename
moves them to the new key in its transaction (with the models, verdicts, facts and cache that
follow the row), and a provider added later under the old key (in any case) starts empty
instead of inheriting the history of the one that was renamed or removed.
"""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from provider_store import ProviderStore
from provider_store.testing import FakeProvider

pytestmark = pytest.mark.fake(["a", "b"])


def _history(store: ProviderStore, key: str) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    events = [(e.model, e.type.value) for e in store.changes(provider=key)]
    stats = [(s.model, s.count) for s in store.model_stats(provider=key)]
    return events, stats


def test_a_rename_takes_the_history_and_a_later_add_starts_empty(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.url
    assert run_cli(capsys, "--db", db, "providers", "add", "old", fake.base_url, "--no-key")[0] == 0
    assert run_cli(capsys, "--db", db, "discover", "old")[0] == 0
    assert run_cli(capsys, "--db", db, "models", "set", "old/a", "--context", "4096")[0] == 0
    before = _history(store, "old")
    events, stats = before
    assert ("a", "added") in events and ("a", "verdict") in events
    assert sorted(stats) == [("a", 1), ("b", 1)]

    code, out, err = run_cli(capsys, "--db", db, "providers", "rename", "old", "new")
    assert code == 0, err
    assert _history(store, "new") == before
    assert _history(store, "old") == ([], [])
    assert store.model_metadata("new", "a").values["context_length"].value == 4096
    code, out, _ = run_cli(capsys, "--db", db, "models", "stats", "new/a", "--json")
    assert code == 0 and [(s["provider"], s["model"]) for s in json.loads(out)] == [("new", "a")]

    assert run_cli(capsys, "--db", db, "providers", "add", "OLD", fake.base_url, "--no-key")[0] == 0
    assert _history(store, "OLD") == ([], [])
    assert _history(store, "new") == before  # untouched by the new provider


def test_a_removed_providers_history_is_not_inherited(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.url
    for key in ("gone", "keep"):
        run_cli(capsys, "--db", db, "providers", "add", key, fake.base_url, "--no-key")
    assert run_cli(capsys, "--db", db, "discover")[0] == 0
    kept = _history(store, "keep")
    assert run_cli(capsys, "--db", db, "providers", "remove", "gone", "--yes")[0] == 0
    assert _history(store, "gone")[0]  # the feed still tells what the removed provider had
    # Renamed onto the removed provider's key: keep's own history, none of gone's.
    assert run_cli(capsys, "--db", db, "providers", "rename", "keep", "gone")[0] == 0
    assert _history(store, "gone") == kept
    # Imported under a key whose history a removed provider left: none of it.
    assert run_cli(capsys, "--db", db, "providers", "remove", "gone", "--yes")[0] == 0
    store.import_yaml(
        "new.yaml", data=f"providers:\n  Gone:\n    base_api_url: {fake.base_url}\n".encode()
    )
    assert _history(store, "Gone") == ([], [])


def test_a_refused_rename_moves_nothing(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.url
    for key in ("one", "two"):
        run_cli(capsys, "--db", db, "providers", "add", key, fake.base_url, "--no-key")
    assert run_cli(capsys, "--db", db, "discover")[0] == 0
    before = {key: _history(store, key) for key in ("one", "two")}
    code, _, err = run_cli(capsys, "--db", db, "providers", "rename", "one", "TWO")
    assert code == 2 and "regardless of case" in err and len(err.strip().splitlines()) == 1
    assert {key: _history(store, key) for key in ("one", "two")} == before
    assert store.provider_keys() == ["one", "two"]
