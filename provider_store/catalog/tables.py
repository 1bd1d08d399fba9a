"""SQLModel table classes: the durable shape of the catalog.

Times are stored as UTC epoch seconds (floats): SQLite drops timezone offsets, and the legacy
runtime attribute ``_cache_timestamp`` was already an epoch float.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    func,
)
from sqlmodel import Field, SQLModel, col
from sqlmodel.sql.sqltypes import AutoString

from provider_store.catalog.states import ModelStatus, utc_now
from provider_store.rules import (
    DEFAULT_CACHE_TTL,
    MAX_API_KEY_LENGTH,
    MAX_BASE_URL_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_PROVIDER_KEY_LENGTH,
    MAX_TEXT_LENGTH,
)
from provider_store.rules.limits import (
    DAY_SECONDS,
    DEFAULT_REMOVAL_CONFIRMATIONS,
    DEFAULT_REMOVAL_MIN_AGE_SECONDS,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

__all__ = [
    "NAMING_CONVENTION",
    "CatalogMeta",
    "Event",
    "Model",
    "ModelBase",
    "ModelFact",
    "Observation",
    "Provider",
    "ProviderBase",
    "REGISTRY_FILL",
    "REGISTRY_SOURCE",
]

# Must be set before any table is declared so every constraint gets a stable name.
SQLModel.metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProviderBase(SQLModel):
    """Fields a user sets on a provider."""

    key: str = Field(max_length=MAX_PROVIDER_KEY_LENGTH, unique=True)
    name: str = Field(default="", max_length=MAX_TEXT_LENGTH)
    base_api_url: str = Field(max_length=MAX_BASE_URL_LENGTH)
    api_key: str = Field(default="", max_length=MAX_API_KEY_LENGTH, repr=False)
    position: int = Field(default=0)
    cache_ttl_seconds: int = Field(default=DEFAULT_CACHE_TTL)


class Provider(ProviderBase, table=True):
    """One OpenAI-compatible provider, its discovery cache and its refresh lease."""

    id: int | None = Field(default=None, primary_key=True)
    # Unknown keys of the legacy YAML provider mapping, kept in order for a lossless export.
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Discovery cache: the raw `data` list of GET /models and when it was fetched.
    models_cache: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    models_fetched_at: float | None = None
    # The last failed discovery: error class, HTTP status when there was one, message, time.
    last_error: str | None = Field(default=None, max_length=MAX_MESSAGE_LENGTH)
    last_error_status: int | None = None
    last_error_at: float | None = None
    created_at: float = Field(default_factory=utc_now)
    updated_at: float = Field(default_factory=utc_now)
    # Refresh lease: who is refreshing the cache right now, and until when the claim holds.
    lease_holder: str | None = Field(default=None, max_length=200)
    lease_expires_at: float | None = None
    # How many refreshes in a row answered an empty list while a non-empty one was cached.
    empty_list_strikes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The provider's API dialect ("openai" for every OpenAI-compatible service, "anthropic",
    # "gemini") and its connection options (auth header name, query parameters, extra headers).
    kind: str = Field(
        default="openai", max_length=40, sa_column_kwargs={"server_default": "openai"}
    )
    options: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # A provider-wide problem seen while validating (bad key, no credit): message and time.
    problem: str | None = Field(default=None, max_length=MAX_MESSAGE_LENGTH)
    problem_at: float | None = None
    # Removal confirmation: a model missing from this many complete listings in a row, and
    # missing for at least this long, is removed (see provider_store.history).
    removal_confirmations: int = Field(
        default=DEFAULT_REMOVAL_CONFIRMATIONS,
        sa_column_kwargs={"server_default": str(DEFAULT_REMOVAL_CONFIRMATIONS)},
    )
    removal_min_age_seconds: float = Field(
        default=DEFAULT_REMOVAL_MIN_AGE_SECONDS,
        sa_column_kwargs={"server_default": f"{DEFAULT_REMOVAL_MIN_AGE_SECONDS:g}"},
    )
    # A new random token with each committed write transaction that named this provider as
    # changed (see catalog/change_marker.py): a running manager re-reads only the providers
    # whose token moved.
    change_token: str | None = Field(default=None, max_length=16)


class ModelBase(SQLModel):
    """Fields of one model of a provider's catalog."""

    model_id: str = Field(max_length=MAX_TEXT_LENGTH)
    alias: str = Field(max_length=MAX_TEXT_LENGTH)
    status: str = Field(default=ModelStatus.UNVERIFIED.value, max_length=20)  # a ModelStatus
    position: int = Field(default=0)


