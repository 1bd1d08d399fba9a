"""Concurrent discover-and-validate across providers, and the per-provider report it returns.

Rules (see :func:`run_discovery`):

- Providers are discovered in parallel; every provider's pings run on the run's
  :class:`~provider_store.discovery.ping_scheduler.PingScheduler`. In-flight pings are bounded
  globally (``concurrency``) and per provider (``per_provider``), and
  the whole run has a ``deadline``, a wall-clock promise: every HTTP exchange of the run is cut
  off at it, however slowly the provider drips its answer. Work still pending at the deadline
  counts as inconclusive (pings) or failed (a provider whose model list did not arrive; its
  stale list is still served).
- A provider whose discovery did not give fresh data (stale cache or nothing) is failed: it is not
  pinged (a dead provider costs one ``/models`` timeout, not one per model) and its ``valid_models``
  and ``invalid_models`` stay untouched.
- A provider's first ping goes alone, so a rejected key costs one request, not one per model;
  when its model list was fetched in this run with the same key, the key is proven and its
  pings start together.
- Ids already in ``invalid_models`` stay invalid without a ping. A ``valid`` verdict merges the id
  into ``valid_models``; an ``invalid`` one moves it to ``invalid_models`` (and out of
  ``valid_models``); an ``inconclusive`` one leaves the model where it was.
- Verdicts are facts: each provider's new (not reused) verdicts are stored in a short
  transaction of their own as soon as its pings finish, whatever happens to the other providers.
- Pings go first: the hand marks and stored verdicts of every provider are read once, while the
  lists are being fetched, and a database write (a fetched list, a provider's verdicts) waits
  until every ping that could start has started (at most ``_WRITE_PATIENCE``), so this
  process's time goes to sending pings before writing rows.
- The curated lists keep the legacy all-or-nothing rule: they are written in one short
  transaction after all network work, only when every targeted provider succeeded. That write
  re-reads each provider row (locked) and applies only the change this run made to its lists
  (:class:`CuratedChange`); its name, URL and key are never written, so a concurrent import or
  ``save_config`` survives, and a provider deleted meanwhile stays deleted.
- A failed write (cache, verdicts, curated lists) fails the provider, or the run.
- Providers without an API key are skipped with a message naming the variable to set; when every
  targeted provider was skipped the run is not ok.

Why this module is long: the run's rules (bounds, the deadline, what a failed provider keeps,
when verdicts and curated lists are written) are one protocol across threads; split apart, each
part would need the others' locks and futures. The pure parts live elsewhere (run_report.py,
verdicts.py, save_listing.py, ping_scheduler.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.records import ValidationResult
from provider_store.catalog.states import Verdict
from provider_store.discovery.ping_scheduler import PingBatch, PingScheduler
from provider_store.discovery.results import DiscoveryResult, Source
from provider_store.discovery.run_report import (
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
from provider_store.errors import MissingKeyError, NotFoundError, ProviderStoreError
from provider_store.history.ping_history import record_verdict_history
from provider_store.provider_config import ProviderConfig
from provider_store.providers.deadline import deadline_scope
from provider_store.suggestions import unknown_provider

logger = logging.getLogger(__name__)

# Seconds the run waits past the deadline for workers to hand in their results: every HTTP call
# ends at the deadline (see _within), the grace covers serving the stale list after it.
_GRACE = 1.0
# Seconds a list write waits at most for the pings that could start to have started.
_WRITE_PATIENCE = 1.0
_P = ParamSpec("_P")
_T = TypeVar("_T")


class DiscoveryServiceLike(Protocol):
    """What the orchestration needs of :class:`~ModelDiscoveryService`."""

    def discover(
        self,
        config: ProviderConfig,
        *,
        force_refresh: bool = False,
        wait_for_refresh: bool = False,
        on_listed: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> DiscoveryResult:
        """Models of one provider, with where they came from."""

    def missing_key(self, config: ProviderConfig) -> MissingKeyError | None:
        """The error naming the variable to set when the config has no usable key."""

    def check_model(
        self,
        config: ProviderConfig,
        model: str,
        *,
        force: bool = False,
        record: bool = True,
        stored: Mapping[str, ValidationResult] | None = None,
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
    interrupted: bool = False  # Ctrl-C: the worker stores nothing more


@dataclass(frozen=True)
class CuratedChange:
    """What one run changed in a provider's curated lists, to replay on the stored lists."""

    added_valid: dict[str, str]
    removed_valid: list[str]
    added_invalid: list[str]
    removed_invalid: list[str]
    invalid_order: list[str]

    @classmethod
    def between(
        cls, before: tuple[dict[str, str], list[str]], after: ProviderConfig
    ) -> CuratedChange:
        """The change from ``before`` (valid_models, invalid_models) to ``after``'s lists."""
        valid, invalid = before
        return cls(
            added_valid={m: a for m, a in after.valid_models.items() if m not in valid},
            removed_valid=[m for m in valid if m not in after.valid_models],
            added_invalid=[m for m in after.invalid_models if m not in invalid],
            removed_invalid=[m for m in invalid if m not in after.invalid_models],
            invalid_order=list(after.invalid_models),
        )

    def apply(self, config: ProviderConfig) -> None:
        """Replay the change on ``config``'s lists; what the run did not touch stays as it is."""
        for model in self.removed_valid:
            config.valid_models.pop(model, None)
        for model, alias in self.added_valid.items():
            config.valid_models.setdefault(model, alias)
        gone = set(self.removed_invalid)
        members = {m for m in config.invalid_models if m not in gone} | set(self.added_invalid)
        # The run's order first (as the legacy rule writes it), then ids only the store holds.
        ordered = [m for m in self.invalid_order if m in members]
        config.invalid_models = ordered + [
            m for m in config.invalid_models if m in members and m not in set(ordered)
        ]


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
        missing = service.missing_key(providers[key])
        if missing is None:
            runnable.append(key)
        else:
            logger.warning("%s", missing)
            summaries[key] = ProviderSummary(key, SKIPPED, error=str(missing))
            notify(ProgressEvent(key, Phase.DONE, summary=summaries[key]))

    outcomes = _run_network(providers, runnable, service, options, notify, started, store)
    changes: dict[str, CuratedChange] = {}
    lists_changed = False
    for key in runnable:
        config = providers[key]
        before = (dict(config.valid_models), list(config.invalid_models))
        summaries[key] = _apply(config, outcomes[key], options.validate)
        changes[key] = CuratedChange.between(before, config)
        lists_changed = lists_changed or before != (config.valid_models, config.invalid_models)
        notify(ProgressEvent(key, Phase.DONE, summary=summaries[key]))

    report = DiscoveryReport(
        providers=[summaries[key] for key in targets], lists_changed=lists_changed
    )
    report.ok = all(summary.ok for summary in report.providers) and (bool(runnable) or not targets)
    if not runnable and targets:
        report.error = "every provider was skipped: no API key"
    if store is not None and report.ok and runnable:
        report.persisted = _save_curated(store, changes, report)
    elif store is not None and not report.ok and runnable:
        failed = [s.provider for s in report.providers if not s.ok]
        logger.warning("Not saving discovery results: failed providers %s", ", ".join(failed))
    report.seconds = time.perf_counter() - started
    return report


