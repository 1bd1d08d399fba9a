"""Attribute what the registries know to the catalog's models, each value with its source.

For every model of a provider (curated or discovered), each registry is matched with the rule of
:mod:`provider_store.registries.entries` (the aliases the provider's list states go with it);
what the matched entry says (non-empty metadata, a deprecation) is stored as that registry's
facts, with a match note naming the entry, its section and how it was found. An ambiguous or
conflicting match stores only why it filled nothing; an entry that says nothing usable is
counted "known, no metadata" (:class:`~provider_store.catalog.registry_rows.FillCounts`). A
local server's section never supplies prices. Listed values and the user's overrides are never
touched: :mod:`provider_store.catalog.reconcile` ranks them.

**Nothing is redone that cannot have changed.** Each (provider, registry) fill stores a
fingerprint of the registries' contents (their SHA-256), the provider's base URL, model ids and
stated aliases, and the rule's version. When every fingerprint of a run is as stored, no
registry is parsed, nothing is matched and no fact is written: the run only confirms the fills
(their ``checked_at``, the ``observed_at`` of every value they filled), one statement per
registry that no reader sees as a change.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.metadata_columns import METADATA_COLUMNS, info_values
from provider_store.catalog.model_facts import MATCH_FIELD, replace_registry_facts
from provider_store.catalog.registry_rows import (
    FillCounts,
    FillRow,
    ListingSnapshot,
    confirm_fills,
    listing_snapshot,
    lock_provider,
    read_fills,
    write_fill,
    write_source,
)
from provider_store.catalog.states import utc_now
from provider_store.registries.entries import Match, Registry

__all__ = ["RULE_VERSION", "ProviderFill", "RegistryInput", "attribute", "match_facts"]

logger = logging.getLogger(__name__)

# The version of the matching and attribution rule: a fill made by another version is redone.
RULE_VERSION = "2"
_PRICES = ("input_price", "output_price")
# A match that gives none of these (a deprecation at most) is "known, no metadata".
_METADATA = frozenset(METADATA_COLUMNS)


@dataclass(frozen=True, slots=True)
class ProviderFill:
    """What one registry filled for one provider: models matched with values, matched without
    any ("known, no metadata"), ambiguous or conflicting, and without an entry; ``skipped`` when
    neither the registry nor the provider's listing had changed, so nothing was redone."""

    provider: str
    source: str
    matched: int
    ambiguous: int
    unmatched: int
    known_empty: int = 0
    skipped: bool = False


@dataclass
class RegistryInput:
    """A registry known by its content hash before it is parsed (``parse`` runs at most once,
    and only when some fill needs it)."""

    origin: str
    content_hash: str
    parse: Callable[[], Registry]
    day: str = ""  # the date a reader's output depends on (LiteLLM's passed deprecations)
    _parsed: Registry | None = field(default=None, repr=False)

    @classmethod
    def of(cls, registry: Registry) -> RegistryInput:
        """An input for an already parsed registry."""
        return cls(registry.origin, registry.content_hash or registry.source, lambda: registry)

    def registry(self) -> Registry:
        """The parsed registry."""
        if self._parsed is None:
            self._parsed = self.parse()
        return self._parsed


def match_facts(match: Match) -> dict[str, Any]:
    """The facts a match gives: the registry's non-empty values (no prices from a local
    server's section), its deprecation, and the match note (for a match without an entry, only
    the note of an ambiguous or conflicting one)."""
    if match.entry is None:
        return {MATCH_FIELD: match.note()} if match.ambiguous else {}
    facts = {
        name: value
        for name, value in info_values(match.entry.info).items()
        if value is not None and not (match.local and name in _PRICES)
    }
    if match.entry.deprecated:
        facts["deprecated"] = True
    if match.entry.deprecation_date is not None:
        facts["deprecation_date"] = match.entry.deprecation_date
    facts[MATCH_FIELD] = match.note()
    return facts


def attribute(
    store: CatalogStore,
    registries: Sequence[Registry | RegistryInput],
    providers: Iterable[str] | None = None,
    *,
    at: float | None = None,
    force: bool = False,
) -> list[ProviderFill]:
    """Store each registry's facts about the models of ``providers`` (default: every one);
    ``force`` redoes fills whose fingerprint is unchanged."""
    when = utc_now() if at is None else at
    inputs = [r if isinstance(r, RegistryInput) else RegistryInput.of(r) for r in registries]
    keys = list(providers) if providers is not None else store.rows.provider_keys()
    with store.read() as session:
        plans = [_Plan.read(session, key, inputs) for key in keys]
    if plans and not force and all(plan.unchanged() for plan in plans):
        return _confirm(store, plans, when)
    known_hosts: dict[str, str] = {}
    for item in inputs:
        for host, section in item.registry().hosts().items():
            known_hosts.setdefault(host, section)
    with store.transaction() as session:
        for item in inputs:
            registry = item.registry()
            write_source(
                session,
                registry.origin,
                registry.source,
                version=registry.version,
                content_hash=registry.content_hash,
                location=registry.location,
                notes=registry.notes,
                at=when,
            )
    fills: list[ProviderFill] = []
    for plan in plans:
        fills.extend(_fill(store, plan, known_hosts, when, force))
    return fills


