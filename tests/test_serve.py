"""``provider-store serve`` as a real process, on each backend: what an HTTP client sees."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import zygote
from conftest import BACKENDS
from helpers import FAKE_KEY
from pg_schema import create_schema, drop_schema
from serve_process import COMMAND, EventStream, Server, serving

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore
from provider_store.model_info import METADATA_FIELDS
from provider_store.testing import FakeProvider

pytestmark = pytest.mark.slow

PLANTED = "sk-planted-9f8e7d6c5b4a39281706"
LITELLM_MAP = Path(os.environ.get("PROVIDER_STORE_REGISTRIES_DIR", "/nonexistent")) / (
    "litellm-model-prices-1.110.2.json"
)


def _seed(store: ProviderStore, base_url: str = "http://127.0.0.1:9/v1") -> None:
    store.save_config(
        "p",
        ProviderConfig(
            name="P",
            base_api_url=base_url,
            api_key=PLANTED,
            valid_models={"m1": "one", "org/m2": "org/m2"},
            invalid_models=["broken"],
        ),
    )
    store.save_config(
        "q",
        ProviderConfig(name="Q", base_api_url=base_url, api_key=PLANTED, valid_models={"x": "x"}),
    )


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per backend (and test worker) for the tests that only read: providers p and
    q of :func:`_seed`, and r sharing q's model ``x``. No test using it may write."""
    postgres = "" if request.param == "sqlite" else request.getfixturevalue("postgres_server_url")
    if not postgres:
        url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'catalog.db'}"
        schema = None
    else:
        url, schema = create_schema(postgres, "ps_serve")
    try:
        with ProviderStore(url) as store:
            _seed(store)
            store.save_config(
                "r",
                ProviderConfig(
                    name="R", base_api_url="http://127.0.0.1:9/v1", valid_models={"x": "x"}
                ),
            )
        with serving(url) as server:
            yield server
    finally:
        if schema is not None:
            drop_schema(postgres, schema)


def test_the_openai_client_lists_exactly_the_usable_models(seeded: Server) -> None:
    server = seeded
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
    listed = client.models.list()
    assert sorted(model.id for model in listed) == ["p/m1", "p/org/m2", "q/x", "r/x"]
    assert {model.owned_by for model in listed} == {"p", "q", "r"}
    every = server.json("/v1/models?include=all")["data"]
    assert {(m["id"], m["status"]) for m in every} >= {("p/broken", "invalid")}
    one = server.json("/v1/models/p/org/m2")
    assert (one["provider"], one["model"], one["status"]) == ("p", "org/m2", "valid")
    assert [m["id"] for m in server.json("/v1/models?provider=q")["data"]] == ["q/x"]


def test_resolve_answers_as_the_library_does_with_candidates(seeded: Server) -> None:
    server = seeded
    found = server.json("/v1/resolve?model=one")
    assert (found["id"], found["alias"]) == ("p/m1", "one")
    shared = server.json("/v1/resolve?model=x")
    assert shared["id"] == "q/x" and shared["candidates"] == ["q/x", "r/x"]
    status, _h, body = server.get("/v1/resolve?model=x&strict=true")
    assert status == 409 and json.loads(body)["error"]["candidates"] == ["q/x", "r/x"]
    status, _h, body = server.get("/v1/resolve?model=onee")
    assert status == 404 and "p/m1" in json.loads(body)["error"]["suggestions"][0]


def _import_file(tmp_path: Path) -> Path:
    document = {
        "providers": {
            "n": {
                "name": "N",
                "base_api_url": "http://127.0.0.1:9/v1",
                "api_key": PLANTED,
                "valid_models": {"fresh-model": "fresh"},
            }
        }
    }
    path = tmp_path / "more.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
    return path


def test_an_import_by_another_process_shows_within_a_second(
    store: ProviderStore, db_url: str, tmp_path: Path
) -> None:
    _seed(store)
    with serving(db_url) as server:
        etag = server.get("/v1/models")[1]["etag"]
        stream = EventStream(server)
        done = zygote.run(
            [*COMMAND, "--db", db_url, "import", str(_import_file(tmp_path))],
            capture_output=True,
            text=True,
            timeout=60,
        )
        committed = time.monotonic()
        assert done.returncode == 0, done.stderr
        while "n/fresh-model" not in {m["id"] for m in server.json("/v1/models")["data"]}:
            assert time.monotonic() - committed < 1.0, "the import is not served after 1 s"
            time.sleep(0.02)
        at = stream.wait_for("models", lambda d: "n/fresh-model" in d["added"], 1.0)
        assert at is not None and at - committed < 1.0
        status, headers, _body = server.get("/v1/models", {"If-None-Match": etag})
        assert status == 200 and headers["etag"] != etag
        stream.close()


