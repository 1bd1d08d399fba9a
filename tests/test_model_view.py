"""One model view: the same model gives the same context, prices and capabilities in
``models list --json``, ``models show --json``, the LiteLLM export and the library, and every
filter agrees with them; a model missing from the last listing shows ``missing`` (with why) in
list, show and resolve; an unverified model always says why."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS
from helpers import run_cli
from pg_schema import create_schema, drop_schema

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore, litellm_config
from provider_store.exports.litellm_proxy import per_token
from provider_store.registries.litellm import LITELLM_FLAGS
from provider_store.resolution.manager import ProviderManager
from provider_store.testing import FakeProvider

KEY = "sk-view-test-0123456789"
COMPARED = ("context_length", "input_price", "output_price", "capabilities")
LITELLM_MAP = Path(os.environ.get("PROVIDER_STORE_REGISTRIES_DIR", "/nonexistent")) / (
    "litellm-model-prices-1.110.2.json"
)

pytestmark = pytest.mark.fake(["gpt-4o", "gpt-4o-mini", "my-finetune", "zz-private-7"], api_key=KEY)


def refresh(store: ProviderStore, key: str = "openai") -> None:
    with ModelDiscoveryService(store) as service:
        result = service.discover(store.get_config(key), force_refresh=True)
    assert result.error is None


def cli(capsys: pytest.CaptureFixture[str], store: ProviderStore, *args: str) -> Any:
    code, out, err = run_cli(capsys, "--db", store.url, *args)
    assert code == 0, err
    return json.loads(out) if "--json" in args else out


def fill(store: ProviderStore, fake: FakeProvider) -> ProviderStore:
    """``openai`` on loopback: gpt-4o from the registries only, gpt-4o-mini with a listed
    context that beats them, my-finetune with the user's values, zz-private-7 knowing nothing."""
    if not LITELLM_MAP.is_file():
        pytest.skip("PROVIDER_STORE_REGISTRIES_DIR does not hold the LiteLLM cost map")
    ids = ("gpt-4o", "gpt-4o-mini", "my-finetune", "zz-private-7")
    store.save_config(
        "openai",
        ProviderConfig(
            name="OpenAI",
            base_api_url=fake.base_url,
            api_key=KEY,
            valid_models=dict(zip(ids, ids, strict=True)),
        ),
    )
    fake.set_model_metadata("gpt-4o-mini", {"context_length": 64000})
    refresh(store)
    store.fill_from_registries(litellm=LITELLM_MAP)
    values = ["--context", "32000", "--input-price", "0.5", "--output-price", "1.5"]
    code, _out, err = run_cli(
        None, "--db", store.url, "models", "set", "openai/my-finetune", *values,
        "--capability", "tools",
    )  # fmt: skip
    assert code == 0, err
    return store


@pytest.fixture
def catalog(store: ProviderStore, fake: FakeProvider) -> ProviderStore:
    """The catalog of :func:`fill` in ``store``, for a test of its own."""
    return fill(store, fake)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProviderStore]:
    """The catalog of :func:`fill` once per backend (and test worker), for the tests that only
    read it."""
    postgres = "" if request.param == "sqlite" else request.getfixturevalue("postgres_server_url")
    if postgres:
        url, schema = create_schema(postgres, "ps_view")
    else:
        url, schema = f"sqlite:///{tmp_path_factory.mktemp('view') / 'catalog.db'}", ""
    ids = ["gpt-4o", "gpt-4o-mini", "my-finetune", "zz-private-7"]
    try:
        with FakeProvider(ids, api_key=KEY) as fake, ProviderStore(url) as store:
            yield fill(store, fake)
    finally:
        if schema:
            drop_schema(postgres, schema)


