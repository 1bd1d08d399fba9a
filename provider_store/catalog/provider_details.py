"""Everything the catalog knows about one provider, in one value: ``providers list`` and
``providers show`` (and any other face) read :class:`ProviderDetails`.

Its settings (kind, options, cache TTL, removal policy), where its API key comes from (never the
key), its model counts, and the last refresh error and provider problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from provider_store.rules import is_keyless, iso_utc
from provider_store.rules.api_keys import key_source

if TYPE_CHECKING:
    from sqlmodel import Session

    from provider_store.catalog.catalog_store import CatalogStore

__all__ = ["ProviderDetails", "describe"]


@dataclass(frozen=True)
class ProviderDetails:
    """One provider as the catalog holds it now.

    ``key_source`` is one of :data:`~provider_store.rules.api_keys.KEY_SOURCES` and
    ``key_variable`` the environment variable that supplies the key or would; ``discovered``
    counts the models of the stored list, ``unverified`` those of them in neither curated
    list. Times are UTC epoch seconds (None: never).
    """

    key: str
    name: str
    base_api_url: str
    kind: str
    options: dict[str, Any]
    keyless: bool
    key_source: str
    key_variable: str | None
    cache_ttl_seconds: int
    removal_confirmations: int
    removal_min_age_seconds: float
    valid_models: int
    invalid_models: int
    discovered: int
    unverified: int
    fetched_at: float | None
    last_error: str | None
    last_error_status: int | None
    last_error_at: float | None
    problem: str | None
    problem_at: float | None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, times as :func:`~provider_store.rules.iso_utc` writes them;
        the key source is ``api_key`` (``stored``, ``env`` ...) and its variable
        ``api_key_env``."""
        data = asdict(self)
        for name in ("fetched_at", "last_error_at", "problem_at"):
            data[name] = iso_utc(data[name])
        shown = {"api_key": data.pop("key_source"), "api_key_env": data.pop("key_variable")}
        position = list(data).index("keyless") + 1
        items = list(data.items())
        return dict(items[:position] + list(shown.items()) + items[position:])


def describe(store: CatalogStore, key: str, session: Session) -> ProviderDetails:
    """The details of provider ``key`` (NotFoundError, with suggestions, for an unknown key)."""
    config = store.rows.get_config(key, session=session)
    cache = store.rows.read_cache(key, session=session)
    problem, problem_at = store.rows.read_problem(key, session=session)
    row = store.rows.get_provider(key, session=session)
    source, variable = key_source(key, config.api_key, config.options)
    listed = {item.get("id") for item in cache.models or [] if isinstance(item, Mapping)}
    curated = set(config.valid_models) | set(config.invalid_models)
    return ProviderDetails(
        key=key,
        name=config.name,
        base_api_url=config.base_api_url,
        kind=config.kind,
        options=dict(config.options or {}),
        keyless=is_keyless(config.options),
        key_source=source,
        key_variable=variable,
        cache_ttl_seconds=cache.ttl_seconds,
        removal_confirmations=row.removal_confirmations,
        removal_min_age_seconds=row.removal_min_age_seconds,
        valid_models=len(config.valid_models),
        invalid_models=len(config.invalid_models),
        discovered=len(cache.models or []),
        unverified=len({m for m in listed if isinstance(m, str)} - curated),
        fetched_at=cache.fetched_at,
        last_error=cache.last_error,
        last_error_status=cache.last_error_status,
        last_error_at=cache.last_error_at,
        problem=problem,
        problem_at=problem_at,
    )
