"""Hand verdicts: a model the user marked valid or invalid keeps that mark.

``models mark`` sets ``model.hand_mark`` (and the verdict it stands for); discovery, validation
and the verdict write leave such a model as the user put it until ``models unmark`` returns it
to discovery's care. Session-level functions: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, select, update
from sqlmodel import Session

from provider_store.catalog.light_tables import MODEL, PROVIDER
from provider_store.catalog.states import ModelStatus, Verdict
from provider_store.errors import ConfigurationError
from provider_store.provider_config import ProviderConfig

MARKS = (ModelStatus.VALID.value, ModelStatus.INVALID.value)


def read_marks(session: Session, provider_id: int) -> dict[str, str]:
    """Model id -> ``valid`` / ``invalid`` for every hand-marked model of a provider."""
    m = MODEL.c
    rows = session.execute(
        select(m.model_id, m.hand_mark).where(
            and_(m.provider_id == provider_id, m.hand_mark.is_not(None))
        )
    )
    return {model_id: mark for model_id, mark in rows if mark in MARKS}


def marks_by_id(session: Session, provider_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """:func:`read_marks` of each of ``provider_ids``, by id, in one query."""
    ids = list(dict.fromkeys(provider_ids))
    result: dict[int, dict[str, str]] = {pid: {} for pid in ids}
    if not ids:
        return result
    m = MODEL.c
    rows = session.execute(
        select(m.provider_id, m.model_id, m.hand_mark).where(
            and_(m.provider_id.in_(ids), m.hand_mark.is_not(None))
        )
    )
    for provider_id, model_id, mark in rows:
        if mark in MARKS:
            result[provider_id][model_id] = mark
    return result


def marks_of(session: Session, provider_keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """:func:`read_marks` of each of ``provider_keys``, by key, in one query (a provider that does
    not exist has none)."""
    keys = list(dict.fromkeys(provider_keys))
    result: dict[str, dict[str, str]] = {key: {} for key in keys}
    if not keys:
        return result
    m, p = MODEL.c, PROVIDER.c
    rows = session.execute(
        select(p.key, m.model_id, m.hand_mark)
        .select_from(MODEL.join(PROVIDER, p.id == m.provider_id))
        .where(and_(p.key.in_(keys), m.hand_mark.is_not(None)))
    )
    for key, model_id, mark in rows:
        if mark in MARKS:
            result[key][model_id] = mark
    return result


def keep_marks(config: ProviderConfig, marks: dict[str, str], aliases: dict[str, str]) -> None:
    """Put every hand-marked model back in the list its mark names (``aliases``: the valid
    models' aliases before the change, so a re-added model keeps its alias)."""
    for model_id, mark in marks.items():
        if mark == ModelStatus.VALID.value:
            if model_id in config.invalid_models:
                config.invalid_models.remove(model_id)
            if model_id not in config.valid_models:
                config.valid_models[model_id] = aliases.get(model_id, model_id)
        else:
            config.valid_models.pop(model_id, None)
            if model_id not in config.invalid_models:
                config.invalid_models.append(model_id)


def write_mark(
    session: Session,
    provider_id: int,
    model_id: str,
    mark: str | None,
    reason: str | None,
    at: float,
) -> None:
    """Set (``valid`` / ``invalid``) or clear (None) a model's hand mark on its existing row.

    A mark is also the model's verdict (reason ``marked <mark> by hand[: reason]``); clearing it
    clears that verdict too, so the next discovery run pings the model again.
    """
    if mark is not None and mark not in MARKS:
        raise ConfigurationError(f"a model is marked valid or invalid, not {mark!r}")
    from sqlmodel import col

    from provider_store.catalog.tables import Model  # an ORM update: loaded rows follow it

    where = and_(col(Model.provider_id) == provider_id, col(Model.model_id) == model_id)
    if mark is None:
        values: dict[str, object] = {
            "hand_mark": None,
            "verdict": None,
            "verdict_reason": None,
            "verdict_at": None,
        }
    else:
        text = f"marked {mark} by hand" + (f": {reason}" if reason else "")
        values = {
            "hand_mark": mark,
            "verdict": Verdict(mark).value,
            "verdict_reason": text[:2000],
            "verdict_at": at,
        }
    session.execute(update(Model).where(where).values(**values))
