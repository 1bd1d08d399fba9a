"""The ``gemini`` provider kind: Google's native Gemini API (``generativelanguage``).

- list: ``GET {base}/models?pageSize=1000``, paged with ``nextPageToken`` → ``pageToken``; ids
  are the items' ``name`` without the ``models/`` prefix (the raw ``name`` is kept);
- ping: ``POST {base}/models/{id}:generateContent`` with the ping instruction as
  ``systemInstruction``; the answer's text is the first candidate's non-``thought`` text parts;
- auth: ``x-goog-api-key: {key}`` (a header, so the key stays out of URLs and logs).

``base_api_url`` is the API root including the version, e.g.
``https://generativelanguage.googleapis.com/v1beta``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

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

__all__ = ["GeminiKind", "generate_content_payload", "generate_content_text"]


def generate_content_payload() -> dict[str, Any]:
    """The exact JSON body of a validation ping through ``generateContent``."""
    return {
        "systemInstruction": {"parts": [{"text": PING_SYSTEM_PROMPT}]},
        "contents": [{"role": "user", "parts": [{"text": "ping"}]}],
        "generationConfig": {"maxOutputTokens": 10, "temperature": 0.1},
    }


def generate_content_text(body: bytes) -> str:
    """The first candidate's answer text, thought parts left out (``""`` when none)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadResponseError("generateContent answer is not JSON") from exc
    candidates = document.get("candidates") if isinstance(document, dict) else None
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        raise BadResponseError("generateContent answer without candidates")
    content = candidates[0].get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return ""
    return "".join(
        part["text"]
        for part in parts
        if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")
    )


class GeminiKind:
    """Gemini's native models list and ``generateContent`` over the shared HTTP client."""

    name = "gemini"

    def __init__(self, client: OpenAIClient) -> None:
        self.client = client

    def auth_headers(self, api_key: str, options: ConnectionOptions) -> dict[str, str]:
        """``x-goog-api-key`` unless the options name another header."""
        return options.auth(api_key, header="x-goog-api-key", scheme="")

    def list_models(
        self, base_url: str, api_key: str, options: ConnectionOptions
    ) -> list[dict[str, Any]]:
        """``GET {base_url}/models``, every page."""
        url = endpoint(base_url, "models")
        headers = self.auth_headers(api_key, options)
        limits = options.limits(self.client.max_models)
        size = {"pageSize": str(limits.page_limit)}

        def fetch(page: Mapping[str, str] | None) -> bytes:
            target = with_query(url, options.query, size, page)
            return self.client.get(target, api_key, headers=headers)

        return collect_pages(url, fetch, limits)

    def ping(
        self, base_url: str, api_key: str, model: str, options: ConnectionOptions
    ) -> PingResult:
        """``POST {base_url}/models/{model}:generateContent``; never raises for HTTP trouble."""
        name = quote(model.removeprefix("models/"), safe="-._~")
        url = with_query(endpoint(base_url, f"models/{name}:generateContent"), options.query)
        return self.client.ping_exchange(
            url,
            api_key,
            generate_content_payload(),
            headers=self.auth_headers(api_key, options),
            read_text=generate_content_text,
        )
