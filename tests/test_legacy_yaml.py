"""The legacy YAML parser: validation errors name file, line and field; dumps round-trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from legacy_strategies import documents

from provider_store.errors import InvalidDocumentError
from provider_store.legacy.document import (
    MAX_FILE_BYTES,
    LegacyDocument,
    LegacyProvider,
    dump_document,
    load_path,
    parse_bytes,
)

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "openaicompat-providers.yaml"

PROVIDER = """\
providers:
  p:
    api_key: ''
    base_api_url: https://x.example/v1
    name: P
"""

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def error_for(text: str | bytes) -> InvalidDocumentError:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InvalidDocumentError) as info:
        parse_bytes(data, source="cat.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("cat.yaml")
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        ("providers: [\n", 2, None, "not valid YAML"),
        ("- a\n- b\n", 1, None, "must be a mapping"),
        ("other: 1\n", 1, "providers", "missing the top-level 'providers'"),
        ("providers:\n  - a\n", 2, "providers", "must be a mapping"),
        ("providers:\n  p: [1]\n", 2, "providers.p", "a provider must be a mapping"),
        (PROVIDER + "    valid_models: [a, b]\n", 6, "providers.p.valid_models", "not a list"),
        (PROVIDER + "    valid_models: {1: a}\n", 6, "providers.p.valid_models", "keys must be"),
        (PROVIDER + "    valid_models: {a: 3.5}\n", 6, "providers.p.valid_models.a", "alias must"),
        (PROVIDER + "    valid_models: {a: yes}\n", 6, "providers.p.valid_models.a", "bool"),
        (PROVIDER + "    valid_models: {}\n    invalid_models: x\n", 7,
         "providers.p.invalid_models", "must be a list"),
        (PROVIDER + "    valid_models: {}\n    invalid_models: [1]\n", 7,
         "providers.p.invalid_models[0]", "must be a string"),
        (PROVIDER + "    valid_models: {a: a}\n    invalid_models: [b, a]\n", 7,
         "providers.p.invalid_models[1]", "both valid_models and invalid_models"),
        (PROVIDER + "    valid_models: {}\n    invalid_models: [b, b]\n", 7,
         "providers.p.invalid_models[1]", "listed twice"),
        (PROVIDER + "    name: Q\n    valid_models: {}\n", 6, "providers.p.name", "duplicate key"),
        (PROVIDER + "    valid_models: {a: x, a: y}\n", 6, "providers.p.valid_models.a",
         "duplicate key"),
        ("providers:\n  p: {}\n  p: {}\n", 3, "providers.p", "duplicate key"),
        (PROVIDER.replace("https://x.example/v1", "''") + "    valid_models: {}\n", 4,
         "providers.p.base_api_url", "must not be empty"),
        (PROVIDER.replace("https://x.example/v1", "ftp://x") + "    valid_models: {}\n", 4,
         "providers.p.base_api_url", "http(s)"),
        (PROVIDER.replace("https://x.example/v1", "api.example.com") + "    valid_models: {}\n",
         4, "providers.p.base_api_url", "http(s)"),
        ("providers:\n  p:\n    name: P\n", 3, "providers.p.base_api_url",
         "missing required field"),
        (PROVIDER.replace("    api_key: ''\n", "    api_key:\n") + "    valid_models: {}\n", 3,
         "providers.p.api_key", "must be a string"),
        (BOMB + "providers: {}\n", 1, None, "alias bomb"),
        ("a: &a [*a]\nproviders: {}\n", 1, None, "recursive alias"),
        ("providers: {}\nx: \x07\n", 2, None, "unacceptable character"),
        ("providers: {}\n---\nproviders: {}\n", 2, None, "single document"),
        ("providers: {}\nx: .nan\n", 2, "x", "NaN"),
        ('providers: {}\nx: "a\\0b"\n', 2, "x", "NUL"),
        ("providers: {}\nx: !!binary aGk=\n", 2, "x", "unsupported value type"),
        ("providers: {}\nx: " + "[" * 200 + "]" * 200 + "\n", 2, None, "nested more than"),
    ],
)  # fmt: skip
def test_bad_documents_name_line_and_field(
    text: str, line: int, field: str | None, reason: str
) -> None:
    error = error_for(text)
    assert error.line == line
    assert error.field == field
    assert reason in error.reason
    assert "Traceback" not in str(error)


def test_a_deeply_nested_file_is_refused_without_crashing_the_c_parser() -> None:
    error = error_for("[" * 100_000 + "]" * 100_000)
    assert "nested more than" in error.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x01\x02\xff garbage", "binary data"),
        ("providers: {}\nname: caf\xe9\n".encode("latin-1"), "not UTF-8"),
        ("providers: {}\n".encode("utf-16"), "UTF-16"),
        ("providers: {}\n".encode("utf-32"), "UTF-32"),
        (b"", "empty document"),
    ],
)
def test_binary_and_wrongly_encoded_input_is_refused(data: bytes, reason: str) -> None:
    assert reason in error_for(data).reason


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.write(b"providers: {}\n")
        handle.write(b"#" * MAX_FILE_BYTES)
    with pytest.raises(InvalidDocumentError, match="larger than the 50 MiB limit"):
        load_path(path)


def test_a_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidDocumentError, match="cannot read file"):
        load_path(tmp_path / "nope.yaml")


def test_the_error_never_shows_the_api_key() -> None:
    error = error_for(
        PROVIDER.replace("api_key: ''", "api_key: [sk-secret-123]") + "    valid_models: {}\n"
    )
    assert "sk-secret-123" not in str(error)
    assert error.field == "providers.p.api_key"


def test_ordinary_anchors_aliases_and_merge_keys_work() -> None:
    document = parse_bytes(
        b"""\
