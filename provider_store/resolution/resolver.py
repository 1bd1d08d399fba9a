"""Resolution across providers: a ``provider/model`` string or a bare name to a provider and model.

A :class:`Resolver` answers over the provider configs it is handed on each call (provider key ->
config, in catalog order) through a :class:`~provider_store.resolution.model_index.ModelIndex`
built once and kept while the configs are unchanged, so a catalog of 100,000 models is not
scanned per call. For catalogs of up to :data:`EXACT_FINGERPRINT_LIMIT` models every call also
compares the configs' contents, so editing a config in place
(``configs["p"].valid_models["m"] = "alias"``) is seen at once; above that size the check is O(1)
(the mapping's identity and its provider count), so call :meth:`Resolver.invalidate` after
editing configs of a large catalog in place. A new mapping of the same providers in the same
order (what a follower of the catalog hands over after re-reading the providers that changed)
re-indexes only the configs that were replaced, so one provider's change costs its models.

Answers are ``(provider_key, long_id)`` pairs; the caller maps a key to its config. The same
index serves the four-form resolution of :mod:`~provider_store.resolution.model_refs`
(:meth:`Resolver.names`) and the completions of :mod:`~provider_store.resolution.completions`
(:meth:`Resolver.completions`, built on first use and kept with the index).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provider_store.errors import AmbiguousModelError, UnknownModelError
from provider_store.provider_config import ProviderConfig
from provider_store.resolution.completions import CompletionIndex
from provider_store.resolution.model_index import ModelIndex
from provider_store.resolution.model_refs import Names
from provider_store.resolution.model_refs import split_first_slash as split_first_slash
from provider_store.suggestions import nearest

# Up to this many valid models, every lookup checks every (long, alias) pair for changes.
EXACT_FINGERPRINT_LIMIT = 1_000

Configs = Mapping[str, ProviderConfig]


def contents_fingerprint(configs: Configs) -> tuple[Any, ...]:
    """A value that changes when the mapping is replaced or any provider's valid models change."""
    return (
        id(configs),
        tuple((key, tuple(config.valid_models.items())) for key, config in configs.items()),
    )


