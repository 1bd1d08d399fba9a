"""Hand verdicts: a model the user marked valid or invalid keeps that mark.

``models mark`` sets ``model.hand_mark`` (and the verdict it stands for); discovery, validation
and the verdict write leave such a model as the user put it until ``models unmark`` returns it
to discovery's care. Session-level functions: the caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import and_, select, update
from sqlmodel import Session

from provider_store.catalog.light_tables import MODEL
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
