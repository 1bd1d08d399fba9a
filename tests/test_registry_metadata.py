"""Metadata from registries fills what a provider's list leaves empty, each value with its source;
a listed value beats a registry's, the user's override beats both and survives refreshes, and
where sources disagree the catalog says which value it uses and why."""

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


def prices_file(folder: Path, document: object, name: str = "prices-1.0.0.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_models_dev_fills_context_and_prices_the_list_leaves_empty(openai: ProviderStore) -> None:
    assert openai.model_metadata("openai", "gpt-4o").values.get("context_length") is None
    fills = openai.fill_from_registries()
    assert [(f.provider, f.source, f.matched) for f in fills] == [("openai", MODELS_DEV, 2)]
    shown = openai.model_metadata("openai", "gpt-4o")
    assert shown.values["context_length"].value == 128000
    assert shown.values["context_length"].source == MODELS_DEV
    assert shown.values["input_price"].value == 2.5
    assert shown.values["output_price"].value == 10.0
    assert shown.match_notes == {
        "models.dev": {"entry": "gpt-4o", "section": "openai", "how": "exact id"}
    }
    assert shown.matches == {"models.dev": "exact id: entry gpt-4o in openai"}
    # A model no registry knows stays empty, and says nothing was matched.
    unknown = openai.model_metadata("openai", "my-finetune")
    assert "context_length" not in unknown.values and unknown.matches == {}


def test_a_listed_value_beats_the_registry(openai: ProviderStore, fake: FakeProvider) -> None:
    fake.set_model_metadata("gpt-4o", {"context_length": 64000})
    refresh(openai)
    openai.fill_from_registries()
    shown = openai.model_metadata("openai", "gpt-4o")
    context = shown.values["context_length"]
    assert (context.value, context.source) == (64000, "listed")
    assert shown.values["input_price"].source == MODELS_DEV
    choice = shown.choices["context_length"]
    assert [(v.source, v.value) for v in choice.disagreeing] == [(MODELS_DEV, 128000)]
    assert choice.reason == "the provider's own list wins over the registries"


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


def test_by_default_the_litellm_cost_map_ranks_above_models_dev(
    openai: ProviderStore, tmp_path: Path
) -> None:
    entry = {"litellm_provider": "openai", "input_cost_per_token": 3e-06, "max_input_tokens": 1000}
    openai.fill_from_registries(litellm=prices_file(tmp_path, {"gpt-4o": entry}))
    shown = openai.model_metadata("openai", "gpt-4o")
    assert shown.values["input_price"].value == 3.0
    assert shown.values["input_price"].source == "litellm 1.0.0"
    assert shown.values["output_price"].source == MODELS_DEV
    # The input limit is LiteLLM's; the context window stays models.dev's.
    assert shown.values["max_input_tokens"].value == 1000
    assert shown.values["context_length"].value == 128000
    assert set(shown.matches) == {"litellm", "models.dev"}
    price = shown.choices["input_price"]
    assert [(v.source, v.value) for v in price.disagreeing] == [(MODELS_DEV, 2.5)]
    assert price.reason == (
        "litellm 1.0.0 ranks first: the default order of trust (LiteLLM, then models.dev)"
    )


def test_a_registry_that_agrees_with_the_providers_own_list_ranks_first(
    openai: ProviderStore, fake: FakeProvider, tmp_path: Path
) -> None:
    # The list gives output limits that models.dev agrees with and the cost map does not.
    fake.set_model_metadata("gpt-4o", {"max_output_tokens": 16384})
    fake.set_model_metadata("gpt-4o-mini", {"max_output_tokens": 16384})
    refresh(openai)
    cost_map = {
        "gpt-4o": {"litellm_provider": "openai", "max_output_tokens": 4096, "input_cost_per_token": 9e-06},  # noqa: E501
        "gpt-4o-mini": {"litellm_provider": "openai", "max_output_tokens": 4096},
    }  # fmt: skip
    openai.fill_from_registries(litellm=prices_file(tmp_path, cost_map))
    shown = openai.model_metadata("openai", "gpt-4o")
    assert shown.order.origins == ("models.dev", "litellm")
    price = shown.choices["input_price"]
    assert (price.chosen.source, price.chosen.value) == (MODELS_DEV, 2.5)
    assert [(v.source, v.value) for v in price.disagreeing] == [("litellm 1.0.0", 9.0)]
    assert price.reason == (
        f"{MODELS_DEV} ranks first: {MODELS_DEV} agrees with openai's own list on 2 of 2"
        " values, litellm 1.0.0 on 0"
    )


@pytest.mark.above_the_store
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


def test_a_zero_price_is_unknown_unless_the_source_says_free_and_the_users_is_free(
    openai: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The provider's own list says 0 for a model it does not call free: unknown, not free.
    fake.set_model_metadata("my-finetune", {"input_price": 0.0, "output_price": 0.0})
    refresh(openai)
    cost_map = {"gpt-4o-mini": {"litellm_provider": "openai", "input_cost_per_token": 0.0}}
    openai.fill_from_registries(litellm=prices_file(tmp_path, cost_map), models_dev=False)
    for model in ("my-finetune", "gpt-4o-mini"):
        code, out, err = run(
            capsys, "--db", openai.url, "models", "show", f"openai/{model}", "--json"
        )
        assert code == 0, err
        assert json.loads(out)["input_price"] is None, model
        code, out, _err = run(capsys, "--db", openai.url, "models", "show", f"openai/{model}")
        assert "$0" not in out and "free" not in out
    openai.set_model_metadata("openai", "my-finetune", input_price=0)
    code, out, _err = run(capsys, "--db", openai.url, "models", "show", "openai/my-finetune")
    assert "input_price        free  (user)" in out


def test_registries_update_and_check_from_the_command_line(
    openai: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    entry = {"litellm_provider": "openai", "max_input_tokens": 8000, "supports_reasoning": True}
    prices = prices_file(tmp_path, {"gpt-4o": entry, "gpt-4o-mini": {"litellm_provider": "openai"}})
    code, out, err = run(
        capsys, "--db", openai.url, "registries", "update", "--litellm", str(prices), "--json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == [
        {
            "provider": "openai",
            "source": "litellm 1.0.0",
            "matched": 1,
            "known_empty": 1,
            "ambiguous": 0,
            "unmatched": 1,
            "unchanged": False,
        },
        {
            "provider": "openai",
            "source": MODELS_DEV,
            "matched": 2,
            "known_empty": 0,
            "ambiguous": 0,
            "unmatched": 1,
            "unchanged": False,
        },
    ]
    code, out, err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o-mini")
    assert "known, no metadata (entry gpt-4o-mini in openai)" in out
    code, out, err = run(capsys, "--db", openai.url, "registries", "check", "--json")
    assert code == 0
    report = json.loads(out)
    assert [s["source"] for s in report["sources"]] == ["litellm 1.0.0", MODELS_DEV]
    assert report["sources"][0]["location"] == str(prices)
    assert len(report["sources"][0]["content_hash"]) == 64
    # 8,000 input tokens against models.dev's none, and reasoning in one source only.
    assert [(d["model"], d["field"]) for d in report["disagreements"]] == [
        ("gpt-4o", "capabilities")
    ]
    (flags,) = report["disagreements"]
    assert flags["used"]["source"] == "litellm 1.0.0"
    assert flags["reason"].startswith("litellm 1.0.0 ranks first")
    code, out, err = run(capsys, "--db", openai.url, "registries", "update", "nope")
    assert code == 2 and "Unknown provider: nope" in err


def test_an_unchanged_registry_and_listing_are_not_redone_but_confirmed(
    openai: ProviderStore, fake: FakeProvider, tmp_path: Path
) -> None:
    from freezegun import freeze_time

    from provider_store.catalog.model_facts import read_facts

    prices = prices_file(
        tmp_path, {"gpt-4o": {"litellm_provider": "openai", "max_input_tokens": 8000}}
    )
    with freeze_time("2026-12-01 10:00:00"):
        first = openai.fill_from_registries(litellm=prices)
    assert not any(fill.skipped for fill in first)
    with openai.read() as session:
        before = read_facts(session, "openai")
    marker = openai.rows.read_change_marker()
    with freeze_time("2026-12-01 11:00:00"):  # the same day (LiteLLM's deprecations are dated)
        again = openai.fill_from_registries(litellm=prices)
    assert all(fill.skipped for fill in again)
    assert [(f.matched, f.known_empty) for f in again] == [
        (f.matched, f.known_empty) for f in first
    ]
    with openai.read() as session:
        assert read_facts(session, "openai") == before  # no row rewritten
    assert openai.rows.read_change_marker() == marker  # no reader is woken
    # The values were confirmed: observed_at moves, the first-seen time stays on the row.
    shown = openai.model_metadata("openai", "gpt-4o").values["max_input_tokens"]
    assert shown.observed_at == pytest.approx(1796122800.0)  # 2026-12-01 11:00 UTC
    assert before["gpt-4o"]["max_input_tokens"]["litellm"].observed_at == pytest.approx(
        1796119200.0
    )
    # A changed registry is redone; so is a changed listing.
    prices.write_text(
        json.dumps({"gpt-4o": {"litellm_provider": "openai", "max_input_tokens": 9000}}),
        encoding="utf-8",
    )
    redone = openai.fill_from_registries(litellm=prices)
    assert [f.skipped for f in redone] == [False, False]
    assert openai.model_metadata("openai", "gpt-4o").values["max_input_tokens"].value == 9000
    assert all(f.skipped for f in openai.fill_from_registries(litellm=prices))
    fake.set_models(["gpt-4o", "gpt-4o-mini", "my-finetune", "o3"])
    refresh(openai)
    assert not any(f.skipped for f in openai.fill_from_registries(litellm=prices))


def test_a_local_server_section_gives_no_prices_and_a_local_proxy_named_openai_gets_openais(
    store: ProviderStore, fake: FakeProvider, tmp_path: Path
) -> None:
    import time

    cost_map = {
        "ollama/llama3": {"litellm_provider": "ollama", "max_input_tokens": 8192, "input_cost_per_token": 1e-06},  # noqa: E501
        "gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06},
    }  # fmt: skip
    for key, model in (("ollama", "llama3"), ("openai", "gpt-4o")):
        store.save_config(key, ProviderConfig(name=key, base_api_url=fake.base_url))
        store.rows.write_cache(key, [{"id": model}], fetched_at=time.time())
    store.fill_from_registries(litellm=prices_file(tmp_path, cost_map), models_dev=False)
    llama = store.model_metadata("ollama", "llama3").values
    assert llama["max_input_tokens"].value == 8192 and "input_price" not in llama
    assert store.model_metadata("openai", "gpt-4o").values["input_price"].value == 2.5


def test_values_that_are_not_numbers_never_reach_the_catalog(
    openai: ProviderStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """NaN, Infinity and 1e308 in a cost map are dropped with a note, on both backends alike:
    never ``$nan`` in ``models show``, bare NaN in ``--json`` or ``.nan`` in an export."""
    prices = tmp_path / "prices.json"
    prices.write_text(
        '{"gpt-4o": {"litellm_provider": "openai", "max_input_tokens": NaN,'
        ' "max_output_tokens": Infinity, "input_cost_per_token": 1e308,'
        ' "output_cost_per_token": 1e-05}}',
        encoding="utf-8",
    )
    code, _out, err = run(
        capsys, "--db", openai.url, "registries", "update", "--litellm", str(prices),
        "--no-models-dev",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o", "--json")
    assert code == 0, err

    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    shown = json.loads(out, parse_constant=refuse)
    assert (shown["max_input_tokens"], shown["max_output_tokens"]) == (None, None)
    assert (shown["input_price"], shown["output_price"]) == (None, 10.0)
    code, out, _err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o")
    assert "nan" not in out.lower() and "inf" not in out.lower()
    code, out, _err = run(capsys, "--db", openai.url, "registries", "check")
    assert "entry 'gpt-4o': max_input_tokens NaN is not a finite number; dropped" in out
    assert "input_cost_per_token 1e+308 is outside 0 to 1e+06" in out
    code, out, _err = run(capsys, "--db", openai.url, "export", "-", "--format", "litellm")
    assert code == 0 and "nan" not in out.lower() and "inf" not in out.lower()


def test_discover_fills_models_dev_metadata_shown_with_its_source_and_a_user_override_wins(
    openai: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """A provider keyed openai whose list gives no context."""
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
    assert shown["registry_matches"] == {
        "models.dev": {"entry": "gpt-4o", "section": "openai", "how": "exact id"}
    }
    assert shown["candidates"]["context_length"] == [
        {"value": 128000, "source": MODELS_DEV, "observed_at": shown["sources"]["context_length"]["observed_at"]}  # noqa: E501
    ]  # fmt: skip
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
    assert shown["disagreements"]["context_length"]["reason"] == (
        "your own value (models set) wins over every source"
    )


def test_models_list_deprecated_names_the_date_and_source(
    openai: ProviderStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    entry = {"litellm_provider": "openai", "deprecation_date": "2024-06-13"}
    prices = prices_file(tmp_path, {"gpt-4o-mini": entry})
    openai.fill_from_registries(litellm=prices, models_dev=False)
    code, out, err = run(
        capsys, "--db", openai.url, "models", "list", "--all", "--deprecated", "--json"
    )
    assert code == 0, err
    assert [(r["model"], r["deprecation"]) for r in json.loads(out)] == [
        ("gpt-4o-mini", "deprecated from 2024-06-13 (litellm 1.0.0)")
    ]
    code, out, err = run(capsys, "--db", openai.url, "models", "show", "openai/gpt-4o-mini")
    assert "deprecation" in out and "2024-06-13" in out


FILL_SCRIPT = """
from provider_store import ProviderStore
store = ProviderStore(sys.argv[1])
wait_for_start()
for _ in range(3):
    store.fill_from_registries(litellm=sys.argv[2], models_dev=False, force=True)
store.close()
print("ok")
"""


@pytest.mark.slow
def test_two_processes_filling_one_provider_take_turns(
    openai: ProviderStore, tmp_path: Path
) -> None:
    from helpers import run_together

    from provider_store.catalog.model_facts import read_facts

    prices = prices_file(
        tmp_path, {"gpt-4o": {"litellm_provider": "openai", "max_input_tokens": 8000}}
    )  # noqa: E501
    results = run_together(FILL_SCRIPT, [[openai.url, str(prices)], [openai.url, str(prices)]])
    assert results == [(0, "ok\n"), (0, "ok\n")]
    with openai.read() as session:
        facts = read_facts(session, "openai")
    assert facts["gpt-4o"]["max_input_tokens"]["litellm"].value == 8000
