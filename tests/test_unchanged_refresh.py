"""Real processes: a refresh that finds the list the catalog holds writes no model row, moves no
change token and wakes no follower; only the list's fetch time moves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import zygote
from sqlalchemy import text

from provider_store import ProviderConfig, ProviderStore
from provider_store.testing import FakeProvider

pytestmark = pytest.mark.slow

KEY = "sk-test-unchanged-refresh-01"


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("provider-store")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "provider_store"]
    env = {**os.environ, "PROVIDER_STORE_URL": url}
    return zygote.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def refresh(url: str) -> None:
    done = cli(url, "discover", "--no-validate", "--force-refresh")
    assert done.returncode == 0, done.stderr


def count_model_writes(store: ProviderStore) -> None:
    """From now on, every INSERT, UPDATE or DELETE of a model row counts (SQLite: a trigger;
    PostgreSQL reads the rows' ``xmin`` instead, see :func:`row_versions`)."""
    if store.engine.dialect.name != "sqlite":
        return
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE test_model_writes (n INTEGER)"))
        for kind in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                text(
                    f"CREATE TRIGGER test_count_{kind.lower()} AFTER {kind} ON model"
                    " BEGIN INSERT INTO test_model_writes VALUES (1); END"
                )
            )


def row_versions(store: ProviderStore) -> dict[int, str]:
    """Each model row's version: its ``xmin`` on PostgreSQL (a rewritten row gets a new one),
    on SQLite the count of writes the trigger saw, for every row at once."""
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            writes = conn.execute(text("SELECT count(*) FROM test_model_writes")).scalar_one()
            return {-1: str(writes)}
        rows = conn.execute(text("SELECT id, xmin::text FROM model")).all()
    return {int(row_id): str(version) for row_id, version in rows}


def test_a_refresh_of_an_unchanged_list_writes_no_model_row(db_url: str) -> None:
    models = [f"m{i}" for i in range(50)]
    with FakeProvider(models, api_key=KEY) as fake:
        fake.set_model_metadata("m1", {"context_length": 8192})
        store = ProviderStore(db_url)
        try:
            store.save_config(
                "p", ProviderConfig(name="P", base_api_url=fake.base_url, api_key=KEY)
            )
            other = ProviderConfig(name="Q", base_api_url=fake.base_url, api_key=KEY)
            store.save_config("q", other)
            refresh(db_url)  # the first listing writes every row
            count_model_writes(store)
            before = row_versions(store)
            tokens = store.rows.change_tokens()
            fetched = store.read_cache("p").fetched_at
            refresh(db_url)  # the same list again, in another process
            assert fake.request_count("/models") == 4
            assert row_versions(store) == before
            assert store.rows.change_tokens() == tokens
            after = store.read_cache("p")
            assert after.fetched_at is not None and fetched is not None
            assert after.fetched_at > fetched  # the refresh did happen
            assert [m["id"] for m in after.models or []] == models

            fake.set_models([*models, "new"])  # a changed list moves p's token only
            refresh(db_url)
            moved = store.rows.change_tokens()
            assert moved.providers["p"] != tokens.providers["p"]
            assert row_versions(store) != before
        finally:
            store.close()
