"""Concurrent discover-and-validate across providers, and the per-provider report it returns.

Rules (see :func:`run_discovery`):

- Providers are discovered in parallel; each provider's pings run in parallel on one shared pool.
  In-flight pings are bounded globally (``concurrency``) and per provider (``per_provider``), and
  the whole run has a ``deadline``, a wall-clock promise: every HTTP exchange of the run is cut
  off at it, however slowly the provider drips its answer. Work still pending at the deadline
  counts as inconclusive (pings) or failed (a provider whose model list did not arrive; its
  stale list is still served).
- A provider whose discovery did not give fresh data (stale cache or nothing) is failed: it is not
  pinged (a dead provider costs one ``/models`` timeout, not one per model) and its ``valid_models``
  and ``invalid_models`` stay untouched.
- Ids already in ``invalid_models`` stay invalid without a ping. A ``valid`` verdict merges the id
  into ``valid_models``; an ``invalid`` one moves it to ``invalid_models`` (and out of
  ``valid_models``); an ``inconclusive`` one leaves the model where it was.
- Persisting is one short transaction after all network work, and only when every targeted
  provider succeeded: ``save_config`` for each, plus the new (not reused) verdicts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import ParamSpec, Protocol, TypeVar

from sqlmodel import Session

from provider_store.catalog.records import ValidationResult
from provider_store.catalog.store import CatalogStore
from provider_store.catalog.tables import Verdict
from provider_store.discovery.report import (
    FAILED,
    OK,
    SKIPPED,
    DiscoveryOptions,
    DiscoveryReport,
    Phase,
    ProgressCallback,
    ProgressEvent,
    ProviderSummary,
)
from provider_store.discovery.results import DiscoveryResult, Source
from provider_store.provider_config import ProviderConfig
from provider_store.providers.deadline import deadline_scope
from provider_store.suggestions import unknown_provider

logger = logging.getLogger(__name__)

# Seconds the run waits past the deadline for workers to hand in their results: every HTTP call
# ends at the deadline (see _within), the grace covers serving the stale list after it.
_GRACE = 1.0
_P = ParamSpec("_P")
_T = TypeVar("_T")


class DiscoveryServiceLike(Protocol):
    """What the orchestration needs of :class:`~ModelDiscoveryService`."""

    def discover(
        self, config: ProviderConfig, *, force_refresh: bool = False, wait_for_refresh: bool = False
    ) -> DiscoveryResult:
        """Models of one provider, with where they came from."""

    def validate_api_key(self, config: ProviderConfig) -> bool:
        """True when the config has a usable key."""

    def check_model(
        self, config: ProviderConfig, model: str, *, force: bool = False, record: bool = True
    ) -> ValidationResult:
        """One model's verdict."""


@dataclass
class _Outcome:
    """One provider's network results, written by its worker until the run closes it."""

    key: str
    result: DiscoveryResult | None = None
    ids: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    verdicts: dict[str, ValidationResult] = field(default_factory=dict)
    problem: str | None = None  # a provider problem a ping revealed; the other pings stop
    error: str | None = None
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


def run_discovery(
    providers: Mapping[str, ProviderConfig],
    service: DiscoveryServiceLike,
    options: DiscoveryOptions,
    *,
    store: CatalogStore | None = None,
    provider: str | None = None,
    progress: ProgressCallback | None = None,
) -> DiscoveryReport:
    """Discover and validate ``providers`` (or only ``provider``) and update them in place.

    Providers without a usable key (stored or ``{KEY}_API_KEY``) are skipped with a log message.
    With a ``store``, the results are saved when every targeted provider succeeded.
    """
    started = time.perf_counter()
    notify = _safe(progress)
    if provider is not None:
        key = _match_key(providers, provider)
        if key is None:
            error = str(unknown_provider(provider, providers))
            logger.warning("%s", error)
            return DiscoveryReport(ok=False, error=error)
        targets = [key]
    else:
        targets = list(providers)

    summaries: dict[str, ProviderSummary] = {}
    runnable: list[str] = []
    for key in targets:
        if service.validate_api_key(providers[key]):
            runnable.append(key)
        else:
            logger.warning(
                "Skipping provider %s: no API key (stored or $%s_API_KEY)", key, key.upper()
            )
            summaries[key] = ProviderSummary(key, SKIPPED, error="no API key")
            notify(ProgressEvent(key, Phase.DONE, summary=summaries[key]))

    outcomes = _run_network(providers, runnable, service, options, notify, started)
    for key in runnable:
        summaries[key] = _apply(providers[key], outcomes[key], options.validate)
        notify(ProgressEvent(key, Phase.DONE, summary=summaries[key]))

    report = DiscoveryReport(providers=[summaries[key] for key in targets])
    report.ok = all(summary.ok for summary in report.providers)
    if store is not None and report.ok and runnable:
        with store.transaction() as session:
            for key in runnable:
                store.save_config(key, providers[key], session=session)
                fresh = [v for v in outcomes[key].verdicts.values() if not v.reused]
                if fresh:
                    store.record_verdicts(key, fresh, session=session)
                _record_problem(store, key, outcomes[key], fresh, session)
        report.persisted = True
    elif store is not None and not report.ok:
        failed = [s.provider for s in report.providers if not s.ok]
        logger.warning("Not saving discovery results: failed providers %s", ", ".join(failed))
    report.seconds = time.perf_counter() - started
    return report


