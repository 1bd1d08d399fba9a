"""A config's discovery cache and its catalog key are explicit, public state.

``list_cache`` is the same state the legacy attributes hold; ``catalog_key`` alone decides whether
a service with a store keeps the cache and verdicts in the database or in memory.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from provider_store import (
    ListCache,
    ModelDiscoveryService,
    ProviderClient,
    ProviderConfig,
    ProviderManager,
    ProviderStore,
    Source,
    Verdict,
)
from provider_store.testing import FakeProvider

KEY = "sk-test-SECRET-0123456789abcdef"


pytestmark = pytest.mark.fake(["a", "b"], api_key=KEY)


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    made = ProviderClient(connect_timeout=1, read_timeout=1, deadline=5, backoff=0.01)
    yield made
    made.close()


def test_list_cache_and_the_legacy_attributes_are_one_state() -> None:
    config = ProviderConfig()
    assert config.list_cache == ListCache(models=[], fetched_at=None, ttl_seconds=300)

    config._cached_models = [{"id": "m"}]
    config._cache_timestamp = 1000.5
    config._cache_duration = 60
    assert config.list_cache == ListCache([{"id": "m"}], 1000.5, 60)

    config.list_cache = ListCache([{"id": "n"}], fetched_at=None, ttl_seconds=30)
    assert (config._cached_models, config._cache_timestamp, config._cache_duration) == (
        [{"id": "n"}],
        0.0,
        30,
    )
    assert "list_cache" not in config.model_dump() and "catalog_key" not in config.model_dump()


def test_the_list_cache_is_a_copy() -> None:
    config = ProviderConfig()
    config.list_cache = ListCache([{"id": "m"}])
    config.list_cache.models.append({"id": "intruder"})
    assert config._cached_models == [{"id": "m"}]


def test_catalog_key_is_set_by_the_store_and_the_manager_and_absent_on_a_loose_config(
    store: ProviderStore,
) -> None:
    assert ProviderConfig().catalog_key is None
    store.save_config("p", ProviderConfig(api_key=KEY))
    loaded = store.get_config("p")
    assert loaded.catalog_key == "p"
    assert loaded.list_cache.ttl_seconds == 300
    assert ProviderManager({"q": {"name": "Q"}})["q"].catalog_key == "q"


def test_a_config_with_a_catalog_key_keeps_its_cache_in_the_store(
    store: ProviderStore, fake: FakeProvider, client: ProviderClient
) -> None:
    store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
    config = ProviderConfig(base_api_url=fake.base_url, api_key=KEY)
    config.catalog_key = "p"
    with ModelDiscoveryService(store, client=client) as service:
        assert service.store_key(config) == "p"
        assert service.discover(config).source is Source.FRESH
        # Another process's fresh config answers from the database, without a request.
        fake.reset_counts()
        again = service.discover(store.get_config("p"))
    assert again.source is Source.CACHE and [m["id"] for m in again.models] == ["a", "b"]
    assert fake.request_count() == 0
    assert config.list_cache.fetched_at == again.fetched_at


def test_a_config_without_a_catalog_key_keeps_its_cache_in_memory_and_is_always_pinged(
    store: ProviderStore, fake: FakeProvider, client: ProviderClient
) -> None:
    store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
    loose = ProviderConfig(base_api_url=fake.base_url, api_key=KEY)
    with ModelDiscoveryService(store, client=client) as service:
        assert service.store_key(loose) is None
        assert service.discover(loose).source is Source.FRESH
        assert [m["id"] for m in loose.list_cache.models] == ["a", "b"]
        assert store.get_config("p").list_cache.fetched_at is None  # the row is untouched
        assert service.check_model(loose, "a").verdict is Verdict.VALID
        assert service.check_model(loose, "a").reused is False  # no verdict reuse in memory
    assert fake.request_count("/chat/completions") == 2


def test_a_service_without_a_store_keeps_every_cache_in_memory(
    store: ProviderStore, fake: FakeProvider, client: ProviderClient
) -> None:
    store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
    config = store.get_config("p")
    with ModelDiscoveryService(client=client) as service:
        assert service.store_key(config) is None
        first = service.discover(config)
    assert first.source is Source.FRESH
    assert store.get_config("p").list_cache.fetched_at is None
    assert config.list_cache.fetched_at is not None
    assert config.list_cache.fetched_at <= time.time()
