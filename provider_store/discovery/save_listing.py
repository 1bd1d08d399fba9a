"""Writing a freshly fetched model list: the cache columns plus each listed model's metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from provider_store.catalog import cache_rows
from provider_store.catalog.change_marker import provider_scope
from provider_store.catalog.metadata_columns import update_metadata, write_model_infos
from provider_store.history.listing_events import ListingChanges, record_listing
from provider_store.model_info import ModelInfo
from provider_store.providers.listed_info import model_infos

__all__ = ["write_listing"]


def write_listing(
    session: Session,
    provider_key: str,
    models: list[dict[str, Any]],
    fetched_at: float,
    infos: Sequence[ModelInfo] | None = None,
    *,
    history: bool = True,
) -> ListingChanges | None:
    """Store ``models`` as the provider's cache (with sightings) and their metadata as columns.

    Pass ``infos`` (:func:`~provider_store.providers.listed_info.model_infos` of ``models``) read
    before the transaction began, so the write lock is not held while items are parsed. Only a
    complete, successful listing is written here, so it is also compared with what the catalog
    holds now and the difference is stored as events (:mod:`provider_store.history`), in the
    same transaction; ``history=False`` skips that (returns None).
    """
    listed = model_infos(models) if infos is None else infos
    with provider_scope(session, provider_key):  # running managers re-read only this provider
        if not history:
            cache_rows.write_cache(session, provider_key, models, fetched_at)
            write_model_infos(session, provider_key, listed)
            return None
        # One read of the stored rows serves the events, the sightings and the metadata write
        # (new rows are inserted with their metadata).
        changes = record_listing(session, provider_key, listed, fetched_at)
        cache_rows.write_cache(session, provider_key, models, fetched_at, known=changes.known)
        update_metadata(session, changes.provider_id, changes.metadata_rows)
        return changes
