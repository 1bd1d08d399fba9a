"""The registries against recorded data: real provider lists at their real hosts, LiteLLM's
recorded cost map (1.110.2) and the installed models.dev database, through a real catalog and
the ``provider-store`` command line.

Which value a registry gives and which one wins is decided above the store, so these run on
SQLite only (``above_the_store``); test_registry_metadata.py stores and reads the same facts on
both backends."""

from __future__ import annotations

import gzip
import json

import pytest
from helpers import run_cli as run
from recorded_catalog import (
    DASHSCOPE_CHINA,
    DASHSCOPE_INTL,
    GEMINI,
    MISTRAL,
    OPENAI,
    litellm_file,
    needs_recorded,
    store_recorded,
)

from provider_store import ProviderStore
from provider_store.registries.models_dev import models_dev_path

pytestmark = [needs_recorded, pytest.mark.above_the_store]
LITELLM = "litellm 1.110.2"
MODELS_DEV = f"models.dev {models_dev_path()[1]}"


def shown(store: ProviderStore, capsys: pytest.CaptureFixture[str], ref: str) -> dict[str, object]:
    code, out, err = run(capsys, "--db", store.url, "models", "show", ref, "--json")
    assert code == 0, err
    return dict(json.loads(out))


def models_dev_openai() -> dict[str, dict[str, object]]:
    with gzip.open(models_dev_path()[0], "rt", encoding="utf-8") as handle:
        return dict(json.load(handle)["openai"]["models"])


