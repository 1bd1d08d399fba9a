"""Keeping a set of provider configs in step with the catalog, re-reading only what changed.

A :class:`CatalogFollower` looks at the catalog's change marker at most every ``interval``
seconds (:class:`~provider_store.catalog.change_marker.ChangeWatch`, one small query). When any
process committed a change since, it reads the providers' change tokens (one more small query)
and re-reads only the providers whose token moved or that appeared, dropping those that are
gone; a write that did not say which providers it changed makes it re-read them all. When the
marker has not moved, nothing is read and the caller's configs are kept as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.change_marker import ChangeTokens, ChangeWatch
from provider_store.errors import ProviderStoreError
from provider_store.provider_config import ProviderConfig

__all__ = ["CatalogFollower", "FollowStats"]

logger = logging.getLogger(__name__)


@dataclass
class FollowStats:
    """What a follower has done so far (for monitoring and tests).

    ``changes_seen``: looks that found the change marker moved; ``full_reloads``: times every
    config was re-read; ``providers_reloaded``: configs re-read, counting both kinds of reload.
    """

    changes_seen: int = 0
    full_reloads: int = 0
    providers_reloaded: int = 0


class CatalogFollower:
    """Reads a store's configs, then tells what changed since (see the module docstring)."""

    def __init__(self, store: CatalogStore, *, interval: float) -> None:
        self.store = store
        self.stats = FollowStats()
        self._watch = ChangeWatch(store.read_change_marker, interval=interval)
        self._tokens: ChangeTokens | None = None  # the change tokens the configs stand for

    def load_all(self) -> dict[str, ProviderConfig]:
        """Every config, with the change tokens it stands for (one read transaction)."""
        self._watch.mark()  # before the read: a commit landing meanwhile is looked at again
        with self.store.read() as session:
            self._tokens = self.store.change_tokens(session=session)
            return self.store.load_configs(session=session)

    def refresh(self, current: dict[str, ProviderConfig]) -> dict[str, ProviderConfig] | None:
        """The configs as committed now, built from ``current`` and what changed since; None
        when nothing did, when the interval has not passed since the last look, or when the
        catalog cannot be read (logged; the caller keeps its view and the next look retries)."""
        try:
            if not self._watch.changed():
                return None
            self.stats.changes_seen += 1
            return self._reread(current)
        except ProviderStoreError as exc:
            logger.warning("could not follow the catalog's changes: %s", exc)
            return None

    def _reread(self, current: dict[str, ProviderConfig]) -> dict[str, ProviderConfig] | None:
        tokens = self.store.change_tokens()
        changed = None if self._tokens is None else tokens.changed_since(self._tokens)
        if changed is None:
            providers = self.store.load_configs()
            self._tokens = tokens
            self.stats.full_reloads += 1
            self.stats.providers_reloaded += len(providers)
            return providers
        fresh = self.store.load_configs(keys=changed) if changed else {}
        self._tokens = tokens
        self.stats.providers_reloaded += len(fresh)
        providers = {}
        for key in tokens.providers:  # catalog order; a provider gone is left out
            if key in fresh:
                providers[key] = fresh[key]
            elif key in current and key not in changed:
                providers[key] = current[key]
        if not fresh and list(providers) == list(current):
            return None  # e.g. only history or facts were written
        return providers
