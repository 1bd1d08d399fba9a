"""Followers woken by the catalog's commits: LISTEN/NOTIFY on PostgreSQL; on SQLite, a poll
that asks the file whether anything was committed before it reads the catalog.

An idle follower sends no query to the catalog at all; another process's commit reaches it
within a second; the listener comes back by itself after its connection is killed. The other
processes are real (``tests/fleet_worker.py``).
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_until
from pg_fleet import terminate
from sqlalchemy import create_engine, event, make_url, text

from provider_store import ProviderConfig, ProviderManager, ProviderStore
from provider_store.catalog.change_marker import ChangeTokens

sys.path.insert(0, str(Path(__file__).parent))
from test_connection_bounds import spawn  # noqa: E402

# These tests start other processes and wait out real seconds: make test-quick leaves them out.
pytestmark = pytest.mark.slow


def statements_of(store: ProviderStore) -> list[str]:
    """A list that receives every SQL statement ``store`` sends from now on."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return sent


class AheadClock:
    """Real monotonic time, moved ahead by hand: the follower's clock in these tests."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.ahead


def keep_reading(manager: ProviderManager, clock: AheadClock, seconds: float) -> int:
    """Resolve through ``manager`` for ``seconds`` of ``clock``'s time (as a busy reader would,
    one read every 10 ms), moving the clock instead of sleeping; how many times."""
    count = 0
    for _ in range(round(seconds / 0.01)):
        assert manager.get_api_for_model_string("p/old")[1] == "m-old"
        count += 1
        clock.ahead += 0.01
    return count


def until(check: Callable[[], bool], seconds: float) -> bool:
    """Poll ``check`` every 10 ms for up to ``seconds``; whether it came true."""
    return wait_until(check, seconds, every=0.01)


def edit_elsewhere(url: str, model: str) -> float:
    """Add ``model`` to provider p in another process; when it committed (epoch seconds)."""
    editor = spawn("edit", url, "p", model)
    out, err = editor.communicate(timeout=60)
    assert editor.returncode == 0, err
    return float(json.loads(out.strip().splitlines()[-1])["committed_at"])


def seen_within(manager: ProviderManager, model: str, committed: float) -> float:
    """Seconds from ``committed`` until ``manager`` lists ``model``."""
    assert until(lambda: model in manager.get_available_models("p"), 10), "never seen"
    return time.time() - committed


def test_an_idle_follower_costs_the_database_nothing_and_a_commit_wakes_it(
    store: ProviderStore,
) -> None:
    store.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
    clock = AheadClock()
    manager = ProviderManager(store=store, follow_clock=clock)  # looks at most every 0.25 s
    # The listener starts at the first look (LISTEN on PostgreSQL; on SQLite a thread asking the
    # file whether anything was committed) and then reports itself listening.
    assert until(lambda: bool(manager.providers) and store.change_signal.listening, 10)
    keep_reading(manager, clock, 0.4)  # the look that follows the start of listening
    sent = statements_of(store)
    reads = keep_reading(manager, clock, 1.5)
    assert reads > 100
    assert sent == []  # nothing changed: not one query to the catalog in 1.5 s of reading

    sent.clear()
    latency = seen_within(manager, "m-new", edit_elsewhere(store.url, "m-new"))
    assert latency < 1.0
    assert manager.follow_stats.providers_reloaded == 1
    assert len(sent) < 12  # woken once: the look, then the re-read of p


def test_the_listener_comes_back_after_its_connection_is_killed(
    store: ProviderStore, caplog: pytest.LogCaptureFixture
) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("a SQLite file's listener asks the file: it has no connection to kill")
    app = f"ps-listen-{uuid.uuid4().hex[:8]}"
    url = make_url(store.url).update_query_dict({"application_name": app})
    tagged = ProviderStore(url.render_as_string(hide_password=False))
    caplog.set_level(logging.INFO, logger="provider_store")
    admin = create_engine(store.url, isolation_level="AUTOCOMMIT")
    try:
        tagged.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
        manager = ProviderManager(store=tagged, follow_interval=0.05)
        assert until(lambda: bool(manager.providers) and tagged.change_signal.listening, 10)
        with admin.connect() as conn:
            assert terminate(conn, f"application_name = '{app}'", until_gone=False) >= 1

        def said(text: str) -> bool:
            return any(text in r.getMessage() for r in caplog.records)

        assert until(lambda: said("lost the catalog database while listening"), 5)
        assert until(lambda: said("listening for catalog changes again"), 10)
        assert tagged.change_signal.listening
        latency = seen_within(manager, "m-new", edit_elsewhere(store.url, "m-new"))
        assert latency < 1.0
    finally:
        tagged.close()
        admin.dispose()


def test_tokens_change_only_for_the_provider_written(store: ProviderStore) -> None:
    for key in ("p", "q"):
        store.save_config(key, ProviderConfig(valid_models={f"{key}-1": "one"}))
    before: ChangeTokens = store.rows.change_tokens()
    store.rows.write_cache("q", [{"id": "x"}], fetched_at=time.time())
    after = store.rows.change_tokens()
    assert after.changed_since(before) == ["q"]
    assert after.providers["p"] == before.providers["p"]
    assert after.full == before.full


def test_a_store_dropped_without_close_takes_its_listening_thread_and_connection_with_it(
    store: ProviderStore,
) -> None:
    def listeners() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "ps-change-listener"}

    app = f"ps-dropped-{uuid.uuid4().hex[:8]}"
    url = store.url
    if store.engine.dialect.name == "postgresql":
        url = make_url(url).update_query_dict({"application_name": app})
        url = url.render_as_string(hide_password=False)

    def follow_then_drop() -> set[threading.Thread]:
        before = listeners()
        dropped = ProviderStore(url)
        dropped.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
        manager = ProviderManager(store=dropped)
        assert until(lambda: bool(manager.providers) and dropped.change_signal.listening, 10)
        return listeners() - before

    started = follow_then_drop()  # neither the manager nor its store is closed
    assert len(started) == 1
    gc.collect()
    assert until(lambda: not any(thread.is_alive() for thread in started), 5)
    if store.engine.dialect.name == "postgresql":
        admin = create_engine(store.url)
        try:
            with admin.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :a"),
                    {"a": app},
                ).scalar_one()
        finally:
            admin.dispose()
        assert left == 0  # neither the LISTEN connection nor the pool's
