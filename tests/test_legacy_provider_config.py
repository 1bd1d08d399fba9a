"""The legacy ProviderConfig contract, field by field and method by method.

Fields and defaults, the runtime cache attributes that never reach ``model_dump()``,
``get_valid_models``, ``get_invalid_models``, ``find_model`` and ``merge_valid_models``; plus
effective_api_key, the environment rule of the legacy loader.
"""

from __future__ import annotations

from provider_store import ProviderConfig, effective_api_key
from provider_store.rules import env_var_for


def test_defaults_match_the_legacy_object() -> None:
    config = ProviderConfig()
    assert config.model_dump() == {
        "name": "Test Provider",
        "base_api_url": "https://test.openai.com/v1",
        "api_key": "",
        "valid_models": {},
        "invalid_models": [],
    }
    assert config._cached_models == []
    assert config._cache_timestamp == 0.0
    assert config._cache_duration == 300


def test_built_from_keyword_arguments_as_the_old_manager_did() -> None:
    data = {
        "name": "OpenAI",
        "base_api_url": "https://api.openai.com/v1",
        "api_key": "sk-x",
        "valid_models": {"gpt-4o": "4o"},
        "invalid_models": ["whisper-1"],
    }
    config = ProviderConfig(**data)
    assert config.model_dump() == data
    assert ProviderConfig.model_validate(data) == config


def test_a_config_without_invalid_models_is_valid() -> None:
    config = ProviderConfig.model_validate(
        {"name": "X", "base_api_url": "https://x/v1", "api_key": "k", "valid_models": {"a": "b"}}
    )
    assert config.invalid_models == []


def test_runtime_attributes_never_reach_model_dump_and_defaults_are_not_shared() -> None:
    first, second = ProviderConfig(), ProviderConfig()
    first._cached_models.append({"id": "m"})
    first._cache_timestamp = 123.0
    first.valid_models["a"] = "a"
    assert second._cached_models == [] and second.valid_models == {}
    dumped = first.model_dump()
    assert set(dumped) == {"name", "base_api_url", "api_key", "valid_models", "invalid_models"}


def test_the_key_is_not_in_the_repr() -> None:
    assert "sk-secret" not in repr(ProviderConfig(api_key="sk-secret"))


def test_get_valid_models_in_order_and_invalid_models_as_a_copy() -> None:
    config = ProviderConfig(valid_models={"z": "1", "a": "2"}, invalid_models=["x"])
    assert config.get_valid_models() == ["z", "a"]
    invalid = config.get_invalid_models()
    invalid.append("y")
    assert config.invalid_models == ["x"]


def test_find_model_priority() -> None:
    config = ProviderConfig(
        valid_models={
            "gpt-4o-mini": "mini",
            "gpt-4o": "4o",
            "Qwen/QwQ-32B": "qwq",
            "deepseek-chat": "chat-ds",
        }
    )
    assert config.find_model("GPT-4O") == "gpt-4o"  # exact long id beats substring
    assert config.find_model("QWQ") == "Qwen/QwQ-32B"  # exact alias (case-insensitive)
    assert config.find_model("4o") == "gpt-4o"  # exact alias before substring of long ids
    assert config.find_model("qwen/") == "Qwen/QwQ-32B"  # substring of a long id
    assert config.find_model("gpt") == "gpt-4o-mini"  # first substring match in order
    assert config.find_model("ds") == "deepseek-chat"  # substring of an alias, last resort
    assert config.find_model("nothing") is None


def test_find_model_prefers_long_substring_over_alias_substring() -> None:
    config = ProviderConfig(valid_models={"alpha": "contains-beta", "beta-model": "b"})
    assert config.find_model("beta") == "beta-model"


def test_merge_valid_models_keeps_aliases_and_order() -> None:
    config = ProviderConfig(valid_models={"b": "bee", "a": "ay"})
    config.merge_valid_models(["a", "c", "Qwen/QwQ-32B", "c"])
    assert list(config.valid_models.items()) == [
        ("b", "bee"),
        ("a", "ay"),
        ("c", "c"),
        ("Qwen/QwQ-32B", "Qwen/QwQ-32B"),
    ]


def test_effective_api_key_uses_the_environment_only_for_placeholders() -> None:
    env = {"OPENAI_API_KEY": "sk-env"}
    assert env_var_for("openai") == "OPENAI_API_KEY"
    assert effective_api_key("openai", "sk-stored", env) == "sk-stored"
    assert effective_api_key("openai", "", env) == "sk-env"
    assert effective_api_key("openai", "sk-not-configured", env) == "sk-env"
    assert effective_api_key("openai", "not-configured", env) == "sk-env"
    assert effective_api_key("deepseek", "sk-not-configured", env) == "sk-not-configured"
    assert effective_api_key("deepseek", "", {}) == ""
