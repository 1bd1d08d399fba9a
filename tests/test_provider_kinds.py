"""Provider kinds (openai, anthropic, gemini) and connection options (Azure) over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from provider_store import ModelDiscoveryService, ProviderClient, ProviderConfig, ProviderStore
from provider_store.catalog.states import Verdict
from provider_store.discovery.verdicts import judge
from provider_store.errors import BadResponseError, OptionsError
from provider_store.providers.anthropic import AnthropicKind
from provider_store.providers.base import ConnectionOptions, ProviderKind
from provider_store.providers.gemini import GeminiKind
from provider_store.providers.kinds import kind_for
from provider_store.providers.openai import OpenAICompatible
from provider_store.providers.ping import PingOutcome, run_ping
from provider_store.providers.ping_replies import AnswerKind

KEY = "sk-test-SECRET-0123456789abcdef"
NO_OPTIONS = ConnectionOptions()


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    with ProviderClient(connect_timeout=1, read_timeout=2, deadline=10, backoff=0.01) as made:
        yield made


def ping(
    client: ProviderClient,
    kind: ProviderKind,
    base_url: str,
    model: str,
    options: ConnectionOptions = NO_OPTIONS,
) -> PingOutcome:
    """One ping of ``model`` through the ping driver, in ``kind``'s dialect."""
    return run_ping(
        lambda style: kind.ping_request(base_url, KEY, model, options, style),
        kind.read_answer,
        lambda request: client.send_ping(request, KEY),
    )


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def set_kind(store: ProviderStore, key: str, kind: str, options: dict[str, Any] | None) -> None:
    with store.transaction() as session:
        provider = store.rows.get_provider(key, session=session)
        provider.kind = kind
        provider.options = options
        session.add(provider)


# -- anthropic ---------------------------------------------------------------------------------

ANTHROPIC_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


def anthropic_item(model_id: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": model_id.title(),
        "created_at": "2025-05-22T00:00:00Z",
    }


def test_anthropic_lists_every_page_with_its_own_headers(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request(
        "/v1/models", query_string={"limit": "1000"}, headers=ANTHROPIC_HEADERS
    ).respond_with_json(
        {
            "data": [anthropic_item("claude-opus-5"), anthropic_item("claude-sonnet-5")],
            "has_more": True,
            "first_id": "claude-opus-5",
            "last_id": "claude-sonnet-5",
        }
    )
    httpserver.expect_ordered_request(
        "/v1/models",
        query_string={"after_id": "claude-sonnet-5", "limit": "1000"},
        headers=ANTHROPIC_HEADERS,
    ).respond_with_json(
        {"data": [anthropic_item("claude-haiku-4")], "has_more": False, "last_id": "x"}
    )
    listed = AnthropicKind(client).list_models(httpserver.url_for("/v1"), KEY, NO_OPTIONS)
    assert ids(listed) == ["claude-opus-5", "claude-sonnet-5", "claude-haiku-4"]
    assert listed[0]["created_at"] == "2025-05-22T00:00:00Z"
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)
    httpserver.check_assertions()


def test_anthropic_pings_through_the_messages_api(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(
        "/v1/messages", method="POST", headers=ANTHROPIC_HEADERS
    ).respond_with_json(
        {
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "They want pong.", "signature": "s"},
                {"type": "text", "text": "Pong"},
            ],
            "stop_reason": "end_turn",
        }
    )
    outcome = ping(client, AnthropicKind(client), httpserver.url_for("/v1"), "claude-x")
    assert judge(outcome).verdict is Verdict.VALID and outcome.reply.status == 200
    assert outcome.answer is not None and outcome.answer.text == "Pong"
    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent["model"] == "claude-x" and sent["messages"] == [{"role": "user", "content": "ping"}]
    assert "pong" in sent["system"] and sent["max_tokens"] == 10 and sent["temperature"] == 0.1


def test_anthropic_errors_are_judged_from_their_body_without_the_key(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        {
            "type": "error",
            "error": {"type": "not_found_error", "message": f"model: nope ({KEY})"},
        },
        status=404,
    )
    config = ProviderConfig(base_api_url=httpserver.url_for("/v1"), api_key=KEY, kind="anthropic")
    result = ModelDiscoveryService(client=client).check_model(config, "nope")
    assert result.verdict is Verdict.INVALID and "(HTTP 404)" in result.reason
    assert "model: nope" in result.reason and KEY not in result.reason


