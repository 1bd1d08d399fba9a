"""The ``anthropic`` provider kind: Anthropic's native API.

- list: ``GET {base}/models?limit=1000``, paged with ``has_more`` / ``last_id`` → ``after_id``;
- ping: ``POST {base}/messages`` (the Messages API) with the ping instruction as ``system``; the
  answer's text is the ``text`` blocks of ``content`` joined (``thinking`` blocks ignored);
- auth: ``x-api-key: {key}`` and ``anthropic-version: 2023-06-01`` (an ``anthropic-version`` in
  the provider's ``headers`` option wins).

``base_api_url`` is the API root including the version, e.g. ``https://api.anthropic.com/v1``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from provider_store.errors import BadResponseError
from provider_store.providers.base import ConnectionOptions
from provider_store.providers.list_pages import collect_pages
from provider_store.providers.openai import (
    PING_SYSTEM_PROMPT,
    OpenAIClient,
    PingResult,
    endpoint,
    with_query,
)

__all__ = ["ANTHROPIC_VERSION", "AnthropicKind", "messages_payload", "messages_text"]

ANTHROPIC_VERSION = "2023-06-01"


def messages_payload(model: str) -> dict[str, Any]:
    """The exact JSON body of a validation ping through the Messages API."""
    return {
        "model": model,
        "max_tokens": 10,
        "system": PING_SYSTEM_PROMPT,
        "messages": [{"role": "user", "content": "ping"}],
    }


def messages_text(body: bytes) -> str:
    """The text of a Messages API answer: its ``text`` blocks joined (``""`` when none)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadResponseError("messages answer is not JSON") from exc
    blocks = document.get("content") if isinstance(document, dict) else None
    if not isinstance(blocks, list):
        raise BadResponseError("messages answer without a content list")
    return "".join(
        block["text"]
        for block in blocks
        if isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    )


class AnthropicKind:
    """Anthropic's native models list and Messages API over the shared HTTP client."""

    name = "anthropic"

    def __init__(self, client: OpenAIClient) -> None:
        self.client = client

    def auth_headers(self, api_key: str, options: ConnectionOptions) -> dict[str, str]:
        """``x-api-key`` and ``anthropic-version`` unless the options say otherwise."""
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        headers.update(options.auth(api_key, header="x-api-key", scheme=""))
        return headers

    def list_models(
        self, base_url: str, api_key: str, options: ConnectionOptions
    ) -> list[dict[str, Any]]:
        """``GET {base_url}/models``, every page."""
        url = endpoint(base_url, "models")
        headers = self.auth_headers(api_key, options)
        limits = options.limits(self.client.max_models)
        first = {"limit": str(limits.page_limit)}

        def fetch(page: Mapping[str, str] | None) -> bytes:
            target = with_query(url, options.query, page or first)
            return self.client.get(target, api_key, headers=headers)

        return collect_pages(url, fetch, limits)

    def ping(
        self, base_url: str, api_key: str, model: str, options: ConnectionOptions
    ) -> PingResult:
        """``POST {base_url}/messages``; never raises for network or HTTP trouble."""
        url = with_query(endpoint(base_url, "messages"), options.query)
        return self.client.ping_exchange(
            url,
            api_key,
            messages_payload(model),
            headers=self.auth_headers(api_key, options),
            read_text=messages_text,
        )
