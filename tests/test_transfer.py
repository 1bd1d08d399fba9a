"""Import and export of legacy YAML through a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from legacy_strategies import documents
from sqlalchemy import text, update

from provider_store import InvalidDocumentError, ProviderStore, StoreError
from provider_store.catalog.tables import CatalogMeta, Model, Provider
from provider_store.legacy.document import LegacyDocument, dump_data, parse_bytes

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "openaicompat-providers.yaml"

BASE = """\
version: 3
providers:
  openai:
    api_key: sk-not-configured
    base_api_url: https://api.openai.com/v1
    name: OpenAI
    valid_models:
      gpt-4o: 4o
      gpt-4o-mini: mini
    invalid_models: [dall-e-3]
    owner: team-a
  local:
    api_key: ''
    base_api_url: http://127.0.0.1:8000/v1
    name: Local
    valid_models: {}
"""


def write(tmp_path: Path, body: str, name: str = "catalog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def snapshot(store: ProviderStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every catalog table, in a stable order."""
    tables = {"provider": Provider, "model": Model, "catalog_meta": CatalogMeta}
    result: dict[str, list[tuple[Any, ...]]] = {}
    with store.read() as session:
        for name, table in tables.items():
            columns = [c.name for c in table.__table__.columns]  # type: ignore[attr-defined]
            rows = session.execute(text(f"SELECT {', '.join(columns)} FROM {name}")).all()
            result[name] = sorted(
                (tuple(repr(v) if isinstance(v, (dict, list)) else v for v in row) for row in rows),
                key=repr,
            )
    return result


def test_import_then_export_the_shipped_file(store: ProviderStore, tmp_path: Path) -> None:
    report = store.import_yaml(DATA_FILE)
    assert report.providers_added == ["deepseek", "openai", "together"]
    assert report.counts()["models_added"] == 6

    configs = store.load_configs()
    assert configs["together"].valid_models == {
        "Qwen/QwQ-32B": "qwq",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo": "llama3.3",
    }
    out = tmp_path / "out.yaml"
    store.export_yaml(out)
    assert yaml.safe_load(out.read_text()) == yaml.safe_load(DATA_FILE.read_text())
    first = out.read_bytes()
    store.export_yaml(out)
    assert out.read_bytes() == first == store.export_yaml_bytes()
    assert not store.import_yaml(out).changed


def test_merge_updates_field_by_field_and_leaves_other_providers(
    store: ProviderStore, tmp_path: Path
) -> None:
    store.import_yaml(write(tmp_path, BASE))
    update_file = write(
        tmp_path,
        """\
extra_top: yes
providers:
  openai:
    api_key: sk-real
    base_api_url: https://api.openai.com/v1
    name: OpenAI
    valid_models:
      gpt-4o: four-o
      o3: o3
    region: eu
  new:
    api_key: ''
    base_api_url: https://new.example/v1
    name: New
    valid_models: {m: m}
""",
        "update.yaml",
    )
    report = store.import_yaml(update_file)

    assert report.providers_added == ["new"]
    (change,) = [c for c in report.providers if c.key == "openai"]
    assert change.fields[0] == "api_key"
    assert change.models_added == ["o3"]
    assert change.models_removed == ["gpt-4o-mini"]
    assert change.models_changed == ["gpt-4o"]
    assert report.top_level_keys_changed == ["extra_top"]
    assert "sk-real" not in str(report.to_dict())

    document = parse_bytes(store.export_yaml_bytes())
    assert list(document.providers) == ["openai", "local", "new"]
    openai = document.providers["openai"]
    assert openai.valid_models == {"gpt-4o": "four-o", "o3": "o3"}
    assert openai.invalid_models == ["dall-e-3"]  # not in the file: the stored list stays
    assert openai.extra == {"owner": "team-a", "region": "eu"}
    assert document.extra == {"version": 3, "extra_top": True}


