"""Model metadata from registries and from the user, with its source, and the trust order.

Each value knows where it came from. The provider's list fills the model's own columns
(:mod:`provider_store.catalog.metadata_columns`); the ``model_fact`` table holds what a registry
said (origin ``models.dev`` or ``litellm``) and what the user set (origin ``user``), each with its
exact source and when it was observed.
:func:`~provider_store.catalog.reconcile.reconcile` picks one value per field in the order
of trust: the user's override, then the provider's listed value, then the registries
(:data:`ORIGINS`). A refresh writes only the columns, and a registry update only its own origin,
so neither can touch a user's value. Every function takes the caller's session and never commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, insert, select, update
from sqlmodel import Session, col

from provider_store.catalog.metadata_columns import METADATA_COLUMNS
from provider_store.catalog.reconcile import Candidate, FieldChoice, RegistryOrder, reconcile
from provider_store.catalog.registry_rows import (
    checked_at,
    match_in_words,
    match_note,
    provider_registry_order,
)
from provider_store.catalog.tables import Model, ModelFact, Provider
from provider_store.errors import InvalidDocumentError, NotFoundError
from provider_store.model_info import (
    is_iso_date,
    is_moving_alias,
    listed_alias_targets,
    metadata_field,
)
from provider_store.suggestions import unknown_model_message

__all__ = [
    "FACT_FIELDS",
    "LISTED",
    "MATCH_FIELD",
    "ORIGINS",
    "USER",
    "Facts",
    "Sourced",
    "SourcedMetadata",
    "provider_metadata",
    "read_facts",
    "replace_registry_facts",
    "set_user_facts",
    "sourced_metadata",
]

USER = "user"
LISTED = "listed"
# The order of trust, most trusted first: a value of an earlier origin hides the later ones.
ORIGINS = (USER, LISTED, "litellm", "models.dev")
# Fields a registry or the user can give: the listed metadata plus the deprecation status.
FACT_FIELDS = (*METADATA_COLUMNS, "deprecated", "deprecation_date")
# How a registry matched the model ("exact id", ...), or why it filled nothing ("ambiguous ...").
MATCH_FIELD = "match"

_FACT = cast(Table, getattr(ModelFact, "__table__"))  # noqa: B009 - untyped in SQLModel


@dataclass(frozen=True, slots=True)
class Sourced:
    """One value and where it came from: ``listed``, ``user`` or a registry with its version."""

    value: Any
    source: str
    observed_at: float | None = None


# facts[model_id][field][origin] -> Sourced
Facts = dict[str, dict[str, dict[str, Sourced]]]


def _provider_id(session: Session, provider_key: str) -> int:
    found = session.execute(
        select(col(Provider.id)).where(col(Provider.key) == provider_key)
    ).scalar()
    if found is None:
        raise NotFoundError(f"Unknown provider: {provider_key}")
    return int(found)


def read_facts(
    session: Session, provider_key: str, model_ids: Iterable[str] | None = None
) -> Facts:
    """The stored facts of a provider's models (all of them, or ``model_ids``)."""
    query = select(
        col(ModelFact.model_id),
        col(ModelFact.field),
        col(ModelFact.origin),
        col(ModelFact.source),
        col(ModelFact.value),
        col(ModelFact.observed_at),
    ).where(col(ModelFact.provider_id) == _provider_id(session, provider_key))
    if model_ids is not None:
        query = query.where(col(ModelFact.model_id).in_(list(model_ids)))
    facts: Facts = {}
    for model_id, field, origin, source, value, at in session.execute(query):
        facts.setdefault(model_id, {}).setdefault(field, {})[origin] = Sourced(value, source, at)
    return facts


