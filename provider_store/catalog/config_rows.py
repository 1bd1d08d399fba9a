"""Provider rows -> :class:`ProviderConfig`: the read every process makes first.

Reads through the light table clauses of :mod:`provider_store.catalog.light_tables` (Core
``select()``, only the columns a config carries), so loading the configs of a new process builds
neither the SQLModel table classes nor an ORM query; the values come from the database already
checked, so the configs are built without validating them again.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provider_store.catalog.light_tables import MODEL, PROVIDER
from provider_store.catalog.states import ModelStatus
from provider_store.provider_config import ListCache, ProviderConfig
from provider_store.rules import DEFAULT_KIND

__all__ = ["Curated", "curated_models", "load_configs", "to_config"]

# provider id -> (valid model id -> alias, invalid model ids), each in catalog order
Curated = dict[int, tuple[dict[str, str], list[str]]]

_P = PROVIDER.c
_CONFIG_COLUMNS = (
    _P.id,
    _P.key,
    _P.name,
    _P.base_api_url,
    _P.api_key,
    _P.kind,
    _P.options,
    _P.models_cache,
    _P.models_fetched_at,
    _P.cache_ttl_seconds,
)
_VALID = ModelStatus.VALID.value


def load_configs(
    session: Session, keys: Collection[str] | None = None
) -> dict[str, ProviderConfig]:
    """Every provider (or only those of ``keys`` that exist) as a config, in catalog order."""
    query = select(*_CONFIG_COLUMNS).order_by(_P.position, _P.id)
    if keys is not None:
        if not keys:
            return {}
        query = query.where(_P.key.in_(list(keys)))
    providers = list(session.execute(query))
    curated = curated_models(session, [p.id for p in providers])
    return {p.key: to_config(p, curated) for p in providers}


def curated_models(session: Session, provider_ids: list[int | None]) -> Curated:
    """The valid and invalid models of each provider of ``provider_ids``."""
    result: Curated = {pid: ({}, []) for pid in provider_ids if pid is not None}
    if not result:
        return result
    m = MODEL.c
    rows = session.execute(
        select(m.provider_id, m.status, m.model_id, m.alias)
        .where(m.provider_id.in_(list(result)))
        .where(m.status != ModelStatus.UNVERIFIED.value)
        .order_by(m.provider_id, m.position)
    )
    for provider_id, status, model_id, alias in rows:
        valid, invalid = result[provider_id]
        if status == _VALID:
            valid[model_id] = alias
        else:
            invalid.append(model_id)
    return result


def settings_config(provider: Any, curated: Curated) -> ProviderConfig:
    """A provider row's settings and curated lists as a config, without its list cache (the
    row needs only the settings columns; read by attribute)."""
    valid, invalid = curated.get(provider.id if provider.id is not None else -1, ({}, []))
    return ProviderConfig.model_construct(
        name=provider.name,
        base_api_url=provider.base_api_url,
        api_key=provider.api_key,
        valid_models=dict(valid),
        invalid_models=list(invalid),
        kind=provider.kind or DEFAULT_KIND,
        options=copy.deepcopy(provider.options) if provider.options is not None else None,
    )


def to_config(provider: Any, curated: Curated) -> ProviderConfig:
    """The config of a provider row (a Core row or a ``Provider`` object: read by attribute)."""
    config = settings_config(provider, curated)
    config.list_cache = ListCache(
        models=list(provider.models_cache or []),
        fetched_at=provider.models_fetched_at,
        ttl_seconds=provider.cache_ttl_seconds,
    )
    config.catalog_key = provider.key
    return config
