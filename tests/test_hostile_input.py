"""Hostile and careless input: a key echoed by a provider, numbers out of range, bogus URLs,
the test server's bad arguments. Each answer is one line, the right exit code, no traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import zygote

from provider_store import ProviderConfig, ProviderStore
from provider_store.errors import ConfigurationError
from provider_store.testing import FakeProvider


def _testing_server(*args: str) -> subprocess.CompletedProcess[str]:
    return zygote.run(
        [sys.executable, "-m", "provider_store.testing", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- item 16: python -m provider_store.testing --------------------------------------------------


def test_testing_server_on_a_port_in_use_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _testing_server("--port", str(port))
    assert result.returncode == 2
    line = _one_line_error(result)
    assert f"127.0.0.1:{port}" in line and "in use" in line and "--port 0" in line


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_testing_server_refuses_a_port_out_of_range(port: str) -> None:
    result = _testing_server("--port", port)
    assert result.returncode == 2
    line = _one_line_error(result)
    assert "out of range" in line and "--port 0" in line


@pytest.mark.parametrize("host", ["203.0.113.7", "no-such-host.invalid"])
def test_testing_server_on_a_host_it_cannot_bind_says_so_in_one_line(host: str) -> None:
    result = _testing_server("--host", host)
    assert result.returncode == 2
    line = _one_line_error(result)
    assert f"cannot listen on {host}:0" in line


def test_testing_server_lists_the_valid_behaviours_for_an_unknown_one() -> None:
    result = _testing_server("--models", "m", "--behaviour", "m=bogus")
    assert result.returncode == 2
    line = _one_line_error(result)
    assert "'bogus'" in line
    for name in ("pong", "refuse", "silent", "error:<status>", "timeout", "reasoning"):
        assert name in line


# -- item 5: a provider echoing the key into its model list ------------------------------------

KEY = "sk-live-0123456789abcdefghijKLMNOP"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return zygote.run(
        [sys.executable, "-m", "provider_store", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _holds_key_run(text: str) -> bool:
    return any(KEY[i : i + 8] in text for i in range(len(KEY) - 7))


@pytest.mark.slow
def test_a_listed_key_echo_is_never_stored_printed_or_exported(tmp_path: Path) -> None:
    db = str(tmp_path / "catalog.db")
    listed = ["ok", f"m-{KEY}", f"x-{KEY[5:15]}-y", "short-sk-live"]
    with FakeProvider(listed, api_key=KEY) as fake:
        fake.set_model_metadata("ok", {"desc": f"Bearer {KEY}", f"k{KEY[3:12]}": [KEY[:20]]})
        store = ProviderStore(db)
        store.save_config("p", ProviderConfig(name="P", base_api_url=fake.base_url, api_key=KEY))
        store.close()
        discovered = _cli("--db", db, "discover", "--no-validate")
    assert discovered.returncode == 0, discovered.stderr
    assert "holds the API key" in discovered.stderr
    assert not _holds_key_run(discovered.stdout + discovered.stderr)
    cache = ProviderStore(db).read_cache("p").models or []
    assert sorted(item["id"] for item in cache) == ["ok", "short-sk-live"]
    assert not _holds_key_run(json.dumps(cache))

    listing = _cli("--db", db, "models", "list")
    shown = _cli("--db", db, "models", "show", "p/ok", "--json")
    exported = _cli("--db", db, "export", "--redact-keys", "--with-metadata", "-")
    for result in (listing, shown, exported):
        assert result.returncode == 0, result.stderr
        assert not _holds_key_run(result.stdout + result.stderr)
    assert "Bearer ***" in shown.stdout


# -- item 7: --deadline out of range -------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e10", "inf", "1e308", "nan", "-inf", "0"])
def test_discover_refuses_a_deadline_out_of_range(tmp_path: Path, value: str) -> None:
    result = _cli("--db", str(tmp_path / "c.db"), "discover", f"--deadline={value}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "Invalid value for '--deadline'" in result.stderr


# -- item 11: database URLs in the library ------------------------------------------------------


@pytest.mark.parametrize("url", ["bogus:::x", "mysqlx:thing", "a\nb.db", "/tmp/x\x1b.db"])
def test_the_library_refuses_bogus_database_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ProviderStore(url)
    assert "\n" not in str(caught.value)


# -- a key that does not print -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\n", "x\ry", "\x1b[31m", "a\u2028b"])
def test_a_header_name_that_does_not_print_gets_a_one_line_error_naming_it(
    tmp_path: Path, name: str
) -> None:
    """An options.headers key holding a newline or another control: the import is refused in
    one line, the key shown escaped, and the catalog is left as it was."""
    db = str(tmp_path / "catalog.db")
    document = tmp_path / "door.yaml"
    document.write_text(
        json.dumps(
            {
                "providers": {
                    "p": {
                        "name": "P",
                        "base_api_url": "https://p.example/v1",
                        "api_key": "sk-p-0123456789",
                        "options": {"headers": {name: "v"}},
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    result = _cli("--db", db, "import", str(document))
    assert result.returncode == 2
    line = _one_line_error(result)
    assert "door.yaml:" in line and "is not a usable header" in line
    assert repr(name)[1:-1] in line
    assert ProviderStore(db).provider_keys() == []