def replace_registry_facts(
    session: Session,
    provider_key: str,
    origin: str,
    source: str,
    facts: Mapping[str, Mapping[str, Any]],
    at: float,
) -> int:
    """Make ``facts`` (model id -> field -> value) all that registry ``origin`` says about the
    provider's models; return the number of rows written (0 when it says what it said before:
    a re-run of ``discover`` or ``registries update`` then moves no row and no change token).

    Only what differs is written: new values are inserted, values no longer said are deleted,
    and a changed value or source is updated in place. A value's ``observed_at`` is when the
    registry first said it (a new source saying the same value keeps it); when a run last
    confirmed it is its registry fill's ``checked_at``. The user's values are untouched.
    """
    if origin in (USER, LISTED) or origin not in ORIGINS:
        raise InvalidDocumentError(f"not a registry origin: {origin}", field="origin")
    provider_id = _provider_id(session, provider_key)
    mine = and_(col(ModelFact.provider_id) == provider_id, col(ModelFact.origin) == origin)
    stored = {
        (model_id, field): (row_id, stored_source, value)
        for row_id, model_id, field, stored_source, value in session.execute(
            select(
                col(ModelFact.id),
                col(ModelFact.model_id),
                col(ModelFact.field),
                col(ModelFact.source),
                col(ModelFact.value),
            ).where(mine)
        )
    }
    wanted = {
        (model_id, field): value
        for model_id, values in facts.items()
        for field, value in values.items()
    }
    gone = [stored[key][0] for key in sorted(set(stored) - set(wanted))]
    changed = [
        {"b_id": stored[key][0], "source": source, "value": value, "observed_at": at}
        if stored[key][2] != value
        else {"b_id": stored[key][0], "source": source, "value": value, "observed_at": None}
        for key, value in sorted(wanted.items())
        if key in stored and (stored[key][1], stored[key][2]) != (source, value)
    ]
    new = [
        {
            "provider_id": provider_id,
            "model_id": model_id,
            "field": field,
            "origin": origin,
            "source": source,
            "value": value,
            "observed_at": at,
        }
        for (model_id, field), value in sorted(wanted.items())
        if (model_id, field) not in stored
    ]
    if gone:
        session.execute(delete(ModelFact).where(col(ModelFact.id).in_(gone)))
    for moved in (True, False):  # a new value moves observed_at, a new source alone does not
        rows = [row for row in changed if (row["observed_at"] is not None) is moved]
        if not rows:
            continue
        values: dict[str, Any] = {"source": bindparam("source"), "value": bindparam("value")}
        if moved:
            values["observed_at"] = bindparam("observed_at")
        else:
            rows = [{k: v for k, v in row.items() if k != "observed_at"} for row in rows]
        session.execute(update(_FACT).where(_FACT.c.id == bindparam("b_id")).values(values), rows)
    if new:
        session.execute(insert(_FACT), new)
    return len(gone) + len(changed) + len(new)


def set_user_facts(
    session: Session,
    provider_key: str,
    model_id: str,
    values: Mapping[str, Any],
    at: float,
) -> None:
    """Set (or, with a None value, clear) the user's overrides of a model's fields."""
    unknown = sorted(set(values) - set(FACT_FIELDS))
    if unknown:
        raise InvalidDocumentError(
            f"not a metadata field: {', '.join(unknown)} (fields: {', '.join(FACT_FIELDS)})",
            field=unknown[0],
        )
    checked = {field: _checked(field, value) for field, value in values.items()}
    provider_id = _provider_id(session, provider_key)
    exists = session.execute(
        select(col(Model.id))
        .where(col(Model.provider_id) == provider_id)
        .where(col(Model.model_id) == model_id)
    ).scalar()
    if exists is None:
        raise NotFoundError(unknown_model_message(f"{provider_key}/{model_id}"))
    for field, value in checked.items():
        session.execute(
            delete(ModelFact)
            .where(col(ModelFact.provider_id) == provider_id)
            .where(col(ModelFact.model_id) == model_id)
            .where(col(ModelFact.field) == field)
            .where(col(ModelFact.origin) == USER)
        )
        if value is not None:
            session.execute(
                insert(_FACT),
                [
                    {
                        "provider_id": provider_id,
                        "model_id": model_id,
                        "field": field,
                        "origin": USER,
                        "source": USER,
                        "value": value,
                        "observed_at": at,
                    }
                ],
            )


