"""Light Core views of the provider, model and catalog_meta tables, for the start-up path.

``sqlalchemy.table()`` clauses carrying each column's name and type and nothing else (no
constraints, indexes or defaults): they build in microseconds, where the SQLModel classes of
:mod:`provider_store.catalog.tables` take tens of milliseconds (pydantic schemas and ORM
mapping). What a new process runs first (reading the configs, the change tokens, listed
metadata, the model view's facts) goes through these, so ``provider-store models list`` and a
library resolution never build the table classes. An INSERT that relies on column defaults
uses ``tables.py``.

``tests/test_light_tables.py`` keeps every column here equal (name and type) to ``tables.py``.
"""

from __future__ import annotations

from sqlalchemy import JSON, Float, Integer, String, TableClause, column, table

__all__ = ["CATALOG_META", "MODEL", "MODEL_FACT", "PROVIDER", "REGISTRY_FILL"]

PROVIDER: TableClause = table(
    "provider",
    column("id", Integer),
    column("key", String),
    column("name", String),
    column("base_api_url", String),
    column("api_key", String),
    column("position", Integer),
    column("cache_ttl_seconds", Integer),
    column("extra", JSON),
    column("models_cache", JSON),
    column("models_fetched_at", Float),
    column("last_error", String),
    column("last_error_status", Integer),
    column("last_error_at", Float),
    column("created_at", Float),
    column("updated_at", Float),
    column("lease_holder", String),
    column("lease_expires_at", Float),
    column("empty_list_strikes", Integer),
    column("kind", String),
    column("options", JSON),
    column("problem", String),
    column("problem_at", Float),
    column("removal_confirmations", Integer),
    column("removal_min_age_seconds", Float),
    column("change_token", String),
)

MODEL: TableClause = table(
    "model",
    column("id", Integer),
    column("provider_id", Integer),
    column("model_id", String),
    column("alias", String),
    column("status", String),
    column("position", Integer),
    column("verdict", String),
    column("verdict_reason", String),
    column("verdict_at", Float),
    column("first_seen_at", Float),
    column("last_seen_at", Float),
    column("ping_style", String),
    column("hand_mark", String),
    column("display_name", String),
    column("created", Float),
    column("context_length", Integer),
    column("max_input_tokens", Integer),
    column("max_output_tokens", Integer),
    column("input_price", Float),
    column("output_price", Float),
    column("input_modalities", JSON),
    column("output_modalities", JSON),
    column("capabilities", JSON),
    column("missing_count", Integer),
    column("missing_since", Float),
    column("removed_at", Float),
)

CATALOG_META: TableClause = table(
    "catalog_meta",
    column("key", String),
    column("value", JSON),
)

MODEL_FACT: TableClause = table(
    "model_fact",
    column("id", Integer),
    column("provider_id", Integer),
    column("model_id", String),
    column("field", String),
    column("origin", String),
    column("source", String),
    column("value", JSON),
    column("observed_at", Float),
)

REGISTRY_FILL: TableClause = table(
    "registry_fill",
    column("provider_id", Integer),
    column("origin", String),
    column("source", String),
    column("fingerprint", String),
    column("filled_at", Float),
    column("checked_at", Float),
    column("matched", Integer),
    column("known_empty", Integer),
    column("ambiguous", Integer),
    column("unmatched", Integer),
)
