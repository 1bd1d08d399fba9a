"""What a registry knows about models, and the rule that matches a catalog model to it.

Matching is conservative and documented (README, "Metadata from registries"):

1. **The registry's provider**: by the catalog's provider key (compared without case and
   punctuation, then without a trailing ``ai``: ``together`` finds ``togetherai`` and
   ``together_ai``), else by the base URL's host (the registry's own API URLs plus
   :data:`KNOWN_HOSTS`). Several candidates at one step: ambiguous.
   A loopback or private host (a local server) is never matched by host.
2. **The model**, within that provider: the exact id, then the id without regard to case, then the
   id without a ``vendor/`` prefix on either side.
3. **Ambiguous matches fill nothing** and say why; so does no match.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from provider_store.model_info import ModelInfo

__all__ = [
    "KNOWN_HOSTS",
    "Match",
    "Registry",
    "RegistryModel",
    "RegistryProvider",
    "canonical",
    "host_of",
]

# API hosts of well-known providers whose registry entries carry no URL, by canonical name.
KNOWN_HOSTS: Mapping[str, str] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gemini",
    "api.groq.com": "groq",
    "api.mistral.ai": "mistral",
    "api.together.xyz": "together",
    "api.together.ai": "together",
    "api.fireworks.ai": "fireworks",
    "api.deepseek.com": "deepseek",
    "api.x.ai": "x",
    "api.cerebras.ai": "cerebras",
    "api.perplexity.ai": "perplexity",
    "openrouter.ai": "openrouter",
    "api.cohere.com": "cohere",
    "api.cohere.ai": "cohere",
    "api.deepinfra.com": "deepinfra",
    "dashscope-intl.aliyuncs.com": "dashscope",
    "dashscope.aliyuncs.com": "dashscope",
}

# The same provider under another name in a registry (LiteLLM says "gemini", models.dev "google").
_SYNONYMS: Mapping[str, str] = {"google": "gemini"}

_PUNCTUATION = re.compile(r"[^a-z0-9]")


def canonical(name: str) -> str:
    """A provider name without case, punctuation or a trailing ``ai`` (``together_ai`` ->
    ``together``, ``fireworks-ai`` -> ``fireworks``, ``xai`` -> ``x``)."""
    folded = _PUNCTUATION.sub("", name.lower())
    if folded.endswith("ai") and len(folded) > 2 and folded != "openai":
        folded = folded[:-2]
    return _SYNONYMS.get(folded, folded)


@dataclass(frozen=True, slots=True)
class RegistryModel:
    """One registry entry: the metadata (``info.id`` is the registry's model id) and its status."""

    info: ModelInfo
    deprecated: bool = False
    deprecation_date: str | None = None


@dataclass(frozen=True, slots=True)
class RegistryProvider:
    """One provider of a registry: its name, API hosts and models by id."""

    name: str
    hosts: frozenset[str]
    models: Mapping[str, RegistryModel]


@dataclass(frozen=True, slots=True)
class Match:
    """What a registry says about one catalog model: an entry, or why it says nothing."""

    source: str
    entry: RegistryModel | None = None
    provider: str | None = None
    how: str | None = None
    problem: str | None = None

    @property
    def ambiguous(self) -> bool:
        """True when several registry entries fit equally, so nothing was filled."""
        return self.problem is not None and self.problem.startswith("ambiguous")


@dataclass(frozen=True)
class Registry:
    """A registry's models by provider, and the one matching rule over them.

    ``origin`` is the registry family (``models.dev``, ``litellm``); ``source`` names it with its
    version or file (``models.dev 1.0.398``, ``litellm model_prices.json``) and is recorded
    beside every value it fills.
    """

    origin: str
    source: str
    providers: Mapping[str, RegistryProvider]
    _by_canonical: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_canonical: dict[str, list[str]] = {}
        for name in self.providers:
            by_canonical.setdefault(canonical(name), []).append(name)
        object.__setattr__(self, "_by_canonical", by_canonical)

    def __len__(self) -> int:
        return sum(len(provider.models) for provider in self.providers.values())

    def provider_for(self, provider_key: str, base_url: str) -> tuple[str | None, str | None]:
        """The registry provider matching a catalog provider, as ``(name, problem)``."""
        exact = [name for name in self.providers if name.lower() == provider_key.lower()]
        if len(exact) == 1:
            return exact[0], None
        by_name = self._by_canonical.get(canonical(provider_key), [])
        if len(by_name) == 1:
            return by_name[0], None
        if len(by_name) > 1:
            return None, f"ambiguous provider: {', '.join(sorted(by_name))}"
        host = host_of(base_url)
        if not host or _is_local(host):
            # A loopback or private address names a server of the user's, not a registry's.
            return None, f"no {self.source} provider named {provider_key}"
        by_host = sorted(
            name
            for name, provider in self.providers.items()
            if host in provider.hosts or KNOWN_HOSTS.get(host) == canonical(name)
        )
        if len(by_host) == 1:
            return by_host[0], None
        if len(by_host) > 1:
            return None, f"ambiguous provider for host {host}: {', '.join(by_host)}"
        return None, f"no {self.source} provider named {provider_key} or serving {host}"

    def match(self, provider_key: str, base_url: str, model_id: str) -> Match:
        """The entry for ``model_id`` of a catalog provider, following the module's rule."""
        name, problem = self.provider_for(provider_key, base_url)
        if name is None:
            return Match(self.source, problem=problem)
        models = self.providers[name].models
        if model_id in models:
            return Match(self.source, models[model_id], name, "exact id")
        for how, fold in (("id without case", str.lower), ("id without vendor prefix", _tail)):
            wanted = fold(model_id)
            found = sorted(mid for mid in models if fold(mid) == wanted)
            if len(found) == 1:
                return Match(self.source, models[found[0]], name, how)
            if len(found) > 1:
                return Match(self.source, provider=name, problem=f"ambiguous model: {_few(found)}")
        return Match(
            self.source, provider=name, problem=f"{name} in {self.source} lists no {model_id}"
        )


def host_of(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _tail(model_id: str) -> str:
    """The id without its ``vendor/`` prefix, lower-cased."""
    return model_id.rsplit("/", 1)[-1].lower()


def _few(names: Iterable[str], limit: int = 3) -> str:
    listed = list(names)
    shown = ", ".join(listed[:limit])
    return shown + (f" and {len(listed) - limit} more" if len(listed) > limit else "")
