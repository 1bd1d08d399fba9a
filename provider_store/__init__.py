"""provider_store: a durable, cache-backed catalog of OpenAI-compatible LLM providers.

Import the public API from here; submodules are implementation detail unless documented.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provider_store.catalog.cache_rows import CacheState
    from provider_store.catalog.catalog_store import CatalogStore
    from provider_store.catalog.db import build_engine, resolve_url
    from provider_store.catalog.records import ValidationResult
    from provider_store.catalog.tables import ModelStatus, Provider, Verdict
    from provider_store.discovery.results import DiscoveryResult, Source
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
        AmbiguousModelError,
        BadResponseError,
        CacheWriteError,
        ConfigurationError,
        DiscoveryError,
        InvalidDocumentError,
        MissingKeyError,
        NotFoundError,
        ProviderConnectionError,
        ProviderHTTPError,
        ProviderStoreError,
        StoreError,
        UnknownModelError,
    )
    from provider_store.legacy.import_report import ImportReport, ProviderChange
    from provider_store.model_info import ModelInfo
    from provider_store.provider_config import ProviderConfig, effective_api_key
    from provider_store.providers.base import ConnectionOptions
    from provider_store.providers.list_pages import ListLimits
    from provider_store.providers.openai import OpenAIClient, PingResult
    from provider_store.providers.ping import ChatReply, ErrorFacts
    from provider_store.resolution.manager import ProviderManager
    from provider_store.store import ProviderStore

# Where each public name lives: imported on first use, so ``import provider_store`` (and every
# command of the CLI) pays only for what it touches.
_LAZY_NAMES: dict[str, str] = {
    "AmbiguousModelError": "provider_store.errors",
    "BadResponseError": "provider_store.errors",
    "CacheState": "provider_store.catalog.cache_rows",
    "CacheWriteError": "provider_store.errors",
    "CatalogStore": "provider_store.catalog.catalog_store",
    "ChangeEvent": "provider_store.history.change_event",
    "ChatReply": "provider_store.providers.ping",
    "ConfigurationError": "provider_store.errors",
    "ConnectionOptions": "provider_store.providers.base",
    "DiscoveryError": "provider_store.errors",
    "DiscoveryOptions": "provider_store.discovery.run_report",
    "DiscoveryReport": "provider_store.discovery.run_report",
    "DiscoveryResult": "provider_store.discovery.results",
    "ErrorFacts": "provider_store.providers.ping",
    "EventType": "provider_store.catalog.tables",
    "ImportReport": "provider_store.legacy.import_report",
    "InvalidDocumentError": "provider_store.errors",
    "ListLimits": "provider_store.providers.list_pages",
    "MissingKeyError": "provider_store.errors",
    "ModelDiscoveryService": "provider_store.discovery.service",
    "ModelInfo": "provider_store.model_info",
    "ModelStats": "provider_store.history.ping_stats",
    "ModelStatus": "provider_store.catalog.tables",
    "NotFoundError": "provider_store.errors",
    "OpenAIClient": "provider_store.providers.openai",
    "Phase": "provider_store.discovery.run_report",
    "PingResult": "provider_store.providers.openai",
    "PruneReport": "provider_store.history.retention",
    "ProgressEvent": "provider_store.discovery.run_report",
    "Provider": "provider_store.catalog.tables",
    "ProviderChange": "provider_store.legacy.import_report",
    "ProviderConfig": "provider_store.provider_config",
    "ProviderConnectionError": "provider_store.errors",
    "ProviderHTTPError": "provider_store.errors",
    "ProviderManager": "provider_store.resolution.manager",
    "ProviderStatus": "provider_store.discovery.run_report",
    "ProviderStore": "provider_store.store",
    "ProviderStoreError": "provider_store.errors",
    "ProviderSummary": "provider_store.discovery.run_report",
    "Source": "provider_store.discovery.results",
    "StoreError": "provider_store.errors",
    "UnknownModelError": "provider_store.errors",
    "ValidationResult": "provider_store.catalog.records",
    "Verdict": "provider_store.catalog.tables",
    "build_engine": "provider_store.catalog.db",
    "effective_api_key": "provider_store.provider_config",
    "resolve_url": "provider_store.catalog.db",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access (PEP 562)."""
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES))


__version__ = "0.1.0"

__all__ = [
    "AmbiguousModelError",
    "BadResponseError",
    "CacheState",
    "CacheWriteError",
    "CatalogStore",
    "ChangeEvent",
    "ChatReply",
    "ConfigurationError",
    "ConnectionOptions",
    "DiscoveryError",
    "DiscoveryOptions",
    "DiscoveryReport",
    "DiscoveryResult",
    "ErrorFacts",
    "EventType",
    "ImportReport",
    "InvalidDocumentError",
    "ListLimits",
    "MissingKeyError",
    "ModelDiscoveryService",
    "ModelInfo",
    "ModelStats",
    "ModelStatus",
    "NotFoundError",
    "OpenAIClient",
    "Phase",
    "PingResult",
    "ProgressEvent",
    "Provider",
    "ProviderChange",
    "ProviderConfig",
    "ProviderConnectionError",
    "ProviderHTTPError",
    "ProviderManager",
    "ProviderStatus",
    "ProviderStore",
    "ProviderStoreError",
    "ProviderSummary",
    "PruneReport",
    "Source",
    "StoreError",
    "UnknownModelError",
    "ValidationResult",
    "Verdict",
    "__version__",
    "build_engine",
    "effective_api_key",
    "resolve_url",
]
