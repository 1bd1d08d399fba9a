"""Every process in step: a long-lived ProviderManager follows other processes' commits.

Both backends; the other process is real (``tests/freshness_worker.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import zygote
from sqlalchemy import event, update

from provider_store import ProviderConfig, ProviderManager, ProviderStore
from provider_store.catalog.change_marker import ChangeWatch
from provider_store.catalog.light_tables import MODEL
from provider_store.discovery import leases

sys.path.insert(0, str(Path(__file__).parent))
from freshness_worker import WORKER  # noqa: E402

# These tests start other processes: make test-quick leaves them out.
pytestmark = pytest.mark.slow


def seen_after_other_process(check: Callable[[], bool], *args: str) -> float:
    """Run the worker with ``args`` in a new process, polling ``check()`` (every 10 ms) while it
    runs and after; return the seconds from the worker's commit to the first true ``check()``.

    The polling runs alongside the other process, so its start-up and exit are not counted.
    """
    worker = zygote.Popen(
        [sys.executable, WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen: float | None = None
    deadline = time.monotonic() + 60
    try:
        while seen is None and time.monotonic() < deadline:
            if check():
                seen = time.time()
            elif worker.poll() is not None and worker.returncode != 0:
                break
            else:
                time.sleep(0.01)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, err
    assert seen is not None, "never seen"
    return seen - float(json.loads(out.strip().splitlines()[-1])["committed_at"])


def test_a_running_manager_sees_another_process_import(
    store: ProviderStore, tmp_path: Path
) -> None:
    store.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
    manager = ProviderManager(store=store)
    assert manager.get_api_for_model_string("p/old")[1] == "m-old"
    document = tmp_path / "more.yaml"
    document.write_text(
        "providers:\n  q:\n    name: Q\n    base_api_url: https://q.example/v1\n"
        "    api_key: sk-q-0123456789\n    valid_models:\n      m-new: new\n",
        encoding="utf-8",
    )
    latency = seen_after_other_process(lambda: "q" in manager, "import", store.url, str(document))
    assert latency < 1.0  # the check interval is 0.25 s
    assert manager.get_api_for_model_string("q/new")[1] == "m-new"
    assert manager.follow_stats.providers_reloaded == 1  # the file's provider, not p
    assert manager.follow_stats.full_reloads == 0


def test_a_running_manager_sees_another_process_edit(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
    manager = ProviderManager(store=store)
    assert "m-added" not in manager.get_available_models()
    latency = seen_after_other_process(
        lambda: "m-added" in manager.get_available_models(), "edit", store.url, "p", "m-added"
    )
    assert latency < 1.0  # the check interval is 0.25 s


def three_providers(store: ProviderStore) -> None:
    for key in ("p", "q", "r"):
        models = {f"{key}-model-{i}": f"{key}{i}" for i in range(20)}
        store.save_config(key, ProviderConfig(name=key.upper(), valid_models=models))


def test_another_process_edit_of_one_provider_rereads_only_that_provider(
    store: ProviderStore,
) -> None:
    three_providers(store)
    manager = ProviderManager(store=store)
    q_before, r_before = manager["q"], manager["r"]
    assert manager.get_api_for_model_string("q/q3")[1] == "q-model-3"
    latency = seen_after_other_process(
        lambda: "m-added" in manager.get_available_models("p"), "edit", store.url, "p", "m-added"
    )
    assert latency < 1.0
    assert manager.follow_stats.providers_reloaded == 1
    assert manager.follow_stats.full_reloads == 0
    assert manager["q"] is q_before and manager["r"] is r_before  # not re-read
    assert manager.keys() == ["p", "q", "r"]
    assert manager.get_api_for_model_string("p/m-added")[1] == "m-added"


def test_providers_another_process_adds_or_removes_are_followed(store: ProviderStore) -> None:
    three_providers(store)
    manager = ProviderManager(store=store)
    p_before = manager["p"]
    latency = seen_after_other_process(lambda: "s" in manager, "add", store.url, "s", "s-model")
    assert latency < 1.0
    assert manager.keys() == ["p", "q", "r", "s"]
    assert manager.get_api_for_model_string("s/s-model") == (manager["s"], "s-model")
    assert manager.follow_stats.providers_reloaded == 1  # only the new one was read
    latency = seen_after_other_process(lambda: "q" not in manager, "remove", store.url, "q")
    assert latency < 1.0
    assert manager.keys() == ["p", "r", "s"]
    assert manager["p"] is p_before
    assert manager.follow_stats.providers_reloaded == 1  # a removal reads no provider
    assert manager.follow_stats.full_reloads == 0
    assert manager.find_model_scoped("q1") == []


def test_taking_in_an_edit_of_another_store_reads_in_one_transaction(store: ProviderStore) -> None:
    """The look that finds a provider's token moved reads that provider's config in the same
    transaction: the resolution that takes in an edit waits for one round of queries."""
    three_providers(store)
    manager = ProviderManager(store=store, follow_interval=0)
    assert manager.get_api_for_model_string("q/q3")[1] == "q-model-3"
    other = ProviderStore(store.url)
    config = other.get_config("q")
    config.valid_models["q-added"] = "qa"
    other.save_config("q", config)
    other.close()
    begins: list[int] = []
    here = threading.get_ident()  # the listening thread's reading ahead is not this call's

    def begin(_conn: object) -> None:
        if threading.get_ident() == here:
            begins.append(1)

    event.listen(store.engine, "begin", begin)
    deadline = time.monotonic() + 10  # on PostgreSQL the wake-up comes by NOTIFY
    while manager.follow_stats.providers_reloaded == 0 and time.monotonic() < deadline:
        begins.clear()
        manager.get_available_models("q")  # one look (when due), and the re-read it finds due
        time.sleep(0.01)
    # The call that took the edit in: one transaction; none when the listening thread had read
    # the change ahead.
    assert len(begins) == (0 if manager.follow_stats.read_ahead else 1)
    assert manager.get_api_for_model_string("q/qa")[1] == "q-added"
    assert manager.follow_stats.providers_reloaded == 1


class _Told:
    """Registered after a follower with ``ChangeSignal.on_notification``: called once the
    follower's own reading ahead of a notification has ended."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> None:
        self.event.set()