def test_list_show_export_and_library_give_the_same_values(
    catalog: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = {row["model"]: row for row in cli(capsys, catalog, "models", "list", "--json")}
    exported = {
        entry["model_name"]: entry["model_info"]
        for entry in litellm_config(catalog).document["model_list"]
    }
    manager = ProviderManager(store=catalog)
    library = {view.model: view for view in manager.model_views()}
    assert set(listed) == set(library) == {"gpt-4o", "gpt-4o-mini", "my-finetune", "zz-private-7"}
    for model, row in listed.items():
        shown = cli(capsys, catalog, "models", "show", f"openai/{model}", "--json")
        view = manager.model_view(f"openai/{model}")
        assert view.values == library[model].values
        for field in COMPARED:
            assert row[field] == shown[field] == view.values[field], (model, field)
            source = shown["sources"].get(field)
            assert row["sources"].get(field) == source
            assert view.source(field) == (source["source"] if source else None)
        info = exported[f"openai/{model}"]
        for name, price in (("input_price", "input_cost_per_token"),
                            ("output_price", "output_cost_per_token")):  # fmt: skip
            expected = None if row[name] is None else per_token(row[name])
            assert info.get(price) == expected, (model, name)
        for flag, key in LITELLM_FLAGS.items():
            assert info.get(key, False) == (flag in (row["capabilities"] or [])), (model, flag)
    manager.close()
    # Each source wins where it should: the registry, the list, the user.
    assert listed["gpt-4o"]["context_length"] == 128000
    assert listed["gpt-4o"]["sources"]["context_length"]["source"].startswith(
        ("litellm", "models.dev")
    )
    assert "tools" in listed["gpt-4o"]["capabilities"]
    assert listed["gpt-4o-mini"]["context_length"] == 64000
    assert listed["gpt-4o-mini"]["sources"]["context_length"]["source"] == "listed"
    assert listed["my-finetune"]["input_price"] == 0.5
    assert listed["my-finetune"]["sources"]["input_price"]["source"] == "user"
    # The table shows the values with their sources too.
    table = cli(capsys, catalog, "models", "list")
    assert "128,000 (" in table and "64,000 (listed)" in table and "0.5 (user)" in table


@pytest.mark.parametrize(
    "option, value",
    [
        ("--min-context", "100000"),
        ("--min-context", "50000"),
        ("--capability", "tools"),
        ("--capability", "vision"),
        ("--max-input-price", "1"),
        ("--max-output-price", "5"),
    ],
)
def test_every_filter_agrees_with_the_values_shown(
    shared_catalog: ProviderStore, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    catalog = shared_catalog
    rows = cli(capsys, catalog, "models", "list", "--json")

    def passes(row: dict[str, Any]) -> bool:
        if option == "--min-context":
            return (row["context_length"] or 0) >= int(value)
        if option == "--capability":
            return value in (row["capabilities"] or [])
        price = row["input_price" if "input" in option else "output_price"]
        return price is not None and price <= float(value)

    expected = [row["model"] for row in rows if passes(row)]
    kept = cli(capsys, catalog, "models", "list", option, value, "--json")
    assert [row["model"] for row in kept] == expected
    assert expected  # every filter keeps something here, and leaves zz-private-7 out
    assert "zz-private-7" not in expected


@pytest.mark.fake(["a", "b"], api_key=KEY)
def test_a_model_missing_from_the_last_listing_is_missing_with_why(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    store.save_config(
        "p",
        ProviderConfig(
            base_api_url=fake.base_url, api_key=KEY, valid_models={"a": "a", "b": "bee"}
        ),
    )
    refresh(store, "p")
    fake.set_models(["a"])
    refresh(store, "p")

    rows = {row["model"]: row for row in cli(capsys, store, "models", "list", "--json")}
    assert rows["a"]["status"] == "valid" and rows["a"]["status_reason"] is None
    assert rows["b"]["status"] == "missing"
    reason = rows["b"]["status_reason"]
    assert reason.startswith("missing from the listing of ")
    assert "removal after 2 confirmations (1 more)" in reason
    code, out, err = run_cli(capsys, "--db", store.url, "models", "list")
    assert code == 0 and "missing" in out and f"p/b is missing: {reason}" in err

    shown = cli(capsys, store, "models", "show", "p/bee", "--json")
    assert (shown["status"], shown["status_reason"], shown["usable"]) == ("missing", reason, True)
    text = cli(capsys, store, "models", "show", "bee").splitlines()
    assert [line.split(None, 1) for line in text if line.startswith("status ")] == [
        ["status", f"missing: {reason}"]
    ]

    # A missing model still resolves, and says so.
    code, out, err = run_cli(capsys, "--db", store.url, "resolve", "bee")
    assert (code, out.strip()) == (0, "p/b") and "p/b is missing: missing from" in err
    resolved = cli(capsys, store, "resolve", "bee", "--json")
    assert (resolved["status"], resolved["status_reason"]) == ("missing", reason)
    with ProviderManager(store=store) as manager:
        view = manager.model_view("p/b")
    assert (view.status, view.status_reason, view.usable) == ("missing", reason, True)


@pytest.mark.fake(["a"], api_key=KEY)
def test_an_unverified_model_always_says_why(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
    code, _out, err = run_cli(capsys, "--db", store.url, "discover", "--no-validate")
    assert code == 0, err
    shown = cli(capsys, store, "models", "show", "p/a", "--json")
    assert shown["status"] == "unverified"
    assert shown["status_reason"] == "listed but never validated (run: provider-store discover p)"

    fake.set_failure("error:401")
    code, _out, _err = run_cli(capsys, "--db", store.url, "discover", "--force-refresh")
    assert code == 1
    shown = cli(capsys, store, "models", "show", "p/a", "--json")
    assert shown["status"] == "unverified"
    assert shown["status_reason"].startswith("not validated: provider p failed: ")
    assert shown["why_not_usable"] == shown["status_reason"]
    rows = cli(capsys, store, "models", "list", "--all", "--json")
    assert [(r["model"], r["status"], r["status_reason"]) for r in rows] == [
        ("a", "unverified", shown["status_reason"])
    ]