# -- gemini ------------------------------------------------------------------------------------


def test_gemini_lists_pages_with_page_tokens_and_strips_model_prefixes(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    headers = {"x-goog-api-key": KEY}
    httpserver.expect_ordered_request(
        "/v1beta/models", query_string={"pageSize": "1000"}, headers=headers
    ).respond_with_json(
        {
            "models": [{"name": "models/gemini-2.5-flash", "inputTokenLimit": 1048576}],
            "nextPageToken": "Ch9tb2RlbHM=",
        }
    )
    httpserver.expect_ordered_request(
        "/v1beta/models",
        query_string={"pageSize": "1000", "pageToken": "Ch9tb2RlbHM="},
        headers=headers,
    ).respond_with_json({"models": [{"name": "models/embedding-001"}]})
    listed = GeminiKind(client).list_models(httpserver.url_for("/v1beta"), KEY, NO_OPTIONS)
    assert ids(listed) == ["gemini-2.5-flash", "embedding-001"]
    assert listed[0]["name"] == "models/gemini-2.5-flash"
    assert all(KEY not in request.url for request, _ in httpserver.log)
    httpserver.check_assertions()


def test_gemini_pings_through_generate_content_and_ignores_thoughts(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        method="POST",
        headers={"x-goog-api-key": KEY},
    ).respond_with_json(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"text": "pong is wanted", "thought": True}, {"text": "Pong!"}],
                    },
                    "finishReason": "STOP",
                }
            ]
        }
    )
    gemini = GeminiKind(client)
    outcome = ping(client, gemini, httpserver.url_for("/v1beta"), "gemini-2.5-flash")
    assert judge(outcome).verdict is Verdict.VALID
    assert outcome.answer is not None and outcome.answer.text == "Pong!"
    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "ping"}]}]
    assert sent["generationConfig"] == {"maxOutputTokens": 10, "temperature": 0.1}


def test_a_gemini_answer_with_only_thoughts_has_no_text_and_gets_a_larger_budget(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1beta/models/g:generateContent").respond_with_json(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": "Pong, I think", "thought": True}]},
                    "finishReason": "MAX_TOKENS",
                }
            ]
        }
    )
    outcome = ping(client, GeminiKind(client), httpserver.url_for("/v1beta"), "g")
    assert outcome.answer is not None and outcome.answer.kind is AnswerKind.EMPTY
    assert judge(outcome).verdict is Verdict.INCONCLUSIVE
    budgets = [
        json.loads(r.get_data())["generationConfig"]["maxOutputTokens"] for r, _ in httpserver.log
    ]
    assert budgets == [10, 512]


# -- Azure OpenAI: configured, not coded -------------------------------------------------------

AZURE = {"auth_header": "api-key", "query": {"api-version": "2024-10-21"}}


def test_azure_is_the_openai_kind_with_an_api_key_header_and_an_api_version(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    options = ConnectionOptions.from_mapping(AZURE)
    httpserver.expect_request(
        "/openai/v1/models", query_string={"api-version": "2024-10-21"}, headers={"api-key": KEY}
    ).respond_with_json({"object": "list", "data": [{"id": "gpt-4o"}]})
    httpserver.expect_request(
        "/openai/v1/chat/completions",
        method="POST",
        query_string={"api-version": "2024-10-21"},
        headers={"api-key": KEY},
    ).respond_with_json({"choices": [{"message": {"role": "assistant", "content": "pong"}}]})
    kind = OpenAICompatible(client)
    base = httpserver.url_for("/openai/v1")
    assert ids(kind.list_models(base, KEY, options)) == ["gpt-4o"]
    assert judge(ping(client, kind, base, "gpt-4o", options)).verdict is Verdict.VALID
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)


