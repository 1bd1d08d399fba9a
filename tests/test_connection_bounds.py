"""Bounded connections: how many a process holds, what it does when they run out.

The pool is sized from the URL or the environment; a process out of connections says so, never
fetches a model list around a refresh lease, and never calls a list it could not save "fresh".
Real processes (``tests/fleet_worker.py``, the ``provider-store`` command), a real loopback
provider per catalog provider; both backends, plus PostgreSQL roles with a ``CONNECTION LIMIT``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import zygote
from helpers import run_cli
from pg_fleet import ConnectionSampler, limited_role, terminate
from sqlalchemy import create_engine, make_url, text, update

from provider_store import ProviderConfig, ProviderManager, ProviderStore, StoreError
from provider_store.catalog.cache_rows import PROVIDER_TABLE
from provider_store.catalog.connections import POOL_SIZE_ENV
from provider_store.testing import FakeProvider

sys.path.insert(0, str(Path(__file__).parent))
from concurrency_worker import run_together  # noqa: E402
from fleet_worker import WORKER  # noqa: E402

POSTGRES_ENV = "PROVIDER_STORE_TEST_POSTGRES_URL"
KEY = "sk-fleet-0123456789"


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query."""
    return make_url(url).update_query_dict(params).render_as_string(hide_password=False)


@pytest.fixture
def pg_server() -> str:
    """The PostgreSQL server URL; the test is skipped without one."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV}")
    return url


def spawn(*args: str) -> subprocess.Popen[str]:
    """The fleet worker with ``MODE ARGS...`` in a new process."""
    proc: subprocess.Popen[str] = zygote.Popen(
        [sys.executable, WORKER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc


def stale_providers(store: ProviderStore, fakes: list[FakeProvider]) -> list[str]:
    """One provider per fake, each with an hour-old cached list (a refresh is due)."""
    keys = []
    for number, fake in enumerate(fakes):
        key = f"p{number}"
        store.save_config(key, ProviderConfig(name=key, base_api_url=fake.base_url, api_key=KEY))
        store.rows.write_cache(key, [{"id": "old"}], fetched_at=time.time() - 3600)
        keys.append(key)
    return keys


# -- sizes -------------------------------------------------------------------------------------


def test_the_pool_is_sized_by_the_url_or_else_the_environment(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ProviderStore(db_url).close()  # migrated once: the stores below only read
    monkeypatch.setenv(POOL_SIZE_ENV, "2")
    from_env = ProviderStore(db_url)
    from_url = ProviderStore(with_query(db_url, pool_size="1", pool_timeout="7"))
    try:
        assert from_env.engine.pool.size() == 2  # type: ignore[attr-defined]
        assert from_url.engine.pool.size() == 1  # type: ignore[attr-defined]
        assert from_url.engine.pool.timeout() == 7  # type: ignore[attr-defined]
        # The driver never sees the settings (psycopg would refuse an unknown option).
        assert "pool_size" not in from_url.engine.url.query
        assert from_url.provider_keys() == []
    finally:
        from_env.close()
        from_url.close()


def test_a_process_holds_no_more_connections_than_its_pool_allows(db_url: str) -> None:
    ProviderStore(db_url).close()
    store = ProviderStore(with_query(db_url, pool_size="1", max_overflow="1", pool_timeout="0.2"))
    try:
        with store.read() as first, store.read() as second:
            first.execute(text("SELECT 1"))  # both connections are taken
            second.execute(text("SELECT 1"))
            started = time.monotonic()
            with pytest.raises(StoreError) as refused:
                store.provider_keys()
            assert time.monotonic() - started < 5
        message = str(refused.value)
        assert "no database connection became free in time" in message
        assert "raise pool_size in the URL or $PROVIDER_STORE_POOL_SIZE" in message
        assert store.provider_keys() == []  # given back: usable again
    finally:
        store.close()


@pytest.mark.parametrize(
    ("query", "env", "says"),
    [
        ("pool_size=0", None, "pool_size in the database URL must be a whole number from 1"),
        ("max_overflow=lots", None, "max_overflow in the database URL must be a whole number"),
        ("pool_timeout=nan", None, "pool_timeout in the database URL must be a number of sec"),
        ("pooler=bouncer", None, "pooler in the database URL must be one of transaction,"),
        ("", "-3", "$PROVIDER_STORE_POOL_SIZE must be a whole number from 1 to 1000, not '-3'"),
    ],
)
def test_a_bad_pool_setting_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    query: str,
    env: str | None,
    says: str,
) -> None:
    ProviderStore(f"sqlite:///{tmp_path / 'c.db'}").close()
    if env is not None:
        monkeypatch.setenv(POOL_SIZE_ENV, env)
    url = f"sqlite:///{tmp_path / 'c.db'}" + (f"?{query}" if query else "")
    code, out, err = run_cli(capsys, "--db", url, "providers", "list")
    assert code == 2
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.slow
def test_a_validated_discovery_of_20_providers_holds_at_most_4_connections(
    pg_server: str, tmp_path: Path
) -> None:
    app = f"ps-bound-{uuid.uuid4().hex[:8]}"
    with (
        limited_role(pg_server, 50, app=app) as url,
        FakeProvider(["m1", "m2", "m3"], latency=0.05) as fake,
    ):
        store = ProviderStore(url)
        for number in range(20):
            key = f"p{number}"
            store.save_config(
                key, ProviderConfig(name=key, base_api_url=fake.base_url, api_key=KEY)
            )
        store.close()
        sampler = ConnectionSampler(pg_server, [app])
        command = [sys.executable, "-m", "provider_store", "--db", url, "discover"]
        process = zygote.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            while process.poll() is None:
                sampler.sample()
                time.sleep(0.005)
            out, err = process.communicate(timeout=60)
        finally:
            sampler.close()
        assert process.returncode == 0, err
        assert fake.request_count("/models") == 20
        assert fake.request_count("/chat/completions") == 60
        assert 1 <= sampler.peak[app] <= 4


# -- running out ---------------------------------------------------------------------------------


def cached_at(store: ProviderStore, key: str) -> tuple[list[str], float | None]:
    """The ids of ``key``'s cached list and when it was fetched."""
    state = store.read_cache(key)
    return [m["id"] for m in state.models or []], state.fetched_at


