"""The public API is exactly what we mean it to be, and every name in it is importable."""

from __future__ import annotations

import provider_store

EXPECTED = {
    # errors
    "ProviderStoreError",
    "AmbiguousModelError",
    "BadResponseError",
    "ConfigurationError",
    "DiscoveryError",
    "InvalidDocumentError",
    "NotFoundError",
    "ProviderConnectionError",
    "ProviderHTTPError",
    "StoreError",
    # the catalog and its values
    "ProviderConfig",
    "ProviderStore",
    "ModelStatus",
    "ModelInfo",
    "Verdict",
    "effective_api_key",
    "build_engine",
    "resolve_url",
    # legacy YAML import
    "ImportReport",
    "ProviderChange",
    # discovery and validation
    "ModelDiscoveryService",
    "OpenAIClient",
    "PingResult",
    "DiscoveryResult",
    "Source",
    "ValidationResult",
    # the manager
    "ProviderManager",
    "DiscoveryReport",
    "ProviderSummary",
    "__version__",
}


def test_all_lists_exactly_the_public_api_sorted() -> None:
    assert set(provider_store.__all__) == EXPECTED
    assert provider_store.__all__ == sorted(provider_store.__all__)


def test_every_public_name_is_importable_and_documented() -> None:
    for name in provider_store.__all__:
        member = getattr(provider_store, name)
        if name != "__version__":
            assert member.__doc__, f"{name} has no docstring"


def test_public_classes_say_they_belong_to_provider_store() -> None:
    for name in provider_store.__all__:
        member = getattr(provider_store, name)
        module = getattr(member, "__module__", "provider_store")
        assert module.startswith("provider_store"), name
