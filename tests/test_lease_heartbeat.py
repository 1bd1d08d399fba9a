"""Refresh leases are short and renewed by their live holder: a dead holder blocks for seconds.

The unit tests drive a :class:`LeaseRenewer` with an injected clock (no sleeping). The process
test runs a real keeper (``provider-store refresh --once``) whose provider never answers, sees
it renew its lease, kills it with SIGKILL mid-refresh, and checks on both backends that its
lease lapses within :data:`LEASE_SECONDS` of its last heartbeat.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import zygote
from helpers import wait_until

from provider_store import ProviderStore
from provider_store.catalog.light_tables import PROVIDER as PROVIDER_TABLE
from provider_store.discovery import leases
from provider_store.discovery.leases import LEASE_SECONDS, LeaseRenewer
from provider_store.testing import FakeProvider


class Clock:
    """A time source tests move by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _take(store: ProviderStore, holder: str, clock: Clock) -> bool:
    with store.transaction() as session:
        return leases.try_acquire(session, "p", holder, clock=clock)


def test_a_live_holder_keeps_its_lease_and_a_dead_one_loses_it(store: ProviderStore) -> None:
    store.add_provider("p", "http://127.0.0.1:1/v1")
    clock = Clock(1000.0)
    renewer = LeaseRenewer(clock=clock)
    assert _take(store, "alive", clock)
    renewer.hold(store, "p", "alive", start=False)
    for _ in range(30):  # a refresh far longer than the lease, renewed as it goes
        clock.now += LEASE_SECONDS * 0.8
        assert not _take(store, "other", clock)
        assert renewer.beat() == 1
    clock.now += LEASE_SECONDS - 0.01  # it died: no more heartbeats
    assert not _take(store, "other", clock)
    clock.now += 0.01
    assert _take(store, "other", clock)
    # The holder's next heartbeat finds the lease gone: it stops renewing and says so.
    assert renewer.beat() == 0 and renewer.held() == {}


def test_release_stops_the_heartbeat(store: ProviderStore) -> None:
    store.add_provider("p", "http://127.0.0.1:1/v1")
    holder = leases.new_holder_id()
    with store.transaction() as session:
        assert leases.try_acquire(session, "p", holder)
    leases.keep_alive(store, "p", holder)
    assert leases.renewer().held() == {holder: "p"}
    with store.transaction() as session:
        assert leases.release(session, "p", holder)
    assert leases.renewer().held() == {}


# -- a real keeper, killed -------------------------------------------------------------------------


def _lease(store: ProviderStore) -> tuple[str | None, float | None]:
    p = PROVIDER_TABLE.c
    with store.read() as session:
        row = session.execute(
            PROVIDER_TABLE.select().with_only_columns(p.lease_holder, p.lease_expires_at)
        ).one()
    return row[0], row[1]


# The keeper, with a heartbeat ten times as frequent as the default so the test sees it beat.
_KEEPER = """
import sys
from provider_store.discovery import leases
leases.renewer().interval = leases.HEARTBEAT_SECONDS / 10
from provider_store.cli import main
main(["--db", sys.argv[1], "refresh", "--once", "--deadline", "600"])
"""


@pytest.mark.slow
def test_a_keeper_killed_mid_refresh_blocks_others_for_seconds_not_minutes(
    store: ProviderStore,
) -> None:
    with FakeProvider(["m"], hang_seconds=600) as fake:
        fake.set_failure("hang")
        store.add_provider("p", fake.base_url, keyless=True)
        keeper = zygote.Popen(
            [sys.executable, "-c", _KEEPER, store.url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert wait_until(lambda: fake.request_count("/models") > 0, 60), "never asked"
            holder, first = _lease(store)
            assert holder is not None and first is not None
            assert wait_until(lambda: (_lease(store)[1] or 0) > first, 30), "never renewed"
        finally:
            os.kill(keeper.pid, signal.SIGKILL)
            keeper.wait(timeout=30)
        killed_at = time.time()
        still, expires_at = _lease(store)
        assert still == holder and expires_at is not None
        # The lease outlives its holder by at most one lease, however long the refresh could be.
        assert expires_at - killed_at <= LEASE_SECONDS
        before = Clock(killed_at)
        assert not _take(store, "next", before)  # the dead keeper still blocks, briefly
        assert _take(store, "next", Clock(expires_at))  # and no longer once the lease lapsed
