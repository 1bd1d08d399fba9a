"""The provider kinds by name: ``openai`` (the default), ``anthropic`` and ``gemini``.

The names are :data:`provider_store.rules.PROVIDER_KINDS`; this module maps each to its class.
"""

from __future__ import annotations

from collections.abc import Callable

from provider_store.providers.anthropic import AnthropicKind
from provider_store.providers.base import ProviderKind
from provider_store.providers.client import ProviderClient
from provider_store.providers.gemini import GeminiKind
from provider_store.providers.openai import OpenAICompatible
from provider_store.rules import DEFAULT_KIND, PROVIDER_KINDS, check_kind

__all__ = ["KINDS", "kind_for"]

KINDS: dict[str, Callable[[ProviderClient], ProviderKind]] = {
    "openai": OpenAICompatible,
    "anthropic": AnthropicKind,
    "gemini": GeminiKind,
}


def kind_for(name: str | None, client: ProviderClient) -> ProviderKind:
    """The kind called ``name`` (None or empty: ``openai``) sending through ``client``.

    Raises OptionsError for a kind this version does not know.
    """
    return KINDS[check_kind(name or DEFAULT_KIND)](client)


if set(KINDS) != set(PROVIDER_KINDS):  # pragma: no cover - a kind added to one list only
    raise ImportError(f"provider kinds {sorted(KINDS)} differ from rules.PROVIDER_KINDS")
