"""Child-process worker for the fleet tests (connection bounds, poolers) and bench_fleet.py.

Run as ``python tests/fleet_worker.py MODE ARGS...``; the barrier and the JSON line follow
``tests/concurrency_worker.py`` (use its :func:`run_together` on the parent side).

- ``open URL``: wait at the barrier, open the store (the first open migrates it), print the
  seconds it took.
- ``discover URL VALIDATE``: wait at the barrier, open the store and a manager over it, discover
  every provider (``VALIDATE`` 1: and ping their models), print each provider's status, source
  and error, and whether the run was ok and its results saved. ``discover URL VALIDATE AFTER
  SECONDS``: the same while a thread of the process holds all its pooled connections from
  AFTER seconds into the run, for SECONDS (a process out of connections).
- ``edit URL KEY MODEL``: add MODEL to KEY's valid models, print when it committed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import text

from provider_store import ProviderManager, ProviderStore

WORKER = str(Path(__file__).resolve())


def _barrier() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start_at = float(sys.stdin.readline())
    time.sleep(max(0.0, start_at - time.time()))


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def open_store(url: str) -> None:
    """Open (and migrate) the store after the barrier."""
    _barrier()
    started = time.monotonic()
    ProviderStore(url).close()
    _emit({"elapsed": time.monotonic() - started})


def _hog(store: ProviderStore, after: float, seconds: float, holding: threading.Event) -> None:
    """From ``after`` seconds on, hold every connection of ``store``'s pool for ``seconds``."""
    time.sleep(after)
    pool = store.engine.pool
    size = pool.size()  # type: ignore[attr-defined]
    with ExitStack() as stack:
        for _ in range(size):
            session = stack.enter_context(store.read())
            session.execute(text("SELECT 1"))
        holding.set()
        time.sleep(seconds)


def discover(url: str, validate: str, hog_after: str = "", hog_seconds: str = "") -> None:
    """After the barrier, open the store and discover every provider (as a process started
    with the others would); report each provider. With ``hog_after`` and ``hog_seconds``, a
    thread of the process holds all its pooled connections from ``hog_after`` seconds into
    the discovery on, for ``hog_seconds``."""
    _barrier()
    started = time.monotonic()
    store = ProviderStore(url)
    manager = ProviderManager(store=store)
    if hog_after:
        holding = threading.Event()
        hog = threading.Thread(
            target=_hog, args=(store, float(hog_after), float(hog_seconds), holding), daemon=True
        )
        hog.start()
        if float(hog_after) == 0:
            holding.wait(30)
    report = manager.discover(validate=validate == "1", deadline=60)
    _emit(
        {
            "elapsed": time.monotonic() - started,
            "ok": report.ok,
            "persisted": report.persisted,
            "error": report.error,
            "providers": {
                s.provider: {
                    "status": str(s.status),
                    "source": None if s.source is None else str(s.source),
                    "error": s.error,
                }
                for s in report.providers
            },
        }
    )
    manager.close()
    store.close()


def edit(url: str, key: str, model: str) -> None:
    """Add ``model`` to ``key``'s valid models in one transaction; print the commit time."""
    store = ProviderStore(url)
    config = store.get_config(key)
    config.valid_models[model] = model
    store.save_config(key, config)
    _emit({"committed_at": time.time()})
    store.close()


MODES = {"open": open_store, "discover": discover, "edit": edit}

if __name__ == "__main__":
    MODES[sys.argv[1]](*sys.argv[2:])
