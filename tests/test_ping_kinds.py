"""One ping path for every kind: the same answers get the same verdict, the same refusals the same
adaptation, and the accepted style is remembered, whether the provider speaks ``openai``,
``anthropic`` or ``gemini``.

A real loopback server speaks the three dialects (chat completions, the Messages API,
``generateContent``); each scenario describes an answer or a refusal once, and the server writes
it in the shape of the kind being pinged. Pings go through ``ModelDiscoveryService.check_model``
on a provider stored with that kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from provider_store import ModelDiscoveryService, ProviderClient, ProviderConfig, ProviderStore
from provider_store.catalog.states import Verdict
from provider_store.catalog.tables import Model

KEY = "sk-kinds-SECRET-0123456789"
KINDS = ["openai", "anthropic", "gemini"]

# An answer, described once: its parts (("text" | "thinking", text)) and how it ended.
Parts = list[tuple[str, str]]
Reply = tuple[int, Any, dict[str, str]]


# -- the dialects ----------------------------------------------------------------------------------

_STOPS = {
    "openai": {"stop": "stop", "length": "length", "filter": "content_filter"},
    "anthropic": {"stop": "end_turn", "length": "max_tokens", "filter": "refusal"},
    "gemini": {"stop": "STOP", "length": "MAX_TOKENS", "filter": "SAFETY"},
}


def answer(kind: str, content: str | Parts, end: str = "stop") -> dict[str, Any]:
    """``content`` (a plain string, or a list of parts) ending with ``end``, in ``kind``'s shape."""
    stop = _STOPS[kind][end]
    parts: Parts = [("text", content)] if isinstance(content, str) else content
    if kind == "openai":
        if end == "filter" and not content:  # Azure: a filter stop without a message
            return {"choices": [{"index": 0, "finish_reason": stop}]}
        body: Any = content
        if not isinstance(content, str):
            body = [
                {"type": "text", "text": text}
                if part == "text"
                else {"type": "thinking", "thinking": [{"type": "text", "text": text}]}
                for part, text in parts
            ]
        message = {"role": "assistant", "content": body}
        return {"choices": [{"index": 0, "message": message, "finish_reason": stop}]}
    if kind == "anthropic":
        blocks = [
            {"type": "text", "text": text}
            if part == "text"
            else {"type": "thinking", "thinking": text, "signature": "sig"}
            for part, text in parts
            if text or part == "text"
        ]
        if not content:
            blocks = []
        return {"type": "message", "role": "assistant", "content": blocks, "stop_reason": stop}
    gemini_parts = [
        {"text": text} if part == "text" else {"text": text, "thought": True}
        for part, text in parts
        if text
    ]
    candidate = {"content": {"role": "model", "parts": gemini_parts}, "finishReason": stop}
    return {"candidates": [candidate]}


def error(kind: str, status: int, message: str, **fields: str) -> Reply:
    """An error body in ``kind``'s shape."""
    if kind == "anthropic":
        kind_type = fields.get("type", "invalid_request_error")
        return status, {"type": "error", "error": {"type": kind_type, "message": message}}, {}
    if kind == "gemini":
        grpc = fields.get("grpc_status", "INVALID_ARGUMENT")
        google = {"code": status, "message": message, "status": grpc}
        return status, {"error": google}, {}
    return status, {"error": {"message": message, "type": "invalid_request_error", **fields}}, {}


def kind_of(request: Request) -> str:
    if request.path.endswith("/messages"):
        return "anthropic"
    if request.path.endswith(":generateContent"):
        return "gemini"
    return "openai"


# What a payload asks for, whatever the dialect.


def budget(payload: dict[str, Any]) -> int:
    config = payload.get("generationConfig", {})
    return int(
        payload.get("max_completion_tokens")
        or payload.get("max_tokens")
        or config.get("maxOutputTokens")
        or 0
    )


def temperature(payload: dict[str, Any]) -> float | None:
    value = payload.get("temperature", payload.get("generationConfig", {}).get("temperature"))
    return None if value is None else float(value)


def system(payload: dict[str, Any]) -> bool:
    roles = [m.get("role") for m in payload.get("messages", [])]
    return "system" in roles or "system" in payload or "systemInstruction" in payload


def user_text(payload: dict[str, Any]) -> str:
    if "contents" in payload:
        return str(payload["contents"][-1]["parts"][0]["text"])
    return str(payload["messages"][-1]["content"])


Behaviour = Callable[[str, dict[str, Any]], Reply]


