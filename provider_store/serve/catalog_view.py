"""The catalog's models as the server reads them: the one place it reads model data from.

Everything the HTTP answers say about a model comes through here: the usable models and their
names (:func:`~provider_store.exports.catalog_models.read_catalog`), each model's values with
their sources, its status (``valid``, ``missing``, ``invalid``, ``unverified``) with
``status_reason`` and its last verdict, all from the one model view
(:func:`~provider_store.views.model_view.read_model_views`, in bulk: a fixed number of queries
for any number of providers), so an answer says what ``models show`` says; the provider's
list state (for the metrics), the ping statistics of the last seven days (the ping rollup),
and resolution by the library's rules (:func:`~provider_store.resolution.model_refs.resolve_ref`).
Nothing here reads a key: a provider's settings are never loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from provider_store.catalog.light_tables import PROVIDER
from provider_store.catalog.model_view_rows import FACT_FIELDS
from provider_store.catalog.states import utc_now
from provider_store.exports.catalog_models import read_catalog
from provider_store.history.ping_stats import ModelStats, model_stats
from provider_store.resolution.model_refs import ModelRef, Names, resolve_ref
from provider_store.store import ProviderStore
from provider_store.views.model_view import ModelView, read_model_views

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


@dataclass(frozen=True, slots=True)
class ServedModel:
    """One model of a provider as the model view gives it: its status and why, verdict,
    whether it is usable, and its metadata (each known value, as JSON writes it, and its
    source)."""

    provider: str
    model: str
    status: str  # valid | missing | invalid | unverified
    status_reason: str | None
    usable: bool  # in valid_models (a missing one too): it resolves and is exported
    verdict: str | None
    verdict_reason: str | None
    values: Mapping[str, Any]  # field -> plain JSON value
    sources: Mapping[str, str]  # field -> where the value came from

    @property
    def id(self) -> str:
        """``provider/model``."""
        return f"{self.provider}/{self.model}"

    @classmethod
    def of(cls, view: ModelView) -> ServedModel:
        """The served form of the model view ``view``."""
        known = [name for name in FACT_FIELDS if name in view.metadata.values]
        return cls(
            provider=view.provider,
            model=view.model,
            status=view.status,
            status_reason=view.status_reason,
            usable=view.usable,
            verdict=view.verdict,
            verdict_reason=view.verdict_reason,
            values={name: view.plain(name) for name in known},
            sources={name: view.metadata.values[name].source for name in known},
        )


@dataclass(frozen=True, slots=True)
class ProviderModels:
    """A provider's models in the model view's order (valid and missing ones in curated order,
    then invalid, then unverified) and the state of its model list."""

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
    """The models of the providers ``keys`` (those that exist), read in one transaction: the
    model view of all of them at once, and each provider's name and list state."""
    wanted = list(keys)
    if not wanted:
        return {}
    p = PROVIDER.c
    with store.read() as session:
        rows = session.execute(
            select(
                p.key,
                p.name,
                p.models_fetched_at,
                p.last_error,
                p.last_error_at,
                p.empty_list_strikes,
                p.problem,
            )
            .where(p.key.in_(wanted))
            .order_by(p.position, p.id)
        ).all()
        views = read_model_views(session, wanted)
    models: dict[str, list[ServedModel]] = {row.key: [] for row in rows}
    valid: dict[str, dict[str, str]] = {row.key: {} for row in rows}
    for view in views:
        models[view.provider].append(ServedModel.of(view))
        if view.usable:
            valid[view.provider][view.model] = view.alias or view.model
    return {
        row.key: ProviderModels(
            key=row.key,
            name=row.name,
            models=tuple(models[row.key]),
            valid=valid[row.key],
            list_fetched_at=row.models_fetched_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            empty_list_strikes=row.empty_list_strikes or 0,
            problem=row.problem,
        )
        for row in rows
    }


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
