"""Ranked completions of a partly typed model name, for shells and chat clients.

A :class:`CompletionIndex` is built once over a :class:`~provider_store.resolution.model_refs.Names`
scope (sorted name lists, and trigram postings made on the first substring search) and answers
:meth:`CompletionIndex.complete` without scanning the catalog: a bisection and a walk of at most
``limit`` names per tier. The ranking, best first:

1. names equal to the text (ignoring case), aliases before ids;
2. provider keys starting with it, completed as ``key/`` (when the text has no slash);
3. aliases starting with it, then model ids starting with it (each alphabetically);
4. aliases containing it, then ids containing it (for texts of three characters or more).

After a provider's key and a slash (``openai/4``) the tiers run over that provider's names and
complete to ``openai/...``; then, as for any other text, over the bare names of the whole
catalog (a whole id may hold a slash: ``Qwen/QwQ-32B``). A bare name that several providers
answer to is offered once. Every completion of tiers 1-3 starts with the text typed (ignoring
case), as a shell needs; tier 4 is for menus that replace what was typed.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from provider_store.resolution.model_refs import Names, split_first_slash

__all__ = ["Completion", "CompletionIndex"]

TRIGRAM = 3
PROVIDER, ALIAS, MODEL = "provider", "alias", "model"


@dataclass(frozen=True, slots=True)
class Completion:
    """One completion: ``text`` replaces everything typed so far.

    ``kind`` is ``provider`` (``text`` is ``key/``), ``alias`` or ``model``; ``provider`` the
    provider key (the first provider's, for a bare name several answer to); ``model`` the model
    id it stands for (None for a provider); ``meta`` a short description for a menu
    (``openai/gpt-4o-2024-08-06`` for an alias, the providers of a model id, a provider's model
    count). With prompt_toolkit::

        Completion(c.text, start_position=-len(typed), display_meta=c.meta)
    """

    text: str
    kind: str
    provider: str
    model: str | None
    meta: str


class _Sorted:
    """Lower-cased names, sorted, each with the ordinal of the model it names."""

    __slots__ = ("lowered", "ordinals", "grams")

    def __init__(self, pairs: list[tuple[str, int]]) -> None:
        pairs.sort()
        self.lowered = [name for name, _ordinal in pairs]
        self.ordinals = [ordinal for _name, ordinal in pairs]
        self.grams: dict[str, list[int]] | None = None

    def starting(self, needle: str) -> Iterator[int]:
        """Positions of the names starting with ``needle``, in order."""
        position = bisect.bisect_left(self.lowered, needle)
        lowered = self.lowered
        while position < len(lowered) and lowered[position].startswith(needle):
            yield position
            position += 1

    def containing(self, needle: str) -> Iterator[int]:
        """Positions of the names containing ``needle`` but not starting with it, in order."""
        if len(needle) < TRIGRAM:
            return
        if self.grams is None:
            self.grams = _grams(self.lowered)
        postings = []
        for gram in {needle[i : i + TRIGRAM] for i in range(len(needle) - TRIGRAM + 1)}:
            found = self.grams.get(gram)
            if found is None:
                return
            postings.append(found)
        lowered = self.lowered
        for position in min(postings, key=len):
            name = lowered[position]
            if needle in name and not name.startswith(needle):
                yield position


def _grams(lowered: list[str]) -> dict[str, list[int]]:
    grams: dict[str, list[int]] = {}
    for position, name in enumerate(lowered):
        for gram in {name[i : i + TRIGRAM] for i in range(len(name) - TRIGRAM + 1)}:
            grams.setdefault(gram, []).append(position)
    return grams


class CompletionIndex:
    """Sorted names of a :class:`Names` scope, answering :meth:`complete`."""

    def __init__(self, names: Names) -> None:
        self.names = names
        index = names.index
        self.texts = list(index.longs)
        aliases: dict[int, str] = {}
        for ordinal in range(len(index)):
            alias = names.alias_of(ordinal)
            if alias is not None:
                aliases[ordinal] = alias
        self.aliases = aliases
        by_provider_ids: dict[int, list[tuple[str, int]]] = {}
        by_provider_aliases: dict[int, list[tuple[str, int]]] = {}
        ids = []
        for ordinal, long in enumerate(index.longs):
            pair = (long.lower(), ordinal)
            ids.append(pair)
            by_provider_ids.setdefault(index.owner[ordinal], []).append(pair)
        alias_pairs = []
        for ordinal, alias in aliases.items():
            pair = (alias.lower(), ordinal)
            alias_pairs.append(pair)
            by_provider_aliases.setdefault(index.owner[ordinal], []).append(pair)
        self.ids = _Sorted(ids)
        self.alias_names = _Sorted(alias_pairs)
        self.provider_ids = {p: _Sorted(pairs) for p, pairs in by_provider_ids.items()}
        self.provider_aliases = {p: _Sorted(pairs) for p, pairs in by_provider_aliases.items()}
        self.model_counts = Counter(index.owner)
        self.providers = sorted((key.lower(), p) for p, key in enumerate(index.keys))

    def complete(self, text: str, *, limit: int = 20) -> list[Completion]:
        """Up to ``limit`` completions of ``text``, best first (see the module)."""
        run = _Run(self, limit)
        if limit <= 0:
            return []
        prefix, rest = split_first_slash(text)
        position = self.names.index.provider_position(prefix) if prefix else None
        if position is not None:
            run.tiers(rest.lower(), position)
        if not run.full():
            run.tiers(text.lower(), None, providers=not prefix)
        return run.found

    def name_of(self, ordinal: int, kind: str) -> str:
        """The alias or the id of the model at ``ordinal``, as spelled in the catalog."""
        return self.aliases[ordinal] if kind == ALIAS else self.texts[ordinal]


class _Run:
    """One :meth:`CompletionIndex.complete` call: what it found so far."""

    def __init__(self, completions: CompletionIndex, limit: int) -> None:
        self.c = completions
        self.limit = limit
        self.found: list[Completion] = []
        self.seen: set[str] = set()

    def full(self) -> bool:
        return len(self.found) >= self.limit

    def tiers(self, needle: str, provider: int | None, *, providers: bool = False) -> None:
        """Run the ranking's tiers for ``needle`` over one provider's names or all of them."""
        c = self.c
        if provider is None:
            lists = [(ALIAS, c.alias_names), (MODEL, c.ids)]
        else:
            empty = _Sorted([])
            lists = [
                (ALIAS, c.provider_aliases.get(provider, empty)),
                (MODEL, c.provider_ids.get(provider, empty)),
            ]
        for kind, names in lists:  # 1. exact
            for position in names.starting(needle):
                if names.lowered[position] != needle or self.add(kind, names, position, provider):
                    break
        if providers and not self.full():  # 2. provider keys
            self.add_providers(needle)
        for matches in ("starting", "containing"):  # 3. prefix, 4. substring
            for kind, names in lists:
                if self.full():
                    return
                for position in getattr(names, matches)(needle):
                    if self.add(kind, names, position, provider):
                        return

    def add_providers(self, needle: str) -> None:
        c = self.c
        index = c.names.index
        start = bisect.bisect_left(c.providers, (needle, -1))
        for lowered, position in c.providers[start:]:
            if not lowered.startswith(needle) or self.full():
                return
            key = index.keys[position]
            self.emit(Completion(f"{key}/", PROVIDER, key, None, _count(c, position)))

    def add(self, kind: str, names: _Sorted, position: int, provider: int | None) -> bool:
        """Offer the name at ``position``; True when the run is full."""
        c = self.c
        index = c.names.index
        ordinal = names.ordinals[position]
        key = index.keys[index.owner[ordinal]]
        long = index.longs[ordinal]
        name = c.name_of(ordinal, kind)
        if provider is not None:
            text = f"{key}/{name}"
            meta = f"{key}/{long}" if kind == ALIAS else key
        else:
            text = name
            if text.lower() in self.seen:
                return False
            owners = _owners(c, names, position)
            meta = f"{key}/{long}" if kind == ALIAS else ", ".join(owners)
            if kind == ALIAS and len(owners) > 1:
                meta += f" (and {len(owners) - 1} more)"
        self.emit(Completion(text, kind, key, long, meta))
        return self.full()

    def emit(self, completion: Completion) -> None:
        lowered = completion.text.lower()
        if lowered not in self.seen and not self.full():
            self.seen.add(lowered)
            self.found.append(completion)


def _owners(c: CompletionIndex, names: _Sorted, position: int) -> list[str]:
    """The provider keys of every model named as the name at ``position`` is (ignoring case)."""
    index = c.names.index
    lowered = names.lowered[position]
    owners: list[str] = []
    while position < len(names.lowered) and names.lowered[position] == lowered:
        key = index.keys[index.owner[names.ordinals[position]]]
        if key not in owners:
            owners.append(key)
        position += 1
    return owners


def _count(c: CompletionIndex, position: int) -> str:
    count = c.model_counts.get(position, 0)
    return f"provider, {count} model{'s' if count != 1 else ''}"
