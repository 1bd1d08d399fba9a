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
- The curated lists are written in one short transaction after all network work, for every
  provider that succeeded (a failed one keeps its lists); the legacy ``discover_models()``
  passes ``all_or_nothing`` and then they are written only when every targeted provider
  succeeded. That write re-reads each provider row (locked) and applies only the change this
  run made to its lists (:class:`CuratedChange`); its name, URL and key are never written, so
  a concurrent import or ``save_config`` survives.
- A provider renamed, removed or edited (name, URL, key, kind, options) while the run worked
  gets nothing written: each write transaction (verdicts, curated lists) re-reads the
  provider's identity (:mod:`provider_store.catalog.provider_identity`) and compares it with
  the one read before the network calls; the provider's summary then fails with
  ``results not saved: …``.
- The progress callback is called from one thread at a time; an exception it raises stops the
  run as Ctrl-C does (workers store nothing more, no curated list is written) and is raised
  by :func:`run_discovery`.
- A failed write (cache, verdicts, curated lists) fails the provider, or the run.
- Providers without an API key are skipped with a message naming the variable to set; when every
  targeted provider was skipped the run is not ok.

Why this module is long: the run's rules (bounds, the deadline, what a failed provider keeps,
when verdicts and curated lists are written) are one protocol across threads; split apart, each
part would need the others' locks and futures. The pure parts live elsewhere (run_report.py,
verdicts.py, save_listing.py, ping_scheduler.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.provider_identity import (
    ProviderIdentity,
    identity_change,
    read_identities,
)
from provider_store.catalog.records import ValidationResult
from provider_store.catalog.states import Verdict
from provider_store.discovery.ping_scheduler import PingBatch, PingScheduler
from provider_store.discovery.progress_relay import ProgressRelay
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
    all_or_nothing: bool = False,
) -> DiscoveryReport:
    """Discover and validate ``providers`` (or only ``provider``) and update them in place.

    Providers without a usable key (stored or ``{KEY}_API_KEY``) are skipped with a log message.
    With a ``store``, each provider that succeeded has its curated lists saved (a failed one
    keeps what it had); ``all_or_nothing`` (the legacy rule) saves them only when every
    targeted provider succeeded. A provider renamed, removed or edited while the run was
    working is not saved (its summary fails, naming why). ``progress`` is called from one
    thread at a time; an exception it raises stops the run and is raised here.
    """
    started = time.perf_counter()
    notify = ProgressRelay(progress)
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
            notify.raise_failure()

    # What each provider is in the catalog as the run starts (read while the lists are fetched).
    inputs = _Inputs({key: providers[key].catalog_key or key for key in runnable})
    outcomes = _run_network(providers, runnable, service, options, notify, started, store, inputs)
    notify.raise_failure()
    changes: dict[str, CuratedChange] = {}
    changed: set[str] = set()
    for key in runnable:
        config = providers[key]
        before = (dict(config.valid_models), list(config.invalid_models))
        summaries[key] = _apply(config, outcomes[key], options.validate)
        changes[key] = CuratedChange.between(before, config)
        if before != (config.valid_models, config.invalid_models):
            changed.add(key)
        notify(ProgressEvent(key, Phase.DONE, summary=summaries[key]))
        notify.raise_failure()

    report = DiscoveryReport(providers=[summaries[key] for key in targets])
    if not runnable and targets:
        report.error = "every provider was skipped: no API key"
    everyone = all(summary.ok for summary in report.providers)
    succeeded = [key for key in runnable if summaries[key].ok]
    if store is not None and succeeded and (everyone or not all_or_nothing):
        refused = _save_curated(store, {key: changes[key] for key in succeeded}, inputs, report)
        for key, why in refused.items():
            summaries[key] = dataclasses.replace(
                summaries[key], status=FAILED, error=f"results not saved: {why}"
            )
        report.saved = [key for key in succeeded if key not in refused]
        report.providers = [summaries[key] for key in targets]
    elif store is not None and runnable:
        failed = [s.provider for s in report.providers if not s.ok]
        logger.warning("Not saving discovery results: failed providers %s", ", ".join(failed))
    report.ok = (
        report.error is None
        and all(summary.ok for summary in report.providers)
        and (bool(runnable) or not targets)
    )
    report.persisted = store is not None and bool(succeeded) and report.saved == succeeded
    report.lists_changed = any(key not in report.saved for key in changed)
    report.seconds = time.perf_counter() - started
    return report


def _save_curated(
    store: CatalogStore,
    changes: Mapping[str, CuratedChange],
    inputs: _Inputs,
    report: DiscoveryReport,
) -> dict[str, str]:
    """Replay each provider's curated change on its stored lists, in one short transaction
    that re-reads (and locks) each provider row first; a provider that is no longer the one
    the run started from gets nothing. Returns the providers not saved, with why."""
    refused: dict[str, str] = {}
    try:
        with store.transaction() as session:
            now = read_identities(session, list(changes), lock=True)
            for key in changes:
                why = inputs.changed(key, now.get(key))
                if why is not None:
                    logger.warning("Not saving the results of %s: %s", key, why)
                    refused[key] = why
            appliers = {key: c.apply for key, c in changes.items() if key not in refused}
            if appliers:
                store.rows.update_curated_many(appliers, session=session)
    except ProviderStoreError as exc:
        logger.warning("Saving discovery results failed: %s", exc)
        report.error = f"results could not be saved: {exc}"
        return dict.fromkeys(changes, f"the write failed: {exc}")
    return refused


