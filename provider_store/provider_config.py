"""ProviderConfig, the legacy-compatible value object, and its pure helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from provider_store.rules import DEFAULT_CACHE_TTL, DEFAULT_KIND


@dataclass(frozen=True)
class ListCache:
    """The discovery cache a :class:`ProviderConfig` carries: a snapshot, read and written whole.

    ``models`` is the last model list, ``fetched_at`` when it was fetched (epoch seconds, None
    when never), ``ttl_seconds`` how long it stays fresh, ``empty_list_strikes`` the suspicious
    empty answers in a row (see :mod:`provider_store.discovery.cache`).
    """

    models: list[dict[str, Any]] = field(default_factory=list)
    fetched_at: float | None = None
    ttl_seconds: int = DEFAULT_CACHE_TTL
    empty_list_strikes: int = 0


class ProviderConfig(BaseModel):
    """One provider's settings and curated models, as the legacy in-memory object had them.

    ``valid_models`` maps a model's long id to its short alias; ``invalid_models`` lists ids known
    not to chat. The discovery cache is :attr:`list_cache`; it is kept on the legacy runtime
    attributes ``_cached_models``, ``_cache_timestamp`` and ``_cache_duration`` (which legacy
    code may still set directly) and never appears in :meth:`model_dump`. :attr:`catalog_key`
    names the catalog row a config stands for (None for a loose config).

    ``kind`` (the API dialect, one of :data:`provider_store.rules.PROVIDER_KINDS`, default
    ``"openai"``) and ``options`` (connection options, see
    :mod:`provider_store.rules.provider_settings`, or None) are
    settable but, like the runtime attributes, stay out of :meth:`model_dump` so the legacy shape
    holds.
    """

    name: str = "Test Provider"
    base_api_url: str = "https://test.openai.com/v1"
    api_key: str = Field(default="", repr=False)
    valid_models: dict[str, str] = Field(default_factory=dict)
    invalid_models: list[str] = Field(default_factory=list)
    kind: str = Field(default=DEFAULT_KIND, exclude=True)
    options: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)

    _cached_models: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _cache_timestamp: float = PrivateAttr(default=0.0)
    _cache_duration: int = PrivateAttr(default=DEFAULT_CACHE_TTL)
    # Suspicious empty model lists answered in a row (the in-memory twin of the provider column).
    _empty_list_strikes: int = PrivateAttr(default=0)
    # Storage of catalog_key.
    _provider_key: str | None = PrivateAttr(default=None)

    @property
    def list_cache(self) -> ListCache:
        """A copy of the discovery cache this config carries (see :class:`ListCache`).

        Assigning a :class:`ListCache` replaces it. A config loaded from a store carries the
        provider's cache columns as they were when loaded or last discovered; a loose config's
        cache lives only here.
        """
        return ListCache(
            models=list(self._cached_models),
            fetched_at=self._cache_timestamp or None,
            ttl_seconds=self._cache_duration,
            empty_list_strikes=self._empty_list_strikes,
        )

    @list_cache.setter
    def list_cache(self, cache: ListCache) -> None:
        self._cached_models = list(cache.models)
        self._cache_timestamp = cache.fetched_at or 0.0
        self._cache_duration = cache.ttl_seconds
        self._empty_list_strikes = cache.empty_list_strikes

    @property
    def catalog_key(self) -> str | None:
        """The catalog key (e.g. ``"openai"``) this config stands for, or None for a loose config.

        Set by :class:`~provider_store.catalog.catalog_rows.CatalogRows` on the configs it
        loads and by :class:`~provider_store.resolution.manager.ProviderManager` on the configs
        it holds. It decides two things, and nothing else does: the environment variable that
        may supply the API key (``{KEY}_API_KEY``), and, for a
        :class:`~provider_store.discovery.service.ModelDiscoveryService` with a store, that the
        discovery cache and the verdicts live in that provider's row (shared by processes,
        verdicts reused) rather than in :attr:`list_cache` alone (pinged on every check).
        """
        return self._provider_key

    @catalog_key.setter
    def catalog_key(self, key: str | None) -> None:
        self._provider_key = key

    def get_valid_models(self) -> list[str]:
        """The long ids of the valid models, in catalog order."""
        return list(self.valid_models)

    def get_invalid_models(self) -> list[str]:
        """A copy of the ids known not to chat."""
        return list(self.invalid_models)

    def find_model(self, name: str) -> str | None:
        """The long id best matching ``name`` (case-insensitive), or None.

        Exact long id first, then exact alias, then the first long id containing ``name``, then the
        first alias containing it.
        """
        needle = name.lower()
        pairs = [(long.lower(), short.lower(), long) for long, short in self.valid_models.items()]
        for long_l, _short_l, long in pairs:
            if long_l == needle:
                return long
        for _long_l, short_l, long in pairs:
            if short_l == needle:
                return long
        for long_l, _short_l, long in pairs:
            if needle in long_l:
                return long
        for _long_l, short_l, long in pairs:
            if needle in short_l:
                return long
        return None

    def merge_valid_models(self, models: Iterable[str]) -> None:
        """Add new ids (alias = the id); existing entries keep their alias and their place."""
        for model in models:
            if model not in self.valid_models:
                self.valid_models[model] = model
