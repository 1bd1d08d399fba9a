"""ModelDiscoveryService: durable cache, stale-if-error, empty lists, verdicts; both backends."""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import zygote
from freezegun import freeze_time
from pytest_httpserver import HTTPServer
from sqlmodel import select

from provider_store import (
    BadResponseError,
    DiscoveryError,
    ModelDiscoveryService,
    ProviderClient,
    ProviderConfig,
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderStore,
    Source,
    ValidationResult,
)
from provider_store.catalog.states import ModelStatus, Verdict
from provider_store.catalog.tables import Model
from provider_store.discovery.service import EMPTY_LIST_TAG
from provider_store.testing import FakeProvider

KEY = "sk-test-SECRET-0123456789abcdef"


pytestmark = pytest.mark.fake(["a", "b"], api_key=KEY, hang_seconds=3)


@pytest.fixture
def service(store: ProviderStore) -> Iterator[ModelDiscoveryService]:
    client = ProviderClient(connect_timeout=1, read_timeout=0.5, deadline=5, backoff=0.01)
    with ModelDiscoveryService(store, client=client) as made:
        yield made
    client.close()


def add_provider(store: ProviderStore, base_url: str, key: str = "p") -> ProviderConfig:
    store.save_config(
        key, ProviderConfig(base_api_url=base_url, api_key=KEY, valid_models={"a": "A"})
    )
    return store.get_config(key)


def ids(models: list[dict[str, object]]) -> list[object]:
    return [m["id"] for m in models]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the durable cache -------------------------------------------------------------------------


