"""The keeper: refresh each provider's model list when it falls due, forever or once.

Rules (see :class:`Keeper`):

- **Due**: a provider falls due one period after its last refresh attempt (the newer of its
  list's fetch time and its last recorded failure), less a random jitter of up to ``jitter`` x
  the period drawn once per attempt, so many providers (and many keepers) do not all refresh on
  the same tick. The period is ``every`` when given, else the provider's TTL (at least
  :data:`MIN_PERIOD`). A provider never refreshed is due at once. A failed refresh is an attempt
  too: a dead provider is asked once per period, not once per tick.
- **One refresh per provider across processes and hosts**: a refresh runs under the provider's
  refresh lease (:mod:`~provider_store.discovery.leases`), taken in the same transaction that
  re-reads the cache, so a keeper that finds the lease taken, or the list refreshed meanwhile by
  another keeper, skips the provider until its next due time.
- **What a refresh is**: the discover-and-validate run
  (:func:`~provider_store.discovery.run.run_discovery`) of that provider alone, fetching the
  list even when the cache is fresh; models with a stored recent verdict are not pinged again,
  so only new models are validated.
- **Stopping**: :meth:`Keeper.run` returns within one wait step (at most
  :data:`STOP_STEP` seconds) of ``stop`` being set, even mid-refresh: the refresh goes on in a
  daemon thread and the keeper's lease is given back, so another keeper can take over at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from provider_store.catalog import cache_rows
from provider_store.catalog.cache_rows import CacheState
from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.states import utc_now
from provider_store.discovery import leases
from provider_store.discovery.run import DiscoveryServiceLike, run_discovery
from provider_store.discovery.run_report import DiscoveryOptions, DiscoveryReport
from provider_store.errors import NotFoundError, ProviderStoreError
from provider_store.rules.limits import MAX_SPAN_SECONDS, check_fraction, check_number
from provider_store.rules.spans import span_seconds
from provider_store.suggestions import unknown_provider

logger = logging.getLogger(__name__)

MIN_PERIOD = 1.0  # seconds: the shortest period a keeper refreshes on
DEFAULT_JITTER = 0.1  # up to 10 % of the period earlier
STOP_STEP = 0.1  # seconds between looks at the stop event while a refresh runs
MAX_IDLE = 5.0  # seconds between looks at the catalog (new providers, others' refreshes)

__all__ = ["KeeperRefresh", "Keeper", "due_at", "parse_duration"]


@dataclass(frozen=True)
class KeeperRefresh:
    """One refresh the keeper ran: the provider, how it went and how long it took."""

    provider: str
    ok: bool
    discovered: int
    valid: int
    invalid: int
    inconclusive: int
    seconds: float
    error: str | None = None

    def line(self) -> str:
        """The one log line of this refresh."""
        if self.ok:
            return (
                f"refreshed {self.provider}: {self.discovered} models, {self.valid} valid, "
                f"{self.invalid} invalid, {self.inconclusive} inconclusive "
                f"({self.seconds:.2f} s)"
            )
        return f"refresh of {self.provider} failed: {self.error} ({self.seconds:.2f} s)"


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a span (:func:`~provider_store.rules.spans.span_seconds`) or a
    bare number of seconds.

    ``15m`` is 900; ``1.5`` is 1.5 seconds. Raises ValueError naming the text otherwise.
    """
    value = span_seconds(text)
    if value is None:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError(f"not a duration: {text!r} (e.g. 30s, 15m, 1h)") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"not a positive duration: {text!r}")
    return value


def last_attempt(state: CacheState) -> float | None:
    """When the provider's list was last fetched or last failed to be, if ever."""
    times = [t for t in (state.fetched_at, state.last_error_at) if t is not None]
    return max(times) if times else None


def due_at(state: CacheState, period: float, jitter_offset: float) -> float:
    """When a provider with cache ``state`` next falls due (0.0: now)."""
    attempt = last_attempt(state)
    if attempt is None:
        return 0.0
    return attempt + period - jitter_offset


