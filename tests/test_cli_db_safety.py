"""``provider-store db …`` and opening a catalog: nothing destroyed or created by mistake, and
every failure is one line naming its cause."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zygote
from helpers import run_cli
from sqlalchemy import create_engine, text

from provider_store import ProviderConfig, ProviderStore, ProviderStoreError
from provider_store.catalog.migrate import current_revision, head_revision, known_revisions
from provider_store.errors import StoreError

NEWER = "zz99_from_the_future"


def one_line(err: str) -> bool:
    return err.strip().count("\n") == 0 and "Traceback" not in err


def seed(db_url: str) -> None:
    store = ProviderStore(db_url)
    try:
        store.save_config("openai", ProviderConfig(valid_models={"a": "a", "b": "b"}))
        store.save_config("other", ProviderConfig(valid_models={"c": "c"}))
    finally:
        store.close()


def revision_of(db_url: str) -> str | None:
    engine = create_engine(db_url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def provider_count(db_url: str) -> int:
    store = ProviderStore(db_url, auto_migrate=False)
    try:
        return len(store.provider_keys())
    finally:
        store.close()


def cli_process(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return zygote.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "provider_store", *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


# -- downgrade: confirmation, what is lost, relative revisions ------------------------------------


@pytest.mark.slow
def test_downgrade_that_drops_data_refuses_without_a_terminal(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    seed(db_url)
    result = cli_process("--db", db_url, "db", "downgrade", "base", stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert one_line(result.stderr)
    assert "2 providers and 3 models" in result.stderr and "--yes" in result.stderr
    assert revision_of(db_url) == head_revision()
    assert provider_count(db_url) == 2


def test_downgrade_with_yes_says_what_is_lost_and_proceeds(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    seed(db_url)
    code, out, err = run_cli(capsys, "--db", db_url, "db", "downgrade", "base", "--yes")
    assert code == 0 and "2 providers and 3 models" in err and "base (empty)" in out
    assert revision_of(db_url) is None


def test_downgrade_minus_one_steps_back_one_revision(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, _, _ = run_cli(capsys, "--db", db_url, "db", "upgrade")
    assert code == 0
    code, out, err = run_cli(capsys, "--db", db_url, "db", "downgrade", "-1")
    assert code == 0, err
    previous = known_revisions()[-2]  # revisions need not be numbered without gaps
    assert revision_of(db_url) == previous and f"is at revision {previous}" in out
    code, _, _ = run_cli(capsys, "--db", db_url, "db", "upgrade", "+1")
    assert code == 0 and revision_of(db_url) == head_revision()


@pytest.mark.slow
def test_downgrade_asks_on_a_terminal(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cat.db'}"
    seed(db_url)

    answer_no = _run_on_terminal(["--db", db_url, "db", "downgrade", "base"], b"n\n")
    assert answer_no[0] != 0 and "2 providers and 3 models" in answer_no[1]
    assert "Downgrade anyway?" in answer_no[1] and "Traceback" not in answer_no[1]
    assert provider_count(db_url) == 2

    answer_yes = _run_on_terminal(["--db", db_url, "db", "downgrade", "base"], b"y\n")
    assert answer_yes[0] == 0, answer_yes[1]
    assert revision_of(db_url) is None


def _run_on_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal on stdin/stdout/stderr; answer its question."""
    master, slave = pty.openpty()
    process = zygote.Popen(
        [sys.executable, "-m", "provider_store", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    output = b""
    answered = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if not answered and b"[y/N]" in output:
                os.write(master, answer)
                answered = True
            if process.poll() is not None and not ready:
                break
        code = process.wait(timeout=60)
    finally:
        os.close(master)
    return code, output.decode(errors="replace")


def test_bad_revisions_are_one_line(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    for command in ("upgrade", "downgrade"):
        code, _, err = run_cli(capsys, "--db", db_url, "db", command, "zzz")
        assert code == 2 and one_line(err) and "unknown revision 'zzz'" in err, err
    code, _, err = run_cli(capsys, "--db", db_url, "db", "downgrade", "-9", "--yes")
    assert code == 2 and one_line(err)


# -- a catalog written by a newer release ---------------------------------------------------------


def _mark_newer(db_url: str) -> None:
    seed(db_url)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "command",
    [
        ["providers", "list"],
        ["models", "list"],
        ["resolve", "openai/a"],
        ["export", "-"],
        ["db", "current"],
        ["db", "upgrade"],
        ["db", "downgrade", "-1", "--yes"],
    ],
)
def test_newer_catalog_is_one_line_for_every_command(
    capsys: pytest.CaptureFixture[str], catalog_url: str, command: list[str]
) -> None:
    _mark_newer(catalog_url)
    code, _, err = run_cli(capsys, "--db", catalog_url, *command)
    assert code == 1 and one_line(err), err
    assert (
        f"this catalog was written by a newer provider-store (revision {NEWER});"
        " upgrade provider-store" in err
    )
    assert revision_of(catalog_url) == NEWER


def test_newer_catalog_raises_a_provider_store_error(catalog_url: str) -> None:
    _mark_newer(catalog_url)
    with pytest.raises(ProviderStoreError, match="written by a newer provider-store"):
        ProviderStore(catalog_url)


# -- paths and URLs -------------------------------------------------------------------------------


@pytest.mark.slow
def test_explicit_path_never_creates_its_directory(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "dir"
    result = cli_process("--db", f"sqlite:///{missing / 'x.db'}", "providers", "list")
    assert result.returncode == 2 and one_line(result.stderr)
    assert f"directory {missing} does not exist" in result.stderr
    assert not (tmp_path / "typo").exists()
    with pytest.raises(ProviderStoreError, match="does not exist"):
        ProviderStore(str(missing / "x.db"))


@pytest.mark.slow
def test_default_location_is_created_on_demand(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "PROVIDER_STORE_URL")}
    result = cli_process("providers", "list", env={**env, "HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert (home / ".local" / "share" / "provider-store" / "catalog.db").is_file()


def test_plain_path_is_a_sqlite_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    code, _, err = run_cli(capsys, "--db", str(path), "db", "upgrade")
    assert code == 0, err
    assert path.is_file()
    assert ProviderStore(str(path)).url == f"sqlite:///{path}"


@pytest.mark.psycopg
def test_postgres_scheme_means_the_psycopg_driver(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--db", "postgres://u:pw-secret@127.0.0.1:1/db", "db", "current")
    assert code == 1 and one_line(err), err
    assert "postgresql+psycopg://u:***@127.0.0.1:1/db" in err
    assert "Can't load plugin" not in err and "pw-secret" not in err


@pytest.mark.slow
def test_unwritable_home_is_one_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "home-is-a-file"
    not_a_dir.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "PROVIDER_STORE_URL")}
    result = cli_process("providers", "list", env={**env, "HOME": str(not_a_dir)})
    assert result.returncode == 1 and one_line(result.stderr), result.stderr
    assert "Cannot create the catalog directory" in result.stderr
    assert "not a directory" in result.stderr


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (lambda p: p.mkdir(), "it is a directory"),
        (lambda p: p.write_bytes(b"this is not sqlite at all, just some bytes" * 10), "not a "),
        (lambda p: None, None),  # /proc: files cannot be created there
    ],
    ids=["directory", "not-a-database", "proc"],
)
def test_causes_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: object, cause: str | None
) -> None:
    path = tmp_path / "x.db" if cause is not None else Path("/proc/provider-store-x.db")
    make(path)  # type: ignore[operator]
    code, _, err = run_cli(capsys, "--db", f"sqlite:///{path}", "db", "upgrade")
    assert code in (1, 2) and one_line(err), err
    if cause is None:
        assert "files cannot be created there" in err
    else:
        assert cause in err
    if cause == "not a ":
        assert "not a SQLite database" in err


def test_read_only_database_names_the_cause(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "ro.db"
    code, _, _ = run_cli(capsys, "--db", f"sqlite:///{path}", "db", "upgrade", "0001")
    assert code == 0
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    with pytest.raises(StoreError, match="read-only"):
        ProviderStore(read_only)
    code, _, err = run_cli(capsys, "--db", read_only, "db", "upgrade")
    assert code == 1 and one_line(err) and "read-only" in err, err
    assert revision_of(f"sqlite:///{path}") == "0001"
