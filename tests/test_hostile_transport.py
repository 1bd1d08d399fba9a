"""Hostile answers the transport must survive: absurdly nested JSON and echoed (truncated) keys."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from provider_store import ProviderConfig, ProviderStore, ValidationResult, Verdict
from provider_store.discovery.service import ModelDiscoveryService, Source
from provider_store.errors import BadResponseError, ProviderHTTPError
from provider_store.providers.client import ProviderClient
from provider_store.providers.http_responses import scrub

KEY = "sk-PROJECT-12345-problem"
TRUNCATED = KEY[:-3]  # "sk-PROJECT-12345-prob", as providers echo it
DEEP = 100_000


def deep_list(depth: int = DEEP) -> str:
    return '{"data": [{"id": "x", "meta": ' + "[" * depth + "]" * depth + "}]}"


def no_run_of_the_key(text: str, key: str = KEY) -> bool:
    """True when no 8 consecutive characters of ``key`` appear in ``text``."""
    return all(key[i : i + 8] not in text for i in range(len(key) - 7))


def check(client: ProviderClient, base_url: str, model: str = "m") -> ValidationResult:
    """The verdict of one ping of ``model`` through the discovery service (a loose config)."""
    service = ModelDiscoveryService(client=client)
    return service.check_model(ProviderConfig(base_api_url=base_url, api_key=KEY), model)


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    with ProviderClient(deadline=10, retries=0) as made:
        yield made


# -- JSON nested 100,000 deep -----------------------------------------------------------------


@pytest.mark.parametrize("body", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP])
def test_deeply_nested_model_list_is_a_bad_response(
    httpserver: HTTPServer, client: ProviderClient, body: str
) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(body, content_type="application/json")
    with pytest.raises(BadResponseError, match="nested too deeply"):
        client.list_models(httpserver.url_for("/v1"), KEY)


def test_a_deep_value_inside_a_listed_item_is_a_bad_response(
    httpserver: HTTPServer, client: ProviderClient
) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        deep_list(), content_type="application/json"
    )
    with pytest.raises(BadResponseError, match="nested too deeply"):
        client.list_models(httpserver.url_for("/v1"), KEY)


def test_a_deeply_nested_ping_answer_is_a_bad_response(
    httpserver: HTTPServer, client: ProviderClient
) -> None:
    answer = '{"choices": [{"message": {"content": ' + "[" * DEEP + "]" * DEEP + "}}]}"
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        answer, content_type="application/json"
    )
    result = check(client, httpserver.url_for("/v1"))
    assert result.verdict is Verdict.INCONCLUSIVE and "nested too deeply" in result.reason


def test_a_deeply_nested_error_body_keeps_its_status(
    httpserver: HTTPServer, client: ProviderClient
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        "[" * DEEP + "]" * DEEP, status=400, content_type="application/json"
    )
    result = check(client, httpserver.url_for("/v1"))
    assert result.verdict is Verdict.INCONCLUSIVE and result.reason.startswith("HTTP 400")


def test_discovery_serves_stale_when_the_list_turns_deep(
    catalog_url: str, httpserver: HTTPServer, client: ProviderClient
) -> None:
    store = ProviderStore(catalog_url)
    try:
        store.save_config(
            "deep", ProviderConfig(name="Deep", base_api_url=httpserver.url_for("/v1"), api_key=KEY)
        )
        config = store.get_config("deep")
        with ModelDiscoveryService(store, client=client) as service:
            httpserver.expect_oneshot_request("/v1/models").respond_with_json(
                {"data": [{"id": "alpha"}]}
            )
            assert service.discover(config, force_refresh=True).source is Source.FRESH
            httpserver.expect_request("/v1/models").respond_with_data(
                deep_list(), content_type="application/json"
            )
            result = service.discover(config, force_refresh=True)
        assert result.source is Source.STALE
        assert [m["id"] for m in result.models] == ["alpha"]
        assert "nested too deeply" in (store.read_cache("deep").last_error or "")
    finally:
        store.close()


# -- a key echoed back, whole or truncated ----------------------------------------------------


@pytest.mark.parametrize(
    "echo",
    [KEY, TRUNCATED, KEY[3:11], KEY[5:], f"{KEY[:10]}...{KEY[-10:]}", KEY[2:14]],
)
def test_any_run_of_eight_characters_of_the_key_is_masked(echo: str) -> None:
    shown = scrub(f"Incorrect API key provided: {echo}. See the docs.", KEY)
    assert no_run_of_the_key(shown)
    assert shown.startswith("Incorrect API key provided: ") and shown.endswith(". See the docs.")


def test_masking_keeps_what_is_not_the_key() -> None:
    assert scrub(f"a {TRUNCATED} b {KEY} c {KEY[:7]} d", KEY) == f"a *** b *** c {KEY[:7]} d"
    assert scrub(f"{KEY}{TRUNCATED}", KEY) == "***"  # touching runs are one masked region
    assert scrub("nothing secret", KEY) == "nothing secret"
    assert scrub("short key: abc", "abc") == "short key: ***"
    assert scrub("anything", "") == "anything"


def test_masking_a_large_text_finds_a_key_buried_in_it() -> None:
    text = "x" * 1_000_000 + TRUNCATED + "y" * 1_000_000
    shown = scrub(text, KEY)
    assert len(shown) == 2_000_003 and no_run_of_the_key(shown)


def test_a_truncated_key_echoed_in_body_and_header_is_masked_everywhere(
    httpserver: HTTPServer, client: ProviderClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    error = {"error": {"message": f"Incorrect API key provided: {TRUNCATED}.", "code": "bad"}}
    httpserver.expect_request("/v1/models").respond_with_json(
        error, status=401, headers={"X-Echo": TRUNCATED}
    )
    httpserver.expect_request("/v1/chat/completions").respond_with_json(error, status=401)
    base = httpserver.url_for("/v1")
    with pytest.raises(ProviderHTTPError) as caught:
        client.list_models(base, KEY)
    result = check(client, base)
    texts = [str(caught.value), repr(caught.value), result.reason, repr(result), caplog.text]
    assert "Incorrect API key provided: ***" in str(caught.value)
    for text in texts:
        assert no_run_of_the_key(text), text


def test_a_truncated_key_in_a_redirect_target_is_masked(
    httpserver: HTTPServer, client: ProviderClient
) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        "", status=302, headers={"Location": f"http://other.invalid/{TRUNCATED}/models"}
    )
    with pytest.raises(BadResponseError, match="another host") as caught:
        client.list_models(httpserver.url_for("/v1"), KEY)
    assert no_run_of_the_key(str(caught.value))


def test_discovery_records_and_logs_the_failure_without_the_key(
    catalog_url: str,
    httpserver: HTTPServer,
    client: ProviderClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"error": {"message": f"key {TRUNCATED} revoked"}})
    httpserver.expect_request("/v1/models").respond_with_data(body, status=403)
    httpserver.expect_request("/v1/chat/completions").respond_with_data(body, status=403)
    store = ProviderStore(catalog_url)
    try:
        store.save_config(
            "echo", ProviderConfig(name="Echo", base_api_url=httpserver.url_for("/v1"), api_key=KEY)
        )
        config = store.get_config("echo")
        with ModelDiscoveryService(store, client=client) as service:
            result = service.discover(config, force_refresh=True)
            verdict = service.check_model(config, "m")
        stored = store.read_cache("echo").last_error or ""
    finally:
        store.close()
    assert "revoked" in stored
    for text in (stored, str(result.error), verdict.reason, caplog.text):
        assert no_run_of_the_key(text), text
