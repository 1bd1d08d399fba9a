"""Refresh leases: one holder at a time, expiry frees a crashed holder's claim."""

from __future__ import annotations

import subprocess
import sys
import time

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


def test_many_processes_racing_for_one_lease_yield_one_winner(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig())
    start_at = time.time() + 1.5
    script = (
        "import sys, time\n"
        "from provider_store import ProviderStore\n"
        "from provider_store.discovery import leases\n"
        "store = ProviderStore(sys.argv[1])\n"
        f"time.sleep(max(0, {start_at} - time.time()))\n"
        "with store.transaction() as s:\n"
        "    won = leases.try_acquire(s, 'p', leases.new_holder_id())\n"
        "sys.stdout.write('won' if won else 'lost')\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, store.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outcomes = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outcomes]
    assert sorted(out for out, _ in outcomes) == ["lost"] * 7 + ["won"]
