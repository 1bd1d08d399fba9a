"""The pool of migrated PostgreSQL schemas (``helpers.PostgresSchemas``) hands a schema on only
as a newly migrated one: empty, its sequences restarted, its definitions untouched.

A schema a test changed beyond its rows (a column, a trigger, a function, the revision) is
dropped instead of reused, so no test sees what another left behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from helpers import PostgresSchemas
from sqlalchemy import Connection, create_engine, text

from provider_store import ProviderConfig, ProviderStore

pytestmark = pytest.mark.skipif(
    not os.environ.get("PROVIDER_STORE_TEST_POSTGRES_URL"),
    reason="needs PROVIDER_STORE_TEST_POSTGRES_URL (a PostgreSQL server)",
)


@pytest.fixture
def pool(postgres_server_url: str) -> Iterator[PostgresSchemas]:
    schemas = PostgresSchemas(postgres_server_url, prefix="ps_pooltest")
    try:
        yield schemas
    finally:
        schemas.close()


def _run(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _provider_ids(conn: Connection) -> list[int]:
    return list(conn.execute(text("SELECT id FROM provider")).scalars())


def test_a_schema_comes_back_empty_with_its_sequences_restarted(pool: PostgresSchemas) -> None:
    with pool.lease() as url:
        store = ProviderStore(url)
        store.save_config("p", ProviderConfig(name="P", base_api_url="http://127.0.0.1:9/v1"))
        store.close()
    with pool.lease() as again:
        assert again == url  # reused, not migrated anew
        store = ProviderStore(again)
        assert store.provider_keys() == []
        store.save_config("q", ProviderConfig(name="Q", base_api_url="http://127.0.0.1:9/v1"))
        with store.engine.connect() as conn:
            assert _provider_ids(conn) == [1]
        store.close()


_FUNCTION = "CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"


@pytest.mark.parametrize(
    "change",
    [
        ["ALTER TABLE provider ADD COLUMN added_by_a_test integer"],
        ["ALTER TABLE provider ALTER COLUMN name DROP NOT NULL"],
        ["ALTER TABLE provider ALTER COLUMN name SET DEFAULT 'x'"],
        ["CREATE INDEX added_by_a_test ON model (model_id)"],
        [_FUNCTION],
        [_FUNCTION, "CREATE TRIGGER keep BEFORE INSERT ON provider EXECUTE FUNCTION keep()"],
        ["UPDATE alembic_version SET version_num = 'older'"],
        ["CREATE TABLE added_by_a_test (id integer)"],
        ["ALTER SEQUENCE provider_id_seq INCREMENT BY 2"],
    ],
    ids=[
        "column",
        "not-null",
        "default",
        "index",
        "function",
        "trigger",
        "revision",
        "table",
        "sequence",
    ],
)
def test_a_schema_changed_beyond_its_rows_is_not_handed_on(
    pool: PostgresSchemas, change: list[str]
) -> None:
    with pool.lease() as url:
        _run(url, *change)
    with pool.lease() as fresh:
        assert fresh != url
    with pool.lease() as again:
        assert again == fresh  # the fresh one is clean, and reused
