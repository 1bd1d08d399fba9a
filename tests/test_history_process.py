"""Real processes: successive ``provider-store discover`` runs against a loopback provider whose
list gains, loses, re-adds and re-prices models give exactly the expected ``changes --json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import zygote

from provider_store import ProviderConfig, ProviderStore
from provider_store.testing import FakeProvider

# These tests start other processes: make test-quick leaves them out.
pytestmark = pytest.mark.slow

KEY = "sk-test-history-process-01"


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("provider-store")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "provider_store"]
    env = {**os.environ, "PROVIDER_STORE_URL": url, "LOCAL_API_KEY": KEY}
    return zygote.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def discover(url: str) -> str:
    done = cli(url, "discover", "--no-validate", "--force-refresh")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_discover_runs_give_exactly_the_expected_change_feed(db_url: str) -> None:
    with FakeProvider(["a", "b", "c"], api_key=KEY) as fake:
        store = ProviderStore(db_url)
        try:
            store.save_config(
                "local", ProviderConfig(name="Local", base_api_url=fake.base_url, api_key=KEY)
            )
            store.rows.set_removal_policy("local", confirmations=2, min_age_seconds=0)
        finally:
            store.close()
        fake.set_model_metadata("b", {"pricing": {"input": 1.0, "output": 2.0}})
        assert discover(db_url) == "Changes: +3 new."
        fake.set_models(["a", "b", "d"])  # gains d, loses c, re-prices b
        fake.set_model_metadata("b", {"pricing": {"input": 1.5, "output": 2.0}})
        assert discover(db_url) == "Changes: +1 new, 1 missing, 1 price changes."
        assert discover(db_url) == "Changes: -1 removed."
        fake.set_models(["a", "b", "c", "d"])  # re-adds c
        assert discover(db_url) == "Changes: 1 reappeared."
        done = cli(db_url, "changes", "--json")
    assert done.returncode == 0, done.stderr
    feed: list[dict[str, Any]] = json.loads(done.stdout)
    got = [(e["type"], e["model"], e["field"], e["old"], e["new"]) for e in reversed(feed)]
    assert got == [
        ("added", "a", None, None, {}),
        ("added", "b", None, None, {"input_price": 1.0, "output_price": 2.0}),
        ("added", "c", None, None, {}),
        ("changed", "b", "input_price", 1.0, 1.5),  # in list order within one refresh
        ("added", "d", None, None, {}),
        ("missing", "c", None, None, 1),
        ("removed", "c", None, "unverified", 2),
        ("reappeared", "c", None, "removed", "unverified"),
    ]
    assert all(e["provider"] == "local" for e in feed)
    assert KEY not in done.stdout + done.stderr
