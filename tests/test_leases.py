"""Refresh leases: one holder at a time, expiry frees a crashed holder's claim."""

from __future__ import annotations

import pytest
from helpers import run_together

from provider_store import ProviderConfig, ProviderStore
from provider_store.discovery import leases


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
