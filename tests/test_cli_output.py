"""What the terminal shows: catalog text printed literally, 80 columns, one warning line, help.

Driven through the ``provider-store`` entry point (in process, or as a real process where the
start-up itself matters).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zygote
from helpers import run_cli as run
from pytest_httpserver import HTTPServer

from provider_store import ProviderConfig, ProviderStore
from provider_store.testing import FakeProvider

# What the terminal shows is decided above the store: SQLite only (see conftest.py).
pytestmark = pytest.mark.above_the_store

MARKUP_ID = "bad[/x]"
STYLED_ID = "rich[bold]x"
ANSI_ID = "evil\x1b[31mred\x1b[0m"
ANSI_SHOWN = "evil\\x1b[31mred\\x1b[0m"
LONG_KEY = "deepseek-reasoner-long"
CLI = Path(sys.executable).parent / "provider-store"


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``provider-store`` script in a new process."""
    return zygote.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def columns_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def hostile(catalog_url: str) -> Iterator[str]:
    """A catalog whose provider name, model ids and aliases hold markup and ANSI escapes."""
    store = ProviderStore(catalog_url)
    store.save_config(
        "odd",
        ProviderConfig(
            name=f"Odd {MARKUP_ID} {STYLED_ID}",
            base_api_url="https://odd.example/v1",
            api_key="sk-odd",
            valid_models={MARKUP_ID: STYLED_ID, ANSI_ID: "ansi", "plain": "p\x07x"},
        ),
    )
    store.close()
    yield catalog_url


