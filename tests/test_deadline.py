"""The deadline is a wall-clock promise: a provider dripping its answer is cut off at it.

A real loopback server (``drip_server.DripServer``) sends one byte every 0.2 s from the status
line, the headers or the body on; requests' per-read timeout never fires against it. Bounds are
"deadline + a generous margin" so that a noisy machine does not flake them.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zygote
from drip_server import DripServer

from provider_store import ProviderConfig, ProviderStore, ValidationResult, Verdict
from provider_store.discovery.service import ModelDiscoveryService, Source
from provider_store.errors import ProviderConnectionError
from provider_store.providers.client import ProviderClient
from provider_store.providers.deadline import deadline_scope

KEY = "sk-drip-0123456789"
MARGIN = 2.5  # seconds allowed past a deadline before a test calls it a failure
# A whole command's bound, start-up and exit included, on a machine busy with other tests: still
# far below the 30 s default deadline that a command ignoring --deadline would wait for.
PROCESS_MARGIN = 8.0


def check(client: ProviderClient, base_url: str, model: str = "m") -> ValidationResult:
    """The verdict of one ping of ``model`` through the discovery service (a loose config)."""
    service = ModelDiscoveryService(client=client)
    return service.check_model(ProviderConfig(base_api_url=base_url, api_key=KEY), model)


@pytest.fixture
def drip() -> Iterator[DripServer]:
    with DripServer(["alpha", "beta"]) as server:
        yield server


@pytest.mark.parametrize("part", ["status", "headers", "body"])
def test_a_dripping_model_list_is_cut_off_at_the_deadline(drip: DripServer, part: str) -> None:
    drip.drip = part
    with ProviderClient(read_timeout=10, deadline=1.0) as client:
        started = time.monotonic()
        with pytest.raises(ProviderConnectionError, match="deadline") as caught:
            client.list_models(drip.base_url, KEY)
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.0 + MARGIN
    assert "1 s deadline" in str(caught.value)


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_dripping_ping_answer_is_cut_off_at_the_deadline(drip: DripServer, part: str) -> None:
    drip.drip = part
    with ProviderClient(read_timeout=10, deadline=1.0) as client:
        started = time.monotonic()
        result = check(client, drip.base_url, "alpha")
        elapsed = time.monotonic() - started
    assert result.verdict is Verdict.INCONCLUSIVE and "deadline" in result.reason
    assert elapsed < 1.0 + MARGIN


def test_a_reused_keep_alive_connection_is_watched_too(drip: DripServer) -> None:
    with ProviderClient(read_timeout=10, deadline=1.0) as client:
        assert [m["id"] for m in client.list_models(drip.base_url, KEY)] == ["alpha", "beta"]
        drip.drip = "body"
        started = time.monotonic()
        with pytest.raises(ProviderConnectionError, match="deadline"):
            client.list_models(drip.base_url, KEY)
        assert time.monotonic() - started < 1.0 + MARGIN
        drip.drip = None
        # The cut connection is not handed out again: the next call gets a whole answer.
        assert len(client.list_models(drip.base_url, KEY)) == 2
    assert drip.connections == 2  # one reused for the first two calls, a new one after the cut


def test_answers_inside_the_deadline_are_untouched(drip: DripServer) -> None:
    with ProviderClient(deadline=1.0) as client:
        for _ in range(20):
            assert len(client.list_models(drip.base_url, KEY)) == 2
            assert check(client, drip.base_url, "alpha").verdict is Verdict.VALID
        time.sleep(1.2)  # past every earlier call's deadline: a late watchdog must not fire
        assert len(client.list_models(drip.base_url, KEY)) == 2


def test_a_deadline_scope_shortens_the_clients_deadline(drip: DripServer) -> None:
    drip.drip = "body"
    with ProviderClient(read_timeout=10, deadline=60) as client, deadline_scope(1.0):
        started = time.monotonic()
        with pytest.raises(ProviderConnectionError, match="deadline"):
            client.list_models(drip.base_url, KEY)
    assert time.monotonic() - started < 1.0 + MARGIN


def _stored_provider(db_url: str, base_url: str) -> ProviderStore:
    store = ProviderStore(db_url)
    store.save_config("drippy", ProviderConfig(name="Drippy", base_api_url=base_url, api_key=KEY))
    return store


def test_discovery_serves_the_stale_list_and_records_the_failure(
    db_url: str, drip: DripServer
) -> None:
    store = _stored_provider(db_url, drip.base_url)
    try:
        with ModelDiscoveryService(store, client=ProviderClient(deadline=1.0)) as service:
            config = store.get_config("drippy")
            assert service.discover(config, force_refresh=True).source is Source.FRESH
            drip.models = ["gamma"]
            drip.drip = "headers"
            started = time.monotonic()
            result = service.discover(config, force_refresh=True)
            elapsed = time.monotonic() - started
        assert elapsed < 1.0 + MARGIN
        assert result.source is Source.STALE
        assert [m["id"] for m in result.models] == ["alpha", "beta"]
        last_error = store.read_cache("drippy").last_error or ""
        assert "deadline" in last_error and KEY not in last_error
    finally:
        store.close()


def test_the_library_default_deadline_holds(db_url: str, drip: DripServer) -> None:
    """ModelDiscoveryService() with its own default ProviderClient: its watchdog cuts the exchange.

    The default is 30 s; the dripping exchange runs inside a 1 s :func:`deadline_scope`, which
    the default client honours as it honours its own deadline, so the test need not wait 30 s.
    """
    store = _stored_provider(db_url, drip.base_url)
    try:
        with ModelDiscoveryService(store) as service:
            assert service.client.deadline == 30.0
            config = store.get_config("drippy")
            service.discover(config, force_refresh=True)
            drip.drip = "body"
            started = time.monotonic()
            with deadline_scope(1.0):
                result = service.discover(config, force_refresh=True)
            elapsed = time.monotonic() - started
        assert 0.9 <= elapsed < 1.0 + MARGIN
        assert result.source is Source.STALE and len(result.models) == 2
        assert "deadline" in (store.read_cache("drippy").last_error or "")
    finally:
        store.close()


def _cli(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    exe = Path(sys.executable).with_name("provider-store")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "provider_store"]
    started = time.monotonic()
    done = zygote.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    return done, time.monotonic() - started


@pytest.mark.slow
def test_cli_discover_deadline_with_a_dripping_list(db_url: str, drip: DripServer) -> None:
    _stored_provider(db_url, drip.base_url).close()
    env = {**os.environ, "PROVIDER_STORE_URL": db_url}
    done, start_up = _cli("discover", "--no-validate", "--json", env=env)  # fills the cache
    assert done.returncode == 0, done.stderr
    drip.drip = "body"
    done, elapsed = _cli("discover", "--force-refresh", "--deadline", "1", "--json", env=env)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["seconds"] < 1 + MARGIN
    # The whole process, start-up included (measured by the quick run above on this machine).
    assert elapsed < start_up + 1 + PROCESS_MARGIN
    summary = report["providers"][0]
    assert (summary["status"], summary["source"], summary["discovered"]) == ("failed", "stale", 2)
    assert "deadline" in summary["error"]
    store = ProviderStore(db_url)
    try:
        cache = store.read_cache("drippy")
    finally:
        store.close()
    assert [m["id"] for m in cache.models or []] == ["alpha", "beta"]
    assert "deadline" in (cache.last_error or "")
    assert KEY not in done.stdout + done.stderr


@pytest.mark.slow
def test_cli_discover_deadline_with_dripping_pings(db_url: str, drip: DripServer) -> None:
    _stored_provider(db_url, drip.base_url).close()
    env = {**os.environ, "PROVIDER_STORE_URL": db_url}
    drip.drip = "body"
    drip.drip_paths = ("/chat/completions",)
    done, start_up = _cli("providers", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    done, elapsed = _cli("discover", "--deadline", "1", "--json", env=env)
    report = json.loads(done.stdout)
    assert report["seconds"] < 1 + MARGIN
    assert elapsed < start_up + 1 + PROCESS_MARGIN
    summary = report["providers"][0]
    assert (summary["discovered"], summary["inconclusive"], summary["valid"]) == (2, 2, 0)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for 127.0.0.1, made with the openssl tool."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    zygote.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_drip(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[DripServer]:
    """A dripping provider over TLS, its certificate trusted via REQUESTS_CA_BUNDLE."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with DripServer(["alpha", "beta"], tls=context) as server:
        yield server


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_dripping_tls_provider_is_cut_off_at_the_deadline(
    tls_drip: DripServer, part: str
) -> None:
    with ProviderClient(read_timeout=10, deadline=1.0) as client:
        assert len(client.list_models(tls_drip.base_url, KEY)) == 2  # TLS itself works
        tls_drip.drip = part
        started = time.monotonic()
        with pytest.raises(ProviderConnectionError, match="deadline"):
            client.list_models(tls_drip.base_url, KEY)
    assert time.monotonic() - started < 1.0 + MARGIN