@pytest.mark.fake(["a", "b"])
def test_a_discovery_by_another_process_shows_within_a_second(
    store: ProviderStore, db_url: str, fake: FakeProvider
) -> None:
    store.save_config("p", ProviderConfig(name="P", base_api_url=fake.base_url, api_key=FAKE_KEY))
    with serving(db_url) as server:
        assert server.json("/v1/models")["data"] == []
        stream = EventStream(server)
        done = zygote.run(
            [*COMMAND, "--db", db_url, "discover", "p"], capture_output=True, text=True, timeout=60
        )
        committed = time.monotonic()
        assert done.returncode == 0, done.stderr
        while {m["id"] for m in server.json("/v1/models")["data"]} != {"p/a", "p/b"}:
            assert time.monotonic() - committed < 1.0, "the discovery is not served after 1 s"
            time.sleep(0.02)
        at = stream.wait_for("models", lambda d: {"p/a", "p/b"} <= set(d["added"]), 1.0)
        assert at is not None and at - committed < 1.0
        # The feed's events of the discovery arrive on the stream too, with their cursor.
        assert stream.wait_for("change", lambda d: d["model"] in ("a", "b"), 2.0) is not None
        feed = server.json("/v1/changes")
        assert feed["data"] and feed["cursor"] == str(feed["data"][-1]["id"])
        assert server.json(f"/v1/changes?since={feed['cursor']}")["data"] == []
        stream.close()


def _reread(server: Server) -> float:
    text = server.get("/metrics")[2].decode()
    name = "provider_store_serve_providers_reread"
    line = next(x for x in text.splitlines() if x.startswith(name))
    return float(line.split()[-1])


def test_a_commit_to_one_provider_rereads_only_that_provider(
    store: ProviderStore, db_url: str
) -> None:
    _seed(store)
    store.save_config("r", ProviderConfig(name="R", base_api_url="http://127.0.0.1:9/v1"))
    with serving(db_url) as server:
        before = _reread(server)
        store.set_alias("q", "x", "ex")  # this test's process: another process than the server
        committed = time.monotonic()
        while "ex" not in server.json("/v1/models?provider=q")["data"][0]["aliases"]:
            assert time.monotonic() - committed < 1.0
            time.sleep(0.02)
        assert _reread(server) - before == 1.0
        assert server.json("/v1/resolve?model=ex")["id"] == "q/x"


@pytest.mark.above_the_store
def test_if_none_match_gives_304_and_gzip_is_offered(seeded: Server) -> None:
    server = seeded
    status, headers, body = server.get("/v1/models")
    etag = headers["etag"]
    assert status == 200 and body
    status, headers, empty = server.get("/v1/models", {"If-None-Match": etag})
    assert (status, empty, headers["etag"]) == (304, b"", etag)
    status, _h, _b = server.get("/v1/models?include=all", {"If-None-Match": f"W/{etag}"})
    assert status == 304
    assert server.get("/v1/models", {"If-None-Match": '"other"'})[0] == 200
    status, headers, zipped = server.get("/v1/models", {"Accept-Encoding": "gzip"})
    assert headers["content-encoding"] == "gzip" and gzip.decompress(zipped) == body


def test_a_planted_key_is_never_served(seeded: Server) -> None:
    server = seeded
    stream = EventStream(server, "/v1/changes/stream?since=0")
    paths = [
        "/v1/models",
        "/v1/models?include=all",
        "/v1/models/p/m1",
        "/v1/models/p/nothing",
        "/v1/resolve?model=one",
        "/v1/resolve?model=nothing",
        "/v1/changes",
        "/metrics",
        "/healthz",
        "/openapi.json",
        "/v1/models?min_context=x",
        "/nowhere",
    ]
    for path in paths:
        status, headers, body = server.get(path)
        assert status < 500, (path, status, body)
        assert PLANTED not in body.decode() + json.dumps(headers), path
    stream.close()
    assert PLANTED not in json.dumps(stream.events)


