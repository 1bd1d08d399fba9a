"""What every provider kind offers, and the per-provider connection options they all honour.

A *kind* is a provider's API dialect: ``openai`` (every OpenAI-compatible service), ``anthropic``
and ``gemini``. Each kind is one module in this package with one class following
:class:`ProviderKind`: list the models (every page), say which headers carry the key, and give
its ping dialect (the request for a ping style and the reader of its answers) to the one ping
driver, :func:`~provider_store.providers.ping.run_ping`. All kinds send their requests through
one :class:`~provider_store.providers.client.ProviderClient`, so timeouts, the deadline, capped
bodies, same-origin redirects and key scrubbing are the same for every kind.

Connection options (the provider's ``options`` mapping) are checked by the one checker of
provider settings, :func:`provider_store.rules.check_options` (its module doc lists each option);
:meth:`ConnectionOptions.from_mapping` turns a checked mapping into the values the kinds use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from provider_store.model_info import ModelInfo
from provider_store.providers.list_pages import ListLimits
from provider_store.rules import check_options

if TYPE_CHECKING:
    from provider_store.providers.ping import PingRequest, PingStyle
    from provider_store.providers.ping_replies import Answer

# The header and scheme an OpenAI-compatible API takes its key in (``Authorization: Bearer``).
AUTH_HEADER = "Authorization"
BEARER = "Bearer"

__all__ = ["ConnectionOptions", "ModelInfo", "ProviderKind"]


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
    allow_link_local: bool = False
    no_key: bool = False

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> ConnectionOptions:
        """Check a provider's ``options`` mapping; OptionsError names the first bad option."""
        checked = check_options(options) or {}
        return cls(
            auth_header=checked.get("auth_header"),
            auth_scheme=checked.get("auth_scheme"),
            headers={k: str(v) for k, v in (checked.get("headers") or {}).items()},
            query={k: str(v) for k, v in (checked.get("query") or {}).items()},
            max_models=checked.get("max_models"),
            max_pages=checked.get("max_pages"),
            page_limit=checked.get("page_limit"),
            allow_link_local=bool(checked.get("allow_link_local")),
            no_key=bool(checked.get("no_key")),
        )

    def limits(self, default_max_models: int) -> ListLimits:
        """The list bounds these options set, ``default_max_models`` when they set none."""
        base = ListLimits(max_models=default_max_models)
        return ListLimits(
            max_models=self.max_models or base.max_models,
            max_pages=self.max_pages or base.max_pages,
            page_limit=self.page_limit or base.page_limit,
        )

    def bearer(self, api_key: str) -> dict[str, str]:
        """The headers carrying ``api_key`` as an OpenAI-compatible API takes it:
        ``Authorization: Bearer <key>`` unless these options name another header or scheme."""
        return self.auth(api_key, header=AUTH_HEADER, scheme=BEARER)

    def auth(self, api_key: str, *, header: str, scheme: str) -> dict[str, str]:
        """The headers carrying ``api_key``: the kind's ``header``/``scheme`` unless overridden,
        plus the extra headers (the key's header wins over an extra header of the same name)."""
        name = self.auth_header or header
        if self.auth_scheme is not None:
            word = self.auth_scheme
        elif self.auth_header is not None:
            word = BEARER if name.lower() == AUTH_HEADER.lower() else ""
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
