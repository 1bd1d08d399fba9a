"""Benchmark: warm cache hit of ``discover_models`` and a new process's time to first answer.

Run: ``.venv/bin/python tests/benchmarks/bench_cache_hit.py [--calls 2000] [--postgres URL]``
(PostgreSQL also runs when ``PROVIDER_STORE_TEST_POSTGRES_URL`` is set).

For each backend, a provider whose fresh discovery cache holds 1,000 models:

* **cache hit**: p50/p99 of ``ModelDiscoveryService.discover_models(config)`` in a warm process,
  next to its floor: a raw driver select of the same cached row plus the JSON decode
  (``sqlite3`` + ``json.loads``; ``psycopg``, whose json loader decodes the column). Target:
  p50 ratio <= 3.
* **time to first answer**: wall time of a new process running
  ``provider-store --db URL models list --provider big`` next to a new process that only runs
  ``import provider_store`` (median of ``--spawns`` runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore
from provider_store.catalog.db import sqlite_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pg_schema import each_backend  # noqa: E402

MODELS = 1_000
KEY = "big"
BIN = Path(sys.executable).parent


def model_list() -> list[dict[str, Any]]:
    return [
        {"id": f"org-{i % 7}/model-{i:04d}-instruct", "object": "model", "owned_by": f"org-{i % 7}"}
        for i in range(MODELS)
    ]


def prepare(url: str) -> ProviderStore:
    store = ProviderStore(url)
    models = model_list()
    store.save_config(
        KEY,
        ProviderConfig(
            base_api_url="http://127.0.0.1:9/v1",
            api_key="sk-bench",
            valid_models={m["id"]: f"m{i}" for i, m in enumerate(models)},
        ),
    )
    store.rows.set_cache_ttl(KEY, 10 * 365 * 86400)
    store.rows.write_cache(KEY, models, fetched_at=time.time())
    return store


def percentiles(call: Callable[[], Any], calls: int) -> tuple[float, float]:
    for _ in range(min(200, calls)):
        call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def floor_call(url: str) -> tuple[Callable[[], Any], Callable[[], None]]:
    """A raw driver select of the cached row + JSON decode, and a closer."""
    path = sqlite_path(url)
    if path is not None:
        conn = sqlite3.connect(path)

        def sqlite_floor() -> Any:
            row = conn.execute("SELECT models_cache FROM provider WHERE key = ?", (KEY,)).fetchone()
            return json.loads(row[0])

        return sqlite_floor, conn.close

    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pg = psycopg.connect(conninfo, autocommit=True)

    def pg_floor() -> Any:
        row = pg.execute("SELECT models_cache FROM provider WHERE key = %s", (KEY,)).fetchone()
        assert row is not None and len(row[0]) == MODELS
        return row[0]

    return pg_floor, pg.close


def median_wall(argv: list[str], spawns: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(spawns):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    store = prepare(url)
    service = ModelDiscoveryService(store)
    config = store.get_config(KEY)
    assert len(service.discover_models(config)) == MODELS
    hit50, hit99 = percentiles(lambda: service.discover_models(config), args.calls)
    floor, close = floor_call(url)
    floor50, floor99 = percentiles(floor, args.calls)
    close()
    service.close()
    store.close()

    env = dict(os.environ)
    env.pop("PROVIDER_STORE_URL", None)
    cli = [str(BIN / "provider-store"), "--db", url, "models", "list", "--provider", KEY]
    out = subprocess.run(cli, check=True, capture_output=True, text=True, env=env).stdout
    assert out.count("\n") >= MODELS, out[:500]
    first_answer = median_wall(cli, args.spawns, env)
    import_only = median_wall([sys.executable, "-c", "import provider_store"], args.spawns, env)

    print(f"{name}:")
    print(f"  cache hit discover_models ({MODELS} models, {args.calls} calls)")
    print(f"    p50 {hit50 * 1e3:8.3f} ms   p99 {hit99 * 1e3:8.3f} ms")
    print("  floor (raw driver select + JSON decode)")
    print(f"    p50 {floor50 * 1e3:8.3f} ms   p99 {floor99 * 1e3:8.3f} ms")
    print(f"  ratio p50 {hit50 / floor50:.2f}x  p99 {hit99 / floor99:.2f}x  (target <= 3x)")
    print(f"  new process, time to first answer (median of {args.spawns})")
    print(f"    provider-store models list --provider {KEY}: {first_answer * 1e3:7.0f} ms")
    print(f"    python -c 'import provider_store':          {import_only * 1e3:7.0f} ms")
    print(f"    difference: {(first_answer - import_only) * 1e3:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description="Cache-hit latency and time to first answer.")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--spawns", type=int, default=5)
    parser.add_argument(
        "--postgres", default=os.environ.get("PROVIDER_STORE_TEST_POSTGRES_URL", "")
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for name, url in each_backend(args.postgres, prefix="ps_bench"):
        run_backend(name, url, args)


if __name__ == "__main__":
    main()