@pytest.mark.above_the_store
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/models?min_context=-1", "min_context"),
        ("/v1/models?min_context=abc", "min_context"),
        ("/v1/models?min_context=99999999999999999999999", "min_context"),
        ("/v1/models?capability=teleport", "capability"),
        ("/v1/models?include=everything", "include"),
        ("/v1/models?provider=", "provider"),
        ("/v1/models?include=all&include=all", "include"),
        ("/v1/models?bogus=1", "bogus"),
        ("/v1/models?provider=%00", "provider"),
        ("/v1/models?provider=" + "a" * 600, "provider"),
        ("/v1/resolve", "model"),
        ("/v1/resolve?model=%0a", "model"),
        ("/v1/resolve?model=a&strict=maybe", "strict"),
        ("/v1/changes?since=-5", "since"),
        ("/v1/changes?since=1e9", "since"),
        ("/v1/changes?limit=0", "limit"),
        ("/v1/changes?limit=100000", "limit"),
        ("/v1/changes/stream?since=x", "since"),
        ("/healthz?verbose=1", "verbose"),
    ],
)
def test_a_hostile_query_is_a_400_naming_the_parameter(
    seeded: Server, path: str, param: str
) -> None:
    status, headers, body = seeded.get(path)
    assert status == 400, (status, body)
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["param"] == param


@pytest.mark.above_the_store
def test_oversized_and_unread_requests_are_refused(seeded: Server) -> None:
    server = seeded
    assert server.get("/v1/models?provider=" + "a" * 5000)[0] == 414
    assert server.get("/" + "a" * 3000)[0] == 414
    assert server.get("/v1/models", {f"x-h{i}": "1" for i in range(80)})[0] == 431
    status, headers, _body = server.get("/v1/models", method="POST")
    assert status == 405 and "GET" in headers["allow"]
    host, port = server.address
    with socket.create_connection((host, port), timeout=5) as raw:
        big = b"X-Big: " + b"a" * 40_000
        raw.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n\r\n")
        answer = raw.recv(200)
    assert answer.startswith(b"HTTP/1.1 4"), answer
    assert server.get("/healthz")[0] == 200  # still serving


