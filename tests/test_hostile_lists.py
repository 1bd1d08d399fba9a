"""Hostile and oversized model lists through the store-backed discovery, on every backend.

What discovery stores must always export to legacy YAML and import again; a list that fails
(one failing page, too many models) never replaces the last good one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from provider_store import ModelDiscoveryService, ProviderClient, ProviderConfig, ProviderStore
from provider_store.discovery.results import Source
from provider_store.discovery.run import run_discovery
from provider_store.discovery.run_report import DiscoveryOptions

KEY = "sk-test-SECRET-0123456789abcdef"
HOSTILE = ["nul\u0000id", "lone\ud800", "esc\u001b[31m", "del\u007f", "x" * 501, "nonchar\uffff"]
GOOD = ["gpt-4o", "Qwen/QwQ-32B", "ünïcødé-模型", "x" * 500]


def hostile_body() -> str:
    items = [{"id": model} for model in GOOD[:2] + HOSTILE[:3] + GOOD[2:] + HOSTILE[3:]]
    return json.dumps({"object": "list", "data": items})  # ensure_ascii: escapes reach the wire


def pong(request: Request) -> Response:
    body = {"choices": [{"message": {"role": "assistant", "content": "pong"}}]}
    return Response(json.dumps(body), content_type="application/json")


def serve(httpserver: HTTPServer, models_body: str) -> str:
    httpserver.expect_request("/v1/models").respond_with_data(
        models_body, content_type="application/json"
    )
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(pong)
    return httpserver.url_for("/v1")


def test_hostile_ids_are_skipped_and_the_catalog_still_round_trips(
    store: ProviderStore,
    httpserver: HTTPServer,
    tmp_path: Path,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = serve(httpserver, hostile_body())
    store.save_config("p", ProviderConfig(base_api_url=base, api_key=KEY))
    with ModelDiscoveryService(store, client=ProviderClient(deadline=10)) as service:
        with caplog.at_level(logging.WARNING):
            report = run_discovery(
                store.load_configs(), service, DiscoveryOptions.build(), store=store
            )
    assert report.ok and report.persisted
    [summary] = report.providers
    assert summary.error is None and summary.valid == len(GOOD)
    assert store.get_config("p").get_valid_models() == GOOD
    assert [m["id"] for m in store.read_cache("p").models or []] == GOOD
    assert any(
        "skipped 6 listed model(s) with unusable ids" in r.getMessage() for r in caplog.records
    )
    assert all(KEY not in r.getMessage() for r in caplog.records)

    exported = tmp_path / "catalog.yaml"
    store.export_yaml(exported)
    again = ProviderStore(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        again.import_yaml(exported)
        assert again.get_config("p").get_valid_models() == GOOD
        assert again.export_yaml_bytes() == store.export_yaml_bytes()
    finally:
        again.close()


def test_a_lone_surrogate_never_raises_out_of_discover(
    store: ProviderStore, httpserver: HTTPServer
) -> None:
    base = serve(httpserver, '{"data": [{"id": "\\udfff"}, {"id": "ok", "owned_by": "\\ud800"}]}')
    store.save_config("p", ProviderConfig(base_api_url=base, api_key=KEY))
    with ModelDiscoveryService(store, client=ProviderClient(deadline=10)) as service:
        result = service.discover(store.get_config("p"))
    assert result.error is None and result.source is Source.FRESH
    assert result.models == [{"id": "ok", "owned_by": "\ufffd"}]
    assert store.read_cache("p").models == [{"id": "ok", "owned_by": "\ufffd"}]


@pytest.mark.parametrize("failure", ["cap", "second page"])
def test_a_list_that_fails_serves_the_last_good_one(
    store: ProviderStore, httpserver: HTTPServer, failure: str
) -> None:
    def models(request: Request) -> Response:
        if failure == "cap":
            body: Any = {"data": [{"id": f"m{i}"} for i in range(6)]}
        elif "after_id" not in request.args:
            body = {"data": [{"id": "new"}], "has_more": True, "last_id": "new"}
        else:
            return Response("upstream broke", status=502)
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/models").respond_with_handler(models)
    store.save_config("p", ProviderConfig(base_api_url=httpserver.url_for("/v1"), api_key=KEY))
    store.rows.write_cache("p", [{"id": "old"}], fetched_at=1.0)
    client = ProviderClient(deadline=10, backoff=0.01, retries=0, max_models=5)
    with ModelDiscoveryService(store, client=client) as service:
        result = service.discover(store.get_config("p"), force_refresh=True)
    assert result.source is Source.STALE
    assert [m["id"] for m in result.models] == ["old"]
    expected = "more than 5 models, the per-provider cap" if failure == "cap" else "HTTP 502"
    assert result.error is not None and expected in str(result.error)
    assert [m["id"] for m in store.read_cache("p").models or []] == ["old"]


@pytest.mark.parametrize(("listed", "stored"), [(50, 50), (51, 1)])
def test_the_cap_set_in_the_providers_options_bounds_the_stored_list(
    store: ProviderStore, httpserver: HTTPServer, listed: int, stored: int
) -> None:
    body = json.dumps({"data": [{"id": f"m{i}"} for i in range(listed)]})
    base = serve(httpserver, body)
    store.save_config("p", ProviderConfig(base_api_url=base, api_key=KEY))
    store.rows.write_cache("p", [{"id": "old"}], fetched_at=1.0)
    with store.transaction() as session:
        provider = store.rows.get_provider("p", session=session)
        provider.options = {"max_models": 50}
        session.add(provider)
    with ModelDiscoveryService(store, client=ProviderClient(deadline=10)) as service:
        result = service.discover(store.get_config("p"), force_refresh=True)
    assert len(store.read_cache("p").models or []) == stored
    assert (result.error is None) == (listed == 50)
