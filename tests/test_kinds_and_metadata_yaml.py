"""``kind`` / ``options`` and ``model_metadata`` in the legacy YAML, through the library and CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider_store import (
    InvalidDocumentError,
    ModelInfo,
    OptionsError,
    ProviderConfig,
    ProviderStore,
)
from provider_store.cli import main

KINDS_YAML = """\
providers:
  azure:
    api_key: ''
    base_api_url: https://example-resource.openai.azure.com/openai/deployments/gpt
    name: Azure
    valid_models:
      gpt-4o: 4o
    invalid_models: []
    kind: anthropic
    options:
      auth_header: api-key
      query:
        api-version: 2024-10-21
"""

OPTIONS = (
    "    options:\n      auth_header: api-key\n      query:\n        api-version: 2024-10-21\n"
)

EXPORTED = """\
providers:
  claude:
    api_key: ''
    base_api_url: https://api.anthropic.com/v1
    name: Anthropic
    valid_models:
      claude-test: ct
    invalid_models: []
    kind: anthropic
  azure:
    api_key: ''
    base_api_url: https://example-resource.openai.azure.com/openai/deployments/gpt
    name: Azure
    valid_models:
      gpt-4o: 4o
    invalid_models: []
    options:
      auth_header: api-key
      query:
        api-version: '2024-10-21'
  plain:
    api_key: ''
    base_api_url: https://api.example.com/v1
    name: Plain
    valid_models: {}
    invalid_models: []
"""


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_kind_and_options_round_trip_byte_for_byte(store: ProviderStore, tmp_path: Path) -> None:
    store.import_yaml(write(tmp_path, EXPORTED))
    claude = store.get_config("claude")
    assert claude.kind == "anthropic" and claude.options is None
    azure = store.get_config("azure")
    assert azure.kind == "openai"
    assert azure.options == {"auth_header": "api-key", "query": {"api-version": "2024-10-21"}}
    assert store.get_config("plain").kind == "openai"
    assert store.export_yaml_bytes().decode() == EXPORTED
    assert "kind" not in azure.model_dump() and "options" not in azure.model_dump()
    assert "api-key" not in repr(azure)


def test_reimporting_without_kind_makes_it_the_default(
    store: ProviderStore, tmp_path: Path
) -> None:
    store.import_yaml(write(tmp_path, EXPORTED))
    without = EXPORTED.replace("    kind: anthropic\n", "")
    report = store.import_yaml(write(tmp_path, without))
    assert [(c.key, c.fields) for c in report.providers] == [("claude", ["kind"])]
    assert store.get_config("claude").kind == "openai"


@pytest.mark.above_the_store
@pytest.mark.parametrize(
    ("old", "new", "line", "field", "reason"),
    [
        ("kind: anthropic", "kind: openai-azure", 9, "providers.azure.kind", "must be one of"),
        ("kind: anthropic", "kind: 3", 9, "providers.azure.kind", "must be a string"),
        (OPTIONS, "    options: [api-key]\n", 10, "providers.azure.options", "must be a mapping"),
        (OPTIONS, "    options: api-key\n", 10, "providers.azure.options", "must be a mapping"),
    ],
)  # fmt: skip
def test_bad_kind_or_options_names_line_and_field_and_writes_nothing(
    store: ProviderStore, tmp_path: Path, old: str, new: str, line: int, field: str, reason: str
) -> None:
    store.import_yaml(write(tmp_path, EXPORTED, "good.yaml"))
    before = store.export_yaml_bytes()
    path = write(tmp_path, KINDS_YAML.replace(old, new))
    with pytest.raises(InvalidDocumentError) as caught:
        store.import_yaml(path)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert reason in str(caught.value)
    assert store.export_yaml_bytes() == before


def test_cli_import_bad_kind_is_one_line_exit_2(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, KINDS_YAML.replace("kind: anthropic", "kind: openai-azure"))
    with pytest.raises(SystemExit) as exited:
        main(["--db", catalog_url, "import", str(path)])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and "p.yaml:9" in err and "providers.azure.kind" in err
    path.write_text(KINDS_YAML, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--db", catalog_url, "import", str(path)])
    assert exited.value.code == 0
    reopened = ProviderStore(catalog_url)
    try:
        assert reopened.get_config("azure").kind == "anthropic"
    finally:
        reopened.close()


def test_provider_config_carries_kind_and_options_through_the_store(store: ProviderStore) -> None:
    store.save_config("g", ProviderConfig(kind="gemini", options={"page_limit": 1000}))
    assert (store.get_config("g").kind, store.get_config("g").options) == (
        "gemini",
        {"page_limit": 1000},
    )
    store.save_config("g", ProviderConfig(name="renamed"))  # kind not set: kept
    assert store.get_config("g").kind == "gemini" and store.get_config("g").name == "renamed"
    store.save_config("g", ProviderConfig(kind="openai", options=None))
    assert (store.get_config("g").kind, store.get_config("g").options) == ("openai", None)
    with pytest.raises(OptionsError, match="kind must be one of"):
        store.save_config("g", ProviderConfig(kind="cohere"))
    with pytest.raises(OptionsError, match="options must be JSON"):
        store.save_config("g", ProviderConfig(options={"headers": object()}))
    assert store.get_config("g").kind == "openai"


# -- model_metadata -------------------------------------------------------------------------------

PLAIN = """\
providers:
  p:
    api_key: ''
    base_api_url: https://api.example.com/v1
    name: P
    valid_models:
      acme/sparrow-7b: sparrow
    invalid_models:
    - embed-1
