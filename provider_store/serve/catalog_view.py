"""The catalog's models as the server reads them: the one place it reads model data from.

Everything the HTTP answers say about a model comes through here: the usable models and their
names (:func:`~provider_store.exports.catalog_models.read_catalog`), each model's metadata with
its source (the rows of the one model view, :mod:`provider_store.catalog.model_view_rows`),
its status and last verdict, the provider's list state (for the metrics), the ping statistics
of the last seven days (the ping rollup), and resolution by the library's rules
(:func:`~provider_store.resolution.model_refs.resolve_ref`). Nothing here holds a key: a
provider's settings are read without it, and a config (which carries one) is dropped as soon
as its curated lists are taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provider_store.catalog.model_facts import provider_metadata
from provider_store.catalog.model_view_rows import FACT_FIELDS
from provider_store.catalog.states import utc_now
from provider_store.exports.catalog_models import read_catalog
from provider_store.history.ping_stats import ModelStats, model_stats
from provider_store.model_info import metadata_field
from provider_store.resolution.model_refs import ModelRef, Names, resolve_ref
from provider_store.store import ProviderStore

__all__ = [
    "STATS_WINDOW",
    "CatalogNames",
    "ProviderModels",
    "ServedModel",
    "read_names",
    "read_ping_stats",
    "read_providers",
    "resolution_scope",
    "resolve",
]

STATS_WINDOW = 7 * 86400.0  # seconds of pings behind availability and latency

VALID, INVALID, UNVERIFIED = "valid", "invalid", "unverified"


@dataclass(frozen=True, slots=True)
class ServedModel:
    """One model of a provider: its status, verdict, names and metadata (value and source)."""

    provider: str
    model: str
    status: str  # valid | invalid | unverified
    verdict: str | None
    verdict_reason: str | None
    values: Mapping[str, Any]  # field -> plain JSON value
    sources: Mapping[str, str]  # field -> where the value came from

    @property
    def id(self) -> str:
        """``provider/model``."""
        return f"{self.provider}/{self.model}"

    @property
    def usable(self) -> bool:
        """True for a valid model (what a client may send requests to)."""
        return self.status == VALID


@dataclass(frozen=True, slots=True)
class ProviderModels:
    """A provider's models (valid first, then invalid, then listed but unverified) and the
    state of its model list."""

    key: str
    name: str
    models: tuple[ServedModel, ...]
    valid: Mapping[str, str] = field(default_factory=dict)  # valid model id -> its alias
    list_fetched_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    empty_list_strikes: int = 0
    problem: str | None = None

    @property
    def last_refresh_ok(self) -> bool | None:
        """Whether the newest list attempt succeeded (None when there was none)."""
        if self.last_error_at is None:
            return None if self.list_fetched_at is None else True
        return self.list_fetched_at is not None and self.list_fetched_at >= self.last_error_at


@dataclass(frozen=True)
class CatalogNames:
    """Every provider in catalog order, and the names each valid model is offered under."""

    order: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]  # provider/model -> aliases offered


def read_names(store: ProviderStore) -> CatalogNames:
    """Catalog order and each valid model's aliases (as every export offers them)."""
    providers = read_catalog(store)
    return CatalogNames(
        order=tuple(p.key for p in providers),
        aliases={m.name: m.aliases for p in providers for m in p.models},
    )


def resolution_scope(providers: Sequence[ProviderModels]) -> Names:
    """What :func:`resolve` looks in: the valid models of ``providers`` (catalog order)."""
    return Names.build([(p.key, p.valid) for p in providers])


def read_providers(store: ProviderStore, keys: Iterable[str]) -> dict[str, ProviderModels]:
    """The models of the providers ``keys`` (those that exist), read in one transaction."""
    wanted = list(keys)
    if not wanted:
        return {}
    found: dict[str, ProviderModels] = {}
    with store.read() as session:
        configs = store.load_configs(keys=wanted, session=session)
        for key in list(configs):
            # The config carries the key: only its name and curated lists are kept.
            config = configs.pop(key)
            found[key] = _provider(
                store,
                session,
                key,
                config.name,
                dict(config.valid_models),
                list(config.invalid_models),
            )
    return found


def _provider(
    store: ProviderStore,
    session: Any,
    key: str,
    name: str,
    valid: dict[str, str],
    invalid: list[str],
) -> ProviderModels:
    metadata = provider_metadata(session, key)
    cache = store.read_cache(key, session=session)
    verdicts = store.load_verdicts(key, session=session)
    problem, _at = store.rows.read_problem(key, session=session)
    statuses = dict.fromkeys(valid, VALID)
    statuses.update((m, INVALID) for m in invalid if m not in statuses)
    for item in cache.models or []:
        listed = item.get("id") if isinstance(item, dict) else None
        if isinstance(listed, str) and listed not in statuses:
            statuses[listed] = UNVERIFIED
    models = []
    for model_id, status in statuses.items():
        meta = metadata.get(model_id)
        values = meta.values if meta is not None else {}
        verdict = verdicts.get(model_id)
        models.append(
            ServedModel(
                provider=key,
                model=model_id,
                status=status,
                verdict=verdict.verdict.value if verdict is not None else None,
                verdict_reason=verdict.reason if verdict is not None else None,
                values={f: _plain(f, values[f].value) for f in FACT_FIELDS if f in values},
                sources={f: values[f].source for f in FACT_FIELDS if f in values},
            )
        )
    return ProviderModels(
        key=key,
        name=name,
        models=tuple(models),
        valid=valid,
        list_fetched_at=cache.fetched_at,
        last_error=cache.last_error,
        last_error_at=cache.last_error_at,
        empty_list_strikes=cache.empty_list_strikes,
        problem=problem,
    )


def _plain(name: str, stored: Any) -> Any:
    described = metadata_field(name)
    if described is None:
        return stored
    return described.to_plain(described.from_column(stored))


def read_ping_stats(store: ProviderStore) -> dict[tuple[str, str], ModelStats]:
    """(provider, model) -> its ping statistics over the last :data:`STATS_WINDOW` seconds."""
    with store.read() as session:
        stats = model_stats(session, since=utc_now() - STATS_WINDOW)
    return {(s.provider, s.model): s for s in stats}


def resolve(scope: Names, text: str, *, strict: bool) -> ModelRef:
    """The valid model ``text`` names, by the library's rules (``provider/model``,
    ``provider/alias``, an alias or a model id; every candidate on ambiguity, the first
    winning unless ``strict``)."""
    return resolve_ref(scope, text, strict=strict)
