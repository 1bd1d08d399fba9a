"""What the one model view costs ``models list`` per model, at several catalog sizes.

Run: ``.venv/bin/python tests/benchmarks/bench_model_view.py`` (not collected by pytest). On a
temporary SQLite file holding 4 providers with N valid models each (OpenRouter-shaped listed
metadata, and a user override on every tenth model), for N = 250, 2,500 and 25,000, prints:

- ``listed only``: the read ``models list`` made before the view (each provider's listed
  metadata, ``list_model_infos``), per model in microseconds;
- ``model view``: the bulk view (``model_views``: values reconciled from the list, the user and
  the registries, with sources and status), per model in microseconds, and the ratio.

The view reads the whole catalog in four queries, so its time per model stays flat as the
catalog grows (the figures at the three sizes should be about equal).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from provider_store import ProviderConfig, ProviderStore
from provider_store.catalog.model_facts import set_user_facts
from provider_store.discovery.save_listing import write_listing
from provider_store.providers.listed_info import model_infos
from provider_store.views.model_view import model_views

PROVIDERS = 4


def items(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"model-{i}",
            "name": f"Model {i}",
            "context_length": 8192 * (1 + i % 16),
            "pricing": {"prompt": f"0.00000{1 + i % 9}", "completion": f"0.0000{1 + i % 9}"},
            "supported_parameters": ["max_tokens", "tools"],
        }
        for i in range(count)
    ]


def best_of(runs: int, call: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def build(store: ProviderStore, count: int) -> None:
    listed = items(count)
    for n in range(PROVIDERS):
        key = f"p{n}"
        ids = [item["id"] for item in listed]
        store.save_config(
            key,
            ProviderConfig(
                base_api_url=f"http://127.0.0.1:9/{key}", valid_models={i: i for i in ids}
            ),
        )
        with store.transaction() as session:
            write_listing(session, key, listed, time.time(), model_infos(listed), history=False)
            for model_id in ids[::10]:
                set_user_facts(session, key, model_id, {"context_length": 4096}, time.time())


def main() -> None:
    print(f"{'models':>8} {'listed only us/model':>22} {'model view us/model':>21} {'ratio':>6}")
    for count in (250, 2_500, 25_000):
        with tempfile.TemporaryDirectory() as tmp:
            store = ProviderStore(f"sqlite:///{Path(tmp) / 'bench.db'}")
            build(store, count)
            total = count * PROVIDERS
            keys = store.provider_keys()
            runs = 5 if count < 25_000 else 2
            before = best_of(runs, lambda s=store, k=keys: [s.list_model_infos(x) for x in k])
            after = best_of(runs, lambda s=store: model_views(s))
            assert len(model_views(store)) == total
            store.close()
        print(
            f"{total:>8,} {before / total * 1e6:>22.1f} {after / total * 1e6:>21.1f}"
            f" {after / before:>6.2f}"
        )


if __name__ == "__main__":
    main()
