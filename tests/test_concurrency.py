"""Many processes on one catalog: one refresh per expiry, no lock errors, crash safety.

Real child processes (``tests/concurrency_worker.py``), a real loopback provider, both backends.
"""

from __future__ import annotations

import hashlib
import random
import signal
import sqlite3
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from helpers import after
from sqlalchemy import create_engine, event, make_url, select, text

from provider_store import (
    ModelDiscoveryService,
    ProviderClient,
    ProviderConfig,
    ProviderManager,
    ProviderStore,
    Source,
)
from provider_store.catalog.cache_rows import MODEL_TABLE, PROVIDER_TABLE
from provider_store.catalog.db import sqlite_path
from provider_store.discovery import leases
from provider_store.legacy.document import dump_data
from provider_store.providers.list_pages import DEFAULT_MAX_MODELS
from provider_store.testing import FakeProvider

sys.path.insert(0, str(Path(__file__).parent))
from concurrency_worker import run_together, spawn, verify_last_writer  # noqa: E402

# -- helpers -----------------------------------------------------------------------------------


def service_for(store: ProviderStore, **kwargs: float) -> ModelDiscoveryService:
    client = ProviderClient(connect_timeout=1, read_timeout=5, deadline=10, backoff=0.01)
    return ModelDiscoveryService(store, client=client, **kwargs)


def add_provider(store: ProviderStore, base_url: str, key: str = "p") -> None:
    store.save_config(key, ProviderConfig(base_api_url=base_url, api_key="sk-test-0123456789"))


def stale_and_leased_elsewhere(
    store: ProviderStore, models: list[dict[str, Any]], *, seconds: float
) -> None:
    """Provider p has an hour-old cached list, and holder "someone-else" is refreshing it."""
    store.rows.write_cache("p", models, fetched_at=time.time() - 3600)
    with store.transaction() as session:
        assert leases.try_acquire(session, "p", "someone-else", seconds=seconds)


def holder_of(store: ProviderStore, key: str = "p") -> str | None:
    with store.read() as session:
        return leases.current_holder(session, key)


# -- one refresh per expiry --------------------------------------------------------------------

# Processes in a stampede: enough that several wait on one holder, few enough for two cores.
STAMPEDE = 6


@pytest.mark.slow
def test_a_stampede_on_a_stale_cache_sends_one_models_request(store: ProviderStore) -> None:
    with FakeProvider(["a", "b"], latency=0.5) as fake:
        add_provider(store, fake.base_url)
        store.rows.write_cache("p", [{"id": "old"}], fetched_at=time.time() - 3600)
        results, _ = run_together([spawn("discover", store.url, "p") for _ in range(STAMPEDE)])
        assert fake.request_count("/models") == 1

    sources = [r["source"] for r in results]
    assert sources.count("fresh") == 1, sources
    for result in results:
        # Losers serve the stale list at once (or the new one if the holder already finished).
        expected = ["old"] if result["source"] == "stale" else ["a", "b"]
        assert result["ids"] == expected and result["error"] is None, result
    assert holder_of(store) is None


@pytest.mark.slow
def test_without_any_list_the_others_wait_for_the_holders_list(store: ProviderStore) -> None:
    with FakeProvider(["a", "b"], latency=0.5) as fake:
        add_provider(store, fake.base_url)
        results, _ = run_together([spawn("discover", store.url, "p") for _ in range(STAMPEDE)])
        assert fake.request_count("/models") == 1

    assert sorted(r["source"] for r in results) == ["cache"] * (STAMPEDE - 1) + ["fresh"]
    assert all(r["ids"] == ["a", "b"] and r["error"] is None for r in results), results


@pytest.mark.slow
def test_a_crashed_holder_blocks_nobody_beyond_its_lease(store: ProviderStore) -> None:
    with FakeProvider(["a", "b"]) as fake:
        add_provider(store, fake.base_url)
        dead = spawn("hold_and_die", store.url, "p", "10")
        dead.communicate(timeout=30)
        assert dead.returncode == -signal.SIGKILL
        assert holder_of(store) is not None  # the dead process still holds the lease

        with freeze_time(after(10.5)), service_for(store) as service:  # its lease has lapsed
            result = service.discover(store.get_config("p"))
            assert holder_of(store) is None

        assert result.source is Source.FRESH and [m["id"] for m in result.models] == ["a", "b"]
        assert fake.request_count("/models") == 1


