"""The registry operations of :class:`~provider_store.ProviderStore`: fill the catalog from
models.dev and LiteLLM's cost map, and read what the registries said and where they disagree.

The readers are imported by the methods that use them: opening a store does not pay for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.rules.limits import DEFAULT_REGISTRY_DEADLINE

if TYPE_CHECKING:
    from provider_store.catalog.disagreements import Disagreement
    from provider_store.catalog.registry_rows import SourceRow
    from provider_store.registries.attribute import ProviderFill


class RegistryOperations(CatalogStore):
    """The registry operations of :class:`~provider_store.ProviderStore` (see the README's
    library section); not a class to open on its own."""

    def fill_from_registries(
        self,
        *,
        litellm: str | Path | None = None,
        models_dev: bool = True,
        providers: Iterable[str] | None = None,
        deadline: float | None = None,
        force: bool = False,
    ) -> list[ProviderFill]:
        """Attribute what models.dev (the installed ``models-dev`` data) and, when named, a
        LiteLLM cost map (file or URL, read within ``deadline`` seconds: 60 by default) know
        about the catalog's models; see :mod:`provider_store.registries`. Each registry's
        facts replace what it said before; listed values and the user's overrides are never
        touched. When neither a registry nor a provider's listing changed since the last fill,
        nothing is redone (``force`` redoes it)."""
        from provider_store.registries.attribute import RegistryInput, attribute
        from provider_store.registries.litellm import litellm_input
        from provider_store.registries.models_dev import models_dev_input

        limit = DEFAULT_REGISTRY_DEADLINE if deadline is None else deadline
        inputs: list[RegistryInput] = []
        if litellm is not None:
            inputs.append(litellm_input(litellm, deadline=limit))
        if models_dev:
            inputs.append(models_dev_input())
        return attribute(self, inputs, providers, force=force)

    def registry_sources(self) -> list[SourceRow]:
        """Every registry source last read by :meth:`fill_from_registries`, by origin: its
        version, content hash, where it was read from and what its reader noted."""
        from provider_store.catalog.registry_rows import read_sources

        with self.read() as session:
            return read_sources(session)

    def disagreements(
        self, providers: Iterable[str] | None = None
    ) -> list[tuple[str, Disagreement]]:
        """Every field where a provider's list and the registries disagree (numbers more than
        5% apart, or different flags), with the value used and why, as (provider key,
        disagreement), for ``providers`` (every provider by default); NotFoundError for an
        unknown provider."""
        from provider_store.catalog.disagreements import provider_disagreements

        with self.read() as session:
            known = self.rows.provider_keys(session=session)
            keys = known if providers is None else list(providers)
            for key in keys:
                if key not in known:
                    self.rows.get_config(key, session=session)  # NotFoundError, suggestions
            return [(key, d) for key in keys for d in provider_disagreements(session, key)]