class Model(ModelBase, table=True):
    """A model of a provider: curated status, validation verdict and discovery sightings."""

    __table_args__ = (
        UniqueConstraint("provider_id", "model_id"),
        Index("ix_model_provider_id_status_position", "provider_id", "status", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(
        sa_column=Column(Integer, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False)
    )
    verdict: str | None = Field(default=None, max_length=20)  # a Verdict
    verdict_reason: str | None = Field(default=None, max_length=MAX_MESSAGE_LENGTH)
    verdict_at: float | None = None
    first_seen_at: float | None = None
    last_seen_at: float | None = None
    # The chat request style that last got a conclusive answer (tried first next time).
    ping_style: str | None = Field(default=None, max_length=40)
    # "valid" or "invalid" when the user marked the model by hand; discovery keeps it as it is.
    hand_mark: str | None = Field(default=None, max_length=20)
    # Metadata from the provider's model list, normalised; None when the provider does not say.
    display_name: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    created: float | None = None  # when the provider says the model was created (epoch s)
    context_length: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    input_price: float | None = None  # USD per million input tokens
    output_price: float | None = None  # USD per million output tokens
    input_modalities: list[str] | None = Field(default=None, sa_column=Column(JSON))
    output_modalities: list[str] | None = Field(default=None, sa_column=Column(JSON))
    capabilities: list[str] | None = Field(default=None, sa_column=Column(JSON))
    # Absence from complete listings: how many in a row, since when, and when it was removed.
    missing_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    missing_since: float | None = None
    removed_at: float | None = None
    model_id: str = Field(max_length=MAX_TEXT_LENGTH, index=True)
    alias: str = Field(max_length=MAX_TEXT_LENGTH, index=True)


# Provider keys are unique regardless of case (groq, Groq and GROQ would share $GROQ_API_KEY).
Index("ix_provider_key_lower", func.lower(col(Provider.key)), unique=True)

# Case-insensitive lookups by model id or alias (resolution, find) use these expression indexes.
Index("ix_model_model_id_lower", func.lower(col(Model.model_id)))
Index("ix_model_alias_lower", func.lower(col(Model.alias)))


class CatalogMeta(SQLModel, table=True):
    """Catalog-wide values, e.g. unknown top-level keys of an imported legacy document."""

    __tablename__ = "catalog_meta"

    key: str = Field(primary_key=True, max_length=200)
    value: Any = Field(default=None, sa_column=Column(JSON))


class Event(SQLModel, table=True):
    """One append-only fact about a model, written with the state change it describes.

    The provider is named by key (not a foreign key): history outlives a deleted provider
    until retention prunes it.
    """

    __table_args__ = (
        Index("ix_event_observed_at_id", "observed_at", "id"),
        Index(
            "ix_event_provider_key_model_id_observed_at", "provider_key", "model_id", "observed_at"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_key: str = Field(max_length=MAX_PROVIDER_KEY_LENGTH)
    model_id: str = Field(max_length=MAX_TEXT_LENGTH)
    type: str = Field(max_length=20)  # an EventType
    field: str | None = Field(default=None, max_length=60)
    old_value: Any = Field(default=None, sa_column=Column(JSON))
    new_value: Any = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, max_length=MAX_MESSAGE_LENGTH)
    observed_at: float
    refresh_id: str | None = Field(default=None, max_length=64)


class Observation(SQLModel, table=True):
    """One validation ping: when, how it ended (an outcome class), HTTP status and latency."""

    __table_args__ = (
        Index("ix_observation_at", "at"),
        Index("ix_observation_provider_key_model_id_at", "provider_key", "model_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_key: str = Field(max_length=MAX_PROVIDER_KEY_LENGTH)
    model_id: str = Field(max_length=MAX_TEXT_LENGTH)
    at: float
    outcome: str = Field(max_length=30)
    http_status: int | None = None
    latency_ms: float | None = None


# The latency histogram of a ping rollup row: column lat_000 counts pings under 1 ms, column
# lat_<i> (i >= 1) those in [2 ** ((i - 1) / 8), 2 ** (i / 8)) ms; the last one also every
# longer ping (from about 116 s on). history/ping_rollup.py holds the rule.
LATENCY_BUCKETS = 137
LATENCY_COLUMNS = tuple(f"lat_{i:03d}" for i in range(LATENCY_BUCKETS))

# Rollup bucket lengths in seconds: a quarter of a UTC day (6 hours) and a UTC day (bucket
# starts are multiples).
QUARTER_SPAN = 21600
DAY_SPAN = int(DAY_SECONDS)

PING_ROLLUP = Table(
    "ping_rollup",
    SQLModel.metadata,
    Column("provider_key", AutoString(length=MAX_PROVIDER_KEY_LENGTH), nullable=False),
    Column("model_id", AutoString(length=MAX_TEXT_LENGTH), nullable=False),
    Column("span", Integer, nullable=False),
    Column("start", BigInteger, nullable=False),
    Column("pings", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("latency_min", Float, nullable=True),
    Column("latency_max", Float, nullable=True),
    Column("last_at", Float, nullable=False),
    Column("last_outcome", AutoString(length=30), nullable=False),
    Column("last_latency_ms", Float, nullable=True),
    *(Column(name, Integer, nullable=False, server_default="0") for name in LATENCY_COLUMNS),
    PrimaryKeyConstraint("provider_key", "model_id", "span", "start"),
    Index("ix_ping_rollup_span_start", "span", "start"),
)
"""Ping observations summed per provider, model and bucket (a quarter day and a UTC day).

Written in the transaction of the observations it sums (history/ping_rollup.py), so ``models
stats`` reads a few rows per model instead of every ping. A Core table: its histogram is 137
integer columns, each incremented in place by an upsert (no read-modify-write).
"""


class ModelFact(SQLModel, table=True):
    """One metadata value of a model from a source other than its provider's list.

    ``origin`` is ``user`` (an override, kept until the user changes it) or a registry family
    (``models.dev``, ``litellm``); ``source`` names it exactly (``models.dev 1.0.398``,
    ``litellm model_prices.json``). Listed values stay in the model's own columns.
    """

    __tablename__ = "model_fact"
    __table_args__ = (UniqueConstraint("provider_id", "model_id", "field", "origin"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(
        sa_column=Column(Integer, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False)
    )
    model_id: str = Field(max_length=MAX_TEXT_LENGTH)
    field: str = Field(max_length=60)
    origin: str = Field(max_length=40)
    source: str = Field(max_length=MAX_TEXT_LENGTH)
    value: Any = Field(default=None, sa_column=Column(JSON))
    observed_at: float


REGISTRY_SOURCE = Table(
    "registry_source",
    SQLModel.metadata,
    Column("origin", AutoString(length=40), nullable=False),
    Column("source", AutoString(length=MAX_TEXT_LENGTH), nullable=False),
    Column("version", AutoString(length=200), nullable=True),
    Column("content_hash", AutoString(length=64), nullable=False),
    Column("location", AutoString(length=MAX_BASE_URL_LENGTH), nullable=False),
    Column("read_at", Float, nullable=False),
    Column("notes", JSON, nullable=True),
    PrimaryKeyConstraint("origin"),
)
"""The registry each origin (``litellm``, ``models.dev``) was last read from: its name as the
facts carry it, its version (None when nothing names one), the SHA-256 of its content, where it
was read (a path, or a URL without user info, query or fragment) and what its reader noted
(duplicate or conflicting entries, values refused), for ``registries check``."""

REGISTRY_FILL = Table(
    "registry_fill",
    SQLModel.metadata,
    Column("provider_id", Integer, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
    Column("origin", AutoString(length=40), nullable=False),
    Column("source", AutoString(length=MAX_TEXT_LENGTH), nullable=False),
    Column("fingerprint", AutoString(length=64), nullable=False),
    Column("filled_at", Float, nullable=False),
    Column("checked_at", Float, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("known_empty", Integer, nullable=False),
    Column("ambiguous", Integer, nullable=False),
    Column("unmatched", Integer, nullable=False),
    PrimaryKeyConstraint("provider_id", "origin"),
)
"""What one registry last filled for one provider: the fingerprint of the registry's content and
the provider's listing it was computed from (an equal fingerprint lets the next run skip the
work), when the facts were last written (``filled_at``) and last confirmed by a run
(``checked_at``, the ``observed_at`` of every value it filled), and the match counts."""