class Resolver:
    """Resolves model strings over provider configs, with a cached :class:`ModelIndex`."""

    def __init__(self) -> None:
        self._index: ModelIndex | None = None
        self._fingerprint: tuple[Any, ...] = ()
        self._names: Names | None = None
        self._completions: CompletionIndex | None = None
        # The config and valid-models mapping each provider had when it was indexed.
        self._indexed: dict[str, tuple[ProviderConfig, Mapping[str, str]]] = {}

    def invalidate(self) -> None:
        """Drop the index; it is rebuilt on the next call."""
        self._index = None
        self._fingerprint = ()
        self._indexed = {}
        self._names = None
        self._completions = None

    def names(self, configs: Configs) -> Names:
        """The valid models of ``configs`` as a :class:`Names` scope (over :meth:`index`)."""
        index = self.index(configs)
        names = self._names
        if names is None or names.index is not index:
            names = Names(index, {key: config.valid_models for key, config in configs.items()})
            self._names = names
        return names

    def completions(self, configs: Configs) -> CompletionIndex:
        """The completion index over the valid models of ``configs``, kept with the index."""
        names = self.names(configs)
        completions = self._completions
        if completions is None or completions.names is not names:
            completions = CompletionIndex(names)
            self._completions = completions
        return completions

    def index(self, configs: Configs) -> ModelIndex:
        """The index over ``configs``' valid models, rebuilt when they changed (see the module)."""
        index = self._index
        if index is not None and len(index) > EXACT_FINGERPRINT_LIMIT:
            if self._fingerprint == (id(configs), len(configs)):
                return index  # a large catalog: O(1) check; in-place edits need invalidate()
            if self._take_in(index, configs):
                return index
        fingerprint = contents_fingerprint(configs)
        if index is None or fingerprint != self._fingerprint:
            index = ModelIndex([(key, config.valid_models) for key, config in configs.items()])
            self._index = index
            self._names = None
            self._completions = None
            if len(index) > EXACT_FINGERPRINT_LIMIT:
                fingerprint = (id(configs), len(configs))
            self._fingerprint = fingerprint
            self._indexed = {key: (c, c.valid_models) for key, c in configs.items()}
        return index

    def _take_in(self, index: ModelIndex, configs: Configs) -> bool:
        """Update ``index`` for a new mapping of the same providers in the same order, where
        only some configs were replaced (a follower re-read them): each replaced provider's
        models are indexed again, the others are kept. False when the providers differ."""
        indexed = self._indexed
        if len(configs) != len(index.keys) or list(configs) != index.keys:
            return False
        for position, (key, config) in enumerate(configs.items()):
            before = indexed.get(key)
            if before is None or before[0] is not config or before[1] is not config.valid_models:
                index.replace(position, config.valid_models)
                indexed[key] = (config, config.valid_models)
                self._names = None
                self._completions = None
        self._fingerprint = (id(configs), len(configs))
        return True

    def resolve(self, configs: Configs, model_string: str, *, strict: bool) -> tuple[str, str]:
        """``(provider_key, long_id)`` for ``model_string``; the rules are those of
        :meth:`ProviderManager.get_api_for_model_string
        <provider_store.resolution.manager.ProviderManager.get_api_for_model_string>`.
        """
        index = self.index(configs)
        prefix, rest = split_first_slash(model_string)
        attempts = [model_string]
        if prefix:
            position = index.provider_position(prefix)
            if position is not None:
                key = index.keys[position]
                hits = index.lookup(rest, provider=position)
                if not hits:

                    def near_in_provider() -> list[str]:
                        hints = index.nearest(rest, provider=position) or index.nearest(rest)
                        return [describe(configs, index, hint) for hint in hints]

                    raise UnknownModelError(
                        f"Invalid model for provider {key}: {rest}",
                        model_string=model_string,
                        provider=key,
                        suggestions=near_in_provider,
                    )
                return key, index.longs[hits[0]]
            if not strict:
                attempts.append(rest)
        for name in attempts:
            hits = index.lookup(name)
            if not hits:
                continue
            if strict and len(hits) > 1:
                raise AmbiguousModelError(name, [scoped(index, hit) for hit in hits])
            return index.keys[index.owner[hits[0]]], index.longs[hits[0]]
        if prefix and strict:
            raise UnknownModelError(
                f"Unknown provider: {prefix}",
                model_string=model_string,
                suggestions=lambda: prefix_hints(configs, index, prefix, rest),
            )
        shown = rest if prefix else model_string

        def near() -> list[str]:
            hints = index.nearest(model_string) if prefix else []
            hints += [hint for hint in index.nearest(shown) if hint not in hints]
            return [describe(configs, index, hint) for hint in hints[:3]]

        raise UnknownModelError(
            f"Invalid model: {shown}", model_string=model_string, suggestions=near
        )

    def unknown_prefix(self, configs: Configs, model_string: str) -> str | None:
        """The prefix of ``model_string`` when it is not a provider and the whole string names no
        model (non-strict resolution then looks up only the part after the slash); else None."""
        prefix, _rest = split_first_slash(model_string)
        if not prefix:
            return None
        index = self.index(configs)
        if index.provider_position(prefix) is not None or index.lookup(model_string):
            return None
        return prefix

    def find(self, configs: Configs, name: str) -> list[tuple[str, str]]:
        """``[(provider_key, long_id), ...]``: each provider's ``config.find_model(name)`` match."""
        index = self.index(configs)
        return [(index.keys[index.owner[hit]], index.longs[hit]) for hit in index.find(name)]

    def find_scoped(self, configs: Configs, name: str) -> list[str]:
        """Like :meth:`find`, as ``"provider/long"`` strings."""
        index = self.index(configs)
        return [scoped(index, hit) for hit in index.find(name)]

    def candidates(self, configs: Configs, model_string: str) -> list[str]:
        """Every ``provider/model`` a bare name matches (empty when it resolves uniquely or not)."""
        try:
            self.resolve(configs, model_string, strict=True)
        except AmbiguousModelError as exc:
            return exc.candidates
        except UnknownModelError:
            return []
        return []


def scoped(index: ModelIndex, ordinal: int) -> str:
    """``provider/long`` of the model at ``ordinal``."""
    return f"{index.keys[index.owner[ordinal]]}/{index.longs[ordinal]}"


def describe(configs: Configs, index: ModelIndex, ordinal: int) -> str:
    """``provider/long (alias)``, or ``provider/long`` when the alias is the id itself."""
    key, long = index.keys[index.owner[ordinal]], index.longs[ordinal]
    config = configs.get(key)
    alias = config.valid_models.get(long, long) if config is not None else long
    return f"{key}/{long}" if alias.lower() == long.lower() else f"{key}/{long} ({alias})"


def prefix_hints(configs: Configs, index: ModelIndex, prefix: str, rest: str) -> list[str]:
    """For ``prefix/rest`` with an unknown prefix: the provider keys near ``prefix``.

    The provider was mistyped, so providers are suggested, and only near ones.
    """
    return nearest(prefix, index.keys)
