"""``provider-store set-ttl`` stores a provider's cache TTL."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from provider_store import ProviderConfig, ProviderStore


def test_set_ttl(capsys: pytest.CaptureFixture[str], db_url: str, store: ProviderStore) -> None:
    store.save_config("openai", ProviderConfig(api_key="sk-cli-secret-123"))

    code, out, _ = run_cli(capsys, "--db", db_url, "set-ttl", "openai", "60")
    assert code == 0 and "60 s" in out and "sk-cli-secret-123" not in out
    assert store.read_cache("openai").ttl_seconds == 60
    assert store.get_config("openai")._cache_duration == 60

    code, out, _ = run_cli(capsys, "--db", db_url, "set-ttl", "openai", "0", "--json")
    assert code == 0 and json.loads(out) == {"provider": "openai", "cache_ttl_seconds": 0}


def test_set_ttl_rejects_bad_input(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, _, err = run_cli(capsys, "--db", db_url, "set-ttl", "nope", "60")
    assert code == 2 and "Unknown provider: nope" in err
    code, _, _ = run_cli(capsys, "--db", db_url, "set-ttl", "nope", "-5")
    assert code == 2
