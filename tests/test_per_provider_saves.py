"""Each provider that succeeded is saved; a failed one keeps what it had; a provider renamed,
removed or edited during the run is reported "not saved" (exit 1), never "saved"."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from helpers import FAKE_KEY, run_cli

from provider_store import ProviderConfig, ProviderStore
from provider_store.discovery.run_report import Phase, ProgressEvent
from provider_store.resolution.manager import ProviderManager
from provider_store.testing import FakeProvider


@pytest.fixture
def healthy_and_refused(store: ProviderStore) -> Iterator[tuple[FakeProvider, FakeProvider]]:
    """``good`` lists a new model ``fresh``; ``bad`` answers 401 (its stored key is wrong) and
    already has a valid model ``old``."""
    with (
        FakeProvider(["fresh"], api_key=FAKE_KEY) as good,
        FakeProvider(["old"], api_key=FAKE_KEY) as bad,
    ):
        store.save_config(
            "bad",
            ProviderConfig(
                name="Bad",
                base_api_url=bad.base_url,
                api_key="sk-wrong-0123456789",
                valid_models={"old": "o"},
            ),
        )
        store.save_config(
            "good", ProviderConfig(name="Good", base_api_url=good.base_url, api_key=FAKE_KEY)
        )
        yield good, bad


def test_a_refused_provider_does_not_stop_another_providers_new_model(
    store: ProviderStore,
    healthy_and_refused: tuple[FakeProvider, FakeProvider],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _err = run_cli(capsys, "--db", store.url, "discover")
    assert code == 1
    assert "discovery failed for bad" in out
    assert "results saved for good; not saved for bad" in out
    code, out, _ = run_cli(capsys, "--db", store.url, "resolve", "fresh")
    assert (code, out.strip()) == (0, "good/fresh")
    # The failed provider keeps what it had.
    assert store.get_config("bad").valid_models == {"old": "o"}
    code, out, _ = run_cli(capsys, "--db", store.url, "--json", "discover", "--force-refresh")
    data = json.loads(out)
    assert code == 1 and data["saved"] == ["good"] and data["failed"] == ["bad"]
    assert {p["provider"]: p["saved"] for p in data["providers"]} == {"bad": False, "good": True}


def test_the_library_saves_per_provider_and_the_legacy_call_all_or_nothing(
    store: ProviderStore, healthy_and_refused: tuple[FakeProvider, FakeProvider]
) -> None:
    legacy = ProviderManager(store=store)
    assert legacy.discover_models() is False
    legacy.close()
    assert store.get_config("good").valid_models == {}  # all or nothing: nothing saved

    manager = ProviderManager(store=store)
    report = manager.discover()
    manager.close()
    assert not report.ok and report.saved == ["good"] and report.failed == ["bad"]
    assert store.get_config("good").valid_models == {"fresh": "fresh"}
    assert ProviderManager(store=store).resolve("fresh").provider == "good"


@pytest.mark.parametrize("edit", ["rename", "remove", "edit"])
def test_an_edit_landing_during_the_run_is_reported_not_saved(
    store: ProviderStore, stored_provider: ProviderConfig, edit: str
) -> None:
    other = ProviderStore(store.url)

    def meanwhile(event: ProgressEvent) -> None:
        # The run's network work is over; the edit lands before its curated lists are written.
        if event.phase is Phase.DONE:
            if edit == "rename":
                other.rename_provider("p", "q")
            elif edit == "remove":
                other.remove_providers(["p"])
            else:
                other.update_provider("p", base_api_url="http://127.0.0.1:9/v1")

    manager = ProviderManager(store=store)
    report = manager.discover(progress=meanwhile)
    manager.close()
    other.close()
    (summary,) = report.providers
    assert not report.ok and not report.persisted and report.saved == []
    assert summary.status == "failed"
    assert summary.error is not None and summary.error.startswith("results not saved: provider p")
    survivor = "q" if edit == "rename" else "p"
    if edit != "remove":
        assert store.get_config(survivor).valid_models == {}


@pytest.mark.fake(["a", "b"], latency=0.4)
def test_the_cli_says_not_saved_and_exits_1_when_a_rename_lands_mid_run(
    store: ProviderStore,
    stored_provider: ProviderConfig,
    fake: FakeProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = ProviderStore(store.url)

    def rename_once_pings_are_out() -> None:
        deadline = time.monotonic() + 20
        while fake.request_count("/chat/completions") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        other.rename_provider("p", "renamed")

    renamer = threading.Thread(target=rename_once_pings_are_out)
    renamer.start()
    code, out, _err = run_cli(capsys, "--db", store.url, "discover")
    renamer.join()
    other.close()
    assert code == 1
    assert "results not saved" in out and "results saved" not in out.replace("not saved", "")
    assert store.get_config("renamed").valid_models == {}


def test_a_list_fetched_before_an_edit_of_the_url_is_not_cached(store: ProviderStore) -> None:
    # The old URL answers slowly; while its list is on the wire the URL is edited to point at
    # another server. The old server's list must not be stored under the new settings.
    with (
        FakeProvider(["old-a", "old-b"], latency=0.6) as old,
        FakeProvider(["new-c"]) as new,
    ):
        store.save_config("p", ProviderConfig(name="P", base_api_url=old.base_url, api_key="sk-x"))
        other = ProviderStore(store.url)

        def edit_when_listing_starts() -> None:
            deadline = time.monotonic() + 10
            while old.request_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            other.update_provider("p", base_api_url=new.base_url)

        editor = threading.Thread(target=edit_when_listing_starts)
        editor.start()
        manager = ProviderManager(store=store)
        report = manager.discover(validate=False)
        manager.close()
        editor.join()
        other.close()
        (summary,) = report.providers
        assert summary.status == "failed" and not report.ok
        assert summary.error is not None and "edited during the run" in summary.error
        assert store.get_config("p").list_cache.models == []
        # The next run lists the new server.
        manager = ProviderManager(store=store)
        assert manager.discover(validate=False).ok
        manager.close()
        assert [m["id"] for m in store.get_config("p").list_cache.models] == ["new-c"]
