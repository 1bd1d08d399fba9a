"""Adaptive pings and verdicts from error bodies, against a loopback server answering in the
shapes of real providers (fixtures written for these tests, after the providers' public docs).

Each scenario is one model of a provider whose chat endpoint answers the way that provider
does: reasoning models that refuse ``max_tokens``, ``temperature`` or a system message, answers
cut off by the budget, thinking in parts or inline, content filters, and the many shapes of
"model not found", "bad key" and "no credit".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import helpers
import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore
from provider_store.catalog.states import Verdict, utc_now
from provider_store.catalog.tables import Model
from provider_store.discovery.run import run_discovery
from provider_store.discovery.run_report import DiscoveryOptions
from provider_store.providers.client import ProviderClient
from provider_store.providers.openai import read_chat_completion
from provider_store.providers.ping import PingStyle
from provider_store.providers.ping_replies import AnswerKind

KEY = "sk-pings-SECRET-0123456789"
Reply = tuple[int, Any, dict[str, str]]
Responder = Callable[[dict[str, Any]], Reply]


# -- provider shapes --


def completion(content: Any, finish: str | None = "stop", **message: Any) -> dict[str, Any]:
    """An OpenAI-shaped chat completion; ``content=...`` (Ellipsis) leaves the key out."""
    msg: dict[str, Any] = {"role": "assistant", **message}
    if content is not ...:
        msg["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
    }


def oai_error(message: str, *, type_: str | None = "invalid_request_error", **more: Any) -> Any:
    return {"error": {"message": message, "type": type_, "param": None, "code": None, **more}}


def ok(body: Any) -> Reply:
    return 200, body, {}


def budget(payload: dict[str, Any]) -> int:
    return int(payload.get("max_completion_tokens") or payload.get("max_tokens") or 0)


def has_system(payload: dict[str, Any]) -> bool:
    return any(m.get("role") == "system" for m in payload["messages"])


def openai_reasoning(*, refuse_system: bool = False) -> Responder:
    """gpt-5 / o-series: max_tokens, then temperature (and for o1-mini the system role)."""

    def answer(payload: dict[str, Any]) -> Reply:
        if "max_tokens" in payload:
            return (
                400,
                oai_error(
                    "Unsupported parameter: 'max_tokens' is not supported with this model. "
                    "Use 'max_completion_tokens' instead.",
                    param="max_tokens",
                    code="unsupported_parameter",
                ),
                {},
            )
        if "temperature" in payload:
            return (
                400,
                oai_error(
                    f"Unsupported value: 'temperature' does not support {payload['temperature']}"
                    " with this model. Only the default (1) value is supported.",
                    param="temperature",
                    code="unsupported_value",
                ),
                {},
            )
        if refuse_system and has_system(payload):
            return (
                400,
                oai_error(
                    "Unsupported value: 'messages[0].role' does not support 'system' with this "
                    "model.",
                    param="messages[0].role",
                    code="unsupported_value",
                ),
                {},
            )
        return ok(completion("pong"))

    return answer


def thinks_first(empty: Callable[[], dict[str, Any]], answer: Any, room: int = 100) -> Responder:
    """A reasoning model: below ``room`` tokens the budget goes to thinking."""

    def reply(payload: dict[str, Any]) -> Reply:
        return ok(empty() if budget(payload) < room else completion(answer))

    return reply


def always(status: int, body: Any, headers: dict[str, str] | None = None) -> Responder:
    return lambda _payload: (status, body, headers or {})


def mct_then_budget(payload: dict[str, Any]) -> Reply:
    """gpt-5-nano: refuses max_tokens; with 10 completion tokens it only reasons."""
    if "max_tokens" in payload:
        return openai_reasoning()(payload)
    if budget(payload) < 100:
        return ok(completion("", "length"))
    return ok(completion("Pong."))


def audio_budget_error(payload: dict[str, Any]) -> Reply:
    if budget(payload) < 100:
        return (
            400,
            oai_error(
                "Could not finish the message because max_tokens or model output limit was "
                "reached. Please try again with higher max_tokens."
            ),
            {},
        )
    return ok(completion("pong"))


class RateLimited:
    """429 with Retry-After once, then pong."""

    def __init__(self, retry_after: str, body: Any) -> None:
        self.retry_after, self.body, self.sent = retry_after, body, 0

    def fresh(self) -> RateLimited:
        """A copy that has not answered yet (the scenarios run once per database backend)."""
        return RateLimited(self.retry_after, self.body)

    def __call__(self, payload: dict[str, Any]) -> Reply:
        self.sent += 1
        if self.sent == 1:
            return 429, self.body, {"Retry-After": self.retry_after}
        return ok(completion("pong"))


GROQ_RATE = {
    "error": {
        "message": "Rate limit reached for model `m` on tokens per minute (TPM). Please try "
        "again in 0.2s.",
        "type": "tokens",
        "code": "rate_limit_exceeded",
    }
}

# model id -> (responder, expected verdict, expected chat requests, stored style)
SCENARIOS: dict[str, tuple[Responder, Verdict, int, str | None]] = {
    # OpenAI
    "openai/gpt-4.1": (always(200, completion("Pong!")), Verdict.VALID, 1, "classic"),
    "openai/gpt-5": (openai_reasoning(), Verdict.VALID, 3, "mct+notemp"),
    "openai/o1-mini": (openai_reasoning(refuse_system=True), Verdict.VALID, 4, "mct+notemp+nosys"),
    "openai/gpt-5-nano": (mct_then_budget, Verdict.VALID, 3, "mct+big"),
    "openai/gpt-audio": (audio_budget_error, Verdict.VALID, 2, "big"),
    "openai/davinci-002": (
        always(
            404,
            oai_error(
                "This is not a chat model and thus not supported in the v1/chat/completions "
                "endpoint. Did you mean to use v1/completions?",
                param="model",
            ),
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    "openai/gpt-3.5-turbo-0613": (
        always(
            404,
            oai_error(
                "The model `gpt-3.5-turbo-0613` has been deprecated, learn more here: "
                "https://platform.openai.com/docs/deprecations",
                code="model_not_found",
            ),
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    "openai/logprobs-refused": (
        always(
            400,
            oai_error(
                "Unsupported parameter: 'logprobs' is not supported with this model.",
                param="logprobs",
                code="unsupported_parameter",
            ),
        ),
        Verdict.INCONCLUSIVE,
        1,
        None,
    ),
    # DeepSeek reasoner: content "" and reasoning_content, cut off at a small budget
    "deepseek/deepseek-reasoner": (
        thinks_first(lambda: completion("", "length", reasoning_content="The user says"), "Pong"),
        Verdict.VALID,
        2,
        "big",
    ),
    # Groq gpt-oss: `reasoning`, still empty with the larger budget
    "groq/openai/gpt-oss-120b": (
        thinks_first(
            lambda: completion("", "length", reasoning="We need to answer"), "x", room=10**6
        ),
        Verdict.INCONCLUSIVE,
        2,
        "big",
    ),
    "groq/llama-3.3-70b-versatlie": (
        always(
            404,
            {
                "error": {
                    "message": "The model `llama-3.3-70b-versatlie` does not exist or you do "
                    "not have access to it.",
                    "type": "invalid_request_error",
                    "code": "model_not_found",
                }
            },
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    # Together DeepSeek-R1: an inline <think> block cut off, then closed before the answer
    "together/deepseek-ai/DeepSeek-R1": (
        thinks_first(
            lambda: completion("<think>\nHmm, the user just said", "length"),
            "<think>\nThey want pong.\n</think>\n\nPong",
        ),
        Verdict.VALID,
        2,
        "big",
    ),
    "together/bad model": (
        always(
            404,
            {
                "id": "x",
                "error": {
                    "message": "Unable to access model bad model. Please visit "
                    "https://api.together.ai/models to view the list of supported models.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_available",
                },
            },
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    # Mistral Magistral: content as a list of parts, thinking first
    "mistral/magistral-medium": (
        always(
            200,
            completion(
                [
                    {"type": "thinking", "thinking": [{"type": "text", "text": "Say it."}]},
                    {"type": "text", "text": "Pong"},
                ]
            ),
        ),
        Verdict.VALID,
        1,
        "classic",
    ),
    "mistral/magistral-chatty": (  # only the thinking says pong: the answer does not
        always(
            200,
            completion(
                [
                    {"type": "thinking", "thinking": [{"type": "text", "text": "pong"}]},
                    {"type": "text", "text": "Hello there"},
                ]
            ),
        ),
        Verdict.INVALID,
        1,
        "classic",
    ),
    "mistral/bad model": (
        always(
            400,
            {
                "object": "error",
                "message": "Invalid model: bad model",
                "type": "invalid_model",
                "param": None,
                "code": "1500",
            },
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    "mistral/validation": (
        always(
            422,
            {"detail": [{"type": "missing", "loc": ["body", "x"], "msg": "Field required"}]},
        ),
        Verdict.INCONCLUSIVE,
        1,
        None,
    ),
    # Perplexity sonar-reasoning: thinking inline, then the answer
    "perplexity/sonar-reasoning": (
        always(200, completion("<think>\nThe user says ping.\n</think>\nPong!")),
        Verdict.VALID,
        1,
        "classic",
    ),
    # Azure OpenAI: a content filter stop without a message; a missing deployment
    "azure/filtered": (
        always(200, {"choices": [{"index": 0, "finish_reason": "content_filter"}]}),
        Verdict.INCONCLUSIVE,
        1,
        "classic",
    ),
    "azure/no-deployment": (
        always(
            404,
            {
                "error": {
                    "code": "DeploymentNotFound",
                    "message": "The API deployment for this resource does not exist.",
                }
            },
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    # Cerebras: no content key at all when cut off; unwrapped errors
    "cerebras/gpt-oss-120b": (
        thinks_first(lambda: completion(..., "length", reasoning="Okay"), "pong"),
        Verdict.VALID,
        2,
        "big",
    ),
    "cerebras/bad model": (
        always(
            404,
            {
                "message": "Model bad model does not exist or you do not have access to it.",
                "type": "not_found_error",
                "param": "model",
                "code": "model_not_found",
            },
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    # OpenRouter: content null plus reasoning; integer error codes
    "openrouter/qwen/qwen3.5-35b": (
        thinks_first(lambda: completion(None, "length", reasoning="Thinking"), "pong."),
        Verdict.VALID,
        2,
        "big",
    ),
    "openrouter/bad/model": (
        always(400, {"error": {"message": "bad/model is not a valid model ID", "code": 400}}),
        Verdict.INVALID,
        1,
        None,
    ),
    # llama.cpp: reasoning_content and an empty answer, whatever the budget
    "llamacpp/gemma-thinking": (
        always(200, completion("", "length", reasoning_content="Let me think")),
        Verdict.INCONCLUSIVE,
        2,
        "big",
    ),
    # Xiaomi MiMo, Hugging Face router, Ollama, vLLM: "model not found" in their own words
    "xiaomi/bad model": (
        always(
            400,
            {
                "error": {
                    "code": "400",
                    "message": "Param Incorrect",
                    "param": "Not supported model bad model",
                }
            },
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    "hf/bad model": (
        always(
            400,
            oai_error(
                "The requested model 'bad model' does not exist.",
                param="model",
                code="model_not_found",
            ),
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    "ollama/gemma3:12b": (
        always(
            404,
            oai_error('model "gemma3:12b" not found, try pulling it first', type_="api_error"),
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    "vllm/no-such-model": (
        always(
            404,
            {
                "object": "error",
                "message": "The model `no-such-model` does not exist.",
                "type": "NotFoundError",
                "param": None,
                "code": 404,
            },
        ),
        Verdict.INVALID,
        1,
        None,
    ),
    # DashScope: a 400 about something the ping does not send is no verdict on the model
    "dashscope/qwen3-max": (
        always(
            400,
            oai_error(
                "<400> InternalError.Algo.InvalidParameter: The tool_choice parameter does not "
                "support being set to required or object in thinking mode",
                code="invalid_parameter_error",
            ),
        ),
        Verdict.INCONCLUSIVE,
        1,
        None,
    ),
    # Rate limits: Retry-After honoured when it fits, not when it does not
    "groq/rate-limited": (RateLimited("0.2", GROQ_RATE), Verdict.VALID, 2, "classic"),
    "mistral/rate-limited-long": (
        RateLimited("3600", {"message": "Requests rate limit exceeded"}),
        Verdict.INCONCLUSIVE,
        1,
        None,
    ),
}

# model id -> (responder, chat requests) for answers that reveal a provider problem
PROBLEMS: dict[str, tuple[Responder, int]] = {
    "openai/bad-key": (
        always(
            401,
            oai_error(
                "Incorrect API key provided: sk-pings-S***. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            ),
        ),
        1,
    ),
    "openai/no-quota": (
        always(
            429,
            oai_error(
                "You exceeded your current quota, please check your plan and billing details.",
                type_="insufficient_quota",
                code="insufficient_quota",
            ),
            {"Retry-After": "0"},
        ),
        1,
    ),
    "deepseek/no-balance": (
        always(
            402,
            oai_error("Insufficient Balance", type_="unknown_error", code="invalid_request_error"),
        ),
        1,
    ),
    "openrouter/no-credits": (
        always(
            402,
            {"error": {"message": "This request requires more credits", "code": 402}},
        ),
        1,
    ),
    "gemini/bad-key": (
        always(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                    "details": [{"reason": "API_KEY_INVALID"}],
                }
            },
        ),
        1,
    ),
    "xai/bad-key": (
        always(
            400,
            {
                "code": "Client specified an invalid argument",
                "error": "Incorrect%20API%20key%20provided:%20sk***.",
            },
        ),
        1,
    ),
    "baseten/bad-key": (always(403, {"error": "please check the api-key you provided"}), 1),
    "mistral/bad-key": (always(401, {"detail": "Unauthorized"}), 1),
    "perplexity/bad-key": (
        always(401, "<html><head><title>401 Authorization Required</title></head></html>"),
        1,
    ),
}


class Emulator:
    """Answers /chat/completions per model with the scenario's responder; counts requests."""

    def __init__(self, httpserver: HTTPServer, models: list[str]) -> None:
        self.responders: dict[str, Responder] = {}
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.models = models
        httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
            self.chat
        )
        httpserver.expect_request("/v1/models", method="GET").respond_with_handler(self.listing)
        self.base_url = httpserver.url_for("/v1")

    def listing(self, _request: Request) -> Response:
        body = {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
        return Response(json.dumps(body), 200, content_type="application/json")

    def chat(self, request: Request) -> Response:
        payload = json.loads(request.get_data())
        model = payload["model"]
        self.sent.append((model, payload))
        status, body, headers = self.responders[model](payload)
        text = body if isinstance(body, str) else json.dumps(body)
        kind = "text/html" if isinstance(body, str) else "application/json"
        return Response(text, status, headers=headers, content_type=kind)

    def count(self, model: str | None = None) -> int:
        return sum(1 for sent, _ in self.sent if model is None or sent == model)


@pytest.fixture
def service(store: ProviderStore) -> Iterator[ModelDiscoveryService]:
    client = ProviderClient(connect_timeout=1, read_timeout=2, deadline=10, max_retry_after=2)
    with ModelDiscoveryService(store, client=client) as made:
        yield made


def add_provider(store: ProviderStore, base_url: str, key: str = "p") -> ProviderConfig:
    store.save_config(key, ProviderConfig(base_api_url=base_url, api_key=KEY))
    return store.get_config(key)


def stored_style(store: ProviderStore, model: str) -> str | None:
    with store.read() as session:
        return session.exec(select(Model.ping_style).where(Model.model_id == model)).one()


# -- one ping per scenario --


@pytest.mark.parametrize("model", sorted(SCENARIOS))
@pytest.mark.above_the_store
def test_ping_scenario(
    model: str, store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer
) -> None:
    responder, verdict, requests, style = SCENARIOS[model]
    if isinstance(responder, RateLimited):
        responder = responder.fresh()
    fake = Emulator(httpserver, [model])
    fake.responders[model] = responder
    config = add_provider(store, fake.base_url)

    result = service.check_model(config, model)

    assert (result.verdict, fake.count()) == (verdict, requests), result.reason
    assert result.problem is None
    assert stored_style(store, model) == style
    assert store.load_verdicts("p")[model].verdict is verdict
    assert KEY not in result.reason


def test_adapted_requests_change_only_what_was_refused(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer
) -> None:
    fake = Emulator(httpserver, ["o1-mini"])
    fake.responders["o1-mini"] = openai_reasoning(refuse_system=True)
    config = add_provider(store, fake.base_url)

    assert service.check_model(config, "o1-mini").valid
    first, *_, last = (payload for _, payload in fake.sent)
    assert first["max_tokens"] == 10 and first["temperature"] == 0.1 and has_system(first)
    assert last["max_completion_tokens"] == 10
    assert "max_tokens" not in last and "temperature" not in last
    assert [m["role"] for m in last["messages"]] == ["user"]
    assert "pong" in last["messages"][0]["content"] and "ping" in last["messages"][0]["content"]


@pytest.mark.parametrize("model", sorted(PROBLEMS))
@pytest.mark.above_the_store
def test_provider_problem_is_inconclusive_and_named(
    model: str, store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer
) -> None:
    responder, requests = PROBLEMS[model]
    fake = Emulator(httpserver, [model])
    fake.responders[model] = responder
    config = add_provider(store, fake.base_url)

    result = service.check_model(config, model)

    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.problem is not None and KEY not in result.problem
    assert fake.count() == requests
    assert store.rows.read_problem("p")[0] == result.problem

    fake.responders[model] = always(200, completion("pong"))
    assert service.check_model(config, model, force=True).valid
    assert store.rows.read_problem("p") == (None, None)


# -- runs: remember the style, stop on a provider problem --


def test_second_run_sends_one_request_per_model(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer
) -> None:
    models = [f"gpt-5-{i}" for i in range(20)] + ["o1-mini-a", "o1-mini-b", "gpt-4.1"]
    fake = Emulator(httpserver, models)
    for model in models:
        fake.responders[model] = openai_reasoning(refuse_system=model.startswith("o1"))
    fake.responders["gpt-4.1"] = always(200, completion("pong"))
    add_provider(store, fake.base_url)
    options = DiscoveryOptions.build(force_refresh=True, per_provider=4)

    first = run_discovery(store.load_configs(), service, options, store=store)
    assert first.ok and first.providers[0].valid == len(models)
    assert fake.count() == 20 * 3 + 2 * 4 + 1

    fake.sent.clear()
    second = run_discovery(store.load_configs(), service, options, store=store)
    assert second.ok and second.providers[0].valid == len(models)
    assert fake.count() == len(models)
    assert all(fake.count(model) == 1 for model in models)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, _err = helpers.run_cli(capsys, *args)
    return code, out


def test_a_rejected_key_costs_one_request_and_is_recorded_until_a_run_gets_through(
    db_url: str,
    store: ProviderStore,
    service: ModelDiscoveryService,
    httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    models = [f"m{i:03d}" for i in range(40)]
    fake = Emulator(httpserver, models)
    bad_key = PROBLEMS["openai/bad-key"][0]
    for model in models:
        fake.responders[model] = bad_key
    store.save_config(
        "p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY, valid_models={"m001": "one"})
    )
    options = DiscoveryOptions.build(per_provider=8)
    # The list comes from the cache, so the key is not proven: the first ping goes alone.
    # (A list fetched in the same run proves the key and the pings start together.)
    store.rows.write_cache("p", [{"id": m} for m in models], fetched_at=utc_now())

    report = run_discovery(store.load_configs(), service, options, store=store)

    summary = report.providers[0]
    assert fake.count() == 1
    assert report.ok and report.persisted
    assert summary.problem is not None and "API key rejected" in summary.problem
    assert summary.inconclusive == len(models) and summary.invalid == 0
    assert store.get_config("p").valid_models == {"m001": "one"}  # nothing we knew is erased
    problem, at = store.rows.read_problem("p")
    assert problem == summary.problem and at is not None and KEY not in problem

    code, out = run_cli(capsys, "--db", db_url, "providers", "list")
    assert code == 0
    lines = [line for line in out.splitlines() if "provider problem" in line]
    assert len(lines) == 1 and lines[0].startswith("p: provider problem")

    for model in models:
        fake.responders[model] = always(200, completion("pong"))
    fake.sent.clear()
    again = run_discovery(store.load_configs(), service, options, store=store)
    assert again.ok and again.providers[0].problem is None
    assert again.providers[0].valid == len(models)
    assert store.rows.read_problem("p") == (None, None)
    code, out = run_cli(capsys, "--db", db_url, "providers", "list")
    assert "provider problem" not in out


@pytest.mark.above_the_store
def test_discover_command_shows_the_problem_on_one_line(
    db_url: str, store: ProviderStore, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    models = ["a", "b", "c"]
    fake = Emulator(httpserver, models)
    for model in models:
        fake.responders[model] = PROBLEMS["deepseek/no-balance"][0]
    add_provider(store, fake.base_url, key="deepseek")

    code, out = run_cli(capsys, "--db", db_url, "discover", "deepseek")

    assert code == 0
    lines = [line for line in out.splitlines() if "provider problem" in line]
    assert len(lines) == 1 and "out of credit" in lines[0] and KEY not in out
    # The list was just fetched with the key, so the pings start together: one round at most.
    assert 1 <= fake.count() <= DiscoveryOptions.build().per_provider


def test_a_learnt_style_survives_an_inconclusive_ping(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer
) -> None:
    fake = Emulator(httpserver, ["gpt-5"])
    fake.responders["gpt-5"] = openai_reasoning()
    config = add_provider(store, fake.base_url)
    assert service.check_model(config, "gpt-5").valid

    fake.responders["gpt-5"] = always(503, oai_error("overloaded", type_="server_error"))
    assert service.check_model(config, "gpt-5", force=True).verdict is Verdict.INCONCLUSIVE
    assert stored_style(store, "gpt-5") == "mct+notemp"

    fake.responders["gpt-5"] = openai_reasoning()
    fake.sent.clear()
    assert service.check_model(config, "gpt-5", force=True).valid
    assert fake.count() == 1


# -- the pure parts --


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("Pong.", "Pong."),
        ("<think>\nping means pong\n</think>\n\nHi", "Hi"),
        ("<THINKING>x</THINKING>pong", "pong"),
        ("<think>\nstill thinking when the budget ran out", ""),
        ("the server dropped the opening tag</think>\nPong", "Pong"),
        ([{"type": "text", "text": "Po"}, {"type": "text", "text": "ng"}], "Pong"),
        ([{"type": "thinking", "thinking": "pong"}, {"type": "text", "text": ""}], ""),
        (None, ""),
        (42, ""),
    ],
)
def test_answer_text_ignores_thinking(content: Any, text: str) -> None:
    answer = read_chat_completion(json.dumps(completion(content)).encode())
    assert answer.text == text
    assert answer.kind is (AnswerKind.TEXT if text else AnswerKind.EMPTY)


def test_reasoning_fields_are_not_the_answer() -> None:
    body = completion("", "length", reasoning_content="pong", reasoning="pong")
    answer = read_chat_completion(json.dumps(body).encode())
    assert (answer.kind, answer.cut_off) == (AnswerKind.EMPTY, True)


@pytest.mark.parametrize("body", [b"<html>502</html>", b"[]", b'{"choices": []}', b'{"id": 1}'])
def test_a_body_that_is_no_chat_completion_is_malformed(body: bytes) -> None:
    assert read_chat_completion(body).kind is AnswerKind.MALFORMED


def test_styles_round_trip_through_their_stored_text() -> None:
    styles = [
        PingStyle(),
        PingStyle(completion_tokens=True, no_temperature=True),
        PingStyle(True, True, True, True),
    ]
    for style in styles:
        assert PingStyle.decode(style.encode()) == style
        assert len(style.encode()) <= 40
    assert PingStyle.decode("nonsense+mct") == PingStyle(completion_tokens=True)
    assert PingStyle.decode(None) == PingStyle()


def gemma_without_system(payload: dict[str, Any]) -> Reply:
    if has_system(payload):
        body = {
            "error": {
                "code": 400,
                "message": "Developer instruction is not enabled for models/gemma-3-27b-it",
                "status": "INVALID_ARGUMENT",
            }
        }
        return 400, body, {}
    return ok(completion("pong\n"))


def old_server_without_completion_tokens(payload: dict[str, Any]) -> Reply:
    if "max_completion_tokens" in payload:
        body = oai_error(
            "Unsupported parameter: 'max_completion_tokens'", param="max_completion_tokens"
        )
        return 400, body, {}
    if "max_tokens" not in payload:
        return 400, oai_error("Unsupported parameter: 'max_tokens'", param="max_tokens"), {}
    return ok(completion("pong"))


@pytest.mark.above_the_store
def test_gemini_gemma_gets_the_instruction_in_the_user_message(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer
) -> None:
    fake = Emulator(httpserver, ["gemma-3-27b-it"])
    fake.responders["gemma-3-27b-it"] = gemma_without_system
    config = add_provider(store, fake.base_url)
    assert service.check_model(config, "gemma-3-27b-it").valid
    assert fake.count() == 2 and stored_style(store, "gemma-3-27b-it") == "nosys"


def test_a_remembered_style_the_provider_no_longer_accepts_is_undone_once(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer
) -> None:
    fake = Emulator(httpserver, ["m"])
    fake.responders["m"] = openai_reasoning()
    config = add_provider(store, fake.base_url)
    assert service.check_model(config, "m").valid  # learns mct+notemp

    fake.responders["m"] = old_server_without_completion_tokens
    fake.sent.clear()
    assert service.check_model(config, "m", force=True).valid
    assert fake.count() == 2 and stored_style(store, "m") == "notemp"

    fake.responders["m"] = always(
        400, oai_error("Unsupported parameter: 'max_tokens'", param="max_tokens")
    )
    fake.sent.clear()
    # the adapted request gets the same refusal: the ping ends there, inconclusive
    assert service.check_model(config, "m", force=True).verdict is Verdict.INCONCLUSIVE
    assert fake.count() == 2
