"""ProviderClient against loopback servers: headers, payload, retries, caps, redirects, secrecy."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from provider_store import ModelDiscoveryService, ProviderConfig, ValidationResult, Verdict
from provider_store.errors import (
    BadResponseError,
    DiscoveryError,
    ProviderConnectionError,
    ProviderHTTPError,
)
from provider_store.providers.client import ProviderClient, endpoint
from provider_store.testing import FakeProvider

KEY = "sk-test-SECRET-0123456789abcdef"
PING = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "If I say 'ping', you will respond with 'pong'."},
        {"role": "user", "content": "ping"},
    ],
    "max_tokens": 10,
    "temperature": 0.1,
}


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    with ProviderClient(connect_timeout=1, read_timeout=0.5, deadline=5, backoff=0.01) as made:
        yield made


pytestmark = pytest.mark.fake(["m", "n"], api_key=KEY, hang_seconds=3)


def check(client: ProviderClient, base_url: str, model: str = "m") -> ValidationResult:
    """The verdict of one ping of ``model`` through the discovery service (a loose config)."""
    service = ModelDiscoveryService(client=client)
    return service.check_model(ProviderConfig(base_api_url=base_url, api_key=KEY), model)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_urls_ignore_a_trailing_slash() -> None:
    assert endpoint("https://x/v1/", "models") == endpoint("https://x/v1", "models")
    assert endpoint("https://x/v1", "/chat/completions") == "https://x/v1/chat/completions"


@pytest.mark.parametrize("suffix", ["", "/", "//"])
def test_list_models_sends_exactly_the_key_and_content_type(
    client: ProviderClient, fake: FakeProvider, suffix: str
) -> None:
    models = client.list_models(fake.base_url + suffix, KEY)

    assert [m["id"] for m in models] == ["m", "n"]
    (request,) = fake.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"


def test_ping_payload_and_headers_are_exact(client: ProviderClient, fake: FakeProvider) -> None:
    result = check(client, fake.base_url)

    assert result.verdict is Verdict.VALID
    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.json == PING
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"


def test_get_is_retried_on_5xx_and_429(client: ProviderClient, fake: FakeProvider) -> None:
    fake.set_failure("error:503", times=1)
    assert len(client.list_models(fake.base_url, KEY)) == 2
    fake.set_failure("error:429", times=2)
    assert len(client.list_models(fake.base_url, KEY)) == 2
    assert fake.request_count("/models") == 5


def test_retries_are_bounded(client: ProviderClient, fake: FakeProvider) -> None:
    fake.set_failure("error:500")
    with pytest.raises(ProviderHTTPError) as caught:
        client.list_models(fake.base_url, KEY)
    assert caught.value.status == 500
    assert fake.request_count("/models") == 1 + client.retries


def test_retry_after_is_honoured(client: ProviderClient, fake: FakeProvider) -> None:
    fake.set_failure("error:429", retry_after="0.3", times=1)
    started = time.monotonic()
    client.list_models(fake.base_url, KEY)
    assert time.monotonic() - started >= 0.3


def test_a_retry_after_beyond_the_bound_gives_up_at_once(
    client: ProviderClient, fake: FakeProvider
) -> None:
    fake.set_failure("error:429", retry_after="3600")
    started = time.monotonic()
    with pytest.raises(ProviderHTTPError):
        client.list_models(fake.base_url, KEY)
    assert time.monotonic() - started < 1
    assert fake.request_count("/models") == 1


def test_post_ping_is_never_retried(client: ProviderClient, fake: FakeProvider) -> None:
    fake.set_model_behaviour("m", "error:503")
    result = check(client, fake.base_url)
    assert result.verdict is Verdict.INCONCLUSIVE and "HTTP 503" in result.reason
    assert fake.request_count("/chat/completions") == 1


def test_read_timeout_is_a_connection_error(client: ProviderClient, fake: FakeProvider) -> None:
    fake.set_failure("hang")
    started = time.monotonic()
    with pytest.raises(ProviderConnectionError, match="timed out"):
        client.list_models(fake.base_url, KEY)
    assert time.monotonic() - started < 2
    assert fake.request_count("/models") == 1  # a timeout is not retried


def test_overall_deadline_bounds_slow_providers(fake: FakeProvider) -> None:
    fake.latency = 0.3
    with ProviderClient(read_timeout=5, deadline=0.5, backoff=0.01) as slow:
        fake.set_failure("error:503")
        started = time.monotonic()
        with pytest.raises((ProviderHTTPError, ProviderConnectionError)):
            slow.list_models(fake.base_url, KEY)
        assert time.monotonic() - started < 1.5


def test_connection_refused(client: ProviderClient) -> None:
    with pytest.raises(ProviderConnectionError, match="connection failed"):
        client.list_models(f"http://127.0.0.1:{free_port()}/v1", KEY)


@pytest.mark.parametrize("kind", ["oversize", "oversize-stream"])
def test_oversize_bodies_are_an_error(
    client: ProviderClient, fake: FakeProvider, kind: str
) -> None:
    fake.set_failure(kind)  # 21 MiB against the default 20 MiB cap
    with pytest.raises(BadResponseError, match="cap"):
        client.list_models(fake.base_url, KEY)


def test_the_body_cap_is_configurable(fake: FakeProvider) -> None:
    fake.set_failure("oversize-stream", oversize_bytes=200_000)
    with ProviderClient(max_body_bytes=100_000) as small, pytest.raises(BadResponseError):
        small.list_models(fake.base_url, KEY)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("html", "did not answer JSON"),
        ("not-json", "did not answer JSON"),
        ("no-data", "without a 'data' list"),
        ("data-not-list", "without a 'data' list"),
        ("items-without-id", "without a string 'id'"),
    ],
)
def test_garbage_is_a_bad_response(
    client: ProviderClient, fake: FakeProvider, kind: str, message: str
) -> None:
    fake.set_failure(kind)
    with pytest.raises(BadResponseError, match=message):
        client.list_models(fake.base_url, KEY)


def test_same_host_redirect_is_followed(client: ProviderClient, fake: FakeProvider) -> None:
    fake.set_failure("redirect", location="/v1/models?moved=1", times=1)
    assert len(client.list_models(fake.base_url, KEY)) == 2
    assert fake.request_count("/models") == 2


@pytest.mark.parametrize(("bind", "name"), [("127.0.0.2", "127.0.0.2"), ("127.0.0.1", "localhost")])
def test_redirect_to_another_host_is_refused_and_the_key_stays_home(
    client: ProviderClient, fake: FakeProvider, bind: str, name: str
) -> None:
    with FakeProvider(["evil"], host=bind) as other:
        fake.set_failure("redirect", location=f"http://{name}:{other.port}/v1/models")
        with pytest.raises(BadResponseError, match="another host") as caught:
            client.list_models(fake.base_url, KEY)
        assert KEY not in str(caught.value)
        assert all(KEY not in str(r.headers) for r in other.requests)
        assert other.request_count() == 0


def test_the_key_never_appears_in_errors_reprs_or_logs(
    client: ProviderClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeProvider(["m"], api_key="another-key") as fake:
        with pytest.raises(ProviderHTTPError) as caught:
            client.list_models(fake.base_url, KEY)
        result = check(client, fake.base_url)
    texts = [str(caught.value), repr(caught.value), repr(client), repr(result), caplog.text]
    assert result.problem is not None and "HTTP 401" in result.problem
    for text in texts:
        assert KEY not in text


def test_a_key_that_cannot_be_a_header_is_rejected_without_echoing_it(
    client: ProviderClient, fake: FakeProvider
) -> None:
    bad = KEY + "\nX-Evil: 1"
    with pytest.raises(DiscoveryError) as caught:
        client.list_models(fake.base_url, bad)
    assert KEY not in str(caught.value)
    assert fake.request_count() == 0


def test_tls_verification_is_on(client: ProviderClient) -> None:
    assert client.session.verify is True


def test_keep_alive_connections_are_reused_across_many_hosts() -> None:
    # A discovery run talks to every provider at once; a pool per host is kept for each of them.
    fakes = [FakeProvider(["m"]) for _ in range(20)]
    for fake in fakes:
        fake.start()
    try:
        with ProviderClient() as client:
            for _round in range(3):
                for fake in fakes:
                    client.list_models(fake.base_url, KEY)
        for fake in fakes:
            assert len({request.peer for request in fake.requests}) == 1, fake.requests
    finally:
        for fake in fakes:
            fake.stop()


def test_proxy_settings_come_from_the_environment(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # a proxy nobody answers for
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ProviderClient(retries=0) as client, pytest.raises(ProviderConnectionError):
        client.list_models(fake.base_url, KEY)
    assert fake.request_count() == 0
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with ProviderClient(retries=0) as client:
        assert [m["id"] for m in client.list_models(fake.base_url, KEY)] == ["m", "n"]
