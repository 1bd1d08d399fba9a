"""One alias names one model in the whole catalog: refused when taken (naming the holder),
moved on purpose with ``--move`` / ``move=True``, listed with the collisions a legacy file
brought in; the alias column is empty where none was set. Both backends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli as run

from provider_store import (
    AliasEntry,
    AliasTakenError,
    ConfigurationError,
    ProviderConfig,
    ProviderManager,
    ProviderStore,
)


@pytest.fixture
def catalog(store: ProviderStore) -> Iterator[ProviderStore]:
    """openai's gpt-4o has the alias ``4o``; ollama's llama has none."""
    store.save_config(
        "openai",
        ProviderConfig(
            base_api_url="https://api.openai.com/v1",
            valid_models={"gpt-4o-2024-08-06": "4o", "gpt-4o-mini": "gpt-4o-mini"},
            invalid_models=["text-embedding-3-small"],
        ),
    )
    store.save_config(
        "ollama",
        ProviderConfig(
            base_api_url="http://127.0.0.1:11434/v1", valid_models={"llama3.2:3b": "llama3.2:3b"}
        ),
    )
    yield store


def test_an_alias_another_model_holds_is_refused_naming_it(
    catalog: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", catalog.url, "models", "alias", "ollama/llama3.2:3b", "4o")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "Error: alias '4o' already names openai/gpt-4o-2024-08-06"
        " (models alias --move takes it from there)"
    )
    # nothing changed: 4o still answers with openai's model
    code, out, _ = run(capsys, "--db", catalog.url, "resolve", "4o")
    assert out.strip() == "openai/gpt-4o-2024-08-06"
    with pytest.raises(AliasTakenError) as caught:
        catalog.set_alias("ollama", "llama3.2:3b", "4O")  # ignoring case
    assert caught.value.holders == ["openai/gpt-4o-2024-08-06"]
    assert isinstance(caught.value, ConfigurationError)


def test_move_takes_the_alias_from_its_holder(
    catalog: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert str(ProviderManager(store=catalog).resolve("4o")) == "openai/gpt-4o-2024-08-06"
    code, out, err = run(
        capsys, "--db", catalog.url, "models", "alias", "ollama/llama3.2:3b", "4o", "--move"
    )
    assert code == 0, err
    assert out.strip() == "ollama/llama3.2:3b is now also 4o (taken from openai/gpt-4o-2024-08-06)."
    code, out, _ = run(capsys, "--db", catalog.url, "resolve", "4o", "--strict")
    assert (code, out.strip()) == (0, "ollama/llama3.2:3b")
    configs = catalog.load_configs()
    assert configs["openai"].valid_models["gpt-4o-2024-08-06"] == "gpt-4o-2024-08-06"
    assert str(ProviderManager(store=catalog).resolve("4o")) == "ollama/llama3.2:3b"
    # the library moves it back the same way
    assert catalog.set_alias("openai", "gpt-4o-2024-08-06", "4o", move=True) == [
        "ollama/llama3.2:3b"
    ]
    assert catalog.load_configs()["ollama"].valid_models == {"llama3.2:3b": "llama3.2:3b"}


def test_an_alias_that_is_another_models_id_or_a_provider_path_is_refused(
    catalog: ProviderStore,
) -> None:
    with pytest.raises(ConfigurationError, match="is the id of openai/gpt-4o-mini"):
        catalog.set_alias("ollama", "llama3.2:3b", "GPT-4o-mini", move=True)
    with pytest.raises(ConfigurationError, match="reads as provider/model"):
        catalog.set_alias("ollama", "llama3.2:3b", "openai/llama")
    with pytest.raises(ConfigurationError, match="only valid models have aliases"):
        catalog.set_alias("openai", "text-embedding-3-small", "emb")
    catalog.set_alias("ollama", "llama3.2:3b", "  llama  ")  # trimmed; vendor/x is fine too
    catalog.set_alias("openai", "gpt-4o-mini", "vendor/mini")
    assert [(e.alias, e.provider, e.model) for e in catalog.aliases()] == [
        ("4o", "openai", "gpt-4o-2024-08-06"),
        ("vendor/mini", "openai", "gpt-4o-mini"),
        ("llama", "ollama", "llama3.2:3b"),
    ]


def test_concurrent_writers_never_both_take_one_alias(catalog: ProviderStore) -> None:
    """Two writers asking for the same free alias at once: exactly one gets it."""
    results: list[str] = []
    barrier = threading.Barrier(2)

    def take(key: str, model: str) -> None:
        store = ProviderStore(catalog.url)
        try:
            barrier.wait()
            store.set_alias(key, model, "shared-name")
            results.append("took")
        except AliasTakenError:
            results.append("refused")
        finally:
            store.close()

    threads = [
        threading.Thread(target=take, args=("openai", "gpt-4o-mini")),
        threading.Thread(target=take, args=("ollama", "llama3.2:3b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["refused", "took"]
    assert [e.alias for e in catalog.aliases()].count("shared-name") == 1


LEGACY = """\
providers:
  openai:
    base_api_url: https://api.openai.com/v1
    valid_models: {gpt-4o-2024-08-06: 4o, gpt-4o-mini: gpt-4o-mini}
  together:
    base_api_url: https://api.together.xyz/v1
    valid_models: {meta-llama/Llama-3-8b: 4o, Qwen/QwQ-32B: gpt-4o-mini}
