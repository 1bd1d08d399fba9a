"""What every provider kind offers, and the per-provider connection options they all honour.

A *kind* is a provider's API dialect: ``openai`` (every OpenAI-compatible service), ``anthropic``
and ``gemini``. Each kind is one module in this package with one class following
:class:`ProviderKind`: list the models (every page), say which headers carry the key, and give
its ping dialect (the request for a ping style and the reader of its answers) to the one ping
driver, :func:`~provider_store.providers.ping.run_ping`. All kinds send their requests through
one :class:`~provider_store.providers.client.ProviderClient`, so timeouts, the deadline, capped
bodies, same-origin redirects and key scrubbing are the same for every kind.

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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from provider_store.errors import DiscoveryError
from provider_store.model_info import ModelInfo
from provider_store.providers.list_pages import ListLimits

if TYPE_CHECKING:
    from provider_store.providers.ping import PingRequest, PingStyle
    from provider_store.providers.ping_replies import Answer

__all__ = ["ConnectionOptions", "ModelInfo", "OptionsError", "ProviderKind"]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_KNOWN = frozenset(
    {"auth_header", "auth_scheme", "headers", "query", "max_models", "max_pages", "page_limit"}
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
        return cls(
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

    def ping_request(
        self,
        base_url: str,
        api_key: str,
        model: str,
        options: ConnectionOptions,
        style: PingStyle,
    ) -> PingRequest:
        """The ping of ``model`` in ``style`` in this kind's dialect: URL, headers with the key,
        JSON payload. An adaptation the dialect cannot express leaves the request unchanged."""
        ...

    def read_answer(self, body: bytes) -> Answer:
        """What a 2xx answer to :meth:`ping_request` says (text, empty, filtered, malformed);
        never raises. Error bodies of every kind are read by one reader
        (:func:`~provider_store.providers.ping_replies.read_error`)."""
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