def scarce(url: str) -> str:
    """``url`` for a process with one connection, given up after 0.3 s."""
    return with_query(url, pool_size="1", max_overflow="0", pool_timeout="0.3")


def expire_leases(store: ProviderStore) -> None:
    """End the refresh leases still held (as their expiry would)."""
    with store.transaction() as session:
        session.execute(update(PROVIDER_TABLE).values(lease_expires_at=0.0))


@pytest.mark.slow
def test_a_process_out_of_connections_says_so_and_fetches_nothing_around_the_lease(
    store: ProviderStore,
) -> None:
    with ExitStack() as stack:
        fakes = [stack.enter_context(FakeProvider(["new"])) for _ in range(4)]
        keys = stale_providers(store, fakes)
        # Its only connection is held by other work of the process for the whole run.
        [result], _ = run_together([spawn("discover", scarce(store.url), "0", "0", "3")])
        assert not result["ok"]
        for key, fake in zip(keys, fakes, strict=True):
            summary = result["providers"][key]
            assert summary["status"] == "failed", summary
            assert "no database connection became free in time" in summary["error"]
            assert "nothing is fetched without the refresh lease" in summary["error"]
            assert summary["source"] == "stale"  # the last list known, never "fresh"
            assert fake.request_count("/models") == 0
            assert cached_at(store, key)[0] == ["old"]

        [again], _ = run_together([spawn("discover", store.url, "0")])
        assert again["ok"], again
        assert [fake.request_count("/models") for fake in fakes] == [1] * len(fakes)


