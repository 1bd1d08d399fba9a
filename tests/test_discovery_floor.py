"""Discovery at the floor: when a provider's first ping goes alone, and when its pings start
together (its key was just proven by fetching the model list)."""

from __future__ import annotations

import time

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore
from provider_store.discovery.run import run_discovery
from provider_store.discovery.run_report import DiscoveryOptions
from provider_store.testing import FakeProvider

KEY = "sk-floor-0123456789"
MODELS = [f"m{i}" for i in range(12)]


def rejecting_provider(latency: float) -> FakeProvider:
    """A provider whose /models accepts the key and whose every ping answers 401."""
    fake = FakeProvider(MODELS, latency=latency)
    for model in MODELS:
        fake.set_model_behaviour(model, "error:401")
    return fake


def test_a_key_proven_by_a_fresh_list_starts_the_pings_together(store: ProviderStore) -> None:
    with rejecting_provider(0.3) as fake, ModelDiscoveryService(store) as service:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        report = run_discovery(
            store.load_configs(), service, DiscoveryOptions.build(per_provider=4), store=store
        )
        pings = fake.request_count("/chat/completions")
    assert fake.request_count("/models") == 1
    # Together: more than one ping was in flight before the first answer came back; the
    # rejection still stops the rest, so it costs at most one round of the per-provider bound.
    assert 2 <= pings <= 4, pings
    summary = report.providers[0]
    assert summary.problem is not None and "API key rejected" in summary.problem


def test_an_unproven_key_sends_its_first_ping_alone(store: ProviderStore) -> None:
    with rejecting_provider(0.1) as fake, ModelDiscoveryService(store) as service:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        store.rows.write_cache("p", [{"id": m} for m in MODELS], fetched_at=time.time())
        report = run_discovery(
            store.load_configs(), service, DiscoveryOptions.build(per_provider=4), store=store
        )
        assert fake.request_count("/models") == 0  # the list came from the cache
        assert fake.request_count("/chat/completions") == 1
    assert report.providers[0].problem is not None


def test_pings_that_start_before_the_list_is_saved_are_all_recorded(store: ProviderStore) -> None:
    with FakeProvider(MODELS, latency=0.05) as fake, ModelDiscoveryService(store) as service:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        report = run_discovery(
            store.load_configs(), service, DiscoveryOptions.build(per_provider=4), store=store
        )
    assert report.ok and report.persisted
    assert report.providers[0].valid == len(MODELS)
    assert sorted(store.get_config("p").valid_models) == sorted(MODELS)
    assert len(store.load_verdicts("p")) == len(MODELS)
    assert [m["id"] for m in store.read_cache("p").models or []] == MODELS
