"""ProviderConfig, the legacy-compatible value object, and its pure helpers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, PrivateAttr

DEFAULT_CACHE_DURATION = 300
NOT_CONFIGURED_SUFFIX = "not-configured"
# The API dialects a provider can speak; "openai" covers every OpenAI-compatible service.
PROVIDER_KINDS = ("openai", "anthropic", "gemini")
DEFAULT_KIND = "openai"
# The connection option that marks a provider keyless on purpose (a local server).
NO_KEY_OPTION = "no_key"


class ProviderConfig(BaseModel):
    """One provider's settings and curated models, as the legacy in-memory object had them.

    ``valid_models`` maps a model's long id to its short alias; ``invalid_models`` lists ids known
    not to chat. The runtime attributes ``_cached_models``, ``_cache_timestamp`` and
    ``_cache_duration`` hold the discovery cache and never appear in :meth:`model_dump`;
    ``_provider_key`` names the store row a config was loaded from.

    ``kind`` (the API dialect, one of :data:`PROVIDER_KINDS`, default ``"openai"``) and
    ``options`` (connection options, see :mod:`provider_store.providers.base`, or None) are
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
    _cache_duration: int = PrivateAttr(default=DEFAULT_CACHE_DURATION)
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


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a provider's base API URL, or None when it can.

    The one rule the YAML importer and ``save_config`` share: an http(s) URL with a host.
    """
    text = url.strip()
    if not text:
        return "must not be empty (e.g. https://api.example.com/v1)"
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL (e.g. https://api.example.com/v1)"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not host:
        return "must be an http(s) URL (e.g. https://api.example.com/v1)"
    return None


def effective_api_key(
    provider_key: str, api_key: str, environ: Mapping[str, str] | None = None
) -> str:
    """The key to send: the stored one, or ``{KEY}_API_KEY`` from the environment.

    As the legacy loader did, a stored key that is empty or ends with ``not-configured`` is a
    placeholder; the environment supplies the real key at use time and it is never stored.
    """
    if api_key and not api_key.endswith(NOT_CONFIGURED_SUFFIX):
        return api_key
    env = os.environ if environ is None else environ
    name = env_var_in_use(provider_key, env)
    return env[name] if name is not None else api_key


_NON_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def env_var_for(provider_key: str) -> str:
    """The environment variable that supplies a provider's key, e.g. ``OPENAI_API_KEY``.

    The key is upper-cased and every character a shell variable name cannot hold becomes
    ``_`` (``open-router`` -> ``OPEN_ROUTER_API_KEY``); a name that would start with a digit
    gets a leading ``_``.
    """
    name = _NON_IDENTIFIER.sub("_", provider_key.upper()) + "_API_KEY"
    return f"_{name}" if name[:1].isdigit() else name


def env_var_names(provider_key: str) -> list[str]:
    """The variables looked up for a provider's key, in order: :func:`env_var_for`, then the
    legacy ``{KEY.upper()}_API_KEY`` when it differs (kept as a fallback)."""
    names = [env_var_for(provider_key)]
    legacy = f"{provider_key.upper()}_API_KEY"
    if legacy not in names:
        names.append(legacy)
    return names


def env_var_in_use(provider_key: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The first of :func:`env_var_names` set to a non-empty value, or None."""
    env = os.environ if environ is None else environ
    for name in env_var_names(provider_key):
        if env.get(name, "").strip():
            return name
    return None


def is_keyless(options: Mapping[str, Any] | None) -> bool:
    """True when a provider's connection options mark it keyless on purpose (``no_key: true``):
    no key is sent and a missing key is never a reason to skip it."""
    return bool(options) and (options or {}).get(NO_KEY_OPTION) is True
