"""The one description of the model metadata fields, pinned against every place that uses it.

``provider_store.model_info.METADATA_FIELDS`` is the list; the ``model`` table (as declared and as
the migrations create it), ``ModelInfo``, the YAML ``model_metadata`` section and the CLI's
``models show`` / ``models list --json`` must all follow it. A new field or kind that one of them
misses fails here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli as run
from sqlalchemy import JSON, Float, Integer, String, Table, TypeDecorator, inspect

from provider_store import InvalidDocumentError, ModelInfo, ProviderStore
from provider_store.catalog.metadata_columns import info_from_values, info_values
from provider_store.catalog.tables import Model
from provider_store.legacy.document import parse_bytes
from provider_store.model_info import METADATA_FIELDS, changed_fields, metadata_field

# A known (non-empty) model value of each kind; a new kind needs one here.
SAMPLES: dict[str, Any] = {
    "text": "Acme: Sparrow 7B",
    "epoch_seconds": 1750000000,
    "tokens": 131072,
    "price": 2.5,
    "names": ("image", "text"),
}
# The SQLAlchemy type class of each column type the description names.
COLUMN_TYPES: dict[str, type[Any]] = {
    "string": String,
    "integer": Integer,
    "float": Float,
    "json": JSON,
}
NAMES = [f.name for f in METADATA_FIELDS]

PLAIN = """\
providers:
  p:
    api_key: ''
    base_api_url: https://api.example.com/v1
    name: P
    valid_models:
      acme/sparrow-7b: sparrow
    invalid_models: []
