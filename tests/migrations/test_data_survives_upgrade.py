"""Upgrading a database written at an older revision keeps its data."""

from __future__ import annotations

from sqlalchemy import text

from provider_store import ProviderStore
from provider_store.catalog.db import build_engine
from provider_store.catalog.migrate import current_revision, head_revision, upgrade


def test_rows_written_at_0001_survive_upgrade_to_head(db_url: str) -> None:
    engine = build_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO provider (id, key, name, base_api_url, api_key, position,"
                " cache_ttl_seconds, extra, models_cache, models_fetched_at, created_at,"
                " updated_at) VALUES (1, 'openai', 'OpenAI', 'https://api.openai.com/v1',"
                ' \'sk-old\', 0, 120, \'{"note": "kept"}\', \'[{"id": "gpt-4o"}]\','
                " 1700000000.5, 1700000000, 1700000000)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO model (provider_id, model_id, alias, status, position, verdict,"
                " verdict_at) VALUES (1, 'gpt-4o', '4o', 'valid', 0, 'valid', 1700000001),"
                " (1, 'Qwen/QwQ-32B', 'qwq', 'valid', 1, NULL, NULL),"
                " (1, 'dall-e-3', 'dall-e-3', 'invalid', 0, 'invalid', 1700000002)"
            )
        )
    engine.dispose()

    store = ProviderStore(db_url)  # opening upgrades to head
    try:
        assert current_revision(store.engine) == head_revision()
        config = store.get_config("openai")
        with store.read() as session:
            provider = store.rows.get_provider("openai", session=session)
            extra = provider.extra
    finally:
        store.close()

    assert config.model_dump() == {
        "name": "OpenAI",
        "base_api_url": "https://api.openai.com/v1",
        "api_key": "sk-old",
        "valid_models": {"gpt-4o": "4o", "Qwen/QwQ-32B": "qwq"},
        "invalid_models": ["dall-e-3"],
    }
    assert config._cached_models == [{"id": "gpt-4o"}]
    assert config._cache_timestamp == 1700000000.5
    assert config._cache_duration == 120
    assert extra == {"note": "kept"}


def test_the_schema_head_constant_matches_the_migration_scripts() -> None:
    from provider_store.catalog.migrate import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD
