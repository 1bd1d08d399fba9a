"""The names of every model the catalog holds, by provider in catalog order.

What a look-up over the whole catalog (not only the valid models) searches: every model row,
whatever its status (valid, invalid, unverified, listed but never pinged, removed), with its
alias when it is a valid model's. Read through the light table clauses (one Core query per
table, no SQLModel classes).
"""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from provider_store.catalog.light_tables import MODEL, PROVIDER
from provider_store.catalog.states import ModelStatus

__all__ = ["model_names"]

_VALID = ModelStatus.VALID.value


def model_names(session: Session, *, valid_only: bool = False) -> list[tuple[str, dict[str, str]]]:
    """``[(provider_key, {model_id: alias}), ...]`` in catalog order; within a provider the
    valid models first (in their order), then the others. Only valid models have an alias of
    their own: every other model maps to its id. ``valid_only`` leaves the others out."""
    p, m = PROVIDER.c, MODEL.c
    providers = list(session.execute(select(p.id, p.key).order_by(p.position, p.id)))
    names: dict[int, dict[str, str]] = {pid: {} for pid, _key in providers}
    query = select(m.provider_id, m.model_id, m.alias, m.status).order_by(
        m.provider_id, case((m.status == _VALID, 0), else_=1), m.position, m.id
    )
    if valid_only:
        query = query.where(m.status == _VALID)
    for provider_id, model_id, alias, status in session.execute(query):
        models = names.get(provider_id)
        if models is not None:
            models[model_id] = alias if status == _VALID and alias else model_id
    return [(key, names[pid]) for pid, key in providers]
