"""Value objects of discovery and validation, shared by the service, the store and the manager."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from provider_store.errors import DiscoveryError


class Source(enum.StrEnum):
    """Where the models of a :class:`DiscoveryResult` came from."""

    FRESH = "fresh"  # fetched from the provider just now
    CACHE = "cache"  # a fresh cache answered; no network call
    STALE = "stale"  # the refresh failed; the last good list is served
    NONE = "none"  # the refresh failed and there is no list to serve


@dataclass(frozen=True)
class DiscoveryResult:
    """The models of one discovery call, where they came from, and the failure if any.

    ``fetched_at`` is when the served list was fetched (UTC epoch seconds), None when there is no
    list.
    """

    models: list[dict[str, Any]]
    source: Source
    error: DiscoveryError | None = None
    fetched_at: float | None = None

    @property
    def ok(self) -> bool:
        """True when the list is fresh (fetched now or from a fresh cache) and nothing failed."""
        return self.source in (Source.FRESH, Source.CACHE) and self.error is None