def test_gpt_5_ids_show_the_context_window_and_the_input_limit_apart(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = store_recorded(store, "openai", "openai.models.json", OPENAI)
    store.fill_from_registries(litellm=litellm_file())
    known = models_dev_openai()
    limits = {"context": 400000, "input": 272000, "output": 128000}
    gpt5 = [i for i in ids if i in known and known[i]["limit"] == limits]
    agreeing = []
    with store.read() as session:
        from provider_store.catalog.model_facts import provider_metadata

        metadata = provider_metadata(session, "openai", gpt5)
    for model_id in gpt5:
        values = metadata[model_id].values
        assert values["context_length"].value == 400000, model_id
        if values["max_input_tokens"].value == 272000:
            agreeing.append(model_id)
        else:  # the cost map says otherwise: both values are shown, and why one is used
            choice = metadata[model_id].choices["max_input_tokens"]
            assert [v.value for v in choice.disagreeing] == [272000], model_id
            assert choice.reason is not None and choice.reason.startswith(LITELLM)
    assert len(agreeing) == 11 and "gpt-5" in agreeing and "gpt-5-mini" in agreeing
    data = shown(store, capsys, "openai/gpt-5")
    assert (data["context_length"], data["max_input_tokens"]) == (400000, 272000)
    assert data["sources"]["context_length"]["source"] == MODELS_DEV  # type: ignore[index]
    chat = shown(store, capsys, "openai/gpt-5-chat-latest")
    assert (chat["context_length"], chat["max_input_tokens"]) == (400000, 128000)
    code, out, _err = run(capsys, "--db", store.url, "models", "show", "openai/gpt-5")
    assert f"context_length     400,000  ({MODELS_DEV})" in out
    assert "max_input_tokens   272,000" in out


def test_a_disagreement_shows_both_values_and_the_reason(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store_recorded(store, "openai", "openai.models.json", OPENAI)
    store.fill_from_registries(litellm=litellm_file())
    data = shown(store, capsys, "openai/gpt-5-chat-latest")
    output = data["disagreements"]["max_output_tokens"]  # type: ignore[index]
    assert output["used"]["value"] == 16384 and output["used"]["source"] == LITELLM
    assert [(o["value"], o["source"]) for o in output["others"]] == [(128000, MODELS_DEV)]
    assert output["reason"] == (
        f"{LITELLM} ranks first: the default order of trust (LiteLLM, then models.dev)"
    )
    assert len(data["candidates"]["max_output_tokens"]) == 2  # type: ignore[index]
    code, out, _err = run(capsys, "--db", store.url, "models", "show", "openai/gpt-5-chat-latest")
    assert f"max_output_tokens  16,384  ({LITELLM})" in out
    assert f"also 128,000 ({MODELS_DEV}): {LITELLM} ranks first" in out
    code, out, _err = run(capsys, "--db", store.url, "registries", "check", "--json")
    found = {(d["model"], d["field"]): d for d in json.loads(out)["disagreements"]}
    chat = found[("gpt-5-chat-latest", "max_output_tokens")]
    assert [v["value"] for v in chat["values"]] == [16384, 128000]
    assert chat["reason"].startswith(f"{LITELLM} ranks first")


def test_a_zero_price_without_a_free_flag_is_unknown(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store_recorded(store, "mistral", "mistral.models.json", MISTRAL)
    store_recorded(store, "groq", "groq.models.json", "https://api.groq.com/openai/v1")
    store.fill_from_registries(litellm=litellm_file())
    for ref in ("mistral/mistral-moderation-2603", "groq/whisper-large-v3", "groq/groq/compound"):
        data = shown(store, capsys, ref)
        assert (data["input_price"], data["output_price"]) == (None, None), ref
        code, out, _err = run(capsys, "--db", store.url, "models", "show", ref)
        assert "$0 " not in out and "free" not in out, ref


def test_duplicate_keys_of_the_cost_map_are_reported_and_conflicting_ones_refused(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store_recorded(store, "gemini", "gemini-native.models-pagesize1000.json", GEMINI, kind="gemini")
    store.fill_from_registries(litellm=litellm_file())
    code, out, err = run(capsys, "--db", store.url, "registries", "check", "--json")
    assert code == 0, err
    (litellm,) = [s for s in json.loads(out)["sources"] if s["origin"] == "litellm"]
    assert litellm["source"] == LITELLM and litellm["version"] == "1.110.2"
    twice = [n for n in litellm["notes"] if n.startswith(("duplicate", "conflicting"))]
    assert len(twice) == 21 and sum(n.startswith("conflicting") for n in twice) == 4
    assert (
        "conflicting entries 'gemini/gemini-exp-1206' and 'gemini-exp-1206' for one model,"
        " with different values; refused"
    ) in twice
    code, out, _err = run(capsys, "--db", store.url, "registries", "check")
    assert "conflicting entries 'gemini/gemini-exp-1206' and 'gemini-exp-1206'" in out


@pytest.mark.parametrize("name", ["alibaba", "qwen", "openai"])
def test_the_china_endpoint_gets_the_china_section_whatever_the_providers_name(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    store_recorded(store, name, "alibaba-dashscope.models.json", DASHSCOPE_CHINA)
    store_recorded(store, "intl", "alibaba-dashscope.models.json", DASHSCOPE_INTL)
    store.fill_from_registries(litellm=litellm_file())
    china = shown(store, capsys, f"{name}/qwen-plus")
    assert (china["input_price"], china["output_price"]) == (0.115, 0.287)
    assert china["sources"]["input_price"]["source"] == MODELS_DEV  # type: ignore[index]
    assert china["registry_matches"]["models.dev"]["section"] == "alibaba-cn"  # type: ignore[index]
    # LiteLLM's dashscope section holds the international prices: none for the China host.
    assert "litellm" not in china["registry_matches"]  # type: ignore[operator]
    intl = shown(store, capsys, "intl/qwen-plus")
    assert (intl["input_price"], intl["output_price"]) == (0.4, 1.2)


def test_known_without_metadata_is_counted_apart_and_said(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store_recorded(store, "openai", "openai.models.json", OPENAI)
    code, out, err = run(
        capsys, "--db", store.url, "registries", "update", "--litellm", str(litellm_file()),
        "--no-models-dev", "--json",
    )  # fmt: skip
    assert code == 0, err
    (fill,) = json.loads(out)
    assert fill["known_empty"] >= 3 and fill["matched"] + fill["known_empty"] == 130
    code, out, _err = run(capsys, "--db", store.url, "models", "show", "openai/tts-1")
    assert "known, no metadata (entry tts-1 in openai)" in out


def test_an_alias_shows_its_target_and_takes_the_targets_metadata(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store_recorded(store, "mistral", "mistral.models.json", MISTRAL)
    store_recorded(store, "gemini", "gemini-native.models-pagesize1000.json", GEMINI, kind="gemini")
    store.fill_from_registries(litellm=litellm_file())
    latest = shown(store, capsys, "mistral/mistral-large-latest")
    assert latest["alias_of"] == {"model": "mistral-large-2512", "source": "listed"}
    matches = latest["registry_matches"]
    assert matches["litellm"]["entry"] == "mistral/mistral-large-2512"  # type: ignore[index]
    assert matches["models.dev"]["alias_of"] == "mistral-large-2512"  # type: ignore[index]
    target = shown(store, capsys, "mistral/mistral-large-2512")
    assert latest["input_price"] == target["input_price"] is not None
    code, out, _err = run(
        capsys, "--db", store.url, "models", "show", "mistral/mistral-large-latest"
    )
    assert "alias_of           mistral-large-2512  (listed)" in out
    moving = shown(store, capsys, "gemini/gemini-flash-latest")
    assert moving["alias_of"] is None and moving["moving_alias"] is True
    code, out, _err = run(capsys, "--db", store.url, "models", "show", "gemini/gemini-flash-latest")
    assert "a moving alias; no source says which model it points at now" in out


def test_a_vendors_sections_are_searched_together(store: ProviderStore) -> None:
    ids = store_recorded(
        store, "cohere", "cohere.models.trimmed.json", "https://api.cohere.ai/compatibility/v1"
    )
    store_recorded(store, "openai", "openai.models.json", OPENAI)
    store.fill_from_registries(litellm=litellm_file(), models_dev=False)
    with store.read() as session:
        from provider_store.catalog.model_facts import provider_metadata

        cohere = provider_metadata(session, "cohere", ids)
        openai = provider_metadata(session, "openai", ["gpt-3.5-turbo-instruct"])
    sections = {m.match_notes.get("litellm", {}).get("section") for m in cohere.values()}
    assert "cohere_chat" in sections
    instruct = openai["gpt-3.5-turbo-instruct"].match_notes["litellm"]
    assert instruct["section"] == "text-completion-openai"
