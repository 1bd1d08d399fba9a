"""What a provider's reply to a ping says, whatever the kind: the answer and the error facts.

**The pong rule** (:func:`says_pong`, the only one): an answer is a pong when its answer text
contains the word *pong* in any case, not glued to other letters: ``pong``, ``Pong.``,
``"PONG"!``, ``ping-pong`` and ``Pong 🏓`` say pong; ``pingpong``, ``pongs`` and ``ponged`` do
not. The answer text is what the model answered, thinking removed: thinking parts or blocks
(OpenAI-style ``thinking`` parts, Anthropic ``thinking`` blocks, Gemini ``thought`` parts),
reasoning fields (``reasoning_content``, ``reasoning``) and inline ``<think>…</think>`` blocks,
closed or cut off. Every kind's answer reader (``read_answer`` of each kind module) gives an
:class:`Answer`; the verdict rules judge that Answer with this one rule.

Shared by the readers:

- :func:`content_text`: text from a string or a list of text parts, thinking removed;
- :func:`answer_of`: text, else filtered, else empty (an empty answer cut off by the budget is
  :attr:`Answer.cut_off`);
- :func:`answer_document`: the JSON object of a 2xx body, or a malformed Answer.

Errors (:func:`read_error`): the fields of the many error shapes providers send (OpenAI's
``{error: {message, type, param, code}}``, Anthropic's ``{type: error, error: {type,
message}}``, Google's ``{error: {code, message, status, details}}``, unwrapped, string,
FastAPI, arrays…); one reader serves every kind.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from provider_store.errors import BadResponseError
from provider_store.providers.http_responses import parse_json, scrub

__all__ = [
    "Answer",
    "AnswerKind",
    "ErrorFacts",
    "answer_document",
    "answer_of",
    "content_text",
    "read_error",
    "says_pong",
]


class AnswerKind(enum.StrEnum):
    """What a 2xx answer amounts to."""

    TEXT = "text"  # answer text (thinking removed)
    EMPTY = "empty"  # a well-formed answer without answer text
    FILTERED = "filtered"  # stopped by a content filter or safety block, without text
    MALFORMED = "malformed"  # not an answer of the kind's API (no choices, not JSON…)


@dataclass(frozen=True)
class Answer:
    """The readable part of a 2xx answer."""

    kind: AnswerKind
    text: str = ""
    finish_reason: str | None = None
    detail: str = ""  # why a malformed answer is malformed

    @property
    def cut_off(self) -> bool:
        """True when the provider says the answer ended at the token budget."""
        return (self.finish_reason or "").lower() in ("length", "max_tokens")


def says_pong(text: str) -> bool:
    """The pong rule (see the module doc): ``text`` holds the word pong, any case, not glued to
    other letters."""
    return re.search(r"(?<![a-z])pong(?![a-z])", text.lower()) is not None


_THINK_BLOCK = re.compile(r"<(think|thinking)>.*?(</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_THINK_END = re.compile(r"</(think|thinking)>", re.IGNORECASE)
_TEXT_PART_TYPES = {None, "text", "output_text"}


def _strip_thinking(text: str) -> str:
    """``text`` without inline thinking: closed or cut-off ``<think>`` blocks, or a bare
    prefix ending in ``</think>`` (servers that strip only the opening tag)."""
    text = _THINK_BLOCK.sub("", text)
    ends = list(_THINK_END.finditer(text))
    if ends:
        text = text[ends[-1].end() :]
    return text.strip()


def content_text(content: Any) -> str:
    """Answer text of a ``content``: a string, or a list of text parts (a string, or a dict with
    a string ``text`` whose ``type`` is absent, ``text`` or ``output_text`` and which is not a
    ``thought``); inline thinking removed."""
    if isinstance(content, str):
        return _strip_thinking(content)
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif (
                isinstance(part, dict)
                and part.get("type") in _TEXT_PART_TYPES
                and isinstance(part.get("text"), str)
                and not part.get("thought")
            ):
                parts.append(part["text"])
        return _strip_thinking("".join(parts))
    return ""


def answer_of(text: str, finish_reason: str | None, *, filtered: bool) -> Answer:
    """A well-formed answer: TEXT when there is text, else FILTERED when ``filtered``, else
    EMPTY."""
    if text:
        return Answer(AnswerKind.TEXT, text, finish_reason)
    if filtered:
        return Answer(AnswerKind.FILTERED, "", finish_reason)
    return Answer(AnswerKind.EMPTY, "", finish_reason)


def answer_document(body: bytes, what: str) -> dict[str, Any] | Answer:
    """The JSON object of a 2xx ``what`` body, or a MALFORMED Answer saying why it is none."""
    try:
        document = parse_json(what, body)  # refuses JSON nested too deeply
    except BadResponseError as exc:
        deep = "nested too deeply" in str(exc)
        detail = f"{what} nested too deeply" if deep else f"{what} is not JSON"
        return Answer(AnswerKind.MALFORMED, detail=detail)
    if not isinstance(document, dict):
        return Answer(AnswerKind.MALFORMED, detail=f"{what} is not a JSON object")
    return document


# -- errors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorFacts:
    """The fields of a provider's error body, whatever its shape (all lower-case but message).

    ``text`` joins every string found (message, param, code, type, status, reasons, raw
    upstream messages), lower-cased, for the message rules of the verdicts.
    """

    message: str = ""
    code: str = ""
    type: str = ""
    param: str = ""
    text: str = ""


def _error_objects(document: Any) -> list[dict[str, Any]]:
    """The dicts that describe the error, outermost first."""
    if isinstance(document, list):
        return [obj for item in document[:3] for obj in _error_objects(item)]
    if not isinstance(document, dict):
        return []
    found = [document]
    inner = document.get("error")
    if isinstance(inner, dict):
        found.extend(_error_objects(inner))
    errors = document.get("errors")
    if isinstance(errors, list):
        found.extend(item for item in errors[:5] if isinstance(item, dict))
    details = document.get("details")
    if isinstance(details, list):
        found.extend(item for item in details[:5] if isinstance(item, dict))
    metadata = document.get("metadata")
    if isinstance(metadata, dict):
        found.append(metadata)
    return found


def _strings(obj: dict[str, Any]) -> list[str]:
    keys = ("message", "msg", "detail", "error", "code", "type", "param", "status", "reason", "raw")
    values: list[str] = []
    for key in keys:
        value = obj.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            values.append(unquote(str(value)))
        elif key == "detail" and isinstance(value, list):
            values.extend(str(item.get("msg")) for item in value[:5] if isinstance(item, dict))
    return values


def read_error(body: bytes, secret: str | None = None) -> ErrorFacts:
    """The fields of an error body; a body that is not JSON gives its text only. Never raises.

    Every field is scrubbed of ``secret`` (the API key, whole or truncated), which providers
    like to echo in their messages.
    """
    facts = _read_error(body)
    if not secret:
        return facts
    return ErrorFacts(
        message=scrub(facts.message, secret),
        code=scrub(facts.code, secret),
        type=scrub(facts.type, secret),
        param=scrub(facts.param, secret),
        text=scrub(facts.text, secret.lower()),
    )


def _read_error(body: bytes) -> ErrorFacts:
    try:
        document = parse_json("error body", body)
    except BadResponseError:
        raw = body[:500].decode("utf-8", "replace")
        return ErrorFacts(text=" ".join(re.sub(r"<[^>]*>", " ", raw).split()).lower())
    objects = _error_objects(document)

    def first(key: str) -> str:
        for obj in reversed(objects):  # the innermost error object speaks most precisely
            value = obj.get(key)
            if isinstance(value, str) and value:
                return unquote(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
        return ""

    message = first("message") or first("error") or first("detail")
    texts = [text for obj in objects for text in _strings(obj)]
    return ErrorFacts(
        message=" ".join(message.split()),
        code=first("code").lower(),
        type=first("type").lower(),
        param=first("param").lower(),
        text=" ".join(" ".join(texts).split()).lower(),
    )
