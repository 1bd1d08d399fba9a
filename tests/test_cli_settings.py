"""``provider-store set-ttl`` (the hidden alias of ``providers set --ttl``) stores a provider's
cache TTL."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from provider_store import ProviderConfig, ProviderStore


def test_set_ttl(capsys: pytest.CaptureFixture[str], db_url: str, store: ProviderStore) -> None:
    store.save_config("openai", ProviderConfig(api_key="sk-cli-secret-123"))

    code, out, _ = run_cli(capsys, "--db", db_url, "set-ttl", "openai", "60")
    assert code == 0 and "TTL 1m" in out and "sk-cli-secret-123" not in out
    assert store.read_cache("openai").ttl_seconds == 60
    assert store.get_config("openai")._cache_duration == 60

    code, out, _ = run_cli(capsys, "--db", db_url, "set-ttl", "openai", "0", "--json")
    data = json.loads(out)
    assert code == 0 and (data["key"], data["cache_ttl_seconds"]) == ("openai", 0)
    assert "sk-cli-secret-123" not in out


def test_set_ttl_rejects_bad_input(
    capsys: pytest.CaptureFixture[str], db_url: str, store: ProviderStore
) -> None:
    code, _, err = run_cli(capsys, "--db", db_url, "set-ttl", "nope", "60")
    assert code == 2 and "Unknown provider: nope" in err
    code, _, _ = run_cli(capsys, "--db", db_url, "set-ttl", "nope", "-5")
    assert code == 2
