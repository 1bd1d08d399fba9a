"""The provider kinds by name: ``openai`` (the default), ``anthropic`` and ``gemini``."""

from __future__ import annotations

from collections.abc import Callable

from provider_store.providers.anthropic import AnthropicKind
from provider_store.providers.base import OptionsError, ProviderKind
from provider_store.providers.client import ProviderClient
from provider_store.providers.gemini import GeminiKind
from provider_store.providers.openai import OpenAICompatible

__all__ = ["DEFAULT_KIND", "KINDS", "kind_for"]

DEFAULT_KIND = "openai"
KINDS: dict[str, Callable[[ProviderClient], ProviderKind]] = {
    "openai": OpenAICompatible,
    "anthropic": AnthropicKind,
    "gemini": GeminiKind,
}


def kind_for(name: str | None, client: ProviderClient) -> ProviderKind:
    """The kind called ``name`` (None or empty: ``openai``) sending through ``client``.

    Raises OptionsError for a kind this version does not know.
    """
    factory = KINDS.get(name or DEFAULT_KIND)
    if factory is None:
        raise OptionsError(f"unknown provider kind {name!r} (known: {', '.join(sorted(KINDS))})")
    return factory(client)
