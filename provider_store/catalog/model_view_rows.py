"""Every row the one model view reads, for many providers at once, reconciled.

:func:`read_view_rows` reads the providers, their models, the model facts and the registry
fills in four queries however many providers and models there are (no query per provider or
per model), through light Core clauses (no SQLModel class is built), and reconciles each
model's metadata (:mod:`provider_store.catalog.reconcile`): user > listed > registries, in the
provider's order of the registries. :class:`SourcedMetadata` is that reconciliation;
``model_facts.provider_metadata`` and ``models show`` read it from here, so every face of the
catalog gets the same values.

Session-level functions: the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provider_store.catalog.cache_rows import last_seen
from provider_store.catalog.light_tables import MODEL, MODEL_FACT, PROVIDER, REGISTRY_FILL
from provider_store.catalog.metadata_columns import METADATA_COLUMNS
from provider_store.catalog.reconcile import (
    NUMBER_FIELDS,
    REGISTRY_ORIGINS,
    Candidate,
    FieldChoice,
    RegistryOrder,
    reconcile,
    registry_order,
)
from provider_store.model_info import is_moving_alias, listed_alias_targets
from provider_store.rules.gc_pause import collector_paused

__all__ = [
    "FACT_FIELDS",
    "LISTED",
    "MATCH_FIELD",
    "ORIGINS",
    "USER",
    "ModelRow",
    "ProviderRow",
    "Sourced",
    "SourcedMetadata",
    "match_in_words",
    "match_note",
    "read_view_rows",
]

USER = "user"
LISTED = "listed"
# The order of trust, most trusted first: a value of an earlier origin hides the later ones.
ORIGINS = (USER, LISTED, *REGISTRY_ORIGINS)
# Fields a registry or the user can give: the listed metadata plus the deprecation status.
FACT_FIELDS = (*METADATA_COLUMNS, "deprecated", "deprecation_date")
# How a registry matched the model ("exact id", ...), or why it filled nothing ("ambiguous ...").
MATCH_FIELD = "match"


@dataclass(frozen=True, slots=True)
class Sourced:
    """One value and where it came from: ``listed``, ``user`` or a registry with its version."""

    value: Any
    source: str
    observed_at: float | None = None


@dataclass(frozen=True, slots=True)
class SourcedMetadata:
    """A model's metadata: one value per field with its source (``values``), and how the
    sources were reconciled.

    ``choices`` holds, per field, every candidate value in rank order, those that disagree
    with the chosen one and why it won (:class:`~provider_store.catalog.reconcile.FieldChoice`);
    ``matches`` each registry's match in words, ``match_notes`` the same as stored (the
    entry's key and section, how it was found, the alias target, or the problem);
    ``alias_of`` the model this id points at when the provider's list or a registry says so,
    ``moving_alias`` whether the id names a moving target (``…-latest``); ``order`` the
    provider's order of the registries and why.
    """

    values: dict[str, Sourced]
    matches: dict[str, str]
    choices: dict[str, FieldChoice] = dataclasses.field(default_factory=dict)
    match_notes: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    alias_of: Sourced | None = None
    moving_alias: bool = False
    order: RegistryOrder = dataclasses.field(default_factory=RegistryOrder)


@dataclass(frozen=True, slots=True)
class ProviderRow:
    """What the view needs of a provider: its last listing, last failure and removal policy."""

    key: str
    row_id: int
    listed_at: float | None
    last_error: str | None
    last_error_at: float | None
    problem: str | None
    removal_confirmations: int
    removal_min_age_seconds: float


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One model row: its curated status (``valid`` / ``invalid`` / ``unverified``), alias,
    stored verdict, hand mark, absence from listings and reconciled metadata."""

    provider: str
    model_id: str
    alias: str
    status: str
    verdict: str | None
    verdict_reason: str | None
    verdict_at: float | None
    hand_mark: str | None
    last_seen_at: float | None
    missing_count: int
    missing_since: float | None
    removed_at: float | None
    metadata: SourcedMetadata


_P = PROVIDER.c
_M = MODEL.c
_F = MODEL_FACT.c
_Facts = dict[str, dict[str, dict[str, Sourced]]]


