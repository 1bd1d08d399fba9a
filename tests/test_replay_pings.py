"""Replay of chat and error bodies recorded from real providers through the ping and verdict rules.

Set ``PROVIDER_STORE_ANSWERS_DIR`` to the folder of recorded answers (``.ci/run`` does); without
it these tests are skipped. Every chat answer (``*.chat.*``, ``*.messages.*``,
``*.generateContent.*`` …) and every error body (a status other than 200 in the file name) is
replayed as the first reply to a ping through the one ping driver, with the kind whose dialect
it is (``anthropic.messages.*``: ``anthropic``, ``gemini-native.generateContent.*``: ``gemini``,
everything else ``openai``), and the class it leads to is compared with the class its file name
announces:

- ``answered``: a 2xx with answer text (thinking removed);
- ``retry``: an empty answer cut off by the budget: retried once with a larger budget;
- ``adapt``: an "unsupported parameter / value" refusal of something the ping sends: retried
  once with the adapted request;
- ``invalid``: the model is missing, not a chat model or deprecated;
- ``problem``: a rejected key or no credit, recorded on the provider;
- ``inconclusive``: anything else (rate limits, content filters, unrelated 400s, shapes that are
  that no kind speaks, such as Ollama's ``/api/chat``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from provider_store.catalog.states import Verdict
from provider_store.discovery.verdicts import judge, provider_problem
from provider_store.providers.base import ConnectionOptions, ProviderKind
from provider_store.providers.client import ProviderClient
from provider_store.providers.kinds import kind_for
from provider_store.providers.ping import ChatReply, PingOutcome, PingRequest, run_ping
from provider_store.providers.ping_replies import AnswerKind

ANSWERS_ENV = "PROVIDER_STORE_ANSWERS_DIR"
NO_OPTIONS = ConnectionOptions()
_STATUS = re.compile(r"\.(\d{3})\.(json|html|txt)$")
_CHAT_ENDPOINT = re.compile(r"chat|messages|generatecontent|ai-run")
_NATIVE_ENDPOINT = re.compile(r"api-chat")  # a dialect no kind speaks
_KIND_BY_PREFIX = {"anthropic.messages.": "anthropic", "gemini-native.generatecontent.": "gemini"}

# File names that do not say what their body holds; SOURCES.md does.
_NAME_SILENT = {
    # SOURCES.md: "content starts with '<think>' AND message has reasoning_content key"; the
    # think block is cut off by the budget, so there is no answer text.
    "huggingface.router-chat.qwen3-4b-maxtokens.200.json": "retry",
}

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("problem", re.compile(r"reported-as-key")),
    (
        "problem",
        re.compile(
            r"invalid-api-key|bad-key|missing-auth|invalid-key|"
            r"insufficient-(quota|balance|credits|permissions)"
        ),
    ),
    (
        "invalid",
        re.compile(
            r"model-not-found|model-not-available|invalid-model|bad-model|not-a-chat-model|"
            r"model-deprecated|deployment-not-found|bad-name"
        ),
    ),
    (
        "adapt",
        re.compile(
            r"unsupported.*(max-tokens|temperature)|(max-tokens|temperature|system-role).*"
            r"unsupported|temperature-below-min"
        ),
    ),
    (
        "retry",
        re.compile(r"maxtokens-(empty|null|no-answer)|think-inline|-length\.|output-limit"),
    ),
]


def answers_dir() -> Path:
    folder = os.environ.get(ANSWERS_ENV)
    if not folder:
        pytest.skip(f"set {ANSWERS_ENV} to the folder of recorded provider answers to replay them")
    path = Path(folder)
    if not path.is_dir():
        pytest.fail(f"{ANSWERS_ENV}={folder} is not a folder")
    return path


def status_of(name: str) -> int:
    found = _STATUS.search(name)
    return int(found.group(1)) if found else 200


def is_chat_or_error(name: str) -> bool:
    if name == "SOURCES.md":
        return False
    if status_of(name) != 200:
        return True
    endpoint = ".".join(name.lower().split(".")[1:-1])
    return _CHAT_ENDPOINT.search(endpoint) is not None


def expected_class(name: str) -> str:
    """The class a recorded answer should lead to, read from its file name."""
    if name in _NAME_SILENT:
        return _NAME_SILENT[name]
    lowered = name.lower()
    status = status_of(name)
    endpoint = ".".join(lowered.split(".")[1:2])
    if status == 200 and _NATIVE_ENDPOINT.search(endpoint):
        return "inconclusive"  # another kind's dialect: not an OpenAI chat completion
    for label, pattern in _RULES:
        if pattern.search(lowered):
            return label
    if status == 200:
        if re.search(r"content-filter|tool-call\.", lowered):
            return "inconclusive"
        return "answered"
    return "inconclusive"


POLITE_PONGS = {
    "openai": {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Pong."}}]},
    "anthropic": {"type": "message", "content": [{"type": "text", "text": "Pong."}]},
    "gemini": {"candidates": [{"content": {"parts": [{"text": "Pong."}]}}]},
}


def kind_of(name: str) -> ProviderKind:
    """The kind whose dialect the recorded file is (openai unless its name says otherwise)."""
    lowered = name.lower()
    kind = next((k for p, k in _KIND_BY_PREFIX.items() if lowered.startswith(p)), "openai")
    return kind_for(kind, ProviderClient())


def replay(name: str, body: bytes) -> tuple[PingOutcome, list[dict[str, Any]]]:
    """Ping with the recorded body as the first reply, then a pong in the same dialect."""
    sent: list[dict[str, Any]] = []
    status = status_of(name)
    kind = kind_of(name)
    pong = json.dumps(POLITE_PONGS[kind.name]).encode()

    def send(request: PingRequest) -> ChatReply:
        sent.append(request.payload)
        if len(sent) == 1:
            return ChatReply(status=status, body=body)
        return ChatReply(status=200, body=pong)

    outcome = run_ping(
        lambda style: kind.ping_request("http://127.0.0.1:9/v1", "k", "m", NO_OPTIONS, style),
        kind.read_answer,
        send,
        is_quota_problem=lambda code, facts: provider_problem(code, facts) is not None,
    )
    return outcome, sent


def observed_class(outcome: PingOutcome) -> str:
    judgement = judge(outcome)
    if outcome.attempts > 1:
        assert judgement.verdict is Verdict.VALID, judgement.reason
        return "adapt" if "adapted" in " ".join(outcome.steps) else "retry"
    if judgement.problem is not None:
        return "problem"
    if outcome.answer is not None and outcome.answer.kind is AnswerKind.TEXT:
        return "answered"
    return judgement.verdict.value


def recorded_names() -> list[str]:
    folder = os.environ.get(ANSWERS_ENV)
    if not folder or not Path(folder).is_dir():
        return ["(no recorded answers)"]
    return sorted(p.name for p in Path(folder).iterdir() if is_chat_or_error(p.name))


@pytest.mark.parametrize("name", recorded_names())
def test_recorded_answer_yields_its_verdict_class(name: str) -> None:
    folder = answers_dir()
    body = (folder / name).read_bytes()

    outcome, sent = replay(name, body)

    assert observed_class(outcome) == expected_class(name)
    if len(sent) == 2:  # the retry changed exactly what the refusal asked for
        first, second = sent
        assert first != second
        if "max-tokens" in name:
            assert "max_completion_tokens" in second and "max_tokens" not in second
        if "temperature" in name:
            assert "temperature" not in second
        if "system-role" in name:
            assert [m["role"] for m in second["messages"]] == ["user"]


def test_every_verdict_class_is_represented() -> None:
    folder = answers_dir()
    names = [p.name for p in folder.iterdir() if is_chat_or_error(p.name)]
    classes = {expected_class(name) for name in names}
    assert classes == {"answered", "retry", "adapt", "invalid", "problem", "inconclusive"}
    assert len(names) >= 100
