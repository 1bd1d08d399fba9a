"""provider_store: a durable, cache-backed catalog of OpenAI-compatible LLM providers.

Import the public API from here; submodules are implementation detail unless documented.
"""

from provider_store.config import ProviderConfig, effective_api_key
from provider_store.db import build_engine, resolve_url
from provider_store.discovery import ModelDiscoveryService
from provider_store.discovery_report import DiscoveryReport, ProviderSummary
from provider_store.errors import (
    AmbiguousModelError,
    BadResponseError,
    ConfigurationError,
    DiscoveryError,
    InvalidDocumentError,
    NotFoundError,
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderStoreError,
    StoreError,
)
from provider_store.http import OpenAIClient, PingResult
from provider_store.import_report import ImportReport, ProviderChange
from provider_store.manager import ProviderManager
from provider_store.results import DiscoveryResult, Source, ValidationResult
from provider_store.store import ProviderStore
from provider_store.tables import ModelStatus, Verdict

__version__ = "0.1.0"

__all__ = [
    "AmbiguousModelError",
    "BadResponseError",
    "ConfigurationError",
    "DiscoveryError",
    "DiscoveryReport",
    "DiscoveryResult",
    "ImportReport",
    "InvalidDocumentError",
    "ModelDiscoveryService",
    "ModelStatus",
    "NotFoundError",
    "OpenAIClient",
    "PingResult",
    "ProviderChange",
    "ProviderConfig",
    "ProviderConnectionError",
    "ProviderHTTPError",
    "ProviderManager",
    "ProviderStore",
    "ProviderStoreError",
    "ProviderSummary",
    "Source",
    "StoreError",
    "ValidationResult",
    "Verdict",
    "__version__",
    "build_engine",
    "effective_api_key",
    "resolve_url",
]