def test_a_stale_list_is_served_at_once_while_another_holder_refreshes(
    store: ProviderStore,
) -> None:
    with FakeProvider(["a", "b"]) as fake, freeze_time("2030-01-01 12:00:00") as clock:
        add_provider(store, fake.base_url)
        stale_and_leased_elsewhere(store, [{"id": "old"}], seconds=10.0)
        service = service_for(store)

        served = service.discover(store.get_config("p"))  # no wait: a waiter would fetch
        assert served.source is Source.STALE and served.error is None
        assert [m["id"] for m in served.models] == ["old"] and fake.request_count() == 0

        clock.tick(10.5)  # the other holder's lease expires without a result
        refreshed = service.discover(store.get_config("p"))
        service.close()
        assert refreshed.source is Source.FRESH and fake.request_count("/models") == 1
        assert holder_of(store) is None


def test_a_waiter_gets_the_holders_failure_without_asking_itself(store: ProviderStore) -> None:
    with FakeProvider(["a", "b"]) as fake:
        add_provider(store, fake.base_url)
        with store.transaction() as session:
            assert leases.try_acquire(session, "p", "someone-else", seconds=30)

        config = store.get_config("p")
        polling = threading.Event()

        def note_poll(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            words = statement.split()
            if words[0].upper() == "SELECT" and "lease_holder" in statement:
                polling.set()  # the waiter polls the lease columns (no sleep to guess when)

        event.listen(store.engine, "before_cursor_execute", note_poll)

        def holder_fails() -> None:
            assert polling.wait(30)
            with store.transaction() as session:
                store.rows.record_discovery_error(
                    "p", "ProviderHTTPError: HTTP 503", status=503, session=session
                )
                leases.release(session, "p", "someone-else")

        thread = threading.Thread(target=holder_fails)
        thread.start()
        service = service_for(store)
        started = time.monotonic()
        result = service.discover(config)
        thread.join()
        event.remove(store.engine, "before_cursor_execute", note_poll)
        service.close()

        assert time.monotonic() - started < 2
        assert result.source is Source.NONE and result.models == []
        assert "HTTP 503" in str(result.error) and getattr(result.error, "status", None) == 503
        assert fake.request_count() == 0


def test_a_stuck_holder_delays_a_waiter_by_wait_seconds_at_most(store: ProviderStore) -> None:
    with FakeProvider(["a", "b"]) as fake, freeze_time("2030-01-01 12:00:00"):
        add_provider(store, fake.base_url)
        with store.transaction() as session:
            assert leases.try_acquire(session, "p", "stuck", seconds=3600)
        with service_for(store, wait_seconds=0.3) as service:
            result = service.discover(store.get_config("p"))
        # The frozen clock never lets the lease expire (nor a clock-based wait end): the waiter
        # gives up after its counted polls and fetches itself.
        assert result.source is Source.FRESH
        assert fake.request_count("/models") == 1
        assert holder_of(store) == "stuck"


def test_force_refresh_fetches_regardless_of_the_lease(store: ProviderStore) -> None:
    with FakeProvider(["a", "b"]) as fake:
        add_provider(store, fake.base_url)
        store.rows.write_cache("p", [{"id": "old"}], fetched_at=time.time())
        with store.transaction() as session:
            assert leases.try_acquire(session, "p", "someone-else", seconds=30)
        with service_for(store) as service:
            result = service.discover(store.get_config("p"), force_refresh=True)
        assert result.source is Source.FRESH and fake.request_count("/models") == 1
        assert holder_of(store) == "someone-else"  # a forced refresh neither takes nor frees it


def test_the_lease_is_released_after_a_failed_refresh(store: ProviderStore) -> None:
    with FakeProvider(["a", "b"]) as fake:
        add_provider(store, fake.base_url)
        store.rows.write_cache("p", [{"id": "old"}], fetched_at=time.time() - 3600)
        fake.set_failure("status", status=404)
        with service_for(store) as service:
            result = service.discover(store.get_config("p"))
        assert result.source is Source.STALE and result.error is not None
        assert holder_of(store) is None


# -- no "database is locked" -------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_refreshes_and_reads_never_fail_and_the_last_writer_wins(
    store: ProviderStore,
) -> None:
    keys = ["p0", "p1"]
    for key in keys:
        add_provider(store, "http://127.0.0.1:9/v1", key)
    workers, rounds = 4, 10
    results, _ = run_together(
        [spawn("hammer", store.url, ",".join(keys), str(rounds), str(w)) for w in range(workers)]
    )
    assert [e for r in results for e in r["errors"]] == []
    chain = [tuple(link) for r in results for link in r["chain"]]
    assert len(chain) == workers * rounds * len(keys)
    verdicts = verify_last_writer(store, keys, chain)
    assert verdicts == dict.fromkeys(keys, True)


