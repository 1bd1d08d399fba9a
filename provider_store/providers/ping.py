"""Validation pings for OpenAI-compatible chat APIs: request styles, answer and error parsing.

A ping asks the model to answer "pong". Real providers differ in what they accept and how they
answer, so the ping adapts, within a fixed budget of requests:

- **Request styles** (:class:`PingStyle`): the classic request (``max_tokens: 10``,
  ``temperature: 0.1``, a system message), adapted on a definite "unsupported parameter / value"
  refusal that names what to change: ``max_completion_tokens`` instead of ``max_tokens``, no
  ``temperature``, the instruction folded into the user message instead of a system message.
  Each adaptation is tried once and they combine (a model may need all three).
- **Budget**: an empty answer cut off by ``length`` (a reasoning model spent the budget thinking)
  is retried once with :data:`LARGE_BUDGET` tokens. A still empty answer stays empty: the
  verdict rules call it inconclusive, never invalid.
- **Answers** (:func:`read_answer`): content given as a string or as a list of parts; thinking
  parts, an inline ``<think>…</think>`` block (closed or cut off) and ``reasoning_content`` are
  ignored; ``finish_reason: content_filter`` without text is a filtered answer.
- **Errors** (:func:`read_error`): the fields of the many error shapes providers send (OpenAI's
  ``{error: {message, type, param, code}}``, unwrapped, string, Google, FastAPI, arrays…).
- **Rate limits**: a 429 that is not a quota problem and carries a ``Retry-After`` the caller
  allows (``may_wait``) is retried once after that wait.

:func:`run_ping` drives the attempts through a ``send`` callable, so everything here is pure
apart from the waiting it is told to do.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from provider_store.errors import BadResponseError
from provider_store.providers.http_responses import parse_json, scrub

PING_SYSTEM_PROMPT = "If I say 'ping', you will respond with 'pong'."
PING_USER_PROMPT = "ping"
SMALL_BUDGET = 10
LARGE_BUDGET = 512
CLASSIC_TEMPERATURE = 0.1
MAX_ATTEMPTS = 6

__all__ = [
    "LARGE_BUDGET",
    "PING_SYSTEM_PROMPT",
    "Answer",
    "AnswerKind",
    "ChatReply",
    "ErrorFacts",
    "PingOutcome",
    "PingStyle",
    "adaptation",
    "read_answer",
    "read_error",
    "run_ping",
    "says_pong",
]


# -- request styles ------------------------------------------------------------------------------

_FLAG_NAMES = {
    "completion_tokens": "mct",
    "no_temperature": "notemp",
    "no_system": "nosys",
    "large_budget": "big",
}
_FLAGS_BY_NAME = {short: name for name, short in _FLAG_NAMES.items()}


@dataclass(frozen=True)
class PingStyle:
    """How a ping request is built; :meth:`encode` gives the short text stored per model."""

    completion_tokens: bool = False  # max_completion_tokens instead of max_tokens
    no_temperature: bool = False  # leave temperature at the provider's default
    no_system: bool = False  # the instruction goes into the user message
    large_budget: bool = False  # LARGE_BUDGET tokens instead of SMALL_BUDGET

    def encode(self) -> str:
        """``"classic"`` or the adaptations joined with ``+`` (e.g. ``"mct+notemp"``)."""
        flags = [short for name, short in _FLAG_NAMES.items() if getattr(self, name)]
        return "+".join(flags) if flags else "classic"

    @classmethod
    def decode(cls, text: str | None) -> PingStyle:
        """The style stored as ``text``; unknown or missing text gives the classic style."""
        if not text:
            return cls()
        names = {_FLAGS_BY_NAME[part] for part in text.split("+") if part in _FLAGS_BY_NAME}
        return cls(**dict.fromkeys(names, True))

    def payload(self, model: str) -> dict[str, Any]:
        """The JSON body of a ping of ``model`` in this style."""
        if self.no_system:
            messages = [
                {"role": "user", "content": f"{PING_SYSTEM_PROMPT}\n\n{PING_USER_PROMPT}"},
            ]
        else:
            messages = [
                {"role": "system", "content": PING_SYSTEM_PROMPT},
                {"role": "user", "content": PING_USER_PROMPT},
            ]
        body: dict[str, Any] = {"model": model, "messages": messages}
        budget = LARGE_BUDGET if self.large_budget else SMALL_BUDGET
        body["max_completion_tokens" if self.completion_tokens else "max_tokens"] = budget
        if not self.no_temperature:
            body["temperature"] = CLASSIC_TEMPERATURE
        return body


# -- answers -------------------------------------------------------------------------------------


class AnswerKind(enum.StrEnum):
    """What a 2xx chat answer amounts to."""

    TEXT = "text"  # the first choice has answer text (thinking removed)
    EMPTY = "empty"  # a well-formed choice without answer text
    FILTERED = "filtered"  # stopped by a content filter, without text
    MALFORMED = "malformed"  # not a chat completion (no choices, not JSON…)


@dataclass(frozen=True)
class Answer:
    """The readable part of a 2xx chat answer."""

    kind: AnswerKind
    text: str = ""
    finish_reason: str | None = None
    detail: str = ""  # why a malformed answer is malformed

    @property
    def cut_off(self) -> bool:
        """True when the provider says the answer ended at the token budget."""
        return (self.finish_reason or "").lower() in ("length", "max_tokens")


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


def _content_text(content: Any) -> str:
    """Answer text of a message ``content``: a string, or a list of text parts."""
    if isinstance(content, str):
        return _strip_thinking(content)
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") in _TEXT_PART_TYPES:
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
        return _strip_thinking("".join(parts))
    return ""


def read_answer(body: bytes) -> Answer:
    """What a 2xx chat completion body says (see :class:`AnswerKind`); never raises."""
    try:
        document = parse_json("chat/completions", body)  # refuses JSON nested too deeply
    except BadResponseError as exc:
        deep = "nested too deeply" in str(exc)
        detail = "chat completion nested too deeply" if deep else "chat completion is not JSON"
        return Answer(AnswerKind.MALFORMED, detail=detail)
    choices = document.get("choices") if isinstance(document, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Answer(AnswerKind.MALFORMED)
    choice = choices[0]
    finish = choice.get("finish_reason")
    finish_reason = finish if isinstance(finish, str) else None
    message = choice.get("message")
    text = _content_text(message.get("content")) if isinstance(message, dict) else ""
    if text:
        return Answer(AnswerKind.TEXT, text, finish_reason)
    if (finish_reason or "").lower() == "content_filter":
        return Answer(AnswerKind.FILTERED, "", finish_reason)
    if not isinstance(message, dict) and finish_reason is None:
        return Answer(AnswerKind.MALFORMED)
    return Answer(AnswerKind.EMPTY, "", finish_reason)


def says_pong(text: str) -> bool:
    """True when ``text`` contains the word pong (any case, punctuation around it allowed)."""
    return re.search(r"(?<![a-z])pong(?![a-z])", text.lower()) is not None


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


_UNSUPPORTED = re.compile(
    r"unsupported (parameter|value)|unknown parameter|not supported|does not support|"
    r"unrecognized (request )?argument|extra inputs are not permitted|only the default"
)
_SYSTEM_REFUSED = re.compile(
    r"(developer|system) (instruction|prompt|role)s? (is|are) not (enabled|supported|allowed)"
)
_UNSUPPORTED_CODES = {"unsupported_parameter", "unsupported_value", "unknown_parameter"}


def _refuses(facts: ErrorFacts) -> bool:
    return facts.code in _UNSUPPORTED_CODES or _UNSUPPORTED.search(facts.text) is not None


def _names(facts: ErrorFacts, *words: str) -> bool:
    if facts.param and any(facts.param.startswith(word) for word in words):
        return True
    return any(f"'{word}'" in facts.text or f"`{word}`" in facts.text for word in words)


def adaptation(facts: ErrorFacts, style: PingStyle) -> PingStyle | None:
    """The adapted style for a definite "unsupported parameter / value" refusal of ``style``.

    None when the error is no such refusal, names nothing this ping sends, or asks for an
    adaptation already made.
    """
    if _SYSTEM_REFUSED.search(facts.text) and not style.no_system:
        return replace(style, no_system=True)  # e.g. Gemma: "Developer instruction is not enabled"
    if not _refuses(facts):
        if "temperature" in (facts.param or "") and "invalid" in facts.text:
            return None if style.no_temperature else replace(style, no_temperature=True)
        return None
    if _names(facts, "max_tokens") and not style.completion_tokens:
        return replace(style, completion_tokens=True)
    if _names(facts, "max_completion_tokens") and style.completion_tokens:
        return replace(style, completion_tokens=False)  # a remembered style no longer fits
    if _names(facts, "temperature") and not style.no_temperature:
        return replace(style, no_temperature=True)
    if (_names(facts, "messages") and "system" in facts.text) or "system message" in facts.text:
        return None if style.no_system else replace(style, no_system=True)
    return None


_BUDGET_ERROR = re.compile(
    r"max_tokens or model output limit|increase max_tokens|higher max_tokens"
)


def asks_for_budget(facts: ErrorFacts) -> bool:
    """True when an error says the answer did not fit the token budget."""
    return _BUDGET_ERROR.search(facts.text) is not None


# -- the attempts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatReply:
    """One chat request's outcome: HTTP status, headers and body, or the transport failure.

    ``failure`` is a key-free description when no HTTP answer arrived (``status`` None).
    """

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    failure: str | None = None


@dataclass(frozen=True)
class PingOutcome:
    """The last reply of a ping with everything learnt on the way.

    ``accepted_style`` is the style of the last request a provider answered with 2xx (to be
    used first next time), None when no request was accepted; ``steps`` lists what was tried
    (for the verdict reason).
    """

    reply: ChatReply
    answer: Answer | None
    error: ErrorFacts | None
    style: PingStyle
    accepted_style: PingStyle | None
    attempts: int
    steps: tuple[str, ...] = ()


def _retry_after(headers: dict[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            return value
    return None


def run_ping(
    model: str,
    send: Callable[[dict[str, Any]], ChatReply],
    *,
    style: PingStyle | None = None,
    may_wait: Callable[[str], bool] | None = None,
    is_quota_problem: Callable[[int, ErrorFacts], bool] | None = None,
) -> PingOutcome:
    """Ping ``model`` through ``send``, starting with ``style``, adapting as the module says.

    ``may_wait(retry_after)`` is asked on a 429 with a ``Retry-After`` header; it waits and
    returns True when the wait fits, False to give up. ``is_quota_problem`` tells a quota 429
    (never retried) from a rate limit.
    """
    current = style or PingStyle()
    accepted: PingStyle | None = None
    steps: list[str] = []
    waited = False
    attempts = 0
    tried: set[PingStyle] = set()
    while True:
        attempts += 1
        reply = send(current.payload(model))
        answer: Answer | None = None
        facts: ErrorFacts | None = None
        nxt: PingStyle | None = None
        if reply.status is not None and 200 <= reply.status < 300:
            accepted = current
            answer = read_answer(reply.body)
            if answer.kind is AnswerKind.EMPTY and answer.cut_off and not current.large_budget:
                nxt = replace(current, large_budget=True)
                steps.append("empty answer cut off by length: larger budget")
        elif reply.status is not None:
            facts = read_error(reply.body)
            if reply.status in (400, 422):
                nxt = adaptation(facts, current)
                if nxt is not None:
                    steps.append(f"refused {_changed(current, nxt)}: adapted")
                elif asks_for_budget(facts) and not current.large_budget:
                    nxt = replace(current, large_budget=True)
                    steps.append("answer did not fit the budget: larger budget")
            elif reply.status == 429 and not waited:
                quota = is_quota_problem is not None and is_quota_problem(429, facts)
                wanted = _retry_after(reply.headers)
                if not quota and wanted is not None and may_wait is not None:
                    waited = True
                    if may_wait(wanted):
                        steps.append(f"rate limited: retried after {wanted.strip()} s")
                        nxt = current
        if nxt is not None and nxt != current and nxt in tried:
            nxt = None  # never go back to a request already refused
        if nxt is None or attempts >= MAX_ATTEMPTS:
            return PingOutcome(reply, answer, facts, current, accepted, attempts, tuple(steps))
        tried.add(current)
        current = nxt


def _changed(old: PingStyle, new: PingStyle) -> str:
    if new.completion_tokens != old.completion_tokens:
        return "max_completion_tokens" if old.completion_tokens else "max_tokens"
    if new.no_temperature and not old.no_temperature:
        return "temperature"
    if new.no_system and not old.no_system:
        return "the system message"
    return "the request"
