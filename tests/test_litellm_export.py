"""``export --format litellm``: a LiteLLM proxy config that starts and serves as it is written.

What the proxy does with it is tested against a real proxy in ``test_litellm_proxy.py``; here,
what the file holds and what the command says, on each backend.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli as run

from provider_store import ProviderConfig, ProviderStore, litellm_config
from provider_store.exports.litellm_proxy import per_token
from provider_store.registries.litellm import LITELLM_LIMITS, LITELLM_PRICES

KEY = "sk-litellm-export-0123456789"


@pytest.fixture
def catalog(store: ProviderStore, monkeypatch: pytest.MonkeyPatch) -> ProviderStore:
    """A keyed provider (its key stored), a keyless one, and one whose key the environment
    gives; an alias that names one model, and one that two providers share."""
    for name in ("LITELLM_MASTER_KEY", "GROQ_API_KEY", "LOCAL_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    store.save_config(
        "groq",
        ProviderConfig(
            name="Groq",
            base_api_url="https://api.groq.example/openai/v1",
            api_key=KEY,
            valid_models={"llama-3.1-8b-instant": "llama8", "gemma2-9b-it": "shared"},
        ),
    )
    store.save_config(
        "local",
        ProviderConfig(
            name="Local",
            base_api_url="http://127.0.0.1:9/v1",
            valid_models={"qwen3": "shared"},
            options={"no_key": True},
        ),
    )
    store.save_config(
        "openai",
        ProviderConfig(
            name="OpenAI", base_api_url="https://api.openai.example/v1", valid_models={"o3": "o3"}
        ),
    )
    store.set_model_metadata(
        "groq",
        "llama-3.1-8b-instant",
        context_length=131072,
        max_output_tokens=8192,
        input_price=0.05,
        output_price=0.08,
        capabilities=["tools"],
        deprecation_date="2026-12-31",
    )
    return store


def entries(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["model_name"]: entry for entry in document["model_list"]}


def test_the_config_routes_every_valid_model_by_provider_and_id_with_its_aliases(
    catalog: ProviderStore,
) -> None:
    config = litellm_config(catalog)
    models = entries(config.document)
    assert list(models) == [
        "groq/llama-3.1-8b-instant",
        "groq/gemma2-9b-it",
        "local/qwen3",
        "openai/o3",
    ]
    assert models["groq/llama-3.1-8b-instant"]["litellm_params"] == {
        "model": "openai/llama-3.1-8b-instant",
        "api_base": "https://api.groq.example/openai/v1",
        "api_key": "os.environ/GROQ_API_KEY",
    }
    # An alias that names one model routes to it; one two providers share names neither.
    assert config.document["router_settings"] == {
        "model_group_alias": {
            "groq/llama8": "groq/llama-3.1-8b-instant",
            "llama8": "groq/llama-3.1-8b-instant",
            "groq/shared": "groq/gemma2-9b-it",
            "local/shared": "local/qwen3",
        }
    }
    assert config.document["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}


def test_model_info_carries_the_model_view_with_prices_as_the_source_gave_them(
    catalog: ProviderStore,
) -> None:
    text = litellm_config(catalog).to_bytes().decode()
    info = entries(yaml.safe_load(text))["groq/llama-3.1-8b-instant"]["model_info"]
    assert info == {
        "mode": "chat",
        "max_input_tokens": 131072,
        "max_output_tokens": 8192,
        "input_cost_per_token": 5e-08,
        "output_cost_per_token": 8e-08,
        "supports_function_calling": True,
        "deprecation_date": "2026-12-31",
    }
    assert "0000000" not in text  # no float noise (0.05 / 1e6 is 5.0000000000000004e-08)
    assert [per_token(p) for p in (0.15, 2.5, 0.0375, 1e-05)] == [1.5e-07, 2.5e-06, 3.75e-08, 1e-11]


def test_a_keyless_provider_is_sent_a_placeholder_key_not_an_unset_variable(
    catalog: ProviderStore,
) -> None:
    config = litellm_config(catalog)
    params = entries(config.document)["local/qwen3"]["litellm_params"]
    assert params["api_key"] == "no-key"
    assert config.keyless == ["local"]
    assert "LOCAL_API_KEY" not in [v.name for v in config.variables]


def test_the_export_says_each_variable_the_proxy_reads_and_whether_it_is_set_never_a_key(
    catalog: ProviderStore,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    target = tmp_path / "litellm.yaml"
    code, out, err = run(capsys, "--db", catalog.url, "export", str(target), "--format", "litellm")
    assert code == 0, err
    assert "Exported a LiteLLM proxy config of 4 models" in out
    assert err.splitlines() == [
        "$LITELLM_MASTER_KEY is not set: the proxy's master key, which its clients send as"
        " their API key (the proxy refuses to start without one: set it to a secret of your"
        " own).",
        "$GROQ_API_KEY is not set: the key of provider groq; the catalog holds one: set the"
        " variable to it, or export with --include-keys to write it into the file.",
        "$OPENAI_API_KEY is set: the key of provider openai.",
        "Keyless providers, sent the placeholder key 'no-key': local.",
    ]
    data = target.read_bytes()
    assert KEY.encode() not in data and b"sk-from-the-environment" not in data
    assert KEY not in out + err
    assert stat.S_IMODE(os.stat(target).st_mode) & 0o077 != 0o077  # an ordinary file
    # Standard output gets the same config, and standard error the same lines.
    code, out, err2 = run(capsys, "--db", catalog.url, "export", "-", "--format", "litellm")
    assert code == 0 and out.encode() == data and err2 == err


def test_include_keys_writes_the_stored_keys_into_a_private_file_only(
    catalog: ProviderStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "litellm.yaml"
    code, out, err = run(
        capsys, "--db", catalog.url, "export", str(target), "--format", "litellm", "--include-keys"
    )
    assert code == 0, err
    assert "mode 0600: it holds API keys" in out
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    models = entries(yaml.safe_load(target.read_text()))
    assert models["groq/gemma2-9b-it"]["litellm_params"]["api_key"] == KEY
    assert models["openai/o3"]["litellm_params"]["api_key"] == "os.environ/OPENAI_API_KEY"
    assert "GROQ_API_KEY" not in err and "$OPENAI_API_KEY is not set" in err
    assert KEY not in out + err
    # Never to standard output, and never with the legacy format (which holds them already).
    for args in (("-", "--format", "litellm"), (str(target),)):
        code, out, err = run(capsys, "--db", catalog.url, "export", *args, "--include-keys")
        assert code == 2 and "--include-keys" in err and KEY not in out + err


def test_legacy_only_options_are_refused_with_the_litellm_format(
    catalog: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(
        capsys, "--db", catalog.url, "export", "-", "--format", "litellm", "--with-metadata"
    )
    assert code == 2 and "--format legacy" in err


def test_help_says_what_each_format_is(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "export", "--help")
    flat = " ".join(out.split())
    assert code == 0
    assert "legacy: the providers YAML that import reads back" in flat
    assert "litellm: a LiteLLM proxy config" in flat
    code, out, _err = run(capsys, "--help")
    assert "legacy YAML, or a LiteLLM config" in " ".join(out.split())


def test_registry_values_reach_the_config_through_the_model_view(store: ProviderStore) -> None:
    store.save_config(
        "openai",
        ProviderConfig(
            name="OpenAI", base_api_url="https://api.openai.com/v1", valid_models={"gpt-4o": "4o"}
        ),
    )
    store.fill_from_registries()
    shown = store.model_metadata("openai", "gpt-4o").values
    info = entries(litellm_config(store).document)["openai/gpt-4o"]["model_info"]
    for field, name in {**LITELLM_LIMITS, **LITELLM_PRICES}.items():
        if field in shown:
            expected = shown[field].value
            assert info[name] == (per_token(expected) if field in LITELLM_PRICES else expected)
    assert len(info) > 1


def test_json_reports_the_variables_the_proxy_reads_and_the_keyless_providers(
    catalog: ProviderStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = str(tmp_path / "litellm.yaml")
    code, out, err = run(
        capsys, "--db", catalog.url, "export", target, "--format", "litellm", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert (data["format"], data["models"], data["holds_keys"]) == ("litellm", 4, False)
    assert data["variables"] == [
        {"name": "LITELLM_MASTER_KEY", "set": False, "provider": None, "stored_in_catalog": False},
        {"name": "GROQ_API_KEY", "set": False, "provider": "groq", "stored_in_catalog": True},
        {"name": "OPENAI_API_KEY", "set": False, "provider": "openai", "stored_in_catalog": False},
    ]
    assert data["keyless"] == ["local"]
