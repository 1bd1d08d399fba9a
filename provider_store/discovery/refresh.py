"""One refresh per expiry: the refresh-lease dance around a stale store-backed discovery cache.

When many processes find a provider's cache stale at the same moment, only one of them should
ask the provider for ``/models``. :func:`claim` decides who:

- it re-reads the cache and tries to take the provider's refresh lease in one short write
  transaction (:func:`~try_acquire`). A cache that another process has
  just refreshed is served as it is; the winner gets a holder id and fetches;
- a loser with a stale list serves it at once (``stale``, no error): the holder is refreshing;
  unless ``serve_stale=False`` (an explicit refresh), in which case it waits like:
- a loser without any list polls the database every ``poll_interval`` seconds until the
  holder's result lands (a new list or a recorded failure), or the lease is freed or expires
  (a crashed holder), in which case it tries to take the lease itself. After ``wait_seconds``
  it gives up waiting and fetches without the lease (a stuck holder never blocks a caller for
  longer than that).

The winner fetches with no transaction open, then :func:`finish` writes its outcome and gives the
lease back in one transaction; the lease is given back on failure too.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session

from provider_store.catalog import queries as cache_rows
from provider_store.catalog.queries import CacheState
from provider_store.catalog.store import CatalogStore
from provider_store.catalog.tables import utc_now
from provider_store.discovery import leases
from provider_store.discovery.results import DiscoveryResult, Source
from provider_store.errors import DiscoveryError, ProviderHTTPError, ProviderStoreError

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.075
_T = TypeVar("_T")


@dataclass(frozen=True)
class Claim:
    """What :func:`claim` decided.

    ``result`` set: answer with it, no fetch. Otherwise fetch; ``holder`` is the lease holder id
    to hand to :func:`finish` (None when the wait ran out and the fetch goes without the lease),
    ``state`` the newest stored cache.
    """

    state: CacheState
    holder: str | None = None
    result: DiscoveryResult | None = None


def claim(
    store: CatalogStore,
    key: str,
    *,
    lease_seconds: float,
    wait_seconds: float,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    serve_stale: bool = True,
) -> Claim:
    """Take the refresh lease of ``key`` or learn what to serve instead (see the module doc).

    Raises ProviderStoreError when the database cannot be read or written.
    """
    holder = leases.new_holder_id()
    # Counted polls, not a clock: the bound holds even under a frozen test clock.
    polls_left = max(1, math.ceil(wait_seconds / poll_interval))
    while True:
        now = utc_now()
        with store.transaction() as session:
            state = cache_rows.read_cache(session, key)
            if state.is_fresh(now):
                return Claim(state, result=_served(state, now))
            won = leases.try_acquire(session, key, holder, seconds=lease_seconds, now=now)
        if won:
            return Claim(state, holder=holder)
        if state.models and serve_stale:
            logger.debug("%s is being refreshed by another process; serving the stale list", key)
            return Claim(state, result=_served(state, now))
        landed = (state.fetched_at, state.last_error_at)
        while True:
            if polls_left <= 0:
                logger.warning(
                    "refresh of %s by another process did not finish within %.1f s; fetching",
                    key,
                    wait_seconds,
                )
                return Claim(state)
            time.sleep(poll_interval)
            polls_left -= 1
            with store.read() as session:
                state = cache_rows.read_cache(session, key)
                holding = leases.current_holder(session, key)
            if (state.fetched_at, state.last_error_at) != landed:
                return Claim(state, result=_served(state, utc_now()))
            if holding is None:
                break  # released without a result, or expired: try to take it


def finish(store: CatalogStore, key: str, holder: str | None, write: Callable[[Session], _T]) -> _T:
    """Run ``write`` and give the lease back in one transaction (the lease also on failure)."""
    try:
        with store.transaction() as session:
            outcome = write(session)
            if holder is not None:
                leases.release(session, key, holder)
            return outcome
    except BaseException:
        if holder is not None:
            release_quietly(store, key, holder)
        raise


def release_quietly(store: CatalogStore, key: str, holder: str) -> None:
    """Give the lease back in a transaction of its own; database trouble is only logged."""
    try:
        with store.transaction() as session:
            leases.release(session, key, holder)
    except ProviderStoreError as exc:
        logger.warning("could not release the refresh lease of %s: %s", key, exc)


def _served(state: CacheState, now: float) -> DiscoveryResult:
    """The answer a non-fetching caller gives from the stored ``state``."""
    models = list(state.models or [])
    if state.is_fresh(now):
        return DiscoveryResult(models, Source.CACHE, None, state.fetched_at)
    if models:
        return DiscoveryResult(models, Source.STALE, None, state.fetched_at)
    if state.fetched_at is not None and state.last_error is None:
        # The holder stored a well-formed empty list.
        return DiscoveryResult([], Source.CACHE, None, state.fetched_at)
    return DiscoveryResult([], Source.NONE, _stored_error(state), None)


def _stored_error(state: CacheState) -> DiscoveryError:
    message = f"refresh by another process failed: {state.last_error or 'unknown error'}"
    if state.last_error_status is not None:
        return ProviderHTTPError(message, status=state.last_error_status)
    return DiscoveryError(message)
