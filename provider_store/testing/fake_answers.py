"""What the fake provider answers: the records it keeps and the bodies it sends.

Pure values and functions (no socket, no thread): the chat behaviours and ``/models`` failure
kinds it knows, a recorded request, one page of a paged list, an OpenAI-style error body, a chat
completion, and how an OpenAI reasoning model answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BEHAVIOURS",
    "DEFAULT_REASONING_BUDGET",
    "FAILURE_KINDS",
    "OVERSIZE_DEFAULT_BYTES",
    "REASONING_TEXT",
    "Failure",
    "RecordedRequest",
    "chat_payload",
    "error_body",
    "known_behaviour",
    "page",
    "reasoning_answer",
]

# Below this many max_completion_tokens, a "reasoning" model finishes before any visible text.
DEFAULT_REASONING_BUDGET = 256

# Per-model chat behaviours and what the server answers for each (shown by --help and the demo).
BEHAVIOURS: dict[str, str] = {
    "pong": '200, the first choice says "Pong!"',
    "refuse": '400 "<id> is not a chat model"',
    "silent": "200, the first choice does not say pong",
    "error:<status>": "that status with an OpenAI-style error body",
    "timeout": "answers only after hang_seconds",
    "reasoning[:<budget>]": "400 for max_tokens (param max_tokens, code unsupported_parameter) "
    'or temperature != 1; with max_completion_tokens below the budget (default 256): content "", '
    'finish_reason length, reasoning_content; with enough tokens: "pong"',
}
OVERSIZE_DEFAULT_BYTES = 21 * 1024 * 1024

FAILURE_KINDS = (
    "status",  # status=<int> with an OpenAI-style JSON error body (retry_after= optional)
    "html",  # 200 text/html
    "not-json",  # 200 application/json whose body is not JSON
    "no-data",  # 200 JSON object without "data"
    "data-not-list",  # 200 JSON whose "data" is an object
    "items-without-id",  # 200 JSON whose items lack a string "id"
    "empty",  # 200 {"object": "list", "data": []}
    "oversize",  # 200 JSON larger than oversize_bytes (default 21 MiB), with Content-Length
    "oversize-stream",  # the same without Content-Length (the body ends when the socket closes)
    "redirect",  # 302 to location= (e.g. another host)
    "hang",  # wait hang_seconds before answering
    "close",  # close the connection without any answer
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake provider received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)
    peer: tuple[str, int] | None = None  # the client's address: one per connection


@dataclass
class Failure:
    """How ``GET /models`` fails (see :data:`FAILURE_KINDS`), and for how many more requests."""

    kind: str
    status: int = 500
    location: str = ""
    retry_after: str | None = None
    oversize_bytes: int = OVERSIZE_DEFAULT_BYTES
    remaining: int | None = None  # None: every request; else the next N requests


def known_behaviour(behaviour: str) -> bool:
    """Whether ``behaviour`` names a chat behaviour of :data:`BEHAVIOURS`."""
    name, _, arg = behaviour.partition(":")
    if name in ("pong", "refuse", "silent", "timeout"):
        return not arg
    if name == "error":
        return arg.isdigit()
    if name == "reasoning":
        return not arg or arg.isdigit()
    return False


def page(items: list[dict[str, Any]], page_size: int, query: dict[str, str]) -> dict[str, Any]:
    """One page of ``items`` after the id named by ``after_id`` / ``after`` (paged list shape)."""
    after = query.get("after_id") or query.get("after")
    start = 0
    if after:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else len(ids)
    size = page_size
    limit = query.get("limit", "")
    if limit.isdigit() and int(limit) > 0:
        size = min(size, int(limit))
    chunk = items[start : start + size]
    return {
        "object": "list",
        "data": chunk,
        "has_more": start + size < len(items),
        "first_id": chunk[0]["id"] if chunk else None,
        "last_id": chunk[-1]["id"] if chunk else None,
    }


def error_body(message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """An OpenAI-style error body."""
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


def chat_payload(
    model: str,
    content: str,
    *,
    finish_reason: str = "stop",
    reasoning: str | None = None,
    reasoning_tokens: int = 0,
) -> dict[str, Any]:
    """A chat completion whose first choice says ``content`` (with its reasoning, if any)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    usage: dict[str, Any] = {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
        completion = reasoning_tokens + (1 if content else 0)
        usage = {
            "prompt_tokens": 20,
            "completion_tokens": completion,
            "total_tokens": 20 + completion,
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
        }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage,
    }


REASONING_TEXT = "The user wants the single word pong. I should answer with exactly that word."


def reasoning_answer(model: str, body: dict[str, Any], budget: int) -> tuple[int, Any]:
    """How an OpenAI reasoning model answers ``body``: (status, JSON payload)."""
    if "max_tokens" in body:
        message = (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead."
        )
        return 400, error_body(message, "unsupported_parameter", "max_tokens")
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        message = (
            f"Unsupported value: 'temperature' does not support {temperature} with this model. "
            "Only the default (1) value is supported."
        )
        return 400, error_body(message, "unsupported_value", "temperature")
    limit = body.get("max_completion_tokens")
    if isinstance(limit, int) and limit < budget:
        payload = chat_payload(
            model, "", finish_reason="length", reasoning=REASONING_TEXT, reasoning_tokens=limit
        )
        return 200, payload
    return 200, chat_payload(model, "pong", reasoning=REASONING_TEXT, reasoning_tokens=budget - 1)
