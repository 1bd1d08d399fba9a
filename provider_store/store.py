"""ProviderStore: the catalog (:class:`~CatalogStore`) plus legacy YAML.

The catalog wing knows nothing of YAML; this class joins the two so that ``store.import_yaml`` and
``store.export_yaml`` keep working where users call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.tables import EventType, utc_now
from provider_store.history import feed, ping_stats, retention
from provider_store.history.change_event import ChangeEvent
from provider_store.history.ping_stats import ModelStats

if TYPE_CHECKING:
    from provider_store.legacy.import_report import ImportReport

# The legacy wing (PyYAML) is imported by the methods that use it: listing the catalog
# does not pay for it.


class ProviderStore(CatalogStore):
    """The durable catalog of providers and models, with legacy YAML import and export."""

    # -- legacy YAML import / export --------------------------------------------------------

    def import_yaml(
        self, path: str | Path, *, replace: bool = False, dry_run: bool = False
    ) -> ImportReport:
        """Import a legacy YAML file in one transaction; see :mod:`provider_store.legacy.importer`.

        Merge by default (the file's providers are inserted or updated, others left alone);
        ``replace`` makes the store equal to the file; ``dry_run`` reports and writes nothing.
        Raises InvalidDocumentError (file, line, field) for bad input, leaving the store as it was.
        """
        from provider_store.legacy import importer

        return importer.import_yaml(self, path, replace=replace, dry_run=dry_run)

    def export_yaml(
        self, path: str | Path, *, redact_keys: bool = False, with_metadata: bool = False
    ) -> int:
        """Write the catalog as legacy YAML to ``path`` atomically; return the bytes written.

        The file gets mode 0600 when it contains any API key; ``redact_keys`` writes "" instead.
        ``with_metadata`` adds each provider's ``model_metadata`` (what its model list says about
        its valid and invalid models), which :meth:`import_yaml` reads back.
        """
        from provider_store.legacy import exporter

        return exporter.export_yaml(
            self, path, redact_keys=redact_keys, with_metadata=with_metadata
        )

    def export_yaml_bytes(self, *, redact_keys: bool = False, with_metadata: bool = False) -> bytes:
        """The legacy YAML export as bytes (what :meth:`export_yaml` writes)."""
        from provider_store.legacy import exporter

        return exporter.export_bytes(self, redact_keys=redact_keys, with_metadata=with_metadata)[0]

    # -- discovery cache, errors and validation verdicts ---------------------------------------

    # -- history: change feed, ping statistics, retention ---------------------------------------

    def changes(
        self,
        *,
        since: float | None = None,
        provider: str | None = None,
        model: str | None = None,
        types: Iterable[EventType | str] | None = None,
        limit: int | None = feed.DEFAULT_LIMIT,
        session: Session | None = None,
    ) -> list[ChangeEvent]:
        """Stored change events, newest first (see :func:`provider_store.history.feed`).

        ``since`` is UTC epoch seconds; ``provider`` / ``model`` match ignoring case; ``types``
        keeps only those types (``added``, ``missing``, ``removed``, ``reappeared``,
        ``changed``, ``verdict``). ValueError names an unknown type.
        """
        with self._reading(session) as s:
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
        """Per-model ping statistics (count, availability, p50/p95 latency) since ``since``."""
        with self._reading(session) as s:
            return ping_stats.model_stats(s, since=since, provider=provider, model=model)

    def prune_history(
        self, *, now: float | None = None, session: Session | None = None
    ) -> retention.PruneReport:
        """Delete every event and observation older than the retention period, now."""
        with self._writing(session) as s:
            return retention.prune(s, utc_now() if now is None else now)

    def retention_days(self, *, session: Session | None = None) -> int:
        """How many days events and observations are kept (default 90)."""
        with self._reading(session) as s:
            return retention.retention_days(s)

    def set_retention_days(self, days: int, *, session: Session | None = None) -> None:
        """Keep events and observations for ``days`` days (ValueError below 1)."""
        with self._writing(session) as s:
            retention.set_retention_days(s, days)

    def set_removal_policy(
        self,
        key: str,
        *,
        confirmations: int | None = None,
        min_age_seconds: float | None = None,
        session: Session | None = None,
    ) -> None:
        """Set after how many complete listings in a row (default 2) and how long (default
        3600 s) a missing model of provider ``key`` is removed. ValueError for a value below 1
        (confirmations) or below 0 (age)."""
        if confirmations is not None and confirmations < 1:
            raise ValueError("removal confirmations must be at least 1")
        if min_age_seconds is not None and min_age_seconds < 0:
            raise ValueError("the minimum age of a removal must be >= 0 seconds")
        with self._writing(session) as s:
            provider = self.get_provider(key, session=s)
            if confirmations is not None:
                provider.removal_confirmations = confirmations
            if min_age_seconds is not None:
                provider.removal_min_age_seconds = min_age_seconds
            s.add(provider)
