"""The one discovery cache policy, over two backends (memory and store).

The policy (pure, no I/O):

- **fresh**: a non-empty list younger than the provider's TTL is served without a network call;
- **stale**: an older (or, after a failed refresh, any) non-empty list; it is refreshed, and is
  served when the refresh fails;
- **none**: no list at all.
- **Empty-list strikes**: the first empty answer after a non-empty list is suspicious: it is a
  failed refresh (the old list is served as ``stale``) and counts one strike; a second empty
  answer in a row is accepted. Any other outcome resets the count. The count lives in
  ``provider.empty_list_strikes`` (store) or the config's ``list_cache`` (memory).
- **One refresh per expiry** (store backend): a stale cache is refreshed by the holder of the
  provider's refresh lease (:mod:`~provider_store.discovery.leases`). Others serve the stale list
  at once, or, without any list (or when asked to wait), poll until the holder's result lands,
  the lease is freed or expires, or ``wait_seconds`` run out.
- **No lease, no fetch**: when the database cannot be reached to take the lease (no connection
  free, the server full or down), nothing is fetched: the last list known is served with a
  :class:`~provider_store.errors.CatalogUnavailableError`.

A refresh is two calls with the network in between, and no callbacks::

    step = cache.begin(backend, force_refresh=False, wait_for_refresh=False)
    if step.result is None:
        outcome = fetch()  # a model list, or the DiscoveryError it failed with
        result = cache.finish(backend, step, outcome, error_text)

:func:`finish` writes only what the fetch learned (cache columns and sightings, or the failure)
and gives the lease back. A provider deleted meanwhile stays deleted: nothing is written. A
failed write is a failure: the result carries a :class:`~provider_store.errors.CacheWriteError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from provider_store.catalog import cache_rows
from provider_store.catalog.cache_rows import CacheState
from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.change_marker import provider_scope
from provider_store.catalog.states import utc_now
from provider_store.discovery import leases
from provider_store.discovery.results import DiscoveryResult, Source
from provider_store.discovery.save_listing import write_listing
from provider_store.errors import (
    BadResponseError,
    CacheWriteError,
    CatalogUnavailableError,
    DiscoveryError,
    NotFoundError,
    ProviderHTTPError,
    ProviderStoreError,
)
from provider_store.provider_config import ListCache, ProviderConfig
from provider_store.providers.listed_info import model_infos

logger = logging.getLogger(__name__)

EMPTY_LIST_TAG = "EmptyModelList"
DEFAULT_POLL_INTERVAL = 0.075
MAX_POLL_FACTOR = 4  # a waiting poll interval grows up to 4 x poll_interval (0.3 s by default)

Models = list[dict[str, Any]]

__all__ = [
    "EMPTY_LIST_TAG",
    "CacheBackend",
    "MemoryBackend",
    "Step",
    "StoreBackend",
    "begin",
    "empty_list_error",
    "finish",
    "unavailable",
]


# -- the policy ------------------------------------------------------------------------------


def is_suspicious_empty(state: CacheState, models: Models) -> bool:
    """True for the first empty answer after a non-empty list (no strike counted yet)."""
    return not models and bool(state.models) and state.empty_list_strikes < 1


def empty_list_error(base_url: str) -> BadResponseError:
    """The failure recorded when a provider first answers an empty list after a non-empty one."""
    return BadResponseError(
        f"{EMPTY_LIST_TAG}: {base_url.rstrip('/')}/models answered an empty list; the previous "
        "list is kept until a second empty answer in a row"
    )


def served(state: CacheState, now: float) -> DiscoveryResult:
    """What a caller that does not fetch answers from ``state``."""
    models = list(state.models or [])
    if state.is_fresh(now):
        return DiscoveryResult(models, Source.CACHE, None, state.fetched_at)
    if models:
        return DiscoveryResult(models, Source.STALE, None, state.fetched_at)
    if state.fetched_at is not None and state.last_error is None:
        # A well-formed empty list is stored.
        return DiscoveryResult([], Source.CACHE, None, state.fetched_at)
    return DiscoveryResult([], Source.NONE, _stored_error(state), None)


def stale_or_none(state: CacheState, error: DiscoveryError) -> DiscoveryResult:
    """The last good list as ``stale``, or ``none`` when there is no list, with the failure."""
    if state.models:
        return DiscoveryResult(list(state.models), Source.STALE, error, state.fetched_at)
    return DiscoveryResult([], Source.NONE, error, None)


def unavailable(exc: ProviderStoreError) -> CatalogUnavailableError:
    """The failure of a refresh that could not read the cache or take the lease: nothing is
    fetched around the lease (the last list known is served with it)."""
    return CatalogUnavailableError(
        f"not refreshed: the catalog could not be read ({exc}); nothing is fetched without"
        " the refresh lease"
    )


def _stored_error(state: CacheState) -> DiscoveryError:
    message = f"refresh by another process failed: {state.last_error or 'unknown error'}"
    if state.last_error_status is not None:
        return ProviderHTTPError(message, status=state.last_error_status)
    return DiscoveryError(message)


# -- the backends ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What :func:`begin` decided: ``result`` to serve, or fetch and hand this to :func:`finish`.

    ``holder`` is the refresh lease taken for the fetch (None without one); ``state`` the newest
    cache known before the fetch.
    """

    state: CacheState
    result: DiscoveryResult | None = None
    holder: str | None = None


