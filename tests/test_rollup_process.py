"""Real processes writing pings at once: the rollup loses no increment, on both backends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from provider_store import ProviderStore

sys.path.insert(0, str(Path(__file__).parent))
from concurrency_worker import run_together, spawn  # noqa: E402
from test_ping_rollup import assert_same, counted, rollup_rows, summed_observations  # noqa: E402

# These tests start other processes: make test-quick leaves them out.
pytestmark = pytest.mark.slow

WORKERS = 4
BATCHES = 25


def test_processes_writing_the_same_rollup_rows_lose_no_increment(db_url: str) -> None:
    ProviderStore(db_url).close()  # migrated before the workers start
    results, _ = run_together(
        [spawn("pings", db_url, str(n), str(BATCHES), "3") for n in range(WORKERS)]
    )
    assert [r["written"] for r in results] == [BATCHES * 20] * WORKERS
    store = ProviderStore(db_url)
    try:
        rows = rollup_rows(store.engine)
        assert rows == summed_observations(store.engine)
        assert sum(r["pings"] for r in rows.values()) == 2 * WORKERS * BATCHES * 20
        assert_same(store.model_stats(), counted(store))
    finally:
        store.close()
