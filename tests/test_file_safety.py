"""Files that hold keys stay private, and import/export never hang or leave keys behind."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import zygote
from helpers import run_cli

from provider_store import ProviderConfig, ProviderStore

SECRET = "sk-private-file-secret"
GOOD = """\
providers:
  p:
    api_key: sk-private-file-secret
    base_api_url: https://p.example/v1
    name: P
    valid_models: {m1: one}
"""


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def umask_022() -> None:
    os.umask(0o022)


@pytest.mark.slow
def test_default_catalog_is_private_whatever_the_umask(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    source = tmp_path / "p.yaml"
    source.write_text(GOOD)
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "PROVIDER_STORE_URL")}
    env["HOME"] = str(home)
    result = zygote.run(
        [sys.executable, "-m", "provider_store", "import", str(source)],
        env=env,
        preexec_fn=umask_022,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    directory = home / ".local" / "share" / "provider-store"
    assert mode(directory) == 0o700
    assert mode(directory / "catalog.db") == 0o600
    assert mode(directory / ".catalog.db.migrate.lock") == 0o600


def test_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = ProviderStore(str(tmp_path / "cat.db"))
        store.save_config("p", ProviderConfig(api_key=SECRET))
        store.provider_keys()  # the connection stays open: -wal and -shm exist
        for name in ("cat.db", "cat.db-wal", "cat.db-shm", ".cat.db.migrate.lock"):
            path = tmp_path / name
            assert path.exists(), name
            assert mode(path) == 0o600, name
        store.close()
    finally:
        os.umask(old)


@pytest.mark.slow
def test_existing_default_catalog_is_made_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    directory = home / ".local" / "share" / "provider-store"
    directory.mkdir(parents=True, mode=0o755)
    (directory / "catalog.db").touch(mode=0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "PROVIDER_STORE_URL")}
    result = zygote.run(
        [sys.executable, "-m", "provider_store", "providers", "list"],
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert mode(directory) == 0o700 and mode(directory / "catalog.db") == 0o600


@pytest.mark.slow
def test_exported_yaml_is_private_whatever_the_umask(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cat.db'}"
    source = tmp_path / "p.yaml"
    source.write_text(GOOD)
    for args in (["import", str(source)], ["export", str(tmp_path / "out.yaml")]):
        result = zygote.run(
            [sys.executable, "-m", "provider_store", "--db", db, *args],
            preexec_fn=umask_022,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "out.yaml") == 0o600
    assert SECRET in (tmp_path / "out.yaml").read_text()


@pytest.mark.slow
def test_import_of_a_fifo_without_a_writer_returns_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    db = f"sqlite:///{tmp_path / 'cat.db'}"
    result = zygote.run(
        [sys.executable, "-m", "provider_store", "--db", db, "import", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert f"{fifo}: not a regular file (a FIFO)" in result.stderr
    code, _, err = run_cli(capsys, "--db", db, "import", "/dev/null")
    assert code == 2 and "not a regular file (a device)" in err


@pytest.mark.slow
def test_export_removes_temp_files_left_by_a_killed_export(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cat.db'}"
    store = ProviderStore(db)
    store.save_config("p", ProviderConfig(api_key=SECRET))
    target = tmp_path / "out.yaml"

    # A process that wrote a temp file holding keys and died before renaming it.
    killed = zygote.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    dead_pid = int(killed.stdout)
    stale = tmp_path / f".out.yaml.{dead_pid}.abc123.tmp"
    stale.write_text(f"api_key: {SECRET}\n")
    # A temp file of a process that is still running is left alone.
    running = tmp_path / f".out.yaml.{os.getppid()}.def456.tmp"
    running.write_text("in progress\n")

    result = zygote.run(
        [sys.executable, "-m", "provider_store", "--db", db, "export", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert running.exists()
    leftovers = sorted(p.name for p in tmp_path.glob(".out.yaml.*.tmp"))
    assert leftovers == [running.name]
    store.close()
