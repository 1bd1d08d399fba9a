"""ModelDiscoveryService: the discovery cache policy (fresh / cache / stale / none) and verdicts.

A config loaded from a store (``config._provider_key`` set) and a service given that store keep
the cache in the provider's columns, so a new process answers from the database while the cache
is fresh. A loose config keeps the legacy in-memory cache on its private attributes.

Rules where the issue left a choice:

- **Freshness** (legacy rule): a cache is fresh when its list is non-empty and younger than the
  provider's TTL. An empty list is never fresh, so every call asks the provider again.
- **Garbage never replaces a good list**: a failed refresh (connection, timeout, non-2xx,
  non-JSON, no ``data`` list, an item without a string ``id``, an oversize body, a redirect to
  another host) serves the last good list as ``stale`` and records the failure on the provider.
- **Empty lists**: a 2xx with an explicit empty ``data`` list is a well-formed answer. When there
  is no cached list it is stored at once. When a non-empty list is cached, the first empty answer
  is treated as suspicious: the old list is served as ``stale`` and the provider's last error says
  so; a second empty answer in a row (no other refresh outcome in between) is accepted and
  replaces the list: the provider is then legitimately empty.
- **Verdicts**: ``valid`` and ``invalid`` verdicts younger than ``revalidate_after`` are reused
  without a ping; ``inconclusive`` ones are never reused. A 2xx whose body has no
  ``choices[0].message`` is inconclusive (a gateway page is no refusal). Verdict reuse needs a
  store; a loose config is pinged on every check, as the legacy service did.
- **One refresh per expiry**: a stale store-backed cache is refreshed by the holder of the
  provider's refresh lease only; other callers serve the stale list at once, or wait for the
  holder's result when there is no list (:mod:`provider_store.refresh`). ``force_refresh``
  fetches regardless of the lease.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Any, TypeVar

from sqlmodel import Session

from provider_store import cache_rows, refresh
from provider_store.cache_rows import CacheState
from provider_store.config import NOT_CONFIGURED_SUFFIX, ProviderConfig, effective_api_key
from provider_store.errors import BadResponseError, DiscoveryError, ProviderStoreError
from provider_store.http import OpenAIClient, PingResult, scrub
from provider_store.results import DiscoveryResult, Source, ValidationResult
from provider_store.store import ProviderStore
from provider_store.tables import Verdict, utc_now

logger = logging.getLogger(__name__)

DEFAULT_REVALIDATE_AFTER = 24 * 3600.0
EMPTY_LIST_TAG = "EmptyModelList"
REFUSAL_STATUSES = frozenset({400, 404, 422})
LEASE_MARGIN = 5.0
_T = TypeVar("_T")

__all__ = [
    "DiscoveryResult",
    "ModelDiscoveryService",
    "Source",
    "ValidationResult",
]


class ModelDiscoveryService:
    """Discovers and validates the models of OpenAI-compatible providers.

    ``store`` makes the cache and the verdicts durable for configs loaded from it; ``client`` is
    an :class:`~provider_store.http.OpenAIClient` (one is created, and closed by :meth:`close`,
    when not given). Safe to use from several threads at once. A stale store-backed cache is
    refreshed by one caller at a time across processes (see :mod:`provider_store.refresh`):
    ``lease_seconds`` (default: the client's deadline plus a margin) bounds how long a crashed
    refresher blocks others, ``wait_seconds`` (default: the lease) how long a caller without any
    list waits for another process's refresh.
    """

    def __init__(
        self,
        store: ProviderStore | None = None,
        *,
        client: OpenAIClient | None = None,
        revalidate_after: float = DEFAULT_REVALIDATE_AFTER,
        lease_seconds: float | None = None,
        wait_seconds: float | None = None,
    ) -> None:
        self.store = store
        self._owns_client = client is None
        self.client = client if client is not None else OpenAIClient()
        self.revalidate_after = revalidate_after
        # A refresh lease outlives the fetch it guards; waiters wait until it would expire.
        self.lease_seconds = (
            lease_seconds if lease_seconds is not None else self.client.deadline + LEASE_MARGIN
        )
        self.wait_seconds = wait_seconds if wait_seconds is not None else self.lease_seconds
        self._lock = threading.Lock()
        # Loose configs that answered one suspicious empty list: id(config) -> weak reference.
        self._empty_strikes: dict[int, weakref.ref[ProviderConfig]] = {}

    def __repr__(self) -> str:
        return f"ModelDiscoveryService(store={self.store!r}, client={self.client!r})"

    def close(self) -> None:
        """Close the HTTP client if this service created it."""
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> ModelDiscoveryService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- legacy calls -------------------------------------------------------------------------

    def discover_models(
        self, config: ProviderConfig, force_refresh: bool = False
    ) -> list[dict[str, Any]]:
        """The model list: fresh cache, else fetched, else the last good list, else ``[]``."""
        return self.discover(config, force_refresh=force_refresh).models

    def validate_model(self, config: ProviderConfig, model: str) -> bool:
        """True iff the model answers the ping with "pong" (or a recent stored verdict says so)."""
        return self.check_model(config, model).verdict is Verdict.VALID

    def validate_api_key(self, config: ProviderConfig) -> bool:
        """True when a usable key is set (a blank or ``…not-configured`` placeholder is not)."""
        key = self._api_key(config).strip()
        return bool(key) and not key.endswith(NOT_CONFIGURED_SUFFIX)

    # -- discovery ----------------------------------------------------------------------------

    def discover(
        self,
        config: ProviderConfig,
        *,
        force_refresh: bool = False,
        wait_for_refresh: bool = False,
    ) -> DiscoveryResult:
        """Models with their source (fresh, cache, stale, none) and the failure if any.

        When another process holds the refresh lease, the stale list is served at once, unless
        ``wait_for_refresh`` asks to wait (bounded) for that process's result, as an explicit
        refresh does. Never raises: network and database trouble end up in the result (and the
        log).
        """
        key = config._provider_key
        if self.store is not None and key is not None:
            try:
                state = self.store.read_cache(key)
            except ProviderStoreError as exc:
                logger.warning(
                    "discovery cache of %s unreadable (%s); using the in-memory cache",
                    key,
                    exc.__class__.__name__,
                )
            else:
                return self._discover_stored(
                    self.store, key, config, state, force_refresh, wait_for_refresh
                )
        return self._discover_memory(config, force_refresh)

    def _discover_stored(
        self,
        store: ProviderStore,
        key: str,
        config: ProviderConfig,
        state: CacheState,
        force_refresh: bool,
        wait_for_refresh: bool,
    ) -> DiscoveryResult:
        _attach(config, state.models or [], state.fetched_at, state.ttl_seconds)
        now = utc_now()
        if not force_refresh and state.is_fresh(now):
            return DiscoveryResult(list(state.models or []), Source.CACHE, None, state.fetched_at)
        holder: str | None = None
        if not force_refresh:
            claimed = self._guard(
                key,
                lambda: refresh.claim(
                    store,
                    key,
                    lease_seconds=self.lease_seconds,
                    wait_seconds=self.wait_seconds,
                    serve_stale=not wait_for_refresh,
                ),
            )
            if claimed is not None:
                state, holder = claimed.state, claimed.holder
                if claimed.result is not None:
                    _attach(config, claimed.result.models, state.fetched_at, state.ttl_seconds)
                    return claimed.result
        try:
            outcome = self._fetch(config)
        except BaseException:
            if holder is not None:
                refresh.release_quietly(store, key, holder)
            raise
        if isinstance(outcome, list) and not outcome and state.models:
            if EMPTY_LIST_TAG not in (state.last_error or ""):
                outcome = _empty_list_error(config.base_api_url)
        if isinstance(outcome, DiscoveryError):
            error, message = outcome, self._error_text(outcome, config)
            status = getattr(outcome, "status", None)
            latest = self._guard(
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
                _attach(config, state.models or [], state.fetched_at, state.ttl_seconds)
            return _stale_or_none(state.models or [], state.fetched_at, error)
        models, fetched_at = outcome, utc_now()
        self._guard(
            key,
            lambda: refresh.finish(
                store, key, holder, lambda s: cache_rows.write_cache(s, key, models, fetched_at)
            ),
        )
        _attach(config, outcome, fetched_at, state.ttl_seconds)
        return DiscoveryResult(list(outcome), Source.FRESH, None, fetched_at)

    def _discover_memory(self, config: ProviderConfig, force_refresh: bool) -> DiscoveryResult:
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
        outcome = self._fetch(config)
        with self._lock:
            ref = self._empty_strikes.pop(id(config), None)
            struck = ref is not None and ref() is config
            if isinstance(outcome, list) and not outcome and cached and not struck:
                self._empty_strikes[id(config)] = weakref.ref(config)
                outcome = _empty_list_error(config.base_api_url)
        if isinstance(outcome, DiscoveryError):
            return _stale_or_none(cached, stamp, outcome)
        fetched_at = utc_now()
        _attach(config, outcome, fetched_at, config._cache_duration)
        return DiscoveryResult(list(outcome), Source.FRESH, None, fetched_at)

    def _fetch(self, config: ProviderConfig) -> list[dict[str, Any]] | DiscoveryError:
        api_key = self._api_key(config)
        try:
            return self.client.list_models(config.base_api_url, api_key)
        except DiscoveryError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - discovery never raises to its caller
            error = BadResponseError(
                scrub(f"unexpected {exc.__class__.__name__} while listing models", api_key)
            )
        logger.warning(
            "model discovery for %s failed: %s",
            config._provider_key or config.name,
            self._error_text(error, config),
        )
        return error

    # -- validation ---------------------------------------------------------------------------

    def check_model(
        self,
        config: ProviderConfig,
        model: str,
        *,
        force: bool = False,
        record: bool = True,
    ) -> ValidationResult:
        """The model's verdict: a stored one younger than ``revalidate_after``, else a new ping.

        ``record=True`` stores a new verdict on the model's row in a short transaction of its own;
        with ``record=False`` the caller stores it later (``store.record_verdicts``).
        """
        key = config._provider_key
        store = self.store if key is not None else None
        if store is not None and key is not None and not force:
            previous = self._guard(key, lambda: store.load_verdicts(key, models=[model]))
            reusable = (previous or {}).get(model)
            if reusable is not None and self._reusable(reusable):
                return replace(reusable, reused=True)
        api_key = self._api_key(config)
        try:
            ping = self.client.ping(config.base_api_url, api_key, model)
            verdict, reason = classify(ping)
        except Exception as exc:  # noqa: BLE001 - validation never raises to its caller
            verdict, reason = Verdict.INCONCLUSIVE, f"unexpected {exc.__class__.__name__}"
        result = ValidationResult(model, verdict, scrub(reason, api_key), utc_now())
        if store is not None and key is not None and record:
            self._guard(key, lambda: store.record_verdicts(key, [result]))
        return result

    def _reusable(self, previous: ValidationResult) -> bool:
        if previous.verdict is Verdict.INCONCLUSIVE:
            return False
        return 0 <= utc_now() - previous.checked_at < self.revalidate_after

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _api_key(config: ProviderConfig) -> str:
        key = config._provider_key
        return effective_api_key(key, config.api_key) if key is not None else config.api_key

    def _error_text(self, error: DiscoveryError, config: ProviderConfig) -> str:
        return scrub(f"{error.__class__.__name__}: {error}", self._api_key(config))

    @staticmethod
    def _guard(key: str, call: Callable[[], _T]) -> _T | None:
        """Run a store call; database trouble is logged, never raised to the caller."""
        try:
            return call()
        except ProviderStoreError as exc:
            logger.warning("catalog update for %s failed: %s", key, exc)
            return None


def classify(ping: PingResult) -> tuple[Verdict, str]:
    """The verdict and reason for a ping's outcome.

    valid: pong; invalid: a 2xx without pong, or 400/404/422 (a definite refusal);
    inconclusive: anything else (timeout, connection error, 401/403, 429, 5xx, garbage 2xx).
    """
    if ping.pong:
        return Verdict.VALID, f"pong (HTTP {ping.status})"
    if ping.error is None:
        return Verdict.INVALID, f"answered without pong: {(ping.content or '')[:80]!r}"
    if ping.status in REFUSAL_STATUSES:
        return Verdict.INVALID, f"refused: {ping.detail}"
    return Verdict.INCONCLUSIVE, ping.detail


def _attach(
    config: ProviderConfig, models: list[dict[str, Any]], fetched_at: float | None, ttl: int
) -> None:
    config._cached_models = list(models)
    config._cache_timestamp = fetched_at or 0.0
    config._cache_duration = ttl


def _empty_list_error(base_url: str) -> BadResponseError:
    return BadResponseError(
        f"{EMPTY_LIST_TAG}: {base_url.rstrip('/')}/models answered an empty list; the previous "
        "list is kept until a second empty answer in a row"
    )


def _stale_or_none(
    models: list[dict[str, Any]], fetched_at: float | None, error: DiscoveryError
) -> DiscoveryResult:
    if models:
        return DiscoveryResult(list(models), Source.STALE, error, fetched_at)
    return DiscoveryResult([], Source.NONE, error, None)


def _record_error_and_reread(
    session: Session, key: str, message: str, status: int | None, at: float
) -> CacheState:
    cache_rows.record_error(session, key, message, status, at)
    return cache_rows.read_cache(session, key)
