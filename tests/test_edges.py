"""The edges a new user meets: 80 columns, suggestions, messages said once, small things.

Driven through the ``provider-store`` entry point in process (or as a real process where a pipe
or the terminal matters), on the shipped catalog and a loopback provider.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from helpers import run_cli as run

from provider_store import ProviderConfig, ProviderStore
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


@pytest.fixture
def columns_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def shipped(catalog_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The shipped catalog imported into an empty database."""
    code, _out, err = run(capsys, "--db", catalog_url, "import", str(SHIPPED))
    assert code == 0, err
    return catalog_url


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
    assert ["local", "local-chat-mini"] in rows  # no alias set: the cell is empty
    assert ["local", "local-chat-large", "big"] in rows


def test_a_70_character_id_gives_one_field_per_line_at_80_columns(
    catalog_url: str, capsys: pytest.CaptureFixture[str], columns_80: None
) -> None:
    store = ProviderStore(catalog_url)
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
        code, out, err = run(capsys, "--db", catalog_url, "models", "list", *extra)
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
    assert err.strip() == (
        "Error: Unknown model: opnai/4o (did you mean openai/gpt-4o-2024-08-06 (4o)?)"
    )
    code, out, err = run(capsys, "--db", shipped, "resolve", "nope/zzz", "--strict")
    assert (code, err.strip()) == (2, "Error: Unknown model: nope/zzz")


# -- 3. said once, and saying where --------------------------------------------------------------


def _provider(catalog_url: str, key: str, base_url: str, api_key: str = "") -> None:
    store = ProviderStore(catalog_url)
    store.save_config(key, ProviderConfig(name=key.title(), base_api_url=base_url, api_key=api_key))
    store.close()


def test_a_missing_key_is_said_once(
    catalog_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_API_KEY", raising=False)
    _provider(catalog_url, "fake", "http://127.0.0.1:9/v1")
    code, out, err = run(capsys, "--db", catalog_url, "discover", "fake")
    assert code == 1
    assert (out + err).splitlines() == ["fake skipped: no API key; set $FAKE_API_KEY"]


def test_a_refused_key_names_where_it_came_from(
    catalog_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", "sk-wrong-from-env")
    with FakeProvider(["a"], api_key="sk-right") as fake:
        _provider(catalog_url, "fake", fake.base_url)
        _provider(catalog_url, "kept", fake.base_url, api_key="sk-wrong-stored")
        code, out, err = run(capsys, "--db", catalog_url, "discover")
    assert code == 1, err
    lines = out.splitlines()
    assert any(
        line.startswith("fake failed: ")
        and line.endswith("HTTP 401: Incorrect API key provided (key from $FAKE_API_KEY)")
        for line in lines
    ), out
    assert any(
        line.startswith("kept failed: ") and line.endswith("(key stored in the catalog)")
        for line in lines
    ), out
    assert "sk-wrong" not in out + err
    # providers list gives the reason of the failed refresh, not only "refresh failed"
    code, out, err = run(capsys, "--db", catalog_url, "providers", "list")
    assert code == 0, err
    reasons = [line for line in out.splitlines() if "last refresh failed" in line]
    assert len(reasons) == 2, out
    assert reasons[0].startswith("fake: last refresh failed (")
    assert "HTTP 401: Incorrect API key provided (key from $FAKE_API_KEY)" in reasons[0]
    assert "sk-wrong" not in out + err


def test_an_empty_catalog_says_how_to_add_a_provider(
    db_url: str, store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    hint = "No providers. Add one with `provider-store providers add KEY URL` or `import FILE`."
    for command in (["models", "list"], ["models", "list", "--all"], ["discover"]):
        code, out, err = run(capsys, "--db", db_url, *command)
        assert (code, out, err.strip()) == (0, "", hint), command
    code, out, _err = run(capsys, "--db", db_url, "models", "list", "--json")
    assert (code, out.strip()) == (0, "[]")


# -- 4. a YAML type message names the type found and the fix ---------------------------------------


def _import_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str) -> str:
    document = tmp_path / "bad.yaml"
    document.write_text(
        "providers:\n"
        "  p:\n"
        "    name: P\n"
        f"    {line}\n"
        "    base_api_url: https://p.example/v1\n"
        "    valid_models:\n"
        "      a: x\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "--db", f"sqlite:///{tmp_path / 'c.db'}", "import", str(document))
    assert (code, out) == (2, "")
    return err.strip()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "api_key: 12345",
            "[providers.p.api_key] must be a string, not an integer;"
            " quote it to make it a string (api_key: '...')",
        ),
        (
            "api_key: yes",
            "[providers.p.api_key] must be a string, not a boolean;"
            " quote it to make it a string (api_key: '...')",
        ),
        (
            "api_key:",
            "[providers.p.api_key] must be a string, not null (an empty value);"
            " write '' for an empty string",
        ),
        ("api_key: [a]", "[providers.p.api_key] must be a string, not a list"),
        (
            "api_key: k\n    kind: 3",
            "[providers.p.kind] must be a string, not an integer (3);"
            " quote it to make it a string ('3')",
        ),
    ],
)
def test_a_yaml_type_message_names_the_type_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    error = _import_error(tmp_path, capsys, line)
    assert error.startswith("Error: ") and error.endswith(message), error
    if line.startswith("api_key"):
        assert "12345" not in error  # a mistyped key is still a key: never echoed