class CacheBackend(Protocol):
    """Where one provider's cache lives. Store errors are raised as ProviderStoreError."""

    config: ProviderConfig

    def load(self) -> CacheState:
        """The cache as stored now."""

    def claim(self, *, serve_stale: bool) -> Step:
        """Decide who refreshes a cache that is not fresh (the lease for a shared store)."""

    def save_list(self, step: Step, models: Models, at: float) -> None:
        """Store a fetched list (resets the strikes), and give the lease back."""

    def save_failure(self, step: Step, message: str, status: int | None, strikes: int) -> None:
        """Record a failed refresh with the new strike count, and give the lease back."""

    def release(self, step: Step) -> None:
        """Give the lease back without a result (the fetch raised)."""


class MemoryBackend:
    """A loose config's cache, kept in its :attr:`~ProviderConfig.list_cache` only."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    def load(self) -> CacheState:
        """The config's list cache as a cache state."""
        cache = self.config.list_cache
        return CacheState(
            provider_id=0,
            models=cache.models,
            fetched_at=cache.fetched_at,
            ttl_seconds=cache.ttl_seconds,
            last_error=None,
            last_error_status=None,
            last_error_at=None,
            empty_list_strikes=cache.empty_list_strikes,
        )

    def claim(self, *, serve_stale: bool) -> Step:
        """One process, no lease: always fetch."""
        return Step(self.load())

    def save_list(self, step: Step, models: Models, at: float) -> None:
        """Keep the list on the config (the strikes start again)."""
        ttl = self.config.list_cache.ttl_seconds
        self.config.list_cache = ListCache(models=list(models), fetched_at=at, ttl_seconds=ttl)

    def save_failure(self, step: Step, message: str, status: int | None, strikes: int) -> None:
        """Only the strike count is kept; the list stays."""
        self.config.list_cache = replace(self.config.list_cache, empty_list_strikes=strikes)

    def release(self, step: Step) -> None:
        """Nothing to release."""


