"""Provider keys are unique regardless of case: ``groq``, ``Groq`` and ``GROQ`` cannot coexist.

They would share ``$GROQ_API_KEY``. Every door refuses the second one (the CLI, the library,
a YAML import), the database's own unique index on lower(key) backs them up, and a catalog
that already holds such keys still migrates: each twin after the first is renamed with its
history, and a warning names it.
"""

from __future__ import annotations

import logging

import pytest
from helpers import run_cli
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from provider_store import ProviderConfig, ProviderStore
from provider_store.catalog.db import build_engine
from provider_store.catalog.light_tables import PROVIDER
from provider_store.catalog.migrate import SCHEMA_HEAD, current_revision, upgrade
from provider_store.errors import ConfigurationError, InvalidDocumentError

URL = "http://127.0.0.1:1/v1"


def test_every_door_refuses_a_key_that_differs_only_in_case(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_provider("groq", URL)
    store.add_provider("other", URL)
    before = store.export_yaml_bytes()
    for args in (
        ["providers", "add", "Groq", URL],
        ["providers", "add", "GROQ", URL, "--no-key"],
        ["providers", "rename", "other", "gRoQ"],
    ):
        code, _, err = run_cli(capsys, "--db", store.url, *args)
        assert code == 2, err
        assert "groq already exists" in err and "regardless of case" in err
        assert len(err.strip().splitlines()) == 1
    with pytest.raises(ConfigurationError):
        store.save_config("GROQ", ProviderConfig(base_api_url=URL))
    with pytest.raises(InvalidDocumentError) as caught:  # merge: the stored groq stays
        store.import_yaml("f.yaml", data=f"providers:\n  Groq:\n    base_api_url: {URL}\n".encode())
    assert caught.value.line is not None and "only in case" in str(caught.value)
    assert store.export_yaml_bytes() == before
    # A key may change its own case.
    assert run_cli(capsys, "--db", store.url, "providers", "rename", "groq", "Groq")[0] == 0
    assert store.provider_keys() == ["Groq", "other"]


def test_a_document_may_not_hold_two_keys_differing_only_in_case(
    store: ProviderStore,
) -> None:
    data = f"providers:\n  groq:\n    base_api_url: {URL}\n  GROQ:\n    base_api_url: {URL}\n"
    with pytest.raises(InvalidDocumentError) as caught:
        store.import_yaml("twins.yaml", data=data.encode())
    assert caught.value.line == 4 and "groq and GROQ differ only in case" in str(caught.value)
    assert store.provider_keys() == []
    # Replacing the catalog may swap one spelling for the other.
    store.add_provider("groq", URL)
    store.import_yaml("f.yaml", data=f"providers:\n  GROQ:\n    base_api_url: {URL}\n".encode(),
                      replace=True)  # fmt: skip
    assert store.provider_keys() == ["GROQ"]


def test_the_database_refuses_twins_written_past_the_library(store: ProviderStore) -> None:
    store.add_provider("groq", URL)
    row = {"key": "GROQ", "base_api_url": URL, "api_key": "", "name": "", "position": 1,
           "cache_ttl_seconds": 300, "extra": {}, "created_at": 0.0, "updated_at": 0.0}  # fmt: skip
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(PROVIDER), [row])
    assert store.provider_keys() == ["groq"]


def _provider_row(id_: int, key: str, position: int) -> str:
    return (
        "INSERT INTO provider (id, key, name, base_api_url, api_key, position, cache_ttl_seconds,"
        " extra, created_at, updated_at) VALUES"
        f" ({id_}, '{key}', '{key}', '{URL}', 'sk-{key}-0123456789', {position}, 300, '{{}}', 0, 0)"
    )


def test_a_catalog_holding_twins_migrates_and_says_what_it_renamed(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = build_engine(db_url)
    try:
        upgrade(engine, "0008")
        with engine.begin() as conn:
            for id_, key, position in ((1, "groq", 0), (2, "Groq", 1), (3, "GROQ", 2),
                                       (4, "Groq-2", 3)):  # fmt: skip
                conn.execute(text(_provider_row(id_, key, position)))
            for key in ("groq", "Groq", "GROQ"):
                conn.execute(
                    text(
                        "INSERT INTO event (provider_key, model_id, type, observed_at)"
                        f" VALUES ('{key}', 'm-{key}', 'added', 1)"
                    )
                )
        with caplog.at_level(logging.WARNING, logger="provider_store"):
            upgrade(engine, "head")
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("groq and Groq differed only in case" in w and "Groq is now Groq-3" in w
               for w in warnings), warnings  # fmt: skip
    assert any("GROQ is now GROQ-4" in w for w in warnings), warnings
    with ProviderStore(db_url) as store:
        assert store.provider_keys() == ["groq", "Groq-3", "GROQ-4", "Groq-2"]
        for key, model in (("groq", "m-groq"), ("Groq-3", "m-Groq"), ("GROQ-4", "m-GROQ")):
            assert [e.model for e in store.changes(provider=key)] == [model]
            assert store.get_config(key).api_key == f"sk-{model[2:]}-0123456789"