def test_a_mapping_wanted_is_not_told_to_quote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "bad.yaml"
    document.write_text("providers: 3\n", encoding="utf-8")
    code, _out, err = run(capsys, "--db", f"sqlite:///{tmp_path / 'c.db'}", "import", str(document))
    assert code == 2
    assert err.strip().endswith(
        "[providers] must be a mapping of provider key to settings, not an integer (3)"
    )


# -- 5. an import that takes away what discovery found says so ------------------------------------


def test_an_import_dropping_discovered_models_says_so_last(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeProvider(["chat-a", "chat-b", "embed"]) as fake:
        fake.set_model_behaviour("embed", "refuse")
        document = tmp_path / "local.yaml"
        document.write_text(
            "providers:\n"
            "  local:\n"
            "    api_key: sk-local\n"
            f"    base_api_url: {fake.base_url}\n"
            "    name: Local\n"
            "    valid_models:\n"
            "      chat-a: a\n"
            "    invalid_models: []\n",
            encoding="utf-8",
        )
        code, _out, err = run(capsys, "--db", catalog_url, "import", str(document))
        assert code == 0, err
        code, _out, err = run(capsys, "--db", catalog_url, "discover", "local")
        assert code == 0, err
    # re-importing the same file (say, only to change the key) drops chat-b and embed
    expected = "of local (kept as unverified)."
    code, out, err = run(capsys, "--db", catalog_url, "import", "--dry-run", str(document))
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "! 2 model(s) that discovery found or validated would leave the curated lists " + expected
    )
    store = ProviderStore(catalog_url)
    try:
        report = store.import_yaml(document, dry_run=True)
        assert report.discovered_models_removed == {"local": ["embed", "chat-b"]}
        assert report.counts()["discovered_models_removed"] == 2
    finally:
        store.close()
    code, out, err = run(capsys, "--db", catalog_url, "import", str(document))
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "! 2 model(s) that discovery found or validated left the curated lists " + expected
    )
    # an import that takes nothing discovery found away does not say it
    code, out, err = run(capsys, "--db", catalog_url, "import", str(document))
    assert code == 0 and "discovery" not in out


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


def test_json_times_are_iso_8601_utc(catalog_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = ProviderStore(catalog_url)
    store.save_config("p", ProviderConfig(base_api_url="http://127.0.0.1:9/v1", api_key="sk-p"))
    store.rows.write_cache("p", [{"id": "m"}], fetched_at=1_767_225_600.0)  # 2026-01-01 00:00 UTC
    store.close()
    code, out, err = run(capsys, "--db", catalog_url, "providers", "list", "--json")
    assert code == 0, err
    row = json.loads(out)[0]
    assert row["fetched_at"] == "2026-01-01T00:00:00Z"
    assert row["problem_at"] is None and row["last_error_at"] is None


def test_verbose_ping_lines_name_the_model(
    catalog_url: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with FakeProvider(["model-one", "model-two"]) as fake:
        _provider(catalog_url, "fake", fake.base_url, api_key="sk-fake")
        with caplog.at_level(logging.DEBUG, logger="provider_store"):
            code, _out, err = run(capsys, "--db", catalog_url, "-vv", "discover", "fake")
    assert code == 0, err
    text = err + "\n".join(r.getMessage() for r in caplog.records)
    assert "ping fake model model-one: valid" in text
    assert "ping fake model model-two: valid" in text


def test_the_migration_lock_is_hidden_beside_the_catalog(tmp_path: Path) -> None:
    with ProviderStore(f"sqlite:///{tmp_path / 'catalog.db'}") as store:
        store.save_config("p", ProviderConfig(api_key="sk-p"))
    visible_files = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible_files == ["catalog.db"]
    assert (tmp_path / ".catalog.db.migrate.lock").exists()  # kept: it serialises first opens


def test_provider_store_is_a_context_manager(tmp_path: Path) -> None:
    wal = tmp_path / "catalog.db-wal"
    with ProviderStore(f"sqlite:///{tmp_path / 'catalog.db'}") as store:
        store.save_config("p", ProviderConfig(api_key="sk-p"))
        assert store.provider_keys() == ["p"] and wal.exists()  # a connection is open
    assert not wal.exists()  # closed on leaving: the last connection checkpointed and went
    with pytest.raises(RuntimeError), ProviderStore(f"sqlite:///{tmp_path / 'catalog.db'}") as s:
        s.provider_keys()
        raise RuntimeError("the block failed")
    assert not wal.exists()  # closed when the block raises too


def test_wheel_smoke_and_ci_use_paths_of_this_checkout() -> None:
    planned = subprocess.run(
        ["make", "-n", "wheel-smoke"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert planned.returncode == 0, planned.stderr
    # Every path it uses is under this checkout, wherever the checkout lives (/tmp included).
    assert "/tmp" not in planned.stdout.replace(str(ROOT), "<checkout>")
    assert f"sqlite:///{ROOT}/build/wheel-smoke/catalog.db" in planned.stdout
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "../shared/provider-answers" in ci and "/work/" not in ci


def test_readme_shows_the_deadline_and_discover_with_progress() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    synopsis = readme[readme.index("provider-store [--db URL]") :].split("```")[0]
    assert "--deadline SPAN" in synopsis
    library = readme[readme.index("manager.discover(") :].split("```")[0]
    assert "progress=" in library and "deadline=" in library