def test_replace_makes_the_store_equal_to_the_file(store: ProviderStore, tmp_path: Path) -> None:
    store.import_yaml(write(tmp_path, BASE))
    other = write(
        tmp_path,
        """\
providers:
  local:
    api_key: ''
    base_api_url: http://127.0.0.1:8000/v1
    name: Local
    valid_models: {a: a}
  openai:
    api_key: sk-not-configured
    base_api_url: https://api.openai.com/v1
    name: OpenAI
    valid_models: {gpt-4o: 4o}
""",
        "other.yaml",
    )
    report = store.import_yaml(other, replace=True)
    assert report.top_level_keys_changed == ["version"]
    assert store.export_yaml_bytes() == dump_data(parse_bytes(other.read_bytes()).to_data())
    assert "order" in [c for c in report.providers if c.key == "openai"][0].fields

    report = store.import_yaml(write(tmp_path, "providers: {}\n", "empty.yaml"), replace=True)
    assert sorted(report.providers_removed) == ["local", "openai"]
    assert store.provider_keys() == []


def test_dry_run_reports_and_writes_nothing(store: ProviderStore, tmp_path: Path) -> None:
    store.import_yaml(write(tmp_path, BASE))
    before = snapshot(store)
    report = store.import_yaml(
        write(tmp_path, "providers: {}\n", "empty.yaml"), replace=True, dry_run=True
    )
    assert report.dry_run
    assert sorted(report.providers_removed) == ["local", "openai"]
    assert report.providers[0].models_removed or report.providers[1].models_removed
    assert snapshot(store) == before