# -- crash safety ------------------------------------------------------------------------------


def write_in_progress(url: str, app_name: str) -> bool:
    """True while a write transaction (of the tagged child, on PostgreSQL) is open."""
    path = sqlite_path(url)
    if path is not None:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = :name AND backend_xid IS NOT NULL"
                ),
                {"name": app_name},
            ).scalar_one()
    finally:
        engine.dispose()
    return bool(found)


def tagged_url(url: str) -> tuple[str, str]:
    """The URL with a PostgreSQL application_name to find the child's session by."""
    name = f"crash-{uuid.uuid4().hex[:8]}"
    if sqlite_path(url) is not None:
        return url, name
    tagged = make_url(url).update_query_dict({"application_name": name})
    return tagged.render_as_string(hide_password=False), name


def kill_mid_write(url: str, args: list[str], delay: float) -> bool:
    """Run a worker, SIGKILL it ``delay`` s after its write began; True if it finished first."""
    child_url, name = tagged_url(url)
    proc = spawn(args[0], child_url, *args[1:])
    assert proc.stdout is not None
    assert proc.stdout.readline() == "go\n", proc.stderr.read() if proc.stderr else ""
    deadline = time.monotonic() + 30
    while not write_in_progress(url, name):
        if proc.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _err = proc.communicate(timeout=30)
    return '"done": true' in out


def assert_intact(url: str) -> None:
    path = sqlite_path(url)
    if path is not None:
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()


def catalog_fingerprint(store: ProviderStore) -> tuple[int, str]:
    """(model rows, hash of every provider's curated fields and cache and every model row)."""
    p, m = PROVIDER_TABLE.c, MODEL_TABLE.c
    with store.read() as session:
        providers = sorted(
            session.execute(select(p.key, p.name, p.base_api_url, p.api_key, p.models_cache)).all(),
            key=lambda row: row[0],
        )
        models = sorted(
            session.execute(
                select(p.key, m.model_id, m.status, m.alias, m.position).join(
                    PROVIDER_TABLE, p.id == m.provider_id
                )
            ).all()
        )
    digest = hashlib.sha256(repr((providers, models)).encode()).hexdigest()
    return len(models), digest


def legacy_file(path: Path, providers: int, models: int, salt: str) -> Path:
    document = {
        "providers": {
            f"prov-{n:03d}": {
                "api_key": f"sk-{salt}-{n}",
                "base_api_url": f"https://api{n}.example.com/v1",
                "name": f"{salt} provider {n}",
                "valid_models": {f"org/{salt}-{n}-{i:05d}": f"a{i}" for i in range(models)},
                "invalid_models": [f"embed-{salt}-{n}-{i}" for i in range(10)],
            }
            for n in range(providers)
        }
    }
    path.write_bytes(dump_data(document))
    return path


