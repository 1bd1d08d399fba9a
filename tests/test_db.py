"""Engine construction, URL resolution, SQLite pragmas and migrate-on-open."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from helpers import run_together
from sqlalchemy import text

from provider_store import ConfigurationError, ProviderConfig, ProviderStore
from provider_store.catalog.db import build_engine, resolve_url
from provider_store.catalog.migrate import current_revision, head_revision


def test_url_resolution_prefers_argument_then_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROVIDER_STORE_URL", "sqlite:///from-env.db")
    assert resolve_url("sqlite:///explicit.db") == "sqlite:///explicit.db"
    assert resolve_url() == "sqlite:///from-env.db"
    monkeypatch.delenv("PROVIDER_STORE_URL")
    assert resolve_url().endswith("provider-store/catalog.db")


def test_default_store_is_a_sqlite_file_created_under_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    store = ProviderStore()
    store.save_config("p", ProviderConfig())
    store.close()
    assert (tmp_path / "xdg" / "provider-store" / "catalog.db").is_file()


def test_sqlite_connections_get_wal_busy_timeout_foreign_keys_and_normal_sync(
    tmp_path: Path,
) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 30000,
        "foreign_keys": 1,
        "synchronous": 1,
    }


def test_concurrent_sqlite_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = ProviderStore(url)
    store.save_config("p", ProviderConfig(valid_models={"m0": "m0"}))
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with store.transaction() as session:
                    # Read, then write: a deferred BEGIN would fail here with "database is locked".
                    config = store.get_config("p", session=session)
                    config.valid_models[f"w{n}-{i}"] = "x"
                    time.sleep(0.002)
                    store.save_config("p", config, session=session)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(store.get_config("p").valid_models) == 41
    store.close()


def test_opening_a_store_upgrades_an_empty_database_unless_told_not_to(db_url: str) -> None:
    untouched = ProviderStore(db_url, auto_migrate=False)
    assert current_revision(untouched.engine) is None
    untouched.close()

    opened = ProviderStore(db_url)
    assert current_revision(opened.engine) == head_revision()
    opened.close()


@pytest.mark.slow
def test_several_processes_opening_a_new_database_at_once_all_succeed(db_url: str) -> None:
    script = (
        "from provider_store import ProviderStore, ProviderConfig\n"
        "wait_for_start()\n"
        "store = ProviderStore(sys.argv[1])\n"
        "store.save_config('p' + sys.argv[2], ProviderConfig())\n"
    )
    results = run_together(script, [[db_url, str(n)] for n in range(6)])

    assert [code for code, _ in results] == [0] * 6, results
    store = ProviderStore(db_url)
    assert current_revision(store.engine) == head_revision()
    assert sorted(store.provider_keys()) == [f"p{n}" for n in range(6)]
    store.close()


def test_a_bad_url_is_a_configuration_error_without_a_traceback() -> None:
    with pytest.raises(ConfigurationError, match="Unsupported database URL"):
        build_engine("nosuchdb://x")


def test_in_memory_sqlite_shares_one_database_across_sessions() -> None:
    store = ProviderStore("sqlite://")
    store.save_config("p", ProviderConfig(valid_models={"a": "b"}))
    with store.read() as session:
        count = session.execute(text("SELECT count(*) FROM model")).scalar()
    assert count == 1
    store.close()
