"""``models stats`` over a 100,000-model catalog, before and after, on SQLite and PostgreSQL.

Run: ``.venv/bin/python tests/benchmarks/bench_stats.py [--baseline PATH] [--providers 200]
[--models 500] [--days 3] [--rounds 5]`` (not collected by pytest). PostgreSQL runs when
``PROVIDER_STORE_TEST_POSTGRES_URL`` is set (in a schema of its own, dropped afterwards),
SQLite always.

The catalog is built once per backend: ``--providers`` x ``--models`` models, each pinged
once a day at a random hour for the last ``--days`` days (outcome ``answered`` 95% of the time,
log-normal latencies around 400 ms), written as observations and the ping rollup rows that sum
them (:func:`provider_store.history.ping_rollup.rollup_of`), in bulk; on PostgreSQL the rollup
is then analyzed (as autovacuum would after such a load).

``--baseline PATH`` is a checkout of the code to compare with (e.g. ``git -C /work/main
worktree add --detach /work/wt/base-stats <commit>``); it runs with this checkout's interpreter
and ``PYTHONPATH=PATH``, so it needs no venv of its own. For each code and backend, on the same
catalog, it prints:

- the library call ``store.model_stats(since=7 days ago)`` (what the CLI asks by default) and
  ``store.model_stats()`` (the whole rollup): median and best of ``--rounds`` in one process;
- ``provider-store models stats`` and ``models stats --json``: the command's wall time with its
  output going to /dev/null (best of 3), beside ``providers list`` (a process's start-up).

Both codes must give the same figures: the script compares their ``--json`` outputs and says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parents[1]))  # tests/, for pg_schema


def build(url: str, providers: int, models: int, days: int) -> int:
    """Fill the catalog at ``url``; the number of rollup rows written."""
    from sqlalchemy import insert, text

    from provider_store import ProviderStore
    from provider_store.catalog.tables import PING_ROLLUP
    from provider_store.history.ping_history import OBSERVATION_TABLE
    from provider_store.history.ping_rollup import rollup_of

    store = ProviderStore(url)
    rng = random.Random(7)
    now = time.time()
    today = math.floor(now / 86400) * 86400
    written = 0
    for p in range(providers):
        key = f"provider-{p:03d}"
        observations = []
        for m in range(models):
            median = rng.lognormvariate(math.log(400), 0.6)
            for day in range(days):
                at = min(now - 1, today - day * 86400 + rng.uniform(0, 86400))
                answered = rng.random() < 0.95
                observations.append(
                    {
                        "provider_key": key,
                        "model_id": f"vendor-{m % 20}/model-{m}",
                        "at": at,
                        "outcome": "answered" if answered else "timeout",
                        "http_status": 200 if answered else None,
                        "latency_ms": rng.lognormvariate(math.log(median), 0.3)
                        if answered
                        else None,
                    }
                )
        rows = [
            {"provider_key": k, "model_id": mid, "span": span, "start": start, **r.as_row()}
            for (k, mid, span, start), r in rollup_of(observations).items()
        ]
        with store.transaction() as session:
            session.execute(insert(OBSERVATION_TABLE), observations)
            session.execute(insert(PING_ROLLUP), rows)
        written += len(rows)
    if url.startswith(
        "postgresql"
    ):  # what autovacuum does after such a load: the planner's figures
        with store.transaction() as session:
            session.execute(text("ANALYZE ping_rollup"))
    store.close()
    return written


def work(url: str, rounds: int) -> None:
    """Time the library calls here (the code on sys.path); print JSON."""
    from provider_store import ProviderStore

    store = ProviderStore(url)
    since = time.time() - 7 * 86400
    figures: dict[str, Any] = {}
    for label, kwargs in (("since 7d", {"since": since}), ("all", {})):
        samples = []
        count = 0
        for _ in range(rounds):
            started = time.perf_counter()
            count = len(store.model_stats(**kwargs))  # type: ignore[arg-type]
            samples.append(time.perf_counter() - started)
        figures[label] = {
            "median": statistics.median(samples),
            "best": min(samples),
            "models": count,
        }
    store.close()
    print(json.dumps(figures))


def env_for(checkout: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(checkout)
    return env


def library(checkout: Path, url: str, rounds: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(HERE), "--worker", url, "--rounds", str(rounds)],
        cwd=checkout,
        env=env_for(checkout),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def cli(checkout: Path, url: str, *args: str) -> tuple[float, str]:
    """Best wall time of 3 runs with output to /dev/null, and a digest of the output."""
    command = [sys.executable, "-m", "provider_store", "--db", url, *args]
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            command,
            cwd=checkout,
            env=env_for(checkout),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        best = min(best, time.perf_counter() - started)
    out = subprocess.run(
        command, cwd=checkout, env=env_for(checkout), capture_output=True, check=True
    ).stdout
    return best, hashlib.sha256(out).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", metavar="URL")
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.worker:
        work(args.worker, args.rounds)
        return
    codes = [("after", ROOT)]
    if args.baseline:
        codes.insert(0, ("before", args.baseline.resolve()))
    from pg_schema import each_backend

    server = os.environ.get("PROVIDER_STORE_TEST_POSTGRES_URL", "")
    for backend, url in each_backend(server, "ps_bstats"):
        started = time.perf_counter()
        rows = build(url, args.providers, args.models, args.days)
        print(
            f"{backend}: {args.providers * args.models:,} models, {args.days} pings each,"
            f" {rows:,} rollup rows (built in {time.perf_counter() - started:.0f} s)"
        )
        digests = {}
        for label, checkout in codes:
            lib = library(checkout, url, args.rounds)
            for name, fig in lib.items():
                print(
                    f"  {label:<6} library model_stats({name:<8}) {fig['models']:>7,} models:"
                    f" median {fig['median']:.3f} s, best {fig['best']:.3f} s"
                )
            startup, _ = cli(checkout, url, "providers", "list")
            table, table_digest = cli(checkout, url, "models", "stats")
            as_json, json_digest = cli(checkout, url, "models", "stats", "--json")
            digests[label] = (table_digest, json_digest)
            print(
                f"  {label:<6} CLI > /dev/null: models stats {table:.2f} s,"
                f" models stats --json {as_json:.2f} s, providers list {startup:.2f} s"
            )
        if len(digests) == 2:
            same = digests["before"] == digests["after"]
            print(f"  outputs of before and after (table, --json): {'same' if same else 'DIFFER'}")


if __name__ == "__main__":
    main()
