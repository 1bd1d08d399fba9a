"""Discovery writes only what it learned: concurrent edits survive, verdicts are kept, a failed
write is a failure, and a provider without a key is skipped by one rule.

Real parts only: a real SQLite file or PostgreSQL schema, a loopback provider, real processes for
the races (``tests/concurrency_worker.py``) and the real ``provider-store`` entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import zygote
from helpers import run_cli
from sqlalchemy import text

from provider_store import (
    ModelDiscoveryService,
    ProviderClient,
    ProviderConfig,
    ProviderManager,
    ProviderStore,
    Source,
)
from provider_store.errors import CacheWriteError, MissingKeyError
from provider_store.rules import env_var_for
from provider_store.testing import FakeProvider

sys.path.insert(0, str(Path(__file__).parent))
from concurrency_worker import spawn  # noqa: E402

KEY = "sk-test-0123456789"


class HeldProvider:
    """A loopback provider whose ``/models`` answer waits until :meth:`release` is called."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.gate = threading.Event()
        self.arrived = threading.Semaphore(0)
        self.auth: list[str | None] = []
        held = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

            def do_GET(self) -> None:  # noqa: N802
                held.auth.append(self.headers.get("Authorization"))
                held.arrived.release()
                held.gate.wait(timeout=120)
                self._json({"object": "list", "data": [{"id": i} for i in held.ids]})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                message = {"role": "assistant", "content": "pong"}
                self._json(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    }
                )

            def _json(self, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def release(self) -> None:
        self.gate.set()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def held() -> Iterator[HeldProvider]:
    provider = HeldProvider(["cur", "drop", "a"])
    yield provider
    provider.close()


def seed(store: ProviderStore, key: str, base_url: str, **fields: object) -> None:
    store.save_config(key, ProviderConfig.model_validate({"base_api_url": base_url, **fields}))


def run_entry_point(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``provider-store`` command in a new process."""
    command = [sys.executable, "-m", "provider_store", *args]
    return zygote.run(command, capture_output=True, text=True, timeout=180)


def start_discovery_and_hold(url: str, held: HeldProvider, requests: int) -> subprocess.Popen[str]:
    """A long-lived manager in another process, stopped with its ``/models`` calls in flight."""
    proc = spawn("manager_discover", url)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "loaded\n"
    for _ in range(requests):
        assert held.arrived.acquire(timeout=120), "discovery never asked for /models"
    return proc


def finish(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


# -- targeted writes: concurrent edits survive a discovery in flight ----------------------------


@pytest.mark.slow
def test_an_import_replace_during_discovery_survives_it(
    store: ProviderStore, held: HeldProvider, tmp_path: Path
) -> None:
    seed(store, "p", held.base_url, name="Old", api_key=KEY, valid_models={"cur": "c", "drop": "d"})
    seed(store, "q", held.base_url, name="Q", api_key=KEY)
    proc = start_discovery_and_hold(store.url, held, requests=2)

    document = {
        "providers": {
            "p": {
                "name": "Renamed",
                "api_key": "sk-rotated-9876543210",
                "base_api_url": held.base_url,
                "valid_models": {"cur": "c"},
                "invalid_models": ["bad"],
            }
        }
    }
    path = tmp_path / "providers.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
    done = run_entry_point("--db", store.url, "import", str(path), "--replace", "--yes")
    assert done.returncode == 0, done.stderr
    held.release()
    result = finish(proc)

    # Both providers changed under the run (p edited, q removed): it says so and saves nothing
    # of theirs, and the import survives whole.
    assert result["ok"] is False and result["persisted"] is False
    errors = {s["provider"]: s["error"] for s in result["report"]["providers"]}
    assert errors["p"].startswith("results not saved: provider p's settings were edited")
    assert errors["q"].startswith("results not saved: provider q was renamed or removed")
    assert store.provider_keys() == ["p"]  # the replaced-away provider stays gone
    config = store.get_config("p")
    assert config.name == "Renamed" and config.api_key == "sk-rotated-9876543210"
    assert config.valid_models == {"cur": "c"}
    assert config.invalid_models == ["bad"]
    assert store.load_verdicts("p") == {}


@pytest.mark.slow
def test_a_save_config_during_discovery_survives_it(
    store: ProviderStore, held: HeldProvider
) -> None:
    seed(store, "p", held.base_url, name="Old", api_key=KEY, valid_models={"cur": "c"})
    proc = start_discovery_and_hold(store.url, held, requests=1)

    saver = spawn("save_config", store.url, "p", "Renamed", "sk-rotated-9876543210")
    out, err = saver.communicate(timeout=180)
    assert saver.returncode == 0, err[-2000:]
    held.release()
    result = finish(proc)

    # The edit survives, and the run says p's results (learnt with the old settings) were
    # not saved.
    assert result["ok"] is False and result["report"]["saved"] == []
    (summary,) = result["report"]["providers"]
    assert summary["error"].startswith("results not saved: provider p's settings")
    config = store.get_config("p")
    assert config.name == "Renamed" and config.api_key == "sk-rotated-9876543210"
    assert config.valid_models == {"cur": "c"}


# -- verdicts are facts -----------------------------------------------------------------------


def test_verdicts_are_kept_when_another_provider_fails(
    store: ProviderStore, fake: FakeProvider
) -> None:
    seed(store, "ok", fake.base_url, api_key=KEY)
    seed(store, "down", "http://127.0.0.1:9/v1", api_key=KEY, valid_models={"x": "x"})
    client = ProviderClient(connect_timeout=2, read_timeout=10, deadline=20, retries=0)
    with ModelDiscoveryService(store, client=client) as service:
        manager = ProviderManager(store=store, service=service)
        assert manager.discover_models() is False

    report = manager.last_report
    assert report is not None and not report.persisted
    verdicts = store.load_verdicts("ok")
    assert set(verdicts) == {"a", "b"} and all(v.valid for v in verdicts.values())
    # The legacy all-or-nothing rule still holds for the curated lists.
    assert store.get_config("ok").valid_models == {}
    assert store.get_config("down").valid_models == {"x": "x"}


# -- a failed cache write is a failure --------------------------------------------------------


def refuse_cache_writes(store: ProviderStore) -> None:
    """A trigger that makes every write of the discovery cache column fail, as a full disk."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_cache BEFORE UPDATE OF models_cache ON provider "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_cache() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; "
                    "END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_cache BEFORE UPDATE OF models_cache ON provider "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_cache()"
                )
            )


