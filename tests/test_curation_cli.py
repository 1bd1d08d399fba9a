"""The everyday curation verbs, through the ``provider-store`` entry point."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli as run

from provider_store import ProviderStore
from provider_store.testing import FakeProvider

SECRET = "sk-proj-curation-secret-9876wxyz"


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


@pytest.fixture(autouse=True)
def no_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAKE_API_KEY", "OTHER_API_KEY"):
        monkeypatch.delenv(name, raising=False)


pytestmark = pytest.mark.fake(["good", "flaky", "refused"], behaviours={"refused": "refuse"})


@pytest.fixture
def discovered(
    catalog_url: str, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> Iterator[str]:
    """A catalog with provider ``fake`` discovered and validated (keyless, on loopback)."""
    assert (
        run(capsys, "--db", catalog_url, "providers", "add", "fake", fake.base_url, "--no-key")[0]
        == 0
    )
    assert run(capsys, "--db", catalog_url, "discover", "fake")[0] == 0
    yield catalog_url


def test_every_new_verb_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (
        ["providers", "add"], ["providers", "set"], ["providers", "remove"],
        ["providers", "rename"], ["keys", "set"], ["keys", "unset"], ["keys", "list"],
        ["models", "alias"], ["models", "unalias"], ["models", "mark"], ["models", "unmark"],
        ["models", "set"], ["models", "unset"],
    ):  # fmt: skip
        code, out, _ = run(capsys, *command, "--help")
        assert code == 0 and "Usage:" in out and len(out.splitlines()) > 3


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["providers", "add", "a b", "http://127.0.0.1:1/v1"], "cannot be used"),
        (["providers", "add", "x", "not-a-url"], "http(s)"),
        (["providers", "add", "x", "http://h/v1", "--option", "oops"], "NAME=VALUE"),
        (["providers", "set", "nope", "--name", "N"], "Unknown provider: nope"),
        (["providers", "set", "fake"], "nothing to change"),
        (["providers", "rename", "nope", "x"], "Unknown provider"),
        (["models", "mark", "fake/unknown-model", "valid"], "Unknown model"),
        (["models", "alias", "fake/refused", "r"], "only valid models have aliases"),
        (["models", "set", "fake/good"], "nothing to set"),
        (["models", "unset", "fake/good", "colour"], "not a metadata field"),
        (["keys", "unset", "nope"], "Unknown provider"),
    ],
)
def test_bad_input_is_refused_in_one_line_with_exit_2(
    discovered: str, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    code, _, err = run(capsys, "--db", discovered, *args)
    assert code == 2
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_providers_set_and_rename_keep_models_and_verdicts(
    discovered: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", discovered, "providers", "set", "fake", "--name", "Fake",
                       "--ttl", "60", "--option", "max_models=100", "--json")  # fmt: skip
    data = json.loads(out)
    assert (data["name"], data["cache_ttl_seconds"]) == ("Fake", 60)
    assert data["options"] == {"no_key": True, "max_models": 100}
    run(capsys, "--db", discovered, "providers", "set", "fake", "--unset-option", "max_models")
    assert run(capsys, "--db", discovered, "providers", "rename", "fake", "renamed")[0] == 0
    code, out, _ = run(capsys, "--db", discovered, "models", "list", "--all", "--json")
    rows = {row["model"]: row for row in json.loads(out)}
    assert {row["provider"] for row in rows.values()} == {"renamed"}
    assert rows["good"]["status"] == "valid" and rows["refused"]["verdict"] == "invalid"


def test_remove_says_what_goes_and_refuses_without_a_terminal(
    discovered: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_stdin(monkeypatch, "")
    code, _, err = run(capsys, "--db", discovered, "providers", "remove", "fake")
    assert code == 2 and "fake: 3 models, 3 verdicts" in err and "--yes" in err
    code, out, _ = run(capsys, "--db", discovered, "providers", "remove", "fake", "--yes", "--json")
    assert code == 0 and json.loads(out) == [
        {"provider": "fake", "models": 3, "verdicts": 3, "stored_key": False}
    ]
    code, out, _ = run(capsys, "--db", discovered, "providers", "list", "--json")
    assert json.loads(out) == []


def test_keys_are_read_from_stdin_stored_masked_and_forgotten(
    catalog_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "--db", catalog_url, "providers", "add", "other", "https://api.example.com/v1")
    code, out, _ = run(capsys, "--db", catalog_url, "keys", "list", "--json")
    assert json.loads(out) == [
        {"provider": "other", "source": "missing", "variable": "OTHER_API_KEY", "key": None}
    ]
    feed_stdin(monkeypatch, SECRET + "\n")
    code, out, err = run(capsys, "--db", catalog_url, "keys", "set", "other")
    assert code == 0 and SECRET not in out + err
    code, out, err = run(capsys, "--db", catalog_url, "keys", "list")
    assert "sk-…wxyz" in out and SECRET not in out + err
    monkeypatch.setenv("OTHER_API_KEY", "env-key-abcdefgh-1234")
    run(capsys, "--db", catalog_url, "keys", "unset", "other")
    code, out, _ = run(capsys, "--db", catalog_url, "keys", "list", "--json")
    assert json.loads(out)[0] == {
        "provider": "other", "source": "env", "variable": "OTHER_API_KEY", "key": "env-…1234"
    }  # fmt: skip
    feed_stdin(monkeypatch, "\n")
    code, _, err = run(capsys, "--db", catalog_url, "keys", "set", "other")
    assert code == 2 and "no API key given" in err


def test_alias_then_resolve_and_show_by_alias(
    discovered: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--db", discovered, "models", "alias", "fake/good", "g")[0] == 0
    code, out, _ = run(capsys, "--db", discovered, "resolve", "g")
    assert out.strip() == "fake/good"
    code, out, _ = run(capsys, "--db", discovered, "models", "show", "fake/g", "--json")
    assert json.loads(out)["model"] == "good"
    run(capsys, "--db", discovered, "models", "unalias", "fake/good")
    code, _, err = run(capsys, "--db", discovered, "models", "show", "g")
    assert code == 2 and "good" in err  # suggested


def test_hand_marks_survive_discovery_until_unmarked(
    discovered: str, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--db", discovered, "models", "mark", "fake/refused", "valid", "--reason", "works")
    run(capsys, "--db", discovered, "models", "mark", "fake/good", "invalid")
    fake.reset_counts()
    assert run(capsys, "--db", discovered, "discover", "fake", "--force-refresh")[0] == 0
    pinged = {r.json["model"] for r in fake.requests if r.method == "POST"}
    assert pinged == {"flaky"}  # hand-marked models are not pinged
    code, out, _ = run(capsys, "--db", discovered, "models", "show", "fake/good", "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["hand_mark"], shown["usable"]) == ("invalid", "invalid", False)
    assert shown["why_not_usable"] == "marked invalid by hand"
    code, out, _ = run(capsys, "--db", discovered, "models", "show", "fake/refused", "--json")
    assert json.loads(out)["status"] == "valid"
    assert json.loads(out)["verdict_reason"] == "marked valid by hand: works"
    run(capsys, "--db", discovered, "models", "unmark", "fake/good")
    assert run(capsys, "--db", discovered, "discover", "fake", "--force-refresh")[0] == 0
    code, out, _ = run(capsys, "--db", discovered, "models", "show", "fake/good", "--json")
    assert json.loads(out)["status"] == "valid" and json.loads(out)["hand_mark"] is None


def test_models_set_overrides_and_unset_drops_them(
    discovered: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", discovered, "models", "set", "fake/good", "--context",
                         "32000", "--input-price", "0.5", "--capability", "tools")  # fmt: skip
    assert code == 0, err
    store = ProviderStore(discovered)
    try:
        facts = store.model_metadata("fake", "good").values
        assert facts["context_length"].value == 32000
        assert facts["context_length"].source == "user"
        assert facts["capabilities"].value == ["tools"]
        run(capsys, "--db", discovered, "models", "unset", "fake/good", "context_length")
        facts = store.model_metadata("fake", "good").values
        assert "context_length" not in facts or facts["context_length"].source != "user"
    finally:
        store.close()


def test_models_show_says_why_a_model_is_not_usable(
    discovered: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", discovered, "models", "show", "fake/refused")
    assert "pinged invalid" in out
    code, out, _ = run(capsys, "--db", discovered, "models", "show", "fake/good", "--json")
    assert json.loads(out)["why_not_usable"] is None


def test_typo_in_a_top_level_command_gets_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "provider", "list")
    assert code == 2 and "Did you mean 'providers'?" in err


def test_db_option_after_the_subcommand(
    catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "providers", "add", "p", "https://api.example.com/v1", "--db", catalog_url)
    code, out, _ = run(capsys, "providers", "list", "--json", f"--db={catalog_url}")
    assert code == 0 and [row["key"] for row in json.loads(out)] == ["p"]


def test_import_reads_standard_input(
    catalog_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_stdin(monkeypatch, "providers:\n  local:\n    base_api_url: http://127.0.0.1:8080/v1\n")
    code, out, err = run(capsys, "--db", catalog_url, "import", "-")
    assert code == 0, err
    code, out, _ = run(capsys, "--db", catalog_url, "providers", "list", "--json")
    row = json.loads(out)[0]
    assert (row["key"], row["name"], row["valid_models"]) == ("local", "local", 0)


def test_minimal_yaml_imports_and_a_complete_file_round_trips_byte_for_byte(
    catalog_url: str, tmp_path: Path
) -> None:
    minimal = tmp_path / "minimal.yaml"
    minimal.write_text("providers:\n  gw:\n    base_api_url: https://gw.example/v1\n")
    complete = (
        b"providers:\n"
        b"  openai:\n"
        b"    api_key: ''\n"
        b"    base_api_url: https://api.openai.com/v1\n"
        b"    name: OpenAI\n"
        b"    valid_models:\n"
        b"      gpt-4o: 4o\n"
        b"    invalid_models: []\n"
    )
    store = ProviderStore(catalog_url)
    try:
        store.import_yaml(minimal)
        config = store.get_config("gw")
        assert (config.name, config.api_key, config.valid_models) == ("gw", "", {})
        store.import_yaml("complete.yaml", replace=True, data=complete)
        assert store.export_yaml_bytes() == complete
    finally:
        store.close()
