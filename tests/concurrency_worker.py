"""Child-process worker for the multi-process tests and the stress script.

Run as ``python tests/concurrency_worker.py MODE ARGS...``. Workers that take part in a
simultaneous start print ``ready``, then read a wall-clock timestamp from stdin and sleep until
it (a barrier across processes). Results are printed as one JSON line on stdout. The parent side
of that protocol is :func:`spawn` and :func:`run_together`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import zygote
from sqlalchemy import select

from provider_store import (
    ModelDiscoveryService,
    ProviderClient,
    ProviderStore,
    ValidationResult,
)
from provider_store.catalog.cache_rows import MODEL_TABLE, PROVIDER_TABLE
from provider_store.catalog.states import Verdict
from provider_store.discovery import leases
from provider_store.testing import FakeProvider

CHAIN_MODEL = "write-chain"
WORKER = str(Path(__file__).resolve())


def spawn(*args: str) -> subprocess.Popen[str]:
    """Start this worker in a child process with ``MODE ARGS...`` (forked from the tests'
    zygote: see ``zygote.py``)."""
    proc: subprocess.Popen[str] = zygote.Popen(
        [sys.executable, WORKER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc


def run_together(
    procs: list[subprocess.Popen[str]], timeout: float = 90
) -> tuple[list[dict[str, Any]], float]:
    """Wait until every worker is ready, start them at one instant; return their JSON and the
    wall time from that instant. Raises RuntimeError when a worker fails."""
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line != "ready\n":
            proc.wait(timeout=30)
            raise RuntimeError(
                f"worker not ready: {line!r} {proc.stderr.read() if proc.stderr else ''}"
            )
    start_at = time.time() + 0.3
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start_at}\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"worker exited {proc.returncode}: {err[-2000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results, time.time() - start_at


class _Collect(logging.Handler):
    """Keeps every warning or error the library logs: each one counts as an error."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _barrier() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start_at = float(sys.stdin.readline())
    time.sleep(max(0.0, start_at - time.time()))


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _service(store: ProviderStore, lease: float | None, wait: float | None) -> Any:
    client = ProviderClient(connect_timeout=2, read_timeout=5, deadline=10, backoff=0.05)
    return ModelDiscoveryService(store, client=client, lease_seconds=lease, wait_seconds=wait)


def discover(url: str, key: str, lease: str = "", wait: str = "") -> None:
    """Wait at the barrier, then discover ``key`` once (not forced)."""
    store = ProviderStore(url)
    service = _service(store, float(lease) if lease else None, float(wait) if wait else None)
    config = store.get_config(key)
    _barrier()
    started = time.monotonic()
    result = service.discover(config)
    _emit(
        {
            "source": result.source.value,
            "ids": [m["id"] for m in result.models],
            "error": str(result.error) if result.error else None,
            "elapsed": time.monotonic() - started,
        }
    )


def hold_and_die(url: str, key: str, seconds: str) -> None:
    """Take the refresh lease of ``key``, then die by SIGKILL without releasing it."""
    store = ProviderStore(url)
    with store.transaction() as session:
        assert leases.try_acquire(session, key, leases.new_holder_id(), seconds=float(seconds))
    os.kill(os.getpid(), signal.SIGKILL)


def hammer(url: str, keys: str, rounds: str, worker: str) -> None:
    """Rounds of refresh (forced discover, verdict ping, cache + verdict write) and reads.

    The worker runs its own loopback provider; before each refresh it is told to list a tag
    naming the worker and round, so every write is recognisable. The cache + verdict write
    also records the tag it replaced (read under the provider's row lock, in the same
    transaction), so the parent can rebuild the commit order and check that the last writer won.
    """
    collector = _Collect()
    logging.getLogger("provider_store").addHandler(collector)
    store = ProviderStore(url)
    service = _service(store, None, None)
    fake = FakeProvider(["a", "b"]).start()
    errors: list[str] = []
    chain: list[tuple[str, str | None, str]] = []
    _barrier()
    started = time.monotonic()
    for n in range(int(rounds)):
        for key in keys.split(","):
            tag = f"{key}-w{worker}-r{n}"
            try:
                fake.set_models(["a", "b", tag])
                config = store.get_config(key)
                config.base_api_url = fake.base_url
                fresh = service.discover(config, force_refresh=True)
                if fresh.error is not None or [m["id"] for m in fresh.models][-1] != tag:
                    errors.append(f"discover: {fresh.source} {fresh.error}")
                service.check_model(config, "a", force=True)
                with store.transaction() as session:
                    p = PROVIDER_TABLE.c
                    provider_id = session.execute(
                        select(p.id).where(p.key == key).with_for_update()
                    ).scalar_one()
                    m = MODEL_TABLE.c
                    prev_tag = session.execute(
                        select(m.verdict_reason).where(
                            m.provider_id == provider_id, m.model_id == CHAIN_MODEL
                        )
                    ).scalar_one_or_none()
                    store.rows.write_cache(
                        key, fresh.models, fetched_at=time.time(), session=session
                    )
                    at = time.time()
                    store.rows.record_verdicts(
                        key,
                        [
                            ValidationResult("a", Verdict.VALID, tag, at),
                            ValidationResult(CHAIN_MODEL, Verdict.INVALID, tag, at),
                        ],
                        session=session,
                    )
                chain.append((key, prev_tag, tag))
                service.discover(store.get_config(key))
                store.load_configs()
                store.load_verdicts(key)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                errors.append(f"{exc.__class__.__name__}: {exc}")
    fake.stop()
    _emit(
        {
            "errors": errors + collector.messages,
            "requests": fake.request_count(),
            "chain": chain,
            "elapsed": time.monotonic() - started,
        }
    )


