"""Benchmark: legacy YAML import/export of 100 providers x (1,000 valid + 100 invalid) models.

Run: ``.venv/bin/python tests/benchmarks/bench_import_export.py [--repeat N]``

Measures, in one run, against floors made of what cannot be avoided:

* import  = ``ProviderStore.import_yaml`` into a new, migrated SQLite store;
  floor   = C YAML parse (``yaml.load`` with CSafeLoader) + raw ``sqlite3`` ``executemany`` of the
            same provider and model rows into the same schema, one transaction.
* export  = ``ProviderStore.export_yaml`` (atomic write with fsync);
  floor   = raw ``sqlite3`` select of the same columns + C YAML dump + plain file write.

Each figure is the best of ``--repeat`` runs. Peak memory is the process's maximum resident set
size (``ru_maxrss``), which covers every phase. Target: each ratio <= 1.5, peak <= 500 MB.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from provider_store import ProviderStore
from provider_store.legacy.document import dump_data

PROVIDERS = 100
VALID = 1_000
INVALID = 100


def make_document() -> dict[str, Any]:
    providers: dict[str, Any] = {}
    for p in range(PROVIDERS):
        providers[f"provider-{p:03d}"] = {
            "api_key": f"sk-{p:03d}-not-configured",
            "base_api_url": f"https://api{p}.example.com/v1",
            "name": f"Provider {p}",
            "valid_models": {
                f"org-{i % 7}/model-{p}-{i:04d}-instruct": f"m{p}-{i}" for i in range(VALID)
            },
            "invalid_models": [f"embedding-{p}-{i:03d}" for i in range(INVALID)],
        }
    return {"providers": providers}


def best(repeat: int, setup: Callable[[int], Any], run: Callable[[Any], Any]) -> float:
    times = []
    for attempt in range(repeat):
        arg = setup(attempt)
        start = time.perf_counter()
        run(arg)
        times.append(time.perf_counter() - start)
    return min(times)


def new_store(directory: Path, name: str) -> ProviderStore:
    return ProviderStore(f"sqlite:///{directory / name}")


def floor_import(source: Path, db_path: Path) -> None:
    data = yaml.load(source.read_bytes(), Loader=yaml.CSafeLoader)  # noqa: S506 - safe loader
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    provider_rows = [
        (key, p["name"], p["base_api_url"], p["api_key"], pos, 300, "{}", now, now)
        for pos, (key, p) in enumerate(data["providers"].items())
    ]
    conn.executemany(
        "INSERT INTO provider (key, name, base_api_url, api_key, position, cache_ttl_seconds,"
        " extra, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        provider_rows,
    )
    ids = dict(conn.execute("SELECT key, id FROM provider"))
    model_rows = []
    for key, p in data["providers"].items():
        pid = ids[key]
        for pos, (model_id, alias) in enumerate(p["valid_models"].items()):
            model_rows.append((pid, model_id, alias, "valid", pos))
        for pos, model_id in enumerate(p.get("invalid_models", [])):
            model_rows.append((pid, model_id, model_id, "invalid", pos))
    conn.executemany(
        "INSERT INTO model (provider_id, model_id, alias, status, position) VALUES (?, ?, ?, ?, ?)",
        model_rows,
    )
    conn.execute("COMMIT")
    conn.close()


def floor_export(db_path: Path, out: Path) -> None:
    conn = sqlite3.connect(db_path)
    providers: dict[str, Any] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for pid, key, name, url, api_key in conn.execute(
        "SELECT id, key, name, base_api_url, api_key FROM provider ORDER BY position, id"
    ):
        entry = {"api_key": api_key, "base_api_url": url, "name": name, "valid_models": {},
                 "invalid_models": []}  # fmt: skip
        providers[key] = by_id[pid] = entry
    for pid, status, model_id, alias in conn.execute(
        "SELECT provider_id, status, model_id, alias FROM model"
        " WHERE status IN ('valid', 'invalid') ORDER BY provider_id, status, position, id"
    ):
        if status == "valid":
            by_id[pid]["valid_models"][model_id] = alias
        else:
            by_id[pid]["invalid_models"].append(model_id)
    conn.close()
    data = yaml.dump(
        {"providers": providers},
        Dumper=yaml.CSafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        encoding="utf-8",
    )
    out.write_bytes(data)


def rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "providers.yaml"
        source.write_bytes(dump_data(make_document()))
        models = PROVIDERS * (VALID + INVALID)
        size_mb = source.stat().st_size / 1e6
        print(f"document: {PROVIDERS} providers, {models:,} models, {size_mb:.1f} MB;"
              f" libyaml: {yaml.__with_libyaml__}")  # fmt: skip

        stores: list[ProviderStore] = []

        def fresh_store(attempt: int) -> ProviderStore:
            store = new_store(work, f"ours-{attempt}.db")
            stores.append(store)
            return store

        def fresh_floor_db(attempt: int) -> Path:
            new_store(work, f"floor-{attempt}.db").close()  # same migrated schema and indexes
            return work / f"floor-{attempt}.db"

        floor_in = best(args.repeat, fresh_floor_db, lambda db: floor_import(source, db))
        ours_in = best(args.repeat, fresh_store, lambda store: store.import_yaml(source))
        store = stores[-1]
        check = store.load_configs()
        assert len(check) == PROVIDERS and len(check["provider-000"].valid_models) == VALID

        export_path = work / "export.yaml"
        floor_out = best(
            args.repeat, lambda _a: None, lambda _x: floor_export(work / "ours-0.db", export_path)
        )
        floor_bytes = export_path.read_bytes()
        ours_out = best(args.repeat, lambda _a: None, lambda _x: store.export_yaml(export_path))
        assert yaml.load(export_path.read_bytes(), Loader=yaml.CSafeLoader) == yaml.load(  # noqa: S506
            floor_bytes, Loader=yaml.CSafeLoader
        )
        for opened in stores:
            opened.close()

    print(f"import: {ours_in:7.3f} s   floor {floor_in:7.3f} s   ratio {ours_in / floor_in:5.2f}")
    print(
        f"export: {ours_out:7.3f} s   floor {floor_out:7.3f} s   ratio {ours_out / floor_out:5.2f}"
    )
    print(f"peak memory (max RSS of the whole run): {rss_mb():.0f} MB")
    ok = ours_in <= 1.5 * floor_in and ours_out <= 1.5 * floor_out and rss_mb() <= 500
    print("target (ratios <= 1.5, peak <= 500 MB):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
