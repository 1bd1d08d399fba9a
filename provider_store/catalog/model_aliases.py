"""Aliases of valid models: one alias names one model in the whole catalog.

An alias is a valid model's short name (the ``alias`` column, equal to the model id when none
was set). :func:`set_alias` refuses an alias that another model holds anywhere in the catalog
(ignoring case), naming that model, unless ``move`` takes it from there; it also refuses an
alias that is another valid model's id, or that starts with a provider key and a slash, since
either would change what that name resolves to. A legacy YAML import is accepted as it is;
:func:`list_aliases` flags the collisions it brought in.

Session-level functions: the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, or_, select, text, update
from sqlmodel import Session

from provider_store.catalog.change_marker import provider_scope
from provider_store.catalog.light_tables import MODEL, PROVIDER
from provider_store.catalog.provider_edits import model_row, provider_row
from provider_store.catalog.states import ModelStatus
from provider_store.errors import AliasTakenError, ConfigurationError
from provider_store.rules import check_text

__all__ = ["AliasEntry", "list_aliases", "set_alias"]

_VALID = ModelStatus.VALID.value
# PostgreSQL: the transaction-scoped advisory lock that makes alias writes take turns, so two
# writers cannot both find an alias free and both take it (SQLite's writers take turns anyway).
ALIAS_LOCK_ID = 0x70735F616C696173  # "ps_alias"


@dataclass(frozen=True, slots=True)
class AliasEntry:
    """One alias and the model it names, with what else answers to the same name.

    ``also_alias_of``: the other models holding the same alias (ignoring case), which only a
    legacy import can bring in; ``also_id_of``: valid models whose id is this alias.
    """

    alias: str
    provider: str
    model: str
    also_alias_of: tuple[str, ...] = ()
    also_id_of: tuple[str, ...] = ()

    @property
    def collides(self) -> bool:
        """True when the alias does not name this model alone."""
        return bool(self.also_alias_of or self.also_id_of)


def _valid_rows(session: Session) -> list[tuple[str, str, str]]:
    """``(provider_key, model_id, alias)`` of every valid model, in catalog order."""
    p, m = PROVIDER.c, MODEL.c
    query = (
        select(p.key, m.model_id, m.alias)
        .join_from(MODEL, PROVIDER, m.provider_id == p.id)
        .where(m.status == _VALID)
        .order_by(p.position, p.id, m.position, m.id)
    )
    return [(key, model_id, alias or model_id) for key, model_id, alias in session.execute(query)]


def has_alias(model_id: str, alias: str | None) -> bool:
    """Whether ``alias`` is a name of its own (not the model id, ignoring case)."""
    return alias is not None and alias != "" and alias.lower() != model_id.lower()


def list_aliases(session: Session) -> list[AliasEntry]:
    """Every alias of a valid model, in catalog order, with its collisions."""
    rows = _valid_rows(session)
    holders: dict[str, list[str]] = defaultdict(list)
    ids: dict[str, list[str]] = defaultdict(list)
    for key, model_id, alias in rows:
        ids[model_id.lower()].append(f"{key}/{model_id}")
        if has_alias(model_id, alias):
            holders[alias.lower()].append(f"{key}/{model_id}")
    entries = []
    for key, model_id, alias in rows:
        if not has_alias(model_id, alias):
            continue
        me = f"{key}/{model_id}"
        entries.append(
            AliasEntry(
                alias=alias,
                provider=key,
                model=model_id,
                also_alias_of=tuple(h for h in holders[alias.lower()] if h != me),
                also_id_of=tuple(ids.get(alias.lower(), ())),
            )
        )
    return entries


def set_alias(
    session: Session, key: str, model_id: str, alias: str | None, *, move: bool = False
) -> list[str]:
    """Give valid model ``model_id`` of ``key`` the alias ``alias`` (None: no alias).

    Returns the ``provider/model`` of each model ``move`` took the alias from (empty when it
    was free). :class:`AliasTakenError` names the holder when another model has the alias and
    ``move`` is false; ConfigurationError when the alias is unusable (empty, too long, another
    valid model's id, or ``provider/...`` of a provider in the catalog).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": ALIAS_LOCK_ID})
    provider = provider_row(session, key)
    row = model_row(session, provider, model_id)
    if row.status != _VALID:
        raise ConfigurationError(
            f"{key}/{model_id} is {row.status}; only valid models have aliases"
            f" (mark it valid first: models mark {key}/{model_id} valid)"
        )
    if alias is None or alias.strip() == model_id:
        row.alias = model_id
        session.add(row)
        return []
    alias = _usable(session, alias)
    taken: list[tuple[str, str, int]] = []
    me = f"{key}/{model_id}"
    for other_key, other_id, other_alias, row_id in _same_name(session, alias):
        other = f"{other_key}/{other_id}"
        if other == me:
            continue
        if other_id.lower() == alias.lower():
            raise ConfigurationError(
                f"alias {alias!r} is the id of {other}; an alias must not name another model"
            )
        if has_alias(other_id, other_alias):
            taken.append((other_key, other_id, row_id))
    if taken and not move:
        raise AliasTakenError(alias, [f"{k}/{m}" for k, m, _row in taken])
    for other_key, other_id, row_id in taken:
        with provider_scope(session, other_key):
            session.execute(update(MODEL).where(MODEL.c.id == row_id).values(alias=other_id))
    row.alias = alias
    session.add(row)
    return [f"{k}/{m}" for k, m, _row in taken]


def _usable(session: Session, alias: str) -> str:
    """``alias`` stripped, or ConfigurationError saying why it cannot be an alias."""
    alias = alias.strip()
    if not alias:
        raise ConfigurationError("an alias must not be empty: give a short name")
    check_text(alias, field="alias")
    if "/" in alias:
        head = alias.split("/", 1)[0].lower()
        keys = session.execute(select(PROVIDER.c.key)).scalars()
        if any(k.lower() == head for k in keys):
            raise ConfigurationError(
                f"alias {alias!r} is not usable: it reads as provider/model; give a short name"
            )
    return alias


def _same_name(session: Session, alias: str) -> list[tuple[str, str, str, int]]:
    """``(provider_key, model_id, alias, row id)`` of the valid models whose id or alias is
    ``alias`` (ignoring case)."""
    p, m = PROVIDER.c, MODEL.c
    lowered = alias.lower()
    query = (
        select(p.key, m.model_id, m.alias, m.id)
        .join_from(MODEL, PROVIDER, m.provider_id == p.id)
        .where(m.status == _VALID)
        .where(or_(func.lower(m.alias) == lowered, func.lower(m.model_id) == lowered))
        .order_by(p.position, p.id, m.position)
    )
    return [(k, mid, a or mid, rid) for k, mid, a, rid in session.execute(query)]