def _save_curated(
    store: CatalogStore, changes: Mapping[str, CuratedChange], report: DiscoveryReport
) -> bool:
    """Replay each provider's curated change on its stored lists, in one short transaction."""
    try:
        with store.transaction() as session:
            appliers = {key: change.apply for key, change in changes.items()}
            for key in store.rows.update_curated_many(appliers, session=session):
                logger.warning("Provider %s was removed meanwhile; not re-created", key)
    except ProviderStoreError as exc:
        logger.warning("Saving discovery results failed: %s", exc)
        report.ok = False
        report.error = f"results could not be saved: {exc}"
        return False
    return True


def _safe(progress: ProgressCallback | None) -> ProgressCallback:
    """The callback, with its exceptions logged instead of breaking a provider's run."""

    def notify(event: ProgressEvent) -> None:
        if progress is None:
            return
        try:
            progress(event)
        except Exception as exc:  # noqa: BLE001 - a display problem must not fail discovery
            # One line; the traceback only when debug logging is on (the CLI's -vv).
            logger.warning(
                "progress callback failed for %s: %s: %s",
                event.provider,
                type(exc).__name__,
                exc,
                exc_info=logger.isEnabledFor(logging.DEBUG),
            )

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
    store: CatalogStore | None,
) -> dict[str, _Outcome]:
    outcomes = {key: _Outcome(key) for key in keys}
    if not keys:
        return outcomes
    deadline_at = started + options.deadline
    scheduler = PingScheduler(options.concurrency, options.per_provider, deadline_at)
    discoverers = ThreadPoolExecutor(len(keys), thread_name_prefix="ps-discover")
    inputs = _Inputs()
    try:
        work = _Work(service, options, scheduler, deadline_at, notify, store, inputs)
        futures = {
            discoverers.submit(_one_provider, providers[key], outcomes[key], work): key
            for key in keys
        }
        # Workers stop waiting at the deadline themselves; the grace lets them hand in results.
        try:
            inputs.load(store, keys)  # while the lists are being fetched
            if options.validate:  # the workers the pings will need, while nothing else runs
                scheduler.prestart(len(keys) * options.per_provider)
            wait(futures, timeout=max(0.0, deadline_at - time.perf_counter()) + _GRACE)
        except KeyboardInterrupt:
            for outcome in outcomes.values():
                with outcome.lock:
                    outcome.closed = outcome.interrupted = True  # workers write nothing more
            raise
        for outcome in outcomes.values():
            with outcome.lock:
                outcome.closed = True  # late results from here on are dropped
                if outcome.result is None and outcome.error is None:
                    outcome.error = "deadline exceeded before the model list arrived"
    finally:
        inputs.give_up()
        scheduler.close()
        discoverers.shutdown(wait=False, cancel_futures=True)
    return outcomes


