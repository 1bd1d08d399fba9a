"""Through a real PgBouncer in transaction pooling mode (what managed PostgreSQL services put in
front): concurrent first opens and discoveries succeed, and followers poll.

Each test starts its own PgBouncer (``/usr/sbin/pgbouncer``, run as user ``postgres``, on a free
loopback port) in front of a database of its own; skipped, with the reason, without PostgreSQL
or without PgBouncer. The clients are real processes (``tests/fleet_worker.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from pg_fleet import PgBouncer, limited_role, pgbouncer_missing
from sqlalchemy import create_engine, make_url, text
from test_change_listener import edit_elsewhere, seen_within, until
from test_connection_bounds import POSTGRES_ENV, run_together, spawn, stale_providers

from provider_store import ProviderConfig, ProviderManager, ProviderStore
from provider_store.catalog.connections import behind_transaction_pooler
from provider_store.catalog.migrate import SCHEMA_HEAD
from provider_store.testing import FakeProvider

pytestmark = pytest.mark.slow


@pytest.fixture
def bouncer() -> Iterator[tuple[PgBouncer, str]]:
    """A PgBouncer (transaction mode, 4 server connections) in front of a new role's empty
    schema; yields it and the direct URL of that schema."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV}")
    missing = pgbouncer_missing()
    if missing:
        pytest.skip(missing)
    with limited_role(server, 50) as direct, PgBouncer(direct, server_connections=4) as pooler:
        yield pooler, direct


def advisory_locks(direct: str) -> int:
    """Advisory locks held by ``direct``'s role now."""
    engine = create_engine(direct)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
                        " WHERE locktype = 'advisory' AND usename = current_user"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_six_first_opens_at_once_through_the_pooler_all_migrate_one_catalog(
    bouncer: tuple[PgBouncer, str],
) -> None:
    pooler, direct = bouncer
    results, seconds = run_together([spawn("open", pooler.url) for _ in range(6)], timeout=120)
    assert len(results) == 6 and seconds < 60
    assert advisory_locks(direct) == 0  # nothing stays behind on a pooled server connection
    store = ProviderStore(direct, auto_migrate=False)
    try:
        from provider_store.catalog.migrate import current_revision

        assert current_revision(store.engine) == SCHEMA_HEAD
    finally:
        store.close()


def test_concurrent_discoveries_through_the_pooler_succeed_and_ask_each_provider_once(
    bouncer: tuple[PgBouncer, str],
) -> None:
    pooler, _direct = bouncer
    with ExitStack() as stack:
        fakes = [stack.enter_context(FakeProvider(["m1", "m2"], latency=0.1)) for _ in range(5)]
        store = ProviderStore(pooler.url)
        keys = stale_providers(store, fakes)
        assert behind_transaction_pooler(store.engine)  # detected: prepared statements off
        results, _ = run_together([spawn("discover", pooler.url, "1") for _ in range(4)])
        for result in results:
            assert result["ok"], result
        assert [fake.request_count("/models") for fake in fakes] == [1] * len(fakes)
        for key in keys:
            assert store.get_config(key).valid_models == {"m1": "m1", "m2": "m2"}
        store.close()
    assert "prepared statement" not in pooler.log()


def test_behind_the_pooler_followers_poll_and_see_other_processes_commits(
    bouncer: tuple[PgBouncer, str],
) -> None:
    pooler, _direct = bouncer
    said = make_url(pooler.url).update_query_dict({"pooler": "transaction"})
    store = ProviderStore(said.render_as_string(hide_password=False))  # said, not detected
    try:
        store.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
        manager = ProviderManager(store=store, follow_interval=0.1)
        assert behind_transaction_pooler(store.engine)
        assert until(lambda: bool(manager.providers), 1)
        time.sleep(0.3)
        assert manager.providers and not store.change_signal.listening  # LISTEN would be lost
        latency = seen_within(manager, "m-new", edit_elsewhere(pooler.url, "m-new"))
        assert latency < 1.0
    finally:
        store.close()
