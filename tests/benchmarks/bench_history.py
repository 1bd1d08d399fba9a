"""What the catalog's memory costs: refresh overhead, feed and stats reads, catalog growth.

Run: ``.venv/bin/python tests/benchmarks/bench_history.py`` (not collected by pytest). On
temporary SQLite files, in one run, prints:

- one refresh of a 20,000-model OpenRouter-shaped list (unchanged, with 1% re-priced, and the
  first listing, where every model is added) with history recording off
  (``write_listing(..., history=False)``) and on, interleaved, median of ``--rounds``, and the
  ratios of wall and CPU time (target: at most 1.10; on a shared machine the CPU ratio is the
  steadier one);
- ``changes --since`` (library call, as the CLI makes it) over 100,000 events: p50 / p95 of 50
  reads of the newest 50 events of one provider, and of the last day (target p95 < 50 ms);
- ``models stats`` over 100,000 observations of 500 models (target < 100 ms), ``--since 7d``
  and ``--since 1d``, read from the ping rollup, beside a scan of every observation in the
  window (how ``models stats`` read them before the rollup) as the baseline;
- the catalog's growth (file size) per 1,000 refreshes of a 500-model provider, unchanged and
  with 5 price changes and one model coming or going per refresh.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from provider_store import ProviderConfig, ProviderStore
from provider_store.catalog.tables import Event, Observation
from provider_store.discovery.save_listing import write_listing
from provider_store.providers.listed_info import model_infos


def items(count: int, repriced: float = 0.0, salt: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(salt)
    out = []
    for i in range(count):
        price = 1 + i % 9 + (1 if rng.random() < repriced else 0)
        out.append(
            {
                "id": f"vendor-{i % 50}/model-{i}",
                "name": f"Vendor {i % 50}: Model {i}",
                "created": 1_700_000_000 + i,
                "context_length": 8192 * (1 + i % 16),
                "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
                "pricing": {"prompt": f"0.00000{price}", "completion": f"0.0000{price}"},
            }
        )
    return out


def new_store(folder: Path, name: str) -> ProviderStore:
    store = ProviderStore(f"sqlite:///{folder / name}")
    store.save_config("p", ProviderConfig(name="p", base_api_url="https://example.com/v1"))
    return store


def timed_write(
    store: ProviderStore, models: list[dict[str, Any]], history: bool
) -> tuple[float, float]:
    """Wall and CPU seconds of one listing write transaction."""
    infos = model_infos(models)
    wall, cpu = time.perf_counter(), time.process_time()
    with store.transaction() as session:
        write_listing(session, "p", models, time.time(), infos, history=history)
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_refresh(folder: Path, count: int, rounds: int) -> None:
    print(
        f"refresh of a {count:,}-model list, history off vs on, interleaved, median of {rounds}"
        f" (load average {os.getloadavg()[0]:.1f}):"
    )
    for label, repriced in (("unchanged", 0.0), ("1% re-priced", 0.01)):
        stores = {h: new_store(folder, f"refresh-{label[:3]}-{h}.db") for h in (False, True)}
        for history, store in stores.items():
            timed_write(store, items(count), history)  # the first listing: every model added
        runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for n in range(rounds):
            models = items(count, repriced, salt=n)
            for history in (False, True) if n % 2 else (True, False):
                runs[history].append(timed_write(stores[history], models, history))
        for store in stores.values():
            store.close()
        wall = {h: statistics.median(r[0] for r in runs[h]) for h in runs}
        cpu = {h: statistics.median(r[1] for r in runs[h]) for h in runs}
        print(
            f"  {label:<13} wall off {wall[False] * 1000:7.1f} ms on {wall[True] * 1000:7.1f} ms"
            f" ratio {wall[True] / wall[False]:.3f} | cpu ratio {cpu[True] / cpu[False]:.3f}"
        )
    firsts: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for n in range(rounds):
        for history in (False, True) if n % 2 else (True, False):
            store = new_store(folder, f"first-{n}-{history}.db")
            firsts[history].append(timed_write(store, items(count), history))
            store.close()
    wall = {h: statistics.median(r[0] for r in firsts[h]) for h in firsts}
    cpu = {h: statistics.median(r[1] for r in firsts[h]) for h in firsts}
    print(
        f"  {'first listing':<13} wall off {wall[False] * 1000:7.1f} ms"
        f" on {wall[True] * 1000:7.1f} ms"
        f" ratio {wall[True] / wall[False]:.3f} | cpu ratio {cpu[True] / cpu[False]:.3f}"
        " (every model added)"
    )


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms"


def bench_reads(folder: Path, events: int, observations: int) -> None:
    from provider_store.history.ping_history import write_observations

    store = new_store(folder, "reads.db")
    now = time.time()
    rng = random.Random(1)
    event_table = Event.__table__  # type: ignore[attr-defined]
    with store.transaction() as session:
        rows = [
            {
                "provider_key": f"provider-{i % 20}",
                "model_id": f"model-{i % 5000}",
                "type": rng.choice(["added", "missing", "changed", "verdict"]),
                "field": "input_price",
                "old_value": 1.0,
                "new_value": 2.0,
                "observed_at": now - 90 * 86400 * (events - i) / events,
                "refresh_id": "r",
            }
            for i in range(events)
        ]
        session.execute(insert(event_table), rows)
    observation_rows = [
        {
            "provider_key": f"provider-{i % 5}",
            "model_id": f"model-{i % 500}",
            "at": now - 6 * 86400 * (observations - i) / observations,
            "outcome": "answered" if rng.random() < 0.95 else "timeout",
            "http_status": 200,
            "latency_ms": rng.lognormvariate(6, 0.5),
        }
        for i in range(observations)
    ]
    for first in range(0, observations, 1000):  # as pings arrive: many small transactions
        with store.transaction() as session:
            write_observations(session, observation_rows[first : first + 1000])
    for label, kwargs in (
        ("--since 1d", {"since": now - 86400}),
        (
            "--since 90d --provider P (limit 50)",
            {"since": now - 91 * 86400, "provider": "provider-3", "limit": 50},
        ),
        ("no filter (limit 1000)", {}),
    ):
        samples = []
        for _ in range(50):
            started = time.perf_counter()
            found = store.changes(**kwargs)  # type: ignore[arg-type]
            samples.append(time.perf_counter() - started)
        print(f"changes {label:<36} {len(found):5d} events  {percentiles(samples)}")
    for days in (7, 1):
        for label, read in (("scan (before)", scan_stats), ("rollup", rollup_stats)):
            samples = []
            for _ in range(20):
                started = time.perf_counter()
                count = read(store, now - days * 86400)
                samples.append(time.perf_counter() - started)
            print(
                f"models stats --since {days}d over {observations:,} observations"
                f" ({count} models), {label:<13}: {percentiles(samples)}"
            )
    store.close()


def rollup_stats(store: ProviderStore, since: float) -> int:
    return len(store.model_stats(since=since))


def scan_stats(store: ProviderStore, since: float) -> int:
    """How models stats read before the rollup: every observation in the window, summed here."""
    o = Observation.__table__.c  # type: ignore[attr-defined]
    query = select(o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms, o.id)
    groups: dict[tuple[str, str], list[Any]] = {}
    with store.read() as session:
        for key, model_id, at, outcome, latency, row_id in session.execute(
            query.where(o.at >= since)
        ).all():
            group = groups.get((key, model_id))
            if group is None:
                group = groups[(key, model_id)] = [0, 0, [], (at, row_id, outcome, latency)]
            group[0] += 1
            group[1] += outcome == "answered"
            if latency is not None:
                group[2].append(latency)
            if (at, row_id) > group[3][:2]:
                group[3] = (at, row_id, outcome, latency)
    for group in groups.values():
        group[2].sort()
    return len(groups)


def bench_growth(folder: Path, refreshes: int, count: int) -> None:
    for label, churn in (("unchanged", False), ("5 re-priced + 1 in/out", True)):
        path = folder / f"growth-{churn}.db"
        store = new_store(folder, path.name)
        base = items(count)
        write_listing_once(store, base)
        store.engine.dispose()
        before = os.path.getsize(path)
        for n in range(refreshes):
            models = base
            if churn:
                models = [dict(m) for m in base]
                for k in range(5):
                    models[(n * 5 + k) % count]["pricing"] = {"prompt": f"0.0000{n % 7}1"}
                if n % 2:
                    models = models[:-1]
            write_listing_once(store, models)
        store.engine.dispose()
        after = os.path.getsize(path)
        print(
            f"growth per {refreshes:,} refreshes of {count} models ({label}): "
            f"{(after - before) / 1024:,.0f} KiB ({len(store.changes(limit=None)):,} events)"
        )
        store.close()


def write_listing_once(store: ProviderStore, models: list[dict[str, Any]]) -> None:
    with store.transaction() as session:
        write_listing(session, "p", models, time.time())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--refreshes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_refresh(Path(folder), args.models, args.rounds)
        bench_reads(Path(folder), args.events, args.events)
        bench_growth(Path(folder), args.refreshes, 500)


if __name__ == "__main__":
    main()
