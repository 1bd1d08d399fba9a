"""The legacy ModelDiscoveryService contract on loose configs, method by method.

The legacy contract keeps the model list in process memory on the config (``_cached_models``,
``_cache_timestamp``, ``_cache_duration``: 300 s); ``validate_model`` pings the model and answers
a bool; ``validate_api_key`` rejects blank and ``...not-configured`` keys. These tests use it that
way, against a real loopback provider, with freezegun for time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from freezegun import freeze_time

from provider_store import ModelDiscoveryService, ProviderClient, ProviderConfig, Verdict
from provider_store.testing import FakeProvider

KEY = "sk-legacy-SECRET-0123456789"


pytestmark = pytest.mark.fake(
    ["gpt-a", "gpt-b", "embed"],
    api_key=KEY,
    hang_seconds=3,
    behaviours={"embed": "refuse", "gpt-b": "error:503"},
)


@pytest.fixture
def service() -> Iterator[ModelDiscoveryService]:
    client = ProviderClient(connect_timeout=1, read_timeout=1, deadline=4, backoff=0.01)
    with ModelDiscoveryService(client=client) as made:  # no store: the legacy in-memory cache
        yield made
    client.close()


def config_for(fake: FakeProvider, api_key: str = KEY) -> ProviderConfig:
    return ProviderConfig(name="Local", base_api_url=fake.base_url, api_key=api_key)


def test_discover_models_returns_the_listed_items(
    fake: FakeProvider, service: ModelDiscoveryService
) -> None:
    models = service.discover_models(config_for(fake))
    assert [item["id"] for item in models] == ["gpt-a", "gpt-b", "embed"]
    assert all(isinstance(item, dict) for item in models)


def test_discover_models_caches_on_the_config_for_its_cache_duration(
    fake: FakeProvider, service: ModelDiscoveryService
) -> None:
    config = config_for(fake)
    with freeze_time("2030-01-01 12:00:00") as frozen:
        first = service.discover_models(config)
        assert config._cached_models == first
        assert config._cache_timestamp > 0 and config._cache_duration == 300
        assert "_cached_models" not in config.model_dump()
        frozen.tick(299)
        assert service.discover_models(config) == first
        assert fake.request_count("/models") == 1  # served from memory
        frozen.tick(2)
        service.discover_models(config)
        assert fake.request_count("/models") == 2  # expired: asked again


def test_force_refresh_asks_the_provider_again(
    fake: FakeProvider, service: ModelDiscoveryService
) -> None:
    config = config_for(fake)
    service.discover_models(config)
    fake.set_models(["gpt-c"])
    assert [item["id"] for item in service.discover_models(config, force_refresh=True)] == ["gpt-c"]
    assert [item["id"] for item in service.discover_models(config, True)] == ["gpt-c"]
    assert fake.request_count("/models") == 3


def test_a_failed_refresh_keeps_the_last_list_and_a_first_failure_gives_an_empty_one(
    fake: FakeProvider, service: ModelDiscoveryService
) -> None:
    config = config_for(fake)
    listed = service.discover_models(config)
    fake.set_failure("status", status=503)
    assert service.discover_models(config, force_refresh=True) == listed  # never erased
    assert service.discover_models(config_for(fake)) == []  # nothing known: an empty list


def test_validate_model_is_true_only_for_a_pong(
    fake: FakeProvider, service: ModelDiscoveryService
) -> None:
    config = config_for(fake)
    assert service.validate_model(config, "gpt-a") is True
    assert service.validate_model(config, "embed") is False  # refused: not a chat model
    assert service.validate_model(config, "gpt-b") is False  # 503: not proven either way
    pings = fake.request_count("/chat/completions")
    assert service.validate_model(config, "gpt-a") is True
    assert fake.request_count("/chat/completions") == pings + 1  # a loose config pings again


def test_check_model_is_the_new_name_with_the_verdict(
    fake: FakeProvider, service: ModelDiscoveryService
) -> None:
    config = config_for(fake)
    assert service.check_model(config, "gpt-a").verdict is Verdict.VALID
    assert service.check_model(config, "embed").verdict is Verdict.INVALID
    assert service.check_model(config, "gpt-b").verdict is Verdict.INCONCLUSIVE
    assert service.check_model(config, "gpt-a").valid is service.validate_model(config, "gpt-a")


@pytest.mark.parametrize(
    ("api_key", "usable"),
    [
        (KEY, True),
        ("", False),
        ("   ", False),
        ("sk-not-configured", False),
        ("not-configured", False),
    ],
)
def test_validate_api_key(api_key: str, usable: bool) -> None:
    service = ModelDiscoveryService()
    try:
        assert service.validate_api_key(ProviderConfig(api_key=api_key)) is usable
    finally:
        service.close()
