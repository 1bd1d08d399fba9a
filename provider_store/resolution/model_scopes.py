"""The scope of :meth:`ProviderManager.locate`: every model the catalog holds, kept until dropped.

Over a store: every model row, whatever its status (valid, invalid, unverified, listed,
removed), read in one light query. Over plain configs: their valid and invalid models and the
ids of their listed models. The :class:`~provider_store.resolution.model_refs.Names` and the
:class:`~provider_store.resolution.completions.CompletionIndex` over them are built on first use
and kept until :meth:`EveryModel.drop` (the manager drops them whenever its configs change).
"""

from __future__ import annotations

from collections.abc import Mapping

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.provider_config import ProviderConfig
from provider_store.resolution.completions import CompletionIndex
from provider_store.resolution.model_refs import Names

__all__ = ["EveryModel", "every_model"]


class EveryModel:
    """Every model the catalog holds, as a :class:`Names` scope and its completions."""

    def __init__(self) -> None:
        self._names: Names | None = None
        self._completions: CompletionIndex | None = None

    def drop(self) -> None:
        """Forget both; the next use reads them again."""
        self._names = None
        self._completions = None

    def names(self, providers: Mapping[str, ProviderConfig], store: CatalogStore | None) -> Names:
        """The scope over ``store``'s model rows (of the providers in ``providers``), or over
        ``providers`` alone when ``store`` is None."""
        names = self._names
        if names is None:
            if store is not None:
                from provider_store.catalog.model_names import model_names

                with store.read() as session:
                    catalog = model_names(session)
                names = Names.build([(key, models) for key, models in catalog if key in providers])
            else:
                names = Names.build([(key, every_model(c)) for key, c in providers.items()])
            self._names = names
        return names

    def completions(
        self, providers: Mapping[str, ProviderConfig], store: CatalogStore | None
    ) -> CompletionIndex:
        """The completion index over :meth:`names`."""
        names = self.names(providers, store)
        completions = self._completions
        if completions is None or completions.names is not names:
            completions = CompletionIndex(names)
            self._completions = completions
        return completions


def every_model(config: ProviderConfig) -> dict[str, str]:
    """``{model_id: alias}`` of every model a config knows: valid, invalid and listed ones."""
    models = dict(config.valid_models)
    for model_id in config.invalid_models:
        models.setdefault(model_id, model_id)
    for item in config.list_cache.models or []:
        listed = item.get("id") if isinstance(item, dict) else None
        if isinstance(listed, str):
            models.setdefault(listed, listed)
    return models
