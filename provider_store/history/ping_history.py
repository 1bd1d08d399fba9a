"""Ping observations and verdict events, written with the verdicts they describe.

:func:`record_verdict_history` is called in the verdict write's transaction (before the verdicts
are stored), so it compares each new verdict with the stored one under the provider row lock:

- a ``verdict`` event when a model's stored verdict changes (none -> valid, valid -> invalid,
  valid -> inconclusive ...), with the new verdict's reason;
- an observation for every ping actually sent (a reused verdict, or one given without a
  request, has no latency and is not a ping): time, outcome class, HTTP status, latency,
  added to the ping rollup (:mod:`provider_store.history.ping_rollup`) in the same transaction.

Outcome classes (:func:`outcome_class`): ``answered`` (a 2xx chat answer: pong, or no text),
``invalid`` (answered without pong, or the model refused), ``auth`` (key rejected), ``quota``
(no credit, or rate limited), ``parameter_refused`` (a 400/422 naming a parameter),
``filtered`` (a content filter), ``timeout``, ``network`` (no HTTP answer, or a 5xx).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlmodel import Session

from provider_store.catalog.cache_rows import load_verdicts, lock_provider, provider_id_of
from provider_store.catalog.records import ValidationResult
from provider_store.catalog.states import EventType, Verdict
from provider_store.catalog.tables import Observation
from provider_store.history.listing_events import write_events
from provider_store.history.ping_rollup import add_observations
from provider_store.rules import MAX_TEXT_LENGTH

__all__ = ["OUTCOME_CLASSES", "outcome_class", "record_verdict_history", "write_observations"]

OUTCOME_CLASSES = (
    "answered",
    "invalid",
    "auth",
    "quota",
    "parameter_refused",
    "filtered",
    "timeout",
    "network",
)
OBSERVATION_TABLE = cast(Table, getattr(Observation, "__table__"))  # noqa: B009
_STATUS = re.compile(r"HTTP (\d{3})")
_TIMEOUT = re.compile(r"timed out|timeout|deadline", re.IGNORECASE)
_MAX_TEXT = 2000


def outcome_class(result: ValidationResult) -> tuple[str, int | None]:
    """The outcome class of a ping's result and the HTTP status its reason names (if any)."""
    main = result.reason.split(" [", 1)[0]
    statuses = _STATUS.findall(main)
    status = int(statuses[-1]) if statuses else None
    lowered = main.lower()
    if result.verdict is Verdict.VALID:
        return "answered", status
    if result.problem is not None:
        return ("auth" if "key rejected" in result.problem else "quota"), status
    if result.verdict is Verdict.INVALID:
        return "invalid", status
    if "content filter" in lowered:
        return "filtered", status
    if status == 429:
        return "quota", status
    if status in (400, 422) and "param" in lowered:
        return "parameter_refused", status
    if _TIMEOUT.search(main):
        return "timeout", status
    if status is not None and 200 <= status < 300:
        return "answered", status
    return "network", status


def record_verdict_history(
    session: Session, provider_key: str, results: Iterable[ValidationResult]
) -> int:
    """Write verdict events and ping observations of ``results``; return the events written.

    Call it in the verdict write's transaction before the verdicts are stored. NotFoundError
    when the provider is gone.
    """
    fresh = [r for r in results if not r.reused and 0 < len(r.model) <= MAX_TEXT_LENGTH]
    if not fresh:
        return 0
    provider_id = provider_id_of(session, provider_key)
    lock_provider(session, provider_id)
    stored = load_verdicts(session, provider_key, [r.model for r in fresh])
    refresh_id = uuid.uuid4().hex
    events: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    latest = {r.model: r for r in fresh}
    for result in fresh:
        if result.latency_ms is not None:
            outcome, status = outcome_class(result)
            observations.append(
                {
                    "provider_key": provider_key,
                    "model_id": result.model,
                    "at": result.checked_at,
                    "outcome": outcome,
                    "http_status": status,
                    "latency_ms": result.latency_ms,
                }
            )
    for model, result in latest.items():
        previous = stored.get(model)
        old = previous.verdict.value if previous is not None else None
        if old != result.verdict.value:
            events.append(
                {
                    "provider_key": provider_key,
                    "model_id": model,
                    "type": EventType.VERDICT.value,
                    "field": "verdict",
                    "old_value": old,
                    "new_value": result.verdict.value,
                    "reason": result.reason[:_MAX_TEXT],
                    "observed_at": result.checked_at,
                    "refresh_id": refresh_id,
                }
            )
    write_events(session, events)
    write_observations(session, observations)
    return len(events)


def write_observations(session: Session, observations: list[dict[str, Any]]) -> None:
    """Insert observations (provider_key, model_id, at, outcome, http_status, latency_ms) and
    add them to the ping rollup, in the caller's transaction."""
    if observations:
        session.execute(insert(OBSERVATION_TABLE), observations)
        add_observations(session, observations)
