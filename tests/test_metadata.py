"""Listed model items of many providers' shapes -> ModelInfo (fixtures written for these tests)."""

from __future__ import annotations

from typing import Any

import pytest

from provider_store.model_info import ModelInfo
from provider_store.providers.listed_info import model_info, model_infos


def test_openrouter_shape_per_token_string_prices_become_per_million() -> None:
    info = model_info(
        {
            "id": "acme/sparrow-7b",
            "name": "Acme: Sparrow 7B",
            "created": 1750000000,
            "context_length": 131072,
            "architecture": {
                "modality": "text+image->text",
                "input_modalities": ["text", "Image"],
                "output_modalities": ["text"],
            },
            "pricing": {"prompt": "0.0000025", "completion": "0.00001", "request": "0"},
            "top_provider": {"context_length": 65536, "max_completion_tokens": 8192},
            "supported_parameters": ["max_tokens", "temperature", "tools", "tool_choice",
                                     "reasoning", "include_reasoning", "seed"],
        }
    )  # fmt: skip
    assert info.id == "acme/sparrow-7b"
    assert info.display_name == "Acme: Sparrow 7B"
    assert info.created == 1750000000
    assert info.context_length == 131072
    assert info.max_output_tokens == 8192
    assert info.input_price == pytest.approx(2.5)
    assert info.output_price == pytest.approx(10.0)
    assert info.input_modalities == ("image", "text")
    assert info.output_modalities == ("text",)
    assert info.capabilities == ("reasoning", "tools", "vision")


def test_openrouter_router_price_minus_one_is_unknown() -> None:
    info = model_info({"id": "router/auto", "pricing": {"prompt": "-1", "completion": "-1"}})
    assert info.input_price is None and info.output_price is None


def test_old_modality_string_without_lists() -> None:
    info = model_info({"id": "m", "architecture": {"modality": "text+image->text"}})
    assert info.input_modalities == ("image", "text")
    assert info.output_modalities == ("text",)


def test_together_shape_prices_per_million_numbers_and_type() -> None:
    info = model_info(
        {
            "id": "Org/Model-70B",
            "object": "model",
            "created": 0,
            "type": "chat",
            "display_name": "Model (70B)",
            "context_length": 32768,
            "pricing": {"hourly": 0, "input": 0.88, "output": 0.9, "base": 0},
        }
    )
    assert info.display_name == "Model (70B)"
    assert info.created is None  # 0 means unknown
    assert info.context_length == 32768
    assert (info.input_price, info.output_price) == (0.88, 0.9)
    assert info.capabilities == ("chat",)


def test_together_embedding_type() -> None:
    assert model_info({"id": "e", "type": "embedding"}).capabilities == ("embeddings",)


def test_groq_shape_context_window_and_completion_limit() -> None:
    info = model_info(
        {
            "id": "llama-x-70b",
            "object": "model",
            "created": 1693721698,
            "owned_by": "Meta",
            "active": True,
            "context_window": 131072,
            "max_completion_tokens": 32768,
            "public_apps": None,
        }
    )
    assert (info.context_length, info.max_output_tokens) == (131072, 32768)
    assert info.display_name is None


def test_mistral_shape_boolean_capabilities_and_name_equal_to_id() -> None:
    info = model_info(
        {
            "id": "mistral-big-2507",
            "name": "mistral-big-2507",
            "created": 1751000000,
            "max_context_length": 128000,
            "capabilities": {
                "completion_chat": True,
                "function_calling": True,
                "vision": False,
                "reasoning": True,
                "fine_tuning": False,
            },
        }
    )
    assert info.display_name is None  # the name is only the id again
    assert info.context_length == 128000
    assert info.capabilities == ("chat", "reasoning", "tools")


def test_anthropic_shape_iso_created_and_supported_flags() -> None:
    info = model_info(
        {
            "type": "model",
            "id": "claude-test-1",
            "display_name": "Claude Test 1",
            "created_at": "2025-05-22T00:00:00Z",
            "max_input_tokens": 200000,
            "max_tokens": 64000,
            "capabilities": {
                "image_input": {"supported": True},
                "thinking": {"supported": True, "types": {"enabled": {"supported": True}}},
                "citations": {"supported": False},
            },
        }
    )
    assert info.created == 1747872000
    assert (info.context_length, info.max_output_tokens) == (200000, 64000)
    assert info.capabilities == ("reasoning", "vision")


def test_gemini_shape_prefixed_name_limits_methods_thinking() -> None:
    info = model_info(
        {
            "name": "models/gemini-test-flash",
            "displayName": "Gemini Test Flash",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
            "thinking": True,
        }
    )
    assert info.id == "gemini-test-flash"
    assert info.display_name == "Gemini Test Flash"
    assert (info.context_length, info.max_output_tokens) == (1048576, 65536)
    assert info.capabilities == ("chat", "reasoning")


def test_vllm_shape_max_model_len() -> None:
    info = model_info({"id": "org/m", "object": "model", "created": 1730317412,
                       "max_model_len": 8192, "root": "org/m", "permission": [{}]})  # fmt: skip
    assert info.context_length == 8192
    assert info.created == 1730317412