def test_another_process_edit_is_read_ahead_and_taken_in_without_a_query(
    store: ProviderStore,
) -> None:
    """The listening thread (NOTIFY on PostgreSQL, the file's data version on SQLite) reads a
    change ahead: the resolution that takes the edit in sends no query of its own, and own
    commits are still resolved at once."""
    three_providers(store)
    manager = ProviderManager(store=store, follow_interval=0)
    assert manager.get_api_for_model_string("q/q3")[1] == "q-model-3"
    deadline = time.monotonic() + 10
    while not store.change_signal.listening and time.monotonic() < deadline:
        manager.get_available_models()  # a look starts the listener; wait until it listens
        time.sleep(0.01)
    told = _Told()
    store.change_signal.on_notification(told.__call__)
    worker = zygote.Popen(
        [sys.executable, WORKER, "edit", store.url, "q", "q-added"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert told.event.wait(10)  # the follower's reading ahead has ended
    begins: list[int] = []
    event.listen(store.engine, "begin", lambda _conn: begins.append(1))
    assert "q-added" in manager.get_available_models("q")
    assert begins == []
    assert manager.follow_stats.read_ahead == 1
    assert manager.follow_stats.providers_reloaded == 1
    store.save_config("r", ProviderConfig(valid_models={"r-own": "own"}))  # this store's commit
    assert manager.get_api_for_model_string("r/own")[1] == "r-own"


def test_a_write_that_changes_no_provider_rereads_nothing(store: ProviderStore) -> None:
    three_providers(store)
    manager = ProviderManager(store=store, follow_interval=0)
    resolver_index = manager.get_api_for_model_string("r/r1")
    store.set_retention_days(30)  # a catalog-wide setting: no provider changed
    assert manager.get_api_for_model_string("r/r1") == resolver_index
    assert manager.follow_stats.changes_seen == 0  # no token moved, nobody is woken
    assert manager.follow_stats.providers_reloaded == 0


def test_a_setting_changed_in_this_process_is_followed_and_rereads_that_provider(
    store: ProviderStore,
) -> None:
    three_providers(store)
    manager = ProviderManager(store=store, follow_interval=0)
    store.rows.set_cache_ttl("q", 60)  # an ORM change, written when the transaction commits
    assert manager["q"].list_cache.ttl_seconds == 60
    assert manager.follow_stats.providers_reloaded == 1
    assert manager.follow_stats.full_reloads == 0


def test_a_provider_removed_and_added_again_between_two_looks_is_reread(
    store: ProviderStore,
) -> None:
    three_providers(store)
    manager = ProviderManager(store=store, follow_interval=0)
    assert manager.get_api_for_model_string("p/p1")[1] == "p-model-1"
    store.remove_providers(["p"])
    store.save_config("p", ProviderConfig(valid_models={"p-new": "n"}))  # a new row, same key
    assert manager["p"].valid_models == {"p-new": "n"}
    assert manager.keys() == ["q", "r", "p"]


def test_a_write_that_does_not_say_which_provider_it_changed_rereads_all(
    store: ProviderStore,
) -> None:
    three_providers(store)
    manager = ProviderManager(store=store, follow_interval=0)
    with store.transaction() as session:  # no provider scope: whoever wrote this did not say
        session.execute(
            update(MODEL).where(MODEL.c.model_id == "q-model-1").values(alias="renamed")
        )
    assert manager.get_api_for_model_string("q/renamed")[1] == "q-model-1"
    assert manager.follow_stats.full_reloads == 1
    assert manager.follow_stats.providers_reloaded == 3


def test_a_manager_with_a_local_edit_keeps_it_until_reload(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig(valid_models={"m-old": "old"}))
    manager = ProviderManager(store=store, follow_interval=0)
    manager["local"] = ProviderConfig(valid_models={"m-local": "local"})
    store.save_config("p", ProviderConfig(valid_models={"m-old": "old", "m-2": "two"}))
    assert "local" in manager and "m-2" not in manager.get_available_models()
    manager.reload()
    assert "local" not in manager and "m-2" in manager.get_available_models()
    store.save_config("p", ProviderConfig(valid_models={"m-3": "three"}))
    assert manager.get_available_models() == ["m-3"]  # following again


def test_the_marker_is_read_at_most_once_per_interval(store: ProviderStore) -> None:
    reads: list[int] = []

    def read_marker() -> str | None:
        reads.append(1)
        return store.rows.read_change_marker()

    now = [1000.0]  # the watch's clock: a slow write does not use up the interval
    watch = ChangeWatch(read_marker, interval=0.5, clock=lambda: now[0])
    watch.mark()
    store.save_config("p", ProviderConfig())
    assert not any(watch.changed() for _ in range(100))  # within the interval: no look
    assert len(reads) == 1
    now[0] += 0.6
    assert watch.changed() and len(reads) == 2
    now[0] += 0.6
    assert not watch.changed() and len(reads) == 3


def test_every_write_moves_the_marker_and_a_read_does_not(store: ProviderStore) -> None:
    before = store.rows.read_change_marker()
    store.save_config("p", ProviderConfig())
    after_save = store.rows.read_change_marker()
    assert after_save is not None and after_save != before
    store.load_configs()
    with store.transaction():
        pass  # a write transaction that changed nothing
    with store.transaction() as session:  # a refresh lease taken and given back
        assert leases.try_acquire(session, "p", "me")
        assert leases.release(session, "p", "me")
    assert store.rows.read_change_marker() == after_save
    store.rows.write_cache("p", [{"id": "x"}], fetched_at=time.time())
    assert store.rows.read_change_marker() != after_save