@dataclass
class _Plan:
    """One provider's listing snapshot, and per registry the fingerprint now and as stored."""

    key: str
    snapshot: ListingSnapshot
    inputs: list[RegistryInput]
    fingerprints: dict[str, str]
    stored: dict[str, FillRow]

    @classmethod
    def read(cls, session: Any, key: str, inputs: list[RegistryInput]) -> _Plan:
        """The plan from what the catalog holds now (read again inside the fill's
        transaction, so a listing written meanwhile is the one attributed)."""
        snapshot = listing_snapshot(session, key)
        stored = read_fills(session, snapshot.provider_id)
        contents = sorted((item.origin, item.content_hash, item.day) for item in inputs)
        fingerprints = {
            item.origin: _fingerprint(item.origin, contents, key, snapshot) for item in inputs
        }
        return cls(key, snapshot, inputs, fingerprints, dict(stored))

    def unchanged(self) -> bool:
        return all(
            origin in self.stored and self.stored[origin].fingerprint == fingerprint
            for origin, fingerprint in self.fingerprints.items()
        )


def _fingerprint(
    origin: str, contents: list[tuple[str, str, str]], key: str, snapshot: ListingSnapshot
) -> str:
    document = [
        RULE_VERSION,
        origin,
        contents,
        key,
        snapshot.base_url,
        sorted(snapshot.model_ids),
        sorted(snapshot.alias_targets.items()),
    ]
    return hashlib.sha256(json.dumps(document, separators=(",", ":")).encode()).hexdigest()


def _confirm(store: CatalogStore, plans: list[_Plan], when: float) -> list[ProviderFill]:
    """Every fill is as stored: confirm them, in one short transaction."""
    with store.transaction() as session:
        confirm_fills(
            session,
            [(plan.snapshot.provider_id, origin) for plan in plans for origin in plan.fingerprints],
            when,
        )
    fills = []
    for plan in plans:
        for item in plan.inputs:
            row = plan.stored[item.origin]
            counts = row.counts
            fills.append(
                ProviderFill(
                    plan.key,
                    row.source,
                    counts.matched,
                    counts.ambiguous,
                    counts.unmatched,
                    counts.known_empty,
                    skipped=True,
                )
            )
        logger.info("registry metadata for %s: unchanged", plan.key)
    return fills


def _fill(
    store: CatalogStore,
    plan: _Plan,
    known_hosts: Mapping[str, str],
    when: float,
    force: bool,
) -> list[ProviderFill]:
    fills: list[ProviderFill] = []
    with store.transaction() as session:
        lock_provider(session, plan.snapshot.provider_id)
        plan = _Plan.read(session, plan.key, plan.inputs)
        for item in plan.inputs:
            registry = item.registry()
            fingerprint = plan.fingerprints[item.origin]
            stored = plan.stored.get(item.origin)
            if not force and stored is not None and stored.fingerprint == fingerprint:
                confirm_fills(session, [(plan.snapshot.provider_id, item.origin)], when)
                counts = stored.counts
                fills.append(_provider_fill(plan.key, stored.source, counts, skipped=True))
                continue
            facts, counts = _facts_of(registry, plan.key, plan.snapshot, known_hosts)
            written = replace_registry_facts(
                session, plan.key, registry.origin, registry.source, facts, when
            )
            write_fill(
                session,
                plan.snapshot.provider_id,
                registry.origin,
                registry.source,
                fingerprint,
                counts,
                when,
                changed=written > 0,
            )
            fills.append(_provider_fill(plan.key, registry.source, counts))
    logger.info("registry metadata for %s: %s", plan.key, _summary(fills))
    return fills


def _provider_fill(
    key: str, source: str, counts: FillCounts, *, skipped: bool = False
) -> ProviderFill:
    return ProviderFill(
        key,
        source,
        counts.matched,
        counts.ambiguous,
        counts.unmatched,
        counts.known_empty,
        skipped=skipped,
    )


def _facts_of(
    registry: Registry, key: str, snapshot: ListingSnapshot, known_hosts: Mapping[str, str]
) -> tuple[dict[str, dict[str, Any]], FillCounts]:
    facts: dict[str, dict[str, Any]] = {}
    matched = known_empty = ambiguous = 0
    sections = registry.sections_for(key, snapshot.base_url, known_hosts)
    for model_id in snapshot.model_ids:
        match = registry.match(
            key,
            snapshot.base_url,
            model_id,
            listed_target=snapshot.alias_targets.get(model_id),
            sections=sections,
        )
        found = match_facts(match)
        if match.entry is not None:
            if not _METADATA.isdisjoint(found):
                matched += 1
            else:
                known_empty += 1
        ambiguous += match.ambiguous
        if found:
            facts[model_id] = found
    unmatched = len(snapshot.model_ids) - matched - known_empty - ambiguous
    return facts, FillCounts(matched, known_empty, ambiguous, unmatched)


def _summary(fills: Sequence[ProviderFill]) -> str:
    return "; ".join(
        f"{fill.source}: {fill.matched} matched, {fill.known_empty} known without metadata,"
        f" {fill.ambiguous} ambiguous"
        for fill in fills
    )
