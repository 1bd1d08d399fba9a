"""What a registry knows about models, and the rule that matches a catalog model to it.

Matching is conservative and documented (README, "Metadata from registries"):

1. **The registry's section** (its provider) for a catalog provider. **The host decides** where
   some registry knows it: the sections serving the base URL's host (the registry's own API
   URLs, or :data:`KNOWN_HOSTS`), whatever the provider is called; the provider key only
   chooses between several vendors at one host. A host that a registry knows but this registry
   has no section for gets nothing from it (a provider named ``openai`` at another gateway's
   host never gets OpenAI's entries). **The name decides** only where no registry knows the
   host: the key compared without case and punctuation, then without a trailing ``ai``
   (``together`` finds ``togetherai`` and ``together_ai``). A loopback or private host (a local
   server) is never matched by host, so a loopback proxy named ``openai`` gets OpenAI's entries.
   The sections of one vendor (:data:`~provider_store.registries.sections.SECTION_VENDORS`:
   ``cohere`` and ``cohere_chat``, ``openai`` and ``text-completion-openai``) are searched
   together. A local server's section (:data:`~provider_store.registries.sections.
   LOCAL_SECTIONS`, or one whose API URL is a loopback address) never supplies prices.
2. **The model**, within those sections: the exact id, then the id without regard to case, then
   the id without a ``vendor/`` prefix on either side. When the provider's list says that the
   model is an alias of another (``mistral-large-latest`` of ``mistral-large-2512``), the target
   is looked up first; when the registry says an entry is an alias (LiteLLM's ``alias_of``), the
   target's entry is used. Either way the match names the target.
3. **Ambiguous matches fill nothing** and say why, and so do entries the registry gives twice
   with different values (refused by the reader, reported by ``registries check``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provider_store.model_info import ModelInfo
from provider_store.registries.sections import (
    KNOWN_HOSTS,
    canonical,
    host_of,
    is_local_host,
    vendor_of,
)

__all__ = ["Match", "Registry", "RegistryModel", "RegistryProvider"]


@dataclass(frozen=True, slots=True)
class RegistryModel:
    """One registry entry: the metadata (``info.id`` is the model id within its section), its
    status, the registry's own key for it, and, for an alias entry, the model it points at
    (whose metadata ``info`` holds). ``refused`` says why the reader refused the entry (two
    entries for one model with different values): such an entry fills nothing."""

    info: ModelInfo
    deprecated: bool = False
    deprecation_date: str | None = None
    key: str = ""
    alias_of: str | None = None
    refused: str | None = None

    def same_values(self, other: RegistryModel) -> bool:
        """True when both entries say the same about their model (metadata and deprecation)."""
        return (
            _values(self.info) == _values(other.info)
            and self.deprecated == other.deprecated
            and self.deprecation_date == other.deprecation_date
            and self.alias_of == other.alias_of
        )


def _values(info: ModelInfo) -> tuple[Any, ...]:
    return tuple(
        getattr(info, name)
        for name in (
            "display_name",
            "created",
            "context_length",
            "max_input_tokens",
            "max_output_tokens",
            "input_price",
            "output_price",
            "input_modalities",
            "output_modalities",
            "capabilities",
        )
    )


@dataclass(frozen=True, slots=True)
class RegistryProvider:
    """One section of a registry: its name, API hosts, models by id, and whether it describes
    a server on the user's machine (whose prices are never used)."""

    name: str
    hosts: frozenset[str]
    models: Mapping[str, RegistryModel]
    local: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """What a registry says about one catalog model: an entry, or why it says nothing.

    ``section`` is the registry section searched or found, ``how`` the step that found the
    entry; ``alias_of`` names the model whose entry was used when the model is an alias, and
    ``alias_said_by`` who said so (``listed`` or the registry's source).
    """

    source: str
    entry: RegistryModel | None = None
    section: str | None = None
    how: str | None = None
    problem: str | None = None
    alias_of: str | None = None
    alias_said_by: str | None = None
    local: bool = False

    @property
    def ambiguous(self) -> bool:
        """True when several registry entries fit (or conflict), so nothing was filled."""
        return self.problem is not None and self.problem.startswith(("ambiguous", "conflicting"))

    def note(self) -> dict[str, str]:
        """The match as stored beside the facts: the entry's key and section and how it was
        found (and the alias target), or the problem."""
        if self.entry is None:
            return {"problem": self.problem or "no entry"}
        note = {"entry": self.entry.key, "section": self.section or "", "how": self.how or ""}
        if self.alias_of is not None:
            note["alias_of"] = self.alias_of
            note["alias_said_by"] = self.alias_said_by or ""
        return note