class Provider:
    """A loopback provider of every dialect, answering pings with ``behaviour(kind, payload)``."""

    def __init__(self, httpserver: HTTPServer) -> None:
        self.behaviour: Behaviour = lambda kind, _payload: (200, answer(kind, "pong"), {})
        self.sent: list[dict[str, Any]] = []
        httpserver.expect_request("", method="POST").respond_with_handler(self.handle)
        self.base_url = httpserver.url_for("/v1")

    def handle(self, request: Request) -> Response:
        payload = json.loads(request.get_data())
        self.sent.append(payload)
        status, body, headers = self.behaviour(kind_of(request), payload)
        return Response(json.dumps(body), status, headers, content_type="application/json")


@pytest.fixture
def provider(httpserver: HTTPServer) -> Provider:
    return Provider(httpserver)


@pytest.fixture
def service(store: ProviderStore) -> Iterator[ModelDiscoveryService]:
    client = ProviderClient(connect_timeout=1, read_timeout=2, deadline=10, max_retry_after=2)
    with ModelDiscoveryService(store, client=client) as made:
        yield made


def config_of(store: ProviderStore, provider: Provider, kind: str) -> ProviderConfig:
    store.save_config("p", ProviderConfig(base_api_url=provider.base_url, api_key=KEY, kind=kind))
    return store.get_config("p")


def stored_style(store: ProviderStore, model: str) -> str | None:
    with store.read() as session:
        return session.exec(select(Model.ping_style).where(Model.model_id == model)).one()


# -- one pong rule -------------------------------------------------------------------------------

