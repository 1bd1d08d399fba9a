"""What every provider kind offers, and the per-provider connection options they all honour.

A *kind* is a provider's API dialect: ``openai`` (every OpenAI-compatible service), ``anthropic``
and ``gemini``. Each kind is one module in this package with one class following
:class:`ProviderKind`: list the models (every page), ping one model, and say which headers carry
the key. All kinds send their requests through one :class:`~provider_store.providers.openai.
OpenAIClient`, so timeouts, the deadline, capped bodies, same-origin redirects and key scrubbing
are the same for every kind.

Connection options (the provider's ``options`` mapping, all optional), read by
:meth:`ConnectionOptions.from_mapping`:

``auth_header``   the header that carries the key (default: the kind's own, ``Authorization``
                  for ``openai``); e.g. ``api-key`` for Azure OpenAI
``auth_scheme``   the word before the key in that header (default ``Bearer`` for
                  ``Authorization``, none for any other header)
``headers``       extra, non-secret request headers, e.g. ``{"anthropic-version": "2023-06-01"}``
``query``         query parameters added to every request, e.g. ``{"api-version": "2024-10-21"}``
``max_models``    the most models one list may hold (default 20,000); a longer list fails
``max_pages``     the most pages one list may take (default 500)
``page_limit``    the page size asked for when paging (default 1000)
``no_key``        ``true`` for a keyless server (Ollama, llama.cpp, LM Studio, vLLM): no key header
                  is sent and the provider is never skipped for a missing key
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from provider_store.errors import DiscoveryError
from provider_store.model_info import ModelInfo
from provider_store.provider_config import NO_KEY_OPTION
from provider_store.providers.list_pages import ListLimits

if TYPE_CHECKING:
    from provider_store.providers.openai import PingResult

__all__ = ["ConnectionOptions", "ModelInfo", "OptionsError", "ProviderKind"]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_KNOWN = frozenset(
    {
        "auth_header",
        "auth_scheme",
        "headers",
        "query",
        "max_models",
        "max_pages",
        "page_limit",
        NO_KEY_OPTION,
    }
)


class OptionsError(DiscoveryError):
    """A provider's connection options are unusable (the message names the option)."""


@dataclass(frozen=True)
class ConnectionOptions:
    """A provider's connection options, checked (see the module doc for each one)."""

    auth_header: str | None = None
    auth_scheme: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    max_models: int | None = None
    max_pages: int | None = None
    page_limit: int | None = None
    no_key: bool = False

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> ConnectionOptions:
        """Check a provider's ``options`` mapping; OptionsError names the first bad option."""
        if not options:
            return cls()
        if not isinstance(options, Mapping):
            raise OptionsError("provider options must be a mapping")
        unknown = sorted(str(k) for k in options if k not in _KNOWN)
        if unknown:
            raise OptionsError(
                f"unknown provider option {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})"
            )
        auth_header = options.get("auth_header")
        if auth_header is not None and not (
            isinstance(auth_header, str) and _TOKEN.match(auth_header)
        ):
            raise OptionsError("provider option 'auth_header' must be a header name")
        auth_scheme = options.get("auth_scheme")
        if auth_scheme is not None and not (
            isinstance(auth_scheme, str) and (auth_scheme == "" or _TOKEN.match(auth_scheme))
        ):
            raise OptionsError("provider option 'auth_scheme' must be a single word or empty")
        no_key = options.get(NO_KEY_OPTION, False)
        if not isinstance(no_key, bool):
            raise OptionsError(f"provider option {NO_KEY_OPTION!r} must be true or false")
        return cls(
            no_key=no_key,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
            headers=_string_map(options, "headers", header_names=True),
            query=_string_map(options, "query", header_names=False),
            max_models=_positive(options, "max_models"),
            max_pages=_positive(options, "max_pages"),
            page_limit=_positive(options, "page_limit"),
        )

    def limits(self, default_max_models: int) -> ListLimits:
        """The list bounds these options set, ``default_max_models`` when they set none."""
        base = ListLimits(max_models=default_max_models)
        return ListLimits(
            max_models=self.max_models or base.max_models,
            max_pages=self.max_pages or base.max_pages,
            page_limit=self.page_limit or base.page_limit,
        )

    def auth(self, api_key: str, *, header: str, scheme: str) -> dict[str, str]:
        """The headers carrying ``api_key``: the kind's ``header``/``scheme`` unless overridden,
        plus the extra headers (the key's header wins over an extra header of the same name)."""
        name = self.auth_header or header
        if self.auth_scheme is not None:
            word = self.auth_scheme
        elif self.auth_header is not None:
            word = "Bearer" if name.lower() == "authorization" else ""
        else:
            word = scheme
        headers = dict(self.headers)
        if self.no_key:  # a keyless server: nothing carries a key
            return headers
        headers[name] = f"{word} {api_key}" if word else api_key
        return headers


class ProviderKind(Protocol):
    """One API dialect: how to list a provider's models, ping one, and send the key."""

    name: str

    def auth_headers(self, api_key: str, options: ConnectionOptions) -> dict[str, str]:
        """The request headers that carry ``api_key`` (plus the options' extra headers)."""
        ...

    def list_models(
        self, base_url: str, api_key: str, options: ConnectionOptions
    ) -> list[dict[str, Any]]:
        """Every listed model (all pages), each a raw item with a normalised string ``id``.

        Raises DiscoveryError (connection, HTTP status, bad or oversize answer); never returns
        a partial list.
        """
        ...

    def ping(
        self, base_url: str, api_key: str, model: str, options: ConnectionOptions
    ) -> PingResult:
        """Ask ``model`` the validation question; never raises for network or HTTP trouble.

        Every kind answers with the OpenAI client's ``PingResult`` type.
        """
        ...


def _string_map(options: Mapping[str, Any], name: str, *, header_names: bool) -> dict[str, str]:
    value = options.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise OptionsError(f"provider option {name!r} must be a mapping of strings")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str | int | float):
            raise OptionsError(f"provider option {name!r} must be a mapping of strings")
        text = str(item)
        if header_names and not (_TOKEN.match(key) and all(32 <= ord(c) < 127 for c in text)):
            raise OptionsError(f"provider option {name}.{key} is not a usable header")
        result[key] = text
    return result


def _positive(options: Mapping[str, Any], name: str) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionsError(f"provider option {name!r} must be a positive whole number")
    return value