def read_view_rows(
    session: Session,
    providers: Collection[str] | None = None,
    model_ids: Collection[str] | None = None,
) -> tuple[dict[str, ProviderRow], list[ModelRow]]:
    """The providers of ``providers`` (every one when None; unknown keys are left out) in
    catalog order, and their models (only ``model_ids`` when given) in catalog order, each
    with its reconciled metadata. The registry order of a provider always weighs all of its
    models, so one model reads as it does among all."""
    query = select(
        _P.id,
        _P.key,
        _P.models_cache,
        _P.models_fetched_at,
        _P.last_error,
        _P.last_error_at,
        _P.problem,
        _P.removal_confirmations,
        _P.removal_min_age_seconds,
    ).order_by(_P.position, _P.id)
    if providers is not None:
        if not providers:
            return {}, []
        query = query.where(_P.key.in_(list(providers)))
    provider_rows = list(session.execute(query))
    if not provider_rows:
        return {}, []
    # The rows hold no cycles (reference counting frees them): a collection every few hundred
    # objects would walk the growing heap again and again, making the time per model grow.
    with collector_paused():
        return _read(session, provider_rows, model_ids)


def _read(
    session: Session, provider_rows: list[Any], model_ids: Collection[str] | None
) -> tuple[dict[str, ProviderRow], list[ModelRow]]:
    ids = [int(row.id) for row in provider_rows]
    key_of = {int(row.id): str(row.key) for row in provider_rows}
    metadata = [_M[name] for name in METADATA_COLUMNS]
    models = list(
        session.execute(
            select(
                _M.provider_id,
                _M.model_id,
                _M.alias,
                _M.status,
                _M.verdict,
                _M.verdict_reason,
                _M.verdict_at,
                _M.hand_mark,
                last_seen().label("last_seen_at"),
                _M.missing_count,
                _M.missing_since,
                _M.removed_at,
                *metadata,
            )
            .join_from(MODEL, PROVIDER, PROVIDER.c.id == _M.provider_id)
            .where(_M.provider_id.in_(ids))
            .order_by(_M.provider_id, _M.position, _M.id)
        )
    )
    facts: dict[int, _Facts] = {}
    for pid, model_id, field, origin, source, value, at in session.execute(
        select(
            _F.provider_id, _F.model_id, _F.field, _F.origin, _F.source, _F.value, _F.observed_at
        )
        .where(_F.provider_id.in_(ids))
        .order_by(_F.id)
    ):
        by_model = facts.setdefault(int(pid), {})
        by_model.setdefault(model_id, {}).setdefault(field, {})[origin] = Sourced(value, source, at)
    checked: dict[int, dict[str, float]] = {}
    c = REGISTRY_FILL.c
    for pid, origin, at in session.execute(
        select(c.provider_id, c.origin, c.checked_at).where(c.provider_id.in_(ids))
    ):
        checked.setdefault(int(pid), {})[origin] = float(at)

    listed_by: dict[int, dict[str, dict[str, Any]]] = {}
    rows_by: dict[int, list[Any]] = {}
    for row in models:
        listed_by.setdefault(int(row.provider_id), {})[row.model_id] = dict(
            zip(METADATA_COLUMNS, row[12:], strict=True)
        )
        rows_by.setdefault(int(row.provider_id), []).append(row)
    wanted = set(model_ids) if model_ids is not None else None
    result: list[ModelRow] = []
    by_provider: dict[int, list[ModelRow]] = {}
    found: dict[str, ProviderRow] = {}
    for prow in provider_rows:
        pid = int(prow.id)
        key = key_of[pid]
        found[key] = ProviderRow(
            key,
            pid,
            prow.models_fetched_at,
            prow.last_error,
            prow.last_error_at,
            prow.problem,
            int(prow.removal_confirmations),
            float(prow.removal_min_age_seconds),
        )
        own_facts = facts.get(pid, {})
        listed = listed_by.get(pid, {})
        order = _order(key, listed, own_facts)
        cache = prow.models_cache
        targets = listed_alias_targets(cache if isinstance(cache, list) else []) if cache else {}
        by_provider[pid] = []
        context = _Context(own_facts, checked.get(pid, {}), order, targets)
        for row in rows_by.get(pid, []):
            if wanted is not None and row.model_id not in wanted:
                continue
            by_provider[pid].append(
                ModelRow(
                    key,
                    row.model_id,
                    row.alias,
                    row.status,
                    row.verdict,
                    row.verdict_reason,
                    row.verdict_at,
                    row.hand_mark,
                    row.last_seen_at,
                    int(row.missing_count or 0),
                    row.missing_since,
                    row.removed_at,
                    _sourced(row.model_id, listed[row.model_id], row.last_seen_at, context),
                )
            )
    for prow in provider_rows:
        result.extend(by_provider[int(prow.id)])
    return found, result


