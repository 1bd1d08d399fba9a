"""The public API is exactly what we mean it to be, and every name in it is importable."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator
from typing import Any

import pydantic

import provider_store
from provider_store.discovery.run_report import ProgressCallback

EXPECTED = {
    # errors
    "ProviderStoreError",
    "AmbiguousModelError",
    "UnknownModelError",
    "BadResponseError",
    "CacheWriteError",
    "ConfigurationError",
    "DiscoveryError",
    "InvalidDocumentError",
    "MissingKeyError",
    "NotFoundError",
    "ProviderConnectionError",
    "ProviderHTTPError",
    "StoreError",
    # the catalog and its values
    "ProviderConfig",
    "ProviderStore",
    "CatalogStore",
    "CacheState",
    "Provider",
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
    "ConnectionOptions",
    "ListLimits",
    "ChatReply",
    "ErrorFacts",
    "PingResult",
    "DiscoveryResult",
    "Source",
    "ValidationResult",
    "DiscoveryOptions",
    "ProgressEvent",
    "Phase",
    # history: change feed and ping statistics
    "ChangeEvent",
    "EventType",
    "ModelStats",
    "PruneReport",
    # the manager
    "ProviderManager",
    "DiscoveryReport",
    "ProviderSummary",
    "ProviderStatus",
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


def _types_in(hint: Any) -> Iterator[Any]:
    yield hint
    for arg in typing.get_args(hint):
        if isinstance(arg, list):  # Callable[[A, B], R]
            for item in arg:
                yield from _types_in(item)
        else:
            yield from _types_in(arg)


def test_every_type_in_a_public_signature_is_exported() -> None:
    """A user can import, from the package, every provider_store type a public name mentions."""
    names = {"ProgressCallback": ProgressCallback, "BaseModel": pydantic.BaseModel}
    names |= {name: getattr(provider_store, name) for name in provider_store.__all__}
    missing: dict[str, str] = {}
    for name in provider_store.__all__:
        member = getattr(provider_store, name)
        targets = [(name, member)]
        if inspect.isclass(member):
            targets += [
                (f"{name}.{attr}", value.fget if isinstance(value, property) else value)
                for attr, value in inspect.getmembers(member)
                if not attr.startswith("_") or attr == "__init__"
            ]
        for where, target in targets:
            module = getattr(target, "__module__", None) or ""
            if not callable(target) or not module.startswith("provider_store"):
                continue
            hints = typing.get_type_hints(target, localns=names)
            for hint in hints.values():
                for kind in _types_in(hint):
                    module = getattr(kind, "__module__", "")
                    type_name = getattr(kind, "__name__", "")
                    if module.startswith("provider_store") and type_name not in names:
                        missing[f"{module}.{type_name}"] = where
    assert missing == {}
