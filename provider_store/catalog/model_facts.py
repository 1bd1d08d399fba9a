"""Model metadata from registries and from the user, with its source, and the trust order.

Each value knows where it came from. The provider's list fills the model's own columns
(:mod:`provider_store.catalog.metadata_columns`); the ``model_fact`` table holds what a registry
said (origin ``models.dev`` or ``litellm``) and what the user set (origin ``user``), each with its
exact source and when it was observed. :func:`effective` picks one value per field in the order
of trust: the user's override, then the provider's listed value, then the registries
(:data:`ORIGINS`). A refresh writes only the columns, and a registry update only its own origin,
so neither can touch a user's value. Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, delete, insert, select
from sqlmodel import Session, col

from provider_store.catalog.metadata_columns import METADATA_COLUMNS
from provider_store.catalog.tables import Model, ModelFact, Provider
from provider_store.errors import InvalidDocumentError, NotFoundError
from provider_store.model_info import is_iso_date, metadata_field
from provider_store.suggestions import unknown_model_message

__all__ = [
    "DISAGREEMENT_RATIO",
    "Disagreement",
    "FACT_FIELDS",
    "LISTED",
    "MATCH_FIELD",
    "ORIGINS",
    "USER",
    "Sourced",
    "SourcedMetadata",
    "disagreements",
    "effective",
    "provider_disagreements",
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
    provider's models; return the number of values stored. The user's values are untouched,
    and nothing is written when the registry says what it said before (a re-run of ``discover``
    or ``registries update`` then moves no row and no change token)."""
    if origin in (USER, LISTED) or origin not in ORIGINS:
        raise InvalidDocumentError(f"not a registry origin: {origin}", field="origin")
    provider_id = _provider_id(session, provider_key)
    mine = and_(col(ModelFact.provider_id) == provider_id, col(ModelFact.origin) == origin)
    stored = {
        (model_id, field): (stored_source, value)
        for model_id, field, stored_source, value in session.execute(
            select(
                col(ModelFact.model_id),
                col(ModelFact.field),
                col(ModelFact.source),
                col(ModelFact.value),
            ).where(mine)
        )
    }
    wanted = {
        (model_id, field): (source, value)
        for model_id, values in facts.items()
        for field, value in values.items()
    }
    if stored == wanted:  # the registry says what it said: nothing to write
        return len(wanted)
    session.execute(delete(ModelFact).where(mine))
    rows = [
        {
            "provider_id": provider_id,
            "model_id": model_id,
            "field": field,
            "origin": origin,
            "source": source,
            "value": value,
            "observed_at": at,
        }
        for model_id, values in facts.items()
        for field, value in values.items()
    ]
    if rows:
        session.execute(insert(_FACT), rows)
    return len(rows)


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


def effective(
    listed: Mapping[str, Any],
    listed_at: float | None,
    facts: Mapping[str, Mapping[str, Sourced]],
) -> dict[str, Sourced]:
    """One value per known field, from the most trusted origin that has one.

    ``listed`` holds the model's listed column values (None or empty when the list said
    nothing), ``facts`` the model's stored facts by field and origin.
    """
    chosen: dict[str, Sourced] = {}
    for field in FACT_FIELDS:
        by_origin = dict(facts.get(field, {}))
        value = listed.get(field)
        if value not in (None, [], ()):
            by_origin[LISTED] = Sourced(value, LISTED, listed_at)
        for origin in ORIGINS:
            if origin in by_origin:
                chosen[field] = by_origin[origin]
                break
    return chosen


@dataclass(frozen=True, slots=True)
class SourcedMetadata:
    """A model's metadata, one value per field with its source, and each registry's match note
    (``exact id``, or why it filled nothing, e.g. ``ambiguous model: a, b``)."""

    values: dict[str, Sourced]
    matches: dict[str, str]


