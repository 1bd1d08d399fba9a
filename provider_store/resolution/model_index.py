"""In-memory indexes over a catalog's valid models, so resolution never scans the whole catalog.

A :class:`ModelIndex` is built from ``[(provider_key, valid_models), ...]`` in catalog order.
Every valid model gets an *ordinal* (its place in provider order, then catalog order), so "the
first match" is simply the smallest ordinal. Exact and case-insensitive lookups are dict hits;
substring lookups (the fallback of ``ProviderConfig.find_model``) go through a trigram index per
provider that is built lazily the first time a substring search needs it, and a map of which
providers hold each trigram, so a search visits only the providers that can hold the needle.
Needles shorter than three characters cannot use trigrams and fall back to a scan.

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
from collections.abc import Iterator, Mapping, Sequence
from typing import overload

from provider_store.resolution.trigrams import (
    TRIGRAM,
    Postings,
    build_grams,
    holders,
    move_position,
    needle_grams,
)
from provider_store.suggestions import close_matches

# The most names the "did you mean" similarity pass compares a needle with.
SIMILAR_SCAN_LIMIT = 5_000
# name -> positions (ascending) of the providers holding it
_Holders = Postings


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
        self.long_grams: Postings | None = None
        self.alias_grams: Postings | None = None

    def maps(self) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
        return self.long_exact, self.alias_exact, self.long_lower, self.alias_lower

    def grams(self, aliases: bool) -> Postings:
        found = self.alias_grams if aliases else self.long_grams
        if found is None:
            found = build_grams(self.alias_l if aliases else self.long_l)
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
        self.segments: list[_Segment] = [_Segment(models) for _key, models in catalog]
        # Per map of a segment (long exact, alias exact, long lower, alias lower): the
        # providers holding each name.
        maps = [segment.maps() for segment in self.segments]
        self._holders: tuple[_Holders, _Holders, _Holders, _Holders] = (
            holders(m[0] for m in maps),
            holders(m[1] for m in maps),
            holders(m[2] for m in maps),
            holders(m[3] for m in maps),
        )
        self._offsets: list[int] = []
        # Per kind of name (long ids, aliases): trigram -> positions of the providers holding it
        # (built with the first substring search of that kind).
        self._gram_places: list[_Holders | None] = [None, None]
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
        for names, before, after in zip(self._holders, old.maps(), segment.maps(), strict=True):
            move_position(names, position, before, after)
        for aliases, places in enumerate(self._gram_places):
            if places is not None:
                move_position(
                    places, position, old.grams(bool(aliases)), segment.grams(bool(aliases))
                )
        self.segments[position] = segment
        self._recount()

    def _places(self, aliases: bool) -> _Holders:
        """Trigram -> positions (ascending) of the providers with a name (alias when
        ``aliases``) holding it; built on first use, kept in step by :meth:`replace`."""
        places = self._gram_places[aliases]
        if places is None:
            places = holders(segment.grams(aliases) for segment in self.segments)
            self._gram_places[aliases] = places
        return places

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
        if len(needle) < TRIGRAM:  # too short for trigrams: scan every provider
            for position, segment in enumerate(self.segments):
                if position not in found:
                    names = segment.alias_l if aliases else segment.long_l
                    self._first_containing(position, names, range(len(names)), needle, found)
            return
        grams_of_needle = needle_grams(needle)
        places = self._places(aliases)
        held = [places.get(gram) for gram in grams_of_needle]
        if any(positions is None for positions in held):
            return  # some trigram is in no provider's names: none contains the needle
        rarest = min((p for p in held if p is not None), key=len)
        for position in rarest:
            if position in found:
                continue
            segment = self.segments[position]
            grams = segment.grams(aliases)
            postings = [grams.get(gram) for gram in grams_of_needle]
            if any(posting is None for posting in postings):
                continue  # no name of this provider has this trigram
            candidates = min((p for p in postings if p is not None), key=len)
            names = segment.alias_l if aliases else segment.long_l
            self._first_containing(position, names, candidates, needle, found)

    def _first_containing(
        self,
        position: int,
        names: Sequence[str | None],
        candidates: Sequence[int],
        needle: str,
        found: dict[int, int],
    ) -> None:
        for local in candidates:  # ascending: the first hit is the provider's first match
            text = names[local]
            if text is not None and needle in text:
                found[position] = self._offsets[position] + local
                return
