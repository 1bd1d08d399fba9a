"""The legacy in-memory discovery cache, kept on a config's private attributes.

A loose config (one not loaded from a store) keeps its discovered list in ``_cached_models``,
``_cache_timestamp`` and ``_cache_duration``, as the old service did; a store-backed config gets
the same attributes mirrored from its provider's columns (:func:`attach`). The list rules both
caches share live here as well: a suspicious empty list (:func:`empty_list_error`) and serving
the last good list as ``stale`` (:func:`stale_or_none`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from provider_store.catalog.tables import utc_now
from provider_store.discovery.results import DiscoveryResult, Source
from provider_store.errors import BadResponseError, DiscoveryError
from provider_store.provider_config import ProviderConfig

EMPTY_LIST_TAG = "EmptyModelList"

Fetch = Callable[[ProviderConfig], list[dict[str, Any]] | DiscoveryError]

__all__ = ["EMPTY_LIST_TAG", "Fetch", "MemoryCache", "attach", "empty_list_error", "stale_or_none"]


class MemoryCache:
    """Discovery through a loose config's in-memory cache; safe to use from several threads.

    Freshness follows the legacy rule (a non-empty list younger than ``_cache_duration``); the
    first empty answer after a non-empty list is served as ``stale``, a second one in a row is
    accepted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Loose configs that answered one suspicious empty list: id(config) -> weak reference.
        self._empty_strikes: dict[int, weakref.ref[ProviderConfig]] = {}

    def discover(
        self, config: ProviderConfig, force_refresh: bool, fetch: Fetch
    ) -> DiscoveryResult:
        """The cached list while fresh, else ``fetch(config)``'s answer, else the stale list."""
        cached = list(config._cached_models)
        stamp = config._cache_timestamp or None
        now = utc_now()
        if (
            not force_refresh
            and cached
            and stamp is not None
            and 0 <= now - stamp < config._cache_duration
        ):
            return DiscoveryResult(cached, Source.CACHE, None, stamp)
        outcome = fetch(config)
        with self._lock:
            ref = self._empty_strikes.pop(id(config), None)
            struck = ref is not None and ref() is config
            if isinstance(outcome, list) and not outcome and cached and not struck:
                self._empty_strikes[id(config)] = weakref.ref(config)
                outcome = empty_list_error(config.base_api_url)
        if isinstance(outcome, DiscoveryError):
            return stale_or_none(cached, stamp, outcome)
        fetched_at = utc_now()
        attach(config, outcome, fetched_at, config._cache_duration)
        return DiscoveryResult(list(outcome), Source.FRESH, None, fetched_at)


def attach(
    config: ProviderConfig, models: list[dict[str, Any]], fetched_at: float | None, ttl: int
) -> None:
    """Mirror a model list, its fetch time and TTL onto ``config``'s legacy cache attributes."""
    config._cached_models = list(models)
    config._cache_timestamp = fetched_at or 0.0
    config._cache_duration = ttl


def empty_list_error(base_url: str) -> BadResponseError:
    """The failure recorded when a provider first answers an empty list after a non-empty one."""
    return BadResponseError(
        f"{EMPTY_LIST_TAG}: {base_url.rstrip('/')}/models answered an empty list; the previous "
        "list is kept until a second empty answer in a row"
    )


def stale_or_none(
    models: list[dict[str, Any]], fetched_at: float | None, error: DiscoveryError
) -> DiscoveryResult:
    """The last good list as ``stale``, or ``none`` when there is no list, with the failure."""
    if models:
        return DiscoveryResult(list(models), Source.STALE, error, fetched_at)
    return DiscoveryResult([], Source.NONE, error, None)