"""


def seed_metadata(store: ProviderStore, tmp_path: Path) -> None:
    store.import_yaml(write(tmp_path, PLAIN, "plain.yaml"))
    listed = [
        {"id": "acme/sparrow-7b"},
        {"id": "embed-1"},
        {"id": "discovered-only"},
    ]
    store.rows.write_cache("p", listed, fetched_at=1.0)
    store.rows.write_model_infos(
        "p",
        [
            ModelInfo(
                id="acme/sparrow-7b",
                display_name="Acme: Sparrow 7B",
                created=1750000000,
                context_length=131072,
                max_output_tokens=8192,
                input_price=2.5,
                output_price=10.0,
                input_modalities=("image", "text"),
                output_modalities=("text",),
                capabilities=("tools", "vision"),
            ),
            ModelInfo(id="embed-1", context_length=8192, capabilities=("embeddings",)),
            ModelInfo(id="discovered-only", context_length=4096),
        ],
    )


def test_metadata_is_exported_only_when_asked_and_reimports(
    store: ProviderStore, catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_metadata(store, tmp_path)
    assert store.export_yaml_bytes().decode() == PLAIN  # the legacy file, byte for byte

    out = tmp_path / "with.yaml"
    with pytest.raises(SystemExit) as exited:
        main(["--db", catalog_url, "export", "--with-metadata", str(out)])
    assert exited.value.code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith(PLAIN)
    assert (
        "    model_metadata:\n      acme/sparrow-7b:\n        display_name: 'Acme: Sparrow 7B'\n"
        in text
    )
    assert "discovered-only" not in text  # only valid and invalid models are in the file
    assert "        input_price: 2.5\n" in text and "        context_length: 131072\n" in text

    fresh = ProviderStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        fresh.import_yaml(out)
        assert fresh.model_info("p", "acme/sparrow-7b") == store.model_info("p", "acme/sparrow-7b")
        assert fresh.model_info("p", "embed-1").capabilities == ("embeddings",)
        assert fresh.export_yaml_bytes(with_metadata=True).decode() == text
        assert fresh.export_yaml_bytes().decode() == PLAIN
    finally:
        fresh.close()


def test_importing_metadata_reports_and_replaces_it(store: ProviderStore, tmp_path: Path) -> None:
    seed_metadata(store, tmp_path)
    changed = PLAIN + "    model_metadata:\n      embed-1:\n        context_length: 512\n"
    report = store.import_yaml(write(tmp_path, changed))
    assert [(c.key, c.fields) for c in report.providers] == [("p", ["model metadata"])]
    info = store.model_info("p", "embed-1")
    assert (info.context_length, info.capabilities) == (512, ())  # exactly what the file says
    assert store.model_info("p", "acme/sparrow-7b").context_length == 131072  # not in the file
    again = store.import_yaml(write(tmp_path, changed))
    assert not again.changed
    store.import_yaml(write(tmp_path, PLAIN))  # no model_metadata: stored metadata is kept
    assert store.model_info("p", "embed-1").context_length == 512


@pytest.mark.above_the_store
@pytest.mark.parametrize(
    ("entry", "line", "field", "reason"),
    [
        ("      ghost:\n        context_length: 1\n", 11, "providers.p.model_metadata.ghost",
         "not listed in valid_models"),
        ("      embed-1:\n        context_lenght: 1\n", 12,
         "providers.p.model_metadata.embed-1.context_lenght", "unknown metadata field"),
        ("      embed-1:\n        context_length: lots\n", 12,
         "providers.p.model_metadata.embed-1.context_length", "whole number"),
        ("      embed-1:\n        input_price: -1\n", 12,
         "providers.p.model_metadata.embed-1.input_price", "number from 0"),
        ("      embed-1:\n        capabilities: tools\n", 12,
         "providers.p.model_metadata.embed-1.capabilities", "list of at most"),
        ("      embed-1: 3\n", 11, "providers.p.model_metadata.embed-1", "must be a mapping"),
    ],
)  # fmt: skip
def test_bad_model_metadata_names_line_and_field(
    store: ProviderStore, tmp_path: Path, entry: str, line: int, field: str, reason: str
) -> None:
    seed_metadata(store, tmp_path)
    before = store.export_yaml_bytes(with_metadata=True)
    with pytest.raises(InvalidDocumentError) as caught:
        store.import_yaml(write(tmp_path, PLAIN + "    model_metadata:\n" + entry))
    assert (caught.value.line, caught.value.field) == (line, field)
    assert reason in str(caught.value)
    assert store.export_yaml_bytes(with_metadata=True) == before


def test_export_help_mentions_with_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "--with-metadata" in capsys.readouterr().out