@pytest.mark.above_the_store
def test_a_non_loopback_address_needs_a_read_token(store: ProviderStore, db_url: str) -> None:
    done = zygote.run(
        [*COMMAND, "--db", db_url, "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--token-env" in done.stderr
    assert "Traceback" not in done.stderr
    token = "t" * 24
    env = {"PS_READ_TOKEN": token}
    with serving(db_url, "--host", "0.0.0.0", "--token-env", "PS_READ_TOKEN", env=env) as server:
        server.url = server.url.replace("0.0.0.0", "127.0.0.1")
        assert server.get("/v1/models")[0] == 401
        assert server.get("/v1/models", {"Authorization": "Bearer " + "t" * 23 + "u"})[0] == 401
        assert server.get("/v1/models", {"Authorization": f"Bearer {token}"})[0] == 200
        assert server.get("/healthz")[0] == 200


@pytest.mark.above_the_store
def test_no_cors_unless_asked(store: ProviderStore, db_url: str) -> None:
    origin = {"Origin": "https://dash.example"}
    with serving(db_url) as server:
        assert "access-control-allow-origin" not in server.get("/v1/models", origin)[1]
    with serving(db_url, "--cors", "https://dash.example") as server:
        headers = server.get("/v1/models", origin)[1]
        assert headers["access-control-allow-origin"] == "https://dash.example"
        other = server.get("/v1/models", {"Origin": "https://evil.example"})[1]
        assert "access-control-allow-origin" not in other


@pytest.mark.above_the_store
def test_sigterm_stops_it_within_a_second_with_a_stream_open(
    store: ProviderStore, db_url: str
) -> None:
    with serving(db_url) as server:
        stream = EventStream(server)
        seconds, code = server.stop()
        assert seconds < 1.0 and code == 0
        stream.close()


@pytest.mark.fake(["a", "b"])
def test_metrics_and_health(store: ProviderStore, db_url: str, fake: FakeProvider) -> None:
    store.save_config("p", ProviderConfig(name="P", base_api_url=fake.base_url, api_key=FAKE_KEY))
    done = zygote.run(
        [*COMMAND, "--db", db_url, "discover", "p"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    with serving(db_url) as server:
        status, headers, body = server.get("/metrics")
        text = body.decode()
        assert status == 200 and headers["content-type"].startswith("text/plain")
        assert 'provider_store_model_availability_ratio{model="a",provider="p"} 1.0' in text
        assert 'provider_store_model_ping_latency_seconds_count{model="a",provider="p"}' in text
        assert 'provider_store_provider_last_refresh_ok{provider="p"} 1.0' in text
        assert 'provider_store_provider_models{provider="p",status="valid"} 2.0' in text
        health = server.json("/healthz")
        assert health["status"] == "ok" and health["schema"]
        entry = server.json("/v1/models/p/a")
        assert entry["availability_7d"] == 1.0 and entry["latency_p50_ms"] is not None


def _cli_json(db_url: str, *args: str) -> Any:
    done = zygote.run(
        [*COMMAND, "--db", db_url, *args, "--json"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.fake(["gpt-4o", "my-finetune", "gone"], api_key=FAKE_KEY)
def test_a_model_answers_what_models_show_says(
    store: ProviderStore, db_url: str, fake: FakeProvider
) -> None:
    if not LITELLM_MAP.is_file():
        pytest.skip("PROVIDER_STORE_REGISTRIES_DIR does not hold the LiteLLM cost map")
    ids = ("gpt-4o", "my-finetune", "gone")
    store.save_config(
        "openai",
        ProviderConfig(
            name="OpenAI",
            base_api_url=fake.base_url,
            api_key=FAKE_KEY,
            valid_models=dict(zip(ids, ids, strict=True)),
        ),
    )
    fake.set_model_metadata("gpt-4o", {"context_length": 64000})
    with ModelDiscoveryService(store) as service:
        assert service.discover(store.get_config("openai"), force_refresh=True).error is None
        store.fill_from_registries(litellm=LITELLM_MAP)
        fake.set_models(["gpt-4o", "my-finetune"])  # "gone" is missing from the next listing
        assert service.discover(store.get_config("openai"), force_refresh=True).error is None
    values = ["--context", "32000", "--input-price", "0.5", "--capability", "tools"]
    _cli_json(db_url, "models", "set", "openai/my-finetune", *values)
    fields = [f.name for f in METADATA_FIELDS]
    with serving(db_url) as server:
        for name in ("openai/gpt-4o", "openai/my-finetune", "openai/gone"):
            shown = _cli_json(db_url, "models", "show", name)
            served = server.json(f"/v1/models/{name}")
            said = ("status", "status_reason", "usable", "verdict", "verdict_reason")
            assert {k: served[k] for k in said} == {k: shown[k] for k in said}, name
            metadata = served["metadata"]
            assert {f: metadata[f]["value"] for f in fields if f in metadata} == {
                f: shown[f] for f in fields if shown[f] is not None
            }, name
            assert {f: metadata[f]["source"] for f in fields if f in metadata} == {
                f: s["source"] for f, s in shown["sources"].items() if f in fields
            }, name
        gpt, mine, gone = (server.json(f"/v1/models/openai/{m}") for m in ids)
        sources = {m["source"] for m in gpt["metadata"].values()}
        assert "listed" in sources and any(s.startswith("litellm") for s in sources)
        assert mine["metadata"]["input_price"] == {"value": 0.5, "source": "user"}
        assert gone["status"] == "missing" and gone["usable"] is True
        assert gone["status_reason"].startswith("missing from the listing of ")
        # A missing model is usable, as in models list: listed by default, and with --all.
        listed = {m["id"]: m for m in server.json("/v1/models")["data"]}
        every = {m["id"]: m for m in server.json("/v1/models?include=all")["data"]}
        assert listed["openai/gone"] == every["openai/gone"] == gone
        assert sorted(listed) == sorted(
            m["provider"] + "/" + m["model"] for m in _cli_json(db_url, "models", "list")
        )


@pytest.mark.above_the_store
def test_the_openapi_description_covers_every_endpoint(seeded: Server) -> None:
    from provider_store.serve.query_params import PARAMETERS
    from provider_store.serve.routes import Endpoints

    served = {
        route.path.replace("{model:path}", "{model}")
        for route in Endpoints(None, None).routes()  # type: ignore[arg-type]
    }
    document = seeded.json("/openapi.json")
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == served
    for path, item in document["paths"].items():
        operation = item["get"]
        query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert query == set(PARAMETERS[path]), path
        assert "200" in operation["responses"]
        for ref in json.dumps(operation).split('"$ref": "')[1:]:
            name = ref.split('"')[0].rsplit("/", 1)[1]
            assert name in document["components"]["schemas"]


@pytest.mark.above_the_store
def test_a_missing_extra_is_one_line(db_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "uvicorn.py"
    blocker.write_text("raise ImportError('no uvicorn here')\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "provider_store", "--db", db_url, "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2
    assert done.stderr == "Error: serve needs uvicorn: pip install 'provider-store[serve]'\n"