class Keeper:
    """Keeps the model lists of ``providers`` (default: every provider) fresh.

    ``every`` (seconds) overrides each provider's TTL as its period; ``jitter`` is the fraction
    of the period a refresh may come early; ``validate`` pings new models; ``deadline`` bounds
    one refresh. ``on_refresh`` is called with each :class:`KeeperRefresh` (from the keeper's
    thread). The store and the service stay the caller's to close.
    """

    def __init__(
        self,
        store: CatalogStore,
        service: DiscoveryServiceLike,
        *,
        providers: Sequence[str] = (),
        every: float | None = None,
        jitter: float = DEFAULT_JITTER,
        validate: bool = True,
        deadline: float | None = None,
        concurrency: int | None = None,
        per_provider: int | None = None,
        on_refresh: Callable[[KeeperRefresh], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        jitter = check_fraction(jitter, field="jitter")
        if every is not None:
            every = check_number(every, field="every", low=0, low_open=True, high=MAX_SPAN_SECONDS)
        self.store = store
        self.service = service
        self.providers = list(providers)
        self.every = every
        self.jitter = jitter
        self.options = replace(
            DiscoveryOptions.build(
                validate=validate,
                deadline=deadline,
                concurrency=concurrency,
                per_provider=per_provider,
            ),
            refresh_list=True,
        )
        self.on_refresh = on_refresh
        self._rng = rng or random.Random()
        # Per provider: (the attempt the offset was drawn for, the offset).
        self._offsets: dict[str, tuple[float | None, float]] = {}
        # Per provider: not due before this time, whatever the catalog says (a refresh this
        # keeper ran that recorded nothing, e.g. a missing key; a lease held elsewhere).
        self._not_before: dict[str, float] = {}
        self._held: dict[str, str] = {}  # provider -> lease holder id, while refreshing
        self._held_lock = threading.Lock()

    # -- scheduling ---------------------------------------------------------------------------

    def targets(self) -> list[str]:
        """The provider keys kept: the ones named (each must exist), else every provider."""
        keys = self.store.rows.provider_keys()
        if not self.providers:
            return keys
        missing = [name for name in self.providers if name not in keys]
        if missing:
            raise NotFoundError(str(unknown_provider(missing[0], keys)))
        return list(dict.fromkeys(self.providers))

    def period(self, state: CacheState) -> float:
        """The refresh period of a provider with cache ``state``."""
        if self.every is not None:
            return max(MIN_PERIOD, self.every)
        return max(MIN_PERIOD, float(state.ttl_seconds))

    def next_due(self, key: str, state: CacheState) -> float:
        """When ``key`` next falls due, with its jitter for this attempt."""
        attempt = last_attempt(state)
        period = self.period(state)
        drawn = self._offsets.get(key)
        if drawn is None or drawn[0] != attempt:
            drawn = (attempt, self._rng.uniform(0.0, self.jitter * period))
            self._offsets[key] = drawn
        return max(due_at(state, period, drawn[1]), self._not_before.get(key, 0.0))

    def _states(self, keys: list[str]) -> dict[str, CacheState]:
        states: dict[str, CacheState] = {}
        with self.store.read() as session:
            for key in keys:
                try:
                    states[key] = cache_rows.read_cache(session, key)
                except NotFoundError:
                    continue  # deleted meanwhile
        return states

    # -- running ------------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> list[KeeperRefresh]:
        """Refresh every targeted provider that is due now; the refreshes run."""
        stop = stop or threading.Event()
        done: list[KeeperRefresh] = []
        keys = self.targets()
        states = self._states(keys)
        now = utc_now()
        due = [key for key in keys if key in states and self.next_due(key, states[key]) <= now]
        for key in due:
            if stop.is_set():
                break
            refresh = self.refresh(key, stop)
            if refresh is not None:
                done.append(refresh)
        return done

    def run(self, stop: threading.Event) -> None:
        """Refresh providers as they fall due until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.run_once(stop)
                wait = self._seconds_to_next_due()
            except ProviderStoreError as exc:
                logger.warning("keeper: %s; trying again shortly", exc)
                wait = MAX_IDLE
            stop.wait(max(0.01, min(wait, MAX_IDLE)))

    def _seconds_to_next_due(self) -> float:
        keys = self.targets()
        states = self._states(keys)
        if not states:
            return MAX_IDLE
        soonest = min(self.next_due(key, state) for key, state in states.items())
        return soonest - utc_now()

    def refresh(self, key: str, stop: threading.Event | None = None) -> KeeperRefresh | None:
        """Refresh ``key`` now if it is still due and nobody else is refreshing it.

        None when it was skipped (refreshed meanwhile, leased elsewhere, deleted, or ``stop``
        was set before the refresh finished).
        """
        holder = self._claim(key)
        if holder is None:
            return None
        outcome: list[KeeperRefresh] = []
        worker = threading.Thread(
            target=self._refresh_leased,
            args=(key, holder, outcome),
            name=f"ps-keeper-{key}",
            daemon=True,
        )
        worker.start()
        while worker.is_alive():
            if stop is not None and stop.wait(STOP_STEP):
                self.release_all()
                return None
            if stop is None:
                worker.join(STOP_STEP)
        if not outcome:
            return None
        refresh = outcome[0]
        logger.info("%s", refresh.line())
        if self.on_refresh is not None:
            self.on_refresh(refresh)
        return refresh

    def _claim(self, key: str) -> str | None:
        """Take ``key``'s lease if it is still due; the holder id, or None."""
        holder = leases.new_holder_id()
        seconds = leases.LEASE_SECONDS  # renewed while the refresh runs (a heartbeat)
        try:
            with self.store.transaction() as session:
                now = utc_now()
                won = leases.try_acquire(session, key, holder, seconds=seconds, now=now)
                state = cache_rows.read_cache(session, key)  # read after the row is locked
                if not won:
                    logger.debug("keeper: %s is being refreshed elsewhere", key)
                    self._not_before[key] = now + min(self.period(state), MAX_IDLE)
                    return None
                if self.next_due(key, state) > now:
                    leases.release(session, key, holder)
                    logger.debug("keeper: %s was refreshed meanwhile", key)
                    return None
        except NotFoundError:
            return None
        leases.keep_alive(self.store, key, holder, seconds=seconds)
        with self._held_lock:
            self._held[key] = holder
        return holder

    def _refresh_leased(self, key: str, holder: str, outcome: list[KeeperRefresh]) -> None:
        started = time.perf_counter()
        try:
            config = self.store.rows.get_config(key)
            report = run_discovery({key: config}, self.service, self.options, store=self.store)
            outcome.append(_summary(key, report, time.perf_counter() - started))
        except ProviderStoreError as exc:
            outcome.append(
                KeeperRefresh(key, False, 0, 0, 0, 0, time.perf_counter() - started, str(exc))
            )
        except Exception as exc:  # noqa: BLE001 - one provider's bug must not stop the keeper
            logger.exception("keeper: refresh of %s raised", key)
            outcome.append(
                KeeperRefresh(
                    key, False, 0, 0, 0, 0, time.perf_counter() - started, type(exc).__name__
                )
            )
        finally:
            self._release(key, holder)
            try:
                state = self._states([key]).get(key)
            except ProviderStoreError:
                state = None
            if state is not None:  # asked again one period on, even if nothing was recorded
                self._not_before[key] = utc_now() + self.period(state) * (1 - self.jitter)

    def _release(self, key: str, holder: str) -> None:
        with self._held_lock:
            if self._held.get(key) != holder:
                return
            del self._held[key]
        try:
            with self.store.transaction() as session:
                leases.release(session, key, holder)
        except ProviderStoreError as exc:
            logger.warning("keeper: could not release the refresh lease of %s: %s", key, exc)

    def release_all(self) -> None:
        """Give back every lease this keeper holds (when stopping mid-refresh)."""
        with self._held_lock:
            held = dict(self._held)
        for key, holder in held.items():
            self._release(key, holder)

    @property
    def busy(self) -> bool:
        """True while a refresh holds a lease."""
        with self._held_lock:
            return bool(self._held)


def _summary(key: str, report: DiscoveryReport, seconds: float) -> KeeperRefresh:
    found = next((s for s in report.providers if s.provider == key), None)
    if found is None:
        return KeeperRefresh(key, False, 0, 0, 0, 0, seconds, report.error or "not run")
    return KeeperRefresh(
        key,
        report.ok,
        found.discovered,
        found.valid,
        found.invalid,
        found.inconclusive,
        seconds,
        None if report.ok else (found.error or report.error or "failed"),
    )