@pytest.mark.slow
def test_sigkill_during_a_large_import_leaves_the_old_or_the_new_catalog(
    store: ProviderStore, tmp_path: Path
) -> None:
    old_file = legacy_file(tmp_path / "old.yaml", 3, 20, "old")
    new_file = legacy_file(tmp_path / "new.yaml", 40, 1000, "new")
    store.import_yaml(old_file, replace=True)
    old = catalog_fingerprint(store)

    states = []
    for delay in (0.0, random.uniform(0.05, 0.3), random.uniform(0.2, 0.6)):
        kill_mid_write(store.url, ["import", str(new_file)], delay)
        assert_intact(store.url)
        states.append(catalog_fingerprint(store))
        if states[-1] != old:
            store.import_yaml(old_file, replace=True)  # start the next round from the old state

    store.import_yaml(new_file, replace=True)
    new = catalog_fingerprint(store)
    assert new[0] == 40 * 1010
    assert all(state in (old, new) for state in states), "a partial import survived"
    assert old in states  # at least one kill landed inside the import's transaction


@pytest.mark.slow
def test_sigkill_during_a_discovery_write_leaves_the_old_or_the_new_cache(
    store: ProviderStore,
) -> None:
    big = [f"model-{i:06d}" for i in range(DEFAULT_MAX_MODELS)]  # the largest list kept
    with FakeProvider(big) as fake:
        add_provider(store, fake.base_url)
        store.rows.write_cache("p", [{"id": "old"}], fetched_at=time.time() - 3600)

        def state() -> tuple[list[str], set[str]]:
            cached = store.read_cache("p").models or []
            with store.read() as session:
                rows = set(session.execute(select(MODEL_TABLE.c.model_id)).scalars())
            return [m["id"] for m in cached], rows

        old = state()
        outcomes = []
        for delay in (0.0, random.uniform(0.0, 0.1), random.uniform(0.05, 0.3)):
            finished = kill_mid_write(store.url, ["refresh", "p"], delay)
            assert_intact(store.url)
            cached, rows = state()
            if (cached, rows) == old:
                assert not finished
                outcomes.append("old")
            else:
                assert cached == big and rows == old[1] | set(big), "a partial discovery write"
                outcomes.append("new")
                store.rows.delete_provider("p")  # start the next round from the old state
                add_provider(store, fake.base_url)
                store.rows.write_cache("p", [{"id": "old"}], fetched_at=time.time() - 3600)
                old = state()
    assert "old" in outcomes, outcomes


def other_holder_writes_later(
    store: ProviderStore, models: list[dict[str, Any]], delay: float = 0.3
) -> threading.Thread:
    """As lease holder "someone-else", write ``models`` to provider p after ``delay``."""

    def finish() -> None:
        time.sleep(delay)
        with store.transaction() as session:
            store.rows.write_cache("p", models, fetched_at=time.time(), session=session)
            leases.release(session, "p", "someone-else")

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def test_an_explicit_refresh_waits_for_the_holder_instead_of_serving_stale(
    store: ProviderStore,
) -> None:
    with FakeProvider(["a", "b"]) as fake:
        add_provider(store, fake.base_url)
        stale_and_leased_elsewhere(store, [{"id": "old"}], seconds=30)

        thread = other_holder_writes_later(store, [{"id": "new"}])
        service = service_for(store)
        result = service.discover(store.get_config("p"), wait_for_refresh=True)
        thread.join()
        service.close()

        assert result.source is Source.CACHE and result.error is None
        assert [m["id"] for m in result.models] == ["new"]
        assert fake.request_count() == 0


def test_manager_discovery_counts_a_refresh_done_by_another_process_as_success(
    store: ProviderStore,
) -> None:
    with FakeProvider(["a", "b"]) as fake:
        add_provider(store, fake.base_url)
        stale_and_leased_elsewhere(store, [{"id": "a"}], seconds=30)

        thread = other_holder_writes_later(store, [{"id": "a"}, {"id": "b"}])
        manager = ProviderManager(store=store, service=service_for(store))
        ok = manager.discover_models(provider="p")
        thread.join()
        manager.close()

        assert ok is True
        assert fake.request_count("/models") == 0
        assert list(store.get_config("p").valid_models) == ["a", "b"]
