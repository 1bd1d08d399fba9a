"""Revision 0010: the input limit column, the registry provenance tables, and LiteLLM sources
that named a URL with credentials lose them."""

from __future__ import annotations

from sqlalchemy import JSON, Float, Integer, String, column, insert, inspect, select, table

from provider_store import ProviderConfig, ProviderStore
from provider_store.catalog.db import build_engine
from provider_store.catalog.migrate import downgrade, upgrade

FACT = table(
    "model_fact",
    column("provider_id", Integer),
    column("model_id", String),
    column("field", String),
    column("origin", String),
    column("source", String),
    column("value", JSON),
    column("observed_at", Float),
)
PROVIDER = table("provider", column("id", Integer), column("key", String))
SECRET = "litellm https://me:s3cret@host.example:8443/prices.json?sig=t0ken"


def test_upgrading_to_0010_scrubs_credentials_from_stored_sources(db_url: str) -> None:
    store = ProviderStore(db_url)
    store.save_config("p", ProviderConfig(base_api_url="https://api.example/v1"))
    store.close()
    engine = build_engine(db_url)
    try:
        downgrade(engine, "0008")
        with engine.begin() as conn:
            provider_id = conn.execute(select(PROVIDER.c.id)).scalar_one()
            conn.execute(
                insert(FACT),
                [
                    {"provider_id": provider_id, "model_id": "m", "field": "input_price",
                     "origin": "litellm", "source": SECRET, "value": 1.0, "observed_at": 0.0},
                    {"provider_id": provider_id, "model_id": "m", "field": "context_length",
                     "origin": "models.dev", "source": "models.dev 1.0.398", "value": 5,
                     "observed_at": 0.0},
                ],
            )  # fmt: skip
        upgrade(engine, "0010")
        with engine.connect() as conn:
            sources = sorted(conn.execute(select(FACT.c.source)).scalars())
        assert sources == ["litellm https://host.example:8443/prices.json", "models.dev 1.0.398"]
        assert "max_input_tokens" in {c["name"] for c in inspect(engine).get_columns("model")}
        assert {"registry_source", "registry_fill"} <= set(inspect(engine).get_table_names())
        downgrade(engine, "0008")
        assert "registry_fill" not in inspect(engine).get_table_names()
        assert "max_input_tokens" not in {c["name"] for c in inspect(engine).get_columns("model")}
    finally:
        engine.dispose()