defaults: &defaults
  api_key: sk-not-configured
  name: Shared
models: &models {m1: one, m2: two}
providers:
  a:
    <<: *defaults
    base_api_url: https://a.example/v1
    valid_models: *models
  b:
    <<: *defaults
    name: B wins over the merge
    base_api_url: https://b.example/v1
    valid_models: *models
    invalid_models: [x]
"""
    )
    a, b = document.providers["a"], document.providers["b"]
    assert (a.name, a.api_key, a.valid_models) == (
        "Shared",
        "sk-not-configured",
        {"m1": "one", "m2": "two"},
    )
    assert (b.name, b.valid_models, b.invalid_models) == (
        "B wins over the merge",
        a.valid_models,
        ["x"],
    )
    assert document.extra["defaults"] == {"api_key": "sk-not-configured", "name": "Shared"}


def test_defaults_unknown_keys_and_dates() -> None:
    document = parse_bytes(
        (PROVIDER + "    valid_models: {}\n    released: 2024-05-13\n    tags: [a, 1]\n"
         "version: 2\n").encode()
    )  # fmt: skip
    provider = document.providers["p"]
    assert provider.invalid_models == []
    assert provider.has_invalid_models is False
    assert provider.extra == {"released": "2024-05-13", "tags": ["a", 1]}
    assert document.extra == {"version": 2}
    assert "sk" not in repr(LegacyProvider("k", "n", "https://h", "sk-x", {}, []))


def test_dump_has_the_legacy_key_order_and_is_deterministic() -> None:
    document = parse_bytes(
        b"z: 1\nproviders:\n  p:\n    extra: x\n    valid_models: {b: bee, a: ay}\n"
        b"    name: P\n    base_api_url: http://h\n    api_key: k\n"
    )
    dumped = dump_document(document)
    assert dumped == dump_document(parse_bytes(dumped))
    assert dumped.decode() == (
        "providers:\n  p:\n    api_key: k\n    base_api_url: http://h\n    name: P\n"
        "    valid_models:\n      b: bee\n      a: ay\n    invalid_models: []\n    extra: x\n"
        "z: 1\n"
    )
    assert b"api_key: ''" in dump_document(document, redact_keys=True)


def test_the_shipped_data_file_round_trips() -> None:
    raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    document = load_path(DATA_FILE)
    assert list(document.providers) == ["deepseek", "openai", "together"]
    assert document.providers["together"].valid_models["Qwen/QwQ-32B"] == "qwq"
    assert all(p.api_key.endswith("not-configured") for p in document.providers.values())
    assert yaml.safe_load(dump_document(document)) == raw


# -- property: parse(dump(doc)) == doc and dump(parse(dump(doc))) == dump(doc) ----------------


def comparable(document: LegacyDocument) -> dict[str, Any]:
    return document.to_data()


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(documents())
def test_any_valid_document_round_trips_through_dump_and_parse(document: LegacyDocument) -> None:
    dumped = dump_document(document)
    parsed = parse_bytes(dumped)
    assert comparable(parsed) == comparable(document)
    assert list(parsed.providers) == list(document.providers)
    for key, provider in parsed.providers.items():
        assert list(provider.valid_models) == list(document.providers[key].valid_models)
        assert list(provider.extra) == list(document.providers[key].extra)
    assert dump_document(parsed) == dumped