def _safe(progress: ProgressCallback | None) -> ProgressCallback:
    """The callback, with its exceptions logged instead of breaking a provider's run."""

    def notify(event: ProgressEvent) -> None:
        if progress is None:
            return
        try:
            progress(event)
        except Exception:  # noqa: BLE001 - a display problem must not fail discovery
            logger.exception("progress callback failed for %s", event.provider)

    return notify


def _match_key(providers: Mapping[str, ProviderConfig], wanted: str) -> str | None:
    if wanted in providers:
        return wanted
    return next((key for key in providers if key.lower() == wanted.lower()), None)


def _run_network(
    providers: Mapping[str, ProviderConfig],
    keys: list[str],
    service: DiscoveryServiceLike,
    options: DiscoveryOptions,
    notify: ProgressCallback,
    started: float,
) -> dict[str, _Outcome]:
    outcomes = {key: _Outcome(key) for key in keys}
    if not keys:
        return outcomes
    deadline_at = started + options.deadline
    pings = ThreadPoolExecutor(options.concurrency, thread_name_prefix="ps-ping")
    discoverers = ThreadPoolExecutor(len(keys), thread_name_prefix="ps-discover")
    try:
        futures = {
            discoverers.submit(
                _one_provider,
                providers[key],
                outcomes[key],
                service,
                options,
                pings,
                deadline_at,
                notify,
            ): key
            for key in keys
        }
        # Workers stop waiting at the deadline themselves; the grace lets them hand in results.
        wait(futures, timeout=max(0.0, deadline_at - time.perf_counter()) + _GRACE)
        for outcome in outcomes.values():
            with outcome.lock:
                outcome.closed = True  # late results from here on are dropped
                if outcome.result is None and outcome.error is None:
                    outcome.error = "deadline exceeded before the model list arrived"
    finally:
        discoverers.shutdown(wait=False, cancel_futures=True)
        pings.shutdown(wait=False, cancel_futures=True)
    return outcomes


def _one_provider(
    config: ProviderConfig,
    outcome: _Outcome,
    service: DiscoveryServiceLike,
    options: DiscoveryOptions,
    pings: ThreadPoolExecutor,
    deadline_at: float,
    notify: ProgressCallback,
) -> None:
    began = time.perf_counter()
    key = outcome.key
    notify(ProgressEvent(key, Phase.DISCOVERING))
    try:
        result = _within(
            deadline_at,
            service.discover,
            config,
            force_refresh=options.force_refresh,
            wait_for_refresh=True,
        )
    except Exception as exc:  # noqa: BLE001 - one provider's bug must not sink the others
        logger.exception("Discovery of %s raised", key)
        with outcome.lock:
            outcome.error = f"{type(exc).__name__} during discovery"
        return
    ids = list(dict.fromkeys(m["id"] for m in result.models if isinstance(m.get("id"), str)))
    known_invalid = set(config.invalid_models)
    todo = [model for model in ids if model not in known_invalid] if options.validate else []
    with outcome.lock:
        if outcome.closed:
            return
        outcome.ids, outcome.todo, outcome.result = ids, todo, result
        outcome.seconds = time.perf_counter() - began
    if not result.ok:
        logger.warning("Discovery of %s failed (%s): %s", key, result.source, result.error)
        return
    if todo:
        _ping_all(config, outcome, todo, service, options, pings, deadline_at, notify)
    with outcome.lock:
        if not outcome.closed:
            outcome.seconds = time.perf_counter() - began