class StoreBackend:
    """A stored provider's cache in its columns, refreshed under the provider's lease."""

    def __init__(
        self,
        store: CatalogStore,
        config: ProviderConfig,
        key: str,
        *,
        lease_seconds: float,
        wait_seconds: float,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.store = store
        self.config = config
        self.key = key
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.poll_interval = poll_interval

    def load(self) -> CacheState:
        """The provider's cache columns."""
        return self.store.rows.read_cache(self.key)

    def claim(self, *, serve_stale: bool) -> Step:
        """Take the lease, or learn what to serve instead (see the module doc)."""
        holder = leases.new_holder_id()
        # Counted sleeps, not a clock: the bound holds even under a frozen test clock. A poll
        # reads four small columns; the interval grows to MAX_POLL_FACTOR times the first one
        # while nothing changes, so a long wait costs little CPU.
        patience = max(self.poll_interval, self.wait_seconds)
        interval = self.poll_interval
        while True:
            with self.store.transaction() as session:
                state = cache_rows.read_cache(session, self.key)
                # The clock is read once the first statement holds the write lock: a refresh
                # that landed while this transaction waited for it is fresh, not in the future.
                now = utc_now()
                if state.is_fresh(now):
                    return Step(state, result=served(state, now))
                won = leases.try_acquire(
                    session,
                    self.key,
                    holder,
                    seconds=self.lease_seconds,
                    now=now,
                    landed=(state.fetched_at, state.last_error_at),
                )
            if won:
                leases.keep_alive(self.store, self.key, holder, seconds=self.lease_seconds)
                return Step(state, holder=holder)
            if state.models and serve_stale:
                logger.debug("%s is being refreshed elsewhere; serving the stale list", self.key)
                return Step(state, result=served(state, now))
            landed = (state.fetched_at, state.last_error_at)
            while True:
                if patience <= 0:
                    logger.warning(
                        "refresh of %s by another process did not finish within %.1f s; fetching",
                        self.key,
                        self.wait_seconds,
                    )
                    return Step(state)
                interval = min(interval, patience)
                time.sleep(interval)
                patience -= interval
                interval = min(interval * 1.5, self.poll_interval * MAX_POLL_FACTOR)
                with self.store.read() as session:
                    holding, marks = leases.landing_marks(session, self.key)
                    if marks != landed:  # a result landed: read the list, once
                        state = cache_rows.read_cache(session, self.key)
                if marks != landed:
                    return Step(state, result=served(state, utc_now()))
                if holding is None:
                    break  # released without a result, or expired: try to take it

    def save_list(self, step: Step, models: Models, at: float) -> None:
        """One short transaction: the cache columns, the sightings, the lease."""
        infos = model_infos(models)  # parsed before the write lock is taken
        try:
            with self.store.transaction() as session:
                write_listing(session, self.key, models, at, infos)  # cache columns + metadata
                if step.holder is not None:
                    leases.release(session, self.key, step.holder)
        except BaseException:
            self.release(step)
            raise

    def save_failure(self, step: Step, message: str, status: int | None, strikes: int) -> None:
        """One short transaction: the error columns, the strike count, the lease."""
        try:
            with self.store.transaction() as session, provider_scope(session, self.key):
                found = cache_rows.record_error(
                    session, self.key, message, status, utc_now(), empty_list_strikes=strikes
                )
                if step.holder is not None:
                    leases.release(session, self.key, step.holder)
        except BaseException:
            self.release(step)
            raise
        if not found:
            raise NotFoundError(f"Unknown provider: {self.key}")

    def release(self, step: Step) -> None:
        """Give the lease back in a transaction of its own; database trouble is only logged."""
        if step.holder is None:
            return
        try:
            with self.store.transaction() as session:
                leases.release(session, self.key, step.holder)
        except ProviderStoreError as exc:
            logger.warning("could not release the refresh lease of %s: %s", self.key, exc)


# -- the one path ----------------------------------------------------------------------------


def begin(backend: CacheBackend, *, force_refresh: bool, wait_for_refresh: bool) -> Step:
    """Serve a fresh cache, or decide who fetches (step 1 of a refresh).

    ``force_refresh`` fetches regardless of freshness and lease; ``wait_for_refresh`` waits for
    another process's refresh instead of serving its stale list at once.
    """
    state = backend.load()
    mirror(backend.config, state.models or [], state.fetched_at, state.ttl_seconds)
    now = utc_now()
    if force_refresh:
        return Step(state)
    if state.is_fresh(now):
        return Step(state, result=served(state, now))
    try:
        step = backend.claim(serve_stale=not wait_for_refresh)
    except NotFoundError:
        raise
    except ProviderStoreError as exc:
        logger.warning("refresh lease of %s unavailable (%s); not refreshed", _name(backend), exc)
        return Step(state, result=stale_or_none(state, unavailable(exc)))
    if step.result is not None:
        mirror(backend.config, step.result.models, step.state.fetched_at, step.state.ttl_seconds)
    return step


def finish(
    backend: CacheBackend,
    step: Step,
    outcome: Models | DiscoveryError,
    error_text: str,
    *,
    listed: Callable[[Models], None] | None = None,
) -> DiscoveryResult:
    """Record what the fetch learned and answer with it (step 2 of a refresh).

    ``outcome`` is the fetched list or the failure; ``error_text`` the key-free text recorded for
    a failure. A list that cannot be stored is a failure (:class:`CacheWriteError`) served with
    the fetched list; a provider deleted meanwhile is skipped. ``listed`` is called with an
    accepted list before it is stored (so work on it can start while the write waits its turn).
    """
    state = step.state
    if isinstance(outcome, list) and is_suspicious_empty(state, outcome):
        outcome = empty_list_error(backend.config.base_api_url)
        error_text = f"{outcome.__class__.__name__}: {outcome}"
        strikes = state.empty_list_strikes + 1
    else:
        strikes = 0
    if isinstance(outcome, DiscoveryError):
        try:
            backend.save_failure(step, error_text, getattr(outcome, "status", None), strikes)
            state = backend.load()
        except NotFoundError:
            logger.warning("provider %s was removed meanwhile; nothing recorded", _name(backend))
        except ProviderStoreError as exc:
            logger.warning("could not record the failure of %s: %s", _name(backend), exc)
        mirror(backend.config, state.models or [], state.fetched_at, state.ttl_seconds)
        return stale_or_none(state, outcome)
    fetched_at = utc_now()
    mirror(backend.config, outcome, fetched_at, state.ttl_seconds)
    if listed is not None:
        listed(list(outcome))
    try:
        backend.save_list(step, outcome, fetched_at)
    except NotFoundError:
        logger.warning("provider %s was removed meanwhile; its list is not stored", _name(backend))
    except ProviderStoreError as exc:
        logger.warning("could not store the model list of %s: %s", _name(backend), exc)
        failure = CacheWriteError(f"the model list could not be saved: {exc}")
        return DiscoveryResult(list(outcome), Source.FRESH, failure, fetched_at)
    return DiscoveryResult(list(outcome), Source.FRESH, None, fetched_at)


def mirror(config: ProviderConfig, models: Models, fetched_at: float | None, ttl: int) -> None:
    """Mirror a model list, its fetch time and TTL onto ``config``'s list cache (strikes kept)."""
    strikes = config.list_cache.empty_list_strikes
    config.list_cache = ListCache(
        models=list(models), fetched_at=fetched_at, ttl_seconds=ttl, empty_list_strikes=strikes
    )


def _name(backend: CacheBackend) -> str:
    return backend.config.catalog_key or backend.config.name
