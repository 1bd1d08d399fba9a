"""Keyless local servers: added with --no-key (or `options: {no_key: true}` in YAML), never
skipped for a missing key, sent no key header, and their models pinged like any other's."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from helpers import run_cli as run

from provider_store import ProviderStore
from provider_store.testing import FakeProvider

SECRET = "sk-test-curation-0123456789abcd"


@pytest.fixture(autouse=True)
def no_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOCAL_API_KEY", "SECURE_API_KEY", "OLLAMA_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_empty_catalog_to_validated_keyless_and_keyed_providers_with_cli_verbs_only(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        FakeProvider(["llama3", "embed-only"]) as local,
        FakeProvider(["gpt-x", "gpt-y"], api_key=SECRET) as secure,
    ):
        local.set_model_behaviour("embed-only", "refuse")
        assert run(capsys, "--db", db_url, "providers", "add", "local", local.base_url,
                   "--no-key")[0] == 0  # fmt: skip
        assert run(capsys, "providers", "add", "secure", secure.base_url, "--db", db_url)[0] == 0
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(f"{SECRET}\n".encode())))
        code, out, err = run(capsys, "--db", db_url, "keys", "set", "secure")
        assert code == 0 and SECRET not in out + err

        code, out, err = run(capsys, "--db", db_url, "discover", "--json")
        assert code == 0, err

        code, out, _ = run(capsys, "--db", db_url, "models", "list", "--json")
        valid = {(row["provider"], row["model"]) for row in json.loads(out)}
        assert valid == {("local", "llama3"), ("secure", "gpt-x"), ("secure", "gpt-y")}
        code, out, _ = run(capsys, "--db", db_url, "models", "show", "local/embed-only")
        assert "pinged invalid" in out

        # The keyless server got no key header at all; the keyed one got its key.
        assert local.requests and all("Authorization" not in r.headers for r in local.requests)
        assert any(r.headers.get("Authorization") == f"Bearer {SECRET}" for r in secure.requests)

        code, out, err = run(capsys, "--db", db_url, "providers", "remove", "local", "--yes")
        assert code == 0 and "local: 2 models" in out
        store = ProviderStore(db_url)
        try:
            assert store.provider_keys() == ["secure"]
        finally:
            store.close()


def test_keyless_provider_is_not_skipped_and_says_so_in_lists(
    catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeProvider(["m1"]) as local:
        run(capsys, "--db", catalog_url, "providers", "add", "ollama", local.base_url, "--no-key")
        code, out, err = run(capsys, "--db", catalog_url, "discover", "ollama", "--no-validate")
        assert code == 0, err
        assert "no API key" not in out + err
        code, out, _ = run(capsys, "--db", catalog_url, "keys", "list", "--json")
        assert '"source": "keyless"' in out
        code, out, _ = run(capsys, "--db", catalog_url, "providers", "list")
        assert "keyless" in out and "OLLAMA_API_KEY" not in out
        # Needing a key again brings the missing-key skip back.
        run(capsys, "--db", catalog_url, "providers", "set", "ollama", "--key-required")
        code, out, err = run(capsys, "--db", catalog_url, "discover", "ollama", "--no-validate")
        assert code == 1 and "OLLAMA_API_KEY" in out + err


def test_yaml_spelling_of_a_keyless_provider_imports_and_exports(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(
        "providers:\n  ollama:\n    base_api_url: http://127.0.0.1:11434/v1\n"
        "    options:\n      no_key: true\n",
        encoding="utf-8",
    )
    assert run(capsys, "--db", catalog_url, "import", str(path))[0] == 0
    code, out, _ = run(capsys, "--db", catalog_url, "keys", "list", "--json")
    assert '"source": "keyless"' in out
    code, out, _ = run(capsys, "--db", catalog_url, "export", "-")
    assert "no_key: true" in out and "name: ollama" in out


def test_no_key_option_must_be_a_boolean(
    catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--db", catalog_url, "providers", "add", "x", "http://127.0.0.1:1/v1",
                       "--option", "no_key=yes")  # fmt: skip
    assert code == 2 and "no_key" in err and "Traceback" not in err
