"""Model lists in the shapes real providers send, read through a loopback server.

Every body here is written for these tests in the shape of a provider's answer (see
``SOURCES.md`` of the recorded answers for where each shape was seen): the project never ships
third-party recordings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from provider_store.errors import BadResponseError, ProviderHTTPError
from provider_store.providers.base import ConnectionOptions
from provider_store.providers.client import ProviderClient
from provider_store.providers.list_pages import ListLimits, collect_pages, parse_page

KEY = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    with ProviderClient(connect_timeout=1, read_timeout=2, deadline=10, backoff=0.01) as made:
        yield made


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# One body per provider shape: (provider, body, expected ids).
SHAPES: list[tuple[str, Any, list[str]]] = [
    (
        "openai",
        {
            "object": "list",
            "data": [
                {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
                {"id": "whisper-1", "object": "model", "created": 1677532384, "owned_by": "x"},
            ],
        },
        ["gpt-4o", "whisper-1"],
    ),
    (
        "baseten (no object)",
        {"data": [{"id": "openai/gpt-oss-120b", "name": "OpenAI GPT 120B"}]},
        ["openai/gpt-oss-120b"],
    ),
    (
        "together (bare array)",
        [
            {"id": "meta-llama/Llama-3.3-70B", "type": "chat", "context_length": 131072},
            {"id": "BAAI/bge-large", "type": "embedding", "created": 0},
        ],
        ["meta-llama/Llama-3.3-70B", "BAAI/bge-large"],
    ),
    (
        "llama.cpp (models and data)",
        {
            "models": [{"name": "qwen.gguf", "model": "qwen.gguf", "capabilities": ["completion"]}],
            "object": "list",
            "data": [{"id": "unsloth/Qwen3-GGUF", "object": "model", "meta": {"n_ctx_train": 1}}],
        },
        ["unsloth/Qwen3-GGUF"],
    ),
    (
        "ollama /api/tags",
        {"models": [{"name": "gemma3:4b", "model": "gemma3:4b", "size": 3338801804}]},
        ["gemma3:4b"],
    ),
    ("ollama, nothing pulled", {"object": "list", "data": None}, []),
    (
        "cohere (models by name)",
        {"models": [{"name": "command-r-plus", "endpoints": ["chat"], "context_length": 128000}]},
        ["command-r-plus"],
    ),
    (
        "lm studio /api/v1/models (key)",
        {"models": [{"type": "llm", "key": "google/gemma-4", "display_name": "Gemma 4"}]},
        ["google/gemma-4"],
    ),
    (
        "heroku (bare array, model_id)",
        [{"model_id": "claude-4-sonnet", "type": ["text-to-text"], "regions": ["us"]}],
        ["claude-4-sonnet"],
    ),
    (
        "openrouter (total_count, links)",
        {
            "data": [
                {
                    "id": "anthropic/claude-sonnet-4",
                    "name": "Anthropic: Claude Sonnet 4",
                    "pricing": {"prompt": "0.000003", "completion": "0.000015"},
                }
            ],
            "total_count": 1,
            "links": {"next": None},
        },
        ["anthropic/claude-sonnet-4"],
    ),
    (
        "mistral (aliases repeat ids)",
        {
            "object": "list",
            "data": [
                {"id": "mistral-large-2411", "capabilities": {"completion_chat": True}},
                {"id": "mistral-large-latest", "aliases": ["mistral-large-2411"]},
                {"id": "mistral-large-2411", "capabilities": {"completion_chat": True}},
            ],
        },
        ["mistral-large-2411", "mistral-large-latest"],
    ),
    (
        "dashscope (has_more false, first_id/last_id)",
        {
            "object": "list",
            "data": [{"id": "qwen-max"}, {"id": "qwen-plus"}],
            "first_id": "model-id-0",
            "last_id": "model-id-1",
            "has_more": False,
        },
        ["qwen-max", "qwen-plus"],
    ),
]


@pytest.mark.parametrize(("provider", "body", "expected"), SHAPES, ids=[s[0] for s in SHAPES])
def test_every_list_shape_yields_its_ids(
    client: ProviderClient, httpserver: HTTPServer, provider: str, body: Any, expected: list[str]
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(body)
    assert ids(client.list_models(httpserver.url_for("/v1"), KEY)) == expected


def test_items_keep_their_raw_fields_and_a_gemini_name_keeps_its_prefix(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    item = {
        "name": "models/gemini-2.5-flash",
        "displayName": "Gemini 2.5 Flash",
        "inputTokenLimit": 1048576,
        "supportedGenerationMethods": ["generateContent"],
    }
    httpserver.expect_request("/v1/models").respond_with_json({"models": [item]})
    [listed] = client.list_models(httpserver.url_for("/v1"), KEY)
    assert listed == {**item, "id": "gemini-2.5-flash"}


def test_has_more_pages_are_followed_with_after_id_and_limit(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request("/v1/models", query_string="").respond_with_json(
        {"data": [{"id": "a"}, {"id": "b"}], "has_more": True, "first_id": "a", "last_id": "b"}
    )
    httpserver.expect_ordered_request(
        "/v1/models", query_string={"after_id": "b", "limit": "1000"}
    ).respond_with_json({"data": [{"id": "c"}], "has_more": True})
    httpserver.expect_ordered_request(
        "/v1/models", query_string={"after_id": "c", "limit": "1000"}
    ).respond_with_json({"data": [{"id": "d"}], "has_more": False, "last_id": "d"})
    assert ids(client.list_models(httpserver.url_for("/v1"), KEY)) == ["a", "b", "c", "d"]
    httpserver.check_assertions()


@pytest.mark.parametrize(
    ("token_key", "param"), [("next_page_token", "page_token"), ("nextPageToken", "pageToken")]
)
def test_page_tokens_are_followed(
    client: ProviderClient, httpserver: HTTPServer, token_key: str, param: str
) -> None:
    httpserver.expect_ordered_request("/v1/models", query_string="").respond_with_json(
        {"models": [{"name": "a"}], token_key: "tok/1="}
    )
    httpserver.expect_ordered_request(
        "/v1/models", query_string={param: "tok/1="}
    ).respond_with_json({"models": [{"name": "b"}], token_key: ""})
    assert ids(client.list_models(httpserver.url_for("/v1"), KEY)) == ["a", "b"]
    httpserver.check_assertions()


def test_a_failing_page_fails_the_whole_list(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models", query_string="").respond_with_json(
        {"data": [{"id": "a"}], "has_more": True, "last_id": "a"}
    )
    httpserver.expect_request(
        "/v1/models", query_string={"after_id": "a", "limit": "1000"}
    ).respond_with_json({"error": {"message": "boom"}}, status=400)
    with pytest.raises(ProviderHTTPError, match="HTTP 400"):
        client.list_models(httpserver.url_for("/v1"), KEY)


def test_a_paging_loop_is_an_error(client: ProviderClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(
        {"data": [{"id": "a"}], "has_more": True, "last_id": "a"}
    )
    with pytest.raises(BadResponseError, match="repeats a cursor"):
        client.list_models(httpserver.url_for("/v1"), KEY)


def test_pages_are_capped(client: ProviderClient, httpserver: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        after = int(request.args.get("page_token", "0"))
        body = {"data": [{"id": f"m{after}"}], "next_page_token": str(after + 1)}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/models").respond_with_handler(endless)
    options = ConnectionOptions.from_mapping({"max_pages": 5})
    with pytest.raises(BadResponseError, match="more than 5 pages"):
        client.list_models(httpserver.url_for("/v1"), KEY, options=options)
    assert len(httpserver.log) == 5


def test_more_models_than_the_cap_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(
        {"data": [{"id": f"m{i}"} for i in range(11)]}
    )
    with ProviderClient(deadline=10, max_models=10) as small:
        with pytest.raises(BadResponseError, match="more than 10 models, the per-provider cap"):
            small.list_models(httpserver.url_for("/v1"), KEY)
        options = ConnectionOptions.from_mapping({"max_models": 11})
        assert len(small.list_models(httpserver.url_for("/v1"), KEY, options=options)) == 11


def test_the_cap_counts_every_page(client: ProviderClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models", query_string="").respond_with_json(
        {"data": [{"id": "a"}, {"id": "b"}], "has_more": True, "last_id": "b"}
    )
    httpserver.expect_request("/v1/models").respond_with_json(
        {"data": [{"id": "c"}, {"id": "d"}], "has_more": False}
    )
    options = ConnectionOptions.from_mapping({"max_models": 3})
    with pytest.raises(BadResponseError, match="more than 3 models"):
        client.list_models(httpserver.url_for("/v1"), KEY, options=options)


@pytest.mark.parametrize(
    "body",
    [
        {"object": "list", "models": ["a"]},  # items that are not objects
        {"object": "list", "data": {"id": "a"}},  # data is not a list
        {"object": "list"},  # no list at all
        {"data": [{"id": 7}]},  # an id that is not a string
        {"data": [{"object": "model"}]},  # no id field at all
        "just a string",
        [1, 2],
    ],
)
def test_garbage_lists_are_bad_responses(
    client: ProviderClient, httpserver: HTTPServer, body: Any
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(body)
    with pytest.raises(BadResponseError):
        client.list_models(httpserver.url_for("/v1"), KEY)


@pytest.mark.parametrize(
    "hostile",
    ["nul\u0000id", "lone\ud800surrogate", "tab\tid", "new\nline", "bell\u0007", "x" * 501, ""],
)
def test_hostile_ids_are_skipped_and_counted(
    client: ProviderClient,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    hostile: str,
) -> None:
    body = json.dumps({"data": [{"id": "good"}, {"id": hostile}, {"id": "x" * 500}]})
    httpserver.expect_request("/v1/models").respond_with_data(body, content_type="application/json")
    with caplog.at_level(logging.WARNING):
        listed = client.list_models(httpserver.url_for("/v1"), KEY)
    assert ids(listed) == ["good", "x" * 500]
    [warning] = [r for r in caplog.records if "unusable ids" in r.getMessage()]
    assert "skipped 1 listed model(s)" in warning.getMessage()


def test_nul_and_lone_surrogates_elsewhere_in_an_item_are_replaced(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    body = '{"data": [{"id": "m", "owned_by": "a\\u0000b\\udc00c", "tags": ["\\ud83d\\ude00"]}]}'
    httpserver.expect_request("/v1/models").respond_with_data(body, content_type="application/json")
    [item] = client.list_models(httpserver.url_for("/v1"), KEY)
    assert item == {"id": "m", "owned_by": "a\ufffdb\ufffdc", "tags": ["\U0001f600"]}


def test_a_huge_list_stops_at_the_cap_without_reading_further() -> None:
    good = json.dumps({"data": [{"id": f"m{i}"} for i in range(1000)]})
    assert len(parse_page("http://h/v1/models", good.encode(), room=1000).items) == 1000
    # One item past the cap, then bytes that are not even JSON: the scan stops before them.
    past = good[:-2] + ', {"id": "x"}, {not json at all'
    with pytest.raises(BadResponseError, match="more models than the cap"):
        parse_page("http://h/v1/models", past.encode(), room=1000)
    with pytest.raises(BadResponseError, match="did not answer JSON"):
        parse_page("http://h/v1/models", past.encode(), room=2000)


def test_collect_pages_never_returns_part_of_a_list() -> None:
    pages = [b'{"data": [{"id": "a"}], "has_more": true}', b"{not json"]

    def fetch(query: Any) -> bytes:
        return pages.pop(0)

    with pytest.raises(BadResponseError, match="did not answer JSON"):
        collect_pages("http://h/v1/models", fetch, ListLimits())


def test_deeply_nested_items_are_a_bad_response_not_a_recursion_error(
    client: ProviderClient, httpserver: HTTPServer
) -> None:
    deep = '{"data": [{"id": "a", "x": ' + "[" * 100_000 + "]" * 100_000 + "}]}"
    httpserver.expect_request("/v1/models").respond_with_data(deep, content_type="application/json")
    with pytest.raises(BadResponseError, match="nested too deeply"):
        client.list_models(httpserver.url_for("/v1"), KEY)
