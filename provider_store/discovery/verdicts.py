"""Verdict rules: how a ping's outcome is classified and when a stored verdict is reused.

Pure: no network, no database. :class:`~ModelDiscoveryService` pings (through the one driver,
:func:`~provider_store.providers.ping.run_ping`, for every kind) and stores; this module
decides, from the answer and from the error body (not the status alone), the same way for every
kind:

- ``valid``: the answer says pong (the one rule:
  :func:`~provider_store.providers.ping_replies.says_pong`);
- ``invalid``: an answer with text that is not pong, or a definite refusal of the *model*:
  any 404 or 410, or a 400 / 403 / 422 whose body says the model is not found, does not exist,
  is not a chat model, is deprecated or decommissioned (:func:`model_refused`);
- ``inconclusive``, everything else: no text at all (even after a larger budget), a content
  filter, timeouts, 429 rate limits, 5xx, and a 400 that neither names an unsupported parameter
  (the ping adapts to those) nor says the model is missing;
- a **provider problem** (:func:`provider_problem`) is inconclusive for the model *and* recorded
  on the provider: an invalid or missing key (401, or a 400 / 403 whose body says so, as Gemini,
  xAI, Baseten and Cloudflare answer), no credit or quota (402, a 429 ``insufficient_quota``).
  The rest of that provider's pings in the run are not sent.

``valid`` and ``invalid`` verdicts younger than ``revalidate_after`` are reused without a ping;
``inconclusive`` ones never are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provider_store.catalog.records import ValidationResult
from provider_store.catalog.states import Verdict
from provider_store.providers.ping import PingOutcome
from provider_store.providers.ping_replies import AnswerKind, ErrorFacts, says_pong

REFUSAL_STATUSES = frozenset({400, 403, 404, 410, 422})

__all__ = [
    "REFUSAL_STATUSES",
    "Judgement",
    "is_reusable",
    "judge",
    "judge_error",
    "model_refused",
    "provider_problem",
]

_MODEL_GONE = re.compile(
    r"not a chat model|not supported in the v1/chat/completions|does not exist|not found|"
    r"no such model|unknown model|invalid model|not a valid model|unsupported model|"
    r"not supported model|model is not supported|model not supported|unable to access model|"
    r"model_not_found|model_not_available|deploymentnotfound|deprecated|decommissioned|"
    r"has been retired|no longer (available|supported)|supported (api )?model names|"
    r"model name format"
)
_MODEL_GONE_CODES = {
    "model_not_found",
    "model_not_available",
    "invalid_model",
    "deploymentnotfound",
    "not_found",
    "not_found_error",
    "notfounderror",
}
_BAD_KEY = re.compile(
    r"api[ _-]?key|x-api-key|authenticat|unauthori[sz]ed|credentials|authorization required|"
    r"access denied"
)
_BAD_KEY_CODES = {"invalid_api_key", "wrong_api_key", "invalid_key", "api_key_invalid", "401"}
_NO_CREDIT = re.compile(
    r"insufficient[ _](quota|balance|credits?|funds)|billing|more credits|out of credits|"
    r"credit balance|payment required"
)


@dataclass(frozen=True)
class Judgement:
    """A verdict, its key-free reason, and the provider problem it reveals (if any)."""

    verdict: Verdict
    reason: str
    problem: str | None = None


def _excerpt(facts: ErrorFacts) -> str:
    message = facts.message or facts.text
    return f": {message[:200]}" if message else ""


def provider_problem(status: int, facts: ErrorFacts) -> str | None:
    """A provider-wide problem an error reveals (bad key, no credit), else None."""
    if status == 402 or facts.code == "insufficient_quota" or facts.type == "insufficient_quota":
        return f"out of credit or quota (HTTP {status}){_excerpt(facts)}"
    if status in (402, 429) and _NO_CREDIT.search(facts.text):
        return f"out of credit or quota (HTTP {status}){_excerpt(facts)}"
    bad_key = (
        facts.code in _BAD_KEY_CODES
        or facts.type in ("authentication_error", "invalid_key")
        or _BAD_KEY.search(facts.text) is not None
    )
    if status == 401 or (status in (400, 403) and bad_key):
        return f"API key rejected (HTTP {status}){_excerpt(facts)}"
    return None


def model_refused(status: int, facts: ErrorFacts) -> bool:
    """True when an error says the model itself is missing or cannot chat."""
    if status in (404, 410):
        return True
    if status not in REFUSAL_STATUSES:
        return False
    return (
        facts.code in _MODEL_GONE_CODES
        or facts.type in _MODEL_GONE_CODES
        or _MODEL_GONE.search(facts.text) is not None
    )


def judge_error(status: int, facts: ErrorFacts) -> Judgement:
    """The verdict of an error answer (see the module doc for the rules)."""
    problem = provider_problem(status, facts)
    if problem is not None:
        return Judgement(Verdict.INCONCLUSIVE, f"provider problem: {problem}", problem)
    if status == 429:
        return Judgement(Verdict.INCONCLUSIVE, f"rate limited (HTTP 429){_excerpt(facts)}")
    if model_refused(status, facts):
        return Judgement(Verdict.INVALID, f"refused (HTTP {status}){_excerpt(facts)}")
    return Judgement(Verdict.INCONCLUSIVE, f"HTTP {status}{_excerpt(facts)}")


def judge(outcome: PingOutcome) -> Judgement:
    """The verdict of a ping's outcome; the reason says what was tried on the way."""
    judgement = _judge_last(outcome)
    if outcome.steps:
        steps = "; ".join(outcome.steps)
        return Judgement(judgement.verdict, f"{judgement.reason} [{steps}]", judgement.problem)
    return judgement


def _judge_last(outcome: PingOutcome) -> Judgement:
    reply, answer = outcome.reply, outcome.answer
    if reply.status is None:
        return Judgement(Verdict.INCONCLUSIVE, reply.failure or "no answer")
    if answer is None:
        return judge_error(reply.status, outcome.error or ErrorFacts())
    if answer.kind is AnswerKind.TEXT:
        if says_pong(answer.text):
            return Judgement(Verdict.VALID, f"pong (HTTP {reply.status})")
        return Judgement(Verdict.INVALID, f"answered without pong: {answer.text[:80]!r}")
    if answer.kind is AnswerKind.FILTERED:
        return Judgement(Verdict.INCONCLUSIVE, "stopped by a content filter")
    if answer.kind is AnswerKind.EMPTY:
        finish = answer.finish_reason or "none"
        return Judgement(Verdict.INCONCLUSIVE, f"answered without text (finish_reason {finish})")
    detail = answer.detail or "no answer"
    return Judgement(Verdict.INCONCLUSIVE, f"HTTP {reply.status} without an answer: {detail}")


def is_reusable(previous: ValidationResult, revalidate_after: float, now: float) -> bool:
    """True for a ``valid`` or ``invalid`` verdict younger than ``revalidate_after`` seconds."""
    if previous.verdict is Verdict.INCONCLUSIVE:
        return False
    return 0 <= now - previous.checked_at < revalidate_after