"""


def full_info(model_id: str = "acme/sparrow-7b") -> ModelInfo:
    """A ModelInfo with a known value for every metadata field."""
    return ModelInfo(id=model_id, **{f.name: SAMPLES[f.kind.name] for f in METADATA_FIELDS})


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def seeded(store: ProviderStore, tmp_path: Path) -> ProviderStore:
    """A store whose model ``p/acme/sparrow-7b`` has a value for every metadata field."""
    store.import_yaml(write(tmp_path, PLAIN, "plain.yaml"))
    store.rows.write_model_infos("p", [full_info()])
    return store


# -- the description and ModelInfo -----------------------------------------------------------------


def test_model_info_declares_exactly_the_described_fields_with_their_types() -> None:
    declared = [f.name for f in dataclasses.fields(ModelInfo)]
    assert declared == ["id", *NAMES, "raw"]
    hints = typing.get_type_hints(ModelInfo)
    for field in METADATA_FIELDS:
        assert hints[field.name] == field.kind.python_type, field.name
        assert getattr(ModelInfo(id="x"), field.name) == field.kind.empty, field.name
        assert metadata_field(field.name) is field
    assert metadata_field("id") is None and metadata_field("raw") is None
    assert len(set(NAMES)) == len(NAMES)


def test_units_are_said_for_every_number() -> None:
    units = {f.name: f.unit for f in METADATA_FIELDS}
    assert units["input_price"] == units["output_price"] == "USD per million tokens"
    assert units["context_length"] == units["max_output_tokens"] == "tokens"
    assert units["created"] == "UTC epoch seconds"
    for field in METADATA_FIELDS:
        if field.kind.column_type in ("integer", "float"):
            assert field.unit, field.name


def test_column_values_round_trip_every_field() -> None:
    info = full_info()
    values = info_values(info)
    assert list(values) == NAMES
    assert info_from_values(info.id, values) == info
    assert info_from_values("x", info_values(ModelInfo(id="x"))) == ModelInfo(id="x")
    assert all(v is None for v in info_values(ModelInfo(id="x")).values())


# -- the table -------------------------------------------------------------------------------------


def test_declared_model_columns_follow_the_description() -> None:
    table = typing.cast(Table, getattr(Model, "__table__"))  # noqa: B009
    for field in METADATA_FIELDS:
        column = table.c[field.name]
        assert column.nullable, field.name
        sql_type = column.type
        if isinstance(sql_type, TypeDecorator):  # SQLModel's AutoString
            sql_type = sql_type.impl_instance
        assert isinstance(sql_type, COLUMN_TYPES[field.kind.column_type]), field.name
        assert getattr(sql_type, "length", None) == field.kind.max_length, field.name


def test_migrated_model_columns_follow_the_description(store: ProviderStore) -> None:
    columns = {c["name"]: c for c in inspect(store.engine).get_columns("model")}
    for field in METADATA_FIELDS:
        column = columns[field.name]
        assert column["nullable"], field.name
        assert isinstance(column["type"], COLUMN_TYPES[field.kind.column_type]), field.name
        assert getattr(column["type"], "length", None) == field.kind.max_length, field.name


# -- the YAML model_metadata section ---------------------------------------------------------------


def test_every_field_round_trips_through_yaml_export_and_import(
    seeded: ProviderStore, tmp_path: Path
) -> None:
    info = full_info()
    assert seeded.model_info("p", info.id) == info
    exported = seeded.export_yaml_bytes(with_metadata=True)
    entry = yaml.safe_load(exported)["providers"]["p"]["model_metadata"][info.id]
    assert entry == {f.name: f.to_plain(f.value_of(info)) for f in METADATA_FIELDS}

    emptied = PLAIN + f"    model_metadata:\n      {info.id}: {{}}\n"
    seeded.import_yaml(write(tmp_path, emptied, "emptied.yaml"))  # every field left out: unknown
    assert seeded.model_info("p", info.id) == ModelInfo(id=info.id, raw={})
    assert b"model_metadata" not in seeded.export_yaml_bytes(with_metadata=True)

    seeded.import_yaml(write(tmp_path, exported.decode(), "exported.yaml"))
    assert seeded.model_info("p", info.id) == info
    assert seeded.export_yaml_bytes(with_metadata=True) == exported


# Where parse_entry's fields are, as an error names them.
ENTRY = 'providers.p.model_metadata["acme/sparrow-7b"]'


def parse_entry(entry: str) -> dict[str, Any]:
    text = PLAIN + "    model_metadata:\n      acme/sparrow-7b:\n" + entry
    document = parse_bytes(text.encode(), source="m.yaml")
    metadata = document.providers["p"].model_metadata
    assert metadata is not None
    return metadata["acme/sparrow-7b"]


def refusal(entry: str) -> InvalidDocumentError:
    with pytest.raises(InvalidDocumentError) as caught:
        parse_entry(entry)
    return caught.value


@pytest.mark.parametrize("name", NAMES)
def test_a_metadata_typo_is_refused_naming_the_nearest_field(name: str) -> None:
    typo = name[:-2] + name[-1] + name[-2]  # the last two letters swapped
    error = refusal(f"        {typo}: 1\n")
    assert error.reason == f"unknown metadata field {typo!r} (did you mean {name!r}?)"
    assert error.path == "m.yaml" and error.line == 11
    assert error.field == f"{ENTRY}.{typo}"


def test_an_unknown_metadata_field_lists_the_known_ones() -> None:
    error = refusal("        flavour: vanilla\n")
    assert error.reason == f"unknown metadata field 'flavour' (known: {', '.join(NAMES)})"


@pytest.mark.parametrize("field", METADATA_FIELDS, ids=NAMES)
def test_each_field_takes_its_kind_and_refuses_the_wrong_type(field: Any) -> None:
    plain = field.to_plain(SAMPLES[field.kind.name])
    assert parse_entry(f"        {field.name}: {json.dumps(plain)}\n") == {field.name: plain}
    assert parse_entry(f"        {field.name}: null\n") == {field.name: None}
    wrong = "{a: 1}"  # a mapping is no kind's value
    error = refusal(f"        {field.name}: {wrong}\n")
    assert error.reason == f"must be {field.kind.expected}, not a mapping"
    assert error.field == f"{ENTRY}.{field.name}"


def test_a_too_long_text_field_is_refused() -> None:
    for field in METADATA_FIELDS:
        if field.kind.max_length is not None:
            long = "x" * (field.kind.max_length + 1)
            error = refusal(f"        {field.name}: {long}\n")
            assert error.reason == f"longer than {field.kind.max_length} characters"


# -- the CLI ---------------------------------------------------------------------------------------


def test_models_show_and_list_json_carry_the_described_fields(
    seeded: ProviderStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    info = full_info()
    expected = {f.name: f.to_plain(f.value_of(info)) for f in METADATA_FIELDS}

    code, out, err = run(capsys, "--db", db_url, "models", "show", f"p/{info.id}", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert {k: shown[k] for k in NAMES} == expected
    assert set(shown) - set(NAMES) == {
        "provider", "model", "alias", "status", "verdict", "verdict_reason", "raw",
        "hand_mark", "usable", "why_not_usable", "sources", "registry_matches", "deprecation",
        "last_latency_ms", "availability_7d", "candidates", "disagreements", "alias_of",
        "moving_alias",
    }  # fmt: skip
    assert {shown["sources"][name]["source"] for name in NAMES} == {"listed"}

    code, out, err = run(capsys, "--db", db_url, "models", "list", "--json")
    assert code == 0, err
    (row,) = json.loads(out)
    listed = [f.name for f in METADATA_FIELDS if f.in_list]
    assert {k: row[k] for k in listed} == {k: expected[k] for k in listed}
    assert set(row) - set(listed) == {"provider", "model", "alias", "status"}

    code, out, err = run(capsys, "--db", db_url, "models", "show", f"p/{info.id}")
    assert code == 0, err
    lines = out.splitlines()[-len(METADATA_FIELDS) :]
    for line, field in zip(lines, METADATA_FIELDS, strict=True):
        name, text = line.split(None, 1)
        assert (name, text) == (field.name, f"{field.shown(field.value_of(info))}  (listed)")
    assert "131,072" in out and "$2.5 / 1M tokens" in out and "2025-06-15" in out


# -- comparing values (what a change history records) ---------------------------------------------


@pytest.mark.parametrize("field", METADATA_FIELDS, ids=NAMES)
def test_changed_fields_names_each_field_that_differs(field: Any) -> None:
    empty = ModelInfo(id="m")
    one = dataclasses.replace(empty, **{field.name: SAMPLES[field.kind.name]})
    (change,) = changed_fields(empty, one)
    assert (change.field, change.before, change.after) == (
        field, field.kind.empty, SAMPLES[field.kind.name]
    )  # fmt: skip
    assert changed_fields(one, dataclasses.replace(one, raw={"new": 1})) == ()


def test_changed_fields_lists_every_field_in_order_and_treats_nan_as_equal() -> None:
    assert [c.field.name for c in changed_fields(ModelInfo(id="m"), full_info("m"))] == NAMES
    nan = ModelInfo(id="m", input_price=math.nan)
    assert changed_fields(nan, ModelInfo(id="m", input_price=math.nan)) == ()
