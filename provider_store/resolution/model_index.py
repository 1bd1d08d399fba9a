"""In-memory indexes over a catalog's valid models, so resolution never scans the whole catalog.

A :class:`ModelIndex` is built once from ``[(provider_key, valid_models), ...]`` in catalog order.
Every valid model gets an *ordinal* (its place in provider order, then catalog order), so "the
first match" is simply the smallest ordinal. Exact and case-insensitive lookups are dict hits;
substring lookups (the fallback of ``ProviderConfig.find_model``) go through a trigram index that is
built lazily the first time a substring search is needed. Needles shorter than three characters
cannot use trigrams and fall back to a scan.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Mapping, Sequence

from provider_store.suggestions import close_matches

logger = logging.getLogger(__name__)

TRIGRAM = 3
# The most names the "did you mean" similarity pass compares a needle with.
SIMILAR_SCAN_LIMIT = 5_000
# trigram -> provider position -> ordinals (ascending) of the names containing that trigram
_Grams = dict[str, dict[int, list[int]]]


class ModelIndex:
    """Dict and trigram indexes over ``(provider_key, valid_models)`` pairs."""

    def __init__(self, catalog: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        self.keys: list[str] = [key for key, _models in catalog]
        self._provider_by_lower: dict[str, int] = {}
        for position, key in enumerate(self.keys):
            self._provider_by_lower.setdefault(key.lower(), position)
        self.longs: list[str] = []
        self.owner: list[int] = []
        self._long_l: list[str] = []
        self._alias_l: list[str | None] = []  # None when the alias equals the long id (any case)
        self._long_exact: dict[str, list[int]] = {}
        self._alias_exact: dict[str, list[int]] = {}
        self._long_lower: dict[str, list[int]] = {}
        self._alias_lower: dict[str, list[int]] = {}
        self._providers_with_models = 0
        for position, (_key, models) in enumerate(catalog):
            if models:
                self._providers_with_models += 1
            for long, alias in models.items():
                ordinal = len(self.longs)
                self.longs.append(long)
                self.owner.append(position)
                long_l, alias_l = long.lower(), alias.lower()
                self._long_l.append(long_l)
                self._alias_l.append(None if alias_l == long_l else alias_l)
                self._add(self._long_exact, long, ordinal)
                self._add(self._alias_exact, alias, ordinal)
                self._add(self._long_lower, long_l, ordinal)
                self._add(self._alias_lower, alias_l, ordinal)
        self._long_grams: _Grams | None = None
        self._alias_grams: _Grams | None = None

    def __len__(self) -> int:
        return len(self.longs)

    def _add(self, mapping: dict[str, list[int]], name: str, ordinal: int) -> None:
        entries = mapping.get(name)
        if entries is None:
            mapping[name] = [ordinal]
        elif self.owner[entries[-1]] != self.owner[ordinal]:  # keep the first per provider
            entries.append(ordinal)

    # -- providers ------------------------------------------------------------------------------

    def provider_position(self, key: str) -> int | None:
        """The position of the provider whose key equals ``key`` ignoring case, or None."""
        return self._provider_by_lower.get(key.lower())

    # -- resolution -----------------------------------------------------------------------------

    def lookup(self, name: str, provider: int | None = None) -> list[int]:
        """Ordinals of models named ``name`` (long id or alias), one per provider, in order.

        An exact (case-sensitive) match anywhere wins over case-insensitive matches; within one
        provider a long id wins over an alias. ``provider`` restricts the search to one provider.
        """
        for longs, aliases, needle in (
            (self._long_exact, self._alias_exact, name),
            (self._long_lower, self._alias_lower, name.lower()),
        ):
            found: dict[int, int] = {}
            for ordinal in longs.get(needle, ()):
                found.setdefault(self.owner[ordinal], ordinal)
            for ordinal in aliases.get(needle, ()):
                found.setdefault(self.owner[ordinal], ordinal)
            if provider is not None:
                hit = found.get(provider)
                if hit is not None:
                    return [hit]
            elif found:
                return [found[p] for p in sorted(found)]
        return []

    def find(self, name: str) -> list[int]:
        """Per provider, the ordinal ``ProviderConfig.find_model(name)`` would pick, in order.

        Exact long id, then exact alias, then the first long id containing ``name``, then the
        first alias containing it, all ignoring case.
        """
        needle = name.lower()
        found: dict[int, int] = {}
        for ordinal in self._long_lower.get(needle, ()):
            found.setdefault(self.owner[ordinal], ordinal)
        for ordinal in self._alias_lower.get(needle, ()):
            found.setdefault(self.owner[ordinal], ordinal)
        if len(found) < self._providers_with_models:
            if self._long_grams is None and len(needle) >= TRIGRAM:
                self._long_grams = self._build_grams(self._long_l)
            self._substring(needle, self._long_l, self._long_grams, found)
        if len(found) < self._providers_with_models:
            if self._alias_grams is None and len(needle) >= TRIGRAM:
                self._alias_grams = self._build_grams(self._alias_l)
            self._substring(needle, self._alias_l, self._alias_grams, found)
        return [found[p] for p in sorted(found)]

    def nearest(self, name: str, provider: int | None = None, limit: int = 3) -> list[int]:
        """Ordinals of up to ``limit`` models whose names are nearest to ``name``, best first.

        Names containing ``name`` come first (one per provider, as :meth:`find` picks them), then
        names near it (``suggestions.close_matches``), long ids and aliases alike, ignoring case.
        ``provider`` restricts the hints to one provider. The similarity pass reads every name it
        considers, so it runs only over at most :data:`SIMILAR_SCAN_LIMIT` names (one provider's,
        or the whole catalog's when it is that small); larger catalogs get substring hints only.
        """
        needle = name.lower()
        picked: list[int] = []

        def take(ordinals: Sequence[int]) -> None:
            for ordinal in ordinals:
                if len(picked) >= limit:
                    return
                if (provider is None or self.owner[ordinal] == provider) and (
                    ordinal not in picked
                ):
                    picked.append(ordinal)

        if needle:
            take(self.find(needle))
        if len(picked) < limit:
            span = self._span(provider)
            if len(span) <= SIMILAR_SCAN_LIMIT:
                names = {
                    text: ordinal
                    for ordinal in span
                    for text in (self._long_l[ordinal], self._alias_l[ordinal])
                    if text is not None
                }
                for match in close_matches(needle, names, limit=limit):
                    take([names[match]])
        return picked

    def _span(self, provider: int | None) -> range:
        """The ordinals of one provider (they are contiguous), or of every model."""
        if provider is None:
            return range(len(self.longs))
        return range(
            bisect.bisect_left(self.owner, provider), bisect.bisect_right(self.owner, provider)
        )

    def _substring(
        self,
        needle: str,
        names: Sequence[str | None],
        grams: _Grams | None,
        found: dict[int, int],
    ) -> None:
        """Settle each unsettled provider with its first name containing ``needle``."""
        if grams is None or len(needle) < TRIGRAM:  # too short for trigrams: scan
            for ordinal, text in enumerate(names):
                provider = self.owner[ordinal]
                if provider not in found and text is not None and needle in text:
                    found[provider] = ordinal
            return
        postings: list[dict[int, list[int]]] = []
        for gram in {needle[i : i + TRIGRAM] for i in range(len(needle) - TRIGRAM + 1)}:
            by_provider = grams.get(gram)
            if by_provider is None:
                return  # no name has this trigram, so none contains the needle
            postings.append(by_provider)
        postings.sort(key=len)
        # Providers whose names have every trigram of the needle, minus the settled ones.
        possible = [p for p in postings[0] if p not in found]
        for by_provider in postings[1:]:
            if not possible:
                return
            possible = [p for p in possible if p in by_provider]
        for provider in sorted(possible):
            shortest = min((by_provider[provider] for by_provider in postings), key=len)
            for ordinal in shortest:  # ascending: the first hit is the provider's first match
                text = names[ordinal]
                if text is not None and needle in text:
                    found[provider] = ordinal
                    break

    def _build_grams(self, names: Sequence[str | None]) -> _Grams:
        started = time.perf_counter()
        grams: _Grams = {}
        owner = self.owner
        for ordinal, text in enumerate(names):
            if text is None:
                continue
            provider = owner[ordinal]
            for gram in {text[i : i + TRIGRAM] for i in range(len(text) - TRIGRAM + 1)}:
                by_provider = grams.get(gram)
                if by_provider is None:
                    grams[gram] = {provider: [ordinal]}
                else:
                    entries = by_provider.get(provider)
                    if entries is None:
                        by_provider[provider] = [ordinal]
                    else:
                        entries.append(ordinal)
        logger.debug(
            "Built a trigram index of %d names in %.3f s", len(names), time.perf_counter() - started
        )
        return grams