@dataclass(frozen=True, slots=True)
class _Context:
    facts: _Facts
    checked: Mapping[str, float]
    order: RegistryOrder
    targets: Mapping[str, str]


def _order(key: str, listed: Mapping[str, Mapping[str, Any]], facts: _Facts) -> RegistryOrder:
    """The provider's order of the registries, from its listed limits and prices and the
    registries' values of them (:func:`~provider_store.catalog.reconcile.registry_order`)."""
    numbers = {
        model_id: {name: values[name] for name in NUMBER_FIELDS}
        for model_id, values in listed.items()
        if any(values[name] is not None for name in NUMBER_FIELDS)
    }
    if not numbers:
        return RegistryOrder()
    given: dict[str, dict[str, dict[str, Candidate]]] = {}
    sources: dict[str, str] = {}
    for model_id in numbers:
        for name in NUMBER_FIELDS:
            for origin, fact in facts.get(model_id, {}).get(name, {}).items():
                if origin in REGISTRY_ORIGINS:
                    given.setdefault(model_id, {}).setdefault(name, {})[origin] = Candidate(
                        origin, fact.source, fact.value
                    )
                    sources.setdefault(origin, fact.source)
    return registry_order(key, numbers, given, sources)


def _sourced(
    model_id: str, listed: Mapping[str, Any], seen_at: float | None, context: _Context
) -> SourcedMetadata:
    """One model's metadata, reconciled: a registry value's ``observed_at`` is when a run last
    confirmed it (its fill's ``checked_at``), a listed value's when the list last showed the
    model, a user's when set."""
    own = context.facts.get(model_id, {})
    candidates: dict[str, list[Candidate]] = {}
    for name in FACT_FIELDS:
        values: list[Candidate] = [
            Candidate(
                origin, fact.source, fact.value, context.checked.get(origin, fact.observed_at)
            )
            if origin != USER
            else Candidate(origin, fact.source, fact.value, fact.observed_at)
            for origin, fact in own.get(name, {}).items()
        ]
        if listed.get(name) not in (None, [], ()):
            values.append(Candidate(LISTED, LISTED, listed[name], seen_at))
        if values:
            candidates[name] = values
    choices = reconcile(model_id, candidates, context.order)
    notes = {
        origin: match_note(fact.value)
        for origin, fact in own.get(MATCH_FIELD, {}).items()
        if fact.value is not None
    }
    filled = {origin for name, by in own.items() if name in METADATA_COLUMNS for origin in by}
    return SourcedMetadata(
        {
            name: Sourced(c.chosen.value, c.chosen.source, c.chosen.observed_at)
            for name, c in choices.items()
        },
        {origin: match_in_words(note, origin in filled) for origin, note in notes.items()},
        choices,
        notes,
        _alias(model_id, context.targets, seen_at, notes, own, context.order),
        is_moving_alias(model_id),
        context.order,
    )


def match_note(value: Any) -> dict[str, str]:
    """A stored match note as a mapping (a plain string is how it was found)."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {"how": str(value)}


def match_in_words(note: Mapping[str, str], filled: bool) -> str:
    """A match note as ``models show`` says it."""
    if "problem" in note:
        return note["problem"]
    entry = f"entry {note['entry']} in {note.get('section', '?')}" if note.get("entry") else ""
    if not filled:
        return f"known, no metadata ({entry})" if entry else "known, no metadata"
    how = note.get("how", "")
    return f"{how}: {entry}" if entry else how


def _alias(
    model_id: str,
    targets: Mapping[str, str],
    seen_at: float | None,
    notes: Mapping[str, Mapping[str, str]],
    own: Mapping[str, Mapping[str, Sourced]],
    order: RegistryOrder,
) -> Sourced | None:
    """The model ``model_id`` points at, as its provider's list (first) or a registry says."""
    if model_id in targets:
        return Sourced(targets[model_id], LISTED, seen_at)
    for origin in order.origins:
        target = notes.get(origin, {}).get("alias_of")
        if target:
            fact = own[MATCH_FIELD][origin]
            return Sourced(target, fact.source, fact.observed_at)
    return None
