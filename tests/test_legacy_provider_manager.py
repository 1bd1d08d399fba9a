"""The legacy ProviderManager contract, method by method: code written against it runs unchanged.

Every test here uses the class as code written against the legacy contract does (loose configs,
positional arguments, the legacy exception types and messages). The one deliberate difference, a
provider-prefixed short alias resolving to the long id, is asserted as such.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from provider_store import (
    NotFoundError,
    ProviderClient,
    ProviderConfig,
    ProviderManager,
    ProviderStoreError,
    UnknownModelError,
)
from provider_store.discovery.service import ModelDiscoveryService
from provider_store.testing import FakeProvider

KEY = "sk-legacy-SECRET-0123456789"


def catalog() -> dict[str, ProviderConfig | dict[str, object]]:
    return {
        "openai": ProviderConfig(
            name="OpenAI",
            api_key="sk-openai",
            valid_models={"gpt-4o-2024-08-06": "4o", "gpt-4o-mini": "mini"},
        ),
        "together": {
            "name": "Together",
            "base_api_url": "https://api.together.xyz/v1",
            "api_key": "sk-together",
            "valid_models": {"Qwen/QwQ-32B": "qwq", "gpt-4o-mini": "tmini"},
            "invalid_models": ["embed-1"],
        },
    }


@pytest.fixture
def manager() -> ProviderManager:
    return ProviderManager(catalog())


# -- construction and dict-like access ------------------------------------------------------------


def test_init_accepts_configs_and_plain_dicts(manager: ProviderManager) -> None:
    assert isinstance(manager.providers["together"], ProviderConfig)
    assert manager.providers["together"].invalid_models == ["embed-1"]
    assert manager.providers["openai"].name == "OpenAI"


def test_discovery_service_attribute() -> None:
    service = quick_service()
    manager = ProviderManager(catalog(), service=service)
    assert manager.discovery_service is service
    service.close()
    own = ProviderManager(catalog())
    assert isinstance(own.discovery_service, ModelDiscoveryService)
    own.close()


def test_get_getitem_and_contains(manager: ProviderManager) -> None:
    assert manager.get("openai") is manager["openai"]
    assert manager.get("nope") is None
    assert "together" in manager and "nope" not in manager
    with pytest.raises(KeyError):
        manager["nope"]


def test_keys_values_items_are_lists(manager: ProviderManager) -> None:
    keys, values, items = manager.keys(), manager.values(), manager.items()
    assert isinstance(keys, list) and keys == ["openai", "together"]
    assert isinstance(values, list) and [v.name for v in values] == ["OpenAI", "Together"]
    assert isinstance(items, list) and items == list(zip(keys, values, strict=True))
    keys.append("mutating the list leaves the manager alone")
    assert manager.keys() == ["openai", "together"]


def test_model_dump_gives_each_configs_persisted_fields(manager: ProviderManager) -> None:
    dumped = manager.model_dump()
    assert list(dumped) == ["openai", "together"]
    assert dumped["together"] == {
        "name": "Together",
        "base_api_url": "https://api.together.xyz/v1",
        "api_key": "sk-together",
        "valid_models": {"Qwen/QwQ-32B": "qwq", "gpt-4o-mini": "tmini"},
        "invalid_models": ["embed-1"],
    }


def test_get_provider_config_raises_the_old_key_error(manager: ProviderManager) -> None:
    assert manager.get_provider_config("together").name == "Together"
    with pytest.raises(KeyError) as caught:
        manager.get_provider_config("nope")
    assert caught.value.args == ("Provider 'nope' not found.",)
    assert str(caught.value) == str(KeyError("Provider 'nope' not found."))
    assert isinstance(caught.value, NotFoundError)  # and inside the documented hierarchy


def test_get_all_provider_names(manager: ProviderManager) -> None:
    assert manager.get_all_provider_names() == ["openai", "together"]


# -- listings --------------------------------------------------------------------------------------


def test_merged_models_in_provider_then_model_order(manager: ProviderManager) -> None:
    assert manager.merged_models() == [
        ("openai", ("gpt-4o-2024-08-06", "4o")),
        ("openai", ("gpt-4o-mini", "mini")),
        ("together", ("Qwen/QwQ-32B", "qwq")),
        ("together", ("gpt-4o-mini", "tmini")),
    ]


def test_get_available_models_returns_bare_long_ids(manager: ProviderManager) -> None:
    assert manager.get_available_models() == [
        "gpt-4o-2024-08-06",
        "gpt-4o-mini",
        "Qwen/QwQ-32B",
        "gpt-4o-mini",
    ]
    assert manager.get_available_models("together") == ["Qwen/QwQ-32B", "gpt-4o-mini"]
    assert manager.get_available_models(filter_by_provider="openai") == [
        "gpt-4o-2024-08-06",
        "gpt-4o-mini",
    ]
    assert manager.get_available_models("nope") == []


def test_get_short_name_is_a_static_method() -> None:
    assert ProviderManager.get_short_name("gpt-4o-2024-08-06") == "gpt-4o-2024-08-06"
    assert ProviderManager(catalog()).get_short_name("x") == "x"


def test_split_first_slash_is_a_static_method() -> None:
    assert ProviderManager.split_first_slash("together/Qwen/QwQ-32B") == (
        "together",
        "Qwen/QwQ-32B",
    )
    assert ProviderManager.split_first_slash("gpt-4o") == ("", "gpt-4o")


def test_cached_valid_scoped_models_lifecycle(fake: FakeProvider) -> None:
    manager = ProviderManager(
        {"local": {"base_api_url": fake.base_url, "api_key": KEY, "valid_models": {"a": "A"}}},
        service=quick_service(),
    )
    assert manager.cached_valid_scoped_models is None
    listed = manager.valid_scoped_models()
    assert listed == ["local/a (A)"]
    assert manager.cached_valid_scoped_models == listed
    assert manager.valid_scoped_models() is listed  # served from the cache
    assert manager.discover_models(persist_on_success=False) is True
    assert manager.cached_valid_scoped_models is None
    assert manager.valid_scoped_models() == ["local/a (A)", "local/b (b)"]


def test_valid_scoped_models_sees_changes_made_through_the_manager(
    manager: ProviderManager,
) -> None:
    before = manager.valid_scoped_models()
    manager["new"] = {"valid_models": {"m": "m1"}}
    assert manager.cached_valid_scoped_models is None
    assert manager.valid_scoped_models() == [*before, "new/m (m1)"]


# -- resolution ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_string", "provider", "model"),
    [
        ("openai/gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("together/Qwen/QwQ-32B", "together", "Qwen/QwQ-32B"),
        ("gpt-4o-mini", "openai", "gpt-4o-mini"),  # unprefixed: the first provider wins
        ("qwq", "together", "Qwen/QwQ-32B"),  # an unprefixed alias gives the long id
        ("tmini", "together", "gpt-4o-mini"),
    ],
)
def test_get_api_for_model_string_and_validate_model(
    manager: ProviderManager, model_string: str, provider: str, model: str
) -> None:
    config, resolved = manager.get_api_for_model_string(model_string)
    assert (config, resolved) == (manager[provider], model)
    assert manager.validate_model(model_string) == model


def test_a_prefixed_alias_resolves_to_the_long_id(manager: ProviderManager) -> None:
    """The one deliberate difference from the legacy contract: the long id, never the alias "4o",
    is what goes to the API."""
    config, model = manager.get_api_for_model_string("openai/4o")
    assert config is manager["openai"]
    assert model == "gpt-4o-2024-08-06"
    assert manager.validate_model("together/tmini") == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("model_string", "old_message"),
    [
        ("openai/qwq", "Invalid model for provider openai: qwq"),
        ("gpt-5", "Invalid model: gpt-5"),
        ("vendor/gpt-5", "Invalid model: gpt-5"),
    ],
)
def test_resolution_errors_keep_the_old_value_error_message(
    manager: ProviderManager, model_string: str, old_message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{old_message}") as caught:
        manager.get_api_for_model_string(model_string)
    assert str(caught.value).startswith(old_message)
    assert isinstance(caught.value, UnknownModelError)
    assert isinstance(caught.value, ProviderStoreError)
    with pytest.raises(ValueError, match=f"^{old_message}"):
        manager.validate_model(model_string)


def test_find_model_gives_config_and_long_id_per_provider(manager: ProviderManager) -> None:
    assert manager.find_model("MINI") == [
        (manager["openai"], "gpt-4o-mini"),
        (manager["together"], "gpt-4o-mini"),
    ]
    assert manager.find_model("qw") == [(manager["together"], "Qwen/QwQ-32B")]
    assert manager.find_model("absent") == []


# -- discovery and persistence ---------------------------------------------------------------------


pytestmark = pytest.mark.fake(["a", "b", "embed"], api_key=KEY, behaviours={"embed": "refuse"})


def quick_service() -> ModelDiscoveryService:
    return ModelDiscoveryService(
        client=ProviderClient(connect_timeout=1, read_timeout=2, deadline=5, backoff=0.01)
    )


def test_discover_models_merges_verdicts_and_skips_providers_without_a_key(
    fake: FakeProvider,
) -> None:
    manager = ProviderManager(
        {
            "local": {"base_api_url": fake.base_url, "api_key": KEY, "valid_models": {"a": "A"}},
            "keyless": {"base_api_url": fake.base_url, "api_key": ""},
        },
        service=quick_service(),
    )
    assert manager.discover_models() is True
    assert manager["local"].valid_models == {"a": "A", "b": "b"}  # the alias of "a" is kept
    assert manager["local"].invalid_models == ["embed"]
    assert manager["keyless"].valid_models == {}
    assert manager.discover_models(provider="lokal") is False  # unknown provider
    assert manager.last_report is not None
    assert manager.last_report.error == "Unknown provider: lokal (did you mean local?)"
    assert manager.discover_models(True, False, "local") is True  # the old positional order


def test_discover_models_returns_false_when_a_provider_fails(fake: FakeProvider) -> None:
    manager = ProviderManager(
        {"local": {"base_api_url": fake.base_url, "api_key": KEY, "valid_models": {"a": "A"}}},
        service=quick_service(),
    )
    fake.set_failure("status", status=500)
    assert manager.discover_models(force_refresh=True) is False
    assert manager["local"].valid_models == {"a": "A"}  # what we knew is kept


def test_discover_models_writes_the_legacy_file_to_data_directory(
    fake: FakeProvider, tmp_path: Path
) -> None:
    manager = ProviderManager(
        {"local": {"base_api_url": fake.base_url, "api_key": KEY}}, service=quick_service()
    )
    assert manager.discover_models(data_directory=str(tmp_path / "data")) is True
    written = tmp_path / "data" / "openaicompat-providers.yaml"
    document = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert document == {
        "providers": {
            "local": {
                "name": "Test Provider",
                "base_api_url": fake.base_url,
                "api_key": KEY,
                "valid_models": {"a": "a", "b": "b"},
                "invalid_models": ["embed"],
            }
        }
    }
    assert stat.S_IMODE(written.stat().st_mode) == 0o600  # it holds a key


def test_persist_provider_configs_defaults_to_the_old_directory(manager: ProviderManager) -> None:
    path = manager.persist_provider_configs()  # HOME is a temporary directory in the tests
    assert path == Path.home() / ".llm_chat_cli" / "openaicompat-providers.yaml"
    assert list(yaml.safe_load(path.read_text(encoding="utf-8"))["providers"]) == [
        "openai",
        "together",
    ]


def test_persist_provider_configs_names_a_path_it_cannot_write(
    manager: ProviderManager, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(ProviderStoreError, match="openaicompat-providers.yaml"):
        manager.persist_provider_configs(blocker)
