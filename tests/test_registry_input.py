"""Registry input held to the standards of provider input: an overall deadline and a size cap
for files and URLs, only regular files, redirects checked like a provider's base URL, no
credentials stored or printed, a body cut short a clean error, and never a traceback.

Real parts only: real files, a real FIFO and device, a real loopback HTTP server that drips,
redirects or cuts its answers short.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli as run

from provider_store import ProviderConfig, ProviderStore
from provider_store.errors import InvalidRegistryError, RegistryError
from provider_store.registries.litellm import load_litellm
from provider_store.registries.source_input import read_registry
from provider_store.testing import FakeProvider

MARGIN = 2.5  # seconds allowed past a deadline before a test calls it a failure
PROCESS_MARGIN = 8.0
COST_MAP = json.dumps(
    {"gpt-4o": {"litellm_provider": "openai", "max_input_tokens": 128000}}
).encode()


class RawServer:
    """A loopback HTTP server that answers every request with ``answer(path)``: a list of
    (bytes, pause before them) pieces, sent as given, then the connection is closed."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[bytes, float]]] = {}
        self.paths: list[str] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, path: str, *, userinfo: str = "") -> str:
        port = self._listener.getsockname()[1]
        return f"http://{userinfo}127.0.0.1:{port}{path}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            path = request.split(b" ", 2)[1].decode()
            self.paths.append(path)
            for piece, pause in self.answers.get(path.split("?")[0], [(_status(404), 0)]):
                if pause and self._stop.wait(pause):
                    return
                try:
                    conn.sendall(piece)
                except OSError:
                    return


def _status(code: int, headers: str = "", body: bytes = b"") -> bytes:
    head = f"HTTP/1.1 {code} X\r\nConnection: close\r\n{headers}"
    if "Content-Length" not in headers:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


@pytest.fixture
def server() -> Iterator[RawServer]:
    with RawServer() as raw:
        yield raw


def test_a_fifo_is_refused_at_once_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "prices.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InvalidRegistryError, match="not a regular file \\(a FIFO\\)") as caught:
        read_registry(fifo)
    assert time.monotonic() - started < MARGIN
    assert str(caught.value).startswith(str(fifo))


@pytest.mark.parametrize(
    ("target", "kind"), [("/dev/zero", "a character device"), (".", "a directory")]
)
def test_a_device_or_a_directory_is_refused(target: str, kind: str) -> None:
    with pytest.raises(InvalidRegistryError, match=f"not a regular file \\({kind}\\)"):
        read_registry(target)


def test_a_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2000)
    with pytest.raises(InvalidRegistryError, match="larger than the 1,000 byte cap"):
        read_registry(path, limit=1000)


def test_a_url_dripping_a_byte_every_two_seconds_stops_at_the_deadline(
    server: RawServer,
) -> None:
    head = _status(200, f"Content-Length: {len(COST_MAP)}\r\n")
    server.answers["/slow.json"] = [(head, 0)] + [(bytes([b]), 2.0) for b in COST_MAP]
    started = time.monotonic()
    with pytest.raises(RegistryError, match="within the 1 s deadline") as caught:
        read_registry(server.url("/slow.json"), deadline=1.0)
    assert 0.9 <= time.monotonic() - started < 1.0 + MARGIN
    assert not isinstance(caught.value, InvalidRegistryError)


def test_a_body_cut_short_is_a_clean_registry_error(server: RawServer) -> None:
    server.answers["/short.json"] = [(_status(200, "Content-Length: 5000\r\n", b'{"gpt'), 0)]
    with pytest.raises(RegistryError, match="the body was cut short"):
        read_registry(server.url("/short.json"))


def test_a_body_over_the_cap_is_refused(server: RawServer) -> None:
    server.answers["/big.json"] = [(_status(200, body=b" " * 5000), 0)]
    with pytest.raises(InvalidRegistryError, match="larger than the 1,000 byte cap"):
        read_registry(server.url("/big.json"), limit=1000)


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("http://169.254.169.254/latest/meta-data", "link-local or cloud metadata address"),
        ("http://metadata.google.internal/x", "link-local or cloud metadata address"),
        ("https://127.0.0.1:1/prices.json", "a change of scheme is not followed"),
        ("file:///etc/passwd", "a change of scheme is not followed"),
    ],
)
def test_redirects_are_checked_like_a_providers_base_url(
    server: RawServer, location: str, says: str
) -> None:
    server.answers["/moved.json"] = [(_status(302, f"Location: {location}\r\n"), 0)]
    with pytest.raises(RegistryError, match=says):
        read_registry(server.url("/moved.json"))
    assert server.paths == ["/moved.json"]  # nothing was fetched from the target