@pytest.mark.slow
def test_lists_fetched_under_the_lease_that_cannot_be_saved_are_not_called_saved(
    store: ProviderStore,
) -> None:
    with ExitStack() as stack:
        fakes = [stack.enter_context(FakeProvider(["new"], latency=1.5)) for _ in range(4)]
        keys = stale_providers(store, fakes)
        started = time.time()
        # The leases are taken at once; from 0.6 s on, while the lists are on their way, the
        # process's only connection is held by other work for 3 s.
        [result], _ = run_together([spawn("discover", scarce(store.url), "0", "0.6", "3")])
        providers: dict[str, dict[str, Any]] = result["providers"]
        first: dict[str, int] = {}
        for key, fake in zip(keys, fakes, strict=True):
            summary = providers[key]
            first[key] = fetched = fake.request_count("/models")
            assert fetched <= 1, f"{key} was fetched {fetched} times"
            ids, fetched_at = cached_at(store, key)
            if summary["status"] == "ok":  # called saved: it is in the catalog
                assert fetched == 1 and ids == ["new"] and (fetched_at or 0) >= started
                continue
            assert ids == ["old"], summary  # nothing kept only in memory is called saved
            assert "no database connection became free in time" in summary["error"], summary
            if fetched:
                assert "the model list could not be saved" in summary["error"]
            else:
                assert "nothing is fetched without the refresh lease" in summary["error"]
        assert not result["ok"]

        # Once the leases a failed save could not give back have expired, a run with
        # connections to spare refreshes what was not saved, and nothing that was.
        expire_leases(store)
        [again], _ = run_together([spawn("discover", store.url, "0")])
        assert again["ok"], again
        for key, fake in zip(keys, fakes, strict=True):
            saved_before = providers[key]["status"] == "ok"
            assert fake.request_count("/models") == first[key] + (0 if saved_before else 1)
            assert cached_at(store, key)[0] == ["new"]


@pytest.mark.slow
def test_a_stampede_under_a_connection_limited_role_asks_each_provider_once(
    pg_server: str,
) -> None:
    """Five processes at once, three connections for all of them: they wait for one instead of
    failing or fetching without the lease, and every verdict stored is applied."""
    with ExitStack() as stack:
        url = stack.enter_context(limited_role(pg_server, 3))
        fakes = [stack.enter_context(FakeProvider(["m1", "m2"], latency=0.1)) for _ in range(4)]
        store = ProviderStore(url)
        keys = stale_providers(store, fakes)
        store.close()
        results, _ = run_together([spawn("discover", url, "1") for _ in range(5)], timeout=120)
        for result in results:
            assert result["ok"], result
        assert [fake.request_count("/models") for fake in fakes] == [1] * len(fakes)
        store = ProviderStore(url)
        try:
            for key in keys:
                assert store.get_config(key).valid_models == {"m1": "m1", "m2": "m2"}
                verdicts = store.load_verdicts(key)
                assert {m: v.verdict.value for m, v in verdicts.items()} == {
                    "m1": "valid",
                    "m2": "valid",
                }
        finally:
            store.close()


# -- a follower that lost the database -----------------------------------------------------------


@pytest.mark.slow
def test_a_follower_that_lost_the_database_says_so_once_and_follows_again_when_back(
    pg_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = f"ps-lost-{uuid.uuid4().hex[:8]}"
    with limited_role(pg_server, 10, app=app) as url:
        role = make_url(url).username
        follower_url = with_query(url, pool_timeout="0.5")
        store = ProviderStore(follower_url)
        store.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
        manager = ProviderManager(store=store, follow_interval=0.05)
        admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER ROLE "{role}" NOLOGIN'))
                terminate(conn, f"application_name = '{app}'")
            caplog.set_level(logging.WARNING, logger="provider_store")
            deadline = time.monotonic() + 5
            while manager.follow_stats.failures < 3 and time.monotonic() < deadline:
                assert manager.get_api_for_model_string("p/old")[1] == "m-old"  # the old view
                time.sleep(0.06)
            assert manager.follow_stats.failures >= 3
            lost = [r for r in caplog.records if "lost the catalog database" in r.getMessage()]
            assert len(lost) == 1  # said once, not at every look
            assert "keeping the providers read before" in lost[0].getMessage()

            with admin.connect() as conn:
                conn.execute(text(f'ALTER ROLE "{role}" LOGIN'))
            editor = spawn("edit", url, "p", "m-new")
            out, err = editor.communicate(timeout=60)
            assert editor.returncode == 0, err
            committed = float(json.loads(out.strip().splitlines()[-1])["committed_at"])
            while "m-new" not in manager.get_available_models() and time.time() < committed + 10:
                time.sleep(0.01)
            assert "m-new" in manager.get_available_models()
            assert time.time() - committed < 2
            assert any(
                "reached the catalog database again" in r.getMessage() for r in caplog.records
            )
        finally:
            manager.close()
            store.close()
            admin.dispose()
