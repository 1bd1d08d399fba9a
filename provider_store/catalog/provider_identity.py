"""A provider's identity: the row and the settings a discovery run's results belong to.

A run reads each provider's identity before its network calls (:func:`read_identities`) and,
inside each write transaction, re-reads it with the row locked (``lock=True``): when the
provider was renamed, removed or had a setting edited (name, base URL, key, kind, options)
meanwhile, the identities differ and the run's results for it are not saved. The key itself
is kept only as a digest, so an identity can be logged or shown without exposing it.

Session-level functions: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from provider_store.catalog.light_tables import PROVIDER

__all__ = ["ProviderIdentity", "identity_change", "read_identities"]

_P = PROVIDER.c


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Provider ``key``'s row id and a digest of its settings (name, URL, key, kind, options)."""

    key: str
    row_id: int
    settings: str


def _digest(*values: object) -> str:
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read_identities(
    session: Session, keys: Collection[str], *, lock: bool = False
) -> dict[str, ProviderIdentity]:
    """The identity of each provider of ``keys`` that exists; ``lock`` locks the rows (in id
    order) for the rest of the transaction."""
    if not keys:
        return {}
    query = (
        select(_P.id, _P.key, _P.name, _P.base_api_url, _P.api_key, _P.kind, _P.options)
        .where(_P.key.in_(sorted(keys)))
        .order_by(_P.id)
    )
    if lock:
        query = query.with_for_update()
    return {
        row.key: ProviderIdentity(
            row.key,
            int(row.id),
            _digest(row.name, row.base_api_url, row.api_key, row.kind, row.options),
        )
        for row in session.execute(query)
    }


def identity_change(
    key: str, before: ProviderIdentity | None, now: ProviderIdentity | None
) -> str | None:
    """Why provider ``key`` is no longer the one a run started from (None when it is)."""
    if before is None:
        return f"provider {key} was not in the catalog when the run started"
    if now is None:
        return f"provider {key} was renamed or removed during the run"
    if now.row_id != before.row_id:
        return f"provider {key} was replaced during the run"
    if now.settings != before.settings:
        return f"provider {key}'s settings were edited during the run"
    return None
