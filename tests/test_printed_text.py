"""What a user, a provider or a registry wrote is printed escaped on every command, and a key
echoed back by a provider is masked however it was transformed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import run_cli

from provider_store import ProviderStore
from provider_store.rules import mask_key_echoes
from provider_store.testing import FakeProvider

RLO = "\u202e"  # right-to-left override: "m<RLO>txt.exe" shows as "mexe.txt"
TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title

pytestmark = pytest.mark.fake(["m", f"m{RLO}txt.exe"])


def _raw(text: str) -> bool:
    return "\x1b" in text or "\x07" in text or RLO in text


def test_curation_verbs_print_what_they_were_given_escaped(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.url
    url = f"{fake.base_url}/{RLO}x"
    code, out, err = run_cli(capsys, "--db", db, "providers", "add", "p", url, "--no-key")
    assert code == 0, err
    assert not _raw(out + err) and "\\u202ex" in out
    store.update_provider("p", base_api_url=fake.base_url)
    assert run_cli(capsys, "--db", db, "discover", "p")[0] == 0
    for args in (
        ["models", "alias", "p/m", TITLE],
        ["models", "mark", f"p/m{RLO}txt.exe", "invalid", "--reason", TITLE],
        ["models", "unmark", f"p/m{RLO}txt.exe"],
        ["models", "unalias", "p/m"],
        ["providers", "set", "p", "--name", TITLE],
        ["models", "list"],
        ["models", "show", "p/m"],
        ["providers", "list"],
    ):
        code, out, err = run_cli(capsys, "--db", db, *args)
        assert code == 0, (args, err)
        assert not _raw(out + err), (args, out)
    code, out, _ = run_cli(capsys, "--db", db, "models", "alias", "p/m", TITLE)
    assert "\\x1b]0;pwned\\x07" in out


# -- a key echoed back by a provider, transformed ------------------------------------------------

KEY = "sk-live-0123456789abcdefghijKLMNOP"
ECHOES = {
    "spaced": " ".join(KEY),
    "reversed": KEY[::-1],
    "dotted": ".".join(KEY[5:25]),
    "upper": KEY.upper(),
    "verbatim": KEY,
}


def _spells_the_key(text: str) -> bool:
    letters = "".join(c for c in KEY.casefold() if c.isalnum())
    shown = "".join(c for c in text.casefold() if c.isalnum())
    runs = [letters[i : i + 8] for i in range(len(letters) - 7)]
    return any(run in shown or run[::-1] in shown for run in runs)


class _Echo(BaseHTTPRequestHandler):
    """401 with an error message that echoes the key sent, transformed as the path says."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        kind = self.path.strip("/").split("/")[0]
        body = json.dumps(
            {"error": {"message": f"Incorrect API key provided: {ECHOES[kind]}", "code": 401}}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_key_echoed_spaced_out_or_reversed_is_never_stored_or_shown(
    store: ProviderStore, echo_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.url
    for kind in ECHOES:
        store.add_provider(kind, f"{echo_server}/{kind}/v1")
        store.set_api_key(kind, KEY)
    code, out, err = run_cli(capsys, "-v", "--db", db, "discover")
    assert code == 1
    assert "Incorrect API key provided" in out + err
    assert not _spells_the_key(out + err), out + err
    for kind in ECHOES:
        stored = store.read_cache(kind).last_error or ""
        assert "Incorrect API key provided: ***" in stored, stored
        assert not _spells_the_key(stored), (kind, stored)
    for args in (["providers", "list"], ["providers", "list", "--json"]):
        code, out, err = run_cli(capsys, "--db", db, *args)
        assert code == 0 and "***" in out and not _spells_the_key(out + err)


def test_masking_keeps_ordinary_text() -> None:
    text = "Incorrect API key provided; see https://platform.example.com/account/api-keys"
    assert mask_key_echoes(text, KEY) == text
    assert mask_key_echoes(f"a {KEY[3:20]} b", KEY) == "a *** b"
    assert mask_key_echoes(f"a {' '.join(KEY[::-1][:12])} b", KEY) == "a *** b"
