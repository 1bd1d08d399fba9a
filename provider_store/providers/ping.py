"""The one ping driver: every kind's validation ping is sent, adapted, retried and reported here.

A ping asks the model to answer "pong". A kind (``openai``, ``anthropic``, ``gemini``) supplies
only its dialect: the request for a :class:`PingStyle` (URL, headers with the key, JSON payload:
``ping_request``) and the reader of its 2xx answers (``read_answer``). :func:`run_ping` does the
rest, the same way for every kind, within a fixed budget of requests:

- **Request styles** (:class:`PingStyle`): the classic request (a budget of 10 tokens,
  ``temperature: 0.1``, the instruction as a system message), adapted on a definite
  "unsupported parameter / value" refusal that names what to change: ``max_completion_tokens``
  instead of ``max_tokens``, no ``temperature``, the instruction folded into the user message
  instead of a system message. Each adaptation is tried once and they combine (a model may need
  all three). An adaptation a kind cannot express (its request would not change) is not sent.
- **Budget**: an empty answer cut off by the budget (a reasoning model spent it thinking), or an
  error saying the answer did not fit, is retried once with :data:`LARGE_BUDGET` tokens. A still
  empty answer stays empty: the verdict rules call it inconclusive, never invalid.
- **Rate limits**: a 429 that is not a quota problem and carries a ``Retry-After`` the caller
  allows (``may_wait``) is retried once after that wait.
- **Report**: the last reply, its :class:`~provider_store.providers.ping_replies.Answer` or error
  facts, the steps taken, and the style a provider accepted (stored per model as ``ping_style``
  and sent first next time, for every kind).

Answers and errors are read by :mod:`provider_store.providers.ping_replies` (where the one pong
rule lives); the verdict is given by :mod:`provider_store.discovery.verdicts`. :func:`run_ping`
sends through a ``send`` callable, so everything here is pure apart from the waiting it is told
to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from provider_store.providers.ping_replies import Answer, AnswerKind, ErrorFacts, read_error

PING_SYSTEM_PROMPT = "If I say 'ping', you will respond with 'pong'."
PING_USER_PROMPT = "ping"
SMALL_BUDGET = 10
LARGE_BUDGET = 512
CLASSIC_TEMPERATURE = 0.1
MAX_ATTEMPTS = 6

__all__ = [
    "CLASSIC_TEMPERATURE",
    "LARGE_BUDGET",
    "PING_SYSTEM_PROMPT",
    "PING_USER_PROMPT",
    "SMALL_BUDGET",
    "ChatReply",
    "PingOutcome",
    "PingRequest",
    "PingStyle",
    "adaptation",
    "asks_for_budget",
    "run_ping",
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

    @property
    def budget(self) -> int:
        """The answer's token budget: :data:`LARGE_BUDGET` or :data:`SMALL_BUDGET`."""
        return LARGE_BUDGET if self.large_budget else SMALL_BUDGET

    @property
    def temperature(self) -> float | None:
        """The temperature to send, None to leave the provider's default."""
        return None if self.no_temperature else CLASSIC_TEMPERATURE

    @property
    def system_text(self) -> str | None:
        """The instruction sent as a system message, None when it goes into the user message."""
        return None if self.no_system else PING_SYSTEM_PROMPT

    @property
    def user_text(self) -> str:
        """The user message: "ping", preceded by the instruction when there is no system one."""
        if self.no_system:
            return f"{PING_SYSTEM_PROMPT}\n\n{PING_USER_PROMPT}"
        return PING_USER_PROMPT


@dataclass(frozen=True)
class PingRequest:
    """One ping request of a kind: where it goes, the headers (with the key), the JSON body."""

    url: str
    payload: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


# -- adaptations ---------------------------------------------------------------------------------


