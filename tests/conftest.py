"""Shared fixtures: every store-backed test runs on SQLite and, when configured, PostgreSQL.

Set ``PROVIDER_STORE_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
to run the same tests against PostgreSQL; each test gets a schema of its own. When the variable is
set and the server cannot be reached, the tests fail rather than skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pg_schema import create_schema, drop_schema
from sqlalchemy import create_engine, text

from provider_store import ProviderStore

POSTGRES_ENV = "PROVIDER_STORE_TEST_POSTGRES_URL"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(POSTGRES_ENV) else [])


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test may touch the user's real catalog or pick up a real key."""
    monkeypatch.delenv("PROVIDER_STORE_URL", raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL server URL from the environment; fails when it is unreachable."""
    url = os.environ[POSTGRES_ENV]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - turn any connection problem into a failure
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'catalog.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    url, schema = create_schema(server)
    try:
        yield url
    finally:
        drop_schema(server, schema)


@pytest.fixture
def store(db_url: str) -> Iterator[ProviderStore]:
    """A migrated, empty store on each backend."""
    opened = ProviderStore(db_url)
    try:
        yield opened
    finally:
        opened.close()
