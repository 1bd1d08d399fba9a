"""Metadata from registries fills what a provider's list leaves empty, each value with its source;
a listed value beats a registry's, and the user's override beats both and survives refreshes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli as run

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore
from provider_store.errors import InvalidDocumentError, NotFoundError
from provider_store.registries.models_dev import models_dev_path
from provider_store.testing import FakeProvider

KEY = "sk-registry-test-0123456789"
MODELS_DEV = f"models.dev {models_dev_path()[1]}"


pytestmark = pytest.mark.fake(["gpt-4o", "gpt-4o-mini", "my-finetune"], api_key=KEY)


@pytest.fixture
def openai(store: ProviderStore, fake: FakeProvider) -> ProviderStore:
    """A provider keyed ``openai`` on loopback whose list gives no context and no prices."""
    store.save_config(
        "openai", ProviderConfig(name="OpenAI", base_api_url=fake.base_url, api_key=KEY)
    )
    refresh(store)
    return store


def refresh(store: ProviderStore) -> None:
    with ModelDiscoveryService(store) as service:
        result = service.discover(store.get_config("openai"), force_refresh=True)
    assert result.error is None


def test_models_dev_fills_context_and_prices_the_list_leaves_empty(openai: ProviderStore) -> None:
    assert openai.model_metadata("openai", "gpt-4o").values.get("context_length") is None
    fills = openai.fill_from_registries()
    assert [(f.provider, f.source, f.matched) for f in fills] == [("openai", MODELS_DEV, 2)]
    shown = openai.model_metadata("openai", "gpt-4o")
    assert shown.values["context_length"].value == 128000
    assert shown.values["context_length"].source == MODELS_DEV
    assert shown.values["input_price"].value == 2.5
    assert shown.values["output_price"].value == 10.0
    assert shown.matches == {"models.dev": "exact id"}
    # A model no registry knows stays empty, and says nothing was matched.
    unknown = openai.model_metadata("openai", "my-finetune")
    assert "context_length" not in unknown.values and unknown.matches == {}


def test_a_listed_value_beats_the_registry(openai: ProviderStore, fake: FakeProvider) -> None:
    fake.set_model_metadata("gpt-4o", {"context_length": 64000})
    refresh(openai)
    openai.fill_from_registries()
    shown = openai.model_metadata("openai", "gpt-4o").values
    assert (shown["context_length"].value, shown["context_length"].source) == (64000, "listed")
    assert shown["input_price"].source == MODELS_DEV


def test_a_user_override_wins_and_survives_refresh_registry_update_and_reimport(
    openai: ProviderStore, fake: FakeProvider, tmp_path: Path
) -> None:
    openai.fill_from_registries()
    openai.set_model_metadata("openai", "gpt-4o", context_length=200000, input_price=1.25)
    fake.set_model_metadata("gpt-4o", {"context_length": 64000})
    refresh(openai)
    openai.fill_from_registries()
    exported = tmp_path / "catalog.yaml"
    openai.export_yaml(exported)
    openai.import_yaml(exported)
    shown = openai.model_metadata("openai", "gpt-4o").values
    assert (shown["context_length"].value, shown["context_length"].source) == (200000, "user")
    assert (shown["input_price"].value, shown["input_price"].source) == (1.25, "user")
    assert shown["output_price"].source == MODELS_DEV
    # Clearing the override gives the listed value back.
    openai.set_model_metadata("openai", "gpt-4o", context_length=None)
    assert openai.model_metadata("openai", "gpt-4o").values["context_length"].value == 64000


def test_the_litellm_cost_map_ranks_above_models_dev(openai: ProviderStore, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    entry = {"litellm_provider": "openai", "input_cost_per_token": 3e-06, "max_input_tokens": 1000}
    prices.write_text(json.dumps({"gpt-4o": entry}), encoding="utf-8")
    openai.fill_from_registries(litellm=prices)
    shown = openai.model_metadata("openai", "gpt-4o")
    assert shown.values["input_price"].value == 3.0
    assert shown.values["input_price"].source == "litellm prices.json"
    assert shown.values["output_price"].source == MODELS_DEV
    assert shown.matches == {"litellm": "exact id", "models.dev": "exact id"}


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"context_length": -1}, "context_length must be a whole number"),
        ({"input_price": "cheap"}, "input_price must be a number"),
        ({"context_lenght": 5}, "not a metadata field: context_lenght"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(
    openai: ProviderStore, values: dict[str, object], says: str
) -> None:
    with pytest.raises(InvalidDocumentError, match=says):
        openai.set_model_metadata("openai", "gpt-4o", **values)


def test_an_override_needs_a_model_of_the_catalog(openai: ProviderStore) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        openai.set_model_metadata("openai", "nope", context_length=5)


def test_registries_update_and_check_from_the_command_line(
    openai: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prices = tmp_path / "prices.json"
    entry = {"litellm_provider": "openai", "max_input_tokens": 8000, "supports_reasoning": True}
    prices.write_text(json.dumps({"gpt-4o": entry}), encoding="utf-8")
    code, out, err = run(
        capsys, "--db", openai.url, "registries", "update", "--litellm", str(prices), "--json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == [
        {
            "provider": "openai",
            "source": "litellm prices.json",
            "matched": 1,
            "ambiguous": 0,
            "unmatched": 2,
        },
        {"provider": "openai", "source": MODELS_DEV, "matched": 2, "ambiguous": 0, "unmatched": 1},
    ]
    code, out, err = run(capsys, "--db", openai.url, "registries", "check", "--json")
    assert code == 0
    fields = sorted((d["model"], d["field"]) for d in json.loads(out))
    # 8,000 against 128,000 tokens, and reasoning in one source only.
    assert fields == [("gpt-4o", "capabilities"), ("gpt-4o", "context_length")]
    code, out, err = run(capsys, "--db", openai.url, "registries", "update", "nope")
    assert code == 2 and "Unknown provider: nope" in err


def test_discover_fills_models_dev_metadata_shown_with_its_source_and_a_user_override_wins(
    openai: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: a provider keyed openai whose list gives no context."""
    code, _out, err = run(capsys, "--db", openai.url, "discover", "openai", "--no-validate")
    assert code == 0, err
    code, out, err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["context_length"], shown["input_price"], shown["output_price"]) == (
        128000,
        2.5,
        10.0,
    )
    assert shown["sources"]["context_length"]["source"] == MODELS_DEV
    assert shown["sources"]["input_price"]["source"] == MODELS_DEV
    assert shown["registry_matches"] == {"models.dev": "exact id"}
    code, out, err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o")
    assert f"128,000  ({MODELS_DEV})" in out

    code, _out, err = run(
        capsys, "--db", openai.url, "models", "set", "openai/gpt-4o", "--context", "200000"
    )
    assert code == 0, err
    code, _out, err = run(
        capsys, "--db", openai.url, "discover", "openai", "--no-validate", "--force-refresh"
    )
    assert code == 0, err
    code, out, _err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o", "--json")
    shown = json.loads(out)
    assert shown["context_length"] == 200000
    assert shown["sources"]["context_length"]["source"] == "user"
    assert shown["sources"]["output_price"]["source"] == MODELS_DEV


def test_models_list_deprecated_names_the_date_and_source(
    openai: ProviderStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prices = tmp_path / "prices.json"
    entry = {"litellm_provider": "openai", "deprecation_date": "2024-06-13"}
    prices.write_text(json.dumps({"gpt-4o-mini": entry}), encoding="utf-8")
    openai.fill_from_registries(litellm=prices, models_dev=False)
    code, out, err = run(
        capsys, "--db", openai.url, "models", "list", "--all", "--deprecated", "--json"
    )
    assert code == 0, err
    assert [(r["model"], r["deprecation"]) for r in json.loads(out)] == [
        ("gpt-4o-mini", "deprecated from 2024-06-13 (litellm prices.json)")
    ]
    code, out, err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o-mini")
    assert "deprecation" in out and "2024-06-13" in out
