"""Stale-while-revalidate (RFC 5861's meaning) for a provider's discovered model list.

Rules:

- **The window**: for ``window`` seconds past its TTL, a non-empty list is served at once, as
  ``stale``, and one background refresh starts; past the window (or with no list) a read waits
  for the refresh as it always did (:func:`~provider_store.discovery.cache.begin`).
- **Its length**: the call's ``stale_while_revalidate`` when given, else the provider option
  ``stale_while_revalidate``, else the provider's TTL
  (:data:`~provider_store.rules.DEFAULT_STALE_WHILE_REVALIDATE_TTLS`); 0 turns it off. The
  legacy ``discover_models()`` and explicit refreshes always pass 0.
- **One refresh**: the background refresh is started by the reader that takes the provider's
  refresh lease (:mod:`~provider_store.discovery.leases`), so one runs across every process and
  host sharing the catalog; a reader that finds the lease taken just serves the stale list. A
  loose config (no store) is refreshed by one thread of this process at a time.
- **A failed background refresh** keeps the stale list and records the failure, as a failed
  refresh always does (:func:`~provider_store.discovery.cache.finish`).
- **Handed on at exit**: the refresh runs in a daemon thread that waits :data:`GRACE` seconds
  before it fetches, so a short-lived process that got its stale answer exits at once: at exit
  (an ``atexit`` hook), a refresh that has not begun is handed, lease and all, to a detached
  process (:mod:`~provider_store.discovery.handoff`) that refreshes once; one already on the
  network (or one that cannot be handed on) gives its lease back, writing nothing, and the next
  reader in the window or the keeper refreshes. A refresh is never half-written.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from provider_store.catalog.cache_rows import CacheState
from provider_store.catalog.states import utc_now
from provider_store.discovery import cache, handoff, leases
from provider_store.discovery.results import DiscoveryResult
from provider_store.errors import ProviderStoreError
from provider_store.provider_config import ProviderConfig
from provider_store.rules import DEFAULT_STALE_WHILE_REVALIDATE_TTLS

logger = logging.getLogger(__name__)

__all__ = ["GRACE", "Revalidator", "in_window", "window_of"]

# Seconds a background refresh waits before it fetches: a process that exits within them hands
# the refresh on whole (see the module docstring).
GRACE = 0.25


def window_of(config: ProviderConfig, requested: float | None) -> float | None:
    """The stale-while-revalidate window for a read of ``config``'s list, in seconds.

    None stands for the default, which depends on the TTL (see :func:`in_window`).
    """
    if requested is not None:
        return max(0.0, float(requested))
    option = (config.options or {}).get("stale_while_revalidate")
    if isinstance(option, int | float) and not isinstance(option, bool):
        return max(0.0, float(option))
    return None


def in_window(state: CacheState, now: float, window: float | None) -> bool:
    """True when ``state`` holds a list past its TTL but within ``window`` seconds of it
    (``window`` None: :data:`DEFAULT_STALE_WHILE_REVALIDATE_TTLS` times the TTL)."""
    ttl = state.ttl_seconds
    seconds = ttl * DEFAULT_STALE_WHILE_REVALIDATE_TTLS if window is None else window
    if not state.models or state.fetched_at is None or seconds <= 0:
        return False
    age = now - state.fetched_at
    return ttl <= age < ttl + seconds


class Revalidator:
    """Serves stale lists within their window and runs the background refreshes.

    ``refresh(backend, step)`` fetches and finishes one refresh (the lease, when ``step`` holds
    one, is given back by it); it runs in a daemon thread of its own, and when the process exits
    first, :meth:`hand_on` gives its lease back (see the module docstring).
    """

    def __init__(
        self,
        refresh: Callable[[cache.CacheBackend, cache.Step], Any],
        *,
        grace: float = GRACE,
    ) -> None:
        self._refresh = refresh
        self.grace = grace
        self._lock = threading.Lock()
        self._running: dict[object, threading.Thread | None] = {}
        # Per running refresh: its backend and step, and whether it may still be handed on
        # (set when it is handed on or begins to fetch, whichever comes first).
        self._steps: dict[object, tuple[cache.CacheBackend, cache.Step, threading.Event]] = {}
        _REVALIDATORS.add(self)

    def serve(self, backend: cache.CacheBackend, window: float | None) -> DiscoveryResult | None:
        """The stale list at once (starting one refresh), or None outside the window."""
        state = backend.load()
        now = utc_now()
        if not in_window(state, now, window):
            return None
        cache.mirror(backend.config, state.models or [], state.fetched_at, state.ttl_seconds)
        stale = cache.served(state, now)
        token = _token(backend)
        with self._lock:
            if token in self._running:
                return stale  # this process is refreshing it already
            self._running[token] = None  # reserved while the lease is claimed
        try:
            step = backend.claim(serve_stale=True)
        except ProviderStoreError as exc:
            logger.warning("refresh lease of %s unavailable (%s)", _name(backend), exc)
            self._done(token)
            return stale
        if step.result is not None:  # refreshed meanwhile, or being refreshed elsewhere
            self._done(token)
            result = step.result
            cache.mirror(backend.config, result.models, step.state.fetched_at, state.ttl_seconds)
            return result
        decided = threading.Event()
        thread = threading.Thread(
            target=self._run,
            args=(backend, step, token, decided),
            name=f"ps-revalidate-{_name(backend)}",
            daemon=True,
        )
        with self._lock:
            self._running[token] = thread
            self._steps[token] = (backend, step, decided)
        logger.debug("serving the stale list of %s; refreshing it in the background", token)
        thread.start()
        return stale

    def _run(
        self,
        backend: cache.CacheBackend,
        step: cache.Step,
        token: object,
        decided: threading.Event,
    ) -> None:
        if decided.wait(self.grace):
            return  # handed on at exit
        with self._lock:
            if decided.is_set():
                return
            decided.set()  # fetching here from now on
        try:
            self._refresh(backend, step)
        except Exception:  # noqa: BLE001 - a background refresh must not die silently
            logger.exception("background refresh of %s raised", _name(backend))
            backend.release(step)
        finally:
            self._done(token)

    def _done(self, token: object) -> None:
        with self._lock:
            self._running.pop(token, None)
            self._steps.pop(token, None)

    def hand_on(self) -> int:
        """Hand every background refresh still running on (called at interpreter exit): one
        that has not begun to a detached process, with its lease; one on the network gives its
        lease back, writing nothing. How many were handed to a process."""
        with self._lock:
            steps = []
            for backend, step, decided in self._steps.values():
                steps.append((backend, step, not decided.is_set()))
                decided.set()
            self._steps.clear()
        spawned = 0
        for backend, step, waiting in steps:
            url = getattr(getattr(backend, "store", None), "url", None)
            key = getattr(backend, "key", None)
            if (
                waiting
                and isinstance(url, str)
                and isinstance(key, str)
                and step.holder is not None
                and handoff.can_hand_off(url)
                and handoff.spawn(url, key, step.holder)
            ):
                leases.renewer().forget(step.holder)  # renewed by the new process now
                spawned += 1
                continue
            logger.debug("the refresh of %s is given up: its lease is given back", _name(backend))
            backend.release(step)
        return spawned

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background refreshes running now (tests, orderly shutdown)."""
        with self._lock:
            threads = list(self._running.values())
        for thread in threads:
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)


_REVALIDATORS: weakref.WeakSet[Revalidator] = weakref.WeakSet()


@atexit.register
def _hand_on_at_exit() -> None:
    for revalidator in list(_REVALIDATORS):
        revalidator.hand_on()


def _token(backend: cache.CacheBackend) -> object:
    key = getattr(backend, "key", None)
    return key if isinstance(key, str) else id(backend.config)


def _name(backend: cache.CacheBackend) -> str:
    return backend.config.catalog_key or backend.config.name
