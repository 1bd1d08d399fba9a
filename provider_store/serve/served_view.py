"""The in-memory view the server answers from, kept in step with the catalog.

A :class:`Snapshot` is immutable: every answer reads the one current snapshot, so an answer is
never half old and half new. A :class:`CatalogMirror` builds the first one, then follows the
catalog's change tokens from a thread of its own (a
:class:`~provider_store.catalog.change_marker.ChangeWatch`: a look every
:data:`LOOK_INTERVAL` seconds at most, on PostgreSQL only after a ``NOTIFY``, on a SQLite file
only when SQLite says something was committed), re-reads only the providers whose token moved
(all of them when a write did not say which), and publishes the next snapshot. Each provider's
part of the ``/v1/models`` answer is serialized once and kept until that provider, its aliases
or its ping statistics change; the full list is kept gzip-compressed too, for clients that
accept it.

The ``ETag`` of every list answer is a digest of the change tokens the snapshot stands for and
of the ping statistics it holds (re-read every :data:`STATS_INTERVAL` seconds: pings move no
change token). The change feed is read every :data:`FEED_INTERVAL` seconds and after every
rebuild; new events, and each rebuild's added and removed models, go to the SSE streams.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provider_store.catalog.change_marker import ChangeTokens, ChangeWatch
from provider_store.errors import ProviderStoreError
from provider_store.history.feed import read_changes
from provider_store.history.ping_stats import ModelStats
from provider_store.resolution.model_refs import Names
from provider_store.serve.catalog_view import (
    CatalogNames,
    ProviderModels,
    read_names,
    read_ping_stats,
    read_providers,
    resolution_scope,
)
from provider_store.serve.change_stream import ChangeBroadcast, sse_frame
from provider_store.serve.model_answers import ModelFilter, model_entry
from provider_store.store import ProviderStore

__all__ = ["FEED_INTERVAL", "LOOK_INTERVAL", "STATS_INTERVAL", "CatalogMirror", "Snapshot"]

logger = logging.getLogger(__name__)

LOOK_INTERVAL = 0.1  # seconds between two looks at the change tokens, at most
FEED_INTERVAL = 0.5  # seconds between two reads of the change feed
STATS_INTERVAL = 30.0  # seconds between two reads of the ping statistics
_STEP = 0.05  # the follower thread's tick
FEED_BATCH = 500  # events read at once from the feed
GZIP_LEVEL = 6  # the full list compresses to about 4% (10,000 models: 7 ms once per snapshot)

Stats = Mapping[str, Mapping[str, ModelStats]]  # provider -> model -> stats


@dataclass(frozen=True)
class _Part:
    """One provider's share of a snapshot: its entries and its serialized usable ones."""

    provider: ProviderModels
    aliases: tuple[tuple[str, ...], ...]
    stats: Mapping[str, ModelStats]
    entries: tuple[dict[str, Any], ...]
    usable_json: bytes  # the usable entries, comma-separated


@dataclass(frozen=True)
class Snapshot:
    """The catalog as the server answers from it (see the module docstring)."""

    etag: str
    tokens: ChangeTokens
    parts: Mapping[str, _Part]  # in catalog order
    scope: Names = field(repr=False)
    usable_body: bytes = field(repr=False)
    usable_gzip: bytes = field(repr=False, default=b"")  # the same, gzip-compressed
    built_at: float = 0.0

    @property
    def providers(self) -> list[ProviderModels]:
        """Every provider, in catalog order."""
        return [part.provider for part in self.parts.values()]

    def stats(self) -> list[ModelStats]:
        """Every model's ping statistics of the last seven days."""
        return [s for part in self.parts.values() for s in part.stats.values()]

    def entries(self, wanted: ModelFilter) -> list[dict[str, Any]]:
        """The model objects ``wanted`` keeps, in catalog order."""
        found = []
        for part in self.parts.values():
            if wanted.provider is not None and part.provider.key.lower() != wanted.provider.lower():
                continue
            for model, entry in zip(part.provider.models, part.entries, strict=True):
                if wanted.keeps(model):
                    found.append(entry)
        return found

    def entry(self, provider: str, model: str) -> dict[str, Any] | None:
        """The model object of ``provider``/``model`` (any status; the provider's key ignoring
        case), None when the catalog holds no such model."""
        part = self.parts.get(provider) or next(
            (p for k, p in self.parts.items() if k.lower() == provider.lower()), None
        )
        if part is None:
            return None
        for served, entry in zip(part.provider.models, part.entries, strict=True):
            if served.model == model:
                return entry
        return None

    def usable_ids(self) -> set[str]:
        """``provider/model`` of every usable model."""
        return {m.id for part in self.parts.values() for m in part.provider.models if m.usable}


