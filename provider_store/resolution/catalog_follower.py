"""Keeping a set of provider configs in step with the catalog, re-reading only what changed.

A :class:`CatalogFollower` compares the catalog's change tokens (one small query: each
provider's token and the full-re-read marker, see :mod:`provider_store.catalog.change_marker`)
with those its configs stand for, and re-reads only the providers whose token moved or that
appeared (in the look's own read transaction: one round of queries), dropping those that are
gone; a write that did not say which providers it changed makes it re-read them all.

When it looks (:class:`~provider_store.catalog.change_marker.ChangeWatch`): at most every
``interval`` seconds, and only after a wake-up
(:class:`~provider_store.catalog.change_listener.ChangeSignal`: this store's commits at once,
other processes' through ``LISTEN``/``NOTIFY`` on PostgreSQL and the file's data version on
SQLite), so a follower of a catalog where nothing changes sends no query. On an in-memory SQLite
catalog, behind a pooler in transaction mode, and while the listener is not connected, it polls
every ``interval`` seconds.

The listening thread also reads ahead: after each notification it reads the change tokens and
the configs of the providers whose token moved (one read transaction), and the next look takes
that reading in without a query. While such a reading is under way (up to
:data:`~provider_store.rules.limits.READ_AHEAD_PATIENCE` seconds) a look is put off and the
configs the follower has answer, so a resolution never waits for another process's change to be
read; this store's own commits are read at the next look (what a process wrote, it resolves
next).

A follower that cannot reach the database keeps the configs it has, says so once (a warning),
and tries again at every look; it says when it reached the database again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.change_marker import ChangeTokens, ChangeWatch
from provider_store.errors import ProviderStoreError
from provider_store.provider_config import ProviderConfig
from provider_store.rules.limits import READ_AHEAD_PATIENCE

__all__ = ["CatalogFollower", "FollowStats"]

logger = logging.getLogger(__name__)


@dataclass
class FollowStats:
    """What a follower has done so far (for monitoring and tests).

    ``changes_seen``: looks that found a change token moved; ``full_reloads``: times every
    config was re-read; ``providers_reloaded``: configs re-read, counting both kinds of reload;
    ``looks``: queries of the change tokens after the first read; ``read_ahead``: looks that
    took in what the listening thread had read (no query of their own); ``failures``: looks or
    re-reads that could not reach the database.
    """

    changes_seen: int = 0
    full_reloads: int = 0
    providers_reloaded: int = 0
    looks: int = 0
    read_ahead: int = 0
    failures: int = 0


@dataclass(frozen=True)
class _Ahead:
    """What the listening thread read after a notification."""

    woken: int  # the signal's wake-ups when the reading began
    base: ChangeTokens  # the tokens it compared with (those the configs stood for)
    tokens: ChangeTokens
    changed: list[str] | None
    fresh: dict[str, ProviderConfig]


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
        self._ahead: _Ahead | None = None  # the listening thread's reading, not yet taken in
        self._reading_since: float | None = None  # when its reading under way began
        self._own_seen = 0  # the signal's count of this store's commits at the last look
        if store.change_signal is not None:
            store.change_signal.on_notification(self._read_ahead)

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
            if self._put_off():
                return None
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

    def _put_off(self) -> bool:
        """True while the listening thread reads what was announced (for at most
        READ_AHEAD_PATIENCE seconds) and this store committed nothing since the last look."""
        since = self._reading_since
        if since is None or time.monotonic() - since > READ_AHEAD_PATIENCE:
            return False
        signal = self.store.change_signal
        return signal is not None and signal.own_commits == self._own_seen

    def _read_ahead(self) -> None:
        """After a notification (in the listening thread): read the change tokens and the
        configs of the providers whose token moved, for the next look to take in."""
        base = self._tokens
        signal = self.store.change_signal
        if base is None or signal is None:
            return
        woken = signal.wakeups
        self._reading_since = time.monotonic()
        try:
            tokens, changed, fresh = self._read_changes(base)
        finally:
            self._reading_since = None
        self._ahead = _Ahead(woken, base, tokens, changed, fresh)

    def _read_changes(
        self, base: ChangeTokens | None
    ) -> tuple[ChangeTokens, list[str] | None, dict[str, ProviderConfig]]:
        """The change tokens, the providers whose token moved since ``base`` (None without a
        base, or after a write that did not say which) and those providers' configs, in one
        read transaction."""
        with self.store.read() as session:
            tokens = self.store.rows.change_tokens(session=session)
            changed = None if base is None else tokens.changed_since(base)
            fresh = self.store.rows.load_configs(keys=changed, session=session) if changed else {}
        return tokens, changed, fresh

    def _look(self) -> ChangeTokens:
        """The change tokens and, when some providers' tokens moved, those providers' configs
        (one read transaction: a look that finds a change costs one round of queries, not two,
        and the configs are those the tokens stand for); what the listening thread read ahead
        when nothing woke the signal since it began."""
        signal = self.store.change_signal
        if signal is not None:
            self._own_seen = signal.own_commits
        ahead, self._ahead = self._ahead, None
        self._fetched = None
        if (
            ahead is not None
            and signal is not None
            and ahead.woken == signal.wakeups
            and ahead.base is self._tokens
        ):
            self.stats.read_ahead += 1
            tokens = ahead.tokens
            if ahead.changed:
                self._fetched = (tokens, ahead.changed, ahead.fresh)
        else:
            self.stats.looks += 1
            tokens, changed, fresh = self._read_changes(self._tokens)
            if changed:
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
