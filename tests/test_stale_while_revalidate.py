"""Stale-while-revalidate: within a window past the TTL a read answers at once from the stale list
and one background refresh runs, across processes; past the window a read waits for the refresh.

Both backends; the multi-process test runs real child processes (``tests/freshness_worker.py``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import zygote
from helpers import wait_until

from provider_store import (
    ModelDiscoveryService,
    ProviderClient,
    ProviderConfig,
    ProviderStore,
    Source,
)
from provider_store.discovery import leases
from provider_store.errors import OptionsError
from provider_store.rules import check_options
from provider_store.testing import FakeProvider

sys.path.insert(0, str(Path(__file__).parent))
from concurrency_worker import run_together  # noqa: E402
from freshness_worker import WORKER  # noqa: E402

# These tests start other processes: make test-quick leaves them out.
pytestmark = pytest.mark.slow

KEY = "sk-swr-0123456789"
OLD = [{"id": "old-a"}, {"id": "old-b"}]


def quick_service(store: ProviderStore | None) -> ModelDiscoveryService:
    client = ProviderClient(connect_timeout=1, read_timeout=1.5, deadline=2, retries=0)
    return ModelDiscoveryService(store, client=client)


def add(store: ProviderStore, url: str, *, window: int | None = None, age: float = 400) -> None:
    """Provider p (TTL 300 s) whose cached list is ``age`` seconds old."""
    options = None if window is None else {"stale_while_revalidate": window}
    store.save_config("p", ProviderConfig(base_api_url=url, api_key=KEY, options=options))
    store.rows.write_cache("p", OLD, fetched_at=time.time() - age)


def spawn_reader(url: str) -> subprocess.Popen[str]:
    return zygote.Popen(
        [sys.executable, WORKER, "read", url, "p"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def holder_of(store: ProviderStore) -> str | None:
    with store.read() as session:
        return leases.current_holder(session, "p")


def test_processes_reading_an_expired_list_of_a_dead_provider_answer_at_once_and_send_one_refresh(
    store: ProviderStore,
) -> None:
    with FakeProvider(["new"], hang_seconds=3) as fake:  # longer than any answer may take
        fake.set_failure("hang")
        add(store, fake.base_url, window=600)
        results, _ = run_together([spawn_reader(store.url) for _ in range(6)])
        exited = time.time()
        # The refresh was handed to a process of its own: it reaches the provider once.
        assert wait_until(lambda: fake.request_count("/models") >= 1, 15)
        assert wait_until(lambda: holder_of(store) is None, 30)
        assert fake.request_count("/models") == 1  # one background refresh, all processes
    for result in results:
        assert result["source"] == "stale" and result["ids"] == ["old-a", "old-b"], result
        assert result["elapsed"] < 1.0, result  # generous: the read does not wait for the network
        # and the process does not wait for the refresh: it exits at once after its answer
        assert exited - result["answered_at"] < 1.0, result
    state = store.read_cache("p")  # the one refresh was recorded, whatever it found
    assert [m["id"] for m in state.models or []] == ["new"] or state.last_error is not None


def test_a_reader_exits_at_once_and_its_refresh_still_happens_once(store: ProviderStore) -> None:
    with FakeProvider(["new"], latency=2.5) as fake:
        add(store, fake.base_url, window=600)
        (first,), _ = run_together([spawn_reader(store.url)])
        exited = time.time()
        assert first["source"] == "stale"
        assert exited - first["answered_at"] < 1.0, first  # not the provider's 2.5 s
        (second,), _ = run_together([spawn_reader(store.url)])  # while it is refreshed
        assert second["source"] == "stale"
        models = lambda: [m["id"] for m in store.read_cache("p").models or []]  # noqa: E731
        assert wait_until(lambda: models() == ["new"], 30)
        assert wait_until(lambda: holder_of(store) is None, 10)
        assert fake.request_count("/models") == 1


def test_the_background_refresh_replaces_the_list(store: ProviderStore) -> None:
    with FakeProvider(["new"]) as fake, quick_service(store) as service:
        add(store, fake.base_url)  # default window: as long again as the TTL
        result = service.discover(store.get_config("p"))
        assert result.source is Source.STALE and [m["id"] for m in result.models] == [
            "old-a",
            "old-b",
        ]
        service.join_background(10)
        assert fake.request_count("/models") == 1
        again = service.discover(store.get_config("p"))
    assert again.source is Source.CACHE and [m["id"] for m in again.models] == ["new"]


def test_past_the_window_a_read_waits_for_the_refresh(store: ProviderStore) -> None:
    with FakeProvider(["new"]) as fake, quick_service(store) as service:
        add(store, fake.base_url, window=60, age=400)  # 300 s TTL + 60 s window < 400 s
        result = service.discover(store.get_config("p"))
    assert result.source is Source.FRESH and [m["id"] for m in result.models] == ["new"]


def test_the_legacy_call_and_a_zero_window_wait_for_the_refresh(store: ProviderStore) -> None:
    with FakeProvider(["new"]) as fake, quick_service(store) as service:
        add(store, fake.base_url, window=600)
        assert service.discover_models(store.get_config("p")) == [
            {"id": "new", "object": "model", "created": 0, "owned_by": "fake"}
        ]
        assert fake.request_count("/models") == 1
        store.rows.write_cache("p", OLD, fetched_at=time.time() - 400)
        result = service.discover(store.get_config("p"), stale_while_revalidate=0)
        assert result.source is Source.FRESH and fake.request_count("/models") == 2


def test_a_loose_config_is_revalidated_in_the_background_once() -> None:
    with FakeProvider(["new"], latency=0.3) as fake, quick_service(None) as service:
        config = ProviderConfig(base_api_url=fake.base_url, api_key=KEY)
        config._cached_models = list(OLD)
        config._cache_timestamp = time.time() - 400
        first = service.discover(config)
        second = service.discover(config)  # while the refresh runs: no second one
        assert first.source is Source.STALE and second.source is Source.STALE
        service.join_background(10)
        assert fake.request_count("/models") == 1
    assert [m["id"] for m in config._cached_models] == ["new"]


@pytest.mark.parametrize("value", [-1, "60", True, 2**40])
def test_the_window_option_is_checked(value: object) -> None:
    with pytest.raises(OptionsError) as caught:
        check_options({"stale_while_revalidate": value})
    assert caught.value.field == "options.stale_while_revalidate"


def test_the_window_option_is_accepted_and_kept(store: ProviderStore) -> None:
    assert check_options({"stale_while_revalidate": 0}) == {"stale_while_revalidate": 0}
    add(store, "http://127.0.0.1:9/v1", window=120)
    assert store.get_config("p").options == {"stale_while_revalidate": 120}
