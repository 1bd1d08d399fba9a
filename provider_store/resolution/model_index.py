"""In-memory indexes over a catalog's valid models, so resolution never scans the whole catalog.

A :class:`ModelIndex` is built from ``[(provider_key, valid_models), ...]`` in catalog order.
Every valid model gets an *ordinal* (its place in provider order, then catalog order), so "the
first match" is simply the smallest ordinal. Exact and case-insensitive lookups are dict hits;
substring lookups (the fallback of ``ProviderConfig.find_model``) go through a trigram index per
provider that is built lazily the first time a substring search needs it. Needles shorter than
three characters cannot use trigrams and fall back to a scan.

Each provider's models are indexed on their own (a segment), and the index over all of them
only says which providers hold a name, so one provider's new models are taken in by
:meth:`ModelIndex.replace` at the cost of that provider's models, not the catalog's.

The per-name data is held in tuples of strings and ints (names, posting lists, holders), which
Python's cyclic garbage collector stops tracking once it has seen them: an index of 100,000
models adds a few hundred objects to a full collection's walk instead of tens of thousands, so
the full collections a long-running process makes stay short.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import overload

from provider_store.suggestions import close_matches

logger = logging.getLogger(__name__)

TRIGRAM = 3
# The most names the "did you mean" similarity pass compares a needle with.
SIMILAR_SCAN_LIMIT = 5_000
# trigram -> local indexes (ascending) of one provider's names containing that trigram
_Grams = dict[str, tuple[int, ...]]
# name -> positions (ascending) of the providers holding it
_Holders = dict[str, tuple[int, ...]]


class _Segment:
    """One provider's valid models: names by local index, and the first local index of each
    name (exact and lowered, long ids and aliases)."""

    __slots__ = (
        "alias_exact",
        "alias_grams",
        "alias_l",
        "alias_lower",
        "long_exact",
        "long_grams",
        "long_l",
        "long_lower",
        "longs",
        "models",
    )

    def __init__(self, models: Mapping[str, str]) -> None:
        self.models = models
        longs: list[str] = []
        lowered: list[str] = []
        aliases: list[str | None] = []  # None when the alias equals the long id (any case)
        self.long_exact: dict[str, int] = {}
        self.alias_exact: dict[str, int] = {}
        self.long_lower: dict[str, int] = {}
        self.alias_lower: dict[str, int] = {}
        for local, (long, alias) in enumerate(models.items()):
            long_l, alias_l = long.lower(), alias.lower()
            longs.append(long)
            lowered.append(long_l)
            aliases.append(None if alias_l == long_l else alias_l)
            self.long_exact.setdefault(long, local)
            self.alias_exact.setdefault(alias, local)
            self.long_lower.setdefault(long_l, local)
            self.alias_lower.setdefault(alias_l, local)
        self.longs: tuple[str, ...] = tuple(longs)
        self.long_l: tuple[str, ...] = tuple(lowered)
        self.alias_l: tuple[str | None, ...] = tuple(aliases)
        self.long_grams: _Grams | None = None
        self.alias_grams: _Grams | None = None

    def maps(self) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
        return self.long_exact, self.alias_exact, self.long_lower, self.alias_lower

    def grams(self, aliases: bool) -> _Grams:
        found = self.alias_grams if aliases else self.long_grams
        if found is None:
            found = _build_grams(self.alias_l if aliases else self.long_l)
            if aliases:
                self.alias_grams = found
            else:
                self.long_grams = found
        return found


class _Column(Sequence[str]):
    """One value per ordinal, read from the segments (``longs``)."""

    def __init__(self, index: ModelIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, ordinal: int) -> str: ...
    @overload
    def __getitem__(self, ordinal: slice) -> list[str]: ...
    def __getitem__(self, ordinal: int | slice) -> str | list[str]:
        if isinstance(ordinal, slice):
            return [self[i] for i in range(*ordinal.indices(len(self)))]
        position, local = self._index.locate(ordinal)
        return self._index.segments[position].longs[local]

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(s.longs for s in self._index.segments)


class _Owners(Sequence[int]):
    """The provider position of each ordinal (``owner``)."""

    def __init__(self, index: ModelIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, ordinal: int) -> int: ...
    @overload
    def __getitem__(self, ordinal: slice) -> list[int]: ...
    def __getitem__(self, ordinal: int | slice) -> int | list[int]:
        if isinstance(ordinal, slice):
            return [self[i] for i in range(*ordinal.indices(len(self)))]
        return self._index.locate(ordinal)[0]

    def __iter__(self) -> Iterator[int]:
        return itertools.chain.from_iterable(
            itertools.repeat(p, len(s.longs)) for p, s in enumerate(self._index.segments)
        )


class ModelIndex:
    """Dict and trigram indexes over ``(provider_key, valid_models)`` pairs."""

    def __init__(self, catalog: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        self.keys: list[str] = [key for key, _models in catalog]
        self._provider_by_lower: dict[str, int] = {}
        for position, key in enumerate(self.keys):
            self._provider_by_lower.setdefault(key.lower(), position)
        self.segments: list[_Segment] = []
        # Per map of a segment (long exact, alias exact, long lower, alias lower): the
        # providers holding each name.
        building: tuple[dict[str, list[int]], ...] = ({}, {}, {}, {})
        for position, (_key, models) in enumerate(catalog):
            segment = _Segment(models)
            self.segments.append(segment)
            for holders, names in zip(building, segment.maps(), strict=True):
                for name in names:
                    found = holders.get(name)
                    if found is None:
                        holders[name] = [position]
                    else:
                        found.append(position)
        self._holders: tuple[_Holders, _Holders, _Holders, _Holders] = (
            _frozen(building[0]),
            _frozen(building[1]),
            _frozen(building[2]),
            _frozen(building[3]),
        )
        self._offsets: list[int] = []
        self._recount()
        self.longs: Sequence[str] = _Column(self)
        self.owner: Sequence[int] = _Owners(self)

    def _recount(self) -> None:
        offsets = [0]
        for segment in self.segments:
            offsets.append(offsets[-1] + len(segment.longs))
        self._offsets = offsets
        self._providers_with_models = sum(1 for s in self.segments if s.longs)

    def __len__(self) -> int:
        return self._offsets[-1]

    def locate(self, ordinal: int) -> tuple[int, int]:
        """``(provider position, index among that provider's models)`` of ``ordinal``."""
        if not 0 <= ordinal < len(self):
            raise IndexError(ordinal)
        position = bisect.bisect_right(self._offsets, ordinal) - 1
        return position, ordinal - self._offsets[position]

    def replace(self, position: int, models: Mapping[str, str]) -> None:
        """Take in new valid models of the provider at ``position`` (its key unchanged); costs
        that provider's models, not the catalog's."""
        old = self.segments[position]
        segment = _Segment(models)
        for holders, before, after in zip(self._holders, old.maps(), segment.maps(), strict=True):
            for name in before:
                if name in after:
                    continue  # held before and after: its holders stay as they are
                held = holders[name]
                if len(held) == 1:
                    del holders[name]
                else:
                    at = bisect.bisect_left(held, position)
                    holders[name] = held[:at] + held[at + 1 :]
            for name in after:
                if name in before:
                    continue
                found = holders.get(name)
                if found is None:
                    holders[name] = (position,)
                else:
                    at = bisect.bisect_left(found, position)
                    holders[name] = found[:at] + (position,) + found[at:]
        self.segments[position] = segment
        self._recount()

    # -- providers ------------------------------------------------------------------------------

    def provider_position(self, key: str) -> int | None:
        """The position of the provider whose key equals ``key`` ignoring case, or None."""
        return self._provider_by_lower.get(key.lower())

    # -- resolution -----------------------------------------------------------------------------

    def _hits(self, which: int, name: str, found: dict[int, int]) -> None:
        """Add each provider's first ordinal named ``name`` in map ``which`` to ``found``
        (a provider already in it keeps its hit)."""
        for position in self._holders[which].get(name, ()):
            if position not in found:
                local = self.segments[position].maps()[which][name]
                found[position] = self._offsets[position] + local

    def lookup(self, name: str, provider: int | None = None) -> list[int]:
        """Ordinals of models named ``name`` (long id or alias), one per provider, in order.

        An exact (case-sensitive) match anywhere wins over case-insensitive matches; within one
        provider a long id wins over an alias. ``provider`` restricts the search to one provider.
        """
        for longs, aliases, needle in ((0, 1, name), (2, 3, name.lower())):
            if provider is not None:
                segment = self.segments[provider]
                maps = segment.maps()
                local = maps[longs].get(needle)
                if local is None:
                    local = maps[aliases].get(needle)
                if local is not None:
                    return [self._offsets[provider] + local]
                continue
            found: dict[int, int] = {}
            self._hits(longs, needle, found)
            self._hits(aliases, needle, found)
            if found:
                return [found[p] for p in sorted(found)]
        return []

    def find(self, name: str) -> list[int]:
        """Per provider, the ordinal ``ProviderConfig.find_model(name)`` would pick, in order.

        Exact long id, then exact alias, then the first long id containing ``name``, then the
        first alias containing it, all ignoring case.
        """
        needle = name.lower()
        found: dict[int, int] = {}
        self._hits(2, needle, found)
        self._hits(3, needle, found)
        if len(found) < self._providers_with_models:
            self._substring(needle, False, found)
        if len(found) < self._providers_with_models:
            self._substring(needle, True, found)
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
                    for text in self._lowered(ordinal)
                    if text is not None
                }
                for match in close_matches(needle, names, limit=limit):
                    take([names[match]])
        return picked

    def _span(self, provider: int | None) -> range:
        """The ordinals of one provider (they are contiguous), or of every model."""
        if provider is None:
            return range(len(self))
        return range(self._offsets[provider], self._offsets[provider + 1])

    def _lowered(self, ordinal: int) -> tuple[str, str | None]:
        position, local = self.locate(ordinal)
        segment = self.segments[position]
        return segment.long_l[local], segment.alias_l[local]

    def _substring(self, needle: str, aliases: bool, found: dict[int, int]) -> None:
        """Settle each unsettled provider with its first name containing ``needle``."""
        short = len(needle) < TRIGRAM
        grams_of_needle = (
            set() if short else {needle[i : i + TRIGRAM] for i in range(len(needle) - TRIGRAM + 1)}
        )
        for position, segment in enumerate(self.segments):
            if position in found or not segment.longs:
                continue
            names = segment.alias_l if aliases else segment.long_l
            candidates: Sequence[int]
            if short:  # too short for trigrams: scan
                candidates = range(len(names))
            else:
                grams = segment.grams(aliases)
                postings = [grams.get(gram) for gram in grams_of_needle]
                if any(posting is None for posting in postings):
                    continue  # no name has this trigram, so none contains the needle
                candidates = min((p for p in postings if p is not None), key=len)
            for local in candidates:  # ascending: the first hit is the provider's first match
                text = names[local]
                if text is not None and needle in text:
                    found[position] = self._offsets[position] + local
                    break


def _frozen(building: dict[str, list[int]]) -> _Holders:
    """``building`` with tuples for lists (untracked by the garbage collector once seen)."""
    return {name: tuple(positions) for name, positions in building.items()}


def _build_grams(names: Sequence[str | None]) -> _Grams:
    started = time.perf_counter()
    grams: dict[str, list[int]] = {}
    for local, text in enumerate(names):
        if text is None:
            continue
        for gram in {text[i : i + TRIGRAM] for i in range(len(text) - TRIGRAM + 1)}:
            entries = grams.get(gram)
            if entries is None:
                grams[gram] = [local]
            else:
                entries.append(local)
    logger.debug(
        "Built a trigram index of %d names in %.3f s", len(names), time.perf_counter() - started
    )
    return _frozen(grams)