def test_models_list_prints_markup_and_escapes_literally(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", hostile, "models", "list")
    assert code == 0, err
    assert MARKUP_ID in out and STYLED_ID in out
    assert ANSI_SHOWN in out and "p\\x07x" in out
    assert "\x1b" not in out and "\x07" not in out


def test_models_show_prints_markup_and_escapes_literally(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", hostile, "models", "show", f"odd/{MARKUP_ID}")
    assert code == 0, err
    assert f"model              {MARKUP_ID}\n" in out
    assert f"alias              {STYLED_ID}\n" in out
    assert "\\[" not in out
    code, out, err = run(capsys, "--db", hostile, "models", "show", f"odd/{ANSI_ID}")
    assert code == 0, err
    assert ANSI_SHOWN in out and "\x1b" not in out


def test_providers_list_prints_markup_literally(
    hostile: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # wide enough to show display names
    code, out, err = run(capsys, "--db", hostile, "providers", "list")
    assert code == 0, err
    assert f"Odd {MARKUP_ID} {STYLED_ID}" in out


def test_find_and_resolve_escape_control_characters(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", hostile, "find", "evil")
    assert code == 0 and out.strip() == f"odd/{ANSI_SHOWN}"
    code, out, _ = run(capsys, "--db", hostile, "resolve", "ansi")
    assert code == 0 and out.strip() == f"odd/{ANSI_SHOWN}"
    code, out, _ = run(capsys, "--db", hostile, "resolve", STYLED_ID)
    assert code == 0 and out.strip() == f"odd/{MARKUP_ID}"


def test_import_report_escapes_control_characters(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "odd.yaml"
    document.write_text(
        "providers:\n"
        "  odd:\n"
        "    api_key: sk-odd\n"
        "    base_api_url: https://odd.example/v1\n"
        "    name: Odd\n"
        "    valid_models:\n"
        '      "evil\\e[31mred\\e[0m": ansi\n'
        '      "bad[/x]": x\n',
        encoding="utf-8",
    )
    code, out, err = run(capsys, "--db", catalog_url, "import", str(document))
    assert code == 0, err
    assert f"+ {ANSI_SHOWN}" in out and f"+ {MARKUP_ID}" in out
    assert "\x1b" not in out


def test_discover_summary_and_warning_print_provider_text_literally(
    catalog_url: str, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    message = f"upstream {MARKUP_ID} said \x1b[2J{STYLED_ID}"
    httpserver.expect_request("/v1/models").respond_with_json(
        {"error": {"message": message}}, status=500
    )
    store = ProviderStore(catalog_url)
    store.save_config(
        "odd", ProviderConfig(base_api_url=httpserver.url_for("/v1"), api_key="sk-odd")
    )
    store.close()
    code, out, err = run(capsys, "--db", catalog_url, "discover")
    assert code == 1
    assert err == ""  # no WARNING lines on top of the table
    lines = [line for line in out.splitlines() if "upstream" in line]
    assert len(lines) == 1, out
    assert lines[0].startswith("odd failed: ")
    assert f"upstream {MARKUP_ID} said \\x1b[2J{STYLED_ID}" in lines[0]
    assert "\x1b" not in out


def test_discover_model_ids_with_markup_and_escapes(
    catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeProvider([MARKUP_ID, STYLED_ID, ANSI_ID]) as fake:
        store = ProviderStore(catalog_url)
        store.save_config(
            "odd", ProviderConfig(base_api_url=fake.base_url, api_key="sk-odd", valid_models={})
        )
        store.close()
        code, out, err = run(capsys, "--db", catalog_url, "discover")
        assert code == 0, err
        # an id holding a control character is not stored; the one warning line says so, escaped
        assert "\x1b" not in err and "\\x1b[31m" in err
        code, out, err = run(capsys, "--db", catalog_url, "models", "list", "--all")
    assert code == 0, err
    assert MARKUP_ID in out and STYLED_ID in out
    assert "\x1b" not in out


# -- 80 columns ---------------------------------------------------------------------------------


def _wide_catalog(catalog_url: str, base_url: str) -> None:
    store = ProviderStore(catalog_url)
    store.save_config(
        LONG_KEY,
        ProviderConfig(
            name="A provider with a rather long display name",
            base_api_url=base_url,
            api_key="sk-long",
            valid_models={"chat": "c"},
        ),
    )
    store.save_config(
        "openai",
        ProviderConfig(
            name="OpenAI",
            base_api_url="https://api.openai.com/v1/with/a/long/path/that/must/fold",
            api_key="sk-openai",
        ),
    )
    store.close()


def test_providers_list_fits_80_columns_without_cutting_keys(
    catalog_url: str, capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    _wide_catalog(catalog_url, "http://127.0.0.1:9/v1")
    code, out, err = run(capsys, "--db", catalog_url, "providers", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert "…" not in out
    keys = [line.split()[0] for line in lines[2:] if line and not line.startswith(" ")]
    assert keys == [LONG_KEY, "openai"]
    # the URL is folded onto more lines, not cut
    folded = "".join(line[line.index("http") :] if "http" in line else "" for line in lines)
    continued = "".join(line.strip().split()[-1] for line in lines[3:] if line.startswith(" "))
    assert "must/fold" in folded + continued


def test_discover_table_fits_80_columns_and_keeps_keys(
    catalog_url: str, capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    with FakeProvider(["chat"]) as fake:
        _wide_catalog(catalog_url, fake.base_url)
        code, out, err = run(capsys, "--db", catalog_url, "discover", LONG_KEY)
    assert code == 0, err
    table = out.splitlines()
    assert max(len(line) for line in table) <= 80, out
    assert any(line.startswith(f"{LONG_KEY}  ok") for line in table), out
    assert table[0].split() == [
        "provider",
        "status",
        "models",
        "valid",
        "invalid",
        "inconclusive",
        "source",
    ]


# -- discover summaries ---------------------------------------------------------------------------


def test_no_validate_shows_stored_verdicts(
    catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeProvider(["good", "refused"]) as fake:
        fake.set_model_behaviour("refused", "refuse")
        store = ProviderStore(catalog_url)
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key="sk-p"))
        store.close()
        code, _, err = run(capsys, "--db", catalog_url, "discover")
        assert code == 0, err
        code, out, err = run(capsys, "--db", catalog_url, "discover", "--no-validate")
        assert code == 0, err
        assert re.search(r"^p\s+ok\s+2\s+1\s+1\s+0\s", out, re.M), out
        assert "not validated (stored verdicts shown)" in out
        code, out, err = run(capsys, "--db", catalog_url, "discover", "--no-validate", "--json")
    data = json.loads(out)
    assert data["validated"] is False
    summary = data["providers"][0]
    assert (summary["valid"], summary["invalid"], summary["inconclusive"]) == (1, 1, 0)


def test_json_failure_has_an_error_message(
    catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ProviderStore(catalog_url)
    store.save_config("down", ProviderConfig(base_api_url="http://127.0.0.1:9/v1", api_key="k"))
    store.close()
    code, out, err = run(capsys, "--db", catalog_url, "discover", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert data["error"] == "discovery failed for down; results not saved"
    assert err == ""


# -- help -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_bare_command_prints_help_and_exits_0() -> None:
    result = run_process()
    assert result.returncode == 0, result.stderr
    assert "Usage: provider-store" in result.stdout and "Commands:" in result.stdout


def test_top_level_help_shows_whole_descriptions(
    capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    from provider_store.cli.app import HIDDEN_COMMANDS, LAZY_COMMANDS

    code, out, _ = run(capsys, "--help")
    assert code == 0
    flat = " ".join(out.split())
    for name, (_module, _attr, text) in LAZY_COMMANDS.items():
        if name in HIDDEN_COMMANDS:
            assert f"{name} " not in flat, name
        else:
            assert f"{name} {text}" in flat, name


def test_lazy_help_matches_each_commands_own_help() -> None:
    import click

    from provider_store.cli.app import LAZY_COMMANDS, cli

    ctx = click.Context(cli)
    for name, (_module, _attr, text) in LAZY_COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None
        assert command.get_short_help_str(limit=1_000) == text, name


def test_subcommand_help_is_not_truncated(
    capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    import click

    from provider_store.cli.app import cli

    group = cli.get_command(click.Context(cli), "models")
    assert isinstance(group, click.Group)
    code, out, _ = run(capsys, "models", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for name, command in group.commands.items():
        assert f"{name} {command.get_short_help_str(limit=1_000)}" in flat, name
