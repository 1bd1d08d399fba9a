"""ProviderConfig, the legacy-compatible value object, and its pure helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from provider_store.rules import DEFAULT_CACHE_TTL, DEFAULT_KIND


class ProviderConfig(BaseModel):
    """One provider's settings and curated models, as the legacy in-memory object had them.

    ``valid_models`` maps a model's long id to its short alias; ``invalid_models`` lists ids known
    not to chat. The runtime attributes ``_cached_models``, ``_cache_timestamp`` and
    ``_cache_duration`` hold the discovery cache and never appear in :meth:`model_dump`;
    ``_provider_key`` names the store row a config was loaded from.

    ``kind`` (the API dialect, one of :data:`provider_store.rules.PROVIDER_KINDS`, default
    ``"openai"``) and ``options`` (connection options, see
    :mod:`provider_store.rules.provider_settings`, or None) are
    settable but, like the runtime attributes, stay out of :meth:`model_dump` so the legacy shape
    holds.
    """

    name: str = "Test Provider"
    base_api_url: str = "https://test.openai.com/v1"
    api_key: str = Field(default="", repr=False)
    valid_models: dict[str, str] = Field(default_factory=dict)
    invalid_models: list[str] = Field(default_factory=list)
    kind: str = Field(default=DEFAULT_KIND, exclude=True)
    options: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)

    _cached_models: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _cache_timestamp: float = PrivateAttr(default=0.0)
    _cache_duration: int = PrivateAttr(default=DEFAULT_CACHE_TTL)
    # Suspicious empty model lists answered in a row (the in-memory twin of the provider column).
    _empty_list_strikes: int = PrivateAttr(default=0)
    # The catalog key (e.g. "openai") of a config loaded from a store; None for a loose config.
    _provider_key: str | None = PrivateAttr(default=None)

    def get_valid_models(self) -> list[str]:
        """The long ids of the valid models, in catalog order."""
        return list(self.valid_models)

    def get_invalid_models(self) -> list[str]:
        """A copy of the ids known not to chat."""
        return list(self.invalid_models)

    def find_model(self, name: str) -> str | None:
        """The long id best matching ``name`` (case-insensitive), or None.

        Exact long id first, then exact alias, then the first long id containing ``name``, then the
        first alias containing it.
        """
        needle = name.lower()
        pairs = [(long.lower(), short.lower(), long) for long, short in self.valid_models.items()]
        for long_l, _short_l, long in pairs:
            if long_l == needle:
                return long
        for _long_l, short_l, long in pairs:
            if short_l == needle:
                return long
        for long_l, _short_l, long in pairs:
            if needle in long_l:
                return long
        for _long_l, short_l, long in pairs:
            if needle in short_l:
                return long
        return None

    def merge_valid_models(self, models: Iterable[str]) -> None:
        """Add new ids (alias = the id); existing entries keep their alias and their place."""
        for model in models:
            if model not in self.valid_models:
                self.valid_models[model] = model
