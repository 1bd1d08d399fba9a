"""The progress callback is called from one thread at a time, and an exception it raises stops
the run and reaches the caller."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import FAKE_KEY

from provider_store import ProviderConfig, ProviderStore
from provider_store.discovery.run_report import Phase, ProgressEvent
from provider_store.resolution.manager import ProviderManager
from provider_store.testing import FakeProvider


class Broken(Exception):
    """What the display raised."""


@pytest.mark.fake([f"m{i}" for i in range(12)], latency=0.05)
def test_an_exception_in_the_callback_stops_the_run_and_is_raised(
    store: ProviderStore, stored_provider: ProviderConfig, fake: FakeProvider
) -> None:
    seen: list[ProgressEvent] = []

    def broken(event: ProgressEvent) -> None:
        seen.append(event)
        if event.phase is Phase.VALIDATING and event.completed >= 2:
            raise Broken("display broke")

    manager = ProviderManager(store=store)
    started = time.perf_counter()
    with pytest.raises(Broken, match="display broke"):
        manager.discover(progress=broken, per_provider=1)
    manager.close()
    # Stopped at once: not every model was pinged, no event after the failing one, and the
    # curated lists were not written.
    assert time.perf_counter() - started < 12 * 0.05 * 2
    assert seen[-1].phase is Phase.VALIDATING and seen[-1].completed == 2
    assert fake.request_count("/chat/completions") < 12
    assert store.get_config("p").valid_models == {}


@pytest.mark.fake([f"m{i}" for i in range(16)], latency=0.01)
def test_calls_never_overlap_though_many_threads_report(
    store: ProviderStore, stored_provider: ProviderConfig, fake: FakeProvider
) -> None:
    with FakeProvider([f"n{i}" for i in range(16)], latency=0.01, api_key=FAKE_KEY) as other:
        store.save_config(
            "q", ProviderConfig(name="Q", base_api_url=other.base_url, api_key=FAKE_KEY)
        )
        inside = 0
        most = 0
        threads: set[int] = set()
        guard = threading.Lock()

        def slow(event: ProgressEvent) -> None:
            nonlocal inside, most
            with guard:
                inside += 1
                most = max(most, inside)
            threads.add(threading.get_ident())
            time.sleep(0.002)
            with guard:
                inside -= 1

        manager = ProviderManager(store=store)
        report = manager.discover(progress=slow, per_provider=4)
        manager.close()
    assert report.ok
    assert len(threads) > 1  # reported from several threads ...
    assert most == 1  # ... but never two calls at once
