"""The ``gemini`` provider kind: Google's native Gemini API (``generativelanguage``).

- list: ``GET {base}/models?pageSize=1000``, paged with ``nextPageToken`` → ``pageToken``; ids
  are the items' ``name`` without the ``models/`` prefix (the raw ``name`` is kept);
- ping: ``POST {base}/models/{id}:generateContent`` with the style's request
  (:func:`generate_content_payload`: ``maxOutputTokens``, ``temperature`` and the instruction as
  ``systemInstruction``, each as the style says; there is no ``max_completion_tokens``, so that
  adaptation never changes its request); the answer is the first candidate's non-``thought``
  text parts; ``finishReason: MAX_TOKENS`` is a cut-off answer, and a safety stop
  (``SAFETY``, ``PROHIBITED_CONTENT`` …) or a blocked prompt (``promptFeedback.blockReason``)
  without text a filtered one;
- auth: ``x-goog-api-key: {key}`` (a header, so the key stays out of URLs and logs).

``base_api_url`` is the API root including the version, e.g.
``https://generativelanguage.googleapis.com/v1beta``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from provider_store.providers.base import ConnectionOptions
from provider_store.providers.client import ProviderClient, endpoint, with_query
from provider_store.providers.list_pages import collect_pages
from provider_store.providers.ping import PingRequest, PingStyle
from provider_store.providers.ping_replies import (
    Answer,
    AnswerKind,
    answer_document,
    answer_of,
    content_text,
)

__all__ = ["GeminiKind", "generate_content_payload", "read_generate_content_answer"]

_FILTERED = {"safety", "prohibited_content", "blocklist", "spii", "recitation", "image_safety"}


def generate_content_payload(style: PingStyle) -> dict[str, Any]:
    """The JSON body of a ``generateContent`` ping in ``style``."""
    body: dict[str, Any] = {}
    if style.system_text is not None:
        body["systemInstruction"] = {"parts": [{"text": style.system_text}]}
    body["contents"] = [{"role": "user", "parts": [{"text": style.user_text}]}]
    config: dict[str, Any] = {"maxOutputTokens": style.budget}
    if style.temperature is not None:
        config["temperature"] = style.temperature
    body["generationConfig"] = config
    return body


def read_generate_content_answer(body: bytes) -> Answer:
    """What a 2xx ``generateContent`` body says: the first candidate's answer; never raises."""
    document = answer_document(body, "generateContent answer")
    if isinstance(document, Answer):
        return document
    candidates = document.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        feedback = document.get("promptFeedback")
        if isinstance(feedback, dict) and isinstance(feedback.get("blockReason"), str):
            return Answer(AnswerKind.FILTERED, "", feedback["blockReason"])
        return Answer(AnswerKind.MALFORMED, detail="no generateContent answer (candidates[0])")
    candidate = candidates[0]
    finish = candidate.get("finishReason")
    finish_reason = finish if isinstance(finish, str) else None
    content = candidate.get("content")
    text = content_text(content.get("parts")) if isinstance(content, dict) else ""
    filtered = (finish_reason or "").lower() in _FILTERED
    return answer_of(text, finish_reason, filtered=filtered)


class GeminiKind:
    """Gemini's native models list and ``generateContent`` over the shared HTTP client."""

    name = "gemini"

    def __init__(self, client: ProviderClient) -> None:
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

    def ping_request(
        self,
        base_url: str,
        api_key: str,
        model: str,
        options: ConnectionOptions,
        style: PingStyle,
    ) -> PingRequest:
        """``POST {base_url}/models/{model}:generateContent`` with
        :func:`generate_content_payload`."""
        name = quote(model.removeprefix("models/"), safe="-._~")
        return PingRequest(
            url=with_query(endpoint(base_url, f"models/{name}:generateContent"), options.query),
            payload=generate_content_payload(style),
            headers=self.auth_headers(api_key, options),
        )

    def read_answer(self, body: bytes) -> Answer:
        """A ``generateContent`` answer (:func:`read_generate_content_answer`)."""
        return read_generate_content_answer(body)