def _list_body(parts: Mapping[str, _Part]) -> bytes:
    data = b",".join(part.usable_json for part in parts.values() if part.usable_json)
    return b'{"object":"list","data":[' + data + b"]}"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _part(provider: ProviderModels, names: CatalogNames, stats: Mapping[str, ModelStats]) -> _Part:
    aliases = tuple(names.aliases.get(m.id, ()) for m in provider.models)
    entries = tuple(
        model_entry(m, a, stats.get(m.model)) for m, a in zip(provider.models, aliases, strict=True)
    )
    usable = [entry for m, entry in zip(provider.models, entries, strict=True) if m.usable]
    return _Part(provider, aliases, stats, entries, b",".join(_dumps(e) for e in usable))


def _etag(tokens: ChangeTokens, stats: Stats) -> str:
    digest = hashlib.blake2b(tokens.digest().encode(), digest_size=10)
    for key in sorted(stats):
        for model, s in sorted(stats[key].items()):
            digest.update(f"{key}\t{model}\t{s.count}\t{s.answered}\t{s.last_at}\n".encode())
    return f'"{digest.hexdigest()}"'


@dataclass
class MirrorStats:
    """What the follower has done (for ``/metrics``)."""

    rebuilds: int = 0
    providers_reread: int = 0
    failures: int = 0
    last_rebuild_seconds: float = 0.0


