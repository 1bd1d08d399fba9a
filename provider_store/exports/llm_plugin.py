"""The catalog's models in simonw's ``llm``: an ``llm`` plugin (the ``llm`` entry point).

Installed next to ``llm``, provider-store registers every valid model of every OpenAI-compatible
provider (kind ``openai``) of the catalog as an ``llm`` model, so ``llm -m groq/llama-3.1-8b-instant
"hi"`` and ``llm models`` work against the catalog. ``llm`` imports this module; nothing in the
package does.

- **Names**: ``provider/model``; the aliases of :mod:`~provider_store.exports.catalog_models`
  (``provider/alias``, and the bare alias where it names one model of the catalog), except a
  name a plugin that ``llm`` asked first already registered (``llm``'s own ``4o`` stays its own).
- **Keys**, never printed: ``--key`` when given, else the key the catalog holds, else the key
  ``llm keys set PROVIDER`` stored, else the provider's environment variable (``GROQ_API_KEY``).
  A keyless provider (option ``no_key``) needs none. The provider's extra headers, query
  parameters and key header (options ``headers``, ``query``, ``auth_header``) are sent.
- **Metadata** (context, prices, tools and vision flags) comes from the one model view, read the
  first time a model is described or asked about, so a prompt does not pay for it.
- **Start-up**: the catalog named by ``$PROVIDER_STORE_URL`` (else the per-user file) is read
  through the light tables (settings and valid models only). A catalog file that does not exist
  yet gives no models and is not created; a catalog that cannot be read gives no models and one
  warning, never an error that stops ``llm``.

The native ``anthropic`` and ``gemini`` kinds are left to ``llm``'s plugins for those APIs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import llm
from llm.default_plugins.openai_models import AsyncChat, Chat

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore
    from provider_store.exports.catalog_models import ExportedModel, ExportedProvider

# llm imports this module for every command (``llm logs`` too): the catalog's modules (and
# SQLAlchemy) are imported by the functions below, when a command asks for the models.

__all__ = ["CatalogAsyncChat", "CatalogChat", "register_models"]

logger = logging.getLogger(__name__)

# The kind whose API llm's OpenAI chat model speaks (Chat Completions).
CHAT_COMPLETIONS_KIND = "openai"
# The attachment types llm's own Chat model takes for a vision model.
_VISION_TYPES = frozenset(Chat("vision", vision=True).attachment_types)  # type: ignore[no-untyped-call]
# Shown by ``llm models`` after the id, when the view knows them.
_DESCRIBED = ("context_length", "input_price", "output_price")


class _Catalog:
    """The catalog one ``llm`` process reads, with the metadata it has read so far."""

    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self._values: dict[str, dict[str, dict[str, Any]]] = {}

    def values(self, model: ExportedModel) -> Mapping[str, Any]:
        """The model's metadata (field -> value) from the one model view; the first ask for a
        provider reads all its models at once."""
        if model.provider not in self._values:
            from provider_store.errors import ProviderStoreError
            from provider_store.exports.catalog_models import model_values

            try:
                self._values[model.provider] = model_values(self.store, model.provider)
            except ProviderStoreError as exc:
                logger.warning("provider-store: cannot read model metadata: %s", exc)
                self._values[model.provider] = {}
        return self._values[model.provider].get(model.model_id, {})

    def stored_key(self, provider: str) -> str | None:
        """The key the catalog holds for ``provider``, read when a prompt needs it."""
        from provider_store.exports.catalog_models import stored_keys

        return stored_keys(self.store, [provider]).get(provider)


_opened: dict[str, _Catalog] = {}


def open_catalog() -> _Catalog | None:
    """The catalog of ``$PROVIDER_STORE_URL`` (else the per-user file), opened once per
    process; None when its SQLite file does not exist yet."""
    from provider_store.catalog.catalog_store import CatalogStore
    from provider_store.catalog.db import resolve_url, sqlite_path

    url = resolve_url()
    if url not in _opened:
        path = sqlite_path(url)
        if path is not None and not path.exists():
            logger.debug("provider-store: no catalog at %s yet: no models for llm", path)
            return None
        _opened[url] = _Catalog(CatalogStore(url))
    return _opened[url]


@llm.hookimpl
def register_models(register: Callable[..., None], model_aliases: Iterable[Any]) -> None:
    """Register the catalog's usable models with ``llm`` (see the module docstring)."""
    from provider_store.errors import ProviderStoreError
    from provider_store.exports.catalog_models import read_catalog

    try:
        catalog = open_catalog()
        providers = read_catalog(catalog.store) if catalog is not None else []
    except (ProviderStoreError, ImportError) as exc:
        logger.warning("provider-store: cannot read the catalog, so llm gets no models: %s", exc)
        return
    if catalog is None:
        return
    taken = _names_taken(model_aliases)
    for provider in providers:
        if provider.kind != CHAT_COMPLETIONS_KIND:
            logger.debug(
                "provider-store: %s is of kind %s: not offered", provider.key, provider.kind
            )
            continue
        for model in provider.models:
            aliases = [name for name in model.aliases if name not in taken]
            register(
                CatalogChat(catalog, provider, model),
                CatalogAsyncChat(catalog, provider, model),
                aliases=aliases,
            )