class _Inputs:
    """What the run reads once for all its providers, while their lists are being fetched: the
    hand-marked models (never pinged) and the stored verdicts (reused, or their ping style sent
    first). A provider's worker waits for them only when its list has arrived."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._marks: dict[str, dict[str, str]] = {}
        self._verdicts: dict[str, dict[str, ValidationResult]] | None = None

    def load(self, store: CatalogStore | None, keys: list[str]) -> None:
        """Read both for ``keys`` in one read transaction (nothing without a store)."""
        try:
            if store is not None:
                with store.read() as session:
                    self._marks = store.rows.hand_marks_of(keys, session=session)
                    self._verdicts = store.rows.verdicts_of(keys, session=session)
        except ProviderStoreError as exc:
            # Without marks nothing is skipped; without verdicts each ping reads its own.
            logger.debug("hand marks or stored verdicts unreadable (%s)", exc)
        finally:
            self._ready.set()

    def give_up(self) -> None:
        """Stop every wait for the inputs (the run is over)."""
        self._ready.set()

    def marked(self, key: str) -> set[str]:
        """The models of ``key`` the user marked valid or invalid by hand."""
        self._ready.wait()
        return set(self._marks.get(key, {}))

    def verdicts(self, key: str) -> dict[str, ValidationResult] | None:
        """The stored verdicts of ``key``; None when they could not be read."""
        self._ready.wait()
        return None if self._verdicts is None else self._verdicts.get(key, {})


@dataclass(frozen=True)
class _Work:
    """What every provider's worker shares in one run."""

    service: DiscoveryServiceLike
    options: DiscoveryOptions
    scheduler: PingScheduler
    deadline_at: float
    notify: ProgressCallback
    store: CatalogStore | None
    inputs: _Inputs