def _match_key(providers: Mapping[str, ProviderConfig], wanted: str) -> str | None:
    if wanted in providers:
        return wanted
    return next((key for key in providers if key.lower() == wanted.lower()), None)


def _run_network(
    providers: Mapping[str, ProviderConfig],
    keys: list[str],
    service: DiscoveryServiceLike,
    options: DiscoveryOptions,
    notify: ProgressRelay,
    started: float,
    store: CatalogStore | None,
    inputs: _Inputs,
) -> dict[str, _Outcome]:
    outcomes = {key: _Outcome(key) for key in keys}
    if not keys:
        return outcomes
    deadline_at = started + options.deadline
    scheduler = PingScheduler(options.concurrency, options.per_provider, deadline_at)
    discoverers = ThreadPoolExecutor(len(keys), thread_name_prefix="ps-discover")
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
            _wait(set(futures), notify.stopped, deadline_at + _GRACE)
            notify.raise_failure()
        except BaseException:  # Ctrl-C, or the progress callback raised: the run stops
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


def _wait(pending: set[Future[None]], stop: Future[None], until: float) -> None:
    """Wait for every future of ``pending`` until ``until`` (perf_counter), or until ``stop``."""
    while pending and not stop.done():
        remaining = until - time.perf_counter()
        if remaining <= 0:
            return
        _done, left = wait(pending | {stop}, timeout=remaining, return_when=FIRST_COMPLETED)
        pending = left - {stop}


class _Inputs:
    """What the run reads once for all its providers, while their lists are being fetched: the
    hand-marked models (never pinged), the stored verdicts (reused, or their ping style sent
    first) and each provider's identity (what a write compares before saving). A provider's
    worker waits for them only when its list has arrived."""

    def __init__(self, catalog_keys: Mapping[str, str] | None = None) -> None:
        self._ready = threading.Event()
        self._marks: dict[str, dict[str, str]] = {}
        self._verdicts: dict[str, dict[str, ValidationResult]] | None = None
        self._catalog_keys = dict(catalog_keys or {})
        self._identities: dict[str, ProviderIdentity] | None = None

    def load(self, store: CatalogStore | None, keys: list[str]) -> None:
        """Read them for ``keys`` in one read transaction (nothing without a store)."""
        try:
            if store is not None:
                with store.read() as session:
                    found = read_identities(session, set(self._catalog_keys.values()))
                    self._identities = {
                        key: found[name]
                        for key, name in self._catalog_keys.items()
                        if name in found
                    }
                    self._marks = store.rows.hand_marks_of(keys, session=session)
                    self._verdicts = store.rows.verdicts_of(keys, session=session)
        except ProviderStoreError as exc:
            # Without marks nothing is skipped; without verdicts each ping reads its own.
            logger.debug("hand marks, verdicts or identities unreadable (%s)", exc)
        finally:
            self._ready.set()

    def changed(self, key: str, now: ProviderIdentity | None) -> str | None:
        """Why provider ``key`` (as read now) is no longer the one the run started from; None
        when it is, or when its identity could not be read at the start."""
        self._ready.wait()
        if self._identities is None:
            return None
        return identity_change(key, self._identities.get(key), now)

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
        _record_verdicts(outcome, verdicts, work)
    elif not result.ok:
        logger.warning("Discovery of %s failed (%s): %s", key, result.source, result.error)
        return
    elif todo:
        batch = _start_pings(config, outcome, todo, work, proven=_proven(result))
        verdicts = _finish_pings(batch, outcome, work)
        _yield_to_pings(work)
        _record_verdicts(outcome, verdicts, work)
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


def _record_verdicts(outcome: _Outcome, verdicts: dict[str, ValidationResult], work: _Work) -> None:
    """Store one provider's new verdicts now, in a transaction of their own, with the provider
    problem they revealed (or its clearing, once a ping got through); nothing when the
    provider is no longer the one the run started from (re-read, locked, in the transaction)."""
    fresh = [v for v in verdicts.values() if not v.reused]
    store = work.store
    if store is None or not fresh:
        return
    with outcome.lock:
        if outcome.interrupted:
            return
    problems = [v.problem for v in fresh if v.problem is not None]
    key = outcome.key
    try:
        with store.transaction() as session:
            now = read_identities(session, [key], lock=True).get(key)
            why = work.inputs.changed(key, now)
            if why is not None:
                logger.warning("Not saving the verdicts of %s: %s", key, why)
                with outcome.lock:
                    outcome.error = f"results not saved: {why}"
                return
            record_verdict_history(session, key, fresh)  # events + observations
            store.rows.record_verdicts(key, fresh, session=session)
            if problems:
                store.rows.set_problem(key, problems[0], session=session)
            elif any(v.verdict is not Verdict.INCONCLUSIVE for v in fresh):
                store.rows.set_problem(key, None, session=session)
    except NotFoundError:
        logger.warning("Provider %s was removed meanwhile; its verdicts are dropped", key)
        with outcome.lock:
            outcome.error = f"results not saved: provider {key} was removed during the run"
    except ProviderStoreError as exc:
        logger.warning("Saving the verdicts of %s failed: %s", key, exc)
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