def _names_taken(registered: Iterable[Any]) -> set[str]:
    """The model ids and aliases plugins that ran before registered."""
    taken: set[str] = set()
    for entry in registered:
        model = getattr(entry, "model", None) or getattr(entry, "async_model", None)
        if model is not None:
            taken.add(str(model.model_id))
        taken.update(str(alias) for alias in getattr(entry, "aliases", ()) or ())
    return taken


class _CatalogModel:
    """What the catalog's models add to llm's OpenAI chat models: where the key comes from,
    the provider's connection options, and the metadata of the one model view."""

    model_id: str
    api_base: str | None
    needs_key: str | None
    key_env_var: str | None

    def _setup(self, catalog: _Catalog, provider: ExportedProvider, model: ExportedModel) -> None:
        from provider_store.providers.base import ConnectionOptions
        from provider_store.rules import env_var_for

        self.catalog = catalog
        self.catalog_provider = provider
        self.catalog_model = model
        self.connection = ConnectionOptions.from_mapping(provider.options)
        self.needs_key = None if provider.keyless else provider.key
        self.key_env_var = None if provider.keyless else env_var_for(provider.key)

    def __str__(self) -> str:
        from provider_store.model_info import metadata_field

        values = self.catalog.values(self.catalog_model)
        known = []
        for name in _DESCRIBED:
            described = metadata_field(name)
            if described is not None and values.get(name) is not None:
                label = name.split("_")[0]
                known.append(f"{label} {described.shown(described.from_column(values[name]))}")
        details = f" ({', '.join(known)})" if known else ""
        return f"provider-store: {self.catalog_model.name}{details}"

    @property
    def supports_tools(self) -> bool:
        """True when the catalog says the model takes tools."""
        return "tools" in (self.catalog.values(self.catalog_model).get("capabilities") or ())

    @supports_tools.setter
    def supports_tools(self, _value: bool) -> None:
        """Set by llm's constructor; the catalog decides."""

    @property
    def attachment_types(self) -> frozenset[str]:
        """Image types when the catalog says the model sees images, else none."""
        vision = "vision" in (self.catalog.values(self.catalog_model).get("capabilities") or ())
        return _VISION_TYPES if vision else frozenset()

    @attachment_types.setter
    def attachment_types(self, _value: Any) -> None:
        """Set by llm's constructor; the catalog decides."""

    def get_key(self, explicit_key: str | None = None) -> str | None:
        """The key to send (see the module docstring); llm's NeedsKeyException names where a
        key can come from when none does."""
        if self.needs_key is None:
            return None
        if explicit_key:
            return llm.get_key(input=explicit_key)
        found = (
            self.catalog.stored_key(self.catalog_provider.key)
            or llm.get_key(alias=self.needs_key)
            or _from_environment(self.catalog_provider.key)
        )
        if found:
            return found
        key = self.catalog_provider.key
        raise llm.NeedsKeyException(
            f"No key for provider {key}: store one with 'provider-store keys set {key}' or"
            f" 'llm keys set {self.needs_key}', or set ${self.key_env_var}"
        )

    def get_client(self, key: str | None, *, async_: bool = False) -> Any:
        """The OpenAI client for the provider, with its key, headers and query parameters."""
        import openai

        from provider_store.rules.api_keys import KEYLESS_API_KEY

        api_key = self.get_key(key)
        kwargs: dict[str, Any] = {
            "base_url": self.api_base,
            "api_key": api_key or KEYLESS_API_KEY,
            "default_headers": self.connection.bearer(api_key or ""),
        }
        if self.connection.query:
            kwargs["default_query"] = dict(self.connection.query)
        return openai.AsyncOpenAI(**kwargs) if async_ else openai.OpenAI(**kwargs)


def _from_environment(provider_key: str) -> str | None:
    from provider_store.rules import env_var_in_use

    name = env_var_in_use(provider_key)
    return os.environ[name] if name is not None else None


class CatalogChat(_CatalogModel, Chat):  # type: ignore[misc]
    """A catalog model as an ``llm`` chat model."""

    def __init__(self, catalog: _Catalog, provider: ExportedProvider, model: ExportedModel) -> None:
        Chat.__init__(  # type: ignore[no-untyped-call]
            self, model.name, model_name=model.model_id, api_base=provider.base_api_url
        )
        self._setup(catalog, provider, model)


class CatalogAsyncChat(_CatalogModel, AsyncChat):  # type: ignore[misc]
    """A catalog model as an ``llm`` async chat model."""

    def __init__(self, catalog: _Catalog, provider: ExportedProvider, model: ExportedModel) -> None:
        AsyncChat.__init__(  # type: ignore[no-untyped-call]
            self, model.name, model_name=model.model_id, api_base=provider.base_api_url
        )
        self._setup(catalog, provider, model)
