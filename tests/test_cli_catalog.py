"""The catalog commands, driven through the ``provider-store`` entry point."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zygote
from helpers import run_cli as run

from provider_store import ProviderConfig, ProviderStore
from provider_store.testing import FakeProvider

SECRET = "sk-very-secret-key"


pytestmark = pytest.mark.fake(["good", "refused", "Qwen/QwQ-32B"], behaviours={"refused": "refuse"})


@pytest.fixture
def catalog(catalog_url: str, fake: FakeProvider) -> Iterator[str]:
    store = ProviderStore(catalog_url)
    store.save_config(
        "openai",
        ProviderConfig(
            name="OpenAI",
            base_api_url=fake.base_url,
            api_key=SECRET,
            valid_models={"gpt-4o": "4o", "shared": "shared"},
        ),
    )
    store.save_config(
        "local",
        ProviderConfig(name="Local", base_api_url=fake.base_url, valid_models={"shared": "s"}),
    )
    store.close()
    yield catalog_url


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (
        ["providers", "list"],
        ["models", "list"],
        ["discover"],
        ["resolve"],
        ["find"],
        ["providers"],
        ["models"],
    ):
        code, out, _err = run(capsys, *command, "--help")
        assert code == 0 and "Usage:" in out


def test_providers_list(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--db", catalog, "providers", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["key"], r["api_key"], r["valid_models"]) for r in rows] == [
        ("openai", "stored", 2),
        ("local", "missing", 1),
    ]
    code, out, _err = run(capsys, "--db", catalog, "providers", "list")
    assert code == 0 and "openai" in out
    assert SECRET not in out


def test_models_list(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--db", catalog, "models", "list", "--json")
    assert code == 0
    assert [(r["provider"], r["model"], r["alias"]) for r in json.loads(out)] == [
        ("openai", "gpt-4o", "4o"),
        ("openai", "shared", None),  # no alias set: empty, not the id again
        ("local", "shared", "s"),
    ]
    code, out, _err = run(capsys, "--db", catalog, "models", "list", "--provider", "local")
    assert code == 0 and "local" in out and "gpt-4o" not in out
    code, _out, err = run(capsys, "--db", catalog, "models", "list", "--provider", "nope")
    assert code == 2 and "Unknown provider: nope" in err


def test_discover_then_list_all(
    catalog: str, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", catalog, "discover", "--json", "--concurrency", "4")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["persisted"]
    by_key = {p["provider"]: p for p in report["providers"]}
    assert by_key["local"]["status"] == "skipped"
    assert {k: by_key["openai"][k] for k in ("discovered", "valid", "invalid", "source")} == {
        "discovered": 3,
        "valid": 2,
        "invalid": 1,
        "source": "fresh",
    }
    assert SECRET not in out + err

    code, out, _err = run(capsys, "--db", catalog, "models", "list", "--all", "--json")
    rows = {(r["provider"], r["model"]): r for r in json.loads(out)}
    assert rows[("openai", "refused")]["status"] == "invalid"
    assert rows[("openai", "refused")]["verdict"] == "invalid"
    assert rows[("openai", "good")]["status"] == "valid"

    code, out, _err = run(capsys, "--db", catalog, "discover", "openai")  # the table
    assert code == 0
    assert "openai" in out and "cache" in out and "saved" in out


def test_discover_failure_exits_1(
    catalog: str, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.set_failure("error:500")
    code, out, _err = run(capsys, "--db", catalog, "discover", "openai", "--no-validate")
    assert code == 1
    assert "failed" in out and "not saved" in out


def test_discover_bad_input_exits_2(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--db", catalog, "discover", "nope")
    assert code == 2 and "Unknown provider: nope" in err
    code, _out, err = run(capsys, "--db", catalog, "discover", "--concurrency", "0")
    assert code == 2


def test_resolve(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--db", catalog, "resolve", "openai/4o")
    assert (code, out.strip()) == (0, "openai/gpt-4o")
    code, out, err = run(capsys, "--db", catalog, "resolve", "shared")
    assert (code, out.strip()) == (0, "openai/shared")
    assert "local/shared" in err  # the other candidate is shown
    code, out, _err = run(capsys, "--db", catalog, "resolve", "shared", "--json")
    assert json.loads(out)["candidates"] == ["openai/shared", "local/shared"]
    assert SECRET not in out
    code, _out, err = run(capsys, "--db", catalog, "resolve", "shared", "--strict")
    assert code == 2 and "openai/shared, local/shared" in err
    code, _out, err = run(capsys, "--db", catalog, "resolve", "openai/nope")
    assert code == 2 and err.strip() == "Error: Unknown model: openai/nope"
    code, _out, err = run(capsys, "--db", catalog, "resolve", "nope")
    assert code == 2 and err.strip() == "Error: Unknown model: nope"


def test_find(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--db", catalog, "find", "SHAR")
    assert code == 0 and out.split() == ["openai/shared", "local/shared"]
    code, out, _err = run(capsys, "--db", catalog, "find", "4o", "--json")
    assert json.loads(out) == ["openai/gpt-4o"]
    code, out, _err = run(capsys, "--db", catalog, "find", "local/SHAR")
    assert code == 0 and out.split() == ["local/shared"]  # one provider's
    code, out, err = run(capsys, "--db", catalog, "find", "absent", "--json")
    assert (code, out, err.strip()) == (2, "", "Error: Unknown model: absent")


@pytest.mark.slow
def test_real_subprocess(catalog: str, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("provider-store")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "provider_store"]
    env = {**os.environ, "PROVIDER_STORE_URL": catalog}
    done = zygote.run(
        [*command, "resolve", "4o", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "gpt-4o"
    done = zygote.run(
        [*command, "discover", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["persisted"] is True
    assert SECRET not in done.stdout + done.stderr
