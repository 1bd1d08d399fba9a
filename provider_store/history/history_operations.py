"""The history operations of :class:`~provider_store.ProviderStore`: the change feed, ping
statistics and retention.

The history readers are imported by the methods that use them: opening a store does not pay
for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlmodel import Session

from provider_store.catalog.catalog_rows import reading, writing
from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.states import EventType, utc_now
from provider_store.rules import DEFAULT_CHANGES_LIMIT, MAX_INTEGER, check_epoch, check_whole_number

if TYPE_CHECKING:
    from provider_store.history.change_event import ChangeEvent
    from provider_store.history.ping_stats import ModelStats
    from provider_store.history.retention import PruneReport


class HistoryOperations(CatalogStore):
    """The history operations of :class:`~provider_store.ProviderStore` (see the README's
    library section); not a class to open on its own."""

    def changes(
        self,
        *,
        since: float | None = None,
        provider: str | None = None,
        model: str | None = None,
        types: Iterable[EventType | str] | None = None,
        limit: int | None = DEFAULT_CHANGES_LIMIT,
        session: Session | None = None,
    ) -> list[ChangeEvent]:
        """Stored change events, newest first (see :func:`provider_store.history.feed`).

        ``since`` is UTC epoch seconds; ``provider`` / ``model`` match ignoring case; ``types``
        keeps only those types (``added``, ``missing``, ``removed``, ``reappeared``,
        ``changed``, ``verdict``). ValueError names an unknown type; InvalidDocumentError a
        ``since`` that is no time of the years 1 to 9999 or a ``limit`` below 1.
        """
        from provider_store.history import feed

        if since is not None:
            since = check_epoch(since, field="since")
        if limit is not None:
            limit = check_whole_number(limit, field="limit", low=1, high=MAX_INTEGER)

        with reading(self, session) as s:
            return feed.read_changes(
                s, since=since, provider=provider, model=model, types=types, limit=limit
            )

    def model_stats(
        self,
        *,
        since: float | None = None,
        provider: str | None = None,
        model: str | None = None,
        session: Session | None = None,
    ) -> list[ModelStats]:
        """Per-model ping statistics (count, availability, p50/p95 latency) since ``since``
        (UTC epoch seconds; InvalidDocumentError for no time of the years 1 to 9999)."""
        from provider_store.history import ping_stats

        if since is not None:
            since = check_epoch(since, field="since")

        with reading(self, session) as s:
            return ping_stats.model_stats(s, since=since, provider=provider, model=model)

    def prune_history(
        self, *, now: float | None = None, session: Session | None = None
    ) -> PruneReport:
        """Delete every event and observation older than the retention period, now."""
        from provider_store.history import retention

        with writing(self, session) as s:
            return retention.prune(s, utc_now() if now is None else now)

    def retention_days(self, *, session: Session | None = None) -> int:
        """How many days events and observations are kept (default 90)."""
        from provider_store.history import retention

        with reading(self, session) as s:
            return retention.retention_days(s)

    def set_retention_days(self, days: int, *, session: Session | None = None) -> None:
        """Keep events and observations for ``days`` days (InvalidDocumentError below 1)."""
        from provider_store.history import retention

        with writing(self, session) as s:
            retention.set_retention_days(s, days)