# case -> (content, end, verdict); a None verdict: no text, so inconclusive after a larger budget
JUDGED: dict[str, tuple[str | Parts, str, Verdict | None]] = {
    "pong": ("pong", "stop", Verdict.VALID),
    "Pong.": ("Pong.", "stop", Verdict.VALID),
    "PONG!": ("PONG!", "stop", Verdict.VALID),
    "ping-pong": ("ping-pong", "stop", Verdict.VALID),
    "pingpong": ("pingpong", "stop", Verdict.INVALID),
    "pongs": ("pongs", "stop", Verdict.INVALID),
    "hello": ("Hello there", "stop", Verdict.INVALID),
    "think-then-pong": ("<think>They say ping.</think>pong", "stop", Verdict.VALID),
    "only-thinking-says-pong": ("<think>pong</think>Hello", "stop", Verdict.INVALID),
    "cut-off-think": ("<think>the budget ran out while thinking about pong", "length", None),
    "parts": ([("text", "Po"), ("text", "ng")], "stop", Verdict.VALID),
    "thinking-part-then-pong": ([("thinking", "say it"), ("text", "Pong")], "stop", Verdict.VALID),
    "thinking-part-says-pong": ([("thinking", "pong"), ("text", "Hi")], "stop", Verdict.INVALID),
    "empty-by-length": ("", "length", None),
    "filtered": ("", "filter", Verdict.INCONCLUSIVE),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", sorted(JUDGED))
@pytest.mark.above_the_store
def test_every_kind_judges_the_same_answer_the_same_way(
    case: str, kind: str, store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    content, end, verdict = JUDGED[case]
    provider.behaviour = lambda k, _payload: (200, answer(k, content, end), {})
    config = config_of(store, provider, kind)

    result = service.check_model(config, "m")

    if verdict is None:  # no text within the budget: retried once with a larger one
        assert result.verdict is Verdict.INCONCLUSIVE, result.reason
        assert [budget(p) for p in provider.sent] == [10, 512]
        assert stored_style(store, "m") == "big"
        return
    assert result.verdict is verdict, result.reason
    assert len(provider.sent) == 1
    assert stored_style(store, "m") == "classic"
    if case == "filtered":
        assert "content filter" in result.reason


# -- the same adaptations ------------------------------------------------------------------------


def refuses_temperature(kind: str, payload: dict[str, Any]) -> Reply:
    if temperature(payload) is not None:
        if kind == "anthropic":  # Anthropic's own words for thinking models
            return error(kind, 400, "`temperature` may only be set to 1 when thinking is enabled.")
        return error(
            kind,
            400,
            "Unsupported value: 'temperature' does not support 0.1 with this model. Only the "
            "default (1) value is supported.",
            param="temperature",
            code="unsupported_value",
        )
    return 200, answer(kind, "pong"), {}


def refuses_system(kind: str, payload: dict[str, Any]) -> Reply:
    if system(payload):
        if kind == "gemini":  # Gemma through the Gemini API, verbatim
            message = "Developer instruction is not enabled for models/gemma-3-27b-it"
            return error(kind, 400, message, grpc_status="INVALID_ARGUMENT")
        if kind == "anthropic":
            return error(kind, 400, "system: system prompts are not supported for this model")
        message = "Unsupported value: 'messages[0].role' does not support 'system' with this model."
        return error(kind, 400, message, param="messages[0].role", code="unsupported_value")
    return 200, answer(kind, "pong"), {}


def thinks_away_a_small_budget(kind: str, payload: dict[str, Any]) -> Reply:
    if budget(payload) < 100:
        return 200, answer(kind, [("thinking", "The user says ping")], "length"), {}
    return 200, answer(kind, "Pong."), {}


class RateLimitedOnce:
    """429 with ``Retry-After`` for the first request, then pong."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, kind: str, payload: dict[str, Any]) -> Reply:
        self.calls += 1
        if self.calls > 1:
            return 200, answer(kind, "pong"), {}
        status, body, _ = error(kind, 429, "Rate limit reached, try again", type="rate_limit_error")
        return status, body, {"Retry-After": "0.1"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_temperature_is_dropped_and_remembered_by_every_kind(
    kind: str, store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    provider.behaviour = refuses_temperature
    config = config_of(store, provider, kind)

    result = service.check_model(config, "m")

    assert result.verdict is Verdict.VALID, result.reason
    first, second = provider.sent
    assert (temperature(first), temperature(second)) == (0.1, None)
    assert budget(second) == 10 and system(second)
    assert stored_style(store, "m") == "notemp"

    provider.sent.clear()  # the remembered style goes first next time: one request
    assert service.check_model(config, "m", force=True).verdict is Verdict.VALID
    assert len(provider.sent) == 1 and temperature(provider.sent[0]) is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.above_the_store
def test_a_refused_system_instruction_moves_into_the_user_message_for_every_kind(
    kind: str, store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    provider.behaviour = refuses_system
    config = config_of(store, provider, kind)

    result = service.check_model(config, "m")

    assert result.verdict is Verdict.VALID, result.reason
    first, second = provider.sent
    assert system(first) and not system(second)
    assert "pong" in user_text(second) and user_text(second).endswith("ping")
    assert stored_style(store, "m") == "nosys"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.above_the_store
def test_an_answer_cut_off_while_thinking_gets_a_larger_budget_for_every_kind(
    kind: str, store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    provider.behaviour = thinks_away_a_small_budget
    config = config_of(store, provider, kind)

    result = service.check_model(config, "m")

    assert result.verdict is Verdict.VALID, result.reason
    assert [budget(p) for p in provider.sent] == [10, 512]
    assert stored_style(store, "m") == "big"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.above_the_store
def test_a_rate_limit_with_retry_after_is_waited_out_once_for_every_kind(
    kind: str, store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    provider.behaviour = RateLimitedOnce()
    config = config_of(store, provider, kind)

    result = service.check_model(config, "m")

    assert result.verdict is Verdict.VALID, result.reason
    assert result.problem is None
    assert len(provider.sent) == 2 and provider.sent[0] == provider.sent[1]
    assert stored_style(store, "m") == "classic"


def refuses_max_tokens(kind: str, payload: dict[str, Any]) -> Reply:
    if "max_tokens" in payload or "maxOutputTokens" in payload.get("generationConfig", {}):
        message = "Unsupported parameter: 'max_tokens' is not supported with this model."
        return error(kind, 400, message, param="max_tokens", code="unsupported_parameter")
    return 200, answer(kind, "pong"), {}


@pytest.mark.above_the_store
def test_openai_moves_to_max_completion_tokens(
    store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    provider.behaviour = refuses_max_tokens
    config = config_of(store, provider, "openai")

    assert service.check_model(config, "m").verdict is Verdict.VALID
    first, second = provider.sent
    assert first["max_tokens"] == 10 and "max_tokens" not in second
    assert second["max_completion_tokens"] == 10
    assert stored_style(store, "m") == "mct"


@pytest.mark.parametrize("kind", ["anthropic", "gemini"])
@pytest.mark.above_the_store
def test_an_adaptation_a_kind_cannot_express_is_not_sent(
    kind: str, store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    """Anthropic and Gemini have no ``max_completion_tokens``: the same request is not resent."""
    provider.behaviour = refuses_max_tokens
    config = config_of(store, provider, kind)

    result = service.check_model(config, "m")

    assert result.verdict is Verdict.INCONCLUSIVE and "HTTP 400" in result.reason
    assert len(provider.sent) == 1
    assert stored_style(store, "m") is None


@pytest.mark.above_the_store
def test_a_short_key_inside_a_refusal_does_not_stop_the_adaptation(
    store: ProviderStore, service: ModelDiscoveryService, provider: Provider
) -> None:
    """The refusal is read as sent; the key is scrubbed only from what is shown."""
    provider.behaviour = refuses_max_tokens
    store.save_config("p", ProviderConfig(base_api_url=provider.base_url, api_key="k"))

    result = service.check_model(store.get_config("p"), "m")

    assert result.verdict is Verdict.VALID, result.reason
    assert stored_style(store, "m") == "mct"