def test_a_key_in_any_header_never_follows_a_redirect_to_another_host(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        other.expect_request("/v1/models").respond_with_json({"data": [{"id": "stolen"}]})
        httpserver.expect_request("/v1/models").respond_with_data(
            "", status=307, headers={"Location": other.url_for("/v1/models")}
        )
        options = ConnectionOptions.from_mapping(AZURE)
        with pytest.raises(BadResponseError, match="redirected to another host"):
            OpenAICompatible(client).list_models(httpserver.url_for("/v1"), KEY, options)
        assert other.log == []
    finally:
        other.stop()


def test_options_shape_headers_and_auth_scheme() -> None:
    options = ConnectionOptions.from_mapping(
        {"auth_header": "Authorization", "auth_scheme": "Token", "headers": {"X-Org": "o1"}}
    )
    openai_kind = OpenAICompatible(ProviderClient())
    assert openai_kind.auth_headers("k", options) == {"X-Org": "o1", "Authorization": "Token k"}
    assert openai_kind.auth_headers("k", ConnectionOptions()) == {"Authorization": "Bearer k"}
    anthropic = AnthropicKind(ProviderClient())
    overridden = ConnectionOptions.from_mapping({"headers": {"anthropic-version": "2099-01-01"}})
    assert anthropic.auth_headers("k", overridden)["anthropic-version"] == "2099-01-01"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"auth_headr": "api-key"}, "unknown provider option 'auth_headr'"),
        ({"auth_header": "bad header"}, "'auth_header' must be a header name"),
        ({"query": ["api-version"]}, "'query' must be a mapping"),
        ({"headers": {"X-A": "line\nbreak"}}, "headers.X-A is not a usable header"),
        ({"max_models": 0}, "'max_models' must be a whole number from 1"),
        ({"max_pages": True}, "'max_pages' must be a whole number from 1"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        ConnectionOptions.from_mapping(options)


def test_an_unknown_kind_is_a_clear_error(client: ProviderClient) -> None:
    with pytest.raises(OptionsError, match="unknown provider kind 'cohere'"):
        kind_for("cohere", client)
    assert kind_for(None, client).name == "openai"


# -- the discovery service picks the adapter by the provider's kind ----------------------------


def pong_router(request: Request) -> Response:
    """A loopback server speaking all three dialects, by path."""
    path = request.path
    if path.endswith("/messages"):
        body: Any = {"content": [{"type": "text", "text": "pong"}]}
    elif path.endswith(":generateContent"):
        body = {"candidates": [{"content": {"parts": [{"text": "pong"}]}}]}
    elif path.endswith("/chat/completions"):
        body = {"choices": [{"message": {"content": "pong"}}]}
    elif request.headers.get("x-api-key") == KEY:
        body = {"data": [{"id": "claude-a"}], "has_more": False}
    elif request.headers.get("x-goog-api-key") == KEY:
        body = {"models": [{"name": "models/gemini-a"}]}
    elif request.headers.get("api-key") == KEY and request.args.get("api-version"):
        body = {"data": [{"id": "azure-a"}]}
    else:
        return Response(json.dumps({"error": {"message": "no key"}}), status=401)
    return Response(json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("kind", "options", "model"),
    [
        ("anthropic", None, "claude-a"),
        ("gemini", None, "gemini-a"),
        ("openai", AZURE, "azure-a"),
    ],
)
def test_the_service_lists_and_pings_by_the_providers_kind(
    store: ProviderStore,
    httpserver: HTTPServer,
    kind: str,
    options: dict[str, Any] | None,
    model: str,
) -> None:
    httpserver.expect_request("").respond_with_handler(pong_router)
    store.save_config("p", ProviderConfig(base_api_url=httpserver.url_for("/v1"), api_key=KEY))
    set_kind(store, "p", kind, options)
    config = store.get_config("p")
    with ModelDiscoveryService(store, client=ProviderClient(deadline=10)) as service:
        result = service.discover(config)
        assert result.error is None and ids(result.models) == [model]
        assert service.check_model(config, model).verdict is Verdict.VALID
    assert store.load_verdicts("p")[model].verdict is Verdict.VALID


def test_an_unknown_kind_fails_discovery_and_serves_what_is_known(
    store: ProviderStore, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("").respond_with_handler(pong_router)
    store.save_config("p", ProviderConfig(base_api_url=httpserver.url_for("/v1"), api_key=KEY))
    store.rows.write_cache("p", [{"id": "known"}], fetched_at=1.0)
    set_kind(store, "p", "klingon", None)
    config = store.get_config("p")
    with ModelDiscoveryService(store, client=ProviderClient(deadline=10)) as service:
        result = service.discover(config, force_refresh=True)
        assert ids(result.models) == ["known"]
        assert result.error is not None and "unknown provider kind 'klingon'" in str(result.error)
        check = service.check_model(config, "known")
        assert check.verdict is Verdict.INCONCLUSIVE and "klingon" in check.reason
    assert httpserver.log == []
