"""ModelDiscoveryService: the discovery cache policy (fresh / cache / stale / none) and verdicts.

Where a config's cache and verdicts live is decided in one place,
:meth:`ModelDiscoveryService.store_key`: a service given a store keeps them in the row named by
the config's ``catalog_key`` (set by the store on the configs it loads, and by ``ProviderManager``
on the configs it holds), so a new process answers from the database while the cache is fresh.
A config without a catalog key (a loose legacy config), or a service without a store, keeps the
legacy in-memory cache, the config's ``list_cache``.

Why this module is long: one service answers both legacy calls and their new forms, and each
read passes through the cache policy, stale-while-revalidate and the missing-key rule here.

Rules it follows:

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
- **Verdicts**: pings adapt (:mod:`provider_store.providers.ping`) and are judged from the
  answer and the error body (:mod:`provider_store.discovery.verdicts`); the accepted request
  style is stored per model and sent first next time; a provider problem (rejected key, no
  credit) is recorded on the provider. Every kind pings through the same driver, so the same
  adaptations, pong rule and remembered style apply to all. ``valid`` and ``invalid`` verdicts
  younger than ``revalidate_after`` are reused without a ping; ``inconclusive`` ones are never
  reused. A 2xx that is not an answer of the kind's API (no ``choices[0]``, no ``candidates``
  …) is inconclusive (a gateway page is no refusal). Verdict reuse
  needs a store; a loose config is pinged on every check, as the legacy service did.
- **One refresh per expiry**: a stale store-backed cache is refreshed by the holder of the
  provider's refresh lease only; other callers serve the stale list at once, or wait for the
  holder's result when there is no list (:mod:`provider_store.discovery.cache`). ``force_refresh``
  fetches regardless of the lease.
- **Stale-while-revalidate**: :meth:`discover` answers a list within a window past its TTL at
  once and refreshes it in the background (:mod:`provider_store.discovery.revalidate`); the
  legacy :meth:`discover_models` and explicit refreshes wait for the network as they did.

- **Missing key**: a provider without an API key (none stored, its environment variable unset) is
  never asked: no ``Authorization: Bearer`` with an empty key. Discovery serves what the cache
  holds with a :class:`MissingKeyError` naming the variable; a ping is inconclusive.

The cache policy and its two backends (memory, store) live in
:mod:`provider_store.discovery.cache`, the verdict rules in :mod:`discovery.verdicts`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any, TypeVar

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.records import ValidationResult
from provider_store.catalog.states import Verdict, utc_now
from provider_store.discovery import cache, leases, revalidate
from provider_store.discovery.cache import EMPTY_LIST_TAG as EMPTY_LIST_TAG
from provider_store.discovery.results import DiscoveryResult, Source
from provider_store.discovery.verdicts import REFUSAL_STATUSES as REFUSAL_STATUSES
from provider_store.discovery.verdicts import (
    Judgement,
    is_reusable,
    judge,
    provider_problem,
)
from provider_store.errors import (
    BadResponseError,
    DiscoveryError,
    MissingKeyError,
    NotFoundError,
    OptionsError,
    ProviderStoreError,
)
from provider_store.history.ping_history import record_verdict_history
from provider_store.provider_config import ProviderConfig
from provider_store.providers.base import ConnectionOptions, ProviderKind
from provider_store.providers.client import ProviderClient, scrub
from provider_store.providers.http_responses import parse_retry_after, safe_url
from provider_store.providers.kinds import kind_for
from provider_store.providers.list_pages import without_key_echoes
from provider_store.providers.ping import PingStyle, run_ping
from provider_store.rules import (
    base_url_problem,
    effective_api_key,
    env_var_for,
    is_keyless,
    is_placeholder_key,
)
from provider_store.rules.limits import DEFAULT_REVALIDATE_AFTER

logger = logging.getLogger(__name__)

LEASE_MARGIN = 5.0
_T = TypeVar("_T")

__all__ = [
    "DiscoveryResult",
    "ModelDiscoveryService",
    "Source",
    "ValidationResult",
]


class ModelDiscoveryService:
    """Discovers and validates the models of providers of every kind (``openai``, ``anthropic``,
    ``gemini``; the adapter is picked by the provider's ``kind`` column).

    ``store`` makes the cache and the verdicts durable for configs loaded from it; ``client`` is
    an :class:`~ProviderClient` (one is created, and closed by :meth:`close`,
    when not given). Safe to use from several threads at once. A stale store-backed cache is
    refreshed by one caller at a time across processes (see :mod:`discovery.cache`):
    ``lease_seconds`` (default :data:`~provider_store.discovery.leases.LEASE_SECONDS`) bounds
    how long a crashed refresher blocks others (a live one renews its lease while it works),
    ``wait_seconds`` (default: the client's deadline plus a margin) how long a caller without
    any list waits for another process's refresh.
    """

    def __init__(
        self,
        store: CatalogStore | None = None,
        *,
        client: ProviderClient | None = None,
        revalidate_after: float = DEFAULT_REVALIDATE_AFTER,
        lease_seconds: float | None = None,
        wait_seconds: float | None = None,
    ) -> None:
        self.store = store
        self._owns_client = client is None
        self.client = client if client is not None else ProviderClient()
        self.revalidate_after = revalidate_after
        # A refresh lease is short and renewed while its holder works (a heartbeat, see
        # discovery/leases.py); a waiter waits as long as a live refresh may take.
        self.lease_seconds = lease_seconds if lease_seconds is not None else leases.LEASE_SECONDS
        self.wait_seconds = (
            wait_seconds if wait_seconds is not None else self.client.deadline + LEASE_MARGIN
        )
        self._revalidator = revalidate.Revalidator(self._refresh)

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
        return self.discover(config, force_refresh=force_refresh, stale_while_revalidate=0).models

    def validate_model(self, config: ProviderConfig, model: str) -> bool:
        """Legacy name: True iff the model answers the ping with "pong" (or a recent verdict does).

        New code calls :meth:`check_model`, which gives the verdict (valid / invalid /
        inconclusive) and its reason. Not to be confused with ``ProviderManager.validate_model``,
        which resolves a name and pings nothing (its new name is ``resolve_model``).
        """
        return self.check_model(config, model).verdict is Verdict.VALID

    def validate_api_key(self, config: ProviderConfig) -> bool:
        """True when a usable key is set (a blank or ``…not-configured`` placeholder is not)."""
        return not is_placeholder_key(self._api_key(config))

    # -- discovery ----------------------------------------------------------------------------

    def discover(
        self,
        config: ProviderConfig,
        *,
        force_refresh: bool = False,
        wait_for_refresh: bool = False,
        on_listed: Callable[[list[dict[str, Any]]], None] | None = None,
        stale_while_revalidate: float | None = None,
    ) -> DiscoveryResult:
        """Models with their source (fresh, cache, stale, none) and the failure if any.

        Within ``stale_while_revalidate`` seconds past the TTL (default: the provider option of
        that name, else the TTL again; 0: off) the stale list is answered
        at once and one background refresh starts (:mod:`~provider_store.discovery.revalidate`);
        not with ``force_refresh`` or ``wait_for_refresh``. ``on_listed`` is called with a
        freshly fetched, accepted list before it is stored.

        When another process holds the refresh lease, the stale list is served at once, unless
        ``wait_for_refresh`` asks to wait (bounded) for that process's result, as an explicit
        refresh does. A provider without an API key is not asked (the result carries a
        :class:`MissingKeyError` naming the variable to set). Never raises: network and database
        trouble end up in the result (and the log).
        """
        backend = self._backend(config)
        window = revalidate.window_of(config, stale_while_revalidate)
        if window != 0 and not force_refresh and not wait_for_refresh:
            try:
                early = self._revalidator.serve(backend, window)
            except ProviderStoreError as exc:
                logger.debug("stale-while-revalidate skipped (%s)", exc.__class__.__name__)
                early = None
            if early is not None:
                return early
        try:
            step = cache.begin(
                backend, force_refresh=force_refresh, wait_for_refresh=wait_for_refresh
            )
        except NotFoundError:
            # Removed from the catalog meanwhile: no row to share a lease on or save to; the
            # caller's config is answered from memory, as a loose config is.
            logger.warning("provider %s is no longer in the catalog", config.catalog_key)
            backend = cache.MemoryBackend(config)
            step = cache.begin(
                backend, force_refresh=force_refresh, wait_for_refresh=wait_for_refresh
            )
        except ProviderStoreError as exc:
            # Never fetched around the lease, and never "fresh" when it could not be saved:
            # what the config holds is served with the failure.
            logger.warning("discovery cache of %s unreadable: %s", config.catalog_key, exc)
            held = cache.MemoryBackend(config).load()
            return cache.stale_or_none(held, cache.unavailable(exc))
        if step.result is not None:
            return step.result
        return self._refresh(backend, step, on_listed)

    def _refresh(
        self,
        backend: cache.CacheBackend,
        step: cache.Step,
        on_listed: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> DiscoveryResult:
        """Fetch the list for ``step`` (decided by cache.begin) and record what was learnt."""
        config = backend.config
        missing = self.missing_key(config)
        if missing is not None:
            backend.release(step)
            logger.warning("%s", missing)
            return cache.stale_or_none(step.state, missing)
        try:
            outcome = self._fetch(config)
        except BaseException:
            backend.release(step)
            raise
        text = self._error_text(outcome, config) if isinstance(outcome, DiscoveryError) else ""
        return cache.finish(backend, step, outcome, text, listed=on_listed)

    def join_background(self, timeout: float | None = None) -> None:
        """Wait for the background refreshes (stale-while-revalidate) running now."""
        self._revalidator.join(timeout)

    def missing_key(self, config: ProviderConfig) -> MissingKeyError | None:
        """The error naming the variable to set when ``config`` has no usable API key
        (never for a provider keyless on purpose, option ``no_key``)."""
        if is_keyless(config.options) or self.validate_api_key(config):
            return None
        key = config.catalog_key
        if key is None:
            return MissingKeyError(f"Skipping provider {config.name}: no API key")
        return MissingKeyError(f"Skipping provider {key}: no API key; set ${env_var_for(key)}")

    def store_key(self, config: ProviderConfig) -> str | None:
        """The provider row that keeps ``config``'s discovery cache and verdicts, or None.

        The config's ``catalog_key`` when this service has a store; None (the in-memory cache,
        no verdict reuse) for a service without a store or a config without a catalog key.
        """
        return config.catalog_key if self.store is not None else None

    def _backend(self, config: ProviderConfig) -> cache.CacheBackend:
        key = self.store_key(config)
        if self.store is None or key is None:
            return cache.MemoryBackend(config)
        return cache.StoreBackend(
            self.store,
            config,
            key,
            lease_seconds=self.lease_seconds,
            wait_seconds=self.wait_seconds,
        )

    def _fetch(self, config: ProviderConfig) -> list[dict[str, Any]] | DiscoveryError:
        api_key = self._api_key(config)
        try:
            kind, options = self._kind(config)
            listed = kind.list_models(config.base_api_url, api_key, options)
            return without_key_echoes(safe_url(config.base_api_url), listed, api_key)
        except DiscoveryError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - discovery never raises to its caller
            error = BadResponseError(
                scrub(f"unexpected {exc.__class__.__name__} while listing models", api_key)
            )
        logger.warning(
            "model discovery for %s failed: %s",
            config.catalog_key or config.name,
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
        stored: Mapping[str, ValidationResult] | None = None,
    ) -> ValidationResult:
        """The model's verdict: a stored one younger than ``revalidate_after``, else a new ping.

        ``record=True`` stores a new verdict on the model's row in a short transaction of its own;
        with ``record=False`` the caller stores it later (``store.rows.record_verdicts``).
        ``stored`` is the provider's stored verdicts when the caller read them already (one
        query for a whole run instead of one per model).
        """
        key = self.store_key(config)
        store = self.store if key is not None else None
        previous: ValidationResult | None = None
        if store is not None and key is not None:
            if stored is None:
                stored = _guard(key, lambda: store.rows.load_verdicts(key, models=[model]))
            previous = (stored or {}).get(model)
            if (
                previous is not None
                and not force
                and is_reusable(previous, self.revalidate_after, utc_now())
            ):
                return replace(previous, reused=True)
        missing = self.missing_key(config)
        if missing is not None:
            return ValidationResult(model, Verdict.INCONCLUSIVE, str(missing), utc_now())
        api_key = self._api_key(config)
        style = PingStyle.decode(previous.ping_style if previous is not None else None)
        ping_started = time.perf_counter()
        try:
            kind, options = self._kind(config)
            outcome = run_ping(
                lambda tried: kind.ping_request(
                    config.base_api_url, api_key, model, options, tried
                ),
                kind.read_answer,
                lambda request: self.client.send_ping(request, api_key),
                style=style,
                may_wait=self._may_wait,
                is_quota_problem=lambda status, facts: provider_problem(status, facts) is not None,
            )
            judgement = judge(outcome)
            accepted = outcome.accepted_style
            ping_style = accepted.encode() if accepted is not None else None
        except OptionsError as exc:
            judgement = Judgement(Verdict.INCONCLUSIVE, str(exc))
            ping_style = None
        except Exception as exc:  # noqa: BLE001 - validation never raises to its caller
            judgement = Judgement(Verdict.INCONCLUSIVE, f"unexpected {exc.__class__.__name__}")
            ping_style = None
        latency_ms = (time.perf_counter() - ping_started) * 1000.0
        problem = scrub(judgement.problem, api_key) if judgement.problem else None
        result = ValidationResult(
            model,
            judgement.verdict,
            scrub(judgement.reason, api_key),
            utc_now(),
            ping_style=ping_style,
            problem=problem,
            latency_ms=latency_ms,
        )
        logger.debug(
            "ping %s model %s: %s (%s)", key or config.name, model, result.verdict, result.reason
        )
        if store is not None and key is not None and record:
            _guard(key, lambda: self._record(store, key, result))
        return result

    @staticmethod
    def _record(store: CatalogStore, key: str, result: ValidationResult) -> None:
        """Store a verdict, and the provider problem it revealed or cleared, in one transaction."""
        with store.transaction() as session:
            record_verdict_history(session, key, [result])  # events + observation, same txn
            store.rows.record_verdicts(key, [result], session=session)
            if result.problem is not None:
                store.rows.set_problem(key, result.problem, at=result.checked_at, session=session)
            elif result.verdict is not Verdict.INCONCLUSIVE:
                store.rows.set_problem(key, None, session=session)

    def _may_wait(self, retry_after: str) -> bool:
        """Wait out a rate limit's ``Retry-After`` when it fits the client's limits."""
        seconds = parse_retry_after(retry_after)
        if seconds is None or seconds > self.client.max_retry_after:
            return False
        if seconds >= self.client.deadline:
            return False
        logger.debug("rate limited; retrying the ping in %.2f s", seconds)
        time.sleep(seconds)
        return True

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _api_key(config: ProviderConfig) -> str:
        key = config.catalog_key
        return effective_api_key(key, config.api_key) if key is not None else config.api_key

    def _kind(self, config: ProviderConfig) -> tuple[ProviderKind, ConnectionOptions]:
        """The provider's kind (by its ``kind`` column) and checked connection options.

        The base URL is checked again (a row written before a rule existed): OptionsError
        names what is wrong and nothing is sent.
        """
        kind, options = (
            kind_for(config.kind, self.client),
            ConnectionOptions.from_mapping(config.options),
        )
        problem = base_url_problem(config.base_api_url, allow_link_local=options.allow_link_local)
        if problem is not None:
            raise OptionsError(problem, field="base_api_url")
        return kind, options

    def _error_text(self, error: DiscoveryError, config: ProviderConfig) -> str:
        return scrub(f"{error.__class__.__name__}: {error}", self._api_key(config))


def _guard(key: str, call: Callable[[], _T]) -> _T | None:
    """Run a store call; database trouble is logged, never raised to the caller."""
    try:
        return call()
    except ProviderStoreError as exc:
        logger.warning("catalog update for %s failed: %s", key, exc)
        return None
