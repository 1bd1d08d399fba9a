"""Freshness: reads of an expired list, a running manager following another process's edits.

Run: ``.venv/bin/python tests/benchmarks/bench_freshness.py [--quick]`` (not collected by
pytest). Prints, in one run:

- the read latency (p50, p99) of an expired model list, before (stale-while-revalidate off: the
  read waits for the refresh, as ``discover_models()`` still does) and after (on: the stale list
  is answered at once and one background refresh runs), against a dead provider (it never
  answers; the client gives up after 1 s) and a live one (200 ms per answer);
- the time a running ``ProviderManager`` takes to see another process's edit of one provider of
  a catalog of 50 providers x 200 models, before (not following the store: it never sees it
  until ``reload()``) and after (following, 0.25 s); and what the read that takes the edit in
  costs (its time, and how many providers it re-read: only the edited one, where a manager that
  re-read the whole catalog read all 50);
- then, unless ``--quick``, the output of ``bench_discovery.py`` and ``bench_cold_start.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provider_store import (
    ModelDiscoveryService,
    ProviderClient,
    ProviderConfig,
    ProviderManager,
    ProviderStore,
)
from provider_store.testing import FakeProvider

HERE = Path(__file__).resolve().parent
WORKER = str(HERE.parent / "freshness_worker.py")
OLD = [{"id": f"old-{i}"} for i in range(20)]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:8.1f} ms  p99 {p99 * 1000:8.1f} ms"


def expired_reads(store: ProviderStore, window: float | None, runs: int) -> list[float]:
    """Latencies of ``runs`` reads of p's list, each made expired (an hour old) first."""
    client = ProviderClient(connect_timeout=1, read_timeout=1, deadline=1.5, retries=0)
    samples = []
    with ModelDiscoveryService(store, client=client) as service:
        for _ in range(runs):
            store.rows.write_cache("p", OLD, fetched_at=time.time() - 3600)
            config = store.get_config("p")
            started = time.perf_counter()
            service.discover(config, stale_while_revalidate=window)
            samples.append(time.perf_counter() - started)
            service.join_background(5)  # the next read starts from an expired list again
    return samples


def read_latency(tmp: Path, runs: int) -> None:
    print("read of an expired list (TTL 300 s, list 1 h old):")
    for label, failure, latency in (("dead provider", "hang", 0.0), ("live provider", None, 0.2)):
        with FakeProvider(["new"], latency=latency, hang_seconds=3) as fake:
            if failure is not None:
                fake.set_failure(failure)
            store = ProviderStore(f"sqlite:///{tmp / (label.split()[0] + '.db')}")
            store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key="sk-b"))
            before = expired_reads(store, 0, max(3, runs // 5))
            after = expired_reads(store, 7200, runs)
            store.close()
        print(f"  {label:<14} before (waits)     {percentiles(before)}  ({len(before)} reads)")
        print(f"  {label:<14} after (stale, bg)  {percentiles(after)}  ({len(after)} reads)")


PROVIDERS, MODELS = 50, 200


def edit_seen(tmp: Path, runs: int) -> None:
    url = f"sqlite:///{tmp / 'follow.db'}"
    store = ProviderStore(url)
    with store.transaction() as session:
        for k in range(PROVIDERS):
            models = {f"vendor/model-{k}-{i}": f"a{k}x{i}" for i in range(MODELS)}
            store.save_config(f"p{k}", ProviderConfig(valid_models=models), session=session)
    following = ProviderManager(store=store)
    frozen = ProviderManager(store=store, follow_interval=None)
    stats = getattr(following, "follow_stats", None)  # (a release without it re-read all)
    reread_before = stats.providers_reloaded if stats is not None else 0
    delays, catch_up = [], []
    for n in range(1, runs + 1):
        done = subprocess.run(
            [sys.executable, WORKER, "edit", url, "p7", f"m{n}"],
            capture_output=True,
            text=True,
            check=True,
        )
        committed = json.loads(done.stdout.strip().splitlines()[-1])["committed_at"]
        while True:
            started = time.perf_counter()
            seen = f"m{n}" in following["p7"].valid_models  # the read that may re-read
            took = time.perf_counter() - started
            if seen:
                break
            time.sleep(0.005)
        catch_up.append(took)
        delays.append(time.time() - committed)
    missing = [n for n in range(1, runs + 1) if f"m{n}" not in frozen["p7"].valid_models]
    reread = (
        f"{(stats.providers_reloaded - reread_before) / runs:.0f}"
        if stats is not None
        else f"{PROVIDERS} (all)"
    )
    print(f"a running manager sees another process's edit ({PROVIDERS} providers x {MODELS}):")
    print(f"  before (not following)  never until reload() ({len(missing)}/{runs} edits unseen)")
    print(
        f"  after (following 0.25 s) p50 {statistics.median(delays) * 1000:6.0f} ms  "
        f"max {max(delays) * 1000:6.0f} ms  ({runs} edits)"
    )
    print(
        f"  the read that takes an edit in: p50 {statistics.median(catch_up) * 1000:6.1f} ms"
        f"  max {max(catch_up) * 1000:6.1f} ms, re-reading {reread} provider(s) per edit"
    )
    store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the discovery and cold start")
    parser.add_argument("--runs", type=int, default=50, help="reads per measurement")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        read_latency(Path(tmp), args.runs)
        edit_seen(Path(tmp), 10)
    if args.quick:
        return 0
    for script in ("bench_discovery.py", "bench_cold_start.py"):
        print(f"\n$ {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
