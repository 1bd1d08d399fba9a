"""Keeping a set of provider configs in step with the catalog, re-reading only what changed.

A :class:`CatalogFollower` compares the catalog's change tokens (one small query: each
provider's token and the full-re-read marker, see :mod:`provider_store.catalog.change_marker`)
with those its configs stand for, and re-reads only the providers whose token moved or that
appeared (in the look's own read transaction: one round of queries), dropping those that are
gone; a write that did not say which providers it changed makes it re-read them all.

When it looks (:class:`~provider_store.catalog.change_marker.ChangeWatch`): at most every
``interval`` seconds, and on PostgreSQL only after a wake-up
(:class:`~provider_store.catalog.change_listener.ChangeSignal`: this store's commits at once,
other processes' through ``LISTEN``/``NOTIFY``), so a follower of a catalog where nothing
changes sends no query. On SQLite, behind a pooler in transaction mode, and while the listener
is not connected, it polls every ``interval`` seconds.

A follower that cannot reach the database keeps the configs it has, says so once (a warning),
and tries again at every look; it says when it reached the database again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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

    ``changes_seen``: looks that found a change token moved; ``full_reloads``: times every
    config was re-read; ``providers_reloaded``: configs re-read, counting both kinds of reload;
    ``looks``: queries of the change tokens after the first read; ``failures``: looks or
    re-reads that could not reach the database.
    """

    changes_seen: int = 0
    full_reloads: int = 0
    providers_reloaded: int = 0
    looks: int = 0
    failures: int = 0


class CatalogFollower:
    """Reads a store's configs, then tells what changed since (see the module docstring)."""

    def __init__(
        self,
        store: CatalogStore,
        *,
        interval: float,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.stats = FollowStats()
        self._watch: ChangeWatch[ChangeTokens] = ChangeWatch(
            self._look, interval=interval, signal=store.change_signal, clock=clock
        )
        self._tokens: ChangeTokens | None = None  # the change tokens the configs stand for
        self._lost = False  # the last look could not reach the database
        # The configs of the providers a look found changed, read in the look's transaction.
        self._fetched: tuple[ChangeTokens, list[str], dict[str, ProviderConfig]] | None = None

    def load_all(self) -> dict[str, ProviderConfig]:
        """Every config, with the change tokens it stands for (one read transaction)."""
        self._tokens = None  # what a look reads now is the marker, not a change to read
        self._watch.mark()  # before the read: a commit landing meanwhile is looked at again
        with self.store.read() as session:
            self._tokens = self.store.rows.change_tokens(session=session)
            return self.store.rows.load_configs(session=session)

    def refresh(self, current: dict[str, ProviderConfig]) -> dict[str, ProviderConfig] | None:
        """The configs as committed now, built from ``current`` and what changed since; None
        when nothing did, when it is not time to look, or when the catalog cannot be read (the
        caller keeps its view and a later look tries again)."""
        try:
            if not self._watch.changed():
                return None
            self.stats.changes_seen += 1
            tokens = self._watch.seen
            assert tokens is not None
            try:
                return self._reread(current, tokens)
            except ProviderStoreError:
                self._watch.retry()  # what changed is still to be read
                raise
        except ProviderStoreError as exc:
            self.stats.failures += 1
            if not self._lost:
                logger.warning(
                    "lost the catalog database: keeping the providers read before, trying"
                    " again every %.2g s (%s)",
                    self._watch.interval,
                    exc,
                )
                self._lost = True
            else:
                logger.debug("the catalog database is still unreachable: %s", exc)
            return None

    def _look(self) -> ChangeTokens:
        """The change tokens and, when some providers' tokens moved, those providers' configs
        (one read transaction: a look that finds a change costs one round of queries, not two,
        and the configs are those the tokens stand for)."""
        self.stats.looks += 1
        self._fetched = None
        with self.store.read() as session:
            tokens = self.store.rows.change_tokens(session=session)
            changed = None if self._tokens is None else tokens.changed_since(self._tokens)
            if changed:
                fresh = self.store.rows.load_configs(keys=changed, session=session)
                self._fetched = (tokens, changed, fresh)
        if self._lost:
            logger.warning("reached the catalog database again; following its changes")
            self._lost = False
        return tokens

    def _reread(
        self, current: dict[str, ProviderConfig], tokens: ChangeTokens
    ) -> dict[str, ProviderConfig] | None:
        changed = None if self._tokens is None else tokens.changed_since(self._tokens)
        if changed is None:
            providers = self.store.rows.load_configs()
            self._tokens = tokens
            self.stats.full_reloads += 1
            self.stats.providers_reloaded += len(providers)
            return providers
        fetched, self._fetched = self._fetched, None
        if fetched is not None and fetched[0] is tokens and fetched[1] == changed:
            fresh = fetched[2]  # read by the look that found the change
        else:
            fresh = self.store.rows.load_configs(keys=changed) if changed else {}
        self._tokens = tokens
        self.stats.providers_reloaded += len(fresh)
        providers = {}
        for key in tokens.providers:  # catalog order; a provider gone is left out
            if key in fresh:
                providers[key] = fresh[key]
            elif key in current and key not in changed:
                providers[key] = current[key]
        if not fresh and list(providers) == list(current):
            return None  # nothing to re-read after all (a look after a failed one)
        return providers