def sourced_metadata(session: Session, provider_key: str, model_id: str) -> SourcedMetadata:
    """What the catalog knows about one model, by the order of trust (see :func:`effective`)."""
    found = provider_metadata(session, provider_key, [model_id])
    if model_id not in found:
        raise NotFoundError(unknown_model_message(f"{provider_key}/{model_id}"))
    return found[model_id]


def provider_metadata(
    session: Session, provider_key: str, model_ids: Iterable[str] | None = None
) -> dict[str, SourcedMetadata]:
    """:func:`sourced_metadata` of every model of a provider (or of ``model_ids``) at once."""
    wanted = list(model_ids) if model_ids is not None else None
    query = select(
        col(Model.model_id), col(Model.last_seen_at), *(getattr(Model, f) for f in METADATA_COLUMNS)
    ).where(col(Model.provider_id) == _provider_id(session, provider_key))
    if wanted is not None:
        query = query.where(col(Model.model_id).in_(wanted))
    facts = read_facts(session, provider_key, wanted)
    found: dict[str, SourcedMetadata] = {}
    for row in session.execute(query):
        model_id, seen_at = row[0], row[1]
        listed = dict(zip(METADATA_COLUMNS, row[2:], strict=True))
        own = facts.get(model_id, {})
        matches = {
            origin: str(fact.value)
            for origin, fact in own.get(MATCH_FIELD, {}).items()
            if fact.value is not None
        }
        found[model_id] = SourcedMetadata(effective(listed, seen_at, own), matches)
    return found


# Numbers further apart than this (relative to the larger) disagree; flags disagree when one
# source says a model has a capability that another's list of capabilities lacks.
DISAGREEMENT_RATIO = 0.05
_NUMBERS = ("context_length", "max_output_tokens", "input_price", "output_price")
_FLAGS = ("reasoning", "tools", "vision")


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Two sources that give one field of one model different values."""

    model_id: str
    field: str
    first: Sourced
    second: Sourced


def disagreements(
    model_id: str, listed: Mapping[str, Any], facts: Mapping[str, Mapping[str, Sourced]]
) -> list[Disagreement]:
    """Where the listed value and the registries' values of a model disagree: numbers more than
    :data:`DISAGREEMENT_RATIO` apart, or different capability flags (reasoning, tools, vision).
    The user's overrides are the user's choice and are not compared."""
    found: list[Disagreement] = []
    for field in (*_NUMBERS, "capabilities"):
        sources = [
            fact for origin, fact in facts.get(field, {}).items() if origin not in (USER, LISTED)
        ]
        value = listed.get(field)
        if value not in (None, [], ()):
            sources.insert(0, Sourced(value, LISTED))
        for i, first in enumerate(sources):
            for second in sources[i + 1 :]:
                if _differ(field, first.value, second.value):
                    found.append(Disagreement(model_id, field, first, second))
    return found


def _differ(field: str, a: Any, b: Any) -> bool:
    if field == "capabilities":
        return {f for f in _FLAGS if f in a} != {f for f in _FLAGS if f in b}
    high = max(abs(float(a)), abs(float(b)))
    return high > 0 and abs(float(a) - float(b)) / high > DISAGREEMENT_RATIO


def provider_disagreements(session: Session, provider_key: str) -> list[Disagreement]:
    """Every disagreement between the sources of a provider's models, by model id."""
    facts = read_facts(session, provider_key)
    if not facts:
        return []
    provider_id = _provider_id(session, provider_key)
    rows = session.execute(
        select(col(Model.model_id), *(getattr(Model, name) for name in METADATA_COLUMNS))
        .where(col(Model.provider_id) == provider_id)
        .where(col(Model.model_id).in_(list(facts)))
        .order_by(col(Model.model_id))
    )
    found: list[Disagreement] = []
    for row in rows:
        listed = dict(zip(METADATA_COLUMNS, row[1:], strict=True))
        found.extend(disagreements(row[0], listed, facts[row[0]]))
    return found