def _checked(field: str, value: Any) -> Any:
    """``value`` as field ``field`` stores it; InvalidDocumentError names the field otherwise.

    Metadata fields are checked by their kind (:mod:`provider_store.model_info`), as in YAML.
    """
    if value is None:
        return None
    described = metadata_field(field)
    if described is not None:
        kind = described.kind
        if isinstance(value, list):
            value = tuple(value)
        problem = kind.problem(list(value) if isinstance(value, tuple) else value, repr(value))
        if problem is not None:
            raise InvalidDocumentError(f"{field} {problem}", field=field)
        return kind.to_column(kind.from_plain(value))
    if field == "deprecated" and isinstance(value, bool):
        return value
    if field == "deprecation_date" and isinstance(value, str) and is_iso_date(value):
        return value
    expected = "true or false" if field == "deprecated" else "a date such as 2026-12-31"
    raise InvalidDocumentError(f"{field} must be {expected}, not {value!r}", field=field)


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


def sourced_metadata(session: Session, provider_key: str, model_id: str) -> SourcedMetadata:
    """What the catalog knows about one model, reconciled (see
    :mod:`provider_store.catalog.reconcile`)."""
    found = provider_metadata(session, provider_key, [model_id])
    if model_id not in found:
        raise NotFoundError(unknown_model_message(f"{provider_key}/{model_id}"))
    return found[model_id]


def provider_metadata(
    session: Session, provider_key: str, model_ids: Iterable[str] | None = None
) -> dict[str, SourcedMetadata]:
    """:func:`sourced_metadata` of every model of a provider (or of ``model_ids``) at once.

    A registry value's ``observed_at`` is when a run last confirmed it (its registry fill's
    ``checked_at``); a listed value's when the list last showed the model; a user's when set.
    """
    provider_id = _provider_id(session, provider_key)
    wanted = list(model_ids) if model_ids is not None else None
    query = select(
        col(Model.model_id), col(Model.last_seen_at), *(getattr(Model, f) for f in METADATA_COLUMNS)
    ).where(col(Model.provider_id) == provider_id)
    if wanted is not None:
        query = query.where(col(Model.model_id).in_(wanted))
    facts = read_facts(session, provider_key, wanted)
    checked = checked_at(session, provider_id)
    order = provider_registry_order(session, provider_key, provider_id)
    cache = session.execute(
        select(col(Provider.models_cache)).where(col(Provider.id) == provider_id)
    ).scalar()
    targets = listed_alias_targets(cache if isinstance(cache, list) else [])
    found: dict[str, SourcedMetadata] = {}
    for row in session.execute(query):
        model_id, seen_at = row[0], row[1]
        listed = dict(zip(METADATA_COLUMNS, row[2:], strict=True))
        own = facts.get(model_id, {})
        candidates: dict[str, list[Candidate]] = {}
        for name in FACT_FIELDS:
            values: list[Candidate] = [
                Candidate(origin, fact.source, fact.value, checked.get(origin, fact.observed_at))
                if origin != USER
                else Candidate(origin, fact.source, fact.value, fact.observed_at)
                for origin, fact in own.get(name, {}).items()
            ]
            if listed.get(name) not in (None, [], ()):
                values.append(Candidate(LISTED, LISTED, listed[name], seen_at))
            if values:
                candidates[name] = values
        choices = reconcile(model_id, candidates, order)
        notes = {
            origin: match_note(fact.value)
            for origin, fact in own.get(MATCH_FIELD, {}).items()
            if fact.value is not None
        }
        filled = {origin for name, by in own.items() if name in METADATA_COLUMNS for origin in by}
        found[model_id] = SourcedMetadata(
            {
                name: Sourced(c.chosen.value, c.chosen.source, c.chosen.observed_at)
                for name, c in choices.items()
            },
            {origin: match_in_words(note, origin in filled) for origin, note in notes.items()},
            choices,
            notes,
            _alias(model_id, targets, seen_at, notes, own, order),
            is_moving_alias(model_id),
            order,
        )
    return found


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
