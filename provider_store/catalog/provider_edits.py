"""Everyday edits of the catalog: rename and remove providers, set keys and hand marks.

Session-level functions (the caller owns the transaction) behind the ``ProviderStore`` methods
``add_provider``, ``update_provider``, ``remove_providers``, ``rename_provider``,
``set_api_key`` and ``mark_model`` (aliases: :mod:`provider_store.catalog.model_aliases`).

A provider's history (its change events, ping observations and their rollup) is kept by
provider key: a rename moves it to the new key in the rename's transaction, and a provider
created under a key (added, imported, renamed to it) starts with none, even where a removed
provider of that key (in any case) left some that retention has not pruned yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, func, update
from sqlmodel import Session, col, select

from provider_store.catalog import hand_marks
from provider_store.catalog.states import ModelStatus, utc_now
from provider_store.catalog.tables import PING_ROLLUP, Event, Model, Observation, Provider
from provider_store.errors import ConfigurationError, NotFoundError
from provider_store.rules import (
    MAX_REASON_LENGTH,
    check_new_api_key,
    check_provider_key,
    check_text,
    is_placeholder_key,
)
from provider_store.suggestions import nearest, unknown_model_message, unknown_provider

# The tables that keep history by provider key.
_HISTORY_TABLES: tuple[Table, ...] = (
    cast(Table, getattr(Event, "__table__")),  # noqa: B009 - untyped in SQLModel
    cast(Table, getattr(Observation, "__table__")),  # noqa: B009
    PING_ROLLUP,
)


# Keys named in one statement (well under every backend's limit of bound parameters).
_KEYS_PER_STATEMENT = 500


def checked_key(key: str) -> str:
    """``key``, or InvalidDocumentError stating the provider-key rule (``rules``)."""
    return check_provider_key(key, field="key")


def refuse_case_twin(session: Session, key: str, *, besides: str | None = None) -> None:
    """ConfigurationError when the catalog holds a provider whose key is ``key`` in any case
    (other than ``besides``): provider keys are unique regardless of case (``groq``, ``Groq``
    and ``GROQ`` would share ``$GROQ_API_KEY``)."""
    found = session.execute(
        select(col(Provider.key)).where(func.lower(col(Provider.key)) == key.lower())
    ).scalars()
    for other in found:
        if other == besides:
            continue
        if other == key:
            raise ConfigurationError(
                f"provider {key} already exists; remove it first or pick another key"
            )
        raise ConfigurationError(
            f"provider {other} already exists and keys are unique regardless of case;"
            f" use {other} or pick another key"
        )


def move_history(session: Session, old: str, new: str) -> None:
    """Give ``old``'s history (events, observations, ping rollup) to ``new``, after dropping
    what a removed provider left under ``new``."""
    drop_history(session, new, besides=old)
    for table in _HISTORY_TABLES:
        session.execute(update(table).where(table.c.provider_key == old).values(provider_key=new))


def drop_history(session: Session | Connection, *keys: str, besides: str | None = None) -> None:
    """Delete the history kept under each of ``keys`` in any case (except under ``besides``
    exactly): a provider created under a key starts with none. One statement per history table
    (each reads the table once: the key's case is not indexed)."""
    if not keys:
        return
    lowered = sorted({key.lower() for key in keys})
    for table in _HISTORY_TABLES:
        for start in range(0, len(lowered), _KEYS_PER_STATEMENT):
            some = lowered[start : start + _KEYS_PER_STATEMENT]
            condition: ColumnElement[bool] = func.lower(table.c.provider_key).in_(some)
            if besides is not None:
                condition = and_(condition, table.c.provider_key != besides)
            session.execute(delete(table).where(condition))


def provider_row(session: Session, key: str) -> Provider:
    """The provider row of ``key``, locked for writing; NotFoundError suggests near keys."""
    row = session.exec(
        select(Provider).where(col(Provider.key) == key).with_for_update()
    ).one_or_none()
    if row is None:
        known = list(session.execute(select(col(Provider.key))).scalars())
        raise unknown_provider(key, known)
    return row


@dataclass(frozen=True)
class ProviderRemoval:
    """What removing one provider takes with it."""

    key: str
    models: int
    stored_key: bool
    verdicts: int

    def describe(self) -> str:
        """One line: ``openai: 12 models, 10 verdicts, its stored API key``."""
        parts = [f"{self.models} models", f"{self.verdicts} verdicts"]
        if self.stored_key:
            parts.append("its stored API key")
        return f"{self.key}: {', '.join(parts)}"


def removals(session: Session, keys: list[str]) -> list[ProviderRemoval]:
    """What removing ``keys`` would take (NotFoundError for an unknown key, nothing removed)."""
    result = []
    for key in dict.fromkeys(keys):
        provider = provider_row(session, key)
        counts = session.execute(
            select(func.count(), func.count(col(Model.verdict))).where(
                col(Model.provider_id) == provider.id
            )
        ).one()
        result.append(
            ProviderRemoval(key, int(counts[0]), has_stored_key(provider.api_key), int(counts[1]))
        )
    return result


def has_stored_key(api_key: str) -> bool:
    """True when ``api_key`` is a real stored key (not empty, not a placeholder)."""
    return not is_placeholder_key(api_key)


def rename(session: Session, old: str, new: str) -> None:
    """Give provider ``old`` the key ``new``; its models, verdicts, facts, cache and history
    (events, observations, ping rollup) go with it."""
    checked_key(new)
    provider = provider_row(session, old)
    if new == old:
        return
    refuse_case_twin(session, new, besides=old)
    provider.key = new
    provider.updated_at = utc_now()
    session.add(provider)
    session.flush()
    move_history(session, old, new)


def set_key(session: Session, key: str, api_key: str | None) -> None:
    """Store ``api_key`` for provider ``key`` (None forgets it: the environment supplies it).

    The key is checked by :func:`~provider_store.rules.check_new_api_key`: an empty key, a
    placeholder or a key with spaces, control characters or non-ASCII letters is refused.
    """
    if api_key is not None:
        api_key = check_new_api_key(key, api_key)
    provider = provider_row(session, key)
    provider.api_key = api_key or ""
    provider.updated_at = utc_now()
    session.add(provider)


def model_row(session: Session, provider: Provider, model_id: str) -> Model:
    """The row of ``model_id`` of ``provider``; NotFoundError (with suggestions) when none."""
    row = session.exec(
        select(Model).where(
            and_(col(Model.provider_id) == provider.id, col(Model.model_id) == model_id)
        )
    ).one_or_none()
    if row is None:
        known = list(
            session.execute(
                select(col(Model.model_id)).where(col(Model.provider_id) == provider.id)
            ).scalars()
        )
        raise NotFoundError(
            unknown_model_message(
                f"{provider.key}/{model_id}",
                [f"{provider.key}/{m}" for m in nearest(model_id, known)],
            )
        )
    return row


def ensure_model_row(session: Session, provider: Provider, model_id: str) -> Model:
    """The model row of ``model_id``; a model only in the discovery cache gets an unverified
    row. NotFoundError (with suggestions) when the provider has never seen it."""
    cached = {item.get("id") for item in (provider.models_cache or []) if isinstance(item, dict)}
    exists = session.exec(
        select(Model).where(
            and_(col(Model.provider_id) == provider.id, col(Model.model_id) == model_id)
        )
    ).one_or_none()
    if exists is None and model_id in cached:
        assert provider.id is not None
        session.add(
            Model(
                provider_id=provider.id,
                model_id=model_id,
                alias=model_id,
                status=ModelStatus.UNVERIFIED.value,
            )
        )
        session.flush()
    return model_row(session, provider, model_id)


def mark(
    session: Session, key: str, model_id: str, verdict: str | None, reason: str | None
) -> None:
    """Mark ``model_id`` of ``key`` valid or invalid by hand (None: return it to discovery;
    a model that was marked invalid becomes unverified, so the next discovery run pings it).
    ``reason`` is a text of at most :data:`~provider_store.rules.MAX_REASON_LENGTH` characters."""
    if reason is not None:
        check_text(reason, field="reason", limit=MAX_REASON_LENGTH)
    provider = provider_row(session, key)
    row = ensure_model_row(session, provider, model_id)
    assert provider.id is not None
    now = utc_now()
    if verdict is not None:
        if verdict not in hand_marks.MARKS:
            raise ConfigurationError(f"mark a model valid or invalid, not {verdict!r}")
        if row.status != verdict:
            last = session.execute(
                select(func.max(col(Model.position))).where(
                    and_(col(Model.provider_id) == provider.id, col(Model.status) == verdict)
                )
            ).scalar()
            session.execute(
                update(Model)
                .where(col(Model.id) == row.id)
                .values(
                    status=verdict,
                    alias=row.model_id if verdict == ModelStatus.INVALID.value else row.alias,
                    position=(last if last is not None else -1) + 1,
                )
            )
    elif row.hand_mark == ModelStatus.INVALID.value:
        # Discovery never pings a curated-invalid model: unverified, it is pinged again.
        session.execute(
            update(Model)
            .where(col(Model.id) == row.id)
            .values(status=ModelStatus.UNVERIFIED.value, alias=row.model_id, position=0)
        )
    hand_marks.write_mark(session, provider.id, model_id, verdict, reason, now)
