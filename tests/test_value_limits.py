"""Every value has one set of limits, checked at every door before either database sees it.

Each hostile value goes through a CLI verb (in-process, on a real SQLite file and the real
PostgreSQL), the library setter behind it and, where it can be written, a YAML import: each
door refuses it in one line with exit code 2 (bad input), and the catalog's export afterwards is
byte for byte what it was before.
"""

from __future__ import annotations

import io
import math
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import zygote
from helpers import run_cli

from provider_store import ProviderStore
from provider_store.discovery.keeper import Keeper
from provider_store.discovery.run_report import DiscoveryOptions
from provider_store.discovery.service import ModelDiscoveryService
from provider_store.errors import InvalidDocumentError, ProviderStoreError
from provider_store.providers.client import ProviderClient
from provider_store.testing import FakeProvider

LONG = "x" * 10_000
# A JSON value nested far deeper than any parser recursion limit.
DEEP = '{"a":' * 100_000 + "1" + "}" * 100_000


@pytest.fixture
def catalog(store: ProviderStore) -> str:
    """Provider ``p`` (keyless) with the valid models m and other, written without a network."""
    store.add_provider("p", "http://127.0.0.1:1/v1", keyless=True)
    config = store.get_config("p")
    config.valid_models = {"m": "m", "other": "other"}
    store.save_config("p", config)
    return store.url


def exported(db_url: str) -> bytes:
    with ProviderStore(db_url) as store:
        return store.export_yaml_bytes(with_metadata=True)


def refused(capsys: pytest.CaptureFixture[str], db_url: str, *args: str) -> str:
    """Run the CLI; assert exit 2, one line, no traceback and nothing changed; the line."""
    before = exported(db_url)
    code, out, err = run_cli(capsys, "--db", db_url, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert exported(db_url) == before
    return lines[0]


HOSTILE_VERBS = [
    (["providers", "set", "p", "--name", LONG], "provider p, name: longer than 500"),
    (["models", "alias", "p/m", LONG], "longer than 500"),
    (["providers", "set", "p", "--option", "auth_scheme=Bearer\n"], "single word"),
    (["providers", "set", "p", "--option", "headers=" + DEEP], "nested more than"),
    (["providers", "set", "p", "--option", "max_models=" + "9" * 20], "from 1 to"),
    (["providers", "add", "q", "http://127.0.0.1:1/v1", "--name", LONG], "longer than 500"),
    (["providers", "add", "q", "http://127.0.0.1:1/v1", "--option", "auth_scheme=a b"], "word"),
    (["models", "mark", "p/m", "invalid", "--reason", LONG], "[reason] longer than 500"),
    (["models", "set", "p/m", "--input-price", "inf"], "is not a finite number"),
    (["models", "set", "p/m", "--input-price", "1e308"], "input_price must be a number"),
    (["models", "set", "p/m", "--context", str(2**40)], "not in the range 1<=x<=2147483647"),
    (["models", "set", "p/m", "--capability", LONG], "unknown capability"),
]


def test_a_verb_refuses_a_value_past_its_limits_and_changes_nothing(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, words in HOSTILE_VERBS:
        line = refused(capsys, catalog, *args)
        assert words in line, (args[:3], line)


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))


HOSTILE_KEYS = [
    (b"sk-not-configured\n", "placeholder"),
    (b"  my-key not-configured\n", "placeholder"),
    (b"sk-\xff\xfe-invalid-utf8\n", "not UTF-8"),
    ("sk-caf\u00e9-key\n".encode(), "visible ASCII"),
    (b"sk-\x1b]0;title\x07\n", "visible ASCII"),
    (b"x" * 5000 + b"\n", "at most 4000"),
]


