"""The durable discovery cache: a provider's model list in its columns, refreshed under a lease.

:func:`discover` is the store-backed path of
:meth:`~ModelDiscoveryService.discover`: a fresh list is served from the
columns; a stale one is refreshed by the holder of the provider's refresh lease only
(:mod:`discovery.refresh`), or by anyone when ``force_refresh`` asks. A failed refresh
records the failure and serves the last good list as ``stale``; the first empty list after a
non-empty one is such a failure (:func:`~provider_store.discovery.memory_cache.empty_list_error`).
Database trouble is logged, never raised (:func:`guard`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from provider_store.catalog import queries as cache_rows
from provider_store.catalog.queries import CacheState
from provider_store.catalog.store import CatalogStore
from provider_store.catalog.tables import utc_now
from provider_store.discovery import refresh
from provider_store.discovery.listing import write_listing
from provider_store.discovery.memory_cache import (
    EMPTY_LIST_TAG,
    Fetch,
    attach,
    empty_list_error,
    stale_or_none,
)
from provider_store.discovery.results import DiscoveryResult, Source
from provider_store.errors import DiscoveryError, ProviderStoreError
from provider_store.provider_config import ProviderConfig

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

__all__ = ["discover", "guard"]


def discover(
    store: CatalogStore,
    key: str,
    config: ProviderConfig,
    state: CacheState,
    *,
    force_refresh: bool,
    wait_for_refresh: bool,
    lease_seconds: float,
    wait_seconds: float,
    fetch: Fetch,
    error_text: Callable[[DiscoveryError, ProviderConfig], str],
) -> DiscoveryResult:
    """Provider ``key``'s models given its cache ``state``; the outcome is written back.

    ``fetch`` asks the provider (returning the failure rather than raising it) and
    ``error_text`` turns a failure into the key-free text recorded on the provider.
    """
    attach(config, state.models or [], state.fetched_at, state.ttl_seconds)
    now = utc_now()
    if not force_refresh and state.is_fresh(now):
        return DiscoveryResult(list(state.models or []), Source.CACHE, None, state.fetched_at)
    holder: str | None = None
    if not force_refresh:
        claimed = guard(
            key,
            lambda: refresh.claim(
                store,
                key,
                lease_seconds=lease_seconds,
                wait_seconds=wait_seconds,
                serve_stale=not wait_for_refresh,
            ),
        )
        if claimed is not None:
            state, holder = claimed.state, claimed.holder
            if claimed.result is not None:
                attach(config, claimed.result.models, state.fetched_at, state.ttl_seconds)
                return claimed.result
    try:
        outcome = fetch(config)
    except BaseException:
        if holder is not None:
            refresh.release_quietly(store, key, holder)
        raise
    if isinstance(outcome, list) and not outcome and state.models:
        if EMPTY_LIST_TAG not in (state.last_error or ""):
            outcome = empty_list_error(config.base_api_url)
    if isinstance(outcome, DiscoveryError):
        error, message = outcome, error_text(outcome, config)
        status = getattr(outcome, "status", None)
        latest = guard(
            key,
            lambda: refresh.finish(
                store,
                key,
                holder,
                lambda s: _record_error_and_reread(s, key, message, status, now),
            ),
        )
        if latest is not None:
            state = latest
            attach(config, state.models or [], state.fetched_at, state.ttl_seconds)
        return stale_or_none(state.models or [], state.fetched_at, error)
    models, fetched_at = outcome, utc_now()
    guard(
        key,
        lambda: refresh.finish(
            store, key, holder, lambda s: write_listing(s, key, models, fetched_at)
        ),
    )
    attach(config, outcome, fetched_at, state.ttl_seconds)
    return DiscoveryResult(list(outcome), Source.FRESH, None, fetched_at)


def guard(key: str, call: Callable[[], _T]) -> _T | None:
    """Run a store call; database trouble is logged, never raised to the caller."""
    try:
        return call()
    except ProviderStoreError as exc:
        logger.warning("catalog update for %s failed: %s", key, exc)
        return None


def _record_error_and_reread(
    session: Session, key: str, message: str, status: int | None, at: float
) -> CacheState:
    cache_rows.record_error(session, key, message, status, at)
    return cache_rows.read_cache(session, key)
