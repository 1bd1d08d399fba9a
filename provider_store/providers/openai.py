"""The ``openai`` provider kind: every OpenAI-compatible service (OpenAI, Together, Groq,
Mistral, OpenRouter, DeepSeek, vLLM, llama.cpp, Ollama, LM Studio, Azure via options …).

- list: ``GET {base}/models`` through :meth:`ProviderClient.list_models` (every list shape and
  paging style of :mod:`~provider_store.providers.list_pages`);
- ping: ``POST {base}/chat/completions`` with the style's request (:func:`chat_payload`); the
  answer is the first choice's message ``content`` (a string or a list of parts, thinking
  removed); ``finish_reason: content_filter`` without text is a filtered answer;
- auth: ``Authorization: Bearer {key}`` unless the options name another header (Azure:
  ``api-key``).
"""

from __future__ import annotations

from typing import Any

from provider_store.providers.base import ConnectionOptions
from provider_store.providers.client import ProviderClient, endpoint, with_query
from provider_store.providers.ping import PingRequest, PingStyle
from provider_store.providers.ping_replies import (
    Answer,
    AnswerKind,
    answer_document,
    answer_of,
    content_text,
)

__all__ = ["OpenAICompatible", "chat_payload", "read_chat_completion"]


def chat_payload(model: str, style: PingStyle) -> dict[str, Any]:
    """The JSON body of a chat-completions ping of ``model`` in ``style``."""
    messages: list[dict[str, str]] = []
    if style.system_text is not None:
        messages.append({"role": "system", "content": style.system_text})
    messages.append({"role": "user", "content": style.user_text})
    body: dict[str, Any] = {"model": model, "messages": messages}
    body["max_completion_tokens" if style.completion_tokens else "max_tokens"] = style.budget
    if style.temperature is not None:
        body["temperature"] = style.temperature
    return body


def read_chat_completion(body: bytes) -> Answer:
    """What a 2xx chat completion body says (see the module doc); never raises."""
    document = answer_document(body, "chat completion")
    if isinstance(document, Answer):
        return document
    choices = document.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Answer(AnswerKind.MALFORMED, detail="no chat completion (choices[0])")
    choice = choices[0]
    finish = choice.get("finish_reason")
    finish_reason = finish if isinstance(finish, str) else None
    message = choice.get("message")
    text = content_text(message.get("content")) if isinstance(message, dict) else ""
    filtered = (finish_reason or "").lower() == "content_filter"
    if not text and not filtered and not isinstance(message, dict) and finish_reason is None:
        return Answer(AnswerKind.MALFORMED, detail="no chat completion (choices[0].message)")
    return answer_of(text, finish_reason, filtered=filtered)


class OpenAICompatible:
    """The ``openai`` kind: OpenAI's models list and chat completions over the shared client."""

    name = "openai"

    def __init__(self, client: ProviderClient) -> None:
        self.client = client

    def auth_headers(self, api_key: str, options: ConnectionOptions) -> dict[str, str]:
        """``Authorization: Bearer {api_key}`` unless the options name another header (plus the
        options' extra headers)."""
        return options.bearer(api_key)

    def list_models(
        self, base_url: str, api_key: str, options: ConnectionOptions
    ) -> list[dict[str, Any]]:
        """``GET {base_url}/models``, following ``has_more``/``after_id`` or page tokens."""
        return self.client.list_models(base_url, api_key, options=options)

    def ping_request(
        self,
        base_url: str,
        api_key: str,
        model: str,
        options: ConnectionOptions,
        style: PingStyle,
    ) -> PingRequest:
        """``POST {base_url}/chat/completions`` with :func:`chat_payload`."""
        return PingRequest(
            url=with_query(endpoint(base_url, "chat/completions"), options.query),
            payload=chat_payload(model, style),
            headers=self.auth_headers(api_key, options),
        )

    def read_answer(self, body: bytes) -> Answer:
        """A chat completion's answer (:func:`read_chat_completion`)."""
        return read_chat_completion(body)