def test_a_failed_cache_write_is_a_failure_in_the_library(
    store: ProviderStore, stored_provider: ProviderConfig
) -> None:
    refuse_cache_writes(store)
    with ModelDiscoveryService(store) as service:
        result = service.discover(store.get_config("p"))
        assert result.source is Source.FRESH and not result.ok
        assert isinstance(result.error, CacheWriteError)
        manager = ProviderManager(store=store, service=service)
        assert manager.discover_models() is False
    summary = manager.last_report.providers[0] if manager.last_report else None
    assert summary is not None and summary.status == "failed"
    assert summary.error is not None and "could not be saved" in summary.error
    assert store.read_cache("p").models is None


@pytest.mark.slow
def test_a_failed_cache_write_fails_the_cli(
    store: ProviderStore, stored_provider: ProviderConfig
) -> None:
    refuse_cache_writes(store)
    done = run_entry_point("--db", store.url, "discover")
    assert done.returncode == 1
    assert "results saved" not in done.stdout and "Traceback" not in done.stderr
    assert "failed" in done.stdout and "could not be saved" in done.stdout


# -- a missing key: one rule ------------------------------------------------------------------


def test_a_provider_without_a_key_is_skipped_by_the_library(
    store: ProviderStore, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(env_var_for("p"), raising=False)
    seed(store, "p", fake.base_url, api_key="")
    with ModelDiscoveryService(store) as service:
        result = service.discover(store.get_config("p"))
        assert result.source is Source.NONE and isinstance(result.error, MissingKeyError)
        assert env_var_for("p") in str(result.error) and "p" in str(result.error)
        assert not service.validate_model(store.get_config("p"), "a")
        manager = ProviderManager(store=store, service=service)
        assert manager.discover_models() is False  # every provider was skipped
    assert fake.request_count() == 0  # never an empty "Authorization: Bearer "
    summary = manager.last_report.providers[0] if manager.last_report else None
    assert summary is not None and summary.status == "skipped"
    assert summary.error is not None and env_var_for("p") in summary.error

    monkeypatch.setenv(env_var_for("p"), "sk-from-env-0123")
    with ModelDiscoveryService(store) as service:
        assert service.discover(store.get_config("p")).source is Source.FRESH
    assert {r.headers.get("Authorization") for r in fake.requests} == {"Bearer sk-from-env-0123"}


def test_a_provider_without_a_key_is_skipped_by_the_cli(
    store: ProviderStore,
    fake: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(env_var_for("p"), raising=False)
    seed(store, "p", fake.base_url, api_key="")
    code, out, err = run_cli(capsys, "--db", store.url, "discover")
    assert code == 1
    assert "skipped" in out and f"${env_var_for('p')}" in out + err
    assert fake.request_count() == 0

    seed(store, "k", fake.base_url, api_key=KEY)
    code, out, err = run_cli(capsys, "--db", store.url, "discover")
    assert code == 0, out + err  # one provider ran: the skip is not a failure
    assert f"${env_var_for('p')}" in out + err
