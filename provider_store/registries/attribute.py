"""Attribute what the registries know to the catalog's models, each value with its source.

For every model of a provider (curated or discovered), each registry is matched with the rule of
:mod:`provider_store.registries.entries`; what it says (non-empty metadata, a deprecation) is
stored as that registry's facts, replacing what the same registry said before, in one transaction
per provider. An ambiguous match stores only why it filled nothing. Listed values and the user's
overrides are never touched: :func:`provider_store.catalog.model_facts.effective` ranks them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.metadata_columns import info_values
from provider_store.catalog.model_facts import MATCH_FIELD, replace_registry_facts
from provider_store.catalog.states import utc_now
from provider_store.registries.entries import Match, Registry

__all__ = ["ProviderFill", "attribute", "match_facts"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProviderFill:
    """What one registry filled for one provider: models matched, ambiguous, without entry."""

    provider: str
    source: str
    matched: int
    ambiguous: int
    unmatched: int


def match_facts(match: Match) -> dict[str, Any]:
    """The facts a match gives: the registry's non-empty values, its deprecation, and how it
    matched (or, for an ambiguous match, only why it filled nothing)."""
    if match.entry is None:
        return {MATCH_FIELD: match.problem} if match.ambiguous else {}
    facts = {
        name: value for name, value in info_values(match.entry.info).items() if value is not None
    }
    if match.entry.deprecated:
        facts["deprecated"] = True
    if match.entry.deprecation_date is not None:
        facts["deprecation_date"] = match.entry.deprecation_date
    facts[MATCH_FIELD] = match.how
    return facts


def attribute(
    store: CatalogStore,
    registries: Sequence[Registry],
    providers: Iterable[str] | None = None,
    *,
    at: float | None = None,
) -> list[ProviderFill]:
    """Store each registry's facts about the models of ``providers`` (default: every one)."""
    when = utc_now() if at is None else at
    fills: list[ProviderFill] = []
    for key in list(providers) if providers is not None else store.provider_keys():
        base_url = store.get_config(key).base_api_url
        model_ids = list(store.list_model_infos(key))
        with store.transaction() as session:
            for registry in registries:
                facts, fill = _facts_of(registry, key, base_url, model_ids)
                replace_registry_facts(session, key, registry.origin, registry.source, facts, when)
                fills.append(fill)
        logger.info("registry metadata for %s: %s", key, _summary(fills[-len(registries) :]))
    return fills


def _facts_of(
    registry: Registry, key: str, base_url: str, model_ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], ProviderFill]:
    facts: dict[str, dict[str, Any]] = {}
    matched = ambiguous = 0
    for model_id in model_ids:
        match = registry.match(key, base_url, model_id)
        matched += match.entry is not None
        ambiguous += match.ambiguous
        found = match_facts(match)
        if found:
            facts[model_id] = found
    unmatched = len(model_ids) - matched - ambiguous
    return facts, ProviderFill(key, registry.source, matched, ambiguous, unmatched)


def _summary(fills: Sequence[ProviderFill]) -> str:
    return "; ".join(
        f"{fill.source}: {fill.matched} matched, {fill.ambiguous} ambiguous" for fill in fills
    )