def test_llamacpp_shape_served_context_before_training_context() -> None:
    info = model_info({"id": "x.gguf", "meta": {"n_ctx": 16384, "n_ctx_train": 262144}})
    assert info.context_length == 16384
    info = model_info({"id": "x.gguf", "meta": {"n_ctx_train": 262144, "n_vocab": 1}})
    assert info.context_length == 262144


def test_baseten_shape_supported_features_and_modalities() -> None:
    info = model_info(
        {
            "id": "org/oss-120b",
            "name": "OSS 120B",
            "context_length": 128000,
            "max_completion_tokens": 32000,
            "pricing": {"prompt": "0.0000001", "completion": "0.0000005"},
            "supported_features": ["tools", "reasoning", "json_mode"],
            "input_modalities": ["text"],
            "output_modalities": ["text"],
        }
    )
    assert (info.input_price, info.output_price) == (0.1, 0.5)
    assert info.capabilities == ("json_mode", "reasoning", "tools")


def test_deepinfra_shape_nested_metadata() -> None:
    info = model_info(
        {
            "id": "org/model",
            "object": "model",
            "metadata": {
                "context_length": 65536,
                "max_tokens": 4096,
                "pricing": {"input_tokens": 0.23, "output_tokens": 0.4},
            },
        }
    )
    assert (info.context_length, info.max_output_tokens) == (65536, 4096)
    assert (info.input_price, info.output_price) == (0.23, 0.4)


def test_fireworks_shape_supports_flags() -> None:
    info = model_info(
        {
            "id": "accounts/fw/models/m",
            "supports_chat": True,
            "supports_tools": True,
            "supports_image_input": False,
            "context_length": 131072,
        }
    )
    assert info.capabilities == ("chat", "tools")


def test_github_models_shape_limits_and_hyphenated_capabilities() -> None:
    info = model_info(
        {
            "id": "pub/model",
            "name": "Pub Model",
            "supported_input_modalities": ["text", "image"],
            "supported_output_modalities": ["text"],
            "capabilities": ["streaming", "tool-calling"],
            "limits": {"max_input_tokens": 128000, "max_output_tokens": 4096},
        }
    )
    assert (info.context_length, info.max_output_tokens) == (128000, 4096)
    assert info.capabilities == ("streaming", "tools", "vision")


def test_lmstudio_shape_key_as_id_and_truthy_flags() -> None:
    info = model_info(
        {
            "type": "llm",
            "key": "pub/model-7b",
            "display_name": "Model 7B",
            "max_context_length": 32768,
            "capabilities": {"vision": False, "trained_for_tool_use": True,
                             "reasoning": {"allowed_options": ["off", "on"]}},
        }
    )  # fmt: skip
    assert info.id == "pub/model-7b"
    assert info.capabilities == ("chat", "reasoning", "tools")


def test_xai_language_models_shape_cents_per_hundred_million() -> None:
    info = model_info(
        {
            "id": "grok-x",
            "created": 1743724800,
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "prompt_text_token_price": 20000,
            "completion_text_token_price": 100000,
        }
    )
    assert (info.input_price, info.output_price) == (2.0, 10.0)


def test_ollama_style_capability_list() -> None:
    info = model_info({"id": "qwen3:0.6b", "capabilities": ["completion", "tools", "thinking"]})
    assert info.capabilities == ("completion", "reasoning", "tools")


def test_plain_openai_item_has_only_id_and_created() -> None:
    info = model_info({"id": "gpt-x", "object": "model", "created": 1686588896, "owned_by": "o"})
    assert info == ModelInfo(id="gpt-x", created=1686588896)
    assert info.raw["owned_by"] == "o"


def test_created_in_milliseconds_and_space_separated_date() -> None:
    assert model_info({"id": "a", "created": 1750000000123}).created == 1750000000
    assert model_info({"id": "a", "created_at": "2025-08-04 10:08:04.219"}).created == 1754302084


@pytest.mark.parametrize(
    "garbage",
    [
        {"context_length": "lots", "created": "yesterday", "pricing": {"prompt": "free"}},
        {"context_length": -5, "max_tokens": 0, "created": -1, "pricing": {"prompt": -1}},
        {"context_length": True, "max_tokens": 1.5, "created": float("inf"), "pricing": "x"},
        {"context_length": 10**30, "created": "2025-13-45T99:99:99Z", "pricing": [1, 2]},
        {"capabilities": "tools", "input_modalities": "text", "supported_parameters": {"a": 1}},
        {"capabilities": [None, 3, {"x": 1}, "x" * 500], "architecture": {"modality": 7}},
        {"display_name": 42, "name": ["x"], "created_at": None, "meta": "nope"},
        {"pricing": {"prompt": float("nan"), "completion": "1e400"}},
    ],
)
def test_garbage_values_become_none(garbage: dict[str, Any]) -> None:
    info = model_info({"id": "m", **garbage})
    assert info.id == "m"
    for name in ("display_name", "created", "context_length", "max_output_tokens",
                 "input_price", "output_price"):  # fmt: skip
        assert getattr(info, name) is None, name
    assert info.input_modalities == () and info.output_modalities == ()
    assert info.capabilities == ()


def test_not_a_mapping_or_no_id() -> None:
    assert model_info([1, 2]) == ModelInfo(id="")  # type: ignore[arg-type]
    assert model_infos([{"id": "a"}, {"object": "model"}, "b", None, {"id": "c"}]) == [
        ModelInfo(id="a"),
        ModelInfo(id="c"),
    ]