def _within(deadline_at: float, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``call(*args, **kwargs)`` with every HTTP exchange it makes ended by ``deadline_at``."""
    with deadline_scope(deadline_at - time.perf_counter()):
        return call(*args, **kwargs)


def _ping_all(
    config: ProviderConfig,
    outcome: _Outcome,
    todo: list[str],
    service: DiscoveryServiceLike,
    options: DiscoveryOptions,
    pings: ThreadPoolExecutor,
    deadline_at: float,
    notify: ProgressCallback,
) -> None:
    key = outcome.key
    slots = threading.BoundedSemaphore(options.per_provider)
    lock = threading.Lock()
    submitted: dict[Future[ValidationResult], str] = {}
    notify(ProgressEvent(key, Phase.VALIDATING, 0, len(todo)))

    def finished(future: Future[ValidationResult]) -> None:
        slots.release()
        if future.cancelled():
            return
        with lock:
            done = sum(1 for f in submitted if f.done())
        notify(ProgressEvent(key, Phase.VALIDATING, done, len(todo)))

    stop = threading.Event()

    def watch(future: Future[ValidationResult]) -> None:
        if future.done() and not future.cancelled() and future.exception() is None:
            if future.result().problem is not None:
                stop.set()  # a rejected key or no credit: the other pings would fail alike

    for index, model in enumerate(todo):
        if stop.is_set():
            break
        if not slots.acquire(timeout=max(0.0, deadline_at - time.perf_counter())):
            break
        if stop.is_set():
            slots.release()
            break
        try:
            future = pings.submit(
                _within,
                deadline_at,
                service.check_model,
                config,
                model,
                force=options.force_refresh,
                record=False,
            )
        except RuntimeError:  # the pool was shut down at the deadline
            slots.release()
            break
        with lock:
            submitted[future] = model
        future.add_done_callback(watch)
        future.add_done_callback(finished)
        if index == 0:
            # The first ping goes alone: a provider problem then costs one request, not one
            # per model.
            wait([future], timeout=max(0.0, deadline_at - time.perf_counter()))
            watch(future)  # done callbacks may still be running when wait() returns
    pending = set(submitted)
    while pending:
        done, pending = wait(
            pending,
            timeout=max(0.0, deadline_at - time.perf_counter()),
            return_when=FIRST_COMPLETED,
        )
        if not done:
            break
    verdicts: dict[str, ValidationResult] = {}
    for future, model in submitted.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            verdicts[model] = future.result()
        elif future.done() and not future.cancelled():
            logger.warning("Validating %s/%s raised %r", key, model, future.exception())
    problems = [v.problem for v in verdicts.values() if v.problem is not None and not v.reused]
    with outcome.lock:
        if not outcome.closed:
            outcome.verdicts = verdicts
            outcome.problem = problems[0] if problems else None


def _apply(config: ProviderConfig, outcome: _Outcome, validate: bool) -> ProviderSummary:
    result = outcome.result
    if result is None or not result.ok:
        error = outcome.error
        if result is not None and result.error is not None:
            error = f"{type(result.error).__name__}: {result.error}"
        return ProviderSummary(
            outcome.key,
            FAILED,
            discovered=len(outcome.ids),
            source=result.source if result is not None else Source.NONE,
            error=error or "discovery failed",
            seconds=outcome.seconds,
        )
    ids = outcome.ids
    counts = dict.fromkeys(Verdict, 0)
    if validate:
        known_invalid = set(config.invalid_models)
        invalid = [m for m in ids if m in known_invalid or _is(outcome, m, Verdict.INVALID)]
        valid = [m for m in ids if _is(outcome, m, Verdict.VALID)]
        for model in invalid:
            config.valid_models.pop(model, None)
        config.invalid_models = invalid
        config.merge_valid_models(valid)
        counts[Verdict.INVALID] = len(invalid)
        counts[Verdict.VALID] = len(valid)
        # A model without a verdict (the deadline came first) is inconclusive too.
        counts[Verdict.INCONCLUSIVE] = sum(
            1
            for model in outcome.todo
            if model not in outcome.verdicts
            or outcome.verdicts[model].verdict is Verdict.INCONCLUSIVE
        )
    return ProviderSummary(
        outcome.key,
        OK,
        discovered=len(ids),
        valid=counts[Verdict.VALID],
        invalid=counts[Verdict.INVALID],
        inconclusive=counts[Verdict.INCONCLUSIVE],
        source=result.source,
        problem=outcome.problem,
        seconds=outcome.seconds,
    )


def _record_problem(
    store: CatalogStore,
    key: str,
    outcome: _Outcome,
    fresh: list[ValidationResult],
    session: Session,
) -> None:
    """Store the provider problem this run saw, or clear an old one once a ping got through."""
    if outcome.problem is not None:
        store.set_problem(key, outcome.problem, session=session)
    elif any(v.verdict is not Verdict.INCONCLUSIVE for v in fresh):
        store.set_problem(key, None, session=session)


def _is(outcome: _Outcome, model: str, verdict: Verdict) -> bool:
    found = outcome.verdicts.get(model)
    return found is not None and found.verdict is verdict
