"""Listed metadata is stored by discovery and shown by the library and the CLI.

A loopback provider (pytest-httpserver) answers ``GET /models`` with items in the shapes of
OpenRouter and Mistral, written for these tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import run_cli as run
from pytest_httpserver import HTTPServer

from provider_store import (
    ModelDiscoveryService,
    ModelInfo,
    NotFoundError,
    ProviderClient,
    ProviderConfig,
    ProviderStore,
)

ROUTER_ITEM: dict[str, Any] = {
    "id": "acme/sparrow-7b",
    "name": "Acme: Sparrow 7B",
    "created": 1750000000,
    "context_length": 131072,
    "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
    "pricing": {"prompt": "0.0000025", "completion": "0.00001"},
    "top_provider": {"max_completion_tokens": 8192},
    "supported_parameters": ["max_tokens", "tools", "reasoning"],
}
SMALL_ITEM: dict[str, Any] = {
    "id": "tiny-chat",
    "object": "model",
    "max_context_length": 8192,
    "capabilities": {"completion_chat": True, "function_calling": True, "vision": False},
}
PLAIN_ITEM: dict[str, Any] = {"id": "plain", "object": "model", "owned_by": "someone"}


def serve(server: HTTPServer, items: list[dict[str, Any]], status: int = 200) -> None:
    server.clear()
    server.expect_request("/v1/models").respond_with_json(
        {"object": "list", "data": items}, status=status
    )


@pytest.fixture
def provider(store: ProviderStore, httpserver: HTTPServer) -> str:
    store.save_config(
        "p",
        ProviderConfig(
            name="P",
            base_api_url=httpserver.url_for("/v1"),
            api_key="sk-meta-test",
            valid_models={"acme/sparrow-7b": "sparrow"},
            invalid_models=["plain"],
        ),
    )
    return "p"


@pytest.fixture
def service(store: ProviderStore) -> Iterator[ModelDiscoveryService]:
    client = ProviderClient(connect_timeout=1, read_timeout=1, deadline=5, backoff=0.01)
    with ModelDiscoveryService(store, client=client) as made:
        yield made
    client.close()


def refresh(store: ProviderStore, service: ModelDiscoveryService, key: str) -> None:
    service.discover_models(store.get_config(key), force_refresh=True)


def test_discovery_stores_each_listed_models_metadata(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer, provider: str
) -> None:
    serve(httpserver, [ROUTER_ITEM, SMALL_ITEM, PLAIN_ITEM])
    refresh(store, service, provider)

    info = store.model_info(provider, "acme/sparrow-7b")
    assert info == ModelInfo(
        id="acme/sparrow-7b",
        display_name="Acme: Sparrow 7B",
        created=1750000000,
        context_length=131072,
        max_output_tokens=8192,
        input_price=2.5,
        output_price=10.0,
        input_modalities=("image", "text"),
        output_modalities=("text",),
        capabilities=("reasoning", "tools", "vision"),
    )
    assert info.raw == ROUTER_ITEM
    infos = store.list_model_infos(provider)
    assert set(infos) == {"acme/sparrow-7b", "plain", "tiny-chat"}
    assert infos["tiny-chat"].capabilities == ("chat", "tools")
    assert infos["plain"] == ModelInfo(id="plain")
    with pytest.raises(NotFoundError, match="nope"):
        store.model_info(provider, "nope")
    with pytest.raises(NotFoundError, match="ghost"):
        store.model_info("ghost", "x")


def test_a_later_list_updates_values_but_never_erases_known_ones(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer, provider: str
) -> None:
    serve(httpserver, [ROUTER_ITEM])
    refresh(store, service, provider)
    thinner = {
        "id": "acme/sparrow-7b",
        "context_length": "garbage",
        "pricing": {"prompt": "0.000001"},
    }
    serve(httpserver, [thinner])
    refresh(store, service, provider)

    info = store.model_info(provider, "acme/sparrow-7b")
    assert info.input_price == 1.0  # what the provider says now
    assert info.context_length == 131072  # garbage now: the known value stays
    assert info.capabilities == ("reasoning", "tools", "vision")
    assert info.raw == thinner  # the raw item is the latest listing


def test_a_provider_that_fails_keeps_the_stored_metadata(
    store: ProviderStore, service: ModelDiscoveryService, httpserver: HTTPServer, provider: str
) -> None:
    serve(httpserver, [ROUTER_ITEM])
    refresh(store, service, provider)
    serve(httpserver, [], status=500)
    refresh(store, service, provider)
    assert store.model_info(provider, "acme/sparrow-7b").context_length == 131072


# -- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def discovered(
    db_url: str, store: ProviderStore, httpserver: HTTPServer, provider: str,
    capsys: pytest.CaptureFixture[str],
) -> str:  # fmt: skip
    serve(httpserver, [ROUTER_ITEM, SMALL_ITEM, PLAIN_ITEM])
    code, _out, err = run(capsys, "--db", db_url, "discover", provider, "--no-validate")
    assert code == 0, err
    return db_url


def test_models_list_json_has_metadata_fields(
    discovered: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", discovered, "models", "list", "--all", "--json")
    assert code == 0
    rows = {row["model"]: row for row in json.loads(out)}
    assert rows["acme/sparrow-7b"]["context_length"] == 131072
    assert rows["acme/sparrow-7b"]["max_output_tokens"] == 8192
    assert rows["acme/sparrow-7b"]["input_price"] == 2.5
    assert rows["acme/sparrow-7b"]["output_price"] == 10.0
    assert rows["acme/sparrow-7b"]["display_name"] == "Acme: Sparrow 7B"
    assert rows["acme/sparrow-7b"]["capabilities"] == ["reasoning", "tools", "vision"]
    for field in ("context_length", "max_output_tokens", "input_price", "output_price",
                  "capabilities", "display_name"):  # fmt: skip
        assert rows["plain"][field] is None


def test_models_list_filters_by_context_and_capabilities(
    discovered: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def listed(*args: str) -> list[str]:
        code, out, err = run(capsys, "--db", discovered, "models", "list", "--all", "--json", *args)
        assert code == 0, err
        return sorted(row["model"] for row in json.loads(out))

    assert listed("--min-context", "8192") == ["acme/sparrow-7b", "tiny-chat"]
    assert listed("--min-context", "100000") == ["acme/sparrow-7b"]
    assert listed("--capability", "tools") == ["acme/sparrow-7b", "tiny-chat"]
    assert listed("--capability", "tools", "--capability", "Vision") == ["acme/sparrow-7b"]
    assert listed("--capability", "chat", "--min-context", "100000") == []
    code, out, _ = run(capsys, "--db", discovered, "models", "list", "--capability", "tools")
    assert code == 0 and "sparrow" in out and "tiny-chat" not in out  # valid models only
    code, _, err = run(capsys, "--db", discovered, "models", "list", "--min-context", "x")
    assert code == 2 and "min-context" in err


def test_models_show_json_and_text(discovered: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", discovered, "models", "show", "p/acme/sparrow-7b", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["provider"] == "p" and data["model"] == "acme/sparrow-7b"
    assert data["alias"] == "sparrow" and data["status"] == "valid"
    assert data["context_length"] == 131072 and data["created"] == 1750000000
    assert data["input_modalities"] == ["image", "text"]
    assert data["raw"] == ROUTER_ITEM

    code, out, _ = run(capsys, "--db", discovered, "models", "show", "p/acme/sparrow-7b")
    assert code == 0
    assert "131,072" in out and "$2.5 / 1M tokens" in out and "2025-06-15" in out
    assert "reasoning, tools, vision" in out

    code, out, _ = run(capsys, "--db", discovered, "models", "show", "p/plain")
    assert code == 0 and "invalid" in out


@pytest.mark.parametrize(
    ("ref", "code", "message"),
    [
        ("p/nope", 2, "Unknown model: p/nope"),
        ("ghost/x", 2, "Unknown model: ghost/x"),
        ("no-slash", 2, "Unknown model: no-slash"),
    ],
)
def test_models_show_bad_reference_is_one_line(
    discovered: str, capsys: pytest.CaptureFixture[str], ref: str, code: int, message: str
) -> None:
    got, out, err = run(capsys, "--db", discovered, "models", "show", ref)
    assert got == code
    assert out == ""
    assert err.strip().count("\n") == 0 and message in err
