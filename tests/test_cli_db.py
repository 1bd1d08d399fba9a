"""``provider-store db …`` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from provider_store.catalog.migrate import head_revision


def test_upgrade_current_downgrade_history(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, err = run_cli(capsys, "--db", db_url, "db", "current", "--json")
    if db_url.startswith("sqlite"):  # a file that does not exist is no catalog, and stays absent
        assert code == 2 and "db upgrade" in err
    else:
        assert code == 0 and json.loads(out)["current"] is None

    code, out, _ = run_cli(capsys, "--db", db_url, "db", "upgrade")
    assert code == 0 and f"is at revision {head_revision()}" in out

    code, out, _ = run_cli(capsys, "--db", db_url, "db", "current", "--json")
    assert json.loads(out)["at_head"] is True

    code, out, _ = run_cli(capsys, "--db", db_url, "db", "downgrade", "0001")
    assert code == 0 and "is at revision 0001" in out

    code, out, _ = run_cli(capsys, "--db", db_url, "db", "history", "--json")
    revisions = [row["revision"] for row in json.loads(out)]
    assert revisions[-1] == "0001" and revisions[0] == head_revision()


def test_bad_database_url_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--db", "nosuchdb://x", "db", "current")
    assert code == 2
    assert err.strip().count("\n") == 0 and "Unsupported database URL" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_console_script_upgrades_from_any_directory(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = subprocess.run(
        [sys.executable, "-m", "provider_store", "--db", f"sqlite:///{db}", "db", "upgrade"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert db.is_file()


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from provider_store.cli.app import cli

    cli.load_all()  # command modules are imported on first use

    def walk(group: object, path: list[str]) -> list[list[str]]:
        commands = getattr(group, "commands", {})
        found = [path]
        for name, command in commands.items():
            found += walk(command, [*path, name])
        return found

    for path in walk(cli, []):
        code, out, _ = run_cli(capsys, *path, "--help")
        assert code == 0 and "Usage:" in out, path
        if path:
            command = cli
            for name in path:
                command = command.commands[name]  # type: ignore[attr-defined]
            assert command.help, f"{' '.join(path)} has no help text"


@pytest.mark.slow
def test_alembic_command_line_from_the_repo_root_uses_provider_store_url(
    tmp_path: Path,
) -> None:
    root = Path(__file__).resolve().parent.parent
    alembic = Path(sys.executable).with_name("alembic")
    env = {**os.environ, "PROVIDER_STORE_URL": f"sqlite:///{tmp_path / 'env.db'}"}

    upgrade = subprocess.run([str(alembic), "upgrade", "head"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    check = subprocess.run([str(alembic), "check"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip

    assert upgrade.returncode == 0, upgrade.stderr
    assert f"-> {head_revision()}" in upgrade.stderr
    assert check.returncode == 0 and "No new upgrade operations detected" in check.stdout
    assert (tmp_path / "env.db").is_file()
