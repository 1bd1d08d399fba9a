"""Rules a user meets when typing input: key variable names, YAML near-miss keys and tabs, and
one URL rule for the importer and ``save_config``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import zygote
from helpers import run_cli

from provider_store import (
    InvalidDocumentError,
    ModelDiscoveryService,
    ProviderConfig,
    ProviderStore,
    effective_api_key,
)
from provider_store.rules import env_var_for, env_var_names
from provider_store.testing import FakeProvider

GOOD = """\
providers:
  p:
    api_key: ""
    base_api_url: https://p.example/v1
    name: P
    valid_models: {m1: one}
"""


# -- environment variable names -------------------------------------------------------------------


def test_env_var_names_are_shell_identifiers_with_the_old_name_as_fallback() -> None:
    assert env_var_for("openai") == "OPENAI_API_KEY"
    assert env_var_for("open-router") == "OPEN_ROUTER_API_KEY"
    assert env_var_for("my.gateway v2") == "MY_GATEWAY_V2_API_KEY"
    assert env_var_for("01ai") == "_01AI_API_KEY"
    assert env_var_names("open-router") == ["OPEN_ROUTER_API_KEY", "OPEN-ROUTER_API_KEY"]
    assert env_var_names("openai") == ["OPENAI_API_KEY"]

    assert effective_api_key("open-router", "", {"OPEN_ROUTER_API_KEY": "sk-new"}) == "sk-new"
    assert effective_api_key("open-router", "", {"OPEN-ROUTER_API_KEY": "sk-old"}) == "sk-old"
    both = {"OPEN_ROUTER_API_KEY": "sk-new", "OPEN-ROUTER_API_KEY": "sk-old"}
    assert effective_api_key("open-router", "", both) == "sk-new"


def test_the_new_variable_name_reaches_the_provider(
    store: ProviderStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPEN_ROUTER_API_KEY", "sk-from-the-shell")
    with FakeProvider(["m1"], api_key="sk-from-the-shell") as fake:
        store.save_config("open-router", ProviderConfig(base_api_url=fake.base_url, api_key=""))
        models = ModelDiscoveryService(store).discover_models(store.get_config("open-router"))
    assert [m["id"] for m in models] == ["m1"]


def test_providers_list_names_the_variable(
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    store: ProviderStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store.save_config("open-router", ProviderConfig(api_key=""))
    store.save_config("stored", ProviderConfig(api_key="sk-stored-secret"))
    monkeypatch.delenv("OPEN_ROUTER_API_KEY", raising=False)
    code, out, _ = run_cli(capsys, "--db", db_url, "providers", "list", "--json")
    rows = {row["key"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["open-router"]["api_key"] == "missing"
    assert rows["open-router"]["api_key_env"] == "OPEN_ROUTER_API_KEY"
    assert rows["stored"]["api_key"] == "stored" and rows["stored"]["api_key_env"] is None

    monkeypatch.setenv("OPEN-ROUTER_API_KEY", "sk-legacy-name")
    code, out, _ = run_cli(capsys, "--db", db_url, "providers", "list")
    assert code == 0 and "env $OPEN-ROUTER_API_KEY" in out
    assert "sk-legacy-name" not in out and "sk-stored-secret" not in out


# -- YAML: near-miss keys and tabs ----------------------------------------------------------------


def import_error(tmp_path: Path, text: str, *, in_a_process: bool = False) -> str:
    path = tmp_path / "cat.yaml"
    path.write_text(text)
    args = ["--db", str(tmp_path / "c.db"), "import", str(path)]
    if in_a_process:  # the installed entry point, end to end
        result = zygote.run(
            [sys.executable, "-m", "provider_store", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        code, err = result.returncode, result.stderr
    else:
        code, _, err = run_cli(None, *args)
    assert code == 2, err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    return err.replace(str(path), "cat.yaml")


@pytest.mark.slow
def test_near_miss_of_a_known_key_is_named_at_its_line(tmp_path: Path) -> None:
    typo = GOOD.replace("    valid_models: {m1: one}\n", "    valid_model:\n      m1: one\n")
    assert (
        "cat.yaml:6:5: [providers.p.valid_model] unknown key 'valid_model'"
        " (did you mean 'valid_models'?)" in import_error(tmp_path, typo, in_a_process=True)
    )


def test_near_miss_is_refused_also_when_the_known_key_is_present(tmp_path: Path) -> None:
    both = GOOD + "    valid_model:\n      m2: two\n"
    assert (
        "cat.yaml:7:5: [providers.p.valid_model] unknown key 'valid_model'"
        " (did you mean 'valid_models'?)" in import_error(tmp_path, both)
    )
    for typo, known in (("invalid_model", "invalid_models"), ("api-key", "api_key"),
                        ("Name", "name"), ("base_api_uri", "base_api_url")):  # fmt: skip
        text = GOOD + f"    {typo}: x\n"
        assert f"unknown key '{typo}' (did you mean '{known}'?)" in import_error(tmp_path, text)
    top = GOOD + "provider: {}\n"
    assert "unknown key 'provider' (did you mean 'providers'?)" in import_error(tmp_path, top)


def test_unrelated_unknown_keys_are_still_kept(tmp_path: Path, store: ProviderStore) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(GOOD + "    notes: keep me\n")
    store.import_yaml(path)
    assert b"notes: keep me" in store.export_yaml_bytes()


def test_tabs_in_indentation_are_named_with_their_line(tmp_path: Path) -> None:
    tabbed = GOOD.replace("    name: P\n", "\tname: P\n")
    assert "cat.yaml:5:1: tabs are not allowed in YAML indentation" in import_error(
        tmp_path, tabbed
    )
    nested = GOOD.replace("    name: P\n", "  \tname: P\n")
    assert "cat.yaml:5:3: tabs are not allowed in YAML indentation" in import_error(
        tmp_path, nested
    )


# -- one URL rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [("", "must not be empty"), ("   ", "must not be empty"), ("ftp://p.example/v1",
     "must be an http(s) URL"), ("https://", "must be an http(s) URL")],
)  # fmt: skip
def test_save_config_refuses_what_the_importer_refuses(
    tmp_path: Path, store: ProviderStore, url: str, reason: str
) -> None:
    store.save_config("keep", ProviderConfig())
    with pytest.raises(InvalidDocumentError, match=re.escape(reason)) as exc:
        store.save_config("p", ProviderConfig(base_api_url=url))
    assert exc.value.field == "providers.p.base_api_url"
    assert store.provider_keys() == ["keep"]

    path = tmp_path / "cat.yaml"
    path.write_text(GOOD.replace("https://p.example/v1", json.dumps(url)))
    with pytest.raises(InvalidDocumentError, match=re.escape(reason)):
        store.import_yaml(path)
    assert store.provider_keys() == ["keep"]
