"""What a user typed, to one model: the four forms, and one wording for every miss.

Every command and library call that takes a model string reads it here, over a :class:`Names`
scope (the valid models, or every model the catalog holds):

- ``P/ALIAS`` and ``P/ID``: provider ``P`` (its key, ignoring case), then one of its models by
  id or alias (an exact-case match first; an id before an alias);
- ``ALIAS`` and ``ID``: a model of any provider, by alias or id. A whole id may hold a slash
  (``Qwen/QwQ-32B``), also one whose head happens to be a provider key.

With ``strict`` a name that several providers answer to is an :class:`AmbiguousModelError`
listing them, and the part after a head that is no provider (``nope/4o``) is not looked up on
its own. Without it the first provider wins (every match is in :attr:`ModelRef.candidates`) and
``nope/4o`` is looked up as ``4o`` (:attr:`ModelRef.skipped_prefix` says so). A miss is an
:class:`UnknownModelError` worded ``Unknown model: TEXT``, with the nearest models suggested.

The legacy ``ProviderManager.get_api_for_model_string`` keeps its own messages
(:mod:`provider_store.resolution.resolver`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from provider_store.errors import AmbiguousModelError, UnknownModelError
from provider_store.resolution.model_index import ModelIndex
from provider_store.suggestions import UNKNOWN_MODEL, nearest

__all__ = ["ModelRef", "Names", "resolve_ref", "search_refs", "split_first_slash"]

# Most models a miss suggests.
HINTS = 3


def split_first_slash(text: str) -> tuple[str, str]:
    """``("", text)`` when ``text`` has no slash, else the parts before and after the first one."""
    if "/" not in text:
        return "", text
    head, _sep, tail = text.partition("/")
    return head, tail


@dataclass(frozen=True, slots=True)
class ModelRef:
    """One model of the catalog, as a resolution found it; ``str()`` is ``provider/model``.

    ``alias`` is the model's alias (None when it has none); ``candidates`` every
    ``provider/model`` the name matched, this one first (only this one unless the name was
    ambiguous); ``skipped_prefix`` the head of ``nope/4o`` that is no provider and was looked
    past (non-strict resolution only).
    """

    provider: str
    model: str
    alias: str | None = None
    candidates: tuple[str, ...] = field(default=())
    skipped_prefix: str | None = None

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class Names:
    """A :class:`ModelIndex` with each model's alias: what a resolution looks in.

    ``models`` maps each provider key (catalog order) to ``{model_id: alias}``, an alias equal
    to the id (ignoring case) meaning none.
    """

    index: ModelIndex
    models: Mapping[str, Mapping[str, str]]

    @classmethod
    def build(cls, catalog: Sequence[tuple[str, Mapping[str, str]]]) -> Names:
        """Names over ``[(provider_key, {model_id: alias}), ...]`` in catalog order."""
        return cls(ModelIndex(catalog), dict(catalog))

    def alias_of(self, ordinal: int) -> str | None:
        """The alias of the model at ``ordinal``, None when it has none."""
        key, long = self.index.keys[self.index.owner[ordinal]], self.index.longs[ordinal]
        alias = self.models.get(key, {}).get(long)
        return alias if alias and alias.lower() != long.lower() else None

    def scoped(self, ordinal: int) -> str:
        """``provider/model`` of the model at ``ordinal``."""
        return f"{self.index.keys[self.index.owner[ordinal]]}/{self.index.longs[ordinal]}"

    def describe(self, ordinal: int) -> str:
        """``provider/model (alias)``, or ``provider/model`` for a model without an alias."""
        alias = self.alias_of(ordinal)
        return f"{self.scoped(ordinal)} ({alias})" if alias else self.scoped(ordinal)

    def ref(
        self, ordinal: int, matches: Sequence[int] = (), skipped_prefix: str | None = None
    ) -> ModelRef:
        """The :class:`ModelRef` of the model at ``ordinal`` (``matches``: every hit)."""
        return ModelRef(
            provider=self.index.keys[self.index.owner[ordinal]],
            model=self.index.longs[ordinal],
            alias=self.alias_of(ordinal),
            candidates=tuple(self.scoped(hit) for hit in matches or [ordinal]),
            skipped_prefix=skipped_prefix,
        )


def resolve_ref(names: Names, text: str, *, strict: bool) -> ModelRef:
    """The model ``text`` names, by the rules of the module."""
    index = names.index
    prefix, rest = split_first_slash(text)
    position = index.provider_position(prefix) if prefix else None
    if position is not None:
        hits = index.lookup(rest, provider=position)
        if hits:
            return names.ref(hits[0])
    hits = index.lookup(text)
    if hits:
        if strict and len(hits) > 1:
            raise AmbiguousModelError(text, [names.scoped(hit) for hit in hits])
        return names.ref(hits[0], hits)
    if prefix and position is None and not strict:
        hits = index.lookup(rest)
        if hits:
            return names.ref(hits[0], hits, skipped_prefix=prefix)
    raise unknown(names, text)


def search_refs(names: Names, text: str) -> list[ModelRef]:
    """Each provider's best match for ``text`` (exact id, alias, then the first id or alias
    containing it, ignoring case), in catalog order; after ``P/`` only provider ``P``'s.
    UnknownModelError (with the nearest models) when nothing matches."""
    index = names.index
    prefix, rest = split_first_slash(text)
    position = index.provider_position(prefix) if prefix else None
    if position is not None:
        hits = [hit for hit in index.find(rest) if index.owner[hit] == position]
        if hits:
            return [names.ref(hit) for hit in hits]
    hits = index.find(text)
    if hits:
        return [names.ref(hit) for hit in hits]
    raise unknown(names, text)


def unknown(names: Names, text: str) -> UnknownModelError:
    """``Unknown model: TEXT``, suggesting the models nearest to what was typed.

    After a provider's key: that provider's nearest models (else the catalog's); after a head
    that is no provider: the rest in the providers whose keys are near it, then the nearest
    models of the whole text and of the rest.
    """
    index = names.index
    prefix, rest = split_first_slash(text)
    position = index.provider_position(prefix) if prefix else None

    def near() -> list[str]:
        picked: list[int] = []

        def add(ordinals: Sequence[int]) -> None:
            picked.extend(o for o in ordinals if o not in picked)

        if position is not None:
            add(index.nearest(rest, provider=position) or index.nearest(rest))
        near_keys: list[str] = []
        if position is None and prefix:
            near_keys = nearest(prefix, index.keys)
            for key in near_keys:
                found = index.provider_position(key)
                add(index.lookup(rest, provider=found) or index.nearest(rest, provider=found)[:1])
            add(index.nearest(text))
            add(index.nearest(rest))
        elif position is None:
            add(index.nearest(text))
        # A head that is no provider and near none of their models: the provider keys near it.
        return [names.describe(o) for o in picked[:HINTS]] or near_keys[:HINTS]

    return UnknownModelError(
        UNKNOWN_MODEL.format(asked=text),
        model_string=text,
        provider=index.keys[position] if position is not None else None,
        suggestions=near,
    )
