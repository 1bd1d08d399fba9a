"""provider_store: a durable, cache-backed catalog of OpenAI-compatible LLM providers.

The front door is :func:`open`: ``provider_store.open()`` returns a :class:`ProviderManager`
over the default catalog (``resolve``, ``complete``, ``discover``, ``model_view``; its ``store``
for curation). :func:`model_views` is the one model view of a store, read in bulk.
Import the public API from here; submodules are implementation detail unless documented.
The public names are the keys of ``_LAZY_NAMES`` (plus ``__version__``); ``__all__`` is derived
from it, and the ``TYPE_CHECKING`` imports (for type checkers) are tested to match it.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provider_store.catalog.cache_rows import CacheState
    from provider_store.catalog.catalog_store import CatalogStore
    from provider_store.catalog.change_listener import ChangeSignal
    from provider_store.catalog.change_marker import ChangeTokens
    from provider_store.catalog.db import build_engine, resolve_url
    from provider_store.catalog.disagreements import Disagreement
    from provider_store.catalog.model_aliases import AliasEntry
    from provider_store.catalog.model_view_rows import Sourced, SourcedMetadata
    from provider_store.catalog.provider_details import ProviderDetails
    from provider_store.catalog.provider_edits import ProviderRemoval
    from provider_store.catalog.reconcile import Candidate, FieldChoice, RegistryOrder
    from provider_store.catalog.records import ValidationResult
    from provider_store.catalog.registry_rows import SourceRow
    from provider_store.catalog.schema_changes import DowngradePlan, SchemaStatus
    from provider_store.catalog.states import EventType, ModelStatus, Verdict
    from provider_store.catalog.tables import Provider
    from provider_store.discovery.keeper import Keeper, KeeperRefresh
    from provider_store.discovery.results import DiscoveryResult, Source
    from provider_store.discovery.run import DiscoveryServiceLike
    from provider_store.discovery.run_report import (
        DiscoveryOptions,
        DiscoveryReport,
        Phase,
        ProgressEvent,
        ProviderStatus,
        ProviderSummary,
    )
    from provider_store.discovery.service import ModelDiscoveryService
    from provider_store.errors import (
        AliasTakenError,
        AmbiguousModelError,
        BadResponseError,
        CacheWriteError,
        CatalogUnavailableError,
        ConfigurationError,
        DiscoveryError,
        ForeignDatabaseError,
        InvalidDocumentError,
        InvalidQueryError,
        InvalidRegistryError,
        MissingKeyError,
        NewerCatalogError,
        NotAListError,
        NotFoundError,
        OptionsError,
        ProviderConnectionError,
        ProviderHTTPError,
        ProviderKeyError,
        ProviderStoreError,
        RegistryError,
        StoreError,
        UnknownModelError,
    )
    from provider_store.exports.litellm_proxy import ExpectedVariable, LitellmConfig, litellm_config
    from provider_store.history.change_event import ChangeEvent
    from provider_store.history.ping_stats import ModelStats
    from provider_store.history.retention import PruneReport
    from provider_store.legacy.import_report import ImportReport, ProviderChange
    from provider_store.model_info import ModelInfo
    from provider_store.provider_config import ListCache, ProviderConfig
    from provider_store.providers.base import ConnectionOptions
    from provider_store.providers.client import ProviderClient
    from provider_store.providers.list_pages import ListLimits
    from provider_store.providers.ping import ChatReply, PingRequest
    from provider_store.providers.ping_replies import ErrorFacts
    from provider_store.registries.attribute import ProviderFill
    from provider_store.resolution.catalog_follower import FollowStats
    from provider_store.resolution.completions import Completion
    from provider_store.resolution.front_door import open
    from provider_store.resolution.manager import ProviderManager
    from provider_store.resolution.model_refs import ModelRef
    from provider_store.rules import effective_api_key
    from provider_store.store import ProviderStore
    from provider_store.views.model_view import ModelView, model_views, select_views

# Where each public name lives: imported on first use, so ``import provider_store`` (and every
# command of the CLI) pays only for what it touches.
_LAZY_NAMES: dict[str, str] = {
    "AliasEntry": "provider_store.catalog.model_aliases",
    "AliasTakenError": "provider_store.errors",
    "AmbiguousModelError": "provider_store.errors",
    "BadResponseError": "provider_store.errors",
    "CacheState": "provider_store.catalog.cache_rows",
    "Candidate": "provider_store.catalog.reconcile",
    "CacheWriteError": "provider_store.errors",
    "CatalogStore": "provider_store.catalog.catalog_store",
    "CatalogUnavailableError": "provider_store.errors",
    "ChangeEvent": "provider_store.history.change_event",
    "ChangeSignal": "provider_store.catalog.change_listener",
    "ChangeTokens": "provider_store.catalog.change_marker",
    "ChatReply": "provider_store.providers.ping",
    "Completion": "provider_store.resolution.completions",
    "ConfigurationError": "provider_store.errors",
    "ConnectionOptions": "provider_store.providers.base",
    "Disagreement": "provider_store.catalog.disagreements",
    "DiscoveryError": "provider_store.errors",
    "DiscoveryOptions": "provider_store.discovery.run_report",
    "DiscoveryReport": "provider_store.discovery.run_report",
    "DiscoveryResult": "provider_store.discovery.results",
    "DiscoveryServiceLike": "provider_store.discovery.run",
    "ErrorFacts": "provider_store.providers.ping_replies",
    "DowngradePlan": "provider_store.catalog.schema_changes",
    "EventType": "provider_store.catalog.states",
    "ExpectedVariable": "provider_store.exports.litellm_proxy",
    "FieldChoice": "provider_store.catalog.reconcile",
    "FollowStats": "provider_store.resolution.catalog_follower",
    "ForeignDatabaseError": "provider_store.errors",
    "ImportReport": "provider_store.legacy.import_report",
    "InvalidDocumentError": "provider_store.errors",
    "InvalidQueryError": "provider_store.errors",
    "InvalidRegistryError": "provider_store.errors",
    "Keeper": "provider_store.discovery.keeper",
    "KeeperRefresh": "provider_store.discovery.keeper",
    "ListCache": "provider_store.provider_config",
    "LitellmConfig": "provider_store.exports.litellm_proxy",
    "ListLimits": "provider_store.providers.list_pages",
    "MissingKeyError": "provider_store.errors",
    "ModelDiscoveryService": "provider_store.discovery.service",
    "ModelInfo": "provider_store.model_info",
    "ModelRef": "provider_store.resolution.model_refs",
    "ModelView": "provider_store.views.model_view",
    "ModelStats": "provider_store.history.ping_stats",
    "ModelStatus": "provider_store.catalog.states",
    "NewerCatalogError": "provider_store.errors",
    "NotAListError": "provider_store.errors",
    "NotFoundError": "provider_store.errors",
    "OptionsError": "provider_store.errors",
    "Phase": "provider_store.discovery.run_report",
    "PingRequest": "provider_store.providers.ping",
    "PruneReport": "provider_store.history.retention",
    "ProgressEvent": "provider_store.discovery.run_report",
    "Provider": "provider_store.catalog.tables",
    "ProviderRemoval": "provider_store.catalog.provider_edits",
    "ProviderChange": "provider_store.legacy.import_report",
    "ProviderFill": "provider_store.registries.attribute",
    "ProviderClient": "provider_store.providers.client",
    "ProviderConfig": "provider_store.provider_config",
    "ProviderConnectionError": "provider_store.errors",
    "ProviderDetails": "provider_store.catalog.provider_details",
    "ProviderHTTPError": "provider_store.errors",
    "ProviderKeyError": "provider_store.errors",
    "ProviderManager": "provider_store.resolution.manager",
    "ProviderStatus": "provider_store.discovery.run_report",
    "ProviderStore": "provider_store.store",
    "ProviderStoreError": "provider_store.errors",
    "ProviderSummary": "provider_store.discovery.run_report",
    "RegistryError": "provider_store.errors",
    "RegistryOrder": "provider_store.catalog.reconcile",
    "SchemaStatus": "provider_store.catalog.schema_changes",
    "Source": "provider_store.discovery.results",
    "SourceRow": "provider_store.catalog.registry_rows",
    "Sourced": "provider_store.catalog.model_view_rows",
    "SourcedMetadata": "provider_store.catalog.model_view_rows",
    "StoreError": "provider_store.errors",
    "UnknownModelError": "provider_store.errors",
    "ValidationResult": "provider_store.catalog.records",
    "Verdict": "provider_store.catalog.states",
    "build_engine": "provider_store.catalog.db",
    "effective_api_key": "provider_store.rules",
    "litellm_config": "provider_store.exports.litellm_proxy",
    "model_views": "provider_store.views.model_view",
    "open": "provider_store.resolution.front_door",
    "resolve_url": "provider_store.catalog.db",
    "select_views": "provider_store.views.model_view",
}


def __getattr__(name: str) -> object:
    """Import a public name from its module on first access (PEP 562)."""
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names and the module's dunder attributes (no typing helpers)."""
    dunders = {name for name in globals() if name.startswith("__") and name.endswith("__")}
    return sorted(dunders | set(__all__))


__version__ = "0.1.0"

__all__ = sorted([*_LAZY_NAMES, "__version__"])

del TYPE_CHECKING
