"""Writing a freshly fetched model list: the cache columns plus each listed model's metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from provider_store.catalog import cache_rows
from provider_store.catalog.metadata_columns import write_model_infos
from provider_store.model_info import ModelInfo
from provider_store.providers.listed_info import model_infos

__all__ = ["write_listing"]


def write_listing(
    session: Session,
    provider_key: str,
    models: list[dict[str, Any]],
    fetched_at: float,
    infos: Sequence[ModelInfo] | None = None,
) -> None:
    """Store ``models`` as the provider's cache (with sightings) and their metadata as columns.

    Pass ``infos`` (:func:`~provider_store.providers.listed_info.model_infos` of ``models``) read
    before the transaction began, so the write lock is not held while items are parsed.
    """
    cache_rows.write_cache(session, provider_key, models, fetched_at)
    write_model_infos(session, provider_key, model_infos(models) if infos is None else infos)