def import_file(url: str, path: str) -> None:
    """Import a legacy YAML file with replace=True (the parent kills this process midway)."""
    store = ProviderStore(url)
    sys.stdout.write("go\n")
    sys.stdout.flush()
    store.import_yaml(Path(path), replace=True)
    _emit({"done": True})


def refresh(url: str, key: str) -> None:
    """Force a refresh of ``key`` (the parent kills this process midway)."""
    store = ProviderStore(url)
    service = _service(store, None, None)
    config = store.get_config(key)
    sys.stdout.write("go\n")
    sys.stdout.flush()
    result = service.discover(config, force_refresh=True)
    _emit({"done": True, "source": result.source.value})


def verify_last_writer(
    store: ProviderStore, keys: list[str], chain: list[tuple[str, str | None, str]]
) -> dict[str, bool]:
    """Per provider: the writes form one serial chain and the stored state is its last write's.

    ``chain`` holds (provider key, tag replaced, tag written) for every cache + verdict write.
    """
    verdicts: dict[str, bool] = {}
    for key in keys:
        links = {prev: tag for k, prev, tag in chain if k == key}
        written = [tag for k, _prev, tag in chain if k == key]
        order: list[str] = []
        current: str | None = None
        while current in links and len(order) <= len(written):
            current = links[current]
            order.append(current)
        serial = len(links) == len(written) and sorted(order) == sorted(written)
        last = order[-1] if order else None
        cached = [m["id"] for m in store.read_cache(key).models or []]
        stored = store.load_verdicts(key, models=["a", CHAIN_MODEL])
        verdicts[key] = (
            serial
            and cached == ["a", "b", last]
            and stored["a"].reason == last
            and stored[CHAIN_MODEL].reason == last
        )
    return verdicts


def manager_discover(url: str) -> None:
    """A long-lived ProviderManager: load the catalog, print ``loaded``, then discover all.

    The parent holds the provider's ``/models`` answer while it edits the catalog elsewhere.
    """
    from provider_store import ProviderManager

    store = ProviderStore(url)
    client = ProviderClient(connect_timeout=5, read_timeout=120, deadline=180, backoff=0.05)
    service = ModelDiscoveryService(store, client=client)
    manager = ProviderManager(store=store, service=service)
    sys.stdout.write("loaded\n")
    sys.stdout.flush()
    ok = manager.discover_models(force_refresh=True)
    report = manager.last_report
    assert report is not None
    _emit({"ok": ok, "persisted": report.persisted, "report": report.as_dict()})


def save_config(url: str, key: str, name: str, api_key: str) -> None:
    """Rename provider ``key`` and rotate its key with ``save_config`` (curated lists kept)."""
    store = ProviderStore(url)
    config = store.get_config(key)
    config.name, config.api_key = name, api_key
    store.save_config(key, config)
    _emit({"done": True})


def pings(url: str, worker: str, batches: str, models: str) -> None:
    """Write ping observations of models m-0 .. m-<models-1> of provider p in ``batches``
    transactions of 20 (each adding to the same rollup rows as the other workers), at times
    no other worker uses; print how many were written."""
    from provider_store.history.ping_history import write_observations

    store = ProviderStore(url)
    base = float(time.time() // 86400 * 86400 - 86400)  # yesterday 00:00 UTC: a day, 4 quarters
    _barrier()
    written = 0
    for batch in range(int(batches)):
        rows = [
            {
                "provider_key": "p",
                "model_id": f"m-{(batch + i) % int(models)}",
                "at": base + (batch * 20 + i) * 61.0 + int(worker) * 0.001,
                "outcome": "answered" if i % 3 else "timeout",
                "http_status": 200,
                "latency_ms": 1.0 + (batch * 7 + i * 13 + int(worker)) % 3000,
            }
            for i in range(20)
        ]
        with store.transaction() as session:
            write_observations(session, rows)
        written += len(rows)
    store.close()
    _emit({"written": written})


MODES = {
    "discover": discover,
    "hold_and_die": hold_and_die,
    "hammer": hammer,
    "import": import_file,
    "manager_discover": manager_discover,
    "save_config": save_config,
    "refresh": refresh,
    "pings": pings,
}

if __name__ == "__main__":
    MODES[sys.argv[1]](*sys.argv[2:])
