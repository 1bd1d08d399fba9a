"""The curated lists (``valid_models`` with their aliases, ``invalid_models``) as model rows,
changed in place for many providers at once (they are read by
:func:`provider_store.catalog.config_rows.curated_models`).

Session-level functions: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlmodel import Session

from provider_store.catalog import hand_marks, model_plan
from provider_store.catalog.config_rows import curated_models, settings_config
from provider_store.catalog.light_tables import PROVIDER
from provider_store.provider_config import ProviderConfig

__all__ = ["update_curated"]


def update_curated(
    session: Session, changes: Mapping[str, Callable[[ProviderConfig], None]]
) -> list[str]:
    """Apply each ``change`` to its provider's curated lists as stored now, and store them.

    The provider rows are locked (in id order) and re-read here; ``change`` gets the provider's
    settings and curated lists (not its discovery cache); only the curated model rows are
    written (never the name, URL or key); a model the user marked by hand stays in the list its
    mark names. One query per step for all the providers. Returns the keys without a provider,
    for which nothing is written.
    """
    p = PROVIDER.c
    rows = session.execute(
        select(p.id, p.key, p.name, p.base_api_url, p.api_key, p.kind, p.options)
        .where(p.key.in_(list(changes)))
        .order_by(p.id)
        .with_for_update()
    ).all()
    found = {row.key: row for row in rows}
    ids: list[int] = [row.id for row in rows]
    curated = curated_models(session, list(ids))
    marks = hand_marks.marks_by_id(session, ids)
    conn = session.connection()
    stored = model_plan.stored_models(conn, ids)
    plans = []
    for key, change in changes.items():
        row = found.get(key)
        if row is None:
            continue
        current = settings_config(row, curated)
        current.catalog_key = key
        aliases = dict(current.valid_models)
        change(current)
        # Hand-marked models stay where the user put them (see hand_marks).
        hand_marks.keep_marks(current, marks.get(row.id, {}), aliases)
        wanted = model_plan.wanted_models(current.valid_models, current.invalid_models)
        plans.append(model_plan.plan_models(row.id, stored.get(row.id, []), wanted))
    model_plan.apply_plans(conn, plans)
    return [key for key in changes if key not in found]