_UNSUPPORTED = re.compile(
    r"unsupported (parameter|value)|unknown parameter|not supported|does not support|"
    r"unrecognized (request )?argument|extra inputs are not permitted|only the default|"
    r"may only be set to"
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
    """One ping request's outcome: HTTP status, headers and body, or the transport failure.

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


def _next_step(
    reply: ChatReply,
    answer: Answer | None,
    facts: ErrorFacts | None,
    current: PingStyle,
    *,
    waited: bool,
    may_wait: Callable[[str], bool] | None,
    is_quota_problem: Callable[[int, ErrorFacts], bool] | None,
) -> tuple[PingStyle, str] | None:
    """The style to send next and why, or None when the ping ends with ``reply``."""
    if answer is not None:
        if answer.kind is AnswerKind.EMPTY and answer.cut_off and not current.large_budget:
            return replace(
                current, large_budget=True
            ), "empty answer cut off by length: larger budget"
        return None
    if facts is None or reply.status is None:
        return None
    if reply.status in (400, 422):
        adapted = adaptation(facts, current)
        if adapted is not None:
            return adapted, f"refused {_changed(current, adapted)}: adapted"
        if asks_for_budget(facts) and not current.large_budget:
            return replace(
                current, large_budget=True
            ), "answer did not fit the budget: larger budget"
        return None
    if reply.status == 429 and not waited:
        quota = is_quota_problem is not None and is_quota_problem(429, facts)
        wanted = _retry_after(reply.headers)
        if not quota and wanted is not None and may_wait is not None and may_wait(wanted):
            return current, f"rate limited: retried after {wanted.strip()} s"
    return None


def run_ping(
    request_for: Callable[[PingStyle], PingRequest],
    read_answer: Callable[[bytes], Answer],
    send: Callable[[PingRequest], ChatReply],
    *,
    style: PingStyle | None = None,
    may_wait: Callable[[str], bool] | None = None,
    is_quota_problem: Callable[[int, ErrorFacts], bool] | None = None,
) -> PingOutcome:
    """Ping through ``send``, starting with ``style``, adapting as the module says.

    ``request_for`` is the kind's request for a style and ``read_answer`` its reader of 2xx
    bodies. ``may_wait(retry_after)`` is asked (once) on a 429 with a ``Retry-After`` header;
    it waits and returns True when the wait fits, False to give up. ``is_quota_problem`` tells a
    quota 429 (never retried) from a rate limit. The error facts are read as sent (a short key
    scrubbed from them could mangle the parameter names the adaptations look for): the caller
    scrubs the key from whatever it shows.
    """
    current = style or PingStyle()
    request = request_for(current)
    accepted: PingStyle | None = None
    steps: list[str] = []
    waited = False
    attempts = 0
    tried: set[PingStyle] = set()
    while True:
        attempts += 1
        reply = send(request)
        answer: Answer | None = None
        facts: ErrorFacts | None = None
        if reply.status is not None and 200 <= reply.status < 300:
            accepted = current
            answer = read_answer(reply.body)
        elif reply.status is not None:
            facts = read_error(reply.body)
        step = _next_step(
            reply,
            answer,
            facts,
            current,
            waited=waited,
            may_wait=may_wait,
            is_quota_problem=is_quota_problem,
        )
        if step is not None and attempts < MAX_ATTEMPTS:
            nxt, why = step
            if nxt == current:  # the same request again, after a rate limit's wait
                waited = True
                steps.append(why)
                continue
            following = request_for(nxt)
            # never go back to a request already refused, nor send one the kind cannot change
            if nxt not in tried and following.payload != request.payload:
                steps.append(why)
                tried.add(current)
                current, request = nxt, following
                continue
        return PingOutcome(reply, answer, facts, current, accepted, attempts, tuple(steps))


def _changed(old: PingStyle, new: PingStyle) -> str:
    if new.completion_tokens != old.completion_tokens:
        return "max_completion_tokens" if old.completion_tokens else "max_tokens"
    if new.no_temperature and not old.no_temperature:
        return "temperature"
    if new.no_system and not old.no_system:
        return "the system message"
    return "the request"