class CatalogMirror:
    """Builds the first :class:`Snapshot`, then follows the catalog in a thread of its own."""

    def __init__(self, store: ProviderStore, broadcast: ChangeBroadcast) -> None:
        self.store = store
        self.broadcast = broadcast
        self.stats = MirrorStats()
        self.reachable = True  # the last look at the catalog reached it
        self.feed_head = 0  # the id of the newest event published
        self._watch: ChangeWatch[ChangeTokens] = ChangeWatch(
            store.rows.change_tokens, interval=LOOK_INTERVAL, signal=store.change_signal
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stats: Stats = {}
        self._snapshot: Snapshot | None = None

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot (built by :meth:`start`)."""
        assert self._snapshot is not None, "CatalogMirror.start() builds the first snapshot"
        return self._snapshot

    def start(self) -> None:
        """Read the whole catalog (raising what stops the server from starting), then follow
        it in the background."""
        self._watch.mark()
        tokens = self._watch.seen
        assert tokens is not None
        self._stats = self._read_stats()
        self._rebuild(tokens, None)
        self.feed_head = self._newest_event()
        self._thread = threading.Thread(target=self._follow, name="ps-serve-mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following (the thread ends within a tick, or after the read it is in)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=0.2)  # a daemon: a read in progress does not hold up the exit

    # -- the follower thread -------------------------------------------------------------------

    def _follow(self) -> None:
        next_feed = next_stats = time.monotonic()
        next_stats += STATS_INTERVAL
        while not self._stop.wait(_STEP):
            try:
                if self._watch.changed():
                    tokens = self._watch.seen
                    assert tokens is not None
                    try:
                        self._rebuild(tokens, self._snapshot)
                    except BaseException:
                        self._watch.retry()
                        raise
                    next_feed = 0.0
                now = time.monotonic()
                if now >= next_stats:
                    next_stats = now + STATS_INTERVAL
                    stats = self._read_stats()
                    if stats != self._stats:
                        self._stats = stats
                        self._rebuild(self.snapshot.tokens, self._snapshot, stats_only=True)
                if now >= next_feed:
                    next_feed = now + FEED_INTERVAL
                    self._publish_feed()
                self._reached()
            except ProviderStoreError as exc:
                self._lost(exc)
            except Exception:  # noqa: BLE001 - the thread must outlive any one bad look
                logger.exception("following the catalog failed; trying again")
                self._lost(None)

    def _reached(self) -> None:
        if not self.reachable:
            logger.warning("reached the catalog again; following its changes")
        self.reachable = True

    def _lost(self, exc: ProviderStoreError | None) -> None:
        self.stats.failures += 1
        if self.reachable and exc is not None:
            logger.warning("cannot read the catalog (%s); serving what was read before", exc)
        self.reachable = False

    # -- building snapshots --------------------------------------------------------------------

    def _read_stats(self) -> Stats:
        grouped: dict[str, dict[str, ModelStats]] = {}
        for (key, model), stats in read_ping_stats(self.store).items():
            grouped.setdefault(key, {})[model] = stats
        return grouped

    def _rebuild(
        self, tokens: ChangeTokens, before: Snapshot | None, *, stats_only: bool = False
    ) -> None:
        started = time.perf_counter()
        old = dict(before.parts) if before is not None else {}
        if stats_only:
            reread: list[str] = []
        else:
            changed = tokens.changed_since(before.tokens) if before is not None else None
            reread = list(tokens.providers) if changed is None else changed
        fresh = read_providers(self.store, reread)
        names = read_names(self.store)
        missing = [k for k in names.order if k not in fresh and k not in old]
        fresh.update(read_providers(self.store, missing))  # appeared since the tokens were read
        parts: dict[str, _Part] = {}
        for key in names.order:
            provider = fresh.get(key) or (old[key].provider if key in old else None)
            if provider is None:
                continue
            stats = self._stats.get(key, {})
            kept = old.get(key)
            if (
                kept is not None
                and key not in fresh
                and kept.stats == stats
                and kept.aliases == tuple(names.aliases.get(m.id, ()) for m in provider.models)
            ):
                parts[key] = kept
            else:
                parts[key] = _part(provider, names, stats)
        body = _list_body(parts)
        snapshot = Snapshot(
            etag=_etag(tokens, self._stats),
            tokens=tokens,
            parts=parts,
            scope=resolution_scope([p.provider for p in parts.values()]),
            usable_body=body,
            usable_gzip=gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0),
            built_at=time.time(),
        )
        self._snapshot = snapshot
        self.stats.rebuilds += 1
        self.stats.providers_reread += len(fresh)
        self.stats.last_rebuild_seconds = time.perf_counter() - started
        if before is not None:
            self._announce(before, snapshot, sorted(fresh))

    def _announce(self, before: Snapshot, after: Snapshot, reread: list[str]) -> None:
        if before.etag == after.etag:
            return
        old, new = before.usable_ids(), after.usable_ids()
        changed = [
            key
            for key in reread
            if key not in before.parts
            or key not in after.parts
            or before.parts[key].entries != after.parts[key].entries
        ]
        data = {
            "etag": after.etag,
            "added": sorted(new - old),
            "removed": sorted(old - new),
            "providers_changed": changed,
        }
        self.broadcast.publish(sse_frame("models", data))

    # -- the change feed -----------------------------------------------------------------------

    def _newest_event(self) -> int:
        with self.store.read() as session:
            events = read_changes(session, limit=1)
        return events[0].id if events else 0

    def _publish_feed(self) -> None:
        while True:
            with self.store.read() as session:
                events = read_changes(session, after=self.feed_head, limit=FEED_BATCH)
            for event in events:
                self.broadcast.publish(sse_frame("change", event.as_json(), str(event.id)))
                self.feed_head = event.id
            if len(events) < FEED_BATCH:
                return