def test_fresh_cache_answers_without_any_request(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    first = service.discover(add_provider(store, fake.base_url))
    assert first.source is Source.FRESH and first.ok and ids(first.models) == ["a", "b"]

    fake.reset_counts()
    config = store.get_config("p")  # a new config object: the cache comes from the database
    again = service.discover(config)

    assert again.source is Source.CACHE and ids(again.models) == ["a", "b"]
    assert again.fetched_at == first.fetched_at
    assert service.discover_models(config) == again.models
    assert fake.request_count() == 0
    assert config._cached_models == again.models and config._cache_timestamp == first.fetched_at


def test_cache_expires_after_the_providers_ttl(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    with freeze_time("2030-01-01 00:00:00") as clock:
        assert service.discover(config).source is Source.FRESH
        clock.tick(299)
        assert service.discover(config).source is Source.CACHE
        clock.tick(2)
        # Past the TTL a read waits for the refresh when stale-while-revalidate is off.
        assert service.discover(config, stale_while_revalidate=0).source is Source.FRESH
        store.rows.set_cache_ttl("p", 60)
        clock.tick(59)
        assert service.discover(config).source is Source.CACHE
        clock.tick(2)
        assert service.discover(config, stale_while_revalidate=0).source is Source.FRESH
    assert fake.request_count("/models") == 3
    assert config._cache_duration == 60


def test_force_refresh_always_asks(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    service.discover(config)
    fake.set_models(["c"])
    refreshed = service.discover(config, force_refresh=True)
    assert refreshed.source is Source.FRESH and ids(refreshed.models) == ["c"]
    assert ids(store.read_cache("p").models or []) == ["c"]
    assert fake.request_count("/models") == 2


FAILURES = [
    ("error:401", ProviderHTTPError, 401),
    ("error:429", ProviderHTTPError, 429),
    ("error:500", ProviderHTTPError, 500),
    ("html", BadResponseError, None),
    ("not-json", BadResponseError, None),
    ("no-data", BadResponseError, None),
    ("data-not-list", BadResponseError, None),
    ("items-without-id", BadResponseError, None),
    ("oversize", BadResponseError, None),
    ("oversize-stream", BadResponseError, None),
    ("hang", ProviderConnectionError, None),
    ("redirect", BadResponseError, None),
]


@pytest.mark.parametrize(("kind", "error_type", "status"), FAILURES)
def test_stale_if_error_keeps_the_last_good_list(
    store: ProviderStore,
    service: ModelDiscoveryService,
    fake: FakeProvider,
    kind: str,
    error_type: type[DiscoveryError],
    status: int | None,
) -> None:
    config = add_provider(store, fake.base_url)
    good = service.discover(config)
    with FakeProvider(["evil"], host="127.0.0.2") as other:
        fake.set_failure(kind, location=f"{other.base_url}/models")
        result = service.discover(config, force_refresh=True)
        assert other.request_count() == 0

    assert result.source is Source.STALE and not result.ok
    assert isinstance(result.error, error_type)
    assert result.models == good.models and result.fetched_at == good.fetched_at
    state = store.read_cache("p")
    assert state.models == good.models and state.fetched_at == good.fetched_at
    assert state.last_error is not None and state.last_error.startswith(error_type.__name__)
    assert state.last_error_status == status and state.last_error_at is not None
    assert KEY not in state.last_error

    fake.set_failure(None)
    healed = service.discover(config, force_refresh=True)
    assert healed.source is Source.FRESH
    assert store.read_cache("p").last_error is None


def test_stale_if_error_when_the_provider_is_gone(
    store: ProviderStore, service: ModelDiscoveryService
) -> None:
    with FakeProvider(["a"]) as fake:
        config = add_provider(store, fake.base_url)
        service.discover(config)
    result = service.discover(config, force_refresh=True)
    assert result.source is Source.STALE and ids(result.models) == ["a"]
    assert isinstance(result.error, ProviderConnectionError)
    assert (store.read_cache("p").last_error or "").startswith("ProviderConnectionError")


def test_no_list_and_a_failure_gives_none(
    store: ProviderStore, service: ModelDiscoveryService
) -> None:
    config = add_provider(store, f"http://127.0.0.1:{free_port()}/v1")
    result = service.discover(config)
    assert result.source is Source.NONE and result.models == [] and result.fetched_at is None
    assert service.discover_models(config) == []
    assert store.read_cache("p").last_error is not None


def test_empty_list_rule(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    service.discover(config)
    fake.set_failure("empty")

    first = service.discover(config, force_refresh=True)
    assert first.source is Source.STALE and ids(first.models) == ["a", "b"]
    assert EMPTY_LIST_TAG in (store.read_cache("p").last_error or "")
    assert store.read_cache("p").empty_list_strikes == 1  # a counted column, not a message

    second = service.discover(config, force_refresh=True)
    assert second.source is Source.FRESH and second.models == []
    state = store.read_cache("p")
    assert state.models == [] and state.last_error is None and state.empty_list_strikes == 0

    fake.reset_counts()
    assert service.discover(config).source is Source.FRESH  # an empty list is never fresh
    assert fake.request_count("/models") == 1


def test_an_empty_first_answer_is_stored_at_once(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    fake.set_models([])
    result = service.discover(add_provider(store, fake.base_url))
    assert result.source is Source.FRESH and result.models == []
    assert store.read_cache("p").models == []


def test_discovery_records_sightings_without_touching_the_curated_catalog(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    with freeze_time("2030-01-01 00:00:00") as clock:
        service.discover(config)
        clock.tick(1000)
        service.discover(config, force_refresh=True)
    with store.read() as session:
        rows = {m.model_id: m for m in session.exec(select(Model)).all()}
    assert rows["a"].status == ModelStatus.VALID and rows["a"].alias == "A"
    assert rows["b"].status == ModelStatus.UNVERIFIED
    for row in rows.values():
        assert row.first_seen_at is not None and row.last_seen_at is not None
        assert row.last_seen_at - row.first_seen_at == pytest.approx(1000)
    assert store.get_config("p").valid_models == {"a": "A"}


@pytest.mark.slow
def test_restart_across_processes_answers_from_the_database(
    db_url: str, store: ProviderStore, fake: FakeProvider
) -> None:
    add_provider(store, fake.base_url)
    script = (
        "import json, sys\n"
        "from provider_store import ModelDiscoveryService, ProviderStore\n"
        "store = ProviderStore(sys.argv[1])\n"
        "with ModelDiscoveryService(store) as service:\n"
        "    result = service.discover(store.get_config('p'))\n"
        "sys.stdout.write(json.dumps({'source': result.source.value,"
        " 'ids': [m['id'] for m in result.models]}))\n"
    )

    def run() -> dict[str, object]:
        done = zygote.run(
            [sys.executable, "-c", script, db_url], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    assert run() == {"source": "fresh", "ids": ["a", "b"]}
    assert fake.request_count() == 1
    assert run() == {"source": "cache", "ids": ["a", "b"]}
    assert fake.request_count() == 1


# -- loose configs keep the legacy in-memory cache -----------------------------------------------


def test_loose_config_uses_the_in_memory_cache(fake: FakeProvider) -> None:
    client = ProviderClient(read_timeout=0.5, backoff=0.01)
    with ModelDiscoveryService(client=client) as service:
        config = ProviderConfig(base_api_url=fake.base_url + "/", api_key=KEY)
        assert service.discover(config).source is Source.FRESH
        assert ids(config._cached_models) == ["a", "b"] and config._cache_timestamp > 0
        assert service.discover(config).source is Source.CACHE
        fake.set_failure("error:500")
        stale = service.discover(config, force_refresh=True)
        assert stale.source is Source.STALE and ids(stale.models) == ["a", "b"]
        fake.set_failure("empty")
        assert service.discover(config, force_refresh=True).source is Source.STALE
        assert service.discover(config, force_refresh=True).models == []
    client.close()


def test_legacy_discover_models_never_raises() -> None:
    with ModelDiscoveryService(client=ProviderClient(connect_timeout=0.5, backoff=0.01)) as service:
        assert service.discover_models(ProviderConfig(base_api_url="not a url")) == []
        url = f"http://127.0.0.1:{free_port()}/v1"
        assert service.discover_models(ProviderConfig(base_api_url=url), True) == []


# -- validation verdicts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "verdict"),
    [
        ("pong", Verdict.VALID),
        ("silent", Verdict.INVALID),
        ("refuse", Verdict.INVALID),
        ("error:404", Verdict.INVALID),
        ("error:422", Verdict.INCONCLUSIVE),
        ("error:402", Verdict.INCONCLUSIVE),
        ("error:401", Verdict.INCONCLUSIVE),
        ("error:403", Verdict.INCONCLUSIVE),
        ("error:429", Verdict.INCONCLUSIVE),
        ("error:500", Verdict.INCONCLUSIVE),
        ("error:503", Verdict.INCONCLUSIVE),
        ("timeout", Verdict.INCONCLUSIVE),
    ],
)
def test_each_verdict_class_is_stored(
    store: ProviderStore,
    service: ModelDiscoveryService,
    fake: FakeProvider,
    behaviour: str,
    verdict: Verdict,
) -> None:
    config = add_provider(store, fake.base_url)
    fake.set_model_behaviour("a", behaviour)

    result = service.check_model(config, "a")

    assert result.verdict is verdict and not result.reused and result.reason
    assert service.validate_model(config, "a") is (verdict is Verdict.VALID)
    stored = store.load_verdicts("p")["a"]
    assert (stored.verdict, stored.reason) == (verdict, result.reason)
    assert KEY not in stored.reason


def test_unknown_and_unreachable_models(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    missing = service.check_model(config, "no-such-model")
    assert missing.verdict is Verdict.INVALID
    with store.read() as session:
        row = session.exec(select(Model).where(Model.model_id == "no-such-model")).one()
    assert row.status == ModelStatus.UNVERIFIED and row.verdict == Verdict.INVALID

    gone = add_provider(store, f"http://127.0.0.1:{free_port()}/v1", key="gone")
    assert service.check_model(gone, "a").verdict is Verdict.INCONCLUSIVE


def test_verdicts_are_reused_for_a_day_then_rechecked(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    with freeze_time("2030-01-01 00:00:00") as clock:
        assert not service.check_model(config, "a").reused
        clock.tick(23 * 3600)
        reused = service.check_model(store.get_config("p"), "a")
        assert reused.reused and reused.verdict is Verdict.VALID
        assert fake.request_count("/chat/completions") == 1
        assert service.check_model(config, "a", force=True).reused is False
        assert fake.request_count("/chat/completions") == 2
        clock.tick(24 * 3600 + 1)
        assert service.check_model(config, "a").reused is False
        assert fake.request_count("/chat/completions") == 3


def test_inconclusive_verdicts_are_not_reused(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    fake.set_model_behaviour("a", "error:429")
    assert service.check_model(config, "a").verdict is Verdict.INCONCLUSIVE
    fake.set_model_behaviour("a", "pong")
    second = service.check_model(config, "a")
    assert second.verdict is Verdict.VALID and not second.reused
    assert fake.request_count("/chat/completions") == 2


def test_record_false_leaves_storing_to_the_caller(
    store: ProviderStore, service: ModelDiscoveryService, fake: FakeProvider
) -> None:
    config = add_provider(store, fake.base_url)
    results = [service.check_model(config, m, record=False) for m in ("a", "b", "zzz")]
    assert store.load_verdicts("p") == {}

    with store.transaction() as session:
        store.rows.record_verdicts("p", results, session=session)
        inside = store.load_verdicts("p", session=session)
    assert set(inside) == {"a", "b", "zzz"}
    loaded = store.load_verdicts("p", models=["a", "zzz"])
    assert loaded == {
        "a": ValidationResult("a", Verdict.VALID, results[0].reason, results[0].checked_at),
        "zzz": ValidationResult("zzz", Verdict.INVALID, results[2].reason, results[2].checked_at),
    }


def test_parallel_checks_from_many_threads(store: ProviderStore) -> None:
    names = [f"m{i}" for i in range(12)]
    # The default timeouts: the point is many threads storing verdicts at once, and the
    # `service` fixture's 0.5 s read timeout can fire on a machine busy with other tests.
    with FakeProvider(names, latency=0.05) as fake, ModelDiscoveryService(store) as service:
        config = add_provider(store, fake.base_url)
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda m: service.check_model(config, m), names))
    assert [r.verdict for r in results] == [Verdict.VALID] * len(names), results
    assert set(store.load_verdicts("p")) == set(names)


def test_validate_api_key(monkeypatch: pytest.MonkeyPatch, store: ProviderStore) -> None:
    with ModelDiscoveryService(store) as service:
        assert service.validate_api_key(ProviderConfig(api_key="sk-1"))
        assert not service.validate_api_key(ProviderConfig(api_key="  "))
        store.save_config("envy", ProviderConfig(api_key="sk-not-configured"))
        config = store.get_config("envy")
        assert not service.validate_api_key(config)
        monkeypatch.setenv("ENVY_API_KEY", "sk-from-env")
        assert service.validate_api_key(config)


# -- the key stays secret ----------------------------------------------------------------------


def test_the_key_never_reaches_logs_errors_or_stored_rows(
    store: ProviderStore,
    service: ModelDiscoveryService,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}"}}
    httpserver.expect_request("/v1/models").respond_with_json(echo, status=401)
    httpserver.expect_request("/v1/chat/completions").respond_with_json(echo, status=401)
    config = add_provider(store, httpserver.url_for("/v1"))

    result = service.discover(config)
    verdict = service.check_model(config, "a")

    assert result.source is Source.NONE and result.error is not None
    texts = [
        str(result.error),
        repr(result),
        repr(verdict),
        repr(service),
        repr(config),
        caplog.text,
        store.read_cache("p").last_error or "",
        store.load_verdicts("p")["a"].reason,
    ]
    for text in texts:
        assert KEY not in text
    assert "Incorrect API key provided: ***" in (store.read_cache("p").last_error or "")
