"""The edges a new user meets: 80 columns, suggestions, messages said once, small things.

Driven through the ``provider-store`` entry point in process (or as a real process where a pipe
or the terminal matters), on the shipped catalog and a loopback provider.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from provider_store import ProviderConfig, ProviderStore
from provider_store.cli import main
from provider_store.testing import FakeProvider

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "data" / "openaicompat-providers.yaml"
LONG_ID = "a" * 30 + "-" + "b" * 39  # 70 characters
# The demo's loopback provider: model -> (behaviour, verdict it earns)
LOCAL = {
    "local-chat-large": ("pong", "valid"),
    "local-chat-mini": ("pong", "valid"),
    "local-embed": ("refuse", "invalid"),
    "local-flaky": ("error:503", "inconclusive"),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def columns_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def shipped(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The shipped catalog imported into an empty database."""
    code, _out, err = run(capsys, "--db", db_url, "import", str(SHIPPED))
    assert code == 0, err
    return db_url


@pytest.fixture
def shipped_and_local(
    shipped: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The shipped catalog plus a discovered loopback provider, as ``make demo`` leaves it."""
    with FakeProvider(list(LOCAL)) as fake:
        for model, (behaviour, _) in LOCAL.items():
            fake.set_model_behaviour(model, behaviour)
        store = ProviderStore(shipped)
        store.save_config(
            "local",
            ProviderConfig(
                name="Loopback demo provider",
                base_api_url=fake.base_url,
                api_key="sk-local",
                valid_models={"local-chat-large": "big"},
            ),
        )
        store.close()
        code, _out, err = run(capsys, "--db", shipped, "discover", "local")
        assert code == 0, err
    yield shipped


def _fits(out: str, width: int = 80) -> list[str]:
    lines = out.splitlines()
    assert lines and max(len(line) for line in lines) <= width, out
    return lines


# -- 1. 80 columns never cut a word ---------------------------------------------------------------


def test_shipped_catalog_lists_whole_aliases_at_80_columns(
    shipped: str, capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    code, out, err = run(capsys, "--db", shipped, "models", "list", "--all")
    assert code == 0, err
    rows = [line.split() for line in _fits(out)[2:]]
    assert ["openai", "gpt-4o-2024-08-06", "4o", "valid", "-"] in rows
    assert ["together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama3.3", "valid", "-"] in rows
    assert all(len(row) == 5 for row in rows), out  # one line per model, nothing folded


def test_discovered_catalog_never_folds_status_words_or_aliases_at_80_columns(
    shipped_and_local: str, capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    code, out, err = run(capsys, "--db", shipped_and_local, "models", "list", "--all")
    assert code == 0, err
    lines = _fits(out)
    # too wide with aliases: the alias column is left out, and the last line says so
    assert lines[0].split() == ["provider", "model", "status", "verdict"]
    assert lines[-1] == "(alias left out to fit 80 columns; --json shows all)"
    rows = [line.split() for line in lines[2:-1]]
    assert ["local", "local-flaky", "unverified", "inconclusive"] in rows
    assert ["local", "local-embed", "invalid", "invalid"] in rows
    assert ["local", "local-chat-mini", "valid", "valid"] in rows
    assert all(len(row) == 4 for row in rows), out
    # without --all the aliases are shown, whole
    code, out, err = run(capsys, "--db", shipped_and_local, "models", "list")
    assert code == 0, err
    rows = [line.split() for line in _fits(out)[2:]]
    assert ["local", "local-chat-mini", "local-chat-mini"] in rows
    assert ["local", "local-chat-large", "big"] in rows


def test_a_70_character_id_gives_one_field_per_line_at_80_columns(
    db_url: str, capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    store = ProviderStore(db_url)
    store.save_config(
        "local",
        ProviderConfig(
            base_api_url="http://127.0.0.1:9/v1",
            valid_models={LONG_ID: "long-alias-name", "chat": "c"},
            invalid_models=["local-embed"],
        ),
    )
    store.close()
    for extra in ([], ["--all"]):
        code, out, err = run(capsys, "--db", db_url, "models", "list", *extra)
        assert code == 0, err
        lines = _fits(out)
        assert f"model     {LONG_ID}" in lines
        assert "alias     long-alias-name" in lines
    assert "status    invalid" in lines and "verdict   -" in lines
    assert out.split("\n\n")[0].splitlines() == [
        "provider  local",
        f"model     {LONG_ID}",
        "alias     long-alias-name",
        "status    valid",
        "verdict   -",
    ]


def test_providers_list_folds_between_words_at_80_columns(
    shipped: str, capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    code, out, err = run(capsys, "--db", shipped, "providers", "list")
    assert code == 0, err
    lines = _fits(out)
    # the key's variable name is never cut (the URL may fold: it is not a word users type)
    assert any("$TOGETHER_API_KEY" in line.split() for line in lines), out


def _load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("provider_store_demo", ROOT / "scripts/demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_passes_its_terminal_width_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "97")
    assert _load_demo()._env()["COLUMNS"] == "97"
    # piped, without a terminal or $COLUMNS: 80 columns, not the 240 of a pipe
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    code = (
        "import importlib.util, sys;"
        f"spec = importlib.util.spec_from_file_location('d', {str(ROOT / 'scripts/demo.py')!r});"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
        "print(m._env()['COLUMNS'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "80"), result.stderr


# -- 2. suggestions: only what is near, and the kind of thing mistyped ----------------------------


def test_nothing_near_suggests_nothing(shipped: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--db", shipped, "discover", "nope")
    assert (code, err.strip()) == (2, "Error: Unknown provider: nope")
    code, _out, err = run(capsys, "--db", shipped, "discover", "opnai")
    assert (code, err.strip()) == (2, "Error: Unknown provider: opnai (did you mean openai?)")


def test_a_mistyped_provider_prefix_suggests_the_provider(
    shipped: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", shipped, "resolve", "opnai/4o", "--strict")
    assert (code, out) == (2, "")
    assert err.strip() == "Error: Unknown provider: opnai (did you mean openai?)"
    code, out, err = run(capsys, "--db", shipped, "resolve", "nope/4o", "--strict")
    assert (code, err.strip()) == (2, "Error: Unknown provider: nope")


# -- 6. small things ------------------------------------------------------------------------------


def test_testing_server_refuses_a_behaviour_for_a_model_it_does_not_serve() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "provider_store.testing",
            "--models",
            "a,b",
            "--behaviour",
            "c=refuse",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "python -m provider_store.testing: --behaviour c=refuse: 'c' is not served;"
        " --models serves: a, b"
    ]
