"""Benchmark: CPU a process spends waiting on another process's refresh lease.

Run: ``.venv/bin/python tests/benchmarks/bench_lease_wait.py [--seconds 20] [--models 20000]``

A SQLite catalog holds a provider whose stale discovery cache lists ``--models`` models. A second
holder takes the provider's refresh lease (as another process refreshing it would) and keeps it.
The benchmark then asks for the list the way a waiting process does (``StoreBackend.claim``,
no stale answer allowed) with ``--seconds`` of patience, and prints the CPU seconds
(``time.process_time``) and the wall seconds that wait cost. Target: under 0.5 s of CPU for a
20 s wait on a 20,000-model cache.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from provider_store import ProviderConfig, ProviderStore
from provider_store.discovery import leases
from provider_store.discovery.cache import StoreBackend

KEY = "big"


def main() -> None:
    """Build the catalog, hold the lease elsewhere, time the wait."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to wait")
    parser.add_argument("--models", type=int, default=20_000, help="size of the cached list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = ProviderStore(str(Path(tmp) / "catalog.db"))
        store.save_config(KEY, ProviderConfig(name=KEY, base_api_url="http://127.0.0.1:9/v1"))
        models = [
            {"id": f"vendor/model-{i:06d}", "object": "model", "owned_by": "bench"}
            for i in range(args.models)
        ]
        store.rows.write_cache(KEY, models, fetched_at=time.time() - 86_400)  # stale
        with store.transaction() as session:
            taken = leases.try_acquire(session, KEY, "elsewhere:1:bench", seconds=3_600)
        assert taken
        backend = StoreBackend(
            store, store.get_config(KEY), KEY, lease_seconds=30.0, wait_seconds=args.seconds
        )
        cpu, wall = time.process_time(), time.perf_counter()
        step = backend.claim(serve_stale=False)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert step.result is None and step.holder is None  # waited it out, then gave up
        print(
            f"lease wait on a {args.models:,}-model cache: {wall:.1f} s wall,"
            f" {cpu:.2f} s CPU (target < 0.5 s CPU for a 20 s wait)"
        )
        store.close()


if __name__ == "__main__":
    main()