@dataclass(frozen=True)
class Registry:
    """A registry's models by section, and the one matching rule over them.

    ``origin`` is the registry family (``models.dev``, ``litellm``); ``source`` names it with its
    version (``models.dev 1.0.398``, ``litellm 1.110.2``, or ``litellm sha256:…`` when nothing
    names a version) and is recorded beside every value it fills; ``content_hash`` is the
    SHA-256 of the bytes read, ``location`` where they were read (a URL without credentials);
    ``notes`` are what the reader refused or found twice, one line each naming the entry.
    """

    origin: str
    source: str
    providers: Mapping[str, RegistryProvider]
    version: str | None = None
    content_hash: str = ""
    location: str = ""
    notes: tuple[str, ...] = ()
    _by_canonical: dict[str, list[str]] = field(init=False, repr=False, compare=False)
    _canonical_of: dict[str, str] = field(init=False, repr=False, compare=False)
    _folded: dict[tuple[str, str], dict[str, list[str]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_canonical: dict[str, list[str]] = {}
        canonical_of = {name: canonical(name) for name in self.providers}
        for name, folded in canonical_of.items():
            by_canonical.setdefault(folded, []).append(name)
        object.__setattr__(self, "_by_canonical", by_canonical)
        object.__setattr__(self, "_canonical_of", canonical_of)
        object.__setattr__(self, "_folded", {})

    def __len__(self) -> int:
        return sum(len(provider.models) for provider in self.providers.values())

    def hosts(self) -> dict[str, str]:
        """The non-local API hosts this registry knows, each with the section serving it."""
        known: dict[str, str] = {}
        for name, provider in self.providers.items():
            for host in provider.hosts:
                if not is_local_host(host):
                    known.setdefault(host, name)
        return known

    def sections_for(
        self, provider_key: str, base_url: str, known_hosts: Mapping[str, str] | None = None
    ) -> tuple[tuple[str, ...], str | None]:
        """The sections to search for a catalog provider, as ``(sections, problem)``.

        ``known_hosts`` are hosts other registries know (host -> their section there): such a
        host finds this registry's section of the same canonical name, or none, never a
        section by the provider's name.
        """
        host = host_of(base_url)
        if host and not is_local_host(host):
            elsewhere = (known_hosts or {}).get(host)
            owner = KNOWN_HOSTS.get(host) or (canonical(elsewhere) if elsewhere else None)
            by_host = [
                name
                for name, provider in self.providers.items()
                if host in provider.hosts or self._canonical_of[name] == owner
            ]
            if by_host:
                return self._narrowed(by_host, provider_key, host)
            if owner is not None:
                return (), f"{host} is {owner}'s host; {self.source} has no section for it"
        exact = [name for name in self.providers if name.lower() == provider_key.lower()]
        if len(exact) == 1:
            return self._group(vendor_of(exact[0])), None
        vendors = sorted(
            {vendor_of(n) for n in self._by_canonical.get(canonical(provider_key), [])}
        )
        if len(vendors) == 1:
            return self._group(vendors[0]), None
        if len(vendors) > 1:
            return (), f"ambiguous provider: {', '.join(vendors)}"
        serving = f" or serving {host}" if host and not is_local_host(host) else ""
        return (), f"no {self.source} section named {provider_key}{serving}"

    def _narrowed(
        self, by_host: list[str], provider_key: str, host: str
    ) -> tuple[tuple[str, ...], str | None]:
        vendors = sorted({vendor_of(name) for name in by_host})
        if len(vendors) > 1:
            # Several vendors at one host: the provider key may name one of them.
            named = sorted(
                {
                    vendor_of(name)
                    for name in by_host
                    if name.lower() == provider_key.lower()
                    or canonical(name) == canonical(provider_key)
                }
            )
            if len(named) != 1:
                return (), f"ambiguous provider for host {host}: {', '.join(sorted(by_host))}"
            vendors = named
        return self._group(vendors[0]), None

    def _group(self, vendor: str) -> tuple[str, ...]:
        """The sections of ``vendor``, its own section first."""
        members = sorted(name for name in self.providers if vendor_of(name) == vendor)
        return tuple(sorted(members, key=lambda name: name != vendor))

    def match(
        self,
        provider_key: str,
        base_url: str,
        model_id: str,
        *,
        listed_target: str | None = None,
        known_hosts: Mapping[str, str] | None = None,
        sections: tuple[tuple[str, ...], str | None] | None = None,
    ) -> Match:
        """The entry for ``model_id`` of a catalog provider, following the module's rule.

        ``listed_target``: the model the provider's list says ``model_id`` is an alias of;
        ``sections``: :meth:`sections_for` of the provider, when the caller has it already.
        """
        found_sections = sections or self.sections_for(provider_key, base_url, known_hosts)
        sections_found, problem = found_sections
        return self._match(sections_found, problem, model_id, listed_target)

    def _match(
        self,
        sections: tuple[str, ...],
        problem: str | None,
        model_id: str,
        listed_target: str | None,
    ) -> Match:
        if not sections:
            return Match(self.source, problem=problem)
        if listed_target is not None and listed_target != model_id:
            found = self._find(sections, listed_target)
            if found.entry is not None:
                return Match(
                    self.source,
                    found.entry,
                    found.section,
                    f"alias of {listed_target}, as the provider's list says; {found.how}",
                    alias_of=listed_target,
                    alias_said_by="listed",
                    local=found.local,
                )
        return self._find(sections, model_id)

    def _find(self, sections: tuple[str, ...], model_id: str) -> Match:
        shown = "/".join(sections)
        for how, fold in _STEPS:
            hits = self._hits(sections, model_id, how, fold)
            if not hits:
                continue
            section, entry = hits[0]
            if len(hits) > 1 and not all(entry.same_values(other) for _s, other in hits[1:]):
                keys = [other.key or other.info.id for _s, other in hits]
                return Match(self.source, section=shown, problem=f"ambiguous model: {_few(keys)}")
            if entry.refused is not None:
                return Match(self.source, section=section, problem=entry.refused)
            local = self.providers[section].local
            if entry.alias_of is not None:
                return Match(
                    self.source,
                    entry,
                    section,
                    f"{how}; alias of {entry.alias_of}, as {self.source} says",
                    alias_of=entry.alias_of,
                    alias_said_by=self.source,
                    local=local,
                )
            return Match(self.source, entry, section, how, local=local)
        return Match(
            self.source, section=shown, problem=f"{shown} in {self.source} lists no {model_id}"
        )

    def _hits(
        self, sections: tuple[str, ...], model_id: str, how: str, fold: Any
    ) -> list[tuple[str, RegistryModel]]:
        hits: list[tuple[str, RegistryModel]] = []
        for section in sections:
            models = self.providers[section].models
            if fold is None:
                if model_id in models:
                    hits.append((section, models[model_id]))
                continue
            for found in sorted(self._index(section, how, fold).get(fold(model_id), [])):
                hits.append((section, models[found]))
        return hits

    def _index(self, section: str, how: str, fold: Any) -> dict[str, list[str]]:
        """The section's model ids by their folded form (built once per section and step)."""
        index = self._folded.get((section, how))
        if index is None:
            index = {}
            for model_id in self.providers[section].models:
                index.setdefault(fold(model_id), []).append(model_id)
            self._folded[(section, how)] = index
        return index


# The steps of the model match, in order: how each is named, and how ids are compared in it.
_STEPS: tuple[tuple[str, Any], ...] = ()


def _tail(model_id: str) -> str:
    """The id without its ``vendor/`` prefix, lower-cased."""
    return model_id.rsplit("/", 1)[-1].lower()


def _few(names: Iterable[str], limit: int = 3) -> str:
    listed = list(names)
    shown = ", ".join(listed[:limit])
    return shown + (f" and {len(listed) - limit} more" if len(listed) > limit else "")


_STEPS = (("exact id", None), ("id without case", str.lower), ("id without vendor prefix", _tail))
