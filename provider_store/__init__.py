"""provider_store: a durable, cache-backed catalog of OpenAI-compatible LLM providers.

Import the public API from here; submodules are implementation detail unless documented.
"""

from provider_store import _compat
from provider_store.catalog.db import build_engine, resolve_url
from provider_store.catalog.queries import CacheState
from provider_store.catalog.records import ValidationResult
from provider_store.catalog.store import CatalogStore
from provider_store.catalog.tables import ModelStatus, Provider, Verdict
from provider_store.discovery.report import (
    DiscoveryOptions,
    DiscoveryReport,
    Phase,
    ProgressEvent,
    ProviderStatus,
    ProviderSummary,
)
from provider_store.discovery.results import DiscoveryResult, Source
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
from provider_store.legacy.report import ImportReport, ProviderChange
from provider_store.model_info import ModelInfo
from provider_store.provider_config import ProviderConfig, effective_api_key
from provider_store.providers.base import ConnectionOptions
from provider_store.providers.listing import ListLimits
from provider_store.providers.openai import OpenAIClient, PingResult
from provider_store.providers.ping import ChatReply, ErrorFacts
from provider_store.resolution.manager import ProviderManager
from provider_store.store import ProviderStore

__version__ = "0.1.0"

_compat.install()

__all__ = [
    "AmbiguousModelError",
    "BadResponseError",
    "CacheState",
    "CacheWriteError",
    "CatalogStore",
    "ChatReply",
    "ConfigurationError",
    "ConnectionOptions",
    "DiscoveryError",
    "DiscoveryOptions",
    "DiscoveryReport",
    "DiscoveryResult",
    "ErrorFacts",
    "ImportReport",
    "InvalidDocumentError",
    "ListLimits",
    "MissingKeyError",
    "ModelDiscoveryService",
    "ModelInfo",
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
