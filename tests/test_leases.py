"""Refresh leases: one holder at a time, expiry frees a crashed holder's claim, a result that
landed keeps the lease from being taken for a second fetch."""

from __future__ import annotations

import threading
import time

import pytest
from freezegun import freeze_time
from helpers import after, run_together

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore
from provider_store.discovery import leases
from provider_store.testing import FakeProvider


def test_only_one_holder_until_release_or_expiry(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig())
    with store.transaction() as s:
        assert leases.try_acquire(s, "p", "a", seconds=30, now=1000.0)
    with store.transaction() as s:
        assert not leases.try_acquire(s, "p", "b", seconds=30, now=1010.0)
        assert leases.current_holder(s, "p", now=1010.0) == "a"
        # The holder may extend its own lease.
        assert leases.try_acquire(s, "p", "a", seconds=30, now=1010.0)
    with store.transaction() as s:
        # a's lease now runs to 1040: b must wait until then.
        assert not leases.try_acquire(s, "p", "b", seconds=30, now=1039.0)
        assert leases.try_acquire(s, "p", "b", seconds=30, now=1040.0)
        assert not leases.release(s, "p", "a")
        assert leases.release(s, "p", "b")
        assert leases.current_holder(s, "p", now=1041.0) is None
        assert leases.try_acquire(s, "p", "a", seconds=30, now=1041.0)


def test_unknown_provider_has_no_lease(store: ProviderStore) -> None:
    with store.transaction() as s:
        assert not leases.try_acquire(s, "missing", "a")


@pytest.mark.slow
def test_many_processes_racing_for_one_lease_yield_one_winner(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig())
    script = (
        "from provider_store import ProviderStore\n"
        "from provider_store.discovery import leases\n"
        "store = ProviderStore(sys.argv[1])\n"
        "wait_for_start()\n"
        "with store.transaction() as s:\n"
        "    won = leases.try_acquire(s, 'p', leases.new_holder_id())\n"
        "sys.stdout.write('won' if won else 'lost')\n"
    )
    outcomes = run_together(script, [[store.url]] * 6)
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert sorted(out for _, out in outcomes) == ["lost"] * 5 + ["won"]


def test_a_list_that_landed_after_the_read_keeps_the_lease_from_being_taken(
    store: ProviderStore,
) -> None:
    store.save_config("p", ProviderConfig())
    with store.transaction() as s:
        seen = store.read_cache("p", session=s)
        landed = (seen.fetched_at, seen.last_error_at)
    store.rows.write_cache("p", [{"id": "new"}], fetched_at=2000.0)  # another holder's result lands
    with store.transaction() as s:
        assert not leases.try_acquire(s, "p", "late", seconds=30, landed=landed)
        now = store.read_cache("p", session=s)
        assert leases.try_acquire(s, "p", "late", landed=(now.fetched_at, now.last_error_at))


@pytest.mark.slow
def test_a_waiter_whose_read_came_before_the_holders_commit_does_not_fetch_again(
    store: ProviderStore,
) -> None:
    """On PostgreSQL the claim's read and its UPDATE see different commits: here the holder
    (slow: its lease has expired) saves its list and gives the lease back while the waiter's
    UPDATE waits on the row, after the waiter read the stale list."""
    with FakeProvider(["fetched-again"]) as fake:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key="sk-lease-01"))
        store.rows.write_cache("p", [{"id": "old"}], fetched_at=time.time() - 3600)
        with store.transaction() as s:
            assert leases.try_acquire(s, "p", "holder", seconds=10)
        saving, commit = threading.Event(), threading.Event()

        def holder_saves() -> None:
            with store.transaction() as s:
                store.rows.write_cache("p", [{"id": "new"}], fetched_at=time.time(), session=s)
                leases.release(s, "p", "holder")
                saving.set()
                commit.wait(10)  # the row stays locked, the commit unseen, until then

        thread = threading.Thread(target=holder_saves)
        thread.start()
        saving.wait(10)
        config = store.get_config("p")
        threading.Timer(0.5, commit.set).start()  # while the waiter's claim waits on the row
        # The holder's lease has expired (the clock moved on): a claim may take it.
        with freeze_time(after(10.5), tick=True), ModelDiscoveryService(store) as service:
            result = service.discover(config, wait_for_refresh=True)
        thread.join()
    assert [m["id"] for m in result.models] == ["new"]
    assert fake.request_count("/models") == 0