def test_a_redirect_to_another_host_of_the_same_scheme_is_followed(server: RawServer) -> None:
    server.answers["/moved.json"] = [
        (_status(301, f"Location: {server.url('/prices.json')}\r\n"), 0)
    ]
    server.answers["/prices.json"] = [(_status(200, body=COST_MAP), 0)]
    registry = load_litellm(server.url("/moved.json"))
    assert registry.match("openai", "", "gpt-4o").entry is not None


def test_credentials_in_a_url_are_used_but_never_stored_or_printed(
    server: RawServer, store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    server.answers["/prices.json"] = [(_status(200, body=COST_MAP), 0)]
    secret = server.url("/prices.json", userinfo="me:s3cret@") + "?sig=t0ken"
    store.save_config(
        "openai", ProviderConfig(name="OpenAI", base_api_url="https://api.openai.com/v1")
    )
    store.rows.write_cache("openai", [{"id": "gpt-4o"}], fetched_at=time.time())
    store.fill_from_registries(litellm=secret, models_dev=False)
    shown = store.model_metadata("openai", "gpt-4o")
    assert shown.values["max_input_tokens"].value == 128000
    code, out, err = run(capsys, "--db", store.url, "registries", "check", "--json")
    assert code == 0, err
    (source,) = json.loads(out)["sources"]
    assert source["location"] == server.url("/prices.json")
    missing = server.url("/missing.json", userinfo="me:s3cret@") + "?sig=t0ken"
    code, out, err = run(
        capsys, "--db", store.url, "registries", "update", "--litellm", missing, "--no-models-dev"
    )
    assert code == 1 and "HTTP 404" in err and err.count("\n") == 1
    code, show_out, _err = run(capsys, "--db", store.url, "models", "show", "openai/gpt-4o", "-v")
    for text in (out, err, show_out):
        assert "s3cret" not in text and "t0ken" not in text


@pytest.mark.parametrize(
    ("make", "code", "says"),
    [
        (lambda tmp: _fifo(tmp), 2, "not a regular file (a FIFO)"),
        (lambda tmp: _file(tmp, b'{"a": NaN'), 2, "not JSON"),
        (lambda tmp: str(tmp / "nope.json"), 1, "cannot read the registry"),
    ],
)
def test_a_bad_registry_on_the_command_line_is_one_line_and_its_exit_code(
    store: ProviderStore,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    make: object,
    code: int,
    says: str,
) -> None:
    where = make(tmp_path)  # type: ignore[operator]
    exit_code, out, err = run(
        capsys, "--db", store.url, "registries", "update", "--litellm", where, "--no-models-dev"
    )
    assert (exit_code, out) == (code, "")
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def _fifo(folder: Path) -> str:
    path = folder / "fifo.json"
    os.mkfifo(path)
    return str(path)


def _file(folder: Path, body: bytes) -> str:
    path = folder / "bad.json"
    path.write_bytes(body)
    return str(path)


@pytest.mark.fake(["gpt-4o"])
def test_discover_with_a_slow_cost_map_url_never_hangs(
    store: ProviderStore,
    fake: FakeProvider,
    server: RawServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``PROVIDER_STORE_LITELLM=<slow URL> discover`` stores the refresh, says in one line that
    the registry was not read, and ends within its --deadline."""
    head = _status(200, f"Content-Length: {len(COST_MAP)}\r\n")
    server.answers["/slow.json"] = [(head, 0)] + [(bytes([b]), 2.0) for b in COST_MAP]
    store.save_config("local", ProviderConfig(name="Local", base_api_url=fake.base_url))
    monkeypatch.setenv("LOCAL_API_KEY", "sk-test-0123456789")
    code, _out, err = run(capsys, "--db", store.url, "discover", "--no-validate")
    assert code == 0, err
    # The list is fresh now: the next run answers from the catalog, and the registry step has
    # what is left of the run's deadline.
    monkeypatch.setenv("PROVIDER_STORE_LITELLM", server.url("/slow.json"))
    started = time.monotonic()
    code, _out, err = run(
        capsys, "--db", store.url, "discover", "--no-validate", "--deadline", "1.5"
    )
    assert time.monotonic() - started < 1.5 + MARGIN
    assert code == 0, err
    assert "warning: registry metadata not updated:" in err and "deadline" in err
    assert "Traceback" not in err
    assert "gpt-4o" in store.list_model_infos("local")


@pytest.mark.parametrize("deadline", [float("nan"), float("inf"), 0.0, -1.0])
def test_a_deadline_that_is_not_a_number_of_seconds_is_refused(
    tmp_path: Path, deadline: float
) -> None:
    from provider_store.errors import ConfigurationError

    path = tmp_path / "prices.json"
    path.write_bytes(COST_MAP)
    with pytest.raises(ConfigurationError, match="registry deadline must be more than 0"):
        read_registry(path, deadline=deadline)
