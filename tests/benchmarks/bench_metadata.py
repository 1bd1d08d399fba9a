"""What reading and storing listed model metadata adds to writing a discovered list.

Run: ``.venv/bin/python tests/benchmarks/bench_metadata.py [--models N]`` (not collected by
pytest). On a temporary SQLite file, with N OpenRouter-shaped items (default 20,000), prints:

- the time to read every item into a ModelInfo (per item, in microseconds);
- the time of one discovery write without metadata (the cache columns and sightings) and with it
  (``write_listing``), and their ratio, measured in this run;
- the time of a second, unchanged write with metadata (compared, nothing rewritten), and of a
  write in which every item changed.

The metadata is read and written inside the discovery write transaction, so these figures are
how much longer the provider's row stays locked per refresh.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from provider_store import ProviderConfig, ProviderStore
from provider_store.catalog import cache_rows
from provider_store.discovery.save_listing import write_listing
from provider_store.providers.listed_info import model_infos


def items(count: int, salt: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": f"vendor-{i % 50}/model-{i}",
            "name": f"Vendor {i % 50}: Model {i}",
            "created": 1_700_000_000 + i,
            "context_length": 8192 * (1 + i % 16),
            "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
            "pricing": {"prompt": f"0.00000{1 + i % 9}", "completion": f"0.0000{1 + i % 9}"},
            "top_provider": {"max_completion_tokens": 4096 + salt},
            "supported_parameters": ["max_tokens", "temperature", "tools", "reasoning"],
        }
        for i in range(count)
    ]


def timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20_000)
    count = parser.parse_args().models
    listed = items(count)
    extract = timed(lambda: model_infos(listed))
    with tempfile.TemporaryDirectory() as tmp:
        store = ProviderStore(f"sqlite:///{Path(tmp) / 'bench.db'}")
        for key in ("plain", "meta"):
            store.save_config(key, ProviderConfig(base_api_url="https://api.example.com/v1"))

        def write(key: str, models: list[dict[str, Any]], with_metadata: bool) -> None:
            with store.transaction() as session:
                if with_metadata:
                    write_listing(session, key, models, time.time())
                else:
                    cache_rows.write_cache(session, key, models, time.time())

        plain = timed(lambda: write("plain", listed, False))
        meta = timed(lambda: write("meta", listed, True))
        unchanged = timed(lambda: write("meta", listed, True))
        changed = timed(lambda: write("meta", items(count, salt=1), True))
        store.close()
    print(f"models listed:                  {count:,}")
    print(f"read into ModelInfo:            {extract:.3f} s ({extract / count * 1e6:.1f} us/item)")
    print(f"first write without metadata:   {plain:.3f} s")
    print(f"first write with metadata:      {meta:.3f} s ({meta / plain:.2f}x)")
    print(f"same list again, with metadata: {unchanged:.3f} s (nothing rewritten)")
    print(f"every item changed, metadata:   {changed:.3f} s")


if __name__ == "__main__":
    main()
