"""Benchmark: how long a keeper killed mid-refresh blocks the next refresh of its provider.

Run: ``.venv/bin/python tests/benchmarks/bench_lease_lapse.py [--postgres URL]`` (PostgreSQL
also runs when ``PROVIDER_STORE_TEST_POSTGRES_URL`` is set).

For each backend: a keeper process (``provider-store refresh --once``, default deadline and
heartbeat) refreshes a provider whose ``/models`` never answers, so it holds the provider's
refresh lease; once it does, it is killed with SIGKILL and the provider starts answering. Then
two others want the list, each timed from the kill until it has refreshed it:

* **a library reader** without any list (``ModelDiscoveryService.discover``: it waits for the
  holder's result, polling the lease, and fetches itself once the lease has lapsed);
* **another keeper** (``Keeper.refresh``, retried every 0.1 s while the lease is taken).

Target: both under ``LEASE_SECONDS`` (10 s) plus two seconds (the poll and the refresh). With
a lease as long as the refresh deadline (the design before heartbeats) the keeper was blocked
for the deadline plus a margin, 125 s at the default deadline.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from provider_store import ModelDiscoveryService, ProviderStore
from provider_store.discovery import leases
from provider_store.discovery.keeper import MIN_PERIOD, Keeper
from provider_store.testing import FakeProvider

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pg_schema import each_backend  # noqa: E402


def killed_keeper(url: str, fake: FakeProvider) -> float:
    """Start a keeper, wait until it holds the lease mid-refresh, SIGKILL it; the kill time."""
    fake.set_failure("hang")
    fake.reset_counts()
    proc = subprocess.Popen(
        [sys.executable, "-m", "provider_store", "--db", url, "refresh", "--once"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while fake.request_count("/models") == 0:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("the keeper never asked for the list")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = time.monotonic()
    fake.set_failure(None)
    return killed


def reader_blocked(url: str, fake: FakeProvider) -> float:
    killed = killed_keeper(url, fake)
    with ProviderStore(url) as store, ModelDiscoveryService(store) as service:
        result = service.discover(store.get_config("p"))
        assert result.error is None and result.models, result.error
    return time.monotonic() - killed


def keeper_blocked(url: str, fake: FakeProvider) -> float:
    killed = killed_keeper(url, fake)
    with ProviderStore(url) as store, ModelDiscoveryService(store) as service:
        keeper = Keeper(store, service, providers=["p"], validate=False)
        while keeper.refresh("p") is None:
            time.sleep(0.1)
    return time.monotonic() - killed


def main() -> None:
    """Kill a keeper mid-refresh on each backend and time who waits how long."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres", default=os.environ.get("PROVIDER_STORE_TEST_POSTGRES_URL", "")
    )
    args = parser.parse_args()
    print(f"lease {leases.LEASE_SECONDS:g} s, heartbeat every {leases.HEARTBEAT_SECONDS:g} s")
    for backend, url in each_backend(args.postgres, "bench_lease_lapse"):
        with FakeProvider(["m"], hang_seconds=600) as fake:
            with ProviderStore(url) as store:
                store.add_provider("p", fake.base_url, keyless=True)
            reader = reader_blocked(url, fake)
            with ProviderStore(url) as store:  # stale again, so the keeper has work to do
                store.rows.set_cache_ttl("p", 0)
            time.sleep(MIN_PERIOD * 1.5)  # a keeper refreshes at most once per MIN_PERIOD
            keeper = keeper_blocked(url, fake)
        print(
            f"{backend}: a keeper killed mid-refresh blocked a library reader {reader:.1f} s"
            f" and the next keeper {keeper:.1f} s (target < {leases.LEASE_SECONDS + 2:g} s;"
            " 125 s before heartbeats)"
        )


if __name__ == "__main__":
    main()
