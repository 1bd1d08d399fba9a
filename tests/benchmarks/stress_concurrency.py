"""Stress: many processes refreshing and reading one catalog; the stampede figure.

Run: ``.venv/bin/python tests/benchmarks/stress_concurrency.py [--workers 8] [--rounds 50]
[--postgres URL]`` (PostgreSQL also runs when ``PROVIDER_STORE_TEST_POSTGRES_URL`` is set).

For each backend (a new SQLite file; a new PostgreSQL schema):

* **refresh + reads**: ``--workers`` processes start at one instant and each runs ``--rounds``
  rounds over two providers: a forced discover against its own loopback provider, a verdict
  ping, one transaction writing the cache and verdicts, then reads (discover, load_configs,
  load_verdicts). Prints the error count (any exception or library warning, e.g. "database is
  locked"), the rounds, the wall time, and whether each provider's final state is its last
  writer's (the writes are chained, so the commit order is known).
* **stampede**: ``--stampede`` processes ask for the models of one provider at one instant,
  with a stale list and with no list at all; prints the ``/models`` requests the loopback
  provider saw (target: 1) and where the answers came from.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from provider_store import ProviderConfig, ProviderStore
from provider_store.testing import FakeProvider

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
from concurrency_worker import run_together, spawn, verify_last_writer  # noqa: E402
from pg_schema import each_backend  # noqa: E402

KEYS = ["p0", "p1"]


def refresh_and_reads(url: str, workers: int, rounds: int) -> None:
    store = ProviderStore(url)
    for key in KEYS:
        store.save_config(key, ProviderConfig(base_api_url="http://127.0.0.1:9/v1"))
    results, wall = run_together(
        [spawn("hammer", url, ",".join(KEYS), str(rounds), str(w)) for w in range(workers)],
        timeout=1800,
    )
    errors = [e for r in results for e in r["errors"]]
    chain = [tuple(link) for r in results for link in r["chain"]]
    verdicts = verify_last_writer(store, KEYS, chain)  # type: ignore[arg-type]
    requests = sum(r["requests"] for r in results)
    print(f"  refresh+reads: {workers} processes x {rounds} rounds x {len(KEYS)} providers")
    print(f"    errors:             {len(errors)}")
    for message in errors[:5]:
        print(f"      {message}")
    print(f"    writes (chained):   {len(chain)}  (loopback requests: {requests})")
    print(f"    wall time:          {wall:.1f} s")
    print(f"    final state == last writer: {verdicts}")
    store.close()


def stampede(url: str, processes: int, *, with_list: bool) -> None:
    store = ProviderStore(url)
    key = "stale" if with_list else "empty"
    with FakeProvider(["a", "b"], latency=0.5) as fake:
        store.save_config(key, ProviderConfig(base_api_url=fake.base_url, api_key="sk-x"))
        if with_list:
            store.rows.write_cache(key, [{"id": "old"}], fetched_at=time.time() - 3600)
        results, wall = run_together(
            [spawn("discover", url, key) for _ in range(processes)], timeout=1800
        )
        seen = fake.request_count("/models")
    sources = Counter(r["source"] for r in results)
    slowest = max(r["elapsed"] for r in results)
    label = "stale list" if with_list else "no list   "
    print(
        f"  stampede ({label}): {processes} processes -> /models requests seen: {seen}; "
        f"answers {dict(sources)}; slowest answer {slowest:.2f} s"
    )
    store.close()


def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    print(f"{name}:")
    refresh_and_reads(url, args.workers, args.rounds)
    stampede(url, args.stampede, with_list=True)
    stampede(url, args.stampede, with_list=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--stampede", type=int, default=16)
    parser.add_argument(
        "--postgres", default=os.environ.get("PROVIDER_STORE_TEST_POSTGRES_URL", "")
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for name, url in each_backend(args.postgres, prefix="ps_stress"):
        run_backend(name, url, args)


if __name__ == "__main__":
    main()