def _one_provider(config: ProviderConfig, outcome: _Outcome, work: _Work) -> None:
    began = time.perf_counter()
    key = outcome.key
    options = work.options
    work.notify(ProgressEvent(key, Phase.DISCOVERING))
    early: list[PingBatch] = []

    def todo_of(models: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        ids = list(dict.fromkeys(m["id"] for m in models if isinstance(m.get("id"), str)))
        if not options.validate:
            return ids, []
        # Known-invalid and hand-marked models are not pinged: their verdict stands.
        skipped = set(config.invalid_models) | work.inputs.marked(key)
        return ids, [m for m in ids if m not in skipped]

    def listed(models: list[dict[str, Any]]) -> None:
        # The list was just fetched with this key: the key is proven, and the pings start
        # now; the list is written (when this returns) once every ping that could start has.
        _ids, todo = todo_of(models)
        if todo:
            early.append(_start_pings(config, outcome, todo, work, proven=True))
        _yield_to_pings(work)

    try:
        result = _within(
            work.deadline_at,
            work.service.discover,
            config,
            force_refresh=options.force_refresh or options.refresh_list,
            wait_for_refresh=True,
            on_listed=listed,
        )
    except Exception as exc:  # noqa: BLE001 - one provider's bug must not sink the others
        logger.exception("Discovery of %s raised", key)
        with outcome.lock:
            outcome.error = f"{type(exc).__name__} during discovery"
        for batch in early:
            batch.wait(work.deadline_at)
        return
    ids, todo = todo_of(result.models)
    with outcome.lock:
        if outcome.closed:
            return
        outcome.ids, outcome.todo, outcome.result = ids, todo, result
        outcome.seconds = time.perf_counter() - began
    if early:
        verdicts = _finish_pings(early[0], outcome, work)
        _yield_to_pings(work)
        _record_verdicts(outcome, verdicts, work.store)
    elif not result.ok:
        logger.warning("Discovery of %s failed (%s): %s", key, result.source, result.error)
        return
    elif todo:
        batch = _start_pings(config, outcome, todo, work, proven=_proven(result))
        verdicts = _finish_pings(batch, outcome, work)
        _yield_to_pings(work)
        _record_verdicts(outcome, verdicts, work.store)
    with outcome.lock:
        if not outcome.closed:
            outcome.seconds = time.perf_counter() - began


def _yield_to_pings(work: _Work) -> None:
    """Wait (briefly) until every ping that could start has started: a database write takes
    this process's time, which the pings waiting to be sent need first."""
    remaining = max(0.0, work.deadline_at - time.perf_counter())
    work.scheduler.wait_caught_up(min(_WRITE_PATIENCE, remaining))


def _within(deadline_at: float, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``call(*args, **kwargs)`` with every HTTP exchange it makes ended by ``deadline_at``."""
    with deadline_scope(deadline_at - time.perf_counter()):
        return call(*args, **kwargs)


def _record_verdicts(
    outcome: _Outcome, verdicts: dict[str, ValidationResult], store: CatalogStore | None
) -> None:
    """Store one provider's new verdicts now, in a transaction of their own, with the provider
    problem they revealed (or its clearing, once a ping got through)."""
    fresh = [v for v in verdicts.values() if not v.reused]
    if store is None or not fresh:
        return
    with outcome.lock:
        if outcome.interrupted:
            return
    problems = [v.problem for v in fresh if v.problem is not None]
    try:
        with store.transaction() as session:
            record_verdict_history(session, outcome.key, fresh)  # events + observations
            store.rows.record_verdicts(outcome.key, fresh, session=session)
            if problems:
                store.rows.set_problem(outcome.key, problems[0], session=session)
            elif any(v.verdict is not Verdict.INCONCLUSIVE for v in fresh):
                store.rows.set_problem(outcome.key, None, session=session)
    except NotFoundError:
        logger.warning("Provider %s was removed meanwhile; its verdicts are dropped", outcome.key)
    except ProviderStoreError as exc:
        logger.warning("Saving the verdicts of %s failed: %s", outcome.key, exc)
        with outcome.lock:
            outcome.error = f"verdicts could not be saved: {exc}"


def _proven(result: DiscoveryResult) -> bool:
    """True when the list was fetched in this run without trouble: the key just worked."""
    return result.source is Source.FRESH and result.error is None


def _start_pings(
    config: ProviderConfig, outcome: _Outcome, todo: list[str], work: _Work, *, proven: bool
) -> PingBatch:
    """Hand the provider's pings to the run's scheduler; an unproven key's first ping goes
    alone (a provider problem then costs one request, not one per model)."""
    key, options = outcome.key, work.options
    stored = work.inputs.verdicts(key)  # None: each ping reads its own

    def ping(model: str) -> ValidationResult:
        return _within(
            work.deadline_at,
            work.service.check_model,
            config,
            model,
            force=options.force_refresh,
            record=False,
            stored=stored,
        )

    def progressed(done: int, total: int) -> None:
        work.notify(ProgressEvent(key, Phase.VALIDATING, done, total))

    work.notify(ProgressEvent(key, Phase.VALIDATING, 0, len(todo)))
    batch = PingBatch(key, todo, ping, alone_first=not proven, on_verdict=progressed)
    work.scheduler.submit(batch)
    return batch


def _finish_pings(batch: PingBatch, outcome: _Outcome, work: _Work) -> dict[str, ValidationResult]:
    """Wait for the provider's pings (until the deadline) and hand in their verdicts."""
    batch.wait(work.deadline_at)
    verdicts = batch.results()
    problems = [v.problem for v in verdicts.values() if v.problem is not None and not v.reused]
    with outcome.lock:
        if not outcome.closed:
            outcome.verdicts = verdicts
            outcome.problem = problems[0] if problems else None
    return verdicts


def _apply(config: ProviderConfig, outcome: _Outcome, validate: bool) -> ProviderSummary:
    result = outcome.result
    if result is None or not result.ok or outcome.error is not None:
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


def _is(outcome: _Outcome, model: str, verdict: Verdict) -> bool:
    found = outcome.verdicts.get(model)
    return found is not None and found.verdict is verdict