"""


def test_a_legacy_file_with_collisions_imports_and_models_aliases_flags_them(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "legacy.yaml"
    source.write_text(LEGACY)
    code, _, err = run(capsys, "--db", catalog_url, "import", str(source))
    assert code == 0, err
    code, out, err = run(capsys, "--db", catalog_url, "models", "aliases", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "alias": "4o",
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "also_alias_of": ["together/meta-llama/Llama-3-8b"],
            "also_id_of": [],
        },
        {
            "alias": "4o",
            "provider": "together",
            "model": "meta-llama/Llama-3-8b",
            "also_alias_of": ["openai/gpt-4o-2024-08-06"],
            "also_id_of": [],
        },
        {
            "alias": "gpt-4o-mini",
            "provider": "together",
            "model": "Qwen/QwQ-32B",
            "also_alias_of": [],
            "also_id_of": ["openai/gpt-4o-mini"],
        },
    ]
    code, out, err = run(capsys, "--db", catalog_url, "models", "aliases")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["alias", "model", "collision"]
    assert lines[2].split(maxsplit=2) == [
        "4o", "openai/gpt-4o-2024-08-06", "also alias of together/meta-llama/Llama-3-8b"
    ]  # fmt: skip
    assert "also the id of openai/gpt-4o-mini" in out
    assert "3 aliases name more than one model" in err
    # the export of what was accepted imports back
    exported = tmp_path / "again.yaml"
    assert run(capsys, "--db", catalog_url, "export", str(exported))[0] == 0
    store = ProviderStore(catalog_url)
    try:
        again = store.import_yaml(exported, dry_run=True)
        assert again.providers_added == again.providers_changed == []
        entry = store.aliases()[0]
        assert isinstance(entry, AliasEntry) and entry.collides
    finally:
        store.close()
    # moving one settles it
    code, _, err = run(capsys, "--db", catalog_url, "models", "alias",
                       "together/meta-llama/Llama-3-8b", "4o", "--move")  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "--db", catalog_url, "models", "aliases", "--json")
    assert [(e["alias"], e["provider"]) for e in json.loads(out)][:1] == [("4o", "together")]


def test_the_alias_column_is_empty_where_none_was_set(
    catalog: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", catalog.url, "models", "list", "--json")
    assert {r["model"]: r["alias"] for r in json.loads(out)} == {
        "gpt-4o-2024-08-06": "4o",
        "gpt-4o-mini": None,
        "llama3.2:3b": None,
    }
    code, out, _ = run(capsys, "--db", catalog.url, "models", "list", "--all", "--json")
    assert {r["model"]: r["alias"] for r in json.loads(out)}["text-embedding-3-small"] is None
    code, out, _ = run(capsys, "--db", catalog.url, "models", "show", "gpt-4o-mini", "--json")
    assert json.loads(out)["alias"] is None
    code, out, _ = run(capsys, "--db", catalog.url, "models", "show", "4o", "--json")
    assert json.loads(out)["alias"] == "4o"
    code, out, _ = run(capsys, "--db", catalog.url, "models", "list")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert ["openai", "gpt-4o-mini"] in rows and ["openai", "gpt-4o-2024-08-06", "4o"] in rows
    code, out, err = run(capsys, "--db", catalog.url, "models", "unalias", "4o")
    assert (code, out.strip()) == (0, "openai/gpt-4o-2024-08-06 has no alias now.")
    code, out, err = run(capsys, "--db", catalog.url, "models", "aliases")
    assert (code, out) == (0, "") and "No aliases set" in err