def test_keys_set_refuses_what_can_never_be_a_stored_key(
    catalog: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli(capsys, "--db", catalog, "providers", "set", "p", "--key-required")
    for key, words in HOSTILE_KEYS:
        feed_stdin(monkeypatch, key)
        line = refused(capsys, catalog, "keys", "set", "p")
        assert words in line, line
        assert "sk-" not in line and "title" not in line  # the key is never repeated
    with ProviderStore(catalog) as store:
        assert store.get_config("p").api_key == ""


@pytest.mark.slow
def test_a_huge_key_on_stdin_is_refused_before_it_is_read(tmp_path: Path) -> None:
    db = str(tmp_path / "catalog.db")
    with ProviderStore(db) as store:
        store.add_provider("p", "http://127.0.0.1:1/v1")
    process = zygote.Popen(
        [sys.executable, "-m", "provider_store", "--db", db, "keys", "set", "p"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    written: list[int] = []

    def feed() -> None:  # 400 MB, unless the reader stops first (then the pipe breaks)
        chunk = b"k" * (1 << 20)
        try:
            for _ in range(400):
                process.stdin.write(chunk)  # type: ignore[union-attr]
                written.append(len(chunk))
        except (BrokenPipeError, ValueError, OSError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    assert process.stderr is not None
    err = process.stderr.read()  # until the process ends
    code = process.wait(timeout=60)
    writer.join(timeout=60)
    assert code == 2, err
    assert b"longer than 4000" in err and b"Traceback" not in err
    assert sum(written) < 400 << 20  # it stopped reading long before the end
    with ProviderStore(db) as store:
        assert store.get_config("p").api_key == ""


# -- the library refuses what the CLI's parameter types may let through --------------------------


def test_the_library_refuses_numbers_out_of_range_before_the_database(
    catalog: str,
) -> None:
    before = exported(catalog)
    with ProviderStore(catalog) as store:
        hostile = [
            lambda: store.rows.set_removal_policy("p", confirmations=10**20),
            lambda: store.rows.set_removal_policy("p", confirmations=True),
            lambda: store.rows.set_removal_policy("p", min_age_seconds=math.inf),
            lambda: store.rows.set_removal_policy("p", min_age_seconds=-1),
            lambda: store.model_stats(since=-(10**29) * 604800),
            lambda: store.model_stats(since=math.nan),
            lambda: store.changes(since=-math.inf),
            lambda: store.set_retention_days(10**20),
            lambda: store.update_provider("p", removal_confirmations=2**31),
            lambda: store.set_model_metadata("p", "m", input_price=math.nan),
            lambda: store.set_model_metadata("p", "m", output_price=1e308),
            lambda: store.set_model_metadata("p", "m", context_length=2**31),
            lambda: store.set_model_metadata("p", "m", created=10**14),
            lambda: DiscoveryOptions.build(deadline=math.inf),
            lambda: DiscoveryOptions.build(deadline=math.nan),
            lambda: ProviderClient(deadline=math.nan),
            lambda: Keeper(store, ModelDiscoveryService(store), jitter=math.nan),
            lambda: Keeper(store, ModelDiscoveryService(store), jitter=1.0),
            lambda: Keeper(store, ModelDiscoveryService(store), deadline=math.inf),
            lambda: Keeper(store, ModelDiscoveryService(store), every=math.nan),
        ]
        for call in hostile:
            with pytest.raises(InvalidDocumentError) as caught:
                call()
            assert "\n" not in str(caught.value)
        assert store.rows.removal_policy("p") == (2, 3600.0)
    assert exported(catalog) == before


def test_save_config_refuses_what_the_importer_refuses(catalog: str, tmp_path: Path) -> None:
    """The library setter under every verb and the YAML importer draw the same lines."""
    with ProviderStore(catalog) as store:
        base = store.get_config("p")
        for change, field in [
            ({"name": LONG}, "providers.p.name"),
            ({"api_key": "has space"}, "providers.p.api_key"),
            ({"api_key": "k" * 4001}, "providers.p.api_key"),
            ({"valid_models": {LONG: "a"}}, "providers.p.valid_models"),
            ({"valid_models": {"m": LONG}}, "providers.p.valid_models"),
            ({"invalid_models": ["ok", "x" * 501]}, "providers.p.invalid_models[1]"),
            ({"name": "nul\x00"}, "providers.p.name"),
        ]:
            config = base.model_copy(update=change)
            with pytest.raises(InvalidDocumentError) as by_setter:
                store.save_config("p", config)
            assert (by_setter.value.field or "").startswith(field)
            document = tmp_path / "one.yaml"
            document.write_bytes(_yaml_of(store, config))
            with pytest.raises(InvalidDocumentError) as by_import:
                store.import_yaml(document)
            assert by_import.value.line is not None  # named at its line
        assert store.get_config("p") == base


def _yaml_of(store: ProviderStore, config: object) -> bytes:
    from provider_store.legacy.document import dump_data

    assert hasattr(config, "model_dump")
    data = {k: v for k, v in config.model_dump().items() if k in _LEGACY_FIELDS}
    return dump_data({"providers": {"p": data}})


_LEGACY_FIELDS = ("name", "base_api_url", "api_key", "valid_models", "invalid_models")


@pytest.mark.fake(["m", "other"])
def test_a_provider_list_never_stores_what_import_would_refuse(
    store: ProviderStore, fake: FakeProvider
) -> None:
    """Numbers past the limits in a provider's list are dropped, not stored (SQLite took them,
    PostgreSQL failed the whole listing) and the export imports back."""
    fake.set_model_metadata(
        "m",
        {
            "context_length": 2**40,
            "pricing": {"prompt": "1e308", "completion": 1e300},
            "created": 10**15 * 1000,
            "supported_parameters": [f"p{i}" for i in range(500)],
        },
    )
    store.add_provider("p", fake.base_url, keyless=True)
    with ModelDiscoveryService(store) as service:
        result = service.discover(store.get_config("p"))
    assert result.error is None and {m["id"] for m in result.models} == {"m", "other"}
    info = store.model_info("p", "m")
    assert info.context_length is None and info.input_price is None
    assert info.output_price is None and info.created is None
    store.mark_model("p", "m", "valid")  # the catalog is whole: its export imports back
    data = store.export_yaml_bytes(with_metadata=True)
    report = store.import_yaml("again.yaml", data=data)
    assert not report.changed


def test_errors_never_leak_a_raw_database_error(catalog: str) -> None:
    with ProviderStore(catalog) as store:
        for call in (
            lambda: store.set_alias("p", "m", LONG),
            lambda: store.rename_provider("p", "x" * 201),
            lambda: store.mark_model("p", "m", "valid", reason=LONG),
            lambda: store.set_api_key("p", "k" * 4001),
        ):
            with pytest.raises(ProviderStoreError) as caught:
                call()
            assert type(caught.value).__module__ == "provider_store.errors"
            assert "StringDataRightTruncation" not in str(caught.value)
