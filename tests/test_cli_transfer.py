"""``provider-store import`` / ``export`` through the real entry point."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
import zygote

from provider_store import ProviderStore
from provider_store.cli import main

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "openaicompat-providers.yaml"
GOOD = """\
providers:
  p:
    api_key: sk-secret-value
    base_api_url: https://p.example/v1
    name: P
    valid_models: {m1: one}
"""


def run(catalog_url: str, *args: str) -> int:
    try:
        main(["--db", catalog_url, *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def catalog_state(catalog_url: str) -> bytes:
    store = ProviderStore(catalog_url)
    try:
        return store.export_yaml_bytes()
    finally:
        store.close()


BAD_INPUTS = {
    "not-yaml": ("providers:\n  a: b: c\n", "2:7", "not valid YAML"),
    "not-a-mapping": ("- a\n", "1:1", None),
    "no-providers": ("version: 1\n", "1:1", "[providers]"),
    "provider-not-mapping": ("providers:\n  p: 3\n", "2:6", "[providers.p]"),
    "valid-models-list": (GOOD.replace("{m1: one}", "[m1]"), "6:19", "valid_models]"),
    "valid-models-non-string": (GOOD.replace("{m1: one}", "{m1: 2}"), "6:24", "valid_models.m1]"),
    "invalid-models-not-list": (GOOD + "    invalid_models: {a: b}\n", "7:21", "invalid_models]"),
    "invalid-models-non-string": (GOOD + "    invalid_models: [1]\n", "7:22", "invalid_models[0]]"),
    "valid-and-invalid": (GOOD + "    invalid_models: [m1]\n", "7:22", "invalid_models[0]]"),
    "duplicate-key": (GOOD + "    name: Q\n", "7:5", "[providers.p.name]"),
    "empty-url": (GOOD.replace("https://p.example/v1", '""'), "4:19", "base_api_url]"),
    "non-http-url": (GOOD.replace("https://p.example/v1", "file:///x"), "4:19", "base_api_url]"),
    "alias-bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "providers: {}\n",
        "1:1",
        "alias bomb",
    ),
}


@pytest.mark.above_the_store
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_leaves_the_store_untouched(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    assert run(catalog_url, "import", str(DATA_FILE)) == 0
    before = catalog_state(catalog_url)
    capsys.readouterr()
    body, where, detail = BAD_INPUTS[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(body, encoding="utf-8")

    assert run(catalog_url, "import", "--replace", str(path)) == 2

    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"Error: {path}:{where}")
    if detail:
        assert detail in err
    assert "Traceback" not in err
    assert catalog_state(catalog_url) == before


@pytest.mark.above_the_store
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\xffbinary\x01garbage" * 100, "binary data"),
        ("providers: {}\nname: Espa\xf1a\n".encode("latin-1"), "not UTF-8"),
        ("providers: {}\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_and_wrong_encoding_exit_2(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, reason: str
) -> None:
    path = tmp_path / "weird.yaml"
    path.write_bytes(data)
    assert run(catalog_url, "import", str(path)) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


@pytest.mark.above_the_store
def test_oversized_file_exits_2(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)  # sparse: no need to write 50 MiB
    assert run(catalog_url, "import", str(path)) == 2
    assert "larger than the 50 MiB limit" in capsys.readouterr().err


def test_dry_run_prints_changes_and_writes_nothing(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(catalog_url, "import", str(DATA_FILE)) == 0
    before = catalog_state(catalog_url)
    capsys.readouterr()
    path = tmp_path / "g.yaml"
    path.write_text(GOOD, encoding="utf-8")

    assert run(catalog_url, "import", "--replace", "--dry-run", str(path)) == 0

    out = capsys.readouterr().out
    assert "nothing was written" in out
    assert "+ provider p" in out and "    + m1" in out
    assert "- provider openai" in out and "    - gpt-4o-2024-08-06" in out
    assert "Would change: providers +1 -3 ~0; models +1 -6 ~0" in out
    assert "sk-secret-value" not in out
    assert catalog_state(catalog_url) == before

    assert run(catalog_url, "import", "--dry-run", "--json", str(path)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and report["counts"]["providers_added"] == 1
    assert catalog_state(catalog_url) == before


def test_import_export_round_trip_and_stdout(
    catalog_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert run(catalog_url, "import", str(path)) == 0
    assert "Changed: providers +1" in capsys.readouterr().out

    out = tmp_path / "out.yaml"
    assert run(catalog_url, "export", str(out)) == 0
    assert "Exported 1 providers" in capsys.readouterr().out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert yaml.safe_load(out.read_text()) == {
        "providers": {
            "p": {
                "api_key": "sk-secret-value",
                "base_api_url": "https://p.example/v1",
                "name": "P",
                "valid_models": {"m1": "one"},
                "invalid_models": [],
            }
        }
    }
    assert run(catalog_url, "export", "-") == 0
    assert capsys.readouterr().out.encode() == out.read_bytes()

    assert run(catalog_url, "export", "-", "--redact-keys") == 0
    assert "sk-secret-value" not in capsys.readouterr().out


@pytest.mark.slow
def test_console_script_in_a_subprocess(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("provider-store")
    env = {**os.environ, "PROVIDER_STORE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers:\n  p: [1]\n", encoding="utf-8")

    done = subprocess.run(
        [str(script), "import", str(bad)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"Error: {bad}:2:6: [providers.p] a provider must be a mapping, not a list"
    )

    # The console script started above; the import and export that follow fork from the test
    # zygote (the same command, without a cold interpreter's start).
    ok = zygote.run(
        [str(script), "import", str(DATA_FILE)], env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    exported = zygote.run(
        [str(script), "export", "-"], env=env, capture_output=True, check=True
    ).stdout
    assert yaml.safe_load(exported) == yaml.safe_load(DATA_FILE.read_text())
