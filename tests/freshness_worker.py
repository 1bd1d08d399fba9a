"""Child-process worker for the freshness tests and bench_freshness.py.

Run as ``python tests/freshness_worker.py MODE ARGS...``; the barrier and the JSON line follow
``tests/concurrency_worker.py`` (use its :func:`run_together` on the parent side).

- ``read URL KEY``: wait at the barrier, read KEY's model list once (the new API: stale lists
  are revalidated in the background) and print the source, ids and the read's latency and
  the time it answered. The process then exits without waiting for the background refresh it
  may have started (its lease is given back).
- ``edit URL KEY MODEL``: add MODEL to KEY's valid models, print when it committed.
- ``import URL FILE``: import the legacy YAML FILE (merge), print when it committed.
- ``add URL KEY MODEL``: add provider KEY with the valid model MODEL, print when it committed.
- ``remove URL KEY``: remove provider KEY, print when it committed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from provider_store import ModelDiscoveryService, ProviderClient, ProviderConfig, ProviderStore

WORKER = str(Path(__file__).resolve())


def _barrier() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start_at = float(sys.stdin.readline())
    time.sleep(max(0.0, start_at - time.time()))


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def read(url: str, key: str) -> None:
    """Read ``key``'s list once after the barrier; report where it came from and how fast."""
    store = ProviderStore(url)
    client = ProviderClient(connect_timeout=1, read_timeout=1.5, deadline=2, retries=0)
    service = ModelDiscoveryService(store, client=client)
    config = store.get_config(key)
    _barrier()
    started = time.perf_counter()
    result = service.discover(config)
    elapsed = time.perf_counter() - started
    _emit(
        {
            "source": result.source.value,
            "ids": [m["id"] for m in result.models],
            "error": str(result.error) if result.error else None,
            "elapsed": elapsed,
            "answered_at": time.time(),
        }
    )


def edit(url: str, key: str, model: str) -> None:
    """Add ``model`` to ``key``'s valid models in one transaction; print the commit time."""
    store = ProviderStore(url)
    config = store.get_config(key)
    config.valid_models[model] = model
    store.save_config(key, config)
    _emit({"committed_at": time.time()})


def import_file(url: str, path: str) -> None:
    """Import the legacy YAML file ``path`` in one transaction; print the commit time."""
    store = ProviderStore(url)
    store.import_yaml(path)
    _emit({"committed_at": time.time()})


def add(url: str, key: str, model: str) -> None:
    """Add provider ``key`` with one valid model; print the commit time."""
    store = ProviderStore(url)
    store.save_config(key, ProviderConfig(name=key, valid_models={model: model}))
    _emit({"committed_at": time.time()})


def remove(url: str, key: str) -> None:
    """Remove provider ``key``; print the commit time."""
    store = ProviderStore(url)
    store.remove_providers([key])
    _emit({"committed_at": time.time()})


if __name__ == "__main__":
    modes = {"read": read, "edit": edit, "import": import_file, "add": add, "remove": remove}
    modes[sys.argv[1]](*sys.argv[2:])
