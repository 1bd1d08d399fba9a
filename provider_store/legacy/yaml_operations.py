"""The legacy YAML operations of :class:`~provider_store.ProviderStore`: import and export.

PyYAML and the importer are imported by the methods that use them: opening a store does not
pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.rules import DEFAULT_MAX_MODELS

if TYPE_CHECKING:
    from provider_store.legacy.import_report import ImportReport


class YamlOperations(CatalogStore):
    """The legacy YAML operations of :class:`~provider_store.ProviderStore` (see the README's
    library section); not a class to open on its own."""

    def import_yaml(
        self,
        path: str | Path,
        *,
        replace: bool = False,
        dry_run: bool = False,
        data: bytes | None = None,
        max_models: int = DEFAULT_MAX_MODELS,
    ) -> ImportReport:
        """Import a legacy YAML file in one transaction; see :mod:`provider_store.legacy.importer`.

        ``data``, when given, is the document itself (e.g. read from standard input), and
        ``path`` only names it in messages.

        Merge by default (the file's providers are inserted or updated, others left alone);
        ``replace`` makes the store equal to the file; ``dry_run`` reports and writes nothing.
        Raises InvalidDocumentError (file, line, field) for bad input, leaving the store as it was,
        including a provider with more than ``max_models`` models (discovery's cap, 20,000).
        """
        from provider_store.legacy import importer

        return importer.import_yaml(
            self,
            path,
            replace=replace,
            dry_run=dry_run,
            data=data,
            max_models=max_models,
        )

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
