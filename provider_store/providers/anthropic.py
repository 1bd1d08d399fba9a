"""The ``anthropic`` provider kind: Anthropic's native API.

- list: ``GET {base}/models?limit=1000``, paged with ``has_more`` / ``last_id`` → ``after_id``;
- ping: ``POST {base}/messages`` (the Messages API) with the style's request
  (:func:`messages_payload`: ``max_tokens``, ``temperature`` and the instruction as ``system``,
  each as the style says; Anthropic has no ``max_completion_tokens``, so that adaptation never
  changes its request); the answer is the ``text`` blocks of ``content`` joined (``thinking``
  blocks ignored); ``stop_reason: max_tokens`` is a cut-off answer and ``stop_reason: refusal``
  without text a filtered one;
- auth: ``x-api-key: {key}`` and ``anthropic-version: 2023-06-01`` (an ``anthropic-version`` in
  the provider's ``headers`` option wins).

``base_api_url`` is the API root including the version, e.g. ``https://api.anthropic.com/v1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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

__all__ = ["ANTHROPIC_VERSION", "AnthropicKind", "messages_payload", "read_messages_answer"]

ANTHROPIC_VERSION = "2023-06-01"
_FILTERED = {"refusal"}


def messages_payload(model: str, style: PingStyle) -> dict[str, Any]:
    """The JSON body of a Messages API ping of ``model`` in ``style``."""
    body: dict[str, Any] = {"model": model, "max_tokens": style.budget}
    if style.system_text is not None:
        body["system"] = style.system_text
    body["messages"] = [{"role": "user", "content": style.user_text}]
    if style.temperature is not None:
        body["temperature"] = style.temperature
    return body


def read_messages_answer(body: bytes) -> Answer:
    """What a 2xx Messages API body says: its ``text`` blocks joined; never raises."""
    document = answer_document(body, "messages answer")
    if isinstance(document, Answer):
        return document
    blocks = document.get("content")
    stop = document.get("stop_reason")
    stop_reason = stop if isinstance(stop, str) else None
    if not isinstance(blocks, list):
        return Answer(AnswerKind.MALFORMED, detail="no messages answer (content list)")
    filtered = (stop_reason or "").lower() in _FILTERED
    return answer_of(content_text(blocks), stop_reason, filtered=filtered)


class AnthropicKind:
    """Anthropic's native models list and Messages API over the shared HTTP client."""

    name = "anthropic"

    def __init__(self, client: ProviderClient) -> None:
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

    def ping_request(
        self,
        base_url: str,
        api_key: str,
        model: str,
        options: ConnectionOptions,
        style: PingStyle,
    ) -> PingRequest:
        """``POST {base_url}/messages`` with :func:`messages_payload`."""
        return PingRequest(
            url=with_query(endpoint(base_url, "messages"), options.query),
            payload=messages_payload(model, style),
            headers=self.auth_headers(api_key, options),
        )

    def read_answer(self, body: bytes) -> Answer:
        """A Messages API answer (:func:`read_messages_answer`)."""
        return read_messages_answer(body)