def test_an_error_mid_import_leaves_the_store_exactly_as_it_was(
    store: ProviderStore, tmp_path: Path
) -> None:
    store.import_yaml(write(tmp_path, BASE))
    before = snapshot(store)
    with store.transaction() as session:  # a database-side failure on one specific insert
        if store.engine.dialect.name == "sqlite":
            session.execute(text(
                "CREATE TRIGGER boom BEFORE INSERT ON model WHEN NEW.model_id = 'boom' "
                "BEGIN SELECT RAISE(ABORT, 'boom'); END"
            ))  # fmt: skip
        else:
            session.execute(text(
                "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.model_id = 'boom' "
                "THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ))  # fmt: skip
            session.execute(text(
                "CREATE TRIGGER boom BEFORE INSERT ON model FOR EACH ROW EXECUTE FUNCTION boom()"
            ))  # fmt: skip
    before = snapshot(store)
    failing = BASE.replace("version: 3", "version: 4").replace("name: OpenAI", "name: Changed")
    failing = failing.replace("gpt-4o-mini: mini", "boom: boom") + (
        "  third:\n    api_key: k\n    base_api_url: https://t.example\n    name: T\n"
        "    valid_models: {x: x}\n"
    )
    with pytest.raises(StoreError):
        store.import_yaml(write(tmp_path, failing, "failing.yaml"), replace=True)
    assert snapshot(store) == before


def test_bad_input_leaves_the_store_untouched(store: ProviderStore, tmp_path: Path) -> None:
    store.import_yaml(write(tmp_path, BASE))
    before = snapshot(store)
    bad = (
        BASE
        + "  broken:\n    api_key: ''\n    base_api_url: ''\n    name: B\n    valid_models: {}\n"
    )
    with pytest.raises(InvalidDocumentError) as info:
        store.import_yaml(write(tmp_path, bad, "bad.yaml"), replace=True)
    assert info.value.field == "providers.broken.base_api_url"
    assert info.value.line == 19
    assert snapshot(store) == before


def test_values_longer_than_their_column_are_refused(store: ProviderStore, tmp_path: Path) -> None:
    body = BASE.replace("gpt-4o: 4o", f"{'m' * 501}: x")
    with pytest.raises(InvalidDocumentError, match="longer than 500"):
        store.import_yaml(write(tmp_path, body))
    assert store.provider_keys() == []


def test_discovery_cache_and_verdicts_survive_a_reimport(
    store: ProviderStore, tmp_path: Path
) -> None:
    path = write(tmp_path, BASE)
    store.import_yaml(path)
    with store.transaction() as session:
        session.execute(
            update(Provider)
            .where(Provider.key == "openai")  # type: ignore[arg-type]
            .values(models_cache=[{"id": "gpt-4o"}], models_fetched_at=1000.0,
                    cache_ttl_seconds=60)
        )  # fmt: skip
        session.execute(
            update(Model)
            .where(Model.model_id == "gpt-4o")  # type: ignore[arg-type]
            .values(verdict="valid", verdict_at=2000.0, first_seen_at=900.0, last_seen_at=1000.0)
        )
    before = snapshot(store)

    assert not store.import_yaml(path).changed
    assert not store.import_yaml(path, replace=True).changed
    assert snapshot(store) == before

    store.import_yaml(write(tmp_path, BASE.replace("gpt-4o: 4o", "gpt-4o: four"), "v2.yaml"))
    config = store.get_config("openai")
    assert config._cached_models == [{"id": "gpt-4o"}]
    assert (config._cache_timestamp, config._cache_duration) == (1000.0, 60)
    with store.read() as session:
        row = session.execute(
            text("SELECT alias, verdict, verdict_at, first_seen_at FROM model "
                 "WHERE model_id = 'gpt-4o'")
        ).one()  # fmt: skip
    assert tuple(row) == ("four", "valid", 2000.0, 900.0)

    # A seen model that leaves the curated lists stays as unverified, with its verdict.
    store.import_yaml(write(tmp_path, BASE.replace("      gpt-4o: 4o\n", ""), "v3.yaml"))
    with store.read() as session:
        status = session.execute(
            text("SELECT status, verdict FROM model WHERE model_id = 'gpt-4o'")
        ).one()
    assert tuple(status) == ("unverified", "valid")
    assert "gpt-4o" not in store.get_config("openai").valid_models


def test_environment_keys_never_reach_the_database_or_an_export(
    store: ProviderStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-secret")
    monkeypatch.setenv("LOCAL_API_KEY", "sk-local-env-secret")
    store.import_yaml(write(tmp_path, BASE))
    assert "secret" not in str(snapshot(store))
    out = tmp_path / "out.yaml"
    store.export_yaml(out)
    assert b"secret" not in out.read_bytes()
    assert b"api_key: sk-not-configured" in out.read_bytes()


def test_export_modes_redaction_and_atomic_replacement(
    store: ProviderStore, tmp_path: Path
) -> None:
    store.import_yaml(write(tmp_path, BASE))
    out = tmp_path / "out.yaml"
    store.export_yaml(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    redacted = tmp_path / "redacted.yaml"
    store.export_yaml(redacted, redact_keys=True)
    data = yaml.safe_load(redacted.read_text())
    assert {p["api_key"] for p in data["providers"].values()} == {""}
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(redacted.stat().st_mode) == 0o666 & ~umask

    inode = out.stat().st_ino
    out.write_bytes(b"old content")
    store.export_yaml(out)
    assert out.stat().st_ino != inode or out.read_bytes() != b"old content"
    assert out.read_bytes() == store.export_yaml_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "catalog.yaml", "out.yaml", "redacted.yaml"
    ]  # fmt: skip

    with pytest.raises(InvalidDocumentError, match="cannot write"):
        store.export_yaml(tmp_path / "missing-dir" / "x.yaml")


def test_export_of_an_empty_store(store: ProviderStore) -> None:
    assert store.export_yaml_bytes() == b"providers: {}\n"


# -- round trips over generated documents --------------------------------------------------------


def file_bytes(document: LegacyDocument, drop_empty_invalid: list[bool]) -> bytes:
    """``document`` as a file, leaving out some empty ``invalid_models`` lists."""
    data = document.to_data()
    for drop, provider in zip(drop_empty_invalid, data["providers"].values(), strict=False):
        if drop and not provider["invalid_models"]:
            del provider["invalid_models"]
    return dump_data(data)


@pytest.mark.slow
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(documents(), st.lists(st.booleans(), max_size=5), documents())
def test_round_trips_through_the_store(
    store: ProviderStore,
    tmp_path: Path,
    document: LegacyDocument,
    drops: list[bool],
    second: LegacyDocument,
) -> None:
    source = tmp_path / "f.yaml"
    source.write_bytes(file_bytes(document, drops))
    expected = parse_bytes(source.read_bytes()).to_data()  # invalid_models: [] added

    # parse(export(import(F))) == F with invalid_models added
    store.import_yaml(source, replace=True)
    exported = store.export_yaml_bytes()
    assert parse_bytes(exported).to_data() == expected
    assert list(parse_bytes(exported).providers) == list(document.providers)

    # import(export(S)) leaves S unchanged, after a merge of a second document too
    second_file = tmp_path / "s.yaml"
    second_file.write_bytes(file_bytes(second, drops))
    store.import_yaml(second_file)
    before = snapshot(store)
    (tmp_path / "e.yaml").write_bytes(store.export_yaml_bytes())
    assert not store.import_yaml(tmp_path / "e.yaml").changed
    assert not store.import_yaml(tmp_path / "e.yaml", replace=True).changed
    assert snapshot(store) == before
