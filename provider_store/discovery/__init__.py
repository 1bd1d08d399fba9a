"""Discovery: the model-list cache policy, validation pings and the discover-and-validate run.

``provider_store.discovery`` was once a module; its public names stay reachable here.
"""

from __future__ import annotations

from typing import Any

_LEGACY_NAMES = ("EMPTY_LIST_TAG", "REFUSAL_STATUSES", "ModelDiscoveryService")


def __getattr__(name: str) -> Any:
    if name in _LEGACY_NAMES:
        from provider_store.discovery import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
